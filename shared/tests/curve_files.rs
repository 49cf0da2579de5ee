//! R12: machine curve files as labs export them. The samples in
//! `tests/curves/` are written by `tests/curves/make_samples.py`, apart from
//! the crate's own writer, so the parser is not only tested against itself.

use custody_core::curve::{CurveError, ExtSource, Quantity, TextEncoding, parse};
use custody_core::verify::Lang;
use proptest::prelude::*;

const CUBE_GBK: &[u8] = include_bytes!("curves/cube_c30_gbk.csv");
const REBAR_BOM: &[u8] = include_bytes!("curves/rebar_hrb400e_utf8_bom.csv");
const COUPLER_TAB: &[u8] = include_bytes!("curves/coupler_tab_english.txt");
const TRUNCATED: &[u8] = include_bytes!("curves/broken_truncated_gbk.csv");
const BACKWARDS: &[u8] = include_bytes!("curves/broken_time_backwards.csv");
const KGF: &[u8] = include_bytes!("curves/broken_unit_kgf.csv");
const BAD_BYTES: &[u8] = include_bytes!("curves/broken_gbk_bad_bytes.csv");

fn other<'a>(c: &'a custody_core::curve::MachineCurve, key: &str) -> Option<&'a str> {
    c.header.other.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

#[test]
fn r12_concrete_cube_gbk_with_chinese_headers() {
    let c = parse(CUBE_GBK).unwrap();
    let h = &c.header;
    assert_eq!(h.encoding, Some(TextEncoding::Gb18030));
    assert_eq!(h.specimen.as_deref(), Some("YK2611200347-2"));
    assert_eq!(h.machine.as_deref(), Some("YAW-2000B-0381"));
    assert_eq!(h.test.as_deref(), Some("混凝土立方体抗压强度"));
    assert_eq!(h.cube_mm, Some(150.0));
    assert_eq!(h.area_mm2, Some(22500.0));
    assert_eq!(h.rate.as_deref(), Some("0.8MPa/s"));
    assert_eq!(h.started.as_deref(), Some("2026-11-20 09:41:07"));
    assert_eq!(h.units, vec!["s", "kN", "mm"]);
    assert_eq!(h.ext_source, Some(ExtSource::Crosshead));
    // Reported results stay verbatim for the station to report.
    assert_eq!(other(&c, "最大力(kN)"), Some("803.52"));
    assert_eq!(other(&c, "抗压强度(MPa)"), Some("35.7"));
    assert_eq!(other(&c, "压力试验机试验数据"), Some(""));
    assert_eq!(c.samples.len(), 463);
    let peak = c.samples.iter().map(|s| s.force_kn).fold(f64::MIN, f64::max);
    assert_eq!(peak, 803.52);
    assert!(c.samples.windows(2).all(|w| w[0].t_s <= w[1].t_s));
}

#[test]
fn r12_rebar_utf8_bom_in_newtons_and_milliseconds() {
    let c = parse(REBAR_BOM).unwrap();
    let h = &c.header;
    assert_eq!(h.encoding, Some(TextEncoding::Utf8Bom));
    assert_eq!(h.specimen.as_deref(), Some("YK2611200412-1"), "the BOM is not part of the first key");
    assert_eq!(h.diameter_mm, Some(20.0));
    assert_eq!(h.area_mm2, Some(314.2));
    assert_eq!(h.gauge_mm, Some(100.0));
    assert_eq!(h.extensometer_gauge_mm, Some(50.0));
    assert_eq!(h.final_gauge_mm, Some(121.5));
    assert_eq!(h.units, vec!["ms", "N", "mm"]);
    assert_eq!(h.ext_source, Some(ExtSource::Extensometer));
    assert_eq!(other(&c, "下屈服强度(MPa)"), Some("452"));
    assert_eq!(other(&c, "牌号"), Some("HRB400E"));
    // 100 ms steps read as 0.1 s; N read as kN.
    assert_eq!(c.samples[1].t_s, 0.1);
    assert!((c.samples[1].force_kn - 0.7264).abs() < 1e-12);
    let fm = c.samples.iter().map(|s| s.force_kn).fold(f64::MIN, f64::max);
    let reported: f64 = other(&c, "最大力(N)").unwrap().parse().unwrap();
    assert!((fm * 1000.0 - reported).abs() < 0.5, "{fm} kN vs {reported} N");
    assert!(c.samples.last().unwrap().force_kn < 0.1, "fracture ends near zero");
}

#[test]
fn r12_tab_separated_english_export() {
    let c = parse(COUPLER_TAB).unwrap();
    let h = &c.header;
    assert_eq!(h.encoding, Some(TextEncoding::Utf8));
    assert_eq!(h.specimen.as_deref(), Some("YK2611200518-3"));
    assert_eq!(h.machine.as_deref(), Some("Zwick Z600 #4711"));
    assert_eq!(h.test.as_deref(), Some("coupler_tensile"));
    assert_eq!(h.area_mm2, Some(490.9));
    assert_eq!(h.gauge_mm, Some(125.0));
    assert_eq!(h.extensometer_gauge_mm, Some(50.0));
    assert_eq!(h.started.as_deref(), Some("2026-11-21T14:10:03+08:00"));
    assert_eq!(h.units, vec!["s", "N", "mm"]);
    assert_eq!(other(&c, "Break location"), Some("bar"));
    assert!(c.samples.len() > 300);
}

#[test]
fn r12_truncated_file_names_its_last_line() {
    let e = parse(TRUNCATED).unwrap_err();
    assert_eq!(e, CurveError::Truncated { line: 460, fields: 2, expected: 4 });
    assert!(e.message(Lang::ZhCn).contains("第 460 行"), "{}", e.message(Lang::ZhCn));
    assert!(e.message(Lang::En).contains("truncated"));
}

#[test]
fn r12_spliced_runs_go_back_in_time() {
    let e = parse(BACKWARDS).unwrap_err();
    assert!(matches!(e, CurveError::TimeBackwards { line: 214, .. }), "{e:?}");
}

#[test]
fn r12_kgf_is_not_a_force_unit_we_guess_from() {
    let e = parse(KGF).unwrap_err();
    assert_eq!(e, CurveError::WrongUnit { line: 13, quantity: Quantity::Force, unit: "kgf".into() });
}

#[test]
fn r12_gbk_with_bad_bytes_names_the_line() {
    assert_eq!(parse(BAD_BYTES), Err(CurveError::BadBytes { line: 101 }));
}

/// Replaces, inserts or deletes bytes of a valid file at chosen places.
fn mutate(base: &[u8], edits: &[(usize, u8, u8)]) -> Vec<u8> {
    let mut bytes = base.to_vec();
    for &(at, kind, byte) in edits {
        if bytes.is_empty() {
            break;
        }
        let at = at % bytes.len();
        match kind % 4 {
            0 => bytes[at] = byte,
            1 => bytes.insert(at, byte),
            2 => {
                bytes.remove(at);
            }
            _ => bytes.truncate(at),
        }
    }
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn r12_parse_never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = parse(&bytes);
    }

    #[test]
    fn r12_parse_never_panics_on_text_like_bytes(
        text in "[0-9a-zA-Z.,;:：\t\r\n (\\[)（）时间力位移NkmsΦ×e+-]{0,400}"
    ) {
        let _ = parse(text.as_bytes());
    }

    #[test]
    fn r12_parse_never_panics_on_mutated_files(
        which in 0usize..3,
        edits in proptest::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..8),
    ) {
        let base = [CUBE_GBK, REBAR_BOM, COUPLER_TAB][which];
        let mutated = mutate(base, &edits);
        if let Ok(c) = parse(&mutated) {
            // Whatever is accepted obeys the rules a parse promises.
            prop_assert!(c.samples.windows(2).all(|w| w[0].t_s <= w[1].t_s));
            prop_assert!(c.samples.iter().all(|s| s.t_s.is_finite() && s.force_kn.is_finite()));
            prop_assert!(!c.samples.is_empty());
        }
    }
}
