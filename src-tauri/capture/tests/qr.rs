//! The tag scanner on real photos and on our own tags under field
//! conditions (R6, R11, R16).
//!
//! Real photos: ZXing's blackbox sets, read in place from the project's
//! shared bench data (`../shared/bench-data/qr-zxing/` from the repository
//! root). Decode rates are asserted as floors measured on this code, not
//! as times (timing lives in `benches/scan.rs`).

use capture::frame::file::read_image;
use capture::qr::blackbox::{ZXING_FALSE_POSITIVES, ZXING_QR_SETS, load_dir, matches};
use capture::qr::synth::{Condition, Placement, scene, tag};
use capture::qr::tag::tag_from_scan;
use capture::qr::{Decoder, Prep, ScanConfig, Scanner, Strategy};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

fn zxing_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/bench-data/qr-zxing")
}

/// Correct reads of a scanner over qrcode-1…4, and every read that differs
/// from the expected text. qrcode-2/16.png holds two codes, one nested in
/// the other; ZXing expects the outer one, rxing reads the inner one first:
/// a true read of a real code, not a false one, so the tests allow it.
fn rate(scanner: &Scanner) -> (usize, usize, Vec<String>) {
    let (mut correct, mut total, mut wrong) = (0, 0, Vec::new());
    for set in ZXING_QR_SETS {
        let cases =
            load_dir(&zxing_root().join(set)).expect("ZXing set missing: is ../shared/bench-data there?");
        for case in cases {
            let Some(expected) = case.expected else { continue };
            total += 1;
            let frame = read_image(&case.image).unwrap();
            let out = scanner.scan(&frame);
            match out.codes.first() {
                Some(c) if matches(&expected, &c.text) => correct += 1,
                Some(c) => wrong.push(format!("{}: read {:?}", case.image.display(), c.text)),
                None => {}
            }
        }
    }
    (correct, total, wrong)
}

/// Measured: the cascade reads 143 of the 145 (135 before the mesh sampler
/// of issue 19; rxing alone 131, rqrr alone 92, the mesh sampler alone 121;
/// zxing-cpp 132 in the project's notes). The two it misses: qrcode-2/16
/// (it reads the inner of two nested codes, see [`rate`]) and qrcode-2/13
/// (a code filled with a photograph; no cascade step reads it, and the
/// strategies outside the cascade that do all read "photography" where
/// ZXing expects "photograph"). The floor is the measured figure: any
/// regression fails.
const CASCADE_FLOOR: usize = 143;

#[test]
fn r11_cascade_beats_every_single_decoder_on_the_zxing_photos() {
    let (cascade, total, wrong) = rate(&Scanner::new(ScanConfig::still()));
    assert_eq!(total, 145);
    assert!(wrong.iter().all(|w| w.contains("qrcode-2/16.png")), "wrong reads: {wrong:#?}");
    let (rxing, _, _) = rate(&Scanner::new(ScanConfig::only(
        Strategy { decoder: Decoder::RxingHybrid, prep: Prep::None },
        Duration::from_secs(10),
    )));
    println!("cascade {cascade}/145, rxing alone {rxing}/145");
    assert!(cascade >= CASCADE_FLOOR, "cascade read {cascade}, floor {CASCADE_FLOOR}");
    assert!(cascade > 132, "must beat zxing-cpp's 132 (best single decoder measured)");
    assert!(cascade > rxing);
}

#[test]
fn r16_pictures_without_a_code_read_as_nothing() {
    let cases = load_dir(&zxing_root().join(ZXING_FALSE_POSITIVES)).unwrap();
    assert_eq!(cases.len(), 25);
    // Every strategy, not only the cascade: none may invent a code.
    let all = ScanConfig { strategies: Strategy::all(), ..ScanConfig::still() };
    let scanners = [Scanner::new(ScanConfig::still()), Scanner::new(ScanConfig::live()), Scanner::new(all)];
    for case in cases {
        assert!(case.expected.is_none());
        let frame = read_image(&case.image).unwrap();
        for s in &scanners {
            let out = s.scan(&frame);
            assert!(out.codes.is_empty(), "{}: false read {:?}", case.image.display(), out.codes);
        }
    }
}

#[test]
fn r6_live_precheck_passes_nearly_every_readable_photo() {
    // The pre-check must not hide codes: on the real photos the cascade
    // reads, measure how many the live scanner (pre-check first) still reads.
    let (still, _, _) = rate(&Scanner::new(ScanConfig::still()));
    let live = ScanConfig { budget: Duration::from_secs(10), ..ScanConfig::live() };
    let (live_read, _, wrong) = rate(&Scanner::new(live));
    println!("live (pre-check first) {live_read}/145, still {still}/145");
    assert!(wrong.iter().all(|w| w.contains("qrcode-2/16.png")), "{wrong:#?}");
    // Measured: 138 of the cascade's 143 (the pre-check misses a few tiny
    // or very blurred codes; a live scanner gets another frame 33 ms later).
    assert!(live_read >= 138, "live read {live_read}");
}

fn read_tag(img: capture::qr::image_ops::Grey) -> Result<String, String> {
    let scanner = Scanner::new(ScanConfig::still());
    let out = scanner.scan_grey(Arc::from(img.data), img.width, img.height);
    tag_from_scan(&out, None)
        .map(|t| t.code.to_string())
        .map_err(|e| format!("{e} ({} attempts)", out.attempts))
}

fn rxing_alone(img: &capture::qr::image_ops::Grey) -> bool {
    let s = Scanner::new(ScanConfig::only(
        Strategy { decoder: Decoder::RxingHybrid, prep: Prep::None },
        Duration::from_secs(10),
    ));
    !s.scan_grey(Arc::from(img.data.clone()), img.width, img.height).codes.is_empty()
}

#[test]
fn r6_our_tags_read_under_field_conditions() {
    let code = tag(4242);
    let payload = code.qr_payload();
    // (condition, tag width in a 640x480 frame, whether rxing alone reads it:
    // measured, and the reason the cascade has more than one decoder).
    let conditions = [
        ("clean", Condition::Clean, 120.0, true),
        ("small (about 2 px a module)", Condition::Clean, 66.0, true),
        ("blurred", Condition::Blur(5), 160.0, true),
        ("tilted, far edge 60 %", Condition::Perspective(0.6), 180.0, true),
        ("tilted steeply, far edge 35 %", Condition::Perspective(0.35), 210.0, false),
        ("rotated 30°", Condition::Rotated(30.0), 150.0, true),
        ("rotated 135°", Condition::Rotated(135.0), 150.0, true),
        ("glare", Condition::Glare(0.22), 180.0, true),
        ("curved round a rebar", Condition::Curved(0.6), 200.0, true),
        ("dusk with sensor noise", Condition::LowLight { paper: 60, noise: 25 }, 160.0, false),
        ("mud over 8 % of the tag", Condition::Dirt(0.08), 180.0, true),
        // Read only since the mesh sampler (issue 19): the cascade before
        // missed radii 0.39-0.41 and glare of radius 0.25 and more.
        ("wrapped round a bar of radius 0.4 tag widths", Condition::Curved(0.4), 200.0, false),
        ("glare of radius 0.3 tag widths", Condition::Glare(0.30), 180.0, false),
    ];
    let mut failures = Vec::new();
    for (i, (name, cond, side, rxing_reads)) in conditions.iter().enumerate() {
        let img = scene(&payload, Placement::centred(640, 480, *side), *cond, 7 + i as u64);
        assert_eq!(rxing_alone(&img), *rxing_reads, "{name}: rxing alone");
        match read_tag(img) {
            Ok(read) => assert_eq!(read, code.to_string(), "{name}"),
            Err(e) => failures.push(format!("{name}: {e}")),
        }
    }
    assert!(failures.is_empty(), "unread: {failures:#?}");
}

#[test]
fn r6_live_scanner_reads_a_tag_in_a_720p_frame_and_skips_an_empty_one() {
    let code = tag(77);
    let live = Scanner::new(ScanConfig { budget: Duration::from_secs(10), ..ScanConfig::live() });
    let img = scene(
        &code.qr_payload(),
        Placement { width: 1280, height: 720, cx: 500.0, cy: 300.0, side: 200.0 },
        Condition::Clean,
        1,
    );
    let out = live.scan_grey(Arc::from(img.data), 1280, 720);
    assert!(!out.skipped_by_precheck);
    assert_eq!(tag_from_scan(&out, None).unwrap().code, code);
    // The same scene without a tag: the pre-check stops it before any decoder.
    let empty = scene(&code.qr_payload(), Placement::empty(1280, 720), Condition::Clean, 1);
    let out = live.scan_grey(Arc::from(empty.data), 1280, 720);
    assert!(out.skipped_by_precheck && out.attempts == 0);
}
