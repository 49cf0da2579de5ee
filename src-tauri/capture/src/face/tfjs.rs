//! Reading TF.js weight files (`*-weights_manifest.json` + `.bin`), the
//! format `@vladmandic/face-api` ships its models in.
//!
//! The manifest lists tensors in the order their bytes appear in the
//! concatenated `.bin` shards. Most are uint8-quantised: value = q x scale +
//! min (TF.js's affine quantisation); the rest are little-endian float32.

use std::collections::HashMap;
use std::path::Path;

#[derive(Debug, serde::Deserialize)]
struct Group {
    paths: Vec<String>,
    weights: Vec<Entry>,
}

#[derive(Debug, serde::Deserialize)]
struct Entry {
    name: String,
    shape: Vec<usize>,
    dtype: String,
    #[serde(default)]
    quantization: Option<Quantization>,
}

#[derive(Debug, serde::Deserialize)]
struct Quantization {
    dtype: String,
    scale: f32,
    min: f32,
}

/// A dequantised tensor: shape and values in row-major order.
#[derive(Debug, Clone, PartialEq)]
pub struct Weights {
    pub shape: Vec<usize>,
    pub values: Vec<f32>,
}

/// Load every tensor of a TF.js model. `manifest` is the JSON file; shards
/// are read from the same directory.
pub fn load(manifest: &Path) -> Result<HashMap<String, Weights>, String> {
    let dir = manifest.parent().unwrap_or(Path::new("."));
    let text = std::fs::read_to_string(manifest).map_err(|e| format!("{}: {e}", manifest.display()))?;
    let groups: Vec<Group> =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", manifest.display()))?;
    let mut out = HashMap::new();
    for g in groups {
        let mut bytes = Vec::new();
        for p in &g.paths {
            let path = dir.join(p);
            bytes.extend(std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?);
        }
        let mut at = 0usize;
        for e in g.weights {
            if e.dtype != "float32" {
                return Err(format!("{}: unsupported dtype {}", e.name, e.dtype));
            }
            let n: usize = e.shape.iter().product();
            let values = match &e.quantization {
                Some(q) if q.dtype == "uint8" => {
                    let raw =
                        bytes.get(at..at + n).ok_or_else(|| format!("{}: weights file too short", e.name))?;
                    at += n;
                    raw.iter().map(|&b| f32::from(b) * q.scale + q.min).collect()
                }
                Some(q) => return Err(format!("{}: unsupported quantisation {}", e.name, q.dtype)),
                None => {
                    let raw = bytes
                        .get(at..at + 4 * n)
                        .ok_or_else(|| format!("{}: weights file too short", e.name))?;
                    at += 4 * n;
                    raw.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()
                }
            };
            out.insert(e.name, Weights { shape: e.shape, values });
        }
        if at != bytes.len() {
            return Err(format!(
                "{}: {} bytes left over after the last tensor",
                manifest.display(),
                bytes.len() - at
            ));
        }
    }
    Ok(out)
}
