//! 68 facial landmarks (the iBUG 300-W layout dlib uses), from
//! `@vladmandic/face-api`'s `face_landmark_68_model` (TF.js weights, MIT),
//! rebuilt as an ONNX graph the way [`super::embed`] is: four dense blocks of
//! depthwise-separable convolutions on a 112x112 crop, then a fully
//! connected layer to 136 coordinates in [0, 1] of the crop.
//!
//! Two uses: dlib's own alignment (a least-squares fit of points 17–67 onto
//! dlib's mean face, which the descriptor was trained on), and the eye
//! aspect ratio for the blink challenge.

use super::detect::{Detection, Point};
use super::onnx::GraphBuilder;
use super::tfjs::{self, Weights};
use super::{FaceError, Runnable};
use std::collections::HashMap;
use std::path::Path;
use tract_onnx::prelude::*;

const INPUT: usize = 112;
const MEAN_RGB: [f32; 3] = [122.782, 117.001, 104.298];

/// The 68 points in frame pixels.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Landmarks(pub Vec<Point>);

impl Landmarks {
    /// Eye aspect ratio (Soukupová and Čech, 2016): eyelid opening over eye
    /// width, mean of both eyes; about 0.25–0.35 open, below 0.2 closed.
    pub fn eye_aspect_ratio(&self) -> f32 {
        let p = &self.0;
        let d = |a: usize, b: usize| ((p[a].x - p[b].x).powi(2) + (p[a].y - p[b].y).powi(2)).sqrt();
        let ear = |s: usize| (d(s + 1, s + 5) + d(s + 2, s + 4)) / (2.0 * d(s, s + 3)).max(1e-3);
        (ear(36) + ear(42)) / 2.0
    }
}

pub struct LandmarkNet {
    model: Runnable,
}

impl LandmarkNet {
    /// Load from face-api's `face_landmark_68_model-weights_manifest.json`.
    pub fn load(manifest: &Path) -> Result<LandmarkNet, FaceError> {
        let weights = tfjs::load(manifest).map_err(|e| FaceError::Model(format!("landmark weights: {e}")))?;
        let proto = build_graph(&weights).map_err(|e| FaceError::Model(format!("landmark graph: {e}")))?;
        let model = tract_onnx::onnx()
            .model_for_proto_model(&proto)
            .and_then(|m| m.into_optimized())
            .and_then(|m| m.into_runnable())
            .map_err(|e| FaceError::Model(format!("landmarks: {e:#}")))?;
        Ok(LandmarkNet { model })
    }

    /// Landmarks of a detected face: a square crop around the detector's box
    /// (face-api crops its own detector's box, which covers the same brow-
    /// to-chin region), scaled to 112x112.
    pub fn landmarks(
        &self,
        rgb: &[u8],
        width: usize,
        height: usize,
        d: &Detection,
    ) -> Result<Landmarks, FaceError> {
        let side = d.w.max(d.h);
        let (x0, y0) = (d.x + d.w / 2.0 - side / 2.0, d.y + d.h / 2.0 - side / 2.0);
        let scale = side / INPUT as f32;
        let n = INPUT * INPUT;
        let mut input = vec![0f32; 3 * n];
        for y in 0..INPUT {
            for x in 0..INPUT {
                let (sx, sy) = (x0 + (x as f32 + 0.5) * scale - 0.5, y0 + (y as f32 + 0.5) * scale - 0.5);
                let px = super::align::sample_bilinear(rgb, width, height, sx, sy);
                for c in 0..3 {
                    input[c * n + y * INPUT + x] = (px[c] - MEAN_RGB[c]) / 255.0;
                }
            }
        }
        let tensor = Tensor::from_shape(&[1, 3, INPUT, INPUT], &input)
            .map_err(|e| FaceError::Inference(e.to_string()))?;
        let out = self.model.run(tvec!(tensor.into())).map_err(|e| FaceError::Inference(e.to_string()))?;
        let v = out[0].to_plain_array_view::<f32>().map_err(|e| FaceError::Inference(e.to_string()))?;
        let v: Vec<f32> = v.iter().copied().collect();
        if v.len() != 136 {
            return Err(FaceError::Model(format!("landmark net gave {} values, expected 136", v.len())));
        }
        Ok(Landmarks(v.chunks_exact(2).map(|p| Point { x: x0 + p[0] * side, y: y0 + p[1] * side }).collect()))
    }
}

fn get<'a>(w: &'a HashMap<String, Weights>, name: &str) -> Result<&'a Weights, String> {
    w.get(name).ok_or_else(|| format!("missing tensor {name}"))
}

/// TF [kh, kw, in, out] to ONNX [out, in, kh, kw].
fn to_oihw(t: &Weights) -> (Vec<usize>, Vec<f32>) {
    let [kh, kw, cin, cout] = t.shape[..] else { panic!("4-d filter expected") };
    let mut out = vec![0f32; t.values.len()];
    for y in 0..kh {
        for x in 0..kw {
            for i in 0..cin {
                for o in 0..cout {
                    out[((o * cin + i) * kh + y) * kw + x] = t.values[((y * kw + x) * cin + i) * cout + o];
                }
            }
        }
    }
    (vec![cout, cin, kh, kw], out)
}

/// TF "same" padding for a 3x3 kernel: stride 1 pads 1 all round; stride 2
/// on an even size pads one row and column after only.
fn same_pads(stride: i64) -> [i64; 4] {
    if stride == 1 { [1, 1, 1, 1] } else { [0, 0, 1, 1] }
}

fn separable(
    g: &mut GraphBuilder,
    w: &HashMap<String, Weights>,
    x: &str,
    prefix: &str,
    stride: i64,
) -> Result<String, String> {
    let dw = get(w, &format!("{prefix}/depthwise_filter"))?;
    let [kh, kw, c, _] = dw.shape[..] else { return Err(format!("{prefix}: depthwise filter not 4-d")) };
    // [kh, kw, C, 1] -> [C, 1, kh, kw]
    let mut dw_onnx = vec![0f32; dw.values.len()];
    for y in 0..kh {
        for xx in 0..kw {
            for ch in 0..c {
                dw_onnx[(ch * kh + y) * kw + xx] = dw.values[(y * kw + xx) * c + ch];
            }
        }
    }
    let a = g.conv_ext(x, &[c, 1, kh, kw], dw_onnx, None, stride, same_pads(stride), c as i64);
    let (shape, pw) = to_oihw(get(w, &format!("{prefix}/pointwise_filter"))?);
    let bias = get(w, &format!("{prefix}/bias"))?.values.clone();
    Ok(g.conv_ext(&a, &shape, pw, Some(bias), 1, [0; 4], 1))
}

fn dense_block(
    g: &mut GraphBuilder,
    w: &HashMap<String, Weights>,
    x: &str,
    name: &str,
    first: bool,
) -> Result<String, String> {
    let c0 = if first {
        let (shape, f) = to_oihw(get(w, &format!("{name}/conv0/filters"))?);
        let bias = get(w, &format!("{name}/conv0/bias"))?.values.clone();
        g.conv_ext(x, &shape, f, Some(bias), 2, same_pads(2), 1)
    } else {
        separable(g, w, x, &format!("{name}/conv0"), 2)?
    };
    let out1 = g.unary("Relu", &c0);
    let out2 = separable(g, w, &out1, &format!("{name}/conv1"), 1)?;
    let s12 = g.binary("Add", &out1, &out2);
    let in3 = g.unary("Relu", &s12);
    let out3 = separable(g, w, &in3, &format!("{name}/conv2"), 1)?;
    let s123 = g.binary("Add", &s12, &out3);
    let in4 = g.unary("Relu", &s123);
    let out4 = separable(g, w, &in4, &format!("{name}/conv3"), 1)?;
    let s1234 = g.binary("Add", &s123, &out4);
    Ok(g.unary("Relu", &s1234))
}

/// face-api's FaceLandmark68Net as ONNX, NCHW input `input` [1, 3, 112, 112],
/// output `landmarks` [1, 136].
pub fn build_graph(w: &HashMap<String, Weights>) -> Result<tract_onnx::pb::ModelProto, String> {
    let mut g = GraphBuilder::new("input", &[1, 3, INPUT as i64, INPUT as i64]);
    let mut x = "input".to_owned();
    for (i, name) in ["dense0", "dense1", "dense2", "dense3"].iter().enumerate() {
        x = dense_block(&mut g, w, &x, name, i == 0)?;
    }
    let pooled = g.avg_pool(&x, 7, 2); // 7x7 -> 1x1
    let flat = g.flatten(&pooled);
    let fc = get(w, "fc/weights")?;
    let fc_w = g.initializer(&[fc.shape[0] as i64, fc.shape[1] as i64], fc.values.clone());
    let fc_b = g.initializer(&[136], get(w, "fc/bias")?.values.clone());
    let m = g.binary("MatMul", &flat, &fc_w);
    let out = g.binary("Add", &m, &fc_b);
    Ok(g.finish(&out, "landmarks"))
}
