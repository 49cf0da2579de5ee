//! The face check on real photos (R1, R7, R8). Needs the models and test
//! faces from the install step (scripts/lib/models.sh, run by scripts/test):
//! missing models fail these tests, they are not skipped.
//!
//! Test faces: three portraits and two partial crops of one person, and a
//! portrait of another, from the test suite of PyPI `face-recognition`
//! 1.3.0 (MIT; White House photographs, public domain); group photos from
//! npm `@vladmandic/face-api` (MIT).

use capture::face::liveness::{Challenge, LivenessFailure};
use capture::face::quality::QualityIssue;
use capture::face::{FaceChecker, FaceConfig, FaceError, FaceModels, Template, default_models_dir};
use capture::frame::file::read_image;
use capture::frame::{Frame, PixelFormat};
use capture::photo::capture_frame;
use custody_core::policy::Policy;
use custody_core::record::MediaPurpose;
use std::sync::{Arc, OnceLock};

fn checker() -> &'static FaceChecker {
    static CHECKER: OnceLock<FaceChecker> = OnceLock::new();
    CHECKER.get_or_init(|| {
        let models = FaceModels::load(&default_models_dir())
            .unwrap_or_else(|e| panic!("{e} (the install step scripts/lib/models.sh provides them)"));
        FaceChecker::new(Arc::new(models), FaceConfig::from_policy(&Policy::default()))
    })
}

fn face(name: &str) -> Frame {
    let path = default_models_dir().join("faces").join(name);
    read_image(&path).unwrap_or_else(|e| panic!("{}: {e} (run the install step)", path.display()))
}

fn map_rgb(f: &Frame, op: impl Fn(u8) -> u8) -> Frame {
    Frame::new(f.width(), f.height(), PixelFormat::Rgb8, f.rgb().iter().map(|&v| op(v)).collect()).unwrap()
}

fn resized(f: &Frame, w: u32, h: u32) -> Frame {
    let img = image::imageops::resize(&f.to_rgb_image(), w, h, image::imageops::FilterType::Triangle);
    Frame::new(w, h, PixelFormat::Rgb8, img.into_raw()).unwrap()
}

fn blurred(f: &Frame, sigma: f32) -> Frame {
    let img = image::imageops::blur(&f.to_rgb_image(), sigma);
    Frame::new(f.width(), f.height(), PixelFormat::Rgb8, img.into_raw()).unwrap()
}

#[test]
fn r1_landmarks_sit_on_the_face_and_read_open_eyes() {
    let c = checker();
    for name in ["obama.jpg", "obama2.jpg", "obama3.jpg", "biden.jpg"] {
        let a = c.analyse(&face(name)).unwrap();
        let ear = a.landmarks.eye_aspect_ratio();
        println!("{name}: eye aspect ratio {ear:.3}");
        // Measured 0.27-0.30 on these open-eyed portraits.
        assert!((0.22..0.36).contains(&ear), "{name}: {ear}");
        // The landmark eye centres agree with the detector's eye keypoints
        // to within a fifth of the eye distance.
        let p = &a.landmarks.0;
        let centre = |r: std::ops::Range<usize>| {
            let n = r.len() as f32;
            let (sx, sy) = r.fold((0.0, 0.0), |(x, y), i| (x + p[i].x, y + p[i].y));
            (sx / n, sy / n)
        };
        let d = &a.detection;
        for ((lx, ly), k) in [(centre(36..42), d.right_eye), (centre(42..48), d.left_eye)] {
            let off = ((lx - k.x).powi(2) + (ly - k.y).powi(2)).sqrt();
            assert!(off < 0.2 * d.eye_distance(), "{name}: landmark eye {off} px from the keypoint");
        }
    }
}

#[test]
fn models_load_with_an_id_naming_versions_and_checksums() {
    let id = checker().models().id();
    assert!(id.starts_with("blazeface-front-128@"), "{id}");
    assert!(id.contains("landmark68(face-api-1.7.15)@") && id.ends_with("align=dlib68-v1"), "{id}");
    assert!(id.contains("dlib-resnet-v1(face-api-1.7.15)@"), "{id}");
    let missing = FaceModels::load(std::path::Path::new("/nonexistent")).err().unwrap();
    assert!(missing.to_string().contains("setup_models"), "{missing}");
}

#[test]
fn r1_same_person_matches_and_another_person_does_not() {
    let c = checker();
    let obama = c.analyse(&face("obama.jpg")).unwrap();
    for (other, same) in [
        ("obama2.jpg", true),
        ("obama3.jpg", true),
        ("obama_partial_face.jpg", true),
        ("obama_partial_face2.jpg", true),
        ("biden.jpg", false),
    ] {
        let a = c.analyse(&face(other)).unwrap();
        let cmp = c.compare(&obama.descriptor, &a.descriptor);
        println!("obama vs {other}: distance {:.3} score {:.3}", cmp.distance, cmp.score);
        assert_eq!(cmp.matched, same, "{other}: {cmp:?}");
        // Margins measured: same person d <= 0.48, the other person d >= 0.80.
        if same {
            assert!(cmp.distance < 0.5, "{other}: {cmp:?}");
        } else {
            assert!(cmp.distance > 0.75, "{other}: {cmp:?}");
        }
    }
}

#[test]
fn r7_check_produces_the_record_form_and_the_server_recheck_agrees() {
    let c = checker();
    let reference = c.enroll(&face("obama.jpg")).unwrap();
    // Templates are serialisable (the app encrypts them at rest).
    let json = serde_json::to_string(&reference).unwrap();
    let reference: Template = serde_json::from_str(&json).unwrap();

    let photo = capture_frame(&face("obama2.jpg"), MediaPurpose::Face).unwrap();
    let frame = Frame::decode(&photo.bytes).unwrap();
    let (check, analysis) = c.check(&reference, &frame, photo.media.sha256, None).unwrap();
    assert!(check.matched, "{check:?}");
    assert_eq!(check.threshold_milli, 700);
    assert!(check.score_milli >= 700 && check.score_milli <= 1000);
    assert_eq!(check.photo, photo.media.sha256);
    assert_eq!(check.model, c.models().id());
    assert!(check.liveness.is_none());
    assert!(analysis.issues.is_empty());

    let ok = c.recheck(&check, &photo.bytes, &reference, 5).unwrap();
    assert!(ok.agrees, "{ok:?}");
    // A recorded score the photo does not support is caught.
    let mut inflated = check.clone();
    inflated.score_milli = 990;
    assert!(!c.recheck(&inflated, &photo.bytes, &reference, 5).unwrap().agrees);
    // A different photo than the one the record names is caught.
    let other = capture_frame(&face("obama3.jpg"), MediaPurpose::Face).unwrap();
    assert!(!c.recheck(&check, &other.bytes, &reference, 5).unwrap().agrees);

    let biden = capture_frame(&face("biden.jpg"), MediaPurpose::Face).unwrap();
    let (no, _) =
        c.check(&reference, &Frame::decode(&biden.bytes).unwrap(), biden.media.sha256, None).unwrap();
    assert!(!no.matched && no.score_milli < 700, "{no:?}");

    let mut foreign = reference.clone();
    foreign.model = "some-other-model".into();
    let e = c.check(&foreign, &frame, photo.media.sha256, None).unwrap_err();
    assert!(matches!(e, FaceError::ModelMismatch { .. }));
    assert!(e.message_zh().contains("重新采集"));
}

#[test]
fn r7_poor_photos_are_refused_with_the_reason() {
    let c = checker();
    let obama = face("obama.jpg");
    let good = c.analyse(&obama).unwrap();
    println!("good: {:?}", good.quality);
    assert!(good.issues.is_empty(), "{:?}", good.issues);

    let dark = c.analyse(&map_rgb(&obama, |v| v / 5)).unwrap();
    println!("dark: {:?}", dark.quality);
    assert!(dark.issues.contains(&QualityIssue::TooDark), "{:?}", dark.issues);

    let blur = c.analyse(&blurred(&obama, 6.0)).unwrap();
    println!("blurred: {:?}", blur.quality);
    assert!(blur.issues.contains(&QualityIssue::Blurred), "{:?}", blur.issues);

    let small = resized(&obama, obama.width() / 6, obama.height() / 6);
    match c.analyse(&small) {
        Ok(a) => {
            println!("small: {:?}", a.quality);
            assert!(a.issues.contains(&QualityIssue::TooSmall), "{:?}", a.issues);
        }
        Err(e) => assert!(matches!(e, FaceError::NoFace), "{e}"),
    }
    let e = c.enroll(&map_rgb(&obama, |v| v / 5)).unwrap_err();
    assert!(e.message_zh().contains("光线太暗"), "{}", e.message_zh());
}

#[test]
fn r1_no_face_and_a_crowd_are_refused() {
    let c = checker();
    let blank = Frame::new(640, 480, PixelFormat::Luma8, vec![128; 640 * 480]).unwrap();
    assert!(matches!(c.analyse(&blank), Err(FaceError::NoFace)));
    let crowd = c.analyse(&face("sample6.jpg")).unwrap_err();
    assert!(matches!(crowd, FaceError::SeveralFaces), "{crowd}");
    assert!(crowd.message_zh().contains("多张人脸"));
}

#[test]
fn r8_a_photo_held_to_the_camera_fails_head_turn_and_blink() {
    // A burst of one still photo, moved a little between frames as a hand
    // holding a print would: no head turn, so the challenge fails.
    let c = checker();
    let still = face("obama.jpg");
    let (w, h) = (still.width(), still.height());
    let burst: Vec<Frame> = (0..8)
        .map(|i| {
            let img =
                image::imageops::crop_imm(&still.to_rgb_image(), i * 6, i * 3, w - 60, h - 30).to_image();
            Frame::new(w - 60, h - 30, PixelFormat::Rgb8, img.into_raw())
                .unwrap()
                .with_mono_ms(Some(1000 + 150 * u64::from(i)))
        })
        .collect();
    assert!(matches!(
        c.liveness(Challenge::TurnLeft, std::slice::from_ref(&still), None),
        Err(FaceError::Untimed)
    ));
    for (challenge, failure) in [
        (Challenge::TurnLeft, LivenessFailure::NoTurn),
        (Challenge::TurnRight, LivenessFailure::NoTurn),
        (Challenge::Blink, LivenessFailure::NoBlink),
    ] {
        let out = c.liveness(challenge, &burst, None).unwrap();
        assert_eq!(out.failure, Some(failure), "{out:?}");
        assert_eq!(out.frames, 8);
        let rec = out.to_record();
        assert!(!rec.passed && rec.frames == 8);
    }
}

#[test]
fn r7_the_record_check_uses_the_enrolled_reference_or_says_there_is_none() {
    use capture::face::step::{Burst, ReferenceCache};
    let c = checker();
    let reference = capture_frame(&face("obama.jpg"), MediaPurpose::Face).unwrap().bytes;
    let photo = capture_frame(&face("obama2.jpg"), MediaPurpose::Face).unwrap();
    let frame = Frame::decode(&photo.bytes).unwrap();
    let cache = ReferenceCache::default();

    let check = c.check_for_record(&frame, photo.media.sha256, Some(&reference), &cache, None).unwrap();
    assert!(check.matched, "{check:?}");
    assert_eq!(check.model, c.models().id());
    assert!(check.liveness.is_none());
    // The same reference again: the kept template gives the same result.
    let again = c.check_for_record(&frame, photo.media.sha256, Some(&reference), &cache, None).unwrap();
    assert_eq!(again, check);
    // Another person's reference photo replaces the kept template.
    let biden = capture_frame(&face("biden.jpg"), MediaPurpose::Face).unwrap().bytes;
    let other = c.check_for_record(&frame, photo.media.sha256, Some(&biden), &cache, None).unwrap();
    assert!(!other.matched, "{other:?}");

    // No reference enrolled with the real-name check: nothing to compare with.
    let none = c.check_for_record(&frame, photo.media.sha256, None, &cache, None).unwrap();
    assert!(!none.matched);
    assert_eq!(none.score_milli, 0);
    assert_eq!(none.threshold_milli, 700);
    assert!(none.model.ends_with("(no reference enrolled)"), "{}", none.model);

    // A liveness burst of one still photo: judged, and failed.
    let still: Vec<Frame> = (0..4).map(|i| frame.clone().with_mono_ms(Some(1000 + 150 * i))).collect();
    let burst = Burst { challenge: Challenge::TurnLeft, frames: &still };
    let live = c.check_for_record(&frame, photo.media.sha256, Some(&reference), &cache, Some(burst)).unwrap();
    assert!(live.matched);
    assert_eq!(live.liveness.map(|l| l.passed), Some(false));
    // A reference that is not a photo is an error, not a silent mismatch.
    let e = c.check_for_record(&frame, photo.media.sha256, Some(b"not a photo"), &cache, None).unwrap_err();
    assert!(matches!(e, FaceError::Photo(_)), "{e:?}");
}
