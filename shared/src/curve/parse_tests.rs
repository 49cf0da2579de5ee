//! Small hand-written files, one rule each (R12). The realistic exports
//! live in `shared/tests/curves/` and are read by `tests/curve_files.rs`.

use super::*;
use crate::verify::Lang;

fn ok(text: &str) -> MachineCurve {
    match parse(text.as_bytes()) {
        Ok(c) => c,
        Err(e) => panic!("{e}"),
    }
}

fn err(text: &str) -> CurveError {
    parse(text.as_bytes()).expect_err("should be refused")
}

#[test]
fn r12_header_separators_all_read() {
    let c = ok("试样编号：YK-1\nmachine: M-7\n试验项目,混凝土\n加载速率=0.5MPa/s\nstart\t2026-11-20 09:00\n\
                时间(s),力(kN)\n0,0\n1,2\n");
    assert_eq!(c.header.specimen.as_deref(), Some("YK-1"));
    assert_eq!(c.header.machine.as_deref(), Some("M-7"));
    assert_eq!(c.header.test.as_deref(), Some("混凝土"));
    assert_eq!(c.header.rate.as_deref(), Some("0.5MPa/s"));
    assert_eq!(c.header.started.as_deref(), Some("2026-11-20 09:00"));
    assert_eq!(c.header.units, vec!["s", "kN"]);
    assert_eq!(c.header.encoding, Some(TextEncoding::Utf8));
    assert_eq!(c.samples.len(), 2);
    assert_eq!(c.samples[1], Sample { t_s: 1.0, force_kn: 2.0, ext_mm: None });
}

#[test]
fn r12_dimensions_parse_with_units() {
    let c = ok("试件尺寸：150×150×150 mm\n面积：22500 mm²\n直径: Φ20\nL0(mm)=100\nLe: 50mm\n断后标距:\n\
                单位: s,kN,mm\nt,F,dL\n0,0,0\n");
    assert_eq!(c.header.cube_mm, Some(150.0));
    assert_eq!(c.header.area_mm2, Some(22500.0));
    assert_eq!(c.header.diameter_mm, Some(20.0));
    assert_eq!(c.header.gauge_mm, Some(100.0));
    assert_eq!(c.header.extensometer_gauge_mm, Some(50.0));
    assert_eq!(c.header.final_gauge_mm, None, "an empty value is absent");
    assert_eq!(c.header.units, vec!["s", "kN", "mm"]);
    assert_eq!(c.header.ext_source, Some(ExtSource::Extensometer));
}

#[test]
fn r12_units_without_a_table_unit_are_refused() {
    assert!(matches!(err("t,F,dL\n0,0,0\n"), CurveError::MissingUnit { line: 1, quantity: Quantity::Time }));
    assert!(matches!(
        err("时间单位: s\nt,F\n0,0\n"),
        CurveError::MissingUnit { line: 2, quantity: Quantity::Force }
    ));
    let c = ok("时间单位: ms\n力单位: N\nt,F\n0,0\n500,1500\n");
    assert_eq!(c.samples[1], Sample { t_s: 0.5, force_kn: 1.5, ext_mm: None });
}

#[test]
fn r12_wrong_units_are_refused() {
    let e = err("时间(s),力(kgf),位移(mm)\n0,0,0\n");
    assert_eq!(e, CurveError::WrongUnit { line: 1, quantity: Quantity::Force, unit: "kgf".into() });
    assert!(e.message(Lang::ZhCn).contains("第 1 行"));
    assert!(e.message(Lang::En).contains("kgf"));
    assert!(matches!(err("面积: 225 cm²\nt(s),F(kN)\n0,0\n"), CurveError::WrongUnit { line: 1, .. }));
    assert!(matches!(
        err("Time (min),F (kN)\n0,0\n"),
        CurveError::WrongUnit { quantity: Quantity::Time, .. }
    ));
    assert!(matches!(err("t(s),F(kN),位移(in)\n0,0,0\n"), CurveError::WrongUnit { .. }));
}

#[test]
fn r12_both_extension_columns_prefer_the_extensometer() {
    let c = ok("时间(s)\t力(kN)\t位移(mm)\t变形(mm)\n0\t0\t1.5\t0.01\n");
    assert_eq!(c.samples[0].ext_mm, Some(0.01));
    assert_eq!(c.header.ext_source, Some(ExtSource::Extensometer));
    let c = ok("时间(s),力(kN),位移(mm),序号\n0,0,1.5,1\n");
    assert_eq!(c.header.ext_source, Some(ExtSource::Crosshead));
    assert!(matches!(err("t(s),F(kN),F(N)\n0,0,0\n"), CurveError::DuplicateColumn { line: 1, .. }));
}

#[test]
fn r12_separators_spaces_semicolons_and_decimal_commas() {
    let c = ok("Time [s]    Force (kN)   Extension [mm]\n  0.0   0.5   0.01\n 0.1   1.0   0.02\n");
    assert_eq!(c.samples.len(), 2);
    let c = ok("Time [s];Force [kN]\n0,5;1,25\n");
    assert_eq!(c.samples[0], Sample { t_s: 0.5, force_kn: 1.25, ext_mm: None });
    let c = ok("\r\n时间(s),力(kN)\r\n0,1\r\n1,2\r\n\r\n");
    assert_eq!(c.samples.len(), 2);
    let c = ok("时间(s),力(kN)\r0,1\r1,2\r");
    assert_eq!(c.samples.len(), 2, "old Mac line ends");
}

#[test]
fn r12_footer_after_the_rows_is_read_like_a_header() {
    let c = ok("时间(s),力(kN)\n0,1\n1,2\n\n最大力(kN),2\n断后标距,123.5 mm\n");
    assert_eq!(c.samples.len(), 2);
    assert_eq!(c.header.other, vec![("最大力(kN)".to_owned(), "2".to_owned())]);
    assert_eq!(c.header.final_gauge_mm, Some(123.5));
}

#[test]
fn r12_a_label_between_rows_is_a_bad_row_not_a_footer() {
    assert_eq!(
        err("时间(s),力(kN)\n0,1\n最大力,2\n1,2\n"),
        CurveError::NonNumeric { line: 3, quantity: Quantity::Time, cell: "最大力".into() }
    );
}

#[test]
fn r12_a_file_of_line_ends_is_read_without_indexing_it() {
    assert_eq!(parse(&vec![b'\n'; MAX_BYTES]), Err(CurveError::NoTable { lines: MAX_BYTES + 1 }));
    let mut text = String::from("t(s),F(kN)\n0,1\n");
    text.push_str(&"\r\n".repeat(1_000_000));
    text.push_str("1,2");
    assert_eq!(ok(&text).samples.len(), 2);
}

#[test]
fn r12_truncation_is_named() {
    assert_eq!(
        err("时间(s),力(kN),位移(mm)\n0,1,0\n1,2"),
        CurveError::Truncated { line: 3, fields: 2, expected: 3 }
    );
    assert_eq!(
        err("时间(s),力(kN),位移(mm)\n0,1,0\n1.2e"),
        CurveError::Truncated { line: 3, fields: 1, expected: 3 }
    );
    assert_eq!(err("a: b\n时间(s),力(kN)\n"), CurveError::NoRows { line: 2 });
    assert_eq!(
        err("时间(s),力(kN)\n0,1\n2\n3,4\n"),
        CurveError::FieldCount { line: 3, fields: 1, expected: 2 }
    );
    assert_eq!(err("时间(s),力(kN)\n0,1,2\n"), CurveError::FieldCount { line: 2, fields: 3, expected: 2 });
    assert_eq!(err("试样编号: A\n"), CurveError::NoTable { lines: 2 });
    assert_eq!(err(""), CurveError::Empty);
}

#[test]
fn r12_bad_cells_are_named() {
    assert_eq!(
        err("时间(s),力(kN)\n0,1\n1,x\n"),
        CurveError::NonNumeric { line: 3, quantity: Quantity::Force, cell: "x".into() }
    );
    assert_eq!(
        err("时间(s),力(kN)\n0,NaN\n"),
        CurveError::NotFinite { line: 2, quantity: Quantity::Force, cell: "NaN".into() }
    );
    assert!(matches!(err("时间(s),力(kN)\ninf,1\n"), CurveError::NotFinite { line: 2, .. }));
    assert!(matches!(err("时间(s),力(kN)\n0,1e999\n"), CurveError::NotFinite { line: 2, .. }));
}

#[test]
fn r12_time_may_stand_still_but_not_go_back() {
    assert_eq!(ok("时间(s),力(kN)\n0,1\n0,2\n1,3\n").samples.len(), 3);
    assert_eq!(
        err("时间(ms),力(kN)\n0,1\n20,2\n10,3\n"),
        CurveError::TimeBackwards { line: 4, t_s: 0.01, previous_s: 0.02 }
    );
}

#[test]
fn r12_contradicting_header_lines_are_refused() {
    assert_eq!(
        err("试样编号: A\nspecimen: B\nt(s),F(kN)\n0,0\n"),
        CurveError::DuplicateKey { line: 2, key: "specimen".into() }
    );
    assert_eq!(ok("试样编号: A\n试样编号: A\nt(s),F(kN)\n0,0\n").header.specimen.as_deref(), Some("A"));
    assert!(matches!(
        err("试件尺寸: 150×100×150\nt(s),F(kN)\n0,0\n"),
        CurveError::BadHeaderValue { line: 1, .. }
    ));
    assert!(matches!(err("面积: -5\nt(s),F(kN)\n0,0\n"), CurveError::BadHeaderValue { line: 1, .. }));
}

#[test]
fn r12_encodings_detected() {
    let mut bom = vec![0xEF, 0xBB, 0xBF];
    bom.extend_from_slice("时间(s),力(kN)\n0,1\n".as_bytes());
    assert_eq!(parse(&bom).map(|c| c.header.encoding), Ok(Some(TextEncoding::Utf8Bom)));
    let (gbk, _, _) = encoding_rs::GBK.encode("试样编号：甲\n时间(s),力(kN)\n0,1\n");
    let c = parse(&gbk).expect("gbk");
    assert_eq!(c.header.encoding, Some(TextEncoding::Gb18030));
    assert_eq!(c.header.specimen.as_deref(), Some("甲"));
    // A BOM promises UTF-8: no second guess.
    bom.extend_from_slice(&[b'\n', 0xC3, 0x28]);
    assert_eq!(parse(&bom), Err(CurveError::BadBytes { line: 4 }));
    let mut bad = gbk.into_owned();
    bad.extend_from_slice(b"1,2\n\xFF\xFF\n");
    assert_eq!(parse(&bad), Err(CurveError::BadBytes { line: 5 }));
    assert_eq!(parse(&[0xFF, 0xFE, b'a', 0]), Err(CurveError::UnsupportedEncoding("UTF-16")));
    assert_eq!(parse(b"t(s),F(kN)\n\x000,1\n"), Err(CurveError::Binary { line: 2 }));
    assert_eq!(parse(b"t(s),F(kN)\n0,1\x07\n"), Err(CurveError::Binary { line: 2 }));
}

#[test]
fn r12_every_error_has_both_languages() {
    let errors = [
        CurveError::TooLarge { bytes: 2, max: 1 },
        CurveError::Empty,
        CurveError::Binary { line: 1 },
        CurveError::UnsupportedEncoding("UTF-16"),
        CurveError::BadBytes { line: 1 },
        CurveError::TooManyHeaderLines { line: 1, max: 1 },
        CurveError::BadHeaderValue { line: 1, key: "k".into(), value: "v".into() },
        CurveError::DuplicateKey { line: 1, key: "k".into() },
        CurveError::WrongUnit { line: 1, quantity: Quantity::Force, unit: "kgf".into() },
        CurveError::MissingUnit { line: 1, quantity: Quantity::Time },
        CurveError::NoTable { lines: 1 },
        CurveError::DuplicateColumn { line: 1, quantity: Quantity::Force },
        CurveError::NoRows { line: 1 },
        CurveError::Truncated { line: 1, fields: 1, expected: 2 },
        CurveError::FieldCount { line: 1, fields: 1, expected: 2 },
        CurveError::NonNumeric { line: 1, quantity: Quantity::Area, cell: "x".into() },
        CurveError::NotFinite { line: 1, quantity: Quantity::Length, cell: "x".into() },
        CurveError::TimeBackwards { line: 1, t_s: 0.0, previous_s: 1.0 },
        CurveError::TooManySamples { line: 1, max: 1 },
    ];
    for e in errors {
        let (zh, en) = (e.message(Lang::ZhCn), e.message(Lang::En));
        assert!(zh.starts_with("R12") && en.starts_with("R12"), "{zh} / {en}");
        assert_ne!(zh, en);
        assert!(!e.to_string().is_empty());
    }
}

#[test]
fn r12_caps_are_enforced() {
    assert_eq!(
        parse(&vec![b' '; MAX_BYTES + 1]),
        Err(CurveError::TooLarge { bytes: MAX_BYTES + 1, max: MAX_BYTES })
    );
    let mut text = String::from("t(s),F(kN)\n");
    text.push_str(&"0,1\n".repeat(MAX_SAMPLES + 1));
    assert_eq!(err(&text), CurveError::TooManySamples { line: MAX_SAMPLES + 2, max: MAX_SAMPLES });
    let text = "k: v\n".repeat(MAX_HEADER_LINES + 1);
    assert_eq!(
        err(&text),
        CurveError::TooManyHeaderLines { line: MAX_HEADER_LINES + 1, max: MAX_HEADER_LINES }
    );
}
