//! Aligning a face to the chip the descriptor network was trained on.
//!
//! dlib cuts a 150x150 chip with 25 % padding around its mean face shape
//! (`get_face_chip_details(det, 150, 0.25)`). The target positions below are
//! dlib's published mean shape (the 68-point template in `dlib/image_
//! transforms/interpolation.h`) averaged to the points BlazeFace gives (eye
//! centres = mean of the six points of each eye, mouth centre = mean of the
//! twelve outer lip points, nose tip = point 30), mapped to chip pixels as
//! `(0.25 + u) * 100`. A least-squares similarity transform (rotation,
//! uniform scale, shift: faces are not sheared) maps the detected points
//! onto them.

use super::detect::{Detection, Point};
use super::embed::CHIP_SIZE;

/// Chip-pixel targets: subject's right eye, left eye, nose tip, mouth centre.
pub const TEMPLATE: [Point; 4] = [
    Point { x: 47.549, y: 46.599 },
    Point { x: 100.476, y: 46.599 },
    Point { x: 74.013, y: 76.563 },
    Point { x: 74.013, y: 105.766 },
];

/// Weights of the template points in the fit. The nose tip sticks out of
/// the face plane and moves with every head turn; it counts half.
const WEIGHTS: [f32; 4] = [1.0, 1.0, 0.5, 1.0];

/// A similarity transform q = z * p + t, with complex z = s * e^(i theta).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Similarity {
    pub a: f32,
    pub b: f32,
    pub tx: f32,
    pub ty: f32,
}

impl Similarity {
    pub fn apply(&self, p: Point) -> Point {
        Point { x: self.a * p.x - self.b * p.y + self.tx, y: self.b * p.x + self.a * p.y + self.ty }
    }
    pub fn inverse(&self) -> Similarity {
        let d = self.a * self.a + self.b * self.b;
        let (a, b) = (self.a / d, -self.b / d);
        Similarity { a, b, tx: -(a * self.tx - b * self.ty), ty: -(b * self.tx + a * self.ty) }
    }
    pub fn scale(&self) -> f32 {
        (self.a * self.a + self.b * self.b).sqrt()
    }
}

/// Weighted least-squares similarity from `src` onto `dst`.
pub fn fit(src: &[Point], dst: &[Point], weights: &[f32]) -> Similarity {
    let wsum: f32 = weights.iter().sum();
    let mean = |ps: &[Point]| Point {
        x: ps.iter().zip(weights).map(|(p, w)| p.x * w).sum::<f32>() / wsum,
        y: ps.iter().zip(weights).map(|(p, w)| p.y * w).sum::<f32>() / wsum,
    };
    let (ms, md) = (mean(src), mean(dst));
    let (mut num_re, mut num_im, mut den) = (0f32, 0f32, 0f32);
    for ((s, d), w) in src.iter().zip(dst).zip(weights) {
        let (px, py) = (s.x - ms.x, s.y - ms.y);
        let (qx, qy) = (d.x - md.x, d.y - md.y);
        // (q) * conj(p)
        num_re += w * (qx * px + qy * py);
        num_im += w * (qy * px - qx * py);
        den += w * (px * px + py * py);
    }
    let (a, b) = if den > 0.0 { (num_re / den, num_im / den) } else { (1.0, 0.0) };
    Similarity { a, b, tx: md.x - (a * ms.x - b * ms.y), ty: md.y - (b * ms.x + a * ms.y) }
}

/// dlib's mean face shape, points 17–67 of the 68-point layout (brows,
/// nose, eyes, mouth; the jaw line 0–16 is left out as dlib does), in the
/// unit square `get_face_chip_details` maps to the chip.
const MEAN_FACE_X: [f32; 51] = [
    0.000213256,
    0.0752622,
    0.18113,
    0.29077,
    0.393397,
    0.586856,
    0.689483,
    0.799124,
    0.904991,
    0.98004,
    0.490127,
    0.490127,
    0.490127,
    0.490127,
    0.36688,
    0.426036,
    0.490127,
    0.554217,
    0.613373,
    0.121737,
    0.187122,
    0.265825,
    0.334606,
    0.260918,
    0.182743,
    0.645647,
    0.714428,
    0.793132,
    0.858516,
    0.79751,
    0.719335,
    0.254149,
    0.340985,
    0.428858,
    0.490127,
    0.551395,
    0.639268,
    0.726104,
    0.642159,
    0.556721,
    0.490127,
    0.423532,
    0.338094,
    0.290379,
    0.428096,
    0.490127,
    0.552157,
    0.689874,
    0.553364,
    0.490127,
    0.42689,
];
const MEAN_FACE_Y: [f32; 51] = [
    0.106454, 0.038915, 0.0187482, 0.0344891, 0.0773906, 0.0773906, 0.0344891, 0.0187482, 0.038915, 0.106454,
    0.203352, 0.307009, 0.409805, 0.515625, 0.587326, 0.609345, 0.628106, 0.609345, 0.587326, 0.216423,
    0.178758, 0.179852, 0.231733, 0.245099, 0.244077, 0.231733, 0.179852, 0.178758, 0.216423, 0.244077,
    0.245099, 0.780233, 0.745405, 0.727388, 0.742578, 0.727388, 0.745405, 0.780233, 0.864805, 0.902192,
    0.909281, 0.902192, 0.864805, 0.784792, 0.778746, 0.785343, 0.778746, 0.784792, 0.824182, 0.831803,
    0.824182,
];

/// dlib's alignment: least-squares similarity of landmarks 17–67 onto the
/// mean face, placed in the chip with 25 % padding (`(0.25 + u) * 100`).
pub fn chip_transform_68(landmarks: &[Point]) -> Similarity {
    let src: Vec<Point> = landmarks[17..68].to_vec();
    let dst: Vec<Point> = MEAN_FACE_X
        .iter()
        .zip(MEAN_FACE_Y.iter())
        .map(|(&u, &v)| Point { x: (0.25 + u) * 100.0, y: (0.25 + v) * 100.0 })
        .collect();
    fit(&src, &dst, &[1.0; 51])
}

/// The transform from frame pixels to chip pixels for a detection (BlazeFace
/// keypoints only).
pub fn chip_transform(d: &Detection) -> Similarity {
    fit(&[d.right_eye, d.left_eye, d.nose, d.mouth], &TEMPLATE, &WEIGHTS)
}

/// Cut the 150x150 RGB chip out of an RGB frame.
pub fn extract_chip(rgb: &[u8], width: usize, height: usize, to_chip: &Similarity) -> Vec<u8> {
    let back = to_chip.inverse();
    let mut out = vec![0u8; CHIP_SIZE * CHIP_SIZE * 3];
    // When the chip is much smaller than the face in the frame, sampling one
    // point per chip pixel aliases; average a few sub-samples instead.
    let sub = (1.0 / to_chip.scale()).clamp(1.0, 4.0).round() as usize;
    for y in 0..CHIP_SIZE {
        for x in 0..CHIP_SIZE {
            let mut acc = [0f32; 3];
            for sy in 0..sub {
                for sx in 0..sub {
                    let q = Point {
                        x: x as f32 + (sx as f32 + 0.5) / sub as f32 - 0.5,
                        y: y as f32 + (sy as f32 + 0.5) / sub as f32 - 0.5,
                    };
                    let p = back.apply(q);
                    let v = sample_bilinear(rgb, width, height, p.x, p.y);
                    for c in 0..3 {
                        acc[c] += v[c];
                    }
                }
            }
            let n = (sub * sub) as f32;
            for c in 0..3 {
                out[(y * CHIP_SIZE + x) * 3 + c] = (acc[c] / n).round().clamp(0.0, 255.0) as u8;
            }
        }
    }
    out
}

/// Bilinear sample of an RGB image at (x, y) (pixel centres at integers);
/// outside the image the edge pixel repeats.
pub fn sample_bilinear(rgb: &[u8], width: usize, height: usize, x: f32, y: f32) -> [f32; 3] {
    let x = x.clamp(0.0, (width - 1) as f32);
    let y = y.clamp(0.0, (height - 1) as f32);
    let (x0, y0) = (x.floor() as usize, y.floor() as usize);
    let (x1, y1) = ((x0 + 1).min(width - 1), (y0 + 1).min(height - 1));
    let (fx, fy) = (x - x0 as f32, y - y0 as f32);
    let px = |xx: usize, yy: usize, c: usize| f32::from(rgb[(yy * width + xx) * 3 + c]);
    let mut out = [0f32; 3];
    for (c, o) in out.iter_mut().enumerate() {
        let top = px(x0, y0, c) * (1.0 - fx) + px(x1, y0, c) * fx;
        let bottom = px(x0, y1, c) * (1.0 - fx) + px(x1, y1, c) * fx;
        *o = top * (1.0 - fy) + bottom * fy;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_recovers_a_known_similarity() {
        let t = Similarity { a: 0.8, b: 0.3, tx: 12.0, ty: -4.0 };
        let src = [
            Point { x: 10.0, y: 10.0 },
            Point { x: 60.0, y: 15.0 },
            Point { x: 30.0, y: 70.0 },
            Point { x: 5.0, y: 40.0 },
        ];
        let dst: Vec<Point> = src.iter().map(|&p| t.apply(p)).collect();
        let f = fit(&src, &dst, &[1.0, 1.0, 0.5, 1.0]);
        for (got, want) in [(f.a, t.a), (f.b, t.b), (f.tx, t.tx), (f.ty, t.ty)] {
            assert!((got - want).abs() < 1e-3, "{f:?}");
        }
        let p = Point { x: 3.0, y: 4.0 };
        let back = f.inverse().apply(f.apply(p));
        assert!((back.x - p.x).abs() < 1e-3 && (back.y - p.y).abs() < 1e-3);
    }
}
