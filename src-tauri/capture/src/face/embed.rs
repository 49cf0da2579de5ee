//! The face descriptor: dlib's 128-d ResNet (`dlib_face_recognition_resnet_model_v1`),
//! from the weights `@vladmandic/face-api` ships as TF.js files.
//!
//! The network is rebuilt here as an ONNX graph (in memory, from the
//! published architecture in face-api's `faceRecognitionNet`) and run by
//! tract, so no conversion tool is needed at install time and the crate
//! stays pure Rust. Each conv's "scale" layer (y = (conv + bias) * w + b) is
//! folded into the conv's weights and bias. Input: a 150x150 RGB face chip
//! aligned the way dlib aligns (see [`super::align`]). Two descriptors of
//! the same person are close in Euclidean distance (dlib's own rule:
//! distance < 0.6 is the same person, 99.38 % on LFW).

use super::onnx::GraphBuilder;
use super::tfjs::{self, Weights};
use super::{FaceError, Runnable};
use std::collections::HashMap;
use std::path::Path;
use tract_onnx::prelude::*;

/// Side of the square face chip the network takes.
pub const CHIP_SIZE: usize = 150;
/// Mean RGB subtracted before the network (face-api's `normalize`).
const MEAN_RGB: [f32; 3] = [122.782, 117.001, 104.298];

/// A 128-d face descriptor.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Descriptor(pub Vec<f32>);

impl Descriptor {
    pub fn distance(&self, other: &Descriptor) -> f32 {
        self.0.iter().zip(&other.0).map(|(a, b)| (a - b) * (a - b)).sum::<f32>().sqrt()
    }
}

pub struct Embedder {
    model: Runnable,
}

impl Embedder {
    /// Load from face-api's `face_recognition_model-weights_manifest.json`.
    pub fn load(manifest: &Path) -> Result<Embedder, FaceError> {
        let weights =
            tfjs::load(manifest).map_err(|e| FaceError::Model(format!("face descriptor weights: {e}")))?;
        let proto =
            build_graph(&weights).map_err(|e| FaceError::Model(format!("face descriptor graph: {e}")))?;
        let model = tract_onnx::onnx()
            .model_for_proto_model(&proto)
            .and_then(|m| m.into_optimized())
            .and_then(|m| m.into_runnable())
            .map_err(|e| FaceError::Model(format!("face descriptor: {e:#}")))?;
        Ok(Embedder { model })
    }

    /// Descriptor of an aligned 150x150 RGB chip.
    pub fn embed(&self, chip_rgb: &[u8]) -> Result<Descriptor, FaceError> {
        assert_eq!(chip_rgb.len(), CHIP_SIZE * CHIP_SIZE * 3, "chip size");
        let n = CHIP_SIZE * CHIP_SIZE;
        let mut input = vec![0f32; 3 * n];
        for (i, px) in chip_rgb.chunks_exact(3).enumerate() {
            for c in 0..3 {
                input[c * n + i] = (f32::from(px[c]) - MEAN_RGB[c]) / 255.0;
            }
        }
        let tensor = Tensor::from_shape(&[1, 3, CHIP_SIZE, CHIP_SIZE], &input)
            .map_err(|e| FaceError::Inference(e.to_string()))?;
        let out = self.model.run(tvec!(tensor.into())).map_err(|e| FaceError::Inference(e.to_string()))?;
        let v = out[0].to_plain_array_view::<f32>().map_err(|e| FaceError::Inference(e.to_string()))?;
        Ok(Descriptor(v.iter().copied().collect()))
    }
}

fn get<'a>(w: &'a HashMap<String, Weights>, name: &str) -> Result<&'a Weights, String> {
    w.get(name).ok_or_else(|| format!("missing tensor {name}"))
}

/// A conv with its scale layer folded in: weights in ONNX layout
/// [out, in, kh, kw].
struct FoldedConv {
    shape: Vec<usize>,
    weights: Vec<f32>,
    bias: Vec<f32>,
}

fn folded_conv(w: &HashMap<String, Weights>, prefix: &str) -> Result<FoldedConv, String> {
    let filters = get(w, &format!("{prefix}/conv/filters"))?;
    let bias = get(w, &format!("{prefix}/conv/bias"))?;
    let sw = get(w, &format!("{prefix}/scale/weights"))?;
    let sb = get(w, &format!("{prefix}/scale/biases"))?;
    let [kh, kw, cin, cout] = filters.shape[..] else { return Err(format!("{prefix}: filters not 4-d")) };
    let mut onnx = vec![0f32; cout * cin * kh * kw];
    for y in 0..kh {
        for x in 0..kw {
            for i in 0..cin {
                for o in 0..cout {
                    let tf = ((y * kw + x) * cin + i) * cout + o;
                    onnx[((o * cin + i) * kh + y) * kw + x] = filters.values[tf] * sw.values[o];
                }
            }
        }
    }
    let b = (0..cout).map(|o| bias.values[o] * sw.values[o] + sb.values[o]).collect();
    Ok(FoldedConv { shape: vec![cout, cin, kh, kw], weights: onnx, bias: b })
}

/// face-api's FaceRecognitionNet as an ONNX graph, NCHW, input `input`
/// [1, 3, 150, 150], output `descriptor` [1, 128].
pub fn build_graph(w: &HashMap<String, Weights>) -> Result<tract_onnx::pb::ModelProto, String> {
    let mut g = GraphBuilder::new("input", &[1, 3, CHIP_SIZE as i64, CHIP_SIZE as i64]);
    let mut size = CHIP_SIZE; // spatial side, tracked to know when to pad
    let mut channels;

    let conv = |g: &mut GraphBuilder,
                x: &str,
                prefix: &str,
                stride: i64,
                same: bool,
                relu: bool|
     -> Result<String, String> {
        let c = folded_conv(w, prefix)?;
        let pad = if same { (c.shape[2] / 2) as i64 } else { 0 };
        let y = g.conv(x, &c.shape, c.weights, c.bias, stride, pad);
        Ok(if relu { g.unary("Relu", &y) } else { y })
    };

    // conv32_down: 7x7 stride 2 valid, then max pool 3 stride 2 valid.
    let mut x = conv(&mut g, "input", "conv32_down", 2, false, true)?;
    size = (size - 7) / 2 + 1;
    x = g.max_pool(&x, 3, 2);
    size = (size - 3) / 2 + 1;
    channels = 32;

    let residual = |g: &mut GraphBuilder, x: &str, name: &str| -> Result<String, String> {
        let a = conv(g, x, &format!("{name}/conv1"), 1, true, true)?;
        let b = conv(g, &a, &format!("{name}/conv2"), 1, true, false)?;
        let s = g.binary("Add", &b, x);
        Ok(g.unary("Relu", &s))
    };
    let residual_down = |g: &mut GraphBuilder,
                         x: &str,
                         name: &str,
                         size: &mut usize,
                         channels: &mut usize|
     -> Result<String, String> {
        let out_channels = get(w, &format!("{name}/conv1/conv/filters"))?.shape[3];
        let a = conv(g, x, &format!("{name}/conv1"), 2, false, true)?;
        let mut b = conv(g, &a, &format!("{name}/conv2"), 1, true, false)?;
        let conv_size = (*size - 3) / 2 + 1;
        let pool_size = *size / 2;
        let mut pooled = g.avg_pool(x, 2, 2);
        if conv_size != pool_size {
            // face-api appends one row and one column of zeros.
            b = g.pad(&b, [0, 0, 0, 0, 0, 0, 1, 1]);
        }
        if out_channels != *channels {
            pooled = g.pad(&pooled, [0, 0, 0, 0, 0, (out_channels - *channels) as i64, 0, 0]);
        }
        *size = pool_size;
        *channels = out_channels;
        let s = g.binary("Add", &pooled, &b);
        Ok(g.unary("Relu", &s))
    };

    for r in ["conv32_1", "conv32_2", "conv32_3"] {
        x = residual(&mut g, &x, r)?;
    }
    x = residual_down(&mut g, &x, "conv64_down", &mut size, &mut channels)?;
    for r in ["conv64_1", "conv64_2", "conv64_3"] {
        x = residual(&mut g, &x, r)?;
    }
    x = residual_down(&mut g, &x, "conv128_down", &mut size, &mut channels)?;
    for r in ["conv128_1", "conv128_2"] {
        x = residual(&mut g, &x, r)?;
    }
    x = residual_down(&mut g, &x, "conv256_down", &mut size, &mut channels)?;
    for r in ["conv256_1", "conv256_2"] {
        x = residual(&mut g, &x, r)?;
    }
    x = residual_down(&mut g, &x, "conv256_down_out", &mut size, &mut channels)?;
    let pooled = g.unary("GlobalAveragePool", &x); // [1, 256, 1, 1]
    let flat = g.flatten(&pooled);
    let fc = get(w, "fc")?;
    let fc_name = g.initializer(&[fc.shape[0] as i64, fc.shape[1] as i64], fc.values.clone());
    let out = g.binary("MatMul", &flat, &fc_name);
    Ok(g.finish(&out, "descriptor"))
}
