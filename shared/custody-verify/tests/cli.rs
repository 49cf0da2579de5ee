//! The verifier binary as a reader runs it (R14): a whole bag passes with
//! every step said in both languages; an altered byte, a removed file, an
//! added file, a bag-level forgery that rewrites the manifests each fail
//! with exit status 1 and the flaw named; a bad command line is status 2.
//! (The server's real exports are verified in sync-server's `export` test.)

use custody_core::archive::sample::{Built, build};
use custody_core::archive::{FORMAT, INDEX_FILE};
use std::path::Path;
use std::process::Command;

fn write_bag(b: &Built, dir: &Path) {
    for (path, bytes) in &b.files {
        let p = dir.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }
    std::fs::write(dir.join(INDEX_FILE), serde_json::to_vec_pretty(&b.index).unwrap()).unwrap();
    custody_verify::seal_bag(dir, &[("Source-Organization", "营口市建设工程质量检测监管 / test".into())])
        .unwrap();
}

fn verify(dir: &Path, extra: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_custody-verify")).arg(dir).args(extra).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn r14_a_whole_bag_passes_and_says_what_it_proved_in_both_languages() {
    let b = build();
    let dir = tempfile::tempdir().unwrap();
    write_bag(&b, dir.path());
    let key = b.server.public().to_string();
    let (code, text) = verify(dir.path(), &["--trust", &key]);
    assert_eq!(code, 0, "{text}");
    for want in [
        "BagIt 清单",
        "BagIt manifests",
        "7 条记录",
        "7 records",
        "检查点",
        "checkpoint",
        "结论：包完整",
        "Result: the archive is whole",
    ] {
        assert!(text.contains(want), "{want:?} missing from:\n{text}");
    }
    assert!(!text.contains("FLAW"), "{text}");
    // Machine-readable too.
    let (code, json) = verify(dir.path(), &["--json", "--trust", &key]);
    assert_eq!(code, 0);
    assert!(serde_json::from_str::<serde_json::Value>(&json).unwrap()["lines"].is_array());
    assert!(FORMAT.starts_with("custody-archive/"));
}

#[test]
fn r14_every_kind_of_tampering_fails_and_is_named() {
    let b = build();
    type Tamper = Box<dyn Fn(&Path)>;
    let cases: Vec<(&str, Tamper, &str)> = vec![
        (
            "a byte of a record changed",
            Box::new(|d: &Path| {
                let f = std::fs::read_dir(d.join("data/records")).unwrap().next().unwrap().unwrap().path();
                let mut bytes = std::fs::read(&f).unwrap();
                let i = bytes.len() / 2;
                bytes[i] ^= 1;
                std::fs::write(f, bytes).unwrap();
            }),
            "bag_file_altered",
        ),
        (
            "a media file removed",
            Box::new(|d: &Path| {
                let f = std::fs::read_dir(d.join("data/media")).unwrap().next().unwrap().unwrap().path();
                std::fs::remove_file(f).unwrap();
            }),
            "bag_file_missing",
        ),
        (
            "a file added",
            Box::new(|d: &Path| std::fs::write(d.join("data/extra.txt"), b"x").unwrap()),
            "bag_file_unlisted",
        ),
        (
            // A forger who rewrites a record and re-seals the bag passes
            // BagIt, and is caught by the record's own signature and id.
            "a record rewritten and the bag re-sealed",
            Box::new(|d: &Path| {
                let f = std::fs::read_dir(d.join("data/records")).unwrap().nth(3).unwrap().unwrap().path();
                let text = std::fs::read_to_string(&f).unwrap().replace("P-SAMPLER", "P-SAMPLEX");
                std::fs::write(f, text).unwrap();
                custody_verify::seal_bag(d, &[]).unwrap();
            }),
            "record_id_mismatch",
        ),
    ];
    for (what, tamper, code) in cases {
        let dir = tempfile::tempdir().unwrap();
        write_bag(&b, dir.path());
        tamper(dir.path());
        let (status, text) = verify(dir.path(), &[]);
        assert_eq!(status, 1, "{what}: {text}");
        assert!(
            text.contains(&format!("[{code}]")) && text.contains("FLAW"),
            "{what}: {code} not named:\n{text}"
        );
        assert!(text.contains("结论：发现") && text.contains("flaws found"), "{what}: {text}");
    }
}

#[test]
fn r14_a_wrong_command_line_or_a_missing_bag_is_status_2() {
    let (code, text) = verify(Path::new("/nonexistent/bag"), &[]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("无法读取") && text.contains("cannot read"), "{text}");
    let (code, text) = verify(Path::new("."), &["--trust", "not-a-key"]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("usage"), "{text}");
}
