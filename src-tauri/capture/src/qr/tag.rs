//! From decoded text to a tag code the custody rules accept (R6, R11, R16).
//!
//! A QR decoder returns text; a tag is only a tag when the text has one of
//! our payload forms, its 18 digits pass the Damm check, and (when the app
//! knows the project's registered batches) it belongs to one of them. How
//! the tag was read goes into the record as a [`TagRead`]: a camera read
//! names the decoder, a typed code says `manual`, which the verifier shows
//! as weaker evidence.

use super::ScanOutcome;
use custody_core::record::{TagRead, TagReadMethod};
use custody_core::tag::{TagBatch, TagCode, TagCodeError};

/// A tag read and validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScannedTag {
    pub code: TagCode,
    /// How it was read, for the record.
    pub read: TagRead,
}

/// Why a read did not yield a usable tag.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TagScanError {
    #[error("no QR code was read")]
    NoCode,
    #[error("the QR code is not a tag of this system: {payload:?}")]
    Foreign { payload: String },
    #[error("invalid tag code: {0}")]
    Invalid(TagCodeError),
    #[error("several different tags are in view ({0:?}): show one tag at a time")]
    Several(Vec<TagCode>),
    #[error("tag {0} is not in any tag batch registered for this project")]
    UnknownBatch(TagCode),
}

impl TagScanError {
    pub fn message_zh(&self) -> String {
        match self {
            TagScanError::NoCode => "未识别到二维码".into(),
            TagScanError::Foreign { .. } => "该二维码不是本系统的标识".into(),
            TagScanError::Invalid(e) => e.message_zh(),
            TagScanError::Several(_) => "画面中有多个标识，请一次只对准一个".into(),
            TagScanError::UnknownBatch(code) => format!("标识 {} 不属于本项目登记的任何批次", code.printed()),
        }
    }
}

/// The tag in a scan outcome. Codes that are not ours (a poster, a phone
/// number sticker) are ignored when exactly one of ours is in view; two of
/// ours is refused, since which one is being bound would be a guess (R6).
/// `batches`: the project's registered tag batches, when the app has them;
/// a tag outside all of them is refused (R16).
pub fn tag_from_scan(
    outcome: &ScanOutcome,
    batches: Option<&[TagBatch]>,
) -> Result<ScannedTag, TagScanError> {
    let first = outcome.codes.first().ok_or(TagScanError::NoCode)?;
    let mut ours: Vec<(TagCode, &super::Decoded)> = Vec::new();
    let mut first_error = None;
    for d in &outcome.codes {
        match TagCode::parse_qr(&d.text) {
            Ok(code) => {
                if !ours.iter().any(|(c, _)| *c == code) {
                    ours.push((code, d));
                }
            }
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    match ours.len() {
        0 => Err(match first_error {
            Some(TagCodeError::Foreign) | None => TagScanError::Foreign { payload: first.text.clone() },
            Some(e) => TagScanError::Invalid(e),
        }),
        1 => {
            let (code, d) = ours.pop().expect("one");
            check_batch(&code, batches)?;
            Ok(ScannedTag {
                code,
                read: TagRead { method: TagReadMethod::Camera, decoder: Some(d.strategy.name()) },
            })
        }
        _ => Err(TagScanError::Several(ours.into_iter().map(|(c, _)| c).collect())),
    }
}

/// A tag typed from its printed digits because no camera could read it
/// (torn, burnt, frozen label). Recorded as `manual`: weaker evidence that
/// the verifier flags as a notice (R6).
pub fn manual_entry(typed: &str, batches: Option<&[TagBatch]>) -> Result<ScannedTag, TagScanError> {
    let code = TagCode::parse_digits(typed).map_err(TagScanError::Invalid)?;
    check_batch(&code, batches)?;
    Ok(ScannedTag { code, read: TagRead { method: TagReadMethod::Manual, decoder: None } })
}

/// A tag read by a hand-held scanner that types the QR text like a keyboard
/// (lab workstations, R11).
pub fn keyboard_scanner_entry(text: &str, batches: Option<&[TagBatch]>) -> Result<ScannedTag, TagScanError> {
    let code = TagCode::parse_qr(text).map_err(|e| match e {
        TagCodeError::Foreign => TagScanError::Foreign { payload: text.to_owned() },
        other => TagScanError::Invalid(other),
    })?;
    check_batch(&code, batches)?;
    Ok(ScannedTag { code, read: TagRead { method: TagReadMethod::Scanner, decoder: None } })
}

fn check_batch(code: &TagCode, batches: Option<&[TagBatch]>) -> Result<(), TagScanError> {
    match batches {
        Some(bs) if !bs.iter().any(|b| b.contains(code)) => Err(TagScanError::UnknownBatch(code.clone())),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::qr::{Decoded, Decoder, Prep, Strategy};
    use custody_core::tag::{BatchKey, SerialRange};
    use std::time::Duration;

    fn outcome(texts: &[&str]) -> ScanOutcome {
        ScanOutcome {
            codes: texts
                .iter()
                .map(|t| Decoded {
                    text: (*t).to_owned(),
                    strategy: Strategy { decoder: Decoder::RxingHybrid, prep: Prep::None },
                })
                .collect(),
            skipped_by_precheck: false,
            attempts: 1,
            incidents: vec![],
            budget_exhausted: false,
            elapsed: Duration::ZERO,
        }
    }

    fn batch() -> TagBatch {
        TagBatch {
            key: BatchKey { supplier: 310, year: 26, batch: 1 },
            supplier_org: custody_core::Id::new("S1").unwrap(),
            project: custody_core::Id::new("P1").unwrap(),
            ranges: vec![SerialRange { first: 1, last: 500 }],
        }
    }

    #[test]
    fn r6_camera_read_names_its_decoder_and_checks_the_batch() {
        let code = TagCode::from_parts(310, 26, 1, 42).unwrap();
        let t = tag_from_scan(&outcome(&[&code.qr_payload()]), Some(&[batch()])).unwrap();
        assert_eq!(t.code, code);
        assert_eq!(t.read.method, TagReadMethod::Camera);
        assert_eq!(t.read.decoder.as_deref(), Some("rxing-0.9/hybrid"));
        let outside = TagCode::from_parts(310, 26, 1, 501).unwrap();
        let e = tag_from_scan(&outcome(&[&outside.qr_payload()]), Some(&[batch()])).unwrap_err();
        assert_eq!(e, TagScanError::UnknownBatch(outside));
        assert!(e.message_zh().contains("批次"));
    }

    #[test]
    fn r16_foreign_bad_check_digit_and_two_tags_are_refused() {
        assert!(matches!(tag_from_scan(&outcome(&["hello"]), None), Err(TagScanError::Foreign { .. })));
        assert_eq!(tag_from_scan(&outcome(&[]), None), Err(TagScanError::NoCode));
        let code = TagCode::from_parts(310, 26, 1, 42).unwrap();
        let mut bad = code.as_str().to_owned().into_bytes();
        bad[17] = if bad[17] == b'0' { b'1' } else { b'0' };
        let bad = format!("JZ1:{}", String::from_utf8(bad).unwrap());
        assert_eq!(
            tag_from_scan(&outcome(&[&bad]), None),
            Err(TagScanError::Invalid(TagCodeError::CheckDigit))
        );
        let other = TagCode::from_parts(310, 26, 1, 43).unwrap();
        let e = tag_from_scan(&outcome(&[&code.qr_payload(), &other.qr_payload()]), None).unwrap_err();
        assert!(matches!(e, TagScanError::Several(ref v) if v.len() == 2));
        // A foreign code beside ours does not stop the read.
        let t = tag_from_scan(&outcome(&["http://ad.example/", &code.qr_payload()]), None).unwrap();
        assert_eq!(t.code, code);
    }

    #[test]
    fn r6_manual_entry_is_recorded_as_manual() {
        let code = TagCode::from_parts(310, 26, 1, 42).unwrap();
        let t = manual_entry(&code.printed(), Some(&[batch()])).unwrap();
        assert_eq!(t.read, TagRead { method: TagReadMethod::Manual, decoder: None });
        assert!(manual_entry("1234", None).is_err());
        let k = keyboard_scanner_entry(&code.qr_payload(), None).unwrap();
        assert_eq!(k.read.method, TagReadMethod::Scanner);
    }
}
