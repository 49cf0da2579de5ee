//! Plan items as people type them in the console: one line per item,
//! fields separated by `|`, dates `YYYY-MM-DD` China Standard Time (an item
//! runs from the start of its first day to the end of its last), kinds by
//! their Chinese or code names; pre-filled with the version being changed.
//! Every line that cannot be read is named with its number, in zh-CN and
//! English; what can be read is then judged by [`super::rules`].
//!
//! Sampling plan (R4):
//! ```text
//! # 条目 | 类别 | 部位 | 规格等级 | 检测项目 | 单位 | 每次试件数 | 数量 | 开始 | 结束 | 阶段
//! I-1 | 混凝土试块 | 3层 柱 | C30 | 抗压强度 | 组 | 3 | 2350/100 m³ | 2026-12-01 | 2027-03-31 | 主体结构
//! I-2 | 钢筋原材 | 主体 | HRB400E Φ20 | 屈服强度、抗拉强度、伸长率 | 根 | 5 | 6 | 2026-12-01 | 2027-02-28 | 主体结构
//! ```
//! Quantity: `N` samplings, or `TOTAL/PER UNIT` — one sampling per `PER`
//! of `TOTAL` in `m³`/`m3`, `t` or `个`/`pcs` (GB 50204: 2350/100 m³ is 24).
//! Tests are separated by `、` or `,`.
//!
//! Testing plan (R5): `条目 | 参数（逗号分隔） | 检测次数`.

use super::{Measure, PlanItem, QuantityRule, TestingPlanItem};
use crate::calendar::{date_cst, end_of_day_cst, start_of_day_cst};
use crate::model::{Id, SpecimenKind};
use crate::verify::Lang;
use serde::{Deserialize, Serialize};

/// Why a line cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum TextError {
    FieldCount { line: usize, expected: usize, found: usize },
    BadId { line: usize, value: String },
    BadKind { line: usize, value: String },
    BadNumber { line: usize, field: String, value: String },
    BadQuantity { line: usize, value: String },
    BadDate { line: usize, value: String },
    NoLines,
}

impl TextError {
    pub fn message(&self, lang: Lang) -> String {
        let zh = lang == Lang::ZhCn;
        match self {
            TextError::FieldCount { line, expected, found } => {
                if zh {
                    format!("第 {line} 行：应有 {expected} 项（用 | 分隔），实有 {found} 项")
                } else {
                    format!("line {line}: {expected} fields separated by | expected, {found} found")
                }
            }
            TextError::BadId { line, value } => {
                if zh {
                    format!("第 {line} 行：条目编号“{value}”无效（1–64 位字母、数字或 . _ : -）")
                } else {
                    format!("line {line}: item id “{value}” is invalid (1-64 letters, digits or . _ : -)")
                }
            }
            TextError::BadKind { line, value } => {
                if zh {
                    format!(
                        "第 {line} 行：不认识的试件类别“{value}”（如 混凝土试块、钢筋原材、钢筋机械连接接头）"
                    )
                } else {
                    format!(
                        "line {line}: unknown specimen kind “{value}” (e.g. concrete_cube, rebar, rebar_coupler)"
                    )
                }
            }
            TextError::BadNumber { line, field, value } => {
                if zh {
                    format!("第 {line} 行：“{field}”应为整数，而不是“{value}”")
                } else {
                    format!("line {line}: {field} must be a whole number, not “{value}”")
                }
            }
            TextError::BadQuantity { line, value } => {
                if zh {
                    format!("第 {line} 行：数量“{value}”应为次数（如 6）或 总量/每次 单位（如 2350/100 m³）")
                } else {
                    format!(
                        "line {line}: quantity “{value}” should be a count (e.g. 6) or total/per unit (e.g. 2350/100 m³)"
                    )
                }
            }
            TextError::BadDate { line, value } => {
                if zh {
                    format!("第 {line} 行：日期“{value}”应为 YYYY-MM-DD")
                } else {
                    format!("line {line}: date “{value}” should be YYYY-MM-DD")
                }
            }
            TextError::NoLines => {
                if zh {
                    "没有填写任何条目".into()
                } else {
                    "no items were entered".into()
                }
            }
        }
    }
}

/// A kind by its Chinese name, its English name or its code name
/// (`concrete_cube`), as a person types it.
pub fn kind_of(s: &str) -> Option<SpecimenKind> {
    let s = s.trim();
    SpecimenKind::ALL.into_iter().find(|k| {
        k.name_zh() == s
            || k.name_en().eq_ignore_ascii_case(s)
            || serde_json::to_value(k).ok().and_then(|v| v.as_str().map(|c| c.eq_ignore_ascii_case(s)))
                == Some(true)
    })
}

fn lines(text: &str) -> impl Iterator<Item = (usize, Vec<&str>)> {
    text.lines()
        .enumerate()
        .map(|(n, l)| (n + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'))
        .map(|(n, l)| (n, l.split('|').map(str::trim).collect()))
}

fn number(line: usize, field: &str, v: &str) -> Result<u32, TextError> {
    v.replace([',', '，'], "").trim().parse().map_err(|_| TextError::BadNumber {
        line,
        field: field.into(),
        value: v.into(),
    })
}

fn quantity(line: usize, v: &str) -> Result<QuantityRule, TextError> {
    let bad = || TextError::BadQuantity { line, value: v.into() };
    let t = v.trim();
    let Some((total, rest)) = t.split_once('/') else {
        return t.parse().map(|samplings| QuantityRule::Count { samplings }).map_err(|_| bad());
    };
    let rest = rest.trim();
    let split = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
    let (per, unit) = rest.split_at(split);
    let measure = match unit.trim() {
        "m³" | "m3" | "立方米" | "方" => Measure::CubicMetre,
        "t" | "吨" => Measure::Tonne,
        "个" | "pcs" | "件" | "根" => Measure::Piece,
        _ => return Err(bad()),
    };
    Ok(QuantityRule::Per {
        per: per.trim().parse().map_err(|_| bad())?,
        total: total.trim().parse().map_err(|_| bad())?,
        measure,
    })
}

fn rule_text(r: QuantityRule) -> String {
    match r {
        QuantityRule::Count { samplings } => samplings.to_string(),
        QuantityRule::Per { per, total, measure } => format!("{total}/{per} {}", measure.symbol()),
    }
}

fn item_id(line: usize, v: &str) -> Result<Id, TextError> {
    Id::new(v.trim()).map_err(|_| TextError::BadId { line, value: v.into() })
}

/// A sampling plan's items as editable text.
pub fn sampling_items_to_text(items: &[PlanItem]) -> String {
    let mut out = String::from(
        "# 条目 | 类别 | 部位 | 规格等级 | 检测项目 | 单位 | 每次试件数 | 数量（次数 或 总量/每次 单位）| 开始 | 结束 | 阶段\n",
    );
    for i in items {
        out.push_str(&format!(
            "{} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {}\n",
            i.item,
            i.kind.name_zh(),
            i.part,
            i.grade,
            i.tests.join("、"),
            i.unit,
            i.per_sampling,
            rule_text(i.rule),
            date_cst(i.from_ms),
            date_cst(i.until_ms),
            i.stage
        ));
    }
    out
}

/// Read a sampling plan's items; every unreadable line is named.
pub fn parse_sampling_items(text: &str) -> Result<Vec<PlanItem>, Vec<TextError>> {
    let mut items = Vec::new();
    let mut errors = Vec::new();
    for (n, f) in lines(text) {
        if f.len() != 11 {
            errors.push(TextError::FieldCount { line: n, expected: 11, found: f.len() });
            continue;
        }
        let date = |v: &str, end: bool| {
            if end { end_of_day_cst(v) } else { start_of_day_cst(v) }
                .ok_or(TextError::BadDate { line: n, value: v.into() })
        };
        let parsed = (|| {
            Ok::<PlanItem, TextError>(PlanItem {
                item: item_id(n, f[0])?,
                kind: kind_of(f[1]).ok_or(TextError::BadKind { line: n, value: f[1].into() })?,
                part: f[2].into(),
                grade: f[3].into(),
                tests: f[4]
                    .split(['、', ',', '，'])
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(Into::into)
                    .collect(),
                unit: f[5].into(),
                per_sampling: number(n, "每次试件数 / specimens per sampling", f[6])?,
                rule: quantity(n, f[7])?,
                from_ms: date(f[8], false)?,
                until_ms: date(f[9], true)?,
                stage: f[10].into(),
            })
        })();
        match parsed {
            Ok(i) => items.push(i),
            Err(e) => errors.push(e),
        }
    }
    if items.is_empty() && errors.is_empty() {
        errors.push(TextError::NoLines);
    }
    if errors.is_empty() { Ok(items) } else { Err(errors) }
}

/// A testing plan's items as editable text; `from` prefills one line per
/// sampling plan item (its planned samplings as the tests).
pub fn testing_items_to_text(items: &[TestingPlanItem]) -> String {
    let mut out = String::from("# 条目 | 检测参数（逗号分隔） | 检测次数\n");
    for i in items {
        out.push_str(&format!("{} | {} | {}\n", i.plan_item, i.parameters.join(", "), i.tests));
    }
    out
}

/// Read a testing plan's items.
pub fn parse_testing_items(text: &str) -> Result<Vec<TestingPlanItem>, Vec<TextError>> {
    let mut items = Vec::new();
    let mut errors = Vec::new();
    for (n, f) in lines(text) {
        if f.len() != 3 {
            errors.push(TextError::FieldCount { line: n, expected: 3, found: f.len() });
            continue;
        }
        let parsed = (|| {
            Ok::<TestingPlanItem, TextError>(TestingPlanItem {
                plan_item: item_id(n, f[0])?,
                parameters: f[1]
                    .split([',', '，', '、'])
                    .map(str::trim)
                    .filter(|p| !p.is_empty())
                    .map(Into::into)
                    .collect(),
                tests: number(n, "检测次数 / tests", f[2])?,
            })
        })();
        match parsed {
            Ok(i) => items.push(i),
            Err(e) => errors.push(e),
        }
    }
    if items.is_empty() && errors.is_empty() {
        errors.push(TextError::NoLines);
    }
    if errors.is_empty() { Ok(items) } else { Err(errors) }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FORM: &str = "# 条目 | 类别 | …\n\
        I-1 | 混凝土试块 | 3层 柱 | C30 | 抗压强度 | 组 | 3 | 2350/100 m³ | 2026-12-01 | 2027-03-31 | 主体结构\n\
        \n\
        I-2 | rebar | 主体 | HRB400E Φ20 | 屈服强度、抗拉强度，伸长率 | 根 | 5 | 6 | 2026-12-01 | 2027-02-28 | 主体结构\n";

    #[test]
    fn r4_a_typed_plan_reads_and_writes_back_the_same() {
        let items = parse_sampling_items(FORM).unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].planned(), 24);
        assert_eq!(items[1].tests, vec!["屈服强度", "抗拉强度", "伸长率"]);
        assert_eq!(items[1].kind, SpecimenKind::Rebar);
        assert_eq!(date_cst(items[0].from_ms), "2026-12-01");
        assert_eq!(date_cst(items[0].until_ms), "2027-03-31");
        assert_eq!(items[0].until_ms % 1000, 999, "the end is the last millisecond of the day");
        assert_eq!(parse_sampling_items(&sampling_items_to_text(&items)).unwrap(), items);
    }

    #[test]
    fn r4_every_unreadable_line_is_named_in_both_languages() {
        let bad = "I-1 | 混凝土 | 3层 柱 | C30 | 抗压强度 | 组 | 3 | 2350/100 m³ | 2026-12-01 | 2027-03-31 | 主体\n\
                   I 2 | 混凝土试块 | 柱 | C30 | 抗压 | 组 | 三 | 24 | 2026-12-01 | 2027-03-31 | 主体\n\
                   I-3 | 混凝土试块 | 柱 | C30 | 抗压 | 组 | 3 | 2350/100 L | 2026-12-01 | 2027-03-31 | 主体\n\
                   I-4 | 混凝土试块 | 柱 | C30 | 抗压 | 组 | 3 | 24 | 2026-02-30 | 2027-03-31 | 主体\n\
                   I-5 | 混凝土试块 | 柱\n";
        let e = parse_sampling_items(bad).unwrap_err();
        assert_eq!(
            e,
            vec![
                TextError::BadKind { line: 1, value: "混凝土".into() },
                TextError::BadId { line: 2, value: "I 2".into() },
                TextError::BadQuantity { line: 3, value: "2350/100 L".into() },
                TextError::BadDate { line: 4, value: "2026-02-30".into() },
                TextError::FieldCount { line: 5, expected: 11, found: 3 },
            ]
        );
        for x in &e {
            assert!(x.message(Lang::ZhCn).starts_with("第 ") && x.message(Lang::En).starts_with("line "));
        }
        assert_eq!(parse_sampling_items("# only a comment\n"), Err(vec![TextError::NoLines]));
    }

    #[test]
    fn r5_testing_items_read_and_write_back() {
        let items =
            parse_testing_items("I-1 | concrete_cube_strength | 24\nI-2 | rebar_tensile, rebar_bend | 6\n")
                .unwrap();
        assert_eq!(items[1].parameters, vec!["rebar_tensile", "rebar_bend"]);
        assert_eq!(parse_testing_items(&testing_items_to_text(&items)).unwrap(), items);
        assert_eq!(
            parse_testing_items("I-1 | x | many").unwrap_err(),
            vec![TextError::BadNumber {
                line: 1, field: "检测次数 / tests".into(), value: "many".into()
            }]
        );
    }
}
