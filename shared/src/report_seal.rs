//! R13: the report QR — the monitoring system's anti-counterfeit mark on a
//! test report, checkable offline by its signature and online for status.
//!
//! # What it is
//!
//! A [`ReportSeal`] says: *the system accepted report `report_no` (record
//! `report`) of lab `lab`, whose document has SHA-256 `document`, at
//! `issued_ms`*. The server signs it with its own key (domain
//! [`Domain::ReportSeal`], so no other signature can pass as one) when the
//! report's chain is whole; the lab prints the resulting text as a QR on
//! every page. Anyone can then:
//!
//! * **offline**, check the signature against the system's published keys
//!   ([`SignedSeal::verify`]) and compare a file's SHA-256 with `document`;
//! * **online**, open the QR's URL: the check page answers the status the
//!   seal cannot carry — valid, replaced by a later report, or revoked —
//!   because a signature, once made, cannot be taken back (the lesson of
//!   fake certificates: a QR that only opens a PDF proves nothing; notes,
//!   "Report QR and verifiable documents").
//!
//! # Why this encoding
//!
//! Like the EU digital COVID certificate, the payload is compact binary,
//! signed, and written in an alphabet that QR's alphanumeric mode stores in
//! 5.5 bits a character: here RFC 4648 base32 (A–Z, 2–7), which unlike
//! Base45 has no space or `%` and so sits in a URL path unescaped. The key
//! id is the first 8 bytes of the signer key's SHA-256 (its fingerprint),
//! so seals made before a key rotation still name the key that verifies
//! them. Printed at error correction Q the QR survives a crease or a stain.
//!
//! Layout, all integers big-endian:
//!
//! | bytes | field |
//! |---|---|
//! | 1 | version (1) |
//! | 8 | key id |
//! | 32 | report record id |
//! | 32 | document SHA-256 |
//! | 8 | issued, ms since the Unix epoch (i64) |
//! | 1 + n | lab id (n ≤ 64, UTF-8) |
//! | 1 + n | report number (n ≤ 64, UTF-8) |
//! | 64 | Ed25519 signature over everything before it |

use crate::crypto::{Domain, Hash, PublicKey, Signature, SigningKey};
use crate::lab_registry::RegistryProblem;
use crate::model::Id;
use crate::verify::Lang;
use serde::{Deserialize, Serialize};

/// The seal format this code writes.
pub const SEAL_VERSION: u8 = 1;
/// The longest lab id or report number a seal carries, in bytes.
pub const MAX_FIELD: usize = 64;
const FIXED: usize = 1 + 8 + 32 + 32 + 8;
const SIG: usize = 64;

/// What the system vouches for (R13).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportSeal {
    /// The report record's id.
    pub report: Hash,
    /// The lab (organisation) that issued it.
    pub lab: Id,
    /// The lab's report number, as printed.
    pub report_no: String,
    /// SHA-256 of the report document the lab signed.
    pub document: Hash,
    /// When the system accepted the report (its trusted time).
    pub issued_ms: i64,
}

/// A seal with its signer's key id and signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedSeal {
    pub seal: ReportSeal,
    pub key_id: [u8; 8],
    pub sig: Signature,
}

/// Why a text is not a valid seal.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error("not a report seal: character {0:?} is not base32")]
    NotBase32(char),
    #[error("not a report seal: {got} bytes is too short")]
    Truncated { got: usize },
    #[error("unknown seal version {0}")]
    UnknownVersion(u8),
    #[error("malformed seal: {0}")]
    Malformed(&'static str),
    #[error("a field is longer than {MAX_FIELD} bytes")]
    FieldTooLong,
    #[error("signed by key {0}, which is not one of the system's keys")]
    UnknownKey(String),
    #[error("the signature does not match: the seal was altered or forged")]
    BadSignature,
}

impl SealError {
    /// For the person holding the report.
    pub fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (SealError::NotBase32(_) | SealError::Truncated { .. } | SealError::Malformed(_), Lang::ZhCn) => {
                "这不是本系统的报告二维码（内容不完整或格式不对）".into()
            }
            (SealError::UnknownVersion(v), Lang::ZhCn) => format!("无法识别的二维码版本 {v}"),
            (SealError::FieldTooLong, Lang::ZhCn) => "字段过长".into(),
            (SealError::UnknownKey(k), Lang::ZhCn) => {
                format!("签名密钥 {k} 不是本系统的密钥：此二维码不是本系统签发的")
            }
            (SealError::BadSignature, Lang::ZhCn) => "签名不符：二维码内容被改动或伪造".into(),
            (e, Lang::En) => e.to_string(),
        }
    }
}

/// The key id a seal names: the first 8 bytes of the key's SHA-256 (the
/// same bytes as [`PublicKey::fingerprint`]).
pub fn key_id(key: &PublicKey) -> [u8; 8] {
    let mut id = [0u8; 8];
    id.copy_from_slice(&Hash::of(&key.0).0[..8]);
    id
}

fn push_field(out: &mut Vec<u8>, s: &str) -> Result<(), SealError> {
    let n =
        u8::try_from(s.len()).ok().filter(|n| usize::from(*n) <= MAX_FIELD).ok_or(SealError::FieldTooLong)?;
    out.push(n);
    out.extend_from_slice(s.as_bytes());
    Ok(())
}

impl ReportSeal {
    /// The signed bytes: everything but the signature.
    fn body(&self, key_id: &[u8; 8]) -> Result<Vec<u8>, SealError> {
        let mut out = Vec::with_capacity(FIXED + 2 + self.lab.as_str().len() + self.report_no.len());
        out.push(SEAL_VERSION);
        out.extend_from_slice(key_id);
        out.extend_from_slice(&self.report.0);
        out.extend_from_slice(&self.document.0);
        out.extend_from_slice(&self.issued_ms.to_be_bytes());
        push_field(&mut out, self.lab.as_str())?;
        push_field(&mut out, &self.report_no)?;
        Ok(out)
    }

    /// Sign with the system's key. Ed25519 is deterministic, so the same
    /// report always gets the same seal: the server need not store it.
    pub fn sign(self, key: &SigningKey) -> Result<SignedSeal, SealError> {
        let key_id = key_id(&key.public());
        let sig = key.sign(Domain::ReportSeal, &self.body(&key_id)?);
        Ok(SignedSeal { seal: self, key_id, sig })
    }
}

impl SignedSeal {
    /// The seal's bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>, SealError> {
        let mut out = self.seal.body(&self.key_id)?;
        out.extend_from_slice(&self.sig.0);
        Ok(out)
    }

    /// The text the QR carries after the URL prefix: unpadded base32.
    pub fn encode(&self) -> Result<String, SealError> {
        Ok(base32_encode(&self.to_bytes()?))
    }

    /// The whole QR text: the check page's URL for this seal
    /// (`{base}/q/{seal}`, `base` without a trailing slash).
    pub fn qr_text(&self, base: &str) -> Result<String, SealError> {
        Ok(format!("{}{}", base.trim_end_matches('/'), crate::routes::report_check(&self.encode()?)))
    }

    /// Parse a seal's text (case-insensitive base32), or a whole QR text
    /// ending in `/q/{seal}`. Checks the form only; [`SignedSeal::verify`]
    /// checks the signature.
    pub fn decode(text: &str) -> Result<SignedSeal, SealError> {
        let text = text.trim();
        let code = text.rsplit_once("/q/").or_else(|| text.rsplit_once("/Q/")).map_or(text, |(_, c)| c);
        let bytes = base32_decode(code)?;
        SignedSeal::from_bytes(&bytes)
    }

    pub fn from_bytes(b: &[u8]) -> Result<SignedSeal, SealError> {
        if b.len() < FIXED + 2 + SIG {
            return Err(SealError::Truncated { got: b.len() });
        }
        let version = b[0];
        if version != SEAL_VERSION {
            return Err(SealError::UnknownVersion(version));
        }
        let mut key_id = [0u8; 8];
        key_id.copy_from_slice(&b[1..9]);
        let report = Hash(b[9..41].try_into().map_err(|_| SealError::Malformed("report"))?);
        let document = Hash(b[41..73].try_into().map_err(|_| SealError::Malformed("document"))?);
        let issued_ms = i64::from_be_bytes(b[73..81].try_into().map_err(|_| SealError::Malformed("time"))?);
        let mut at = FIXED;
        let mut field = |what: &'static str| -> Result<String, SealError> {
            let n = usize::from(*b.get(at).ok_or(SealError::Malformed(what))?);
            if n > MAX_FIELD {
                return Err(SealError::FieldTooLong);
            }
            let s = b.get(at + 1..at + 1 + n).ok_or(SealError::Malformed(what))?;
            at += 1 + n;
            String::from_utf8(s.to_vec()).map_err(|_| SealError::Malformed(what))
        };
        let lab = Id::new(field("lab")?).map_err(|_| SealError::Malformed("lab"))?;
        let report_no = field("report number")?;
        if b.len() != at + SIG {
            return Err(SealError::Malformed("length"));
        }
        let sig = Signature(b[at..].try_into().map_err(|_| SealError::Malformed("signature"))?);
        Ok(SignedSeal { seal: ReportSeal { report, lab, report_no, document, issued_ms }, key_id, sig })
    }

    /// The signer's key id as hex (what [`PublicKey::fingerprint`] prints).
    pub fn key_id_hex(&self) -> String {
        hex::encode(self.key_id)
    }

    /// Check the signature with whichever of `keys` the seal names (the
    /// system's current and earlier keys). Offline: no status.
    pub fn verify(&self, keys: &[PublicKey]) -> Result<&ReportSeal, SealError> {
        let key = keys
            .iter()
            .find(|k| key_id(k) == self.key_id)
            .ok_or_else(|| SealError::UnknownKey(self.key_id_hex()))?;
        let body = self.seal.body(&self.key_id)?;
        if key.verify(Domain::ReportSeal, &body, &self.sig) {
            Ok(&self.seal)
        } else {
            Err(SealError::BadSignature)
        }
    }
}

const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// RFC 4648 base32, upper case, no padding.
pub fn base32_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let (mut acc, mut bits) = (0u32, 0u32);
    for &b in bytes {
        acc = (acc << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((acc >> bits) & 31) as usize]));
        }
        acc &= (1 << bits) - 1;
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((acc << (5 - bits)) & 31) as usize]));
    }
    out
}

/// The inverse of [`base32_encode`], accepting lower case (a phone may
/// lower-case a URL) and ignoring `=` padding. Trailing bits must be zero,
/// so each seal has one spelling.
pub fn base32_decode(text: &str) -> Result<Vec<u8>, SealError> {
    let mut out = Vec::with_capacity(text.len() * 5 / 8);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.trim_end_matches('=').chars() {
        let v = match c.to_ascii_uppercase() {
            u @ 'A'..='Z' => u as u32 - 'A' as u32,
            d @ '2'..='7' => d as u32 - '2' as u32 + 26,
            other => return Err(SealError::NotBase32(other)),
        };
        acc = (acc << 5) | v;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push(((acc >> bits) & 0xff) as u8);
        }
        acc &= (1 << bits) - 1;
    }
    if bits >= 5 || acc != 0 {
        return Err(SealError::Malformed("trailing bits"));
    }
    Ok(out)
}

/// A report's standing, which the seal cannot carry (R13). A replaced
/// report's QR keeps answering "replaced by …" forever.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ReportStatus {
    Valid,
    /// A later accepted report amends this one (its record and number).
    ReplacedBy {
        report: Hash,
        report_no: String,
        at_ms: i64,
    },
    /// Withdrawn, with the reason given in the signed revocation.
    Revoked {
        reason: String,
        at_ms: i64,
    },
}

impl ReportStatus {
    pub fn label(&self, lang: Lang) -> &'static str {
        match (self, lang) {
            (ReportStatus::Valid, Lang::ZhCn) => "有效",
            (ReportStatus::Valid, Lang::En) => "valid",
            (ReportStatus::ReplacedBy { .. }, Lang::ZhCn) => "已被替换",
            (ReportStatus::ReplacedBy { .. }, Lang::En) => "replaced",
            (ReportStatus::Revoked { .. }, Lang::ZhCn) => "已撤销",
            (ReportStatus::Revoked { .. }, Lang::En) => "revoked",
        }
    }
}

/// A later event about a report, as the store holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportEvent {
    /// An accepted report whose `amends` names this one.
    Amended { by: Hash, report_no: String, at_ms: i64 },
    /// An accepted revocation of it, with the organisation of whoever
    /// signed it (`None`: unknown).
    Revoked { reason: String, at_ms: i64, by: Option<Id> },
}

/// The status from the report's later events: a revocation wins over a
/// replacement (a withdrawn report stays withdrawn, whatever came after),
/// and among several of one kind the earliest counts (ties by id), so the
/// answer never depends on the order the store returned them in. Only a
/// revocation signed for the report's own `lab` counts: anyone else's is
/// kept as evidence and changes nothing.
pub fn report_status(events: &[ReportEvent], lab: Option<&Id>) -> ReportStatus {
    let revoked = events
        .iter()
        .filter_map(|e| match e {
            ReportEvent::Revoked { reason, at_ms, by } if lab.is_some() && by.as_ref() == lab => {
                Some((*at_ms, reason))
            }
            _ => None,
        })
        .min();
    if let Some((at_ms, reason)) = revoked {
        return ReportStatus::Revoked { reason: reason.clone(), at_ms };
    }
    events
        .iter()
        .filter_map(|e| match e {
            ReportEvent::Amended { by, report_no, at_ms } => Some((*at_ms, *by, report_no)),
            _ => None,
        })
        .min()
        .map_or(ReportStatus::Valid, |(at_ms, report, no)| ReportStatus::ReplacedBy {
            report,
            report_no: no.clone(),
            at_ms,
        })
}

/// What the server knows of one specimen a report covers, for [`issuable`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecimenFacts {
    /// The tag as printed.
    pub tag: String,
    /// The lab's verdict over its whole trail passed (sampled, witnessed in
    /// time, on site, commissioned, intact tag: `trail::judge`).
    pub trail_ok: bool,
    /// The organisation whose accepted receipt took it in (R11).
    pub received_by: Option<Id>,
    /// An accepted test-data record of it carries a machine curve (R12).
    pub curve: bool,
    /// A curve its test data names has not been uploaded yet.
    pub curve_pending: bool,
    /// A curve could not be read or recomputed (`results::check`).
    pub curve_unreadable: bool,
    /// Values the lab reported that the recomputation does not give.
    pub mismatches: Vec<String>,
    /// Its tests not (or no longer) approved by a reviewer other than the
    /// tester: the latest review of each must approve it (R12).
    pub unreviewed: Vec<String>,
    /// What its current tests break of the lab's registry in force when
    /// they were made, for certain (R3: `Violation::RegistryBreach` on
    /// their records).
    pub registry: Vec<RegistryProblem>,
}

/// One test-data record of a specimen, as the store holds it (accepted, in
/// log order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestEntry {
    pub id: Hash,
    pub test: String,
    /// The earlier test data it corrects (R12, R20).
    pub revises: Option<Hash>,
}

/// One accepted review, in log order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewEntry {
    pub test_data: Hash,
    pub approved: bool,
}

/// R12, R20: a specimen's current tests — each not corrected by a later
/// one (a corrected test stays in the log but no longer counts) — and which
/// of them lack approval: the latest review of a test decides (a return
/// after an approval takes it back).
pub fn current_tests<'a>(
    tests: &'a [TestEntry],
    reviews: &[ReviewEntry],
) -> (Vec<&'a TestEntry>, Vec<String>) {
    let superseded: std::collections::BTreeSet<Hash> = tests.iter().filter_map(|t| t.revises).collect();
    let mut latest = std::collections::BTreeMap::new();
    for r in reviews {
        latest.insert(r.test_data, r.approved);
    }
    let current: Vec<&TestEntry> = tests.iter().filter(|t| !superseded.contains(&t.id)).collect();
    let unreviewed =
        current.iter().filter(|t| latest.get(&t.id) != Some(&true)).map(|t| t.test.clone()).collect();
    (current, unreviewed)
}

/// Everything [`issuable`] decides on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issuance {
    /// The report record was accepted (signatures, device, custody order).
    pub accepted: bool,
    /// Codes of the findings on the report record itself.
    pub findings: Vec<String>,
    /// The organisation of the report's author (`None`: unknown, so no
    /// specimen can have been received by it).
    pub lab: Option<Id>,
    pub specimens: Vec<SpecimenFacts>,
}

/// Why the system will not vouch for a report (yet).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "gap", rename_all = "snake_case")]
pub enum Gap {
    NotAccepted,
    Findings { codes: Vec<String> },
    NoSpecimens,
    TrailNotWhole { tag: String },
    NotReceivedByThisLab { tag: String, received_by: Option<String> },
    NoCurve { tag: String },
    CurvePending { tag: String },
    CurveUnreadable { tag: String },
    ResultMismatch { tag: String, names: Vec<String> },
    NotReviewed { tag: String, tests: Vec<String> },
    RegistryBroken { tag: String, problems: Vec<RegistryProblem> },
}

impl Gap {
    pub fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (Gap::NotAccepted, Lang::ZhCn) => "报告记录未被系统接受".into(),
            (Gap::NotAccepted, Lang::En) => "the report record was not accepted".into(),
            (Gap::Findings { codes }, Lang::ZhCn) => format!("报告记录本身有问题：{}", codes.join("、")),
            (Gap::Findings { codes }, Lang::En) => {
                format!("the report record has findings: {}", codes.join(", "))
            }
            (Gap::NoSpecimens, Lang::ZhCn) => "报告没有列出任何试件标识".into(),
            (Gap::NoSpecimens, Lang::En) => "the report lists no tagged specimen".into(),
            (Gap::TrailNotWhole { tag }, Lang::ZhCn) => {
                format!("试件 {tag} 的取样见证链不完整或未通过核验（R8–R11）")
            }
            (Gap::TrailNotWhole { tag }, Lang::En) => {
                format!("specimen {tag}: its custody trail is not whole or failed verification (R8–R11)")
            }
            (Gap::NotReceivedByThisLab { tag, .. }, Lang::ZhCn) => {
                format!("试件 {tag} 不是本检测机构收样的（R2、R11）")
            }
            (Gap::NotReceivedByThisLab { tag, .. }, Lang::En) => {
                format!("specimen {tag} was not received by this lab (R2, R11)")
            }
            (Gap::NoCurve { tag }, Lang::ZhCn) => format!("试件 {tag} 没有自动采集的试验曲线（R12）"),
            (Gap::NoCurve { tag }, Lang::En) => {
                format!("specimen {tag} has no automatically captured machine curve (R12)")
            }
            (Gap::CurvePending { tag }, Lang::ZhCn) => {
                format!("试件 {tag} 的试验曲线尚未上传完毕，请同步后再试（R12）")
            }
            (Gap::CurvePending { tag }, Lang::En) => {
                format!(
                    "specimen {tag}: its machine curve has not finished uploading; sync and try again (R12)"
                )
            }
            (Gap::CurveUnreadable { tag }, Lang::ZhCn) => {
                format!("试件 {tag} 的试验曲线无法读取或复核（R12）")
            }
            (Gap::CurveUnreadable { tag }, Lang::En) => {
                format!("specimen {tag}: its machine curve cannot be read or recomputed (R12)")
            }
            (Gap::ResultMismatch { tag, names }, Lang::ZhCn) => {
                format!("试件 {tag} 的报告值 {} 与系统按曲线复核的结果不符（R12）", names.join("、"))
            }
            (Gap::NotReviewed { tag, tests }, Lang::ZhCn) => {
                format!("试件 {tag} 的检测数据 {} 尚未经他人审核通过（R12）", tests.join("、"))
            }
            (Gap::NotReviewed { tag, tests }, Lang::En) => format!(
                "specimen {tag}: test data {} not yet approved by a reviewer other than the tester (R12)",
                tests.join(", ")
            ),
            (Gap::RegistryBroken { tag, problems }, Lang::ZhCn) => format!(
                "试件 {tag} 的检测不符合检测机构登记：{}",
                problems.iter().map(|p| p.message(Lang::ZhCn)).collect::<Vec<_>>().join("；")
            ),
            (Gap::RegistryBroken { tag, problems }, Lang::En) => format!(
                "specimen {tag}: its test breaks the lab registry: {}",
                problems.iter().map(|p| p.message(Lang::En)).collect::<Vec<_>>().join("; ")
            ),
            (Gap::ResultMismatch { tag, names }, Lang::En) => format!(
                "specimen {tag}: reported {} differ from what the system recomputes from the curve (R12)",
                names.join(", ")
            ),
        }
    }
}

/// R13: a report is issued — sealed — only when its chain is whole: the
/// record accepted without findings, and every specimen sampled,
/// witnessed, commissioned and received by this very lab (its trail
/// verdict), and tested with a machine curve that has arrived, can be read,
/// gives the values the lab reported (R12, `results::check`), and was
/// approved by a reviewer other than its tester (R12), within the lab's
/// registry in force when it was made: scope, staff, calibrated equipment
/// (R3). Every gap is named, so the
/// lab knows what to mend; an empty answer means the seal may be made.
pub fn issuable(i: &Issuance) -> Vec<Gap> {
    let mut gaps = Vec::new();
    if !i.accepted {
        gaps.push(Gap::NotAccepted);
    }
    if !i.findings.is_empty() {
        gaps.push(Gap::Findings { codes: i.findings.clone() });
    }
    if i.specimens.is_empty() {
        gaps.push(Gap::NoSpecimens);
    }
    for s in &i.specimens {
        if !s.trail_ok {
            gaps.push(Gap::TrailNotWhole { tag: s.tag.clone() });
        }
        if i.lab.is_none() || s.received_by != i.lab {
            gaps.push(Gap::NotReceivedByThisLab {
                tag: s.tag.clone(),
                received_by: s.received_by.as_ref().map(|l| l.as_str().to_owned()),
            });
        }
        if !s.curve {
            gaps.push(Gap::NoCurve { tag: s.tag.clone() });
        }
        if s.curve_pending {
            gaps.push(Gap::CurvePending { tag: s.tag.clone() });
        }
        if s.curve_unreadable {
            gaps.push(Gap::CurveUnreadable { tag: s.tag.clone() });
        }
        if !s.mismatches.is_empty() {
            gaps.push(Gap::ResultMismatch { tag: s.tag.clone(), names: s.mismatches.clone() });
        }
        if !s.unreviewed.is_empty() {
            gaps.push(Gap::NotReviewed { tag: s.tag.clone(), tests: s.unreviewed.clone() });
        }
        if !s.registry.is_empty() {
            gaps.push(Gap::RegistryBroken { tag: s.tag.clone(), problems: s.registry.clone() });
        }
    }
    gaps
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u8) -> SigningKey {
        SigningKey::from_seed(&[n; 32]).unwrap()
    }

    fn seal() -> ReportSeal {
        ReportSeal {
            report: Hash::of(b"report"),
            lab: Id::new("lab-yk-01").unwrap(),
            report_no: "YK-BG-2026-000123".into(),
            document: Hash::of(b"document"),
            issued_ms: 1_790_000_000_000,
        }
    }

    #[test]
    fn r13_seal_round_trips_and_verifies_offline() {
        let k = key(7);
        let signed = seal().sign(&k).unwrap();
        let text = signed.qr_text("https://jzqy.example.cn/").unwrap();
        assert!(text.starts_with("https://jzqy.example.cn/q/"));
        let back = SignedSeal::decode(&text).unwrap();
        assert_eq!(back, signed);
        assert_eq!(back.verify(&[key(1).public(), k.public()]).unwrap(), &seal());
        // A phone that lower-cases the URL still checks.
        assert_eq!(SignedSeal::decode(&text.to_lowercase()).unwrap(), signed);
    }

    #[test]
    fn r13_another_key_or_a_changed_byte_fails() {
        let signed = seal().sign(&key(7)).unwrap();
        assert!(matches!(signed.verify(&[key(1).public()]), Err(SealError::UnknownKey(_))));
        let mut bytes = signed.to_bytes().unwrap();
        bytes[50] ^= 1; // the document hash
        let forged = SignedSeal::from_bytes(&bytes).unwrap();
        assert_eq!(forged.verify(&[key(7).public()]), Err(SealError::BadSignature));
        // A seal re-signed by a key that pretends to have the system's key id.
        let mut fake = seal().sign(&key(9)).unwrap();
        fake.key_id = key_id(&key(7).public());
        assert_eq!(fake.verify(&[key(7).public()]), Err(SealError::BadSignature));
    }

    #[test]
    fn r13_seal_fits_a_qr_read_reliably_when_printed() {
        // 173 bytes for a typical lab id and report number: 277 base32
        // characters (the server's tests measure the QR version it makes).
        let text = seal().sign(&key(7)).unwrap().encode().unwrap();
        assert_eq!(text.len(), 277);
        assert!(text.bytes().all(|b| ALPHABET.contains(&b)));
    }

    #[test]
    fn r13_bad_text_is_refused_not_panicked() {
        assert!(matches!(SignedSeal::decode("hello world"), Err(SealError::NotBase32(' '))));
        assert!(matches!(
            SignedSeal::decode("ABC"),
            Err(SealError::Truncated { .. } | SealError::Malformed(_))
        ));
        let text = seal().sign(&key(7)).unwrap().encode().unwrap();
        for cut in [1, 8, 100, 273] {
            assert!(SignedSeal::decode(&text[..cut]).is_err(), "cut at {cut}");
        }
        assert!(SealError::BadSignature.message(Lang::ZhCn).contains("伪造"));
    }

    #[test]
    fn r13_long_fields_are_refused_at_signing() {
        let mut s = seal();
        s.report_no = "9".repeat(MAX_FIELD + 1);
        assert_eq!(s.sign(&key(7)), Err(SealError::FieldTooLong));
    }

    #[test]
    fn r13_only_a_whole_chain_is_issued_and_every_gap_is_named() {
        let lab = Id::new("lab-a").unwrap();
        let good = SpecimenFacts {
            tag: "T1".into(),
            trail_ok: true,
            received_by: Some(lab.clone()),
            curve: true,
            curve_pending: false,
            curve_unreadable: false,
            mismatches: vec![],
            unreviewed: vec![],
            registry: vec![],
        };
        let whole = Issuance {
            accepted: true,
            findings: vec![],
            lab: Some(lab.clone()),
            specimens: vec![good.clone()],
        };
        assert_eq!(issuable(&whole), vec![]);
        let other = SpecimenFacts {
            tag: "T2".into(),
            trail_ok: false,
            received_by: Some(Id::new("lab-b").unwrap()),
            curve: false,
            curve_pending: true,
            curve_unreadable: true,
            mismatches: vec!["f_cu".into()],
            unreviewed: vec!["concrete_cube_strength".into()],
            registry: vec![RegistryProblem::OutsideScope { parameter: "concrete_cube_strength".into() }],
        };
        let broken = Issuance {
            accepted: false,
            findings: vec!["missing_evidence".into()],
            lab: Some(lab),
            specimens: vec![good, other],
        };
        let gaps = issuable(&broken);
        assert_eq!(gaps.len(), 10, "{gaps:?}");
        assert!(gaps.iter().any(|g| matches!(g, Gap::RegistryBroken { tag, .. } if tag == "T2")));
        assert!(gaps.contains(&Gap::ResultMismatch { tag: "T2".into(), names: vec!["f_cu".into()] }));
        assert!(
            gaps.contains(&Gap::NotReceivedByThisLab { tag: "T2".into(), received_by: Some("lab-b".into()) })
        );
        assert!(gaps.iter().all(|g| !g.message(Lang::ZhCn).is_empty() && !g.message(Lang::En).is_empty()));
        let unknown_lab = Issuance { lab: None, ..whole.clone() };
        assert!(matches!(issuable(&unknown_lab)[..], [Gap::NotReceivedByThisLab { .. }]));
        assert_eq!(issuable(&Issuance { specimens: vec![], ..whole }), vec![Gap::NoSpecimens]);
    }

    #[test]
    fn r12_r20_only_current_tests_count_and_the_latest_review_decides() {
        let t = |n: &[u8], revises: Option<&[u8]>| TestEntry {
            id: Hash::of(n),
            test: "concrete_cube_strength".into(),
            revises: revises.map(Hash::of),
        };
        let r = |n: &[u8], approved| ReviewEntry { test_data: Hash::of(n), approved };
        let tests = [t(b"1", None), t(b"2", Some(b"1")), t(b"3", None)];
        let (current, unreviewed) = current_tests(&tests, &[r(b"1", true), r(b"3", true), r(b"3", false)]);
        assert_eq!(current.iter().map(|c| c.id).collect::<Vec<_>>(), vec![Hash::of(b"2"), Hash::of(b"3")]);
        assert_eq!(unreviewed.len(), 2, "the correction is unreviewed; the last review returned 3");
        let (_, unreviewed) = current_tests(&tests, &[r(b"2", true), r(b"3", false), r(b"3", true)]);
        assert!(unreviewed.is_empty());
    }

    #[test]
    fn base32_matches_rfc4648_vectors() {
        for (plain, enc) in [
            ("", ""),
            ("f", "MY"),
            ("fo", "MZXQ"),
            ("foo", "MZXW6"),
            ("foob", "MZXW6YQ"),
            ("fooba", "MZXW6YTB"),
            ("foobar", "MZXW6YTBOI"),
        ] {
            assert_eq!(base32_encode(plain.as_bytes()), enc);
            assert_eq!(base32_decode(enc).unwrap(), plain.as_bytes());
        }
        // Non-zero trailing bits: a second spelling of "f", refused.
        assert!(base32_decode("MZ").is_err());
    }

    #[test]
    fn r13_status_revocation_wins_and_the_earliest_replacement_counts() {
        let lab = Id::new("lab-a").unwrap();
        let st = |events: &[ReportEvent]| report_status(events, Some(&lab));
        assert_eq!(st(&[]), ReportStatus::Valid);
        let a = ReportEvent::Amended { by: Hash::of(b"b"), report_no: "B".into(), at_ms: 20 };
        let b = ReportEvent::Amended { by: Hash::of(b"c"), report_no: "C".into(), at_ms: 10 };
        let r = ReportEvent::Revoked { reason: "错误".into(), at_ms: 30, by: Some(lab.clone()) };
        assert!(matches!(st(&[a.clone(), b.clone()]), ReportStatus::ReplacedBy { at_ms: 10, .. }));
        assert!(matches!(st(&[b.clone(), a.clone()]), ReportStatus::ReplacedBy { at_ms: 10, .. }));
        assert_eq!(
            st(&[a.clone(), r.clone(), b]),
            ReportStatus::Revoked { reason: "错误".into(), at_ms: 30 }
        );
        // Another lab's revocation, or one by nobody known, changes nothing.
        let other =
            ReportEvent::Revoked { reason: "x".into(), at_ms: 5, by: Some(Id::new("lab-b").unwrap()) };
        let nobody = ReportEvent::Revoked { reason: "x".into(), at_ms: 5, by: None };
        assert!(matches!(st(&[a.clone(), other, nobody.clone()]), ReportStatus::ReplacedBy { .. }));
        assert!(matches!(report_status(&[a, nobody], None), ReportStatus::ReplacedBy { .. }));
    }
}
