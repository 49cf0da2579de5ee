//! Writing a curve as a machine exports it (R12), for the simulator and
//! `field-sim machine`: the two styles labs actually meet.
//!
//! * [`FileStyle::GbkChinese`]: a Chinese Windows lab PC. GBK bytes (written
//!   with the GB18030 encoder, which gives the same bytes for every GBK
//!   character and still encodes the rare one GBK lacks), CRLF, `键：值`
//!   with a full-width colon, comma-separated `时间(s),力(kN),位移(mm)`.
//! * [`FileStyle::Utf8English`]: foreign or newer software. UTF-8 without a
//!   BOM, LF, `Key: value`, tab-separated `Time [ms]<TAB>Force [N]<TAB>Extension [mm]`
//!   (milliseconds and newtons, so the parser's conversions are exercised).
//!
//! Resolution is 1 ms, 1 N and 0.1 µm, what the simulator produces, so its
//! curves round-trip exactly through [`super::parse`]. The extension column
//! is written when every sample has one. Header text loses line breaks, and
//! keys lose the characters that would split them, since neither can
//! survive a line-based format.

use super::{CurveHeader, ExtSource, MachineCurve};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileStyle {
    GbkChinese,
    Utf8English,
}

/// The file a machine would write for `curve`.
pub fn to_file(curve: &MachineCurve, style: FileStyle) -> Vec<u8> {
    let zh = style == FileStyle::GbkChinese;
    let (colon, eol) = if zh { ("：", "\r\n") } else { (": ", "\n") };
    let mut out = String::new();
    for (key, value) in header_lines(&curve.header, zh) {
        out.push_str(&clean_key(&key));
        out.push_str(colon);
        out.push_str(&clean_value(&value));
        out.push_str(eol);
    }
    out.push_str(eol);

    let with_ext = !curve.samples.is_empty() && curve.samples.iter().all(|s| s.ext_mm.is_some());
    let extensometer = curve.header.ext_source == Some(ExtSource::Extensometer);
    let ext_label = match (zh, extensometer) {
        (true, true) => ",变形(mm)",
        (true, false) => ",位移(mm)",
        (false, true) => "\tExtension [mm]",
        (false, false) => "\tDisplacement [mm]",
    };
    out.push_str(if zh { "时间(s),力(kN)" } else { "Time [ms]\tForce [N]" });
    if with_ext {
        out.push_str(ext_label);
    }
    out.push_str(eol);
    for s in &curve.samples {
        let ext = s.ext_mm.filter(|_| with_ext);
        let row = match (zh, ext) {
            (true, Some(x)) => format!("{:.3},{:.3},{:.4}", s.t_s, s.force_kn, x),
            (true, None) => format!("{:.3},{:.3}", s.t_s, s.force_kn),
            (false, Some(x)) => format!("{:.0}\t{:.0}\t{:.4}", s.t_s * 1000.0, s.force_kn * 1000.0, x),
            (false, None) => format!("{:.0}\t{:.0}", s.t_s * 1000.0, s.force_kn * 1000.0),
        };
        out.push_str(&row);
        out.push_str(eol);
    }
    if zh { encoding_rs::GB18030.encode(&out).0.into_owned() } else { out.into_bytes() }
}

/// The mapped fields under the style's keys, then `other` as it came.
fn header_lines(h: &CurveHeader, zh: bool) -> Vec<(String, String)> {
    let k = |chinese: &str, english: &str| if zh { chinese.to_owned() } else { english.to_owned() };
    let mm = |v: f64| format!("{v} mm");
    let mut lines = Vec::new();
    let mut add = |key: String, value: Option<String>| {
        if let Some(value) = value {
            lines.push((key, value));
        }
    };
    add(k("试样编号", "Specimen"), h.specimen.clone());
    add(k("设备编号", "Machine"), h.machine.clone());
    add(k("试验项目", "Test"), h.test.clone());
    add(k("试件尺寸", "Cube size"), h.cube_mm.map(mm));
    add(k("直径", "Diameter"), h.diameter_mm.map(mm));
    add(k("面积", "Area"), h.area_mm2.map(|v| format!("{v} mm2")));
    add(k("原始标距", "Gauge length"), h.gauge_mm.map(mm));
    add(k("引伸计标距", "Extensometer gauge"), h.extensometer_gauge_mm.map(mm));
    add(k("断后标距", "Final gauge"), h.final_gauge_mm.map(mm));
    add(k("加载速率", "Rate"), h.rate.clone());
    add(k("开始时间", "Start"), h.started.clone());
    lines.extend(h.other.iter().cloned());
    lines
}

/// The parser trims values and drops separators a spreadsheet leaves at the end.
fn clean_value(value: &str) -> String {
    let value = value.replace(['\r', '\n'], " ");
    value.trim_end_matches(|c: char| c.is_whitespace() || matches!(c, ',' | ';')).trim().to_owned()
}

fn clean_key(key: &str) -> String {
    key.replace(['\r', '\n', '：', ':', '=', '\t', ',', '，'], " ").trim().to_owned()
}
