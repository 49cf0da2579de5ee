//! The `tagscan` command as a lab or an admin runs it on their own files.

use std::path::PathBuf;
use std::process::Command;

fn zxing(rel: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/bench-data/qr-zxing")
        .join(rel)
        .display()
        .to_string()
}

#[test]
fn r11_one_line_per_file_with_payload_or_dash() {
    let (coded, blank) = (zxing("qrcode-1/1.png"), zxing("falsepositives-2/01.png"));
    let out = Command::new(env!("CARGO_BIN_EXE_tagscan")).args([&coded, &blank]).output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    // Payloads are printed with backslash, tab and line breaks escaped.
    let expected = std::fs::read_to_string(zxing("qrcode-1/1.txt")).unwrap().replace('\\', "\\\\");
    assert_eq!(lines, vec![format!("{coded}\t{expected}"), format!("{blank}\t-")]);
    assert_eq!(out.status.code(), Some(1), "one file had no code");

    let usage = Command::new(env!("CARGO_BIN_EXE_tagscan")).output().unwrap();
    assert_eq!(usage.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&usage.stderr).contains("用法"));
}

#[test]
fn r1_face_mode_prints_scores() {
    let faces = capture::face::default_models_dir().join("faces");
    let f = |n: &str| faces.join(n).display().to_string();
    let out = Command::new(env!("CARGO_BIN_EXE_tagscan"))
        .args(["--face", &f("obama.jpg"), &f("obama2.jpg"), &f("biden.jpg")])
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let rows: Vec<Vec<&str>> =
        stdout.lines().filter(|l| !l.starts_with('#')).map(|l| l.split('\t').collect()).collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0][2], "match");
    assert_eq!(rows[1][2], "no-match");
    let score: f32 = rows[0][1].parse().unwrap();
    assert!(score >= 0.70, "{score}");
}
