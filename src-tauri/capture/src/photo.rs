//! Process photos and videos (R7–R9): the signed original, and a rendered
//! copy with a visible watermark for people.
//!
//! The **original** is the evidence: its bytes are kept exactly as captured
//! (never re-encoded, never stripped of metadata), hashed with custody-core's
//! SHA-256, and the record signs that hash ([`MediaRef`]). The **rendered
//! copy** carries time, place, project, tag and person burnt into the
//! picture so a person looking at a printout or a chat forward sees the
//! context; it is derived, re-creatable from the original and the record,
//! and never replaces the original (a watermark is easy to fake; a hash in a
//! signed record is not).
//!
//! Chinese text needs a CJK font. The project's install step fetches Noto
//! Sans SC (SIL Open Font License 1.1) from the npm package
//! `@expo-google-fonts/noto-sans-sc` and checks its SHA-256; see
//! `scripts/lib/models.sh`. It is not committed (10.5 MB).

use crate::frame::{Frame, FrameSource};
use ab_glyph::{Font, FontVec, PxScale, ScaleFont};
use custody_core::crypto::{Hash, Hasher};
use custody_core::record::{MediaPurpose, MediaRef};
use std::path::Path;

/// A captured original, byte-exact, with its reference for the record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Original {
    pub bytes: Vec<u8>,
    pub media: MediaRef,
}

/// Why a photo could not be kept or rendered.
#[derive(Debug, thiserror::Error)]
pub enum PhotoError {
    #[error("unrecognised media type (expected JPEG, PNG, GIF, MP4, WebM, MJPEG or Y4M)")]
    UnknownType,
    #[error("cannot decode the picture: {0}")]
    Decode(String),
    #[error("cannot encode the picture: {0}")]
    Encode(String),
    #[error("cannot load the font {path}: {reason}")]
    Font { path: String, reason: String },
}

impl PhotoError {
    pub fn message_zh(&self) -> String {
        match self {
            PhotoError::UnknownType => {
                "无法识别的文件类型（应为 JPEG、PNG、GIF、MP4、WebM、MJPEG 或 Y4M）".into()
            }
            PhotoError::Decode(e) => format!("无法解码图片：{e}"),
            PhotoError::Encode(e) => format!("无法生成图片：{e}"),
            PhotoError::Font { path, reason } => format!("无法加载字体 {path}：{reason}"),
        }
    }
}

/// The IANA media type of captured bytes, from their signature (never from a
/// file name, which a person can change).
pub fn sniff_media_type(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        // A single JPEG, or MJPEG (several pictures): look for a second SOI
        // after the first picture's end.
        return Some(if is_mjpeg(bytes) { "video/x-motion-jpeg" } else { "image/jpeg" });
    }
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Some("image/png");
    }
    if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        return Some("image/gif");
    }
    if bytes.starts_with(b"YUV4MPEG2 ") {
        return Some("video/x-yuv4mpeg");
    }
    if bytes.starts_with(&[0x1A, 0x45, 0xDF, 0xA3]) {
        return Some("video/webm");
    }
    if bytes.len() >= 12 && &bytes[4..8] == b"ftyp" {
        return Some(if &bytes[8..11] == b"qt " { "video/quicktime" } else { "video/mp4" });
    }
    None
}

fn is_mjpeg(bytes: &[u8]) -> bool {
    let mut r = crate::frame::file::MjpegReader::new(std::io::Cursor::new(bytes));
    matches!(r.next_jpeg(), Ok(Some(_))) && matches!(r.next_jpeg(), Ok(Some(_)))
}

/// Keep captured bytes as an original: hash them, type them from their
/// signature, and make the record's reference.
pub fn keep_original(
    bytes: Vec<u8>,
    purpose: MediaPurpose,
    captured_mono_ms: Option<u64>,
) -> Result<Original, PhotoError> {
    let media_type = sniff_media_type(&bytes).ok_or(PhotoError::UnknownType)?;
    let mut h = Hasher::default();
    h.update(&bytes);
    let media = MediaRef {
        sha256: h.finish(),
        size: bytes.len() as u64,
        media_type: media_type.to_owned(),
        purpose,
        captured_mono_ms,
    };
    Ok(Original { bytes, media })
}

/// A live frame becomes a photo: encoded once as JPEG (quality 92: module
/// edges of a tag and a face's detail survive), and that JPEG is the
/// original.
pub fn capture_frame(frame: &Frame, purpose: MediaPurpose) -> Result<Original, PhotoError> {
    let bytes = encode_jpeg(&frame.to_rgb_image(), 92)?;
    keep_original(bytes, purpose, frame.captured_mono_ms)
}

/// A short process video from live frames (desktop cameras, or frames the
/// webview pushed): each frame encoded once as JPEG, concatenated as MJPEG,
/// kept as one original. Its capture time is the first frame's. (On phones
/// the webview's `MediaRecorder` output is kept with [`keep_original`].)
pub fn record_mjpeg(frames: &[Frame], purpose: MediaPurpose) -> Result<Original, PhotoError> {
    let first =
        frames.first().ok_or_else(|| PhotoError::Encode("a video needs at least one frame".into()))?;
    let mut bytes = Vec::new();
    for f in frames {
        bytes.extend(encode_jpeg(&f.to_rgb_image(), 85)?);
    }
    // One frame is typed as a photo (image/jpeg), more as MJPEG video.
    keep_original(bytes, purpose, first.captured_mono_ms)
}

fn encode_jpeg(img: &image::RgbImage, quality: u8) -> Result<Vec<u8>, PhotoError> {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality)
        .encode_image(img)
        .map_err(|e| PhotoError::Encode(e.to_string()))?;
    Ok(out)
}

/// What the watermark says. The app formats the values (local time with
/// zone, coordinates with accuracy, project name, printed tag digits,
/// person's name and role).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WatermarkText {
    pub time: String,
    pub place: String,
    pub project: String,
    pub tag: String,
    pub person: String,
}

impl WatermarkText {
    /// The lines drawn, labelled in Chinese (the people reading them are on
    /// Chinese sites and in Chinese offices).
    pub fn lines(&self) -> Vec<String> {
        [
            ("时间", &self.time),
            ("地点", &self.place),
            ("工程", &self.project),
            ("标识", &self.tag),
            ("人员", &self.person),
        ]
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}：{v}"))
        .collect()
    }
}

/// A watermarked copy, derived from an original.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedCopy {
    /// JPEG bytes.
    pub jpeg: Vec<u8>,
    /// The original it was made from.
    pub derived_from: Hash,
}

/// Renders watermarks with a loaded font.
pub struct Watermarker {
    font: FontVec,
}

/// Where the install step puts the CJK font, relative to the models dir.
pub const FONT_FILE: &str = "fonts/NotoSansSC-Regular.ttf";

impl Watermarker {
    pub fn from_font_file(path: &Path) -> Result<Watermarker, PhotoError> {
        let bytes = std::fs::read(path)
            .map_err(|e| PhotoError::Font { path: path.display().to_string(), reason: e.to_string() })?;
        Watermarker::from_font_bytes(bytes)
            .map_err(|e| PhotoError::Font { path: path.display().to_string(), reason: e.to_string() })
    }

    pub fn from_font_bytes(bytes: Vec<u8>) -> Result<Watermarker, PhotoError> {
        let font = FontVec::try_from_vec(bytes)
            .map_err(|e| PhotoError::Font { path: "<bytes>".into(), reason: e.to_string() })?;
        // A font without CJK glyphs would draw empty boxes: refuse it now.
        if font.glyph_id('见').0 == 0 {
            return Err(PhotoError::Font {
                path: "<bytes>".into(),
                reason: "font has no Chinese glyphs".into(),
            });
        }
        Ok(Watermarker { font })
    }

    /// Render a watermarked copy of an original picture.
    pub fn render(&self, original: &Original, text: &WatermarkText) -> Result<RenderedCopy, PhotoError> {
        let img = image::load_from_memory(&original.bytes).map_err(|e| PhotoError::Decode(e.to_string()))?;
        let mut rgb = img.into_rgb8();
        self.draw(&mut rgb, &text.lines());
        Ok(RenderedCopy { jpeg: encode_jpeg(&rgb, 88)?, derived_from: original.media.sha256 })
    }

    /// A watermarked poster frame for a video original (MJPEG or Y4M): its
    /// first frame with the same text.
    pub fn render_video_poster(
        &self,
        original: &Original,
        text: &WatermarkText,
    ) -> Result<RenderedCopy, PhotoError> {
        let cursor = std::io::BufReader::new(std::io::Cursor::new(original.bytes.as_slice()));
        let frame = match original.media.media_type.as_str() {
            "video/x-motion-jpeg" => crate::frame::file::MjpegReader::new(cursor).next_frame(),
            "video/x-yuv4mpeg" => crate::frame::file::Y4mReader::new(cursor).and_then(|mut r| r.next_frame()),
            "image/jpeg" | "image/png" | "image/gif" => return self.render(original, text),
            _ => return Err(PhotoError::UnknownType),
        }
        .map_err(|e| PhotoError::Decode(e.to_string()))?
        .ok_or_else(|| PhotoError::Decode("video has no frames".into()))?;
        let mut rgb = frame.to_rgb_image();
        self.draw(&mut rgb, &text.lines());
        Ok(RenderedCopy { jpeg: encode_jpeg(&rgb, 88)?, derived_from: original.media.sha256 })
    }

    /// Draw `lines` in white on a translucent dark band along the bottom.
    /// The text size follows the picture width so a phone photo and a
    /// thumbnail both stay legible; long lines wrap.
    pub fn draw(&self, img: &mut image::RgbImage, lines: &[String]) {
        let (w, h) = img.dimensions();
        let px = (w as f32 / 32.0).clamp(12.0, 64.0);
        let font = self.font.as_scaled(PxScale::from(px));
        let margin = px * 0.5;
        let max_width = w as f32 - 2.0 * margin;
        let wrapped: Vec<String> = lines.iter().flat_map(|l| wrap(&font, l, max_width)).collect();
        let line_h = font.height() + font.line_gap();
        let band_h = (wrapped.len() as f32 * line_h + 2.0 * margin).min(h as f32);
        let top = h as f32 - band_h;
        for y in top.max(0.0) as u32..h {
            for x in 0..w {
                let p = img.get_pixel_mut(x, y);
                for c in p.0.iter_mut() {
                    *c = (f32::from(*c) * 0.45) as u8;
                }
            }
        }
        for (i, line) in wrapped.iter().enumerate() {
            let baseline = top + margin + font.ascent() + i as f32 * line_h;
            let mut x = margin;
            let mut prev = None;
            for ch in line.chars() {
                let id = font.glyph_id(ch);
                if let Some(p) = prev {
                    x += font.kern(p, id);
                }
                let glyph = id.with_scale_and_position(px, ab_glyph::point(x, baseline));
                x += font.h_advance(id);
                prev = Some(id);
                if let Some(outline) = self.font.outline_glyph(glyph) {
                    let b = outline.px_bounds();
                    outline.draw(|gx, gy, cov| {
                        let (ix, iy) = (b.min.x as i64 + i64::from(gx), b.min.y as i64 + i64::from(gy));
                        if ix >= 0 && iy >= 0 && (ix as u32) < w && (iy as u32) < h {
                            let p = img.get_pixel_mut(ix as u32, iy as u32);
                            for c in p.0.iter_mut() {
                                *c = (f32::from(*c) * (1.0 - cov) + 255.0 * cov).round() as u8;
                            }
                        }
                    });
                }
            }
        }
    }
}

/// Break a line into pieces no wider than `max_width` (by characters:
/// Chinese has no spaces to break at).
fn wrap<F: Font>(font: &ab_glyph::PxScaleFont<&F>, line: &str, max_width: f32) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut width = 0.0;
    for ch in line.chars() {
        let adv = font.h_advance(font.glyph_id(ch));
        if width + adv > max_width && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
            width = 0.0;
        }
        cur.push(ch);
        width += adv;
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r9_original_is_kept_byte_exact_and_hashed() {
        let img = image::RgbImage::from_pixel(8, 8, image::Rgb([10, 20, 30]));
        let jpeg = encode_jpeg(&img, 90).unwrap();
        let o = keep_original(jpeg.clone(), MediaPurpose::Process, Some(5)).unwrap();
        assert_eq!(o.bytes, jpeg);
        assert_eq!(o.media.sha256, Hash::of(&jpeg));
        assert_eq!(o.media.size, jpeg.len() as u64);
        assert_eq!(o.media.media_type, "image/jpeg");
        assert_eq!(o.media.captured_mono_ms, Some(5));
        let e = keep_original(b"not a photo".to_vec(), MediaPurpose::Process, None).unwrap_err();
        assert!(e.message_zh().contains("无法识别"));
    }

    #[test]
    fn media_types_come_from_signatures() {
        let img = image::RgbImage::from_pixel(4, 4, image::Rgb([1, 2, 3]));
        let jpeg = encode_jpeg(&img, 90).unwrap();
        let mut mjpeg = jpeg.clone();
        mjpeg.extend_from_slice(&jpeg);
        assert_eq!(sniff_media_type(&jpeg), Some("image/jpeg"));
        assert_eq!(sniff_media_type(&mjpeg), Some("video/x-motion-jpeg"));
        assert_eq!(sniff_media_type(b"\0\0\0\x18ftypisom"), Some("video/mp4"));
        assert_eq!(sniff_media_type(b"YUV4MPEG2 W2 H2\n"), Some("video/x-yuv4mpeg"));
        assert_eq!(sniff_media_type(b"%PDF"), None);
    }

    #[test]
    fn watermark_lines_are_labelled_and_skip_empty_fields() {
        let t = WatermarkText {
            time: "2026-03-01 09:30".into(),
            tag: "0310 26 0001 0000042 7".into(),
            ..Default::default()
        };
        assert_eq!(
            t.lines(),
            vec!["时间：2026-03-01 09:30".to_owned(), "标识：0310 26 0001 0000042 7".to_owned()]
        );
    }
}
