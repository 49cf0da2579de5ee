//! Just enough of a PDF reader for the report PDF's tests (R13): the
//! objects krilla writes (`N 0 obj … endobj`, streams with a direct
//! `/Length`, Flate or unfiltered), the pages, the images they draw, the
//! embedded files. Not a general parser: it reads what the server wrote, and
//! a change in how it is written fails the tests loudly rather than passing.

use std::collections::BTreeMap;
use std::io::Read;

pub struct Object {
    /// The dictionary's text (up to `stream`, or the whole object).
    pub dict: String,
    /// The same without whitespace (`/Type/Page` however it was spaced).
    pub compact: String,
    /// The stream's bytes, decoded (Flate inflated), if a stream.
    pub stream: Option<Vec<u8>>,
}

pub struct Pdf {
    pub objects: BTreeMap<u32, Object>,
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    hay.get(from..)?.windows(needle.len()).position(|w| w == needle).map(|p| p + from)
}

/// The integer after `/Key ` in a dictionary's text.
pub fn int_after(dict: &str, key: &str) -> Option<u64> {
    let rest = &dict[dict.find(&format!("{key} "))? + key.len() + 1..];
    rest.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
}

/// The object number of `/Key N 0 R`.
pub fn ref_after(dict: &str, key: &str) -> Option<u32> {
    let rest = &dict[dict.find(&format!("{key} "))? + key.len() + 1..];
    let mut it = rest.split_whitespace();
    let n = it.next()?.parse().ok()?;
    (it.next()? == "0" && it.next()?.starts_with('R')).then_some(n)
}

impl Pdf {
    pub fn parse(bytes: &[u8]) -> Pdf {
        assert!(bytes.starts_with(b"%PDF-"), "not a PDF");
        let mut objects = BTreeMap::new();
        let mut at = 0;
        while let Some(p) = find(bytes, b" 0 obj", at) {
            let start = bytes[..p].iter().rposition(|b| !b.is_ascii_digit()).map_or(0, |i| i + 1);
            let num: u32 = std::str::from_utf8(&bytes[start..p]).unwrap().parse().unwrap();
            let body = p + b" 0 obj".len();
            let end = find(bytes, b"endobj", body).expect("endobj");
            // A stream's keyword comes before its data, which may hold "endobj".
            let stream_kw = find(bytes, b"stream\n", body).filter(|s| *s < end);
            let (dict_end, stream, next) = match stream_kw {
                Some(s) => {
                    let dict = String::from_utf8_lossy(&bytes[body..s]).into_owned();
                    let len = int_after(&dict, "/Length").expect("a direct /Length") as usize;
                    let data = &bytes[s + 7..s + 7 + len];
                    let decoded = if dict.contains("/FlateDecode") {
                        let mut out = Vec::new();
                        flate2::read::ZlibDecoder::new(data).read_to_end(&mut out).expect("Flate data");
                        out
                    } else {
                        data.to_vec()
                    };
                    (s, Some(decoded), find(bytes, b"endobj", s + 7 + len).expect("endobj") + 6)
                }
                None => (end, None, end + 6),
            };
            let dict = String::from_utf8_lossy(&bytes[body..dict_end]).into_owned();
            let compact = dict.split_whitespace().collect();
            objects.insert(num, Object { dict, compact, stream });
            at = next;
        }
        Pdf { objects }
    }

    /// The page objects, in object order.
    pub fn pages(&self) -> Vec<(u32, &Object)> {
        self.objects
            .iter()
            .filter(|(_, o)| o.compact.contains("/Type/Page") && !o.compact.contains("/Type/Pages"))
            .map(|(n, o)| (*n, o))
            .collect()
    }

    /// `/Count` of the page tree.
    pub fn page_count(&self) -> u64 {
        let tree = self.objects.values().find(|o| o.compact.contains("/Type/Pages")).expect("a page tree");
        int_after(&tree.dict, "/Count").expect("/Count")
    }

    /// The image objects: number, width, height, decoded samples.
    pub fn images(&self) -> Vec<(u32, u32, u32, &[u8])> {
        self.objects
            .iter()
            .filter(|(_, o)| o.compact.contains("/Subtype/Image"))
            .map(|(n, o)| {
                let w = int_after(&o.dict, "/Width").unwrap() as u32;
                let h = int_after(&o.dict, "/Height").unwrap() as u32;
                (*n, w, h, o.stream.as_deref().unwrap())
            })
            .collect()
    }

    /// Whether page `page` draws image object `image`: its resources name
    /// it (inline or by reference) and its content invokes an XObject.
    pub fn page_draws(&self, page: &Object, image: u32) -> bool {
        let mut text = page.dict.clone();
        if let Some(r) = ref_after(&page.dict, "/Resources") {
            text.push_str(&self.objects[&r].dict);
        }
        if let Some(x) = ref_after(&text, "/XObject") {
            text.push_str(&self.objects[&x].dict);
        }
        let content = ref_after(&page.dict, "/Contents").and_then(|c| self.objects[&c].stream.clone());
        let invokes = content.is_some_and(|c| c.windows(3).any(|w| w == b" Do"));
        invokes && text.contains(&format!(" {image} 0 R"))
    }

    /// The embedded files' bytes.
    pub fn embedded_files(&self) -> Vec<&[u8]> {
        self.objects
            .values()
            .filter(|o| o.compact.contains("/Type/EmbeddedFile"))
            .map(|o| o.stream.as_deref().unwrap())
            .collect()
    }
}

/// Decode a grey image (1 byte a pixel) as a phone's scanner would: scaled
/// up so each module is several pixels, then read by rqrr.
pub fn decode_qr(w: u32, h: u32, pixels: &[u8]) -> Vec<String> {
    const SCALE: u32 = 6;
    let mut img =
        rqrr::PreparedImage::prepare_from_greyscale((w * SCALE) as usize, (h * SCALE) as usize, |x, y| {
            pixels[(y / SCALE as usize) * w as usize + x / SCALE as usize]
        });
    img.detect_grids().into_iter().filter_map(|g| g.decode().ok().map(|(_, text)| text)).collect()
}
