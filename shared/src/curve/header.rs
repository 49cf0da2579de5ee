//! The words of a machine file: header keys and their values, column names
//! and their units. Kept apart from the line-by-line parser so the tables
//! of synonyms (what Chinese and foreign machine software write) are read
//! in one place.

use super::ExtSource;
use super::error::Quantity;

/// A header field the parser maps (the rest go to `other` verbatim).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Field {
    Specimen,
    Machine,
    Test,
    Area,
    Cube,
    Diameter,
    Gauge,
    ExtensometerGauge,
    FinalGauge,
    Rate,
    Started,
    /// Column units for the whole table, in column order (`单位: s,kN,mm`).
    Units,
    /// The unit of one quantity's column (`力单位: kN`).
    UnitOf(Quantity),
}

/// Keys as machines write them, compared after [`normalise`]. Exact matches
/// only: `开始时间` must not be taken for the column `时间`, nor `最大力` for `力`.
const KEYS: &[(&str, Field)] = &[
    ("试样编号", Field::Specimen),
    ("试件编号", Field::Specimen),
    ("样品编号", Field::Specimen),
    ("specimen", Field::Specimen),
    ("specimen id", Field::Specimen),
    ("sample id", Field::Specimen),
    ("设备编号", Field::Machine),
    ("试验机", Field::Machine),
    ("试验机编号", Field::Machine),
    ("machine", Field::Machine),
    ("machine id", Field::Machine),
    ("试验项目", Field::Test),
    ("test", Field::Test),
    ("面积", Field::Area),
    ("截面积", Field::Area),
    ("横截面积", Field::Area),
    ("原始横截面积", Field::Area),
    ("s0", Field::Area),
    ("area", Field::Area),
    ("试件尺寸", Field::Cube),
    ("边长", Field::Cube),
    ("cube size", Field::Cube),
    ("直径", Field::Diameter),
    ("公称直径", Field::Diameter),
    ("diameter", Field::Diameter),
    ("标距", Field::Gauge),
    ("原始标距", Field::Gauge),
    ("l0", Field::Gauge),
    ("gauge", Field::Gauge),
    ("gauge length", Field::Gauge),
    ("引伸计标距", Field::ExtensometerGauge),
    ("le", Field::ExtensometerGauge),
    ("extensometer gauge", Field::ExtensometerGauge),
    ("断后标距", Field::FinalGauge),
    ("lu", Field::FinalGauge),
    ("final gauge", Field::FinalGauge),
    ("加载速率", Field::Rate),
    ("rate", Field::Rate),
    ("loading rate", Field::Rate),
    ("试验日期", Field::Started),
    ("开始时间", Field::Started),
    ("start", Field::Started),
    ("started", Field::Started),
    ("单位", Field::Units),
    ("units", Field::Units),
    ("时间单位", Field::UnitOf(Quantity::Time)),
    ("time unit", Field::UnitOf(Quantity::Time)),
    ("力单位", Field::UnitOf(Quantity::Force)),
    ("force unit", Field::UnitOf(Quantity::Force)),
    ("位移单位", Field::UnitOf(Quantity::Extension)),
    ("变形单位", Field::UnitOf(Quantity::Extension)),
    ("extension unit", Field::UnitOf(Quantity::Extension)),
];

/// A column the parser reads; any other column (序号, 应力, strain…) is skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Column {
    Time,
    Force,
    Ext(ExtSource),
}

const COLUMNS: &[(&str, Column)] = &[
    ("时间", Column::Time),
    ("试验时间", Column::Time),
    ("time", Column::Time),
    ("t", Column::Time),
    ("力", Column::Force),
    ("试验力", Column::Force),
    ("负荷", Column::Force),
    ("荷载", Column::Force),
    ("载荷", Column::Force),
    ("force", Column::Force),
    ("load", Column::Force),
    ("f", Column::Force),
    ("引伸计", Column::Ext(ExtSource::Extensometer)),
    ("变形", Column::Ext(ExtSource::Extensometer)),
    ("伸长", Column::Ext(ExtSource::Extensometer)),
    ("extension", Column::Ext(ExtSource::Extensometer)),
    ("elongation", Column::Ext(ExtSource::Extensometer)),
    ("dl", Column::Ext(ExtSource::Extensometer)),
    ("δl", Column::Ext(ExtSource::Extensometer)),
    ("位移", Column::Ext(ExtSource::Crosshead)),
    ("横梁位移", Column::Ext(ExtSource::Crosshead)),
    ("活塞位移", Column::Ext(ExtSource::Crosshead)),
    ("displacement", Column::Ext(ExtSource::Crosshead)),
    ("position", Column::Ext(ExtSource::Crosshead)),
    ("stroke", Column::Ext(ExtSource::Crosshead)),
];

/// Lowercase ASCII, trimmed, inner whitespace and underscores as one space:
/// `Specimen_ID`, `specimen  id` and `Specimen ID` are one key.
pub(super) fn normalise(key: &str) -> String {
    key.split(|c: char| c.is_whitespace() || c == '_')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Splits `力(kN)`, `Force [N]`, `时间（s）`, `Force/kN` into name and unit.
/// The unit is `None` when the name carries none.
pub(super) fn split_unit(label: &str) -> (&str, Option<&str>) {
    let label = label.trim();
    for (open, close) in [('(', ')'), ('（', '）'), ('[', ']')] {
        if let Some(start) = label.find(open) {
            let name = label.get(..start).unwrap_or_default();
            let rest = label.get(start + open.len_utf8()..).unwrap_or_default();
            let unit = rest.split(close).next().unwrap_or_default();
            return (name.trim(), Some(unit.trim()).filter(|u| !u.is_empty()));
        }
    }
    if let Some((name, unit)) = label.split_once('/') {
        return (name.trim(), Some(unit.trim()).filter(|u| !u.is_empty()));
    }
    (label, None)
}

pub(super) fn field(key: &str) -> Option<Field> {
    let (name, _) = split_unit(key);
    let name = normalise(name);
    KEYS.iter().find(|(k, _)| *k == name).map(|(_, f)| *f)
}

pub(super) fn column(label: &str) -> Option<Column> {
    let (name, _) = split_unit(label);
    let name = normalise(name);
    COLUMNS.iter().find(|(k, _)| *k == name).map(|(_, c)| *c)
}

/// Splits a header line at its first separator: `：`, `:`, `=`, tab or `,`.
/// Lines without one (titles such as `试验数据`) give the whole line and "".
/// The value loses separators a spreadsheet left at its end (`样品编号,A1,,,`).
pub(super) fn key_value(line: &str) -> (&str, &str) {
    let cut = line
        .char_indices()
        .find(|(_, c)| matches!(c, '：' | ':' | '=' | '\t' | ',' | '，'))
        .map(|(i, c)| (i, i + c.len_utf8()));
    match cut {
        Some((end, start)) => {
            let value = line.get(start..).unwrap_or_default();
            let value = value.trim_end_matches(|c: char| c.is_whitespace() || matches!(c, ',' | '\t' | ';'));
            (line.get(..end).unwrap_or_default().trim(), value.trim())
        }
        None => (line.trim(), ""),
    }
}

/// The number a value starts with and the rest (its unit), e.g. `22500 mm²`
/// → (22500, "mm²"), `Φ20` → (20, ""). Only plain decimals: `NaN` and `inf`
/// are not dimensions.
pub(super) fn leading_number(value: &str) -> Option<(f64, &str)> {
    let value = value.trim().trim_start_matches(['Φ', 'φ', 'Ф', 'ф', 'Ø', 'ø']).trim_start();
    let mut end = 0;
    let mut seen_digit = false;
    let mut prev = ' ';
    for (i, c) in value.char_indices() {
        let ok = c.is_ascii_digit()
            || c == '.'
            || ((c == '-' || c == '+') && (i == 0 || matches!(prev, 'e' | 'E')))
            || ((c == 'e' || c == 'E') && seen_digit && i + 1 < value.len());
        if !ok {
            break;
        }
        seen_digit |= c.is_ascii_digit();
        prev = c;
        end = i + c.len_utf8();
    }
    // `1e` or `1e+` at the end of the digits: back off to the mantissa.
    let mut number = value.get(..end)?;
    while number.ends_with(['e', 'E', '+', '-']) && number.len() > 1 {
        number = number.get(..number.len() - 1)?;
    }
    let parsed: f64 = number.parse().ok()?;
    let rest = value.get(number.len()..)?;
    parsed.is_finite().then_some((parsed, rest.trim()))
}

/// Canonical length unit: only millimetres are accepted (GB/T 228.1 and
/// GB/T 50081 state every dimension in mm).
pub(super) fn is_mm(unit: &str) -> bool {
    matches!(unit.trim(), "mm" | "MM" | "毫米")
}

pub(super) fn is_mm2(unit: &str) -> bool {
    matches!(unit.trim(), "mm²" | "mm2" | "mm^2" | "MM2" | "平方毫米")
}

/// Divisor from a declared unit to the parser's unit (s, kN, mm), or `None`
/// for a unit that is not accepted for that quantity. A divisor, not a
/// factor: 174 N / 1000 is the double nearest 0.174 kN, 174 × 0.001 is not.
pub(super) fn unit_divisor(quantity: Quantity, unit: &str) -> Option<f64> {
    let u = unit.trim();
    match quantity {
        Quantity::Time => match u {
            "s" | "S" | "sec" | "秒" => Some(1.0),
            "ms" | "MS" | "毫秒" => Some(1000.0),
            _ => None,
        },
        Quantity::Force => match u {
            "kN" | "KN" | "kn" | "千牛" => Some(1.0),
            "N" | "n" | "牛" => Some(1000.0),
            _ => None,
        },
        Quantity::Extension | Quantity::Length => is_mm(u).then_some(1.0),
        Quantity::Area => is_mm2(u).then_some(1.0),
    }
}

/// Splits a table line into cells with the table's separator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Separator {
    Tab,
    Comma,
    Semicolon,
    Spaces,
}

impl Separator {
    /// The separator a column-header line uses: tab before comma before
    /// semicolon, runs of spaces when there is none of those.
    pub(super) fn detect(line: &str) -> Separator {
        if line.contains('\t') {
            Separator::Tab
        } else if line.contains([',', '，']) {
            Separator::Comma
        } else if line.contains(';') {
            Separator::Semicolon
        } else {
            Separator::Spaces
        }
    }

    /// The cells of a line, trimmed, without the empty ones a trailing
    /// separator leaves.
    pub(super) fn cells(self, line: &str) -> Vec<&str> {
        let mut cells: Vec<&str> = match self {
            Separator::Tab => line.split('\t').map(str::trim).collect(),
            Separator::Comma => line.split([',', '，']).map(str::trim).collect(),
            Separator::Semicolon => line.split(';').map(str::trim).collect(),
            Separator::Spaces => line.split_whitespace().collect(),
        };
        while cells.last().is_some_and(|c| c.is_empty()) {
            cells.pop();
        }
        cells
    }

    /// Column labels: as [`Separator::cells`], except that with spaces a unit
    /// written apart (`Time [s]`, `力 (kN)`) stays with its name.
    pub(super) fn labels(self, line: &str) -> Vec<String> {
        let cells = self.cells(line);
        if self != Separator::Spaces {
            return cells.into_iter().map(str::to_owned).collect();
        }
        let mut labels: Vec<String> = Vec::new();
        for cell in cells {
            match labels.last_mut() {
                Some(last) if cell.starts_with(['(', '[', '（']) => {
                    last.push(' ');
                    last.push_str(cell);
                }
                _ => labels.push(cell.to_owned()),
            }
        }
        labels
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r12_keys_in_chinese_and_english_map_to_fields() {
        assert_eq!(field("试样编号"), Some(Field::Specimen));
        assert_eq!(field("Sample ID"), Some(Field::Specimen));
        assert_eq!(field("S0(mm²)"), Some(Field::Area));
        assert_eq!(field("L0"), Some(Field::Gauge));
        assert_eq!(field("最大力(kN)"), None);
        assert_eq!(field("开始时间"), Some(Field::Started));
    }

    #[test]
    fn r12_column_labels_carry_units_in_any_bracket() {
        assert_eq!(split_unit("力(kN)"), ("力", Some("kN")));
        assert_eq!(split_unit("Time [s]"), ("Time", Some("s")));
        assert_eq!(split_unit("时间（ms）"), ("时间", Some("ms")));
        assert_eq!(split_unit("Force/N"), ("Force", Some("N")));
        assert_eq!(split_unit("dL"), ("dL", None));
        assert_eq!(column("ΔL"), Some(Column::Ext(ExtSource::Extensometer)));
        assert_eq!(column("位移(mm)"), Some(Column::Ext(ExtSource::Crosshead)));
        assert_eq!(column("开始时间"), None);
    }

    #[test]
    fn r12_key_value_splits_at_the_first_separator() {
        assert_eq!(key_value("开始时间：2026-11-20 09:41:07"), ("开始时间", "2026-11-20 09:41:07"));
        assert_eq!(key_value("Specimen: A: 1"), ("Specimen", "A: 1"));
        assert_eq!(key_value("样品编号,YK-1,,,"), ("样品编号", "YK-1"));
        assert_eq!(key_value("rate=0.5MPa/s"), ("rate", "0.5MPa/s"));
        assert_eq!(key_value("Le\t50 mm"), ("Le", "50 mm"));
        assert_eq!(key_value("试验数据"), ("试验数据", ""));
    }

    #[test]
    fn r12_numbers_lead_and_units_follow() {
        assert_eq!(leading_number("22500 mm²"), Some((22500.0, "mm²")));
        assert_eq!(leading_number("150mm"), Some((150.0, "mm")));
        assert_eq!(leading_number("Φ20"), Some((20.0, "")));
        assert_eq!(leading_number("1e3 mm"), Some((1000.0, "mm")));
        assert_eq!(leading_number("2e"), Some((2.0, "e")));
        assert_eq!(leading_number("NaN"), None);
        assert_eq!(leading_number("inf"), None);
        assert_eq!(leading_number(""), None);
        assert_eq!(leading_number("-"), None);
    }

    #[test]
    fn r12_spaced_headers_keep_units_with_names() {
        assert_eq!(
            Separator::Spaces.labels("Time [s]   Force (kN)  dL"),
            vec!["Time [s]", "Force (kN)", "dL"]
        );
        assert_eq!(Separator::Tab.cells("1\t2\t\t"), vec!["1", "2"]);
    }
}
