//! Maps drawn on the server as SVG: site boundaries and fixes, north up,
//! with a scale bar. By default on a plain background — no tiles, no
//! script, no network: they work on a locked-down PC without internet,
//! print as they show, and every coordinate is the WGS-84 the records hold.
//! A deployment with a tile server (`[console] map_tiles`, an XYZ Web
//! Mercator template in WGS-84 like Tianditu's or GCJ-02 like AMap's) gets
//! its tiles drawn underneath, placed through the datum conversion.

use custody_core::place::{Datum, LatLon, gcj02_to_wgs84, wgs84_to_gcj02};
use std::fmt::Write;

/// Base tiles under the maps: an `{z}/{x}/{y}` URL template and the datum
/// its imagery is drawn in.
#[derive(Debug, Clone, PartialEq)]
pub struct Tiles {
    pub url: String,
    pub datum: Datum,
}

impl Tiles {
    /// From the configuration: `None` when no template is set; an error
    /// for a template without `{z}`, `{x}`, `{y}` or a datum tiles are not
    /// published in (BD-09 maps use their own tiling).
    pub fn from_config(url: &str, datum: &str) -> Result<Option<Tiles>, String> {
        if url.trim().is_empty() {
            return Ok(None);
        }
        if !["{z}", "{x}", "{y}"].iter().all(|k| url.contains(k)) || !url.starts_with("http") {
            return Err(format!(
                "console.map_tiles must be an http(s) URL with {{z}}, {{x}} and {{y}}: {url}"
            ));
        }
        let datum = match datum {
            "wgs84" | "" => Datum::Wgs84,
            "gcj02" => Datum::Gcj02,
            other => return Err(format!("console.map_tiles_datum must be wgs84 or gcj02, not {other}")),
        };
        Ok(Some(Tiles { url: url.trim().to_owned(), datum }))
    }

    /// The origin the pages load tiles from (for the content security policy).
    pub fn origin(&self) -> String {
        let rest = self.url.split_once("://").map_or("", |(_, r)| r);
        let host = rest.split('/').next().unwrap_or("");
        format!("{}://{host}", self.url.split("://").next().unwrap_or("https"))
    }

    fn wgs84_to_tile_datum(&self, lat: f64, lon: f64) -> (f64, f64) {
        match self.datum {
            Datum::Gcj02 => wgs84_to_gcj02(lat, lon),
            _ => (lat, lon),
        }
    }

    fn tile_datum_to_wgs84(&self, lat: f64, lon: f64) -> (f64, f64) {
        match self.datum {
            Datum::Gcj02 => gcj02_to_wgs84(lat, lon),
            _ => (lat, lon),
        }
    }
}

/// Web Mercator tile numbers (x, y as fractions) of a point at zoom `z`.
fn tile_of(lat: f64, lon: f64, z: i32) -> (f64, f64) {
    let n = 2f64.powi(z);
    let x = (lon + 180.0) / 360.0 * n;
    let r = lat.to_radians();
    let y = (1.0 - (r.tan() + 1.0 / r.cos()).ln() / std::f64::consts::PI) / 2.0 * n;
    (x, y)
}

/// The north-west corner of tile (x, y) at zoom `z`.
fn corner_of(x: f64, y: f64, z: i32) -> (f64, f64) {
    let n = 2f64.powi(z);
    let lon = x / n * 360.0 - 180.0;
    let lat = (std::f64::consts::PI * (1.0 - 2.0 * y / n)).sinh().atan().to_degrees();
    (lat, lon)
}

/// A point to draw: where, how sure (accuracy radius), what it is.
pub struct MapPoint {
    pub pos: LatLon,
    pub accuracy_m: f64,
    pub label: String,
    /// CSS class: `sampler`, `witness`, `mock` …
    pub class: &'static str,
}

const W: f64 = 640.0;
const H: f64 = 420.0;
const PAD: f64 = 24.0;
const M_PER_DEG_LAT: f64 = 111_195.0;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Local metric projection around the drawing's centre (equirectangular:
/// exact enough over a construction site).
struct Projection {
    lat0: f64,
    lon0: f64,
    cos0: f64,
    scale: f64,
    cx: f64,
    cy: f64,
}

impl Projection {
    fn fit(points: &[(f64, f64)], margin_m: f64) -> Projection {
        let (mut min_lat, mut max_lat, mut min_lon, mut max_lon) = (90.0f64, -90.0f64, 180.0f64, -180.0f64);
        for (lat, lon) in points {
            min_lat = min_lat.min(*lat);
            max_lat = max_lat.max(*lat);
            min_lon = min_lon.min(*lon);
            max_lon = max_lon.max(*lon);
        }
        let (lat0, lon0) = ((min_lat + max_lat) / 2.0, (min_lon + max_lon) / 2.0);
        let cos0 = lat0.to_radians().cos().max(0.01);
        let width_m = (max_lon - min_lon) * M_PER_DEG_LAT * cos0 + 2.0 * margin_m;
        let height_m = (max_lat - min_lat) * M_PER_DEG_LAT + 2.0 * margin_m;
        let scale = ((W - 2.0 * PAD) / width_m.max(1.0)).min((H - 2.0 * PAD) / height_m.max(1.0));
        Projection { lat0, lon0, cos0, scale, cx: W / 2.0, cy: H / 2.0 }
    }

    fn xy(&self, lat: f64, lon: f64) -> (f64, f64) {
        let x = (lon - self.lon0) * M_PER_DEG_LAT * self.cos0 * self.scale;
        let y = (lat - self.lat0) * M_PER_DEG_LAT * self.scale;
        (self.cx + x, self.cy - y)
    }

    /// The WGS-84 point drawn at (x, y).
    fn latlon(&self, x: f64, y: f64) -> (f64, f64) {
        (
            self.lat0 + (self.cy - y) / (M_PER_DEG_LAT * self.scale),
            self.lon0 + (x - self.cx) / (M_PER_DEG_LAT * self.cos0 * self.scale),
        )
    }
}

/// The most tiles one map draws (a zoom out beyond it).
const MAX_TILES: usize = 24;

/// `<image>`s of the tiles covering the frame, at the zoom nearest the drawing's scale.
fn tile_images(out: &mut String, proj: &Projection, tiles: &Tiles) {
    let (n, w) = proj.latlon(0.0, 0.0);
    let (s, e) = proj.latlon(W, H);
    let (tn, tw) = tiles.wgs84_to_tile_datum(n, w);
    let (ts, te) = tiles.wgs84_to_tile_datum(s, e);
    // Metres per pixel at zoom z: 156543.03 × cos(lat) / 2^z; match the drawing's.
    let mut z = (156_543.03 * proj.cos0 * proj.scale).log2().round().clamp(1.0, 19.0) as i32;
    let range = |z: i32| {
        let (x0, y0) = tile_of(tn, tw, z);
        let (x1, y1) = tile_of(ts, te, z);
        (x0.floor() as i64, y0.floor() as i64, x1.floor() as i64, y1.floor() as i64)
    };
    let mut r = range(z);
    while z > 1 && ((r.2 - r.0 + 1) * (r.3 - r.1 + 1)) as usize > MAX_TILES {
        z -= 1;
        r = range(z);
    }
    for ty in r.1..=r.3 {
        for tx in r.0..=r.2 {
            let (la0, lo0) = corner_of(tx as f64, ty as f64, z);
            let (la1, lo1) = corner_of((tx + 1) as f64, (ty + 1) as f64, z);
            let (la0, lo0) = tiles.tile_datum_to_wgs84(la0, lo0);
            let (la1, lo1) = tiles.tile_datum_to_wgs84(la1, lo1);
            let (x0, y0) = proj.xy(la0, lo0);
            let (x1, y1) = proj.xy(la1, lo1);
            let href = tiles
                .url
                .replace("{z}", &z.to_string())
                .replace("{x}", &tx.to_string())
                .replace("{y}", &ty.to_string());
            let _ = write!(
                out,
                r#"<image class="tile" href="{h}" x="{x0:.1}" y="{y0:.1}" width="{w:.1}" height="{hh:.1}" preserveAspectRatio="none"/>"#,
                h = esc(&href),
                w = x1 - x0,
                hh = y1 - y0,
            );
        }
    }
}

/// A "nice" scale bar length in metres for a pixel scale.
fn scale_bar_m(scale: f64) -> f64 {
    let target = 120.0 / scale;
    let mag = 10f64.powf(target.log10().floor());
    [1.0, 2.0, 5.0, 10.0].into_iter().map(|f| f * mag).rfind(|m| *m <= target).unwrap_or(mag)
}

/// An SVG of site boundaries (each a list of rings) and points; `title`
/// is its accessible name.
pub fn svg(
    title: &str,
    boundaries: &[Vec<Vec<LatLon>>],
    points: &[MapPoint],
    tiles: Option<&Tiles>,
) -> String {
    let mut all: Vec<(f64, f64)> =
        boundaries.iter().flatten().flatten().map(|p| (p.lat(), p.lon())).collect();
    all.extend(points.iter().map(|p| (p.pos.lat(), p.pos.lon())));
    let margin = points.iter().map(|p| p.accuracy_m).fold(10.0, f64::max);
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg class="map" viewBox="0 0 {W} {H}" role="img" aria-label="{t}" xmlns="http://www.w3.org/2000/svg"><title>{t}</title><rect class="map-bg" width="{W}" height="{H}"/>"#,
        t = esc(title)
    );
    if all.is_empty() {
        out.push_str("</svg>");
        return out;
    }
    let proj = Projection::fit(&all, margin);
    if let Some(t) = tiles {
        tile_images(&mut out, &proj, t);
    }
    for rings in boundaries {
        let mut d = String::new();
        for ring in rings {
            for (i, p) in ring.iter().enumerate() {
                let (x, y) = proj.xy(p.lat(), p.lon());
                let _ = write!(d, "{}{x:.1},{y:.1} ", if i == 0 { "M" } else { "L" });
            }
            d.push_str("Z ");
        }
        let _ = write!(out, r#"<path class="site" fill-rule="evenodd" d="{}"/>"#, d.trim_end());
    }
    for p in points {
        let (x, y) = proj.xy(p.pos.lat(), p.pos.lon());
        let r = (p.accuracy_m * proj.scale).max(3.0);
        // Labels read to the right of their point, or to the left near the
        // right edge, so none is cut off by the frame.
        let (tx, anchor) = if x > W * 0.6 { (x - 6.0, "end") } else { (x + 6.0, "start") };
        let _ = write!(
            out,
            r#"<g class="pt {c}"><circle class="acc" cx="{x:.1}" cy="{y:.1}" r="{r:.1}"/><circle class="dot" cx="{x:.1}" cy="{y:.1}" r="3"/><text x="{tx:.1}" y="{ty:.1}" text-anchor="{anchor}">{l}</text></g>"#,
            c = p.class,
            ty = y - 6.0,
            l = esc(&p.label)
        );
    }
    let bar = scale_bar_m(proj.scale);
    let px = bar * proj.scale;
    let _ = write!(
        out,
        r#"<g class="scale"><line x1="{PAD}" y1="{y}" x2="{x2:.1}" y2="{y}"/><text x="{PAD}" y="{ty}">{bar} m</text></g><text class="north" x="{nx}" y="{PAD}">N ↑</text></svg>"#,
        y = H - PAD,
        x2 = PAD + px,
        ty = H - PAD - 6.0,
        nx = W - PAD - 24.0,
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_sites_and_points_inside_the_frame() {
        let p = |a: f64, b: f64| LatLon::from_degrees(a, b).unwrap();
        let site = vec![vec![p(40.665, 122.235), p(40.665, 122.237), p(40.666, 122.237), p(40.666, 122.235)]];
        let pts = [MapPoint {
            pos: p(40.6655, 122.236),
            accuracy_m: 4.0,
            label: "取样 <1>".into(),
            class: "sampler",
        }];
        let s = svg("现场", &[site], &pts, None);
        assert!(s.starts_with("<svg") && s.ends_with("</svg>"));
        assert!(s.contains("取样 &lt;1&gt;"), "labels are escaped");
        assert!(s.contains(r#"class="site""#) && s.contains("m</text>"));
        // Every point drawn lies in the frame.
        for (attr, max) in [("cx=\"", W), ("cy=\"", H)] {
            for part in s.split(attr).skip(1) {
                let v: f64 = part.split('"').next().unwrap().parse().unwrap();
                assert!((0.0..=max).contains(&v), "{attr}{v}");
            }
        }
    }

    #[test]
    fn an_empty_map_is_still_a_valid_svg() {
        assert_eq!(svg("x", &[], &[], None).matches("<svg").count(), 1);
    }

    #[test]
    fn tiles_are_drawn_under_the_site_where_their_datum_puts_it() {
        let p = |a: f64, b: f64| LatLon::from_degrees(a, b).unwrap();
        let site = vec![vec![p(40.665, 122.235), p(40.665, 122.237), p(40.666, 122.237), p(40.666, 122.235)]];
        assert_eq!(Tiles::from_config("", "wgs84"), Ok(None));
        assert!(Tiles::from_config("https://t.example/{z}/{x}.png", "wgs84").is_err());
        assert!(Tiles::from_config("https://t.example/{z}/{x}/{y}.png", "bd09").is_err());
        for datum in ["wgs84", "gcj02"] {
            let t = Tiles::from_config("https://tiles.example.cn/{z}/{x}/{y}.png?k=a&b=c", datum)
                .unwrap()
                .unwrap();
            assert_eq!(t.origin(), "https://tiles.example.cn");
            let s = svg("现场", std::slice::from_ref(&site), &[], Some(&t));
            let images: Vec<&str> = s.split("<image ").skip(1).collect();
            assert!(!images.is_empty() && images.len() <= MAX_TILES, "{}", images.len());
            assert!(s.contains("&amp;b=c"), "the URL is escaped");
            // The tiles cover the frame: some tile's box contains its centre.
            let num = |img: &str, k: &str| -> f64 {
                img.split(&format!(" {k}=\"")).nth(1).unwrap().split('"').next().unwrap().parse().unwrap()
            };
            assert!(images.iter().any(|i| {
                let (x, y, w, h) = (num(i, "x"), num(i, "y"), num(i, "width"), num(i, "height"));
                x <= W / 2.0 && W / 2.0 <= x + w && y <= H / 2.0 && H / 2.0 <= y + h
            }));
            // The site is drawn after (over) the tiles.
            assert!(s.find("<image").unwrap() < s.find("class=\"site\"").unwrap());
        }
        // A GCJ-02 tile lies a few hundred metres from where the WGS-84 one would.
        let x = |datum| {
            let t = Tiles::from_config("https://t.example/{z}/{x}/{y}", datum).unwrap().unwrap();
            let s = svg("x", std::slice::from_ref(&site), &[], Some(&t));
            s.split("<image ")
                .nth(1)
                .unwrap()
                .split(" x=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap()
                .parse::<f64>()
                .unwrap()
        };
        assert!((x("wgs84") - x("gcj02")).abs() > 1.0);
    }

    #[test]
    fn scale_bars_are_round_numbers() {
        assert_eq!(scale_bar_m(1.0), 100.0);
        assert_eq!(scale_bar_m(0.5), 200.0);
        assert_eq!(scale_bar_m(4.0), 20.0);
    }
}
