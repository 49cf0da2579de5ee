//! Why a machine file was refused (R12), in words a lab clerk can act on:
//! every error names the 1-based line and what was wrong there, in zh-CN
//! and English. A refused file is still stored as media; the refusal is
//! what the lab must answer for.

use crate::verify::Lang;

/// What a column or header value measures, for messages about units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantity {
    Time,
    Force,
    Extension,
    Area,
    Length,
}

impl Quantity {
    pub fn name(self, lang: Lang) -> &'static str {
        let zh = lang == Lang::ZhCn;
        match self {
            Quantity::Time => {
                if zh {
                    "时间"
                } else {
                    "time"
                }
            }
            Quantity::Force => {
                if zh {
                    "力"
                } else {
                    "force"
                }
            }
            Quantity::Extension => {
                if zh {
                    "位移/变形"
                } else {
                    "extension"
                }
            }
            Quantity::Area => {
                if zh {
                    "面积"
                } else {
                    "area"
                }
            }
            Quantity::Length => {
                if zh {
                    "长度"
                } else {
                    "length"
                }
            }
        }
    }

    /// The units the parser accepts, for telling people what to export.
    fn accepted(self) -> &'static str {
        match self {
            Quantity::Time => "s, ms",
            Quantity::Force => "kN, N",
            Quantity::Extension | Quantity::Length => "mm",
            Quantity::Area => "mm²",
        }
    }
}

/// A machine file the parser refused. `line` is 1-based; 0 means the file as a whole.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CurveError {
    #[error("the file is {bytes} bytes, more than the {max} a curve file may have")]
    TooLarge { bytes: usize, max: usize },
    #[error("the file is empty")]
    Empty,
    #[error("line {line}: binary data, not a text export")]
    Binary { line: usize },
    #[error("the file is {0}; export it as UTF-8 or GBK")]
    UnsupportedEncoding(&'static str),
    #[error("line {line}: bytes that are neither UTF-8 nor GBK/GB18030")]
    BadBytes { line: usize },
    #[error("line {line}: more than {max} header lines before the table")]
    TooManyHeaderLines { line: usize, max: usize },
    #[error("line {line}: `{key}` has a value that cannot be read: `{value}`")]
    BadHeaderValue { line: usize, key: String, value: String },
    #[error("line {line}: `{key}` appears twice with different values")]
    DuplicateKey { line: usize, key: String },
    #[error("line {line}: unit `{unit}` is not accepted for {quantity:?}")]
    WrongUnit { line: usize, quantity: Quantity, unit: String },
    #[error("line {line}: no unit declared for {quantity:?}")]
    MissingUnit { line: usize, quantity: Quantity },
    #[error("no column header naming time and force found in {lines} lines")]
    NoTable { lines: usize },
    #[error("line {line}: two columns for {quantity:?}")]
    DuplicateColumn { line: usize, quantity: Quantity },
    #[error("line {line}: the column header is not followed by any rows (truncated?)")]
    NoRows { line: usize },
    #[error("line {line}: the last row has {fields} fields, the column header {expected} (truncated)")]
    Truncated { line: usize, fields: usize, expected: usize },
    #[error("line {line}: the row has {fields} fields, the column header {expected}")]
    FieldCount { line: usize, fields: usize, expected: usize },
    #[error("line {line}: {quantity:?} `{cell}` is not a number")]
    NonNumeric { line: usize, quantity: Quantity, cell: String },
    #[error("line {line}: {quantity:?} `{cell}` is not a finite number")]
    NotFinite { line: usize, quantity: Quantity, cell: String },
    #[error("line {line}: time goes backwards, {t_s} s after {previous_s} s")]
    TimeBackwards { line: usize, t_s: f64, previous_s: f64 },
    #[error("line {line}: more than {max} samples; no test records that many")]
    TooManySamples { line: usize, max: usize },
}

impl CurveError {
    /// The 1-based line the error is about, `None` for the file as a whole.
    pub fn line(&self) -> Option<usize> {
        use CurveError as E;
        match self {
            E::TooLarge { .. } | E::Empty | E::UnsupportedEncoding(_) | E::NoTable { .. } => None,
            E::Binary { line }
            | E::BadBytes { line }
            | E::TooManyHeaderLines { line, .. }
            | E::BadHeaderValue { line, .. }
            | E::DuplicateKey { line, .. }
            | E::WrongUnit { line, .. }
            | E::MissingUnit { line, .. }
            | E::DuplicateColumn { line, .. }
            | E::NoRows { line }
            | E::Truncated { line, .. }
            | E::FieldCount { line, .. }
            | E::NonNumeric { line, .. }
            | E::NotFinite { line, .. }
            | E::TimeBackwards { line, .. }
            | E::TooManySamples { line, .. } => Some(*line),
        }
    }

    /// What a person reads, in their language (R12: the lab must fix the export, not the data).
    // One arm per error, kept together so a translator reads them all at once.
    #[allow(clippy::too_many_lines)]
    pub fn message(&self, lang: Lang) -> String {
        use CurveError as E;
        let zh = lang == Lang::ZhCn;
        let body = match self {
            E::TooLarge { bytes, max } => {
                if zh {
                    format!("曲线文件 {bytes} 字节，超过上限 {max} 字节")
                } else {
                    format!("the curve file is {bytes} bytes, more than the limit of {max}")
                }
            }
            E::Empty => if zh { "曲线文件为空" } else { "the curve file is empty" }.to_owned(),
            E::Binary { .. } => if zh {
                "含二进制数据，不是文本导出文件"
            } else {
                "binary data, not a text export"
            }
            .to_owned(),
            E::UnsupportedEncoding(enc) => {
                if zh {
                    format!("文件编码为 {enc}，请导出为 UTF-8 或 GBK")
                } else {
                    format!("the file is {enc}; export it as UTF-8 or GBK")
                }
            }
            E::BadBytes { .. } => if zh {
                "字节既不是 UTF-8 也不是 GBK/GB18030 编码（文件损坏？）"
            } else {
                "bytes that are neither UTF-8 nor GBK/GB18030 (damaged file?)"
            }
            .to_owned(),
            E::TooManyHeaderLines { max, .. } => {
                if zh {
                    format!("数据表之前的表头超过 {max} 行")
                } else {
                    format!("more than {max} header lines before the table")
                }
            }
            E::BadHeaderValue { key, value, .. } => {
                if zh {
                    format!("“{key}”的值无法识别：“{value}”")
                } else {
                    format!("`{key}` has a value that cannot be read: `{value}`")
                }
            }
            E::DuplicateKey { key, .. } => {
                if zh {
                    format!("“{key}”出现两次且取值不同")
                } else {
                    format!("`{key}` appears twice with different values")
                }
            }
            E::WrongUnit { quantity, unit, .. } => {
                if zh {
                    format!("{}的单位“{unit}”不被接受（可用：{}）", quantity.name(lang), quantity.accepted())
                } else {
                    format!(
                        "unit `{unit}` is not accepted for {} (accepted: {})",
                        quantity.name(lang),
                        quantity.accepted()
                    )
                }
            }
            E::MissingUnit { quantity, .. } => {
                if zh {
                    format!("未声明{}的单位，无法判断（可用：{}）", quantity.name(lang), quantity.accepted())
                } else {
                    format!(
                        "no unit declared for {}; it cannot be guessed (accepted: {})",
                        quantity.name(lang),
                        quantity.accepted()
                    )
                }
            }
            E::NoTable { lines } => {
                if zh {
                    format!("{lines} 行中没有找到含时间和力两列的列标题")
                } else {
                    format!("no column header naming time and force in {lines} lines")
                }
            }
            E::DuplicateColumn { quantity, .. } => {
                if zh {
                    format!("有两列都是{}", quantity.name(lang))
                } else {
                    format!("two columns for {}", quantity.name(lang))
                }
            }
            E::NoRows { .. } => if zh {
                "列标题之后没有数据行（文件被截断？）"
            } else {
                "the column header is not followed by any rows (truncated?)"
            }
            .to_owned(),
            E::Truncated { fields, expected, .. } => {
                if zh {
                    format!("最后一行只有 {fields} 个字段，列标题有 {expected} 列（文件被截断）")
                } else {
                    format!("the last row has {fields} fields, the column header {expected} (truncated file)")
                }
            }
            E::FieldCount { fields, expected, .. } => {
                if zh {
                    format!("该行有 {fields} 个字段，列标题有 {expected} 列")
                } else {
                    format!("the row has {fields} fields, the column header {expected}")
                }
            }
            E::NonNumeric { quantity, cell, .. } => {
                if zh {
                    format!("{}“{cell}”不是数字", quantity.name(lang))
                } else {
                    format!("{} `{cell}` is not a number", quantity.name(lang))
                }
            }
            E::NotFinite { quantity, cell, .. } => {
                if zh {
                    format!("{}“{cell}”不是有限数值", quantity.name(lang))
                } else {
                    format!("{} `{cell}` is not a finite number", quantity.name(lang))
                }
            }
            E::TimeBackwards { t_s, previous_s, .. } => {
                if zh {
                    format!("时间倒退：{previous_s} s 之后出现 {t_s} s")
                } else {
                    format!("time goes backwards: {t_s} s after {previous_s} s")
                }
            }
            E::TooManySamples { max, .. } => {
                if zh {
                    format!("采样点超过 {max} 个，没有试验会记录这么多")
                } else {
                    format!("more than {max} samples; no test records that many")
                }
            }
        };
        let rule = if zh { "R12 曲线文件" } else { "R12 curve file" };
        match self.line() {
            Some(line) if zh => format!("{rule}第 {line} 行：{body}"),
            Some(line) => format!("{rule}, line {line}: {body}"),
            None if zh => format!("{rule}：{body}"),
            None => format!("{rule}: {body}"),
        }
    }
}
