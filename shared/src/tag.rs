//! Tag codes (唯一性标识): the number printed under each QR tag (R6, R15, R16).
//!
//! A tag code is 18 decimal digits, so a person can type it from the label
//! when no camera can read the QR (manual entry fallback):
//!
//! ```text
//!  SSSS YY BBBB NNNNNNN C
//!  │    │  │    │       └ check digit (Damm algorithm over the first 17)
//!  │    │  │    └ serial within the batch (7 digits)
//!  │    │  └ batch number of that supplier and year (4 digits)
//!  │    └ year of manufacture (2 digits)
//!  └ filed supplier code (4 digits, R15)
//! ```
//!
//! The Damm check digit catches every single-digit mistake and every swap of
//! two adjacent digits, which are the errors people make typing from a dirty
//! label. The QR carries either the bare digits or `JZ1:` followed by them,
//! or a verification URL ending in `/t/<digits>` (so a generic phone camera
//! lands on the public check page, R13).

use serde::{Deserialize, Serialize};
use std::fmt;

pub const TAG_DIGITS: usize = 18;

/// A validated tag code: 18 digits with a correct check digit.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(type = "string"))]
pub struct TagCode(String);

/// Why a scanned or typed text is not a tag code of ours.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum TagCodeError {
    #[error("tag code must have {TAG_DIGITS} digits, found {0}")]
    Length(usize),
    #[error("tag code may contain only digits (found {0:?})")]
    NotDigit(char),
    #[error("check digit wrong: a digit was misread or mistyped")]
    CheckDigit,
    #[error("not a tag of this system (unrecognised QR content)")]
    Foreign,
}

impl TagCodeError {
    pub fn message_zh(&self) -> String {
        match self {
            TagCodeError::Length(n) => format!("标识码应为{TAG_DIGITS}位数字，实际{n}位"),
            TagCodeError::NotDigit(c) => format!("标识码只能包含数字（发现“{c}”）"),
            TagCodeError::CheckDigit => "标识码校验位不符：有数字读错或输错".into(),
            TagCodeError::Foreign => "不是本系统的标识二维码".into(),
        }
    }
}

const DAMM: [[u8; 10]; 10] = [
    [0, 3, 1, 7, 5, 9, 8, 6, 4, 2],
    [7, 0, 9, 2, 1, 5, 4, 8, 6, 3],
    [4, 2, 0, 6, 8, 7, 1, 3, 5, 9],
    [1, 7, 5, 0, 9, 8, 3, 4, 2, 6],
    [6, 1, 2, 3, 0, 4, 5, 9, 7, 8],
    [3, 6, 7, 4, 2, 0, 9, 5, 8, 1],
    [5, 8, 6, 9, 7, 2, 0, 1, 3, 4],
    [8, 9, 4, 5, 3, 6, 2, 0, 1, 7],
    [9, 4, 3, 8, 6, 1, 7, 2, 0, 5],
    [2, 5, 8, 1, 4, 3, 6, 7, 9, 0],
];

/// Damm check digit of a string of decimal digits.
pub fn damm_digit(digits: &str) -> u8 {
    digits.bytes().fold(0u8, |interim, b| DAMM[interim as usize][(b - b'0') as usize])
}

impl TagCode {
    /// Parse typed digits; spaces and dashes between groups are ignored.
    pub fn parse_digits(text: &str) -> Result<TagCode, TagCodeError> {
        let mut digits = String::with_capacity(TAG_DIGITS);
        for c in text.trim().chars() {
            match c {
                '0'..='9' => digits.push(c),
                ' ' | '-' | '\u{3000}' => {}
                // Full-width digits from Chinese input methods.
                '０'..='９' => digits.push(char::from(b'0' + (c as u32 - '０' as u32) as u8)),
                other => return Err(TagCodeError::NotDigit(other)),
            }
        }
        if digits.len() != TAG_DIGITS {
            return Err(TagCodeError::Length(digits.len()));
        }
        if damm_digit(&digits) != 0 {
            return Err(TagCodeError::CheckDigit);
        }
        Ok(TagCode(digits))
    }

    /// Parse the text decoded from a QR tag.
    pub fn parse_qr(payload: &str) -> Result<TagCode, TagCodeError> {
        let p = payload.trim();
        if let Some(rest) = p.strip_prefix("JZ1:") {
            return TagCode::parse_digits(rest);
        }
        if (p.starts_with("https://") || p.starts_with("http://"))
            && let Some(idx) = p.rfind("/t/")
        {
            return TagCode::parse_digits(&p[idx + 3..]);
        }
        if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) {
            return TagCode::parse_digits(p);
        }
        Err(TagCodeError::Foreign)
    }

    /// Parse whatever a person or a scanner hands over: the text of a tag's
    /// QR (our payload, a verification URL, bare digits), or the printed
    /// digits typed from the label (spaces, dashes and full-width digits
    /// allowed). The one parser every screen, command and route uses.
    pub fn parse(text: &str) -> Result<TagCode, TagCodeError> {
        match TagCode::parse_qr(text) {
            // Not one of the QR forms: typed digits, perhaps grouped.
            Err(TagCodeError::Foreign) => TagCode::parse_digits(text),
            // A QR form whose digits are wrong says so, not "not a digit".
            other => other,
        }
    }

    /// Build a code from its parts, computing the check digit.
    pub fn from_parts(supplier: u16, year: u8, batch: u16, serial: u32) -> Option<TagCode> {
        if supplier > 9999 || year > 99 || batch > 9999 || serial > 9_999_999 {
            return None;
        }
        let body = format!("{supplier:04}{year:02}{batch:04}{serial:07}");
        let check = damm_digit(&body);
        Some(TagCode(format!("{body}{check}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
    pub fn supplier(&self) -> u16 {
        self.0[0..4].parse().expect("validated digits")
    }
    pub fn year(&self) -> u8 {
        self.0[4..6].parse().expect("validated digits")
    }
    pub fn batch(&self) -> u16 {
        self.0[6..10].parse().expect("validated digits")
    }
    pub fn serial(&self) -> u32 {
        self.0[10..17].parse().expect("validated digits")
    }
    /// The batch this tag was made in: supplier, year and batch number.
    pub fn batch_key(&self) -> BatchKey {
        BatchKey { supplier: self.supplier(), year: self.year(), batch: self.batch() }
    }
    /// The digits grouped as printed on the label.
    pub fn printed(&self) -> String {
        let s = &self.0;
        format!("{} {} {} {} {}", &s[0..4], &s[4..6], &s[6..10], &s[10..17], &s[17..])
    }
    /// The QR payload we print on tags.
    pub fn qr_payload(&self) -> String {
        format!("JZ1:{}", self.0)
    }
}

impl TryFrom<String> for TagCode {
    type Error = TagCodeError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        // The serialised form is exactly 18 digits, nothing else.
        if s.len() != TAG_DIGITS || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(TagCodeError::Length(s.len()));
        }
        TagCode::parse_digits(&s)
    }
}
impl From<TagCode> for String {
    fn from(t: TagCode) -> String {
        t.0
    }
}
impl fmt::Display for TagCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl fmt::Debug for TagCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TagCode({})", self.printed())
    }
}

/// Identifies a manufactured batch of tags (R15).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct BatchKey {
    pub supplier: u16,
    pub year: u8,
    pub batch: u16,
}

/// An inclusive range of serials within one batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SerialRange {
    pub first: u32,
    pub last: u32,
}

/// A registered batch of tags, assigned to one project (R15, R16).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TagBatch {
    pub key: BatchKey,
    pub supplier_org: crate::model::Id,
    pub project: crate::model::Id,
    pub ranges: Vec<SerialRange>,
}

impl TagBatch {
    pub fn contains(&self, tag: &TagCode) -> bool {
        tag.batch_key() == self.key && self.ranges.iter().any(|r| (r.first..=r.last).contains(&tag.serial()))
    }

    pub fn len(&self) -> u64 {
        self.ranges.iter().map(|r| u64::from(r.last.saturating_sub(r.first)) + 1).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// Ranges must be well-formed and must not overlap each other (R16).
    pub fn check_ranges(&self) -> Result<(), String> {
        let mut rs = self.ranges.clone();
        rs.sort_by_key(|r| r.first);
        for r in &rs {
            if r.first > r.last || r.last > 9_999_999 {
                return Err(format!("bad serial range {}..={}", r.first, r.last));
            }
        }
        for w in rs.windows(2) {
            if w[1].first <= w[0].last {
                return Err(format!(
                    "serial ranges overlap: {}..={} and {}..={}",
                    w[0].first, w[0].last, w[1].first, w[1].last
                ));
            }
        }
        Ok(())
    }

    /// Whether two batches would share any tag code (R16: never duplicated).
    pub fn overlaps(&self, other: &TagBatch) -> bool {
        self.key == other.key
            && self.ranges.iter().any(|a| other.ranges.iter().any(|b| a.first <= b.last && b.first <= a.last))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r16_check_digit_catches_single_errors_and_adjacent_swaps() {
        let code = TagCode::from_parts(1234, 26, 7, 123).unwrap();
        let s = code.as_str().to_owned();
        for i in 0..TAG_DIGITS {
            for d in b'0'..=b'9' {
                let mut b = s.clone().into_bytes();
                if b[i] == d {
                    continue;
                }
                b[i] = d;
                let t = String::from_utf8(b).unwrap();
                assert_eq!(TagCode::parse_digits(&t), Err(TagCodeError::CheckDigit), "{t}");
            }
        }
        for i in 0..TAG_DIGITS - 1 {
            let mut b = s.clone().into_bytes();
            if b[i] == b[i + 1] {
                continue;
            }
            b.swap(i, i + 1);
            let t = String::from_utf8(b).unwrap();
            assert_eq!(TagCode::parse_digits(&t), Err(TagCodeError::CheckDigit), "{t}");
        }
    }

    #[test]
    fn r6_parses_every_qr_form_and_printed_digits() {
        let code = TagCode::from_parts(310, 26, 1, 42).unwrap();
        assert_eq!(TagCode::parse_qr(&code.qr_payload()).unwrap(), code);
        assert_eq!(TagCode::parse_qr(code.as_str()).unwrap(), code);
        let url = format!("https://jc.example.cn/t/{}", code.as_str());
        assert_eq!(TagCode::parse_qr(&url).unwrap(), code);
        assert_eq!(TagCode::parse_digits(&code.printed()).unwrap(), code);
        assert_eq!(TagCode::parse_qr("hello"), Err(TagCodeError::Foreign));
        // The one parser takes every form, and keeps a QR form's own error.
        assert_eq!(TagCode::parse(&code.qr_payload()).unwrap(), code);
        assert_eq!(TagCode::parse(&url).unwrap(), code);
        assert_eq!(TagCode::parse(&code.printed()).unwrap(), code);
        assert_eq!(TagCode::parse(" JZ1:310026000100000421 "), TagCode::parse_digits("310026000100000421"));
        assert!(matches!(TagCode::parse("hello"), Err(TagCodeError::NotDigit('h'))));
        assert_eq!(TagCode::parse_digits("１２"), Err(TagCodeError::Length(2)));
    }

    #[test]
    fn r16_overlapping_batches_are_detected() {
        let key = BatchKey { supplier: 1, year: 26, batch: 1 };
        let a = TagBatch {
            key,
            supplier_org: crate::id!("S1"),
            project: crate::id!("P1"),
            ranges: vec![SerialRange { first: 1, last: 100 }],
        };
        let mut b = a.clone();
        b.ranges = vec![SerialRange { first: 100, last: 200 }];
        assert!(a.overlaps(&b));
        b.ranges = vec![SerialRange { first: 101, last: 200 }];
        assert!(!a.overlaps(&b));
        let mut c = a.clone();
        c.ranges.push(SerialRange { first: 50, last: 60 });
        assert!(c.check_ranges().is_err());
        assert!(a.contains(&TagCode::from_parts(1, 26, 1, 100).unwrap()));
        assert!(!a.contains(&TagCode::from_parts(1, 26, 1, 101).unwrap()));
        assert!(!a.contains(&TagCode::from_parts(1, 26, 2, 1).unwrap()));
    }
}
