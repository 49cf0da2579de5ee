//! Synthetic pictures of our own tags under field conditions: blur, tilt,
//! rotation, glare, a tag wrapped round a rebar, dusk with sensor noise,
//! dirt. The tests assert the scanner reads them; the benchmark uses the
//! same scenes at 720p and 1080p. Deterministic (a fixed-seed generator), so
//! a failure reproduces.
//!
//! Tags are encoded with error-correction level H, as the project's tags
//! are printed: measured, level H roughly doubles survival under glare
//! compared with level M (platform notes).

use super::image_ops::Grey;
use custody_core::tag::TagCode;

/// The QR modules of a payload, with a 4-module quiet zone: `true` = dark.
pub fn modules(payload: &str) -> Vec<Vec<bool>> {
    use rxing::{BarcodeFormat, EncodeHints, Writer, qrcode::QRCodeWriter};
    let hints =
        EncodeHints { ErrorCorrection: Some("H".into()), Margin: Some("4".into()), ..Default::default() };
    let m = QRCodeWriter
        .encode_with_hints(payload, &BarcodeFormat::QR_CODE, 0, 0, &hints)
        .expect("a tag payload always encodes");
    (0..m.getHeight()).map(|y| (0..m.getWidth()).map(|x| m.get(x, y)).collect()).collect()
}

/// Small deterministic generator (SplitMix64).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }
}

/// How the tag is seen.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Condition {
    Clean,
    /// Box blur of this radius (px) over the whole picture.
    Blur(usize),
    /// Tilted away: the far edge is this fraction of the near one.
    Perspective(f32),
    /// In-plane rotation, degrees.
    Rotated(f32),
    /// A saturated highlight of this radius (in tag widths) off-centre.
    Glare(f32),
    /// Wrapped round a cylinder whose radius is this many tag widths.
    Curved(f32),
    /// Dim light (paper at this grey level) with sensor noise of this amplitude.
    LowLight {
        paper: u8,
        noise: u8,
    },
    /// Dark smudges over this fraction of the code's area.
    Dirt(f32),
}

/// Where the tag is in the picture.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Placement {
    /// Picture size in pixels.
    pub width: usize,
    pub height: usize,
    /// Tag centre, pixels (outside the picture = a frame without a tag).
    pub cx: f32,
    pub cy: f32,
    /// Tag width (quiet zone included), pixels.
    pub side: f32,
}

impl Placement {
    /// A tag `side` px wide in the middle of a `width` x `height` picture.
    pub fn centred(width: usize, height: usize, side: f32) -> Placement {
        Placement { width, height, cx: width as f32 / 2.0, cy: height as f32 / 2.0, side }
    }
    /// The same picture with no tag in view.
    pub fn empty(width: usize, height: usize) -> Placement {
        Placement { width, height, cx: -1e6, cy: -1e6, side: 100.0 }
    }
}

/// A grey scene with the tag placed as `at` says, seen under `condition`.
/// The background is a soft gradient with mild texture (concrete, not a
/// lab's white table).
pub fn scene(payload: &str, at: Placement, condition: Condition, seed: u64) -> Grey {
    let Placement { width, height, cx, cy, side } = at;
    let mods = modules(payload);
    let n = mods.len() as f32;
    let mut rng = Rng::new(seed);
    let mut data = vec![0u8; width * height];
    let (paper, ink) = match condition {
        Condition::LowLight { paper, .. } => (f32::from(paper), f32::from(paper) * 0.25),
        _ => (225.0, 35.0),
    };
    // Dirt: random discs in tag units.
    let smudges: Vec<(f32, f32, f32)> = match condition {
        Condition::Dirt(frac) => {
            let r = 0.06;
            let count = (frac / (std::f32::consts::PI * r * r)).round() as usize;
            (0..count)
                .map(|_| (0.15 + 0.7 * rng.unit(), 0.15 + 0.7 * rng.unit(), r * (0.6 + 0.8 * rng.unit())))
                .filter(|(x, y, _)| !near_finder(*x, *y))
                .collect()
        }
        _ => Vec::new(),
    };
    // Tilt: a true perspective (homography) from the picture to the tag
    // square, the top edge shrunk to `far` of the bottom one.
    let tilt = match condition {
        Condition::Perspective(far) => Some(homography(
            [(-far / 2.0, -0.5), (far / 2.0, -0.5), (0.5, 0.5), (-0.5, 0.5)],
            [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)],
        )),
        _ => None,
    };
    let (cos, sin) = match condition {
        Condition::Rotated(deg) => (deg.to_radians().cos(), deg.to_radians().sin()),
        _ => (1.0, 0.0),
    };
    for y in 0..height {
        for x in 0..width {
            let bg = 140.0 + 40.0 * (x as f32 / width as f32) - 25.0 * (y as f32 / height as f32)
                + 12.0 * (rng.unit() - 0.5);
            let bg = match condition {
                Condition::LowLight { paper, .. } => bg * f32::from(paper) / 225.0,
                _ => bg,
            };
            // Position relative to the tag centre, in tag widths.
            let (dx, dy) = ((x as f32 - cx) / side, (y as f32 - cy) / side);
            let (dx, dy) = (cos * dx + sin * dy, -sin * dx + cos * dy);
            let (u, v, shade) = match condition {
                Condition::Perspective(_) => {
                    let h = tilt.as_ref().expect("set for tilt");
                    let w = h[6] * dx + h[7] * dy + 1.0;
                    ((h[0] * dx + h[1] * dy + h[2]) / w, (h[3] * dx + h[4] * dy + h[5]) / w, 1.0)
                }
                Condition::Curved(radius) => {
                    if dx.abs() >= radius {
                        (-1.0, -1.0, 1.0)
                    } else {
                        let theta = (dx / radius).asin();
                        (theta * radius + 0.5, dy + 0.5, theta.cos().sqrt())
                    }
                }
                _ => (dx + 0.5, dy + 0.5, 1.0),
            };
            let value = if (0.0..1.0).contains(&u) && (0.0..1.0).contains(&v) {
                let (mx, my) = ((u * n) as usize, (v * n) as usize);
                let mut val = if mods[my][mx] { ink } else { paper };
                if smudges.iter().any(|(sx, sy, r)| (u - sx).powi(2) + (v - sy).powi(2) < r * r) {
                    val = ink + 20.0;
                }
                val * shade
            } else {
                bg
            };
            data[y * width + x] = value.clamp(0.0, 255.0) as u8;
        }
    }
    let mut img = Grey::new(width, height, data);
    match condition {
        Condition::Blur(r) => {
            for _ in 0..r {
                img = img.box_blur3();
            }
        }
        Condition::Glare(radius) => {
            // Highlight centred a quarter of the tag right of centre: it
            // washes out data modules, not the finder patterns.
            let (gx, gy, rad) = (cx + 0.15 * side, cy + 0.1 * side, radius * side);
            for y in 0..height {
                for x in 0..width {
                    let d2 = ((x as f32 - gx).powi(2) + (y as f32 - gy).powi(2)) / (rad * rad);
                    if d2 < 1.0 {
                        let p = &mut img.data[y * width + x];
                        let boost = 255.0 * (1.0 - d2).powf(0.6);
                        *p = (f32::from(*p) + boost).min(255.0) as u8;
                    }
                }
            }
        }
        Condition::LowLight { noise, .. } => {
            for p in img.data.iter_mut() {
                let nz = (rng.unit() - 0.5) * 2.0 * f32::from(noise);
                *p = (f32::from(*p) + nz).clamp(0.0, 255.0) as u8;
            }
        }
        _ => {}
    }
    img
}

/// The homography taking the four `from` points to the four `to` points
/// (h33 = 1), by solving the 8x8 linear system.
fn homography(from: [(f32, f32); 4], to: [(f32, f32); 4]) -> [f32; 8] {
    let mut a = [[0f64; 9]; 8];
    for i in 0..4 {
        let (x, y) = (f64::from(from[i].0), f64::from(from[i].1));
        let (u, v) = (f64::from(to[i].0), f64::from(to[i].1));
        a[2 * i] = [x, y, 1.0, 0.0, 0.0, 0.0, -u * x, -u * y, u];
        a[2 * i + 1] = [0.0, 0.0, 0.0, x, y, 1.0, -v * x, -v * y, v];
    }
    for col in 0..8 {
        let pivot = (col..8).max_by(|&p, &q| a[p][col].abs().total_cmp(&a[q][col].abs())).expect("rows");
        a.swap(col, pivot);
        let pivot_row = a[col];
        for (row, r) in a.iter_mut().enumerate() {
            if row != col {
                let f = r[col] / pivot_row[col];
                for (x, p) in r.iter_mut().zip(pivot_row.iter()).skip(col) {
                    *x -= f * p;
                }
            }
        }
    }
    let mut h = [0f32; 8];
    for i in 0..8 {
        h[i] = (a[i][8] / a[i][i]) as f32;
    }
    h
}

/// Whether a point (tag units) is within a finder pattern (damage there is
/// fatal to every decoder; the tests keep dirt off them, and the tag design
/// puts the label text elsewhere).
fn near_finder(x: f32, y: f32) -> bool {
    let f = 0.33;
    let (left, right, top, bottom) = (x < f, x > 1.0 - f, y < f, y > 1.0 - f);
    (top && (left || right)) || (bottom && left)
}

/// A tag code for tests.
pub fn tag(serial: u32) -> TagCode {
    TagCode::from_parts(310, 26, 1, serial).expect("valid parts")
}
