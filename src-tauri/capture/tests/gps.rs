//! GPS fixes from recorded tracks, through the same sources and collector
//! the app uses (R7–R9). The tracks in tests/data are described (and made)
//! by tests/data/make_tracks.py.

use capture::gps::{
    CollectError, CollectPolicy, FixCollector, JsonTrack, LocationSource, NmeaSource, NotCounted, Offer,
    PlatformPosition, collect, open_track, push_channel,
};
use custody_core::place::{FixProvider, SiteBoundary};
use custody_core::policy::Policy;
use std::path::PathBuf;

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name)
}

fn all_fixes(name: &str) -> Vec<custody_core::place::Fix> {
    let mut src = open_track(&data(name), 50_000).unwrap();
    let mut out = Vec::new();
    while let Some(f) = src.next_fix().unwrap() {
        out.push(f);
    }
    out
}

/// The fixture site of custody-core (150 m x 200 m in Yingkou).
fn site() -> SiteBoundary {
    custody_core::fixtures::site()
}

#[test]
fn r7_a_walk_on_site_gives_accurate_timed_fixes_inside_the_site() {
    let fixes = all_fixes("site-walk.nmea");
    // 13 epochs: the first has no fix yet (cold start) and yields nothing.
    assert_eq!(fixes.len(), 12);
    for (i, f) in fixes.iter().enumerate() {
        assert_eq!(f.provider, FixProvider::Nmea);
        assert!(!f.mock);
        assert!((180..=300).contains(&f.accuracy_cm), "GST accuracy, got {}", f.accuracy_cm);
        assert_eq!(f.satellites, Some(14));
        // Monotonic readings advance with the satellites' clock, 1 s apart.
        assert_eq!(f.mono_ms, 50_000 + 1000 * i as u64);
        assert!(f.gnss_time_ms.is_some());
    }
    let policy = Policy::default();
    let c = collect(
        &mut open_track(&data("site-walk.nmea"), 50_000).unwrap(),
        CollectPolicy::from_policy(&policy),
        50_000,
        false,
    )
    .unwrap()
    .unwrap();
    assert!(!c.mock_seen && c.jump_mps.is_none());
    // 15 s window from the first fix: all 12 counted.
    assert_eq!(c.fixes.len(), 12);
    match site().locate(&c.best, policy.accuracy_sigma) {
        custody_core::place::Containment::Inside { .. } => {}
        other => panic!("best fix should be inside the site: {other:?}"),
    }
}

#[test]
fn r7_without_gst_accuracy_comes_from_hdop() {
    let fixes = all_fixes("site-hdop.nmea");
    assert_eq!(fixes.len(), 7);
    assert!(fixes.iter().all(|f| f.accuracy_cm == 550), "1.1 HDOP x 5 m UERE");
}

#[test]
fn r9_a_jumping_track_is_reported() {
    let c = collect(
        &mut open_track(&data("jump.nmea"), 0).unwrap(),
        CollectPolicy::from_policy(&Policy::default()),
        0,
        false,
    )
    .unwrap()
    .unwrap();
    let speed = c.jump_mps.expect("30 km in one second is implausible");
    assert!(speed > 10_000.0, "{speed}");
}

#[test]
fn r9_simulated_and_mocked_fixes_are_kept_and_flagged() {
    let sim = all_fixes("simulator.nmea");
    assert_eq!(sim.len(), 5);
    assert!(sim.iter().all(|f| f.mock), "receiver in simulator mode");

    let mut track =
        JsonTrack::new(std::io::BufReader::new(std::fs::File::open(data("mocked.jsonl")).unwrap()));
    let c =
        collect(&mut track, CollectPolicy::from_policy(&Policy::default()), 100_000, false).unwrap().unwrap();
    assert!(c.mock_seen);
    assert_eq!(c.fixes.iter().filter(|f| f.mock).count(), 3, "mock fixes stay in the evidence");
    assert!(!c.best.mock, "the best fix is a non-mock one when there is one");
}

#[test]
fn r7_too_few_accurate_fixes_is_a_clear_error_and_stale_fixes_do_not_count() {
    let mut policy = CollectPolicy::from_policy(&Policy::default());
    policy.max_accuracy_m = 2.0; // tighter than the walk's 2.2-3 m late fixes
    policy.min_fixes = 20;
    let r = collect(&mut open_track(&data("site-walk.nmea"), 0).unwrap(), policy.clone(), 0, false).unwrap();
    let e = r.unwrap_err();
    assert!(matches!(e, CollectError::TooFew { need: 20, .. }), "{e:?}");
    assert!(e.message_zh().contains("定位不足"));

    let fixes = all_fixes("site-walk.nmea");
    let mut c = FixCollector::new(CollectPolicy::from_policy(&Policy::default()), 60_000);
    assert_eq!(
        c.offer(fixes[0].clone()),
        Offer::NotCounted(NotCounted::Stale),
        "taken before the capture began"
    );
    let mut late = fixes[1].clone();
    late.mono_ms = 60_000 + 16_000;
    assert_eq!(c.offer(late), Offer::NotCounted(NotCounted::Late));
    let mut poor = fixes[2].clone();
    poor.mono_ms = 61_000;
    poor.accuracy_cm = 90_00;
    assert_eq!(c.offer(poor), Offer::NotCounted(NotCounted::Inaccurate));
}

#[test]
fn r7_phone_positions_convert_and_desktop_zeros_are_refused() {
    let (tx, mut rx) = push_channel();
    let p = PlatformPosition {
        latitude: 40.6656,
        longitude: 122.2361,
        accuracy: 4.2,
        provider: Some("gps".into()),
        mock: Some(false),
        gnss_time_ms: Some(1_764_000_000_000),
        satellites: Some(11),
    };
    tx.push(&p, 123).unwrap();
    let zero = PlatformPosition {
        latitude: 0.0,
        longitude: 0.0,
        accuracy: 0.0,
        provider: None,
        mock: None,
        gnss_time_ms: None,
        satellites: None,
    };
    let e = tx.push(&zero, 124).unwrap_err();
    assert!(e.message_zh().contains("0°/0°"));
    drop(tx);
    let f = rx.next_fix().unwrap().unwrap();
    assert_eq!((f.provider, f.accuracy_cm, f.mono_ms, f.satellites), (FixProvider::Gnss, 420, 123, Some(11)));
    assert!(rx.next_fix().unwrap().is_none(), "the zero position was never queued");
}

#[test]
fn live_nmea_is_stamped_by_the_given_clock() {
    let text = std::fs::read_to_string(data("site-hdop.nmea")).unwrap();
    let mut t = 7_000u64;
    let mut src = NmeaSource::live(
        std::io::Cursor::new(text),
        Box::new(move || {
            t += 10;
            t
        }),
    );
    let a = src.next_fix().unwrap().unwrap();
    let b = src.next_fix().unwrap().unwrap();
    assert_eq!((a.mono_ms, b.mono_ms), (7_010, 7_020));
    assert_eq!(src.refused_lines(), 0);
}

/// A JSON-lines track recorded on another boot replays on this one: the first
/// fix lands at the collection's start, the spacing between fixes is kept (so
/// speeds and the window stay true), and the collector counts them.
#[test]
fn a_recorded_json_track_replays_from_the_collection_start() {
    let raw: Vec<_> = {
        let mut src =
            JsonTrack::new(std::io::BufReader::new(std::fs::File::open(data("mocked.jsonl")).unwrap()));
        std::iter::from_fn(|| src.next_fix().unwrap()).collect()
    };
    let start = 9_000_000_000;
    let mut src = open_track(&data("mocked.jsonl"), start).unwrap();
    let replayed: Vec<_> = std::iter::from_fn(|| src.next_fix().unwrap()).collect();
    assert_eq!(replayed.len(), raw.len());
    assert_eq!(replayed[0].mono_ms, start);
    for (r, o) in replayed.iter().zip(&raw) {
        assert_eq!(r.mono_ms - start, o.mono_ms - raw[0].mono_ms);
        assert_eq!((r.pos, r.accuracy_cm, r.mock), (o.pos, o.accuracy_cm, o.mock));
    }
}
