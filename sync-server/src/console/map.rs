//! Maps drawn on the server as SVG: site boundaries and fixes on a plain
//! background, north up, with a scale bar. No tiles, no script, no network:
//! they work on a locked-down PC without internet, print as they show, and
//! every coordinate is the WGS-84 the records hold.

use custody_core::place::LatLon;
use std::fmt::Write;

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
}

/// A "nice" scale bar length in metres for a pixel scale.
fn scale_bar_m(scale: f64) -> f64 {
    let target = 120.0 / scale;
    let mag = 10f64.powf(target.log10().floor());
    [1.0, 2.0, 5.0, 10.0].into_iter().map(|f| f * mag).rfind(|m| *m <= target).unwrap_or(mag)
}

/// An SVG of site boundaries (each a list of rings) and points; `title`
/// is its accessible name.
pub fn svg(title: &str, boundaries: &[Vec<Vec<LatLon>>], points: &[MapPoint]) -> String {
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
        let _ = write!(
            out,
            r#"<g class="pt {c}"><circle class="acc" cx="{x:.1}" cy="{y:.1}" r="{r:.1}"/><circle class="dot" cx="{x:.1}" cy="{y:.1}" r="3"/><text x="{tx:.1}" y="{ty:.1}">{l}</text></g>"#,
            c = p.class,
            tx = x + 6.0,
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
        let s = svg("现场", &[site], &pts);
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
        assert_eq!(svg("x", &[], &[]).matches("<svg").count(), 1);
    }

    #[test]
    fn scale_bars_are_round_numbers() {
        assert_eq!(scale_bar_m(1.0), 100.0);
        assert_eq!(scale_bar_m(0.5), 200.0);
        assert_eq!(scale_bar_m(4.0), 20.0);
    }
}
