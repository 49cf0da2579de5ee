//! The registry as a lab manager edits it in the console: one line per
//! entry, fields separated by `|`, dates as `YYYY-MM-DD` in China Standard
//! Time (valid from the start of the first day to the end of the last),
//! pre-filled with the registry in force; and what a change changes
//! ([`diff`]), for the operator who approves it (R3).
//!
//! ```text
//! 资质 concrete_cube_strength | CMA-2024-001 | 2026-01-01 | 2027-12-31
//! 设备 WAW-1000B-01 | WAW-1000B 万能试验机 | 0–1000 kN | JL-2025-118 | 2025-06-01 | 2026-05-31
//! 人员 P-LAB-T | concrete_cube_strength | 2028-06-30
//! ```
//!
//! `资质`/`scope`, `设备`/`equipment` (one line per certificate: an item
//! with two certificates has two lines with one id, machine and range),
//! `人员`/`staff` (an empty end: the qualification does not lapse). Blank
//! lines and lines starting with `#` are skipped.

use super::{CalibrationCertificate, LabRegistry, RegisteredEquipment, ScopeEntry, StaffQualification};
use crate::calendar::{cst, end_of_day_cst};
use crate::model::Id;
use crate::verify::Lang;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

const DAY_MS: i64 = super::DAY_MS;

fn date(ms: i64) -> String {
    let (y, m, d, ..) = cst(ms);
    format!("{y:04}-{m:02}-{d:02}")
}

/// The registry as editable text (what the request form starts from).
pub fn to_text(r: &LabRegistry) -> String {
    let mut out =
        String::from("# 资质 参数 | 证书编号 | 起 | 止    (scope: parameter | certificate | from | until)\n");
    for s in &r.scope {
        out.push_str(&format!(
            "资质 {} | {} | {} | {}\n",
            s.parameter,
            s.certificate_no,
            date(s.valid_from_ms),
            date(s.valid_until_ms)
        ));
    }
    out.push_str(
        "# 设备 编号 | 名称型号 | 量程 | 校准证书 | 起 | 止    (equipment: id | machine | range | certificate | from | until)\n",
    );
    for e in &r.equipment {
        for c in &e.certificates {
            out.push_str(&format!(
                "设备 {} | {} | {} | {} | {} | {}\n",
                e.id,
                e.machine,
                e.range,
                c.certificate_no,
                date(c.valid_from_ms),
                date(c.valid_until_ms)
            ));
        }
    }
    out.push_str("# 人员 人员编号 | 参数 | 有效期至（空：长期）    (staff: person | parameter | until, empty: no end)\n");
    for q in &r.staff {
        out.push_str(&format!(
            "人员 {} | {} | {}\n",
            q.person,
            q.parameter,
            q.valid_until_ms.map(date).unwrap_or_default()
        ));
    }
    out
}

/// Why a line of the form cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum TextError {
    /// Not `资质`, `设备` or `人员` (or their English names).
    UnknownKind { line: usize },
    /// Not the number of fields its kind has.
    FieldCount { line: usize, expected: usize, found: usize },
    /// Not a real date.
    BadDate { line: usize, value: String },
    /// Not a valid id (1-64 of A-Z a-z 0-9 . _ : -).
    BadId { line: usize, value: String },
    /// Two lines of one equipment item that disagree on machine or range.
    EquipmentDiffers { line: usize, id: String },
}

impl TextError {
    pub fn message(&self, lang: Lang) -> String {
        let zh = lang == Lang::ZhCn;
        match self {
            TextError::UnknownKind { line } => {
                if zh {
                    format!("第 {line} 行：应以“资质”“设备”或“人员”开头（R3）")
                } else {
                    format!("line {line}: must start with scope, equipment or staff (R3)")
                }
            }
            TextError::FieldCount { line, expected, found } => {
                if zh {
                    format!("第 {line} 行：应有 {expected} 项（以 | 分隔），实有 {found} 项（R3）")
                } else {
                    format!("line {line}: {expected} fields separated by | expected, {found} found (R3)")
                }
            }
            TextError::BadDate { line, value } => {
                if zh {
                    format!("第 {line} 行：日期 “{value}” 无效，应为 YYYY-MM-DD（R3）")
                } else {
                    format!("line {line}: “{value}” is not a date YYYY-MM-DD (R3)")
                }
            }
            TextError::BadId { line, value } => {
                if zh {
                    format!("第 {line} 行：编号 “{value}” 无效（1–64 位字母、数字或 . _ : -）（R3）")
                } else {
                    format!(
                        "line {line}: “{value}” is not a valid id (1–64 of letters, digits, . _ : -) (R3)"
                    )
                }
            }
            TextError::EquipmentDiffers { line, id } => {
                if zh {
                    format!("第 {line} 行：设备 {id} 的名称或量程与前面的行不一致（R3）")
                } else {
                    format!("line {line}: equipment {id} has another machine or range than above (R3)")
                }
            }
        }
    }
}

fn first_ms(line: usize, s: &str) -> Result<i64, TextError> {
    end_of_day_cst(s)
        .map(|end| end - DAY_MS + 1)
        .ok_or_else(|| TextError::BadDate { line, value: s.to_owned() })
}

fn last_ms(line: usize, s: &str) -> Result<i64, TextError> {
    end_of_day_cst(s).ok_or_else(|| TextError::BadDate { line, value: s.to_owned() })
}

/// Read the form for `lab`: every line's problem at once, or the registry.
/// Whether it holds together is [`super::validate`]'s to say.
pub fn parse_text(lab: &Id, text: &str) -> Result<LabRegistry, Vec<TextError>> {
    let mut r = LabRegistry::empty(lab.clone());
    let mut errors = Vec::new();
    let mut items: BTreeMap<Id, usize> = BTreeMap::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let t = raw.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let (kind, rest) = t.split_once(char::is_whitespace).unwrap_or((t, ""));
        let fields: Vec<&str> = rest.split('|').map(str::trim).collect();
        let expected = match kind {
            "资质" | "scope" => 4,
            "设备" | "equipment" => 6,
            "人员" | "staff" => 3,
            _ => {
                errors.push(TextError::UnknownKind { line });
                continue;
            }
        };
        if fields.len() != expected {
            errors.push(TextError::FieldCount { line, expected, found: fields.len() });
            continue;
        }
        let mut parsed = || -> Result<(), TextError> {
            match expected {
                4 => r.scope.push(ScopeEntry {
                    parameter: fields[0].to_owned(),
                    certificate_no: fields[1].to_owned(),
                    valid_from_ms: first_ms(line, fields[2])?,
                    valid_until_ms: last_ms(line, fields[3])?,
                }),
                6 => {
                    let id = Id::new(fields[0])
                        .map_err(|_| TextError::BadId { line, value: fields[0].to_owned() })?;
                    let certificate = CalibrationCertificate {
                        certificate_no: fields[3].to_owned(),
                        valid_from_ms: first_ms(line, fields[4])?,
                        valid_until_ms: last_ms(line, fields[5])?,
                    };
                    match items.get(&id) {
                        Some(&at) => {
                            let e = &mut r.equipment[at];
                            if e.machine != fields[1] || e.range != fields[2] {
                                return Err(TextError::EquipmentDiffers { line, id: id.to_string() });
                            }
                            e.certificates.push(certificate);
                        }
                        None => {
                            items.insert(id.clone(), r.equipment.len());
                            r.equipment.push(RegisteredEquipment {
                                id,
                                machine: fields[1].to_owned(),
                                range: fields[2].to_owned(),
                                certificates: vec![certificate],
                            });
                        }
                    }
                }
                _ => r.staff.push(StaffQualification {
                    person: fields[0].to_owned(),
                    lab: lab.to_string(),
                    parameter: fields[1].to_owned(),
                    valid_until_ms: match fields[2] {
                        "" => None,
                        d => Some(last_ms(line, d)?),
                    },
                }),
            }
            Ok(())
        };
        if let Err(e) = parsed() {
            errors.push(e);
        }
    }
    if errors.is_empty() { Ok(r) } else { Err(errors) }
}

/// How one entry changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    Added,
    Removed,
    Changed,
}

impl ChangeKind {
    /// Its name in zh-CN and English.
    pub fn names(self) -> (&'static str, &'static str) {
        match self {
            ChangeKind::Added => ("新增", "added"),
            ChangeKind::Removed => ("删除", "removed"),
            ChangeKind::Changed => ("修改", "changed"),
        }
    }
}

/// One line of a change: the entry (as its form line, before and after).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub kind: ChangeKind,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// Entries by key (section and id), as their form lines.
fn entries(r: &LabRegistry) -> BTreeMap<(u8, String), String> {
    let mut out = BTreeMap::new();
    for s in &r.scope {
        out.insert(
            (0, s.parameter.clone()),
            format!(
                "资质 {} | {} | {} | {}",
                s.parameter,
                s.certificate_no,
                date(s.valid_from_ms),
                date(s.valid_until_ms)
            ),
        );
    }
    for e in &r.equipment {
        let certs: Vec<String> = e
            .certificates
            .iter()
            .map(|c| format!("{} {}–{}", c.certificate_no, date(c.valid_from_ms), date(c.valid_until_ms)))
            .collect();
        out.insert(
            (1, e.id.to_string()),
            format!("设备 {} | {} | {} | {}", e.id, e.machine, e.range, certs.join("; ")),
        );
    }
    for q in &r.staff {
        out.insert(
            (2, format!("{} {}", q.person, q.parameter)),
            format!(
                "人员 {} | {} | {}",
                q.person,
                q.parameter,
                q.valid_until_ms.map(date).unwrap_or_default()
            ),
        );
    }
    out
}

/// R3: what `new` changes of `old` (`None`: the lab's first registry),
/// entry by entry in form order.
pub fn diff(old: Option<&LabRegistry>, new: &LabRegistry) -> Vec<Change> {
    let before = old.map(entries).unwrap_or_default();
    let after = entries(new);
    let mut keys: Vec<&(u8, String)> = before.keys().chain(after.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter_map(|k| match (before.get(k), after.get(k)) {
            (None, Some(a)) => Some(Change { kind: ChangeKind::Added, before: None, after: Some(a.clone()) }),
            (Some(b), None) => {
                Some(Change { kind: ChangeKind::Removed, before: Some(b.clone()), after: None })
            }
            (Some(b), Some(a)) if a != b => {
                Some(Change { kind: ChangeKind::Changed, before: Some(b.clone()), after: Some(a.clone()) })
            }
            _ => None,
        })
        .collect()
}
