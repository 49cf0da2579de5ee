//! Folders of test photos in ZXing's "blackbox" layout: `N.png` (or .jpg,
//! .jpeg, .gif) beside `N.txt` holding the exact expected text. A folder
//! without `.txt` files is a set of pictures that must read as *nothing*
//! (false-positive sets). Used by the tests, the benchmark and
//! `tagscan --check`, so a lab can measure the scanner on its own photos
//! laid out the same way.

use std::path::{Path, PathBuf};

/// One photo and what it should read as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    pub image: PathBuf,
    /// `None`: the picture carries no code.
    pub expected: Option<String>,
}

const IMAGE_EXTENSIONS: &[&str] = &["png", "jpg", "jpeg", "gif"];

pub fn is_image(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// The cases of one folder, sorted by file name for stable reports.
pub fn load_dir(dir: &Path) -> std::io::Result<Vec<Case>> {
    let mut cases = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if !is_image(&path) {
            continue;
        }
        let txt = path.with_extension("txt");
        let expected = match std::fs::read(&txt) {
            Ok(bytes) => Some(String::from_utf8_lossy(&bytes).into_owned()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(e),
        };
        cases.push(Case { image: path, expected });
    }
    cases.sort_by_key(|c| natural_key(&c.image));
    Ok(cases)
}

/// Sort `2.png` before `10.png`.
fn natural_key(p: &Path) -> (u64, String) {
    let stem = p.file_stem().and_then(|s| s.to_str()).unwrap_or("");
    (stem.parse().unwrap_or(u64::MAX), stem.to_owned())
}

/// Whether a decoded text matches the expected one. Exact, except that a
/// trailing line break in the `.txt` file (added by editors) is not part of
/// the payload.
pub fn matches(expected: &str, decoded: &str) -> bool {
    decoded == expected || decoded == expected.trim_end_matches(['\n', '\r'])
}

/// The ZXing QR sets measured in the project's notes, relative to the
/// repository root: `../shared/bench-data/qr-zxing/`.
pub const ZXING_QR_SETS: &[&str] = &["qrcode-1", "qrcode-2", "qrcode-3", "qrcode-4"];
pub const ZXING_FALSE_POSITIVES: &str = "falsepositives-2";
