//! The spot-check draw (R20) is only verifiable if someone else can redo it.
//! Two checks keep it so:
//!
//! - the committed vectors in `tests/vectors/draw/` (spec, beacon, expected
//!   result) pin the algorithm: any change to `draw()` fails here;
//! - `tests/draw/recompute.py` at the repository root, a standard-library
//!   Python implementation written from the algorithm's description, must
//!   agree with `draw()` on every vector and on generated specs: a change to
//!   either side alone fails here.
//!
//! To refill the vectors' `expected` after an intended change (which needs a
//! new algorithm version, as published draws must stay recomputable):
//! `REGENERATE_DRAW_VECTORS=1 cargo test -p custody-core --test draw`.

use custody_core::Hash;
use custody_core::oversight::draw::{DrawResult, DrawSpec, DrawTarget, draw};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;

fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/draw")
}

fn recompute_script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/draw/recompute.py")
}

fn vector_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(vectors_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(files.len() >= 3, "expected the committed draw vectors in {}", vectors_dir().display());
    files
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// `draw()` on a vector file's (or generated file's) inputs.
fn rust_draw(published: &Value) -> DrawResult {
    let spec: DrawSpec = serde_json::from_value(published["spec"].clone()).unwrap();
    let beacon = hex::decode(published["beacon_hex"].as_str().unwrap()).unwrap();
    draw(&spec, &beacon).unwrap()
}

/// Runs `python3` (from PATH) with `args`; a missing python3 fails the test.
fn python3(args: &[&std::ffi::OsStr]) -> std::process::Output {
    // -B: no __pycache__ left in the repository.
    Command::new("python3").arg("-B").args(args).output().unwrap_or_else(|e| {
        panic!(
            "cannot run python3 ({e}): the draw's independent recomputation needs Python 3 on PATH \
             (Debian: apt-get install python3); this test does not skip without it"
        )
    })
}

/// What `python3 tests/draw/recompute.py <path>` prints, parsed.
fn python_draw(path: &Path) -> Value {
    let output = python3(&[recompute_script().as_os_str(), path.as_os_str()]);
    assert!(
        output.status.success(),
        "recompute.py failed on {}: {}",
        path.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("recompute.py printed something other than JSON ({e})"))
}

#[test]
fn committed_vectors_match_draw() {
    for path in vector_files() {
        let mut vector = read_json(&path);
        let got = serde_json::to_value(rust_draw(&vector)).unwrap();
        if std::env::var_os("REGENERATE_DRAW_VECTORS").is_some() {
            vector["expected"] = got;
            std::fs::write(&path, serde_json::to_string_pretty(&vector).unwrap() + "\n").unwrap();
            continue;
        }
        assert_eq!(
            got,
            vector["expected"],
            "{}: draw() no longer gives the committed result",
            path.display()
        );
    }
}

#[test]
fn python_recomputes_the_vectors() {
    for path in vector_files() {
        let vector = read_json(&path);
        let rust = serde_json::to_value(rust_draw(&vector)).unwrap();
        assert_eq!(python_draw(&path), rust, "{}: recompute.py disagrees with draw()", path.display());
    }
}

/// Draw weights are u32, so a real draw rejects a word with probability
/// below 2^-32 and the vectors never exercise rejection. Here Python's
/// `uniform` runs alone with n = 2^63 + 1 (about half the words rejected),
/// checked against the rule as written: keep the words below
/// `limit = (2^64 - 1) - ((2^64 - 1) mod n)`, reduce them mod n.
#[test]
fn python_rejects_the_words_the_rule_rejects() {
    let seed = Hash::of(b"rejection");
    let n: u64 = (1 << 63) + 1;
    let limit = u64::MAX - u64::MAX % n;
    let mut expected = Vec::new();
    for block in 0u64..4 {
        let block = Hash::of(&[seed.as_bytes().as_slice(), &block.to_be_bytes()].concat());
        for word in block.as_bytes().chunks(8) {
            let x = u64::from_be_bytes(word.try_into().unwrap());
            if x < limit {
                expected.push(x % n);
            }
        }
    }
    assert!((2..14).contains(&expected.len()), "pick a seed where some words are rejected");
    let program = format!(
        "import json, sys; sys.path.insert(0, {dir:?}); import recompute; \
         s = recompute.Stream(bytes.fromhex({seed:?})); print(json.dumps([s.below({n}) for _ in range({k})]))",
        dir = recompute_script().parent().unwrap().to_str().unwrap(),
        seed = seed.to_hex(),
        k = expected.len(),
    );
    let output = python3(&["-c".as_ref(), program.as_ref()]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let got: Vec<u64> = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(got, expected);
}

/// splitmix64: a fixed sequence, so the generated specs are the same on every run.
struct Numbers(u64);

impl Numbers {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// In `lo..=hi` (slightly biased; these are test inputs, not draws).
    fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }

    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.between(0, from.len() as u64 - 1) as usize]
    }
}

/// Titles and labels that canonical JSON must encode identically on both sides.
const TEXTS: &[&str] = &[
    "营口市建设工程质量检测抽查",
    "Quarterly spot check",
    "",
    "quote \" and backslash \\",
    "line\nbreak\ttab\r\u{8}\u{c}",
    "control \u{1}\u{1f}\u{7f}",
    "🏗 outside the BMP, \u{2028}\u{2029} separators",
    "全角：“双随机、一公开”（R20）",
    "</script>&<>'",
];

fn generated(case: u64) -> Value {
    let mut n = Numbers(case);
    let target_total = n.between(1, 30);
    let pool = n.between(1, 15);
    let targets: Vec<DrawTarget> = (0..target_total)
        .map(|i| {
            // Mostly small weights (1 + a few warnings), sometimes huge ones.
            let weight = match n.between(0, 9) {
                0 => n.between(1, u64::from(u32::MAX)),
                1..=3 => 1,
                _ => n.between(1, 12),
            } as u32;
            DrawTarget { id: format!("proj-{case}-{i}"), weight, label: n.pick(TEXTS).to_owned() }
        })
        .collect();
    let spec = DrawSpec {
        draw_id: format!("gen-{case}"),
        title: n.pick(TEXTS).to_owned(),
        announced_ms: n.between(0, (1 << 53) - 1) as i64 - (1 << 52),
        targets,
        inspectors: (0..pool).map(|i| format!("insp~{case}.{i}")).collect(),
        target_count: n.between(1, target_total) as u32,
        inspectors_per_target: n.between(1, pool) as u32,
    };
    let beacon: Vec<u8> = (0..n.between(0, 120)).map(|_| n.next() as u8).collect();
    json!({ "spec": spec, "beacon_hex": hex::encode(beacon) })
}

#[test]
fn python_recomputes_generated_specs() {
    let dir = std::env::temp_dir().join(format!("custody-draw-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for case in 0..20 {
        let published = generated(case);
        let path = dir.join(format!("gen-{case}.json"));
        std::fs::write(&path, serde_json::to_vec_pretty(&published).unwrap()).unwrap();
        let rust = serde_json::to_value(rust_draw(&published)).unwrap();
        assert_eq!(python_draw(&path), rust, "generated case {case}: recompute.py disagrees with draw()");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
