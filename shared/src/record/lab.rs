//! The lab's records (R11-R13): the receipt check of one tagged specimen,
//! test data with its machine curve, a second person's review, the report
//! with its document, and a report's revocation. Their rules are in
//! `verify::steps`; this is their shape on the wire.

use super::TagRead;
use crate::crypto::Hash;
use crate::model::Id;
use crate::tag::TagCode;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum RejectReason {
    /// 标识破损: the tag is damaged or unreadable.
    TagDamaged,
    /// 标识信息与样品不符.
    TagMismatch,
    /// 与委托单不符.
    FormMismatch,
    /// 样品破损/不合格.
    SpecimenDamaged,
    /// 封志破损.
    SealBroken,
    /// 超出检测能力范围.
    OutOfScope,
    Other,
}

impl RejectReason {
    pub const ALL: [RejectReason; 7] = [
        RejectReason::TagDamaged,
        RejectReason::TagMismatch,
        RejectReason::FormMismatch,
        RejectReason::SpecimenDamaged,
        RejectReason::SealBroken,
        RejectReason::OutOfScope,
        RejectReason::Other,
    ];
    pub fn name_zh(self) -> &'static str {
        match self {
            RejectReason::TagDamaged => "标识破损或无法识读",
            RejectReason::TagMismatch => "标识信息与样品不符",
            RejectReason::FormMismatch => "与委托单不符",
            RejectReason::SpecimenDamaged => "样品破损或不符合要求",
            RejectReason::SealBroken => "封志破损",
            RejectReason::OutOfScope => "超出检测能力范围",
            RejectReason::Other => "其他",
        }
    }
    pub fn name_en(self) -> &'static str {
        match self {
            RejectReason::TagDamaged => "Tag damaged or unreadable",
            RejectReason::TagMismatch => "Tag does not match the specimen",
            RejectReason::FormMismatch => "Does not match the commission form",
            RejectReason::SpecimenDamaged => "Specimen damaged or unfit",
            RejectReason::SealBroken => "Seal broken",
            RejectReason::OutOfScope => "Outside the lab's scope",
            RejectReason::Other => "Other",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case", deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum ReceiptDecision {
    Accepted,
    Rejected { reason: RejectReason, note: String },
}

/// R11: one tag scanned on receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LabReceipt {
    pub tag: TagCode,
    pub tag_read: TagRead,
    pub commission: Hash,
    pub decision: ReceiptDecision,
    /// The codes of the trail's findings the receiver saw and confirmed
    /// before accepting (R11): accepting despite a flag is a recorded
    /// decision, never a silent one. Absent when there was nothing to confirm.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub acknowledged: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Measurement {
    pub name: String,
    /// Value x1000 in `unit`.
    pub value_milli: i64,
    pub unit: String,
}

/// R12.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TestData {
    pub tag: TagCode,
    pub receipt: Hash,
    pub test: String,
    pub standard: String,
    pub results: Vec<Measurement>,
    /// The machine's data curve (media, purpose `test_curve`).
    pub curve: Option<Hash>,
    /// Captured automatically from the testing machine (R12), not typed.
    pub automatic: bool,
    pub equipment: Option<Id>,
    /// An edit after first entry (R12, R20): the earlier test data of this
    /// tag and test that this record corrects. The earlier one stays in the
    /// log; who and when are this record's signature, `reason` says why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revises: Option<Hash>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// R13.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Report {
    pub report_no: String,
    pub tags: Vec<TagCode>,
    pub conclusion: String,
    /// The report document (media, purpose `report_document`).
    pub document: Hash,
    /// The previous report this one corrects, if any.
    pub amends: Option<Hash>,
}

/// R12: one test's data reviewed by a second person of the lab. A report is
/// sealed only when every test of its specimens is approved by someone
/// other than its tester (`report_seal::issuable`); returning it for
/// correction needs a note, and a corrected test is a new test-data record
/// (who and when are its signature; the review's note says why).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TestReview {
    /// The test-data record reviewed.
    pub test_data: Hash,
    /// Its tag.
    pub tag: TagCode,
    pub approved: bool,
    /// Why it was returned (required then), or a remark.
    pub note: String,
}

/// R13: a report withdrawn by its lab. Custody does not move (the
/// specimens stay reported); the report's check answers "revoked" with the
/// reason and date, forever. It names the report's tags, so it sits in their
/// trails.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ReportRevocation {
    /// The report record withdrawn.
    pub report: Hash,
    /// Its tags, exactly as the report lists them.
    pub tags: Vec<TagCode>,
    /// Why, in the lab's words (shown on the public check).
    pub reason: String,
}
