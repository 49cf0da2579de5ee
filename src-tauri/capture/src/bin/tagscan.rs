//! `tagscan`: the product's QR scanner and face check on your own files.
//!
//! ```text
//! tagscan [--live] [--verbose] IMAGE|VIDEO…    one line per picture: FILE<TAB>PAYLOAD, or FILE<TAB>-
//! tagscan --tag IMAGE…                         FILE<TAB>tag digits, or FILE<TAB>-<TAB>why
//! tagscan --check DIR…                         ZXing-style folders (N.png + N.txt): rate and misses
//! tagscan --face REFERENCE IMAGE… [--models DIR]
//!                                              FILE<TAB>score<TAB>match|no-match|error<TAB>details
//! ```
//!
//! Payloads are printed with `\t`, `\n`, `\r` and `\\` escaped, so one
//! picture is always one line. Videos (.y4m, .mjpeg) print `FILE#N` per
//! frame. Exit status: 0 when every picture was read, 1 when any was not, 2
//! on usage errors.

use capture::face::{FaceChecker, FaceConfig, FaceModels, default_models_dir};
use capture::frame::Frame;
use capture::frame::file::{open_video, read_image};
use capture::qr::blackbox::{is_image, load_dir, matches};
use capture::qr::tag::tag_from_scan;
use capture::qr::{ScanConfig, Scanner};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

const USAGE: &str = "usage: tagscan [--live] [--verbose] IMAGE…
       tagscan --tag IMAGE…
       tagscan --check DIR…
       tagscan --face REFERENCE IMAGE… [--models DIR]
用法：tagscan 图片…（每行输出：文件<TAB>二维码内容，未识别为 -）";

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |args: &mut Vec<String>, name: &str| -> bool {
        let before = args.len();
        args.retain(|a| a != name);
        args.len() != before
    };
    if args.is_empty() || flag(&mut args, "--help") || flag(&mut args, "-h") {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    }
    let live = flag(&mut args, "--live");
    let verbose = flag(&mut args, "--verbose");
    let tag = flag(&mut args, "--tag");
    let check = flag(&mut args, "--check");
    let face = flag(&mut args, "--face");
    let models = match args.iter().position(|a| a == "--models") {
        Some(i) if i + 1 < args.len() => {
            let dir = PathBuf::from(args.remove(i + 1));
            args.remove(i);
            dir
        }
        Some(_) => {
            eprintln!("--models needs a directory\n{USAGE}");
            return ExitCode::from(2);
        }
        None => default_models_dir(),
    };
    if let Some(unknown) = args.iter().find(|a| a.starts_with("--")) {
        eprintln!("unknown option {unknown}\n{USAGE}");
        return ExitCode::from(2);
    }
    if face {
        return face_mode(&args, &models);
    }
    let scanner = Scanner::new(if live { ScanConfig::live() } else { ScanConfig::still() });
    if check {
        return check_mode(&scanner, &args);
    }
    let mut all_read = true;
    for file in &args {
        let path = Path::new(file);
        let frames: Vec<(String, Result<Frame, String>)> = if is_image(path) || !is_video(path) {
            vec![(file.clone(), read_image(path).map_err(|e| e.to_string()))]
        } else {
            match video_frames(path) {
                Ok(frames) => {
                    frames.into_iter().enumerate().map(|(i, f)| (format!("{file}#{i}"), f)).collect()
                }
                Err(e) => vec![(file.clone(), Err(e))],
            }
        };
        for (name, frame) in frames {
            let frame = match frame {
                Ok(f) => f,
                Err(e) => {
                    println!("{name}\t-\terror: {e}");
                    all_read = false;
                    continue;
                }
            };
            let out = scanner.scan(&frame);
            let extra = if verbose {
                let by = out.codes.first().map(|c| c.strategy.name()).unwrap_or_default();
                format!("\t{by}\t{:.1} ms", out.elapsed.as_secs_f64() * 1e3)
            } else {
                String::new()
            };
            if tag {
                match tag_from_scan(&out, None) {
                    Ok(t) => println!("{name}\t{}{extra}", t.code),
                    Err(e) => {
                        all_read = false;
                        println!("{name}\t-\t{e} / {}{extra}", e.message_zh());
                    }
                }
            } else if let Some(c) = out.codes.first() {
                println!("{name}\t{}{extra}", escape(&c.text));
            } else {
                all_read = false;
                println!("{name}\t-{extra}");
            }
        }
    }
    if all_read { ExitCode::SUCCESS } else { ExitCode::from(1) }
}

fn is_video(p: &Path) -> bool {
    matches!(p.extension().and_then(|e| e.to_str()), Some("y4m" | "mjpeg" | "mjpg"))
}

fn video_frames(p: &Path) -> Result<Vec<Result<Frame, String>>, String> {
    let mut src = open_video(p).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    loop {
        match src.next_frame() {
            Ok(Some(f)) => out.push(Ok(f)),
            Ok(None) => return Ok(out),
            Err(e) => {
                out.push(Err(e.to_string()));
                return Ok(out);
            }
        }
    }
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('\t', "\\t").replace('\n', "\\n").replace('\r', "\\r")
}

fn check_mode(scanner: &Scanner, dirs: &[String]) -> ExitCode {
    let (mut coded, mut correct, mut false_reads, mut wrong) = (0, 0, 0, 0);
    for dir in dirs {
        let cases = match load_dir(Path::new(dir)) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("{dir}: {e}");
                return ExitCode::from(2);
            }
        };
        for case in cases {
            let name = case.image.display().to_string();
            let frame = match read_image(&case.image) {
                Ok(f) => f,
                Err(e) => {
                    println!("{name}\terror\t{e}");
                    continue;
                }
            };
            let out = scanner.scan(&frame);
            let got = out.codes.first().map(|c| c.text.as_str());
            let verdict = match (&case.expected, got) {
                (Some(e), Some(g)) if matches(e, g) => {
                    correct += 1;
                    "ok"
                }
                (Some(_), Some(_)) => {
                    wrong += 1;
                    "WRONG"
                }
                (Some(_), None) => "missed",
                (None, Some(_)) => {
                    false_reads += 1;
                    "FALSE-READ"
                }
                (None, None) => "ok (no code)",
            };
            coded += usize::from(case.expected.is_some());
            println!("{name}\t{verdict}\t{:.1} ms", out.elapsed.as_secs_f64() * 1e3);
        }
    }
    println!(
        "read {correct} of {coded} coded pictures correctly; {wrong} wrong reads; {false_reads} reads in pictures without a code"
    );
    if correct == coded && wrong == 0 && false_reads == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) }
}

fn face_mode(args: &[String], models: &Path) -> ExitCode {
    let Some((reference, probes)) = args.split_first() else {
        eprintln!("--face needs a reference image and images to compare\n{USAGE}");
        return ExitCode::from(2);
    };
    let loaded = match FaceModels::load(models) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("{e}\n{}", e.message_zh());
            return ExitCode::from(2);
        }
    };
    let checker = FaceChecker::new(Arc::new(loaded), FaceConfig::from_policy(&Default::default()));
    let reference_frame = match read_image(Path::new(reference)) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{reference}: {e}");
            return ExitCode::from(2);
        }
    };
    let reference = match checker.analyse(&reference_frame) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{reference}: {e} / {}", e.message_zh());
            return ExitCode::from(2);
        }
    };
    println!("# models {}", checker.models().id());
    println!("# threshold {:.3}", checker.config().threshold);
    let mut ok = true;
    for p in probes {
        let result = read_image(Path::new(p))
            .map_err(|e| e.to_string())
            .and_then(|f| checker.analyse(&f).map_err(|e| format!("{e} / {}", e.message_zh())));
        match result {
            Ok(a) => {
                let c = checker.compare(&reference.descriptor, &a.descriptor);
                let issues: Vec<&str> = a.issues.iter().map(|i| i.message_en()).collect();
                println!(
                    "{p}\t{:.3}\t{}\tdistance {:.3}; eyes {:.0} px; sharpness {:.0}; yaw {:.2}{}",
                    c.score,
                    if c.matched { "match" } else { "no-match" },
                    c.distance,
                    a.quality.eye_distance_px,
                    a.quality.sharpness,
                    a.quality.yaw,
                    if issues.is_empty() {
                        String::new()
                    } else {
                        format!("; quality: {}", issues.join(", "))
                    }
                );
            }
            Err(e) => {
                ok = false;
                println!("{p}\t-\terror\t{e}");
            }
        }
    }
    if ok { ExitCode::SUCCESS } else { ExitCode::from(1) }
}
