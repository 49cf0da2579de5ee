//! Records: the append-only, signed facts of the system.
//!
//! A record is a [`RecordBody`] (who, which device, its place in the device's
//! hash chain, what happened, and the evidence), encoded canonically
//! (see [`crate::canonical`]). Its **id** is the SHA-256 of those bytes; the
//! author's device signs the id. Co-signatures (a witness co-signing the
//! commission form, R10) sign the id together with the co-signer's person id
//! and travel beside the body, so adding one never changes the record.
//!
//! Wire and storage form (also canonical JSON):
//! `{"body":{…},"cosigs":[…],"sig":"<base64url>"}`.
//!
//! Every device keeps one hash chain: record `seq = n` names the id of record
//! `n - 1` in `prev`; the first record has `seq = 0` and no `prev`. A device
//! cannot later insert, drop or reorder records without breaking the chain,
//! and two different records with one `seq` (equivocation) are detectable.

use crate::canonical::{self, CanonicalError};
use crate::crypto::{Domain, Hash, PublicKey, Signature, SigningKey};
use crate::lab_registry::LabRegistry;
use crate::model::{Id, Organisation, Person, PersonRole, Project, SpecimenKind, UnitProject};
use crate::place::Fix;
use crate::tag::{TagBatch, TagCode};
use crate::time::TimeEvidence;
use serde::{Deserialize, Serialize};

mod lab;
pub use lab::*;

/// The record format version this code reads and writes.
pub const FORMAT_VERSION: u32 = 1;

/// A device's position in its hash chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ChainTail {
    pub seq: u64,
    pub id: Hash,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RecordBody {
    /// Format version, always [`FORMAT_VERSION`] for records this code makes.
    pub v: u32,
    /// The signing device's public key.
    pub device: PublicKey,
    /// The person the device is enrolled for (or the server's operator id).
    pub author: Id,
    /// Position in the device's chain, from 0.
    pub seq: u64,
    /// Id of the device's previous record (`None` only for `seq == 0`).
    pub prev: Option<Hash>,
    pub payload: Payload,
    pub evidence: Evidence,
}

/// What the record says happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "data", rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Payload {
    // --- custody steps, authored by field devices and lab systems ---
    /// R6-R7: the sampler binds a tag to a specimen.
    Sampling(Sampling),
    /// R8: the witness attests the sampling.
    Witnessing(Witnessing),
    /// R10: the commission form for the lab.
    Commission(Commission),
    /// R11: the lab's receipt check of one tagged specimen.
    LabReceipt(LabReceipt),
    /// R12: test data for one specimen.
    TestData(TestData),
    /// R13: a test report with its anti-counterfeit code.
    Report(Report),
    /// R12: a second person of the lab reviews one test's data (no
    /// self-approval).
    TestReviewed(TestReview),
    /// R13: the lab withdraws one of its reports, saying why.
    ReportRevoked(ReportRevocation),
    // --- before work starts, signed by the people who answer for them ---
    /// R2, R15: the owner registers a testing or tag-supply contract.
    ContractRegistered(crate::plans::Contract),
    /// R4: the contractor's sampling plan for a unit project (a version).
    SamplingPlanDrafted(crate::plans::SamplingPlan),
    /// R5: the commissioned lab's testing plan for a unit project (a version).
    TestingPlanDrafted(crate::plans::TestingPlan),
    /// R4, R5: the supervisor approves (signs) or returns a plan version.
    PlanApproved(crate::plans::PlanApproval),
    /// R19: the authority's check before work starts.
    PreStartChecked(crate::plans::PreStartCheck),
    // --- admin facts, authored by the server (operator) ---
    OrganisationRegistered(Organisation),
    ProjectRegistered(Project),
    UnitProjectRegistered(UnitProject),
    PersonRegistered(Person),
    /// R1: letter of authorisation uploaded and real-name verification done.
    AuthorisationGranted(AuthorisationGrant),
    /// R1: authorisation withdrawn.
    AuthorisationRevoked(AuthorisationRevocation),
    DeviceEnrolled(DeviceEnrollment),
    DeviceRevoked(DeviceRevocation),
    /// R15-R16: a supplier's batch of tags, assigned to a project.
    TagBatchRegistered(TagBatch),
    /// R2: the owner commissions a lab for a unit project and test categories.
    LabCommissioned(LabAssignment),
    /// R3: the operator approved a lab's change request; the lab's whole
    /// registry (scope, equipment, staff) as of this change.
    LabRegistryUpdated(LabRegistryChange),
    /// R15: a tag supplier's filed yearly guide price.
    TagGuidePriceFiled(crate::plans::GuidePrice),
}

/// The kinds, without their data (for messages, indexes and the state machine).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    Sampling,
    Witnessing,
    Commission,
    LabReceipt,
    TestData,
    TestReviewed,
    Report,
    ReportRevoked,
    ContractRegistered,
    SamplingPlanDrafted,
    TestingPlanDrafted,
    PlanApproved,
    PreStartChecked,
    OrganisationRegistered,
    ProjectRegistered,
    UnitProjectRegistered,
    PersonRegistered,
    AuthorisationGranted,
    AuthorisationRevoked,
    DeviceEnrolled,
    DeviceRevoked,
    TagBatchRegistered,
    LabCommissioned,
    LabRegistryUpdated,
    TagGuidePriceFiled,
}

impl RecordKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::Sampling => "sampling",
            RecordKind::Witnessing => "witnessing",
            RecordKind::Commission => "commission",
            RecordKind::LabReceipt => "lab_receipt",
            RecordKind::TestData => "test_data",
            RecordKind::TestReviewed => "test_reviewed",
            RecordKind::Report => "report",
            RecordKind::ReportRevoked => "report_revoked",
            RecordKind::ContractRegistered => "contract_registered",
            RecordKind::SamplingPlanDrafted => "sampling_plan_drafted",
            RecordKind::TestingPlanDrafted => "testing_plan_drafted",
            RecordKind::PlanApproved => "plan_approved",
            RecordKind::PreStartChecked => "pre_start_checked",
            RecordKind::TagGuidePriceFiled => "tag_guide_price_filed",
            RecordKind::OrganisationRegistered => "organisation_registered",
            RecordKind::ProjectRegistered => "project_registered",
            RecordKind::UnitProjectRegistered => "unit_project_registered",
            RecordKind::PersonRegistered => "person_registered",
            RecordKind::AuthorisationGranted => "authorisation_granted",
            RecordKind::AuthorisationRevoked => "authorisation_revoked",
            RecordKind::DeviceEnrolled => "device_enrolled",
            RecordKind::DeviceRevoked => "device_revoked",
            RecordKind::TagBatchRegistered => "tag_batch_registered",
            RecordKind::LabCommissioned => "lab_commissioned",
            RecordKind::LabRegistryUpdated => "lab_registry_updated",
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            RecordKind::Sampling => "取样",
            RecordKind::Witnessing => "见证",
            RecordKind::Commission => "委托",
            RecordKind::LabReceipt => "收样",
            RecordKind::TestData => "检测数据",
            RecordKind::TestReviewed => "检测数据审核",
            RecordKind::Report => "检测报告",
            RecordKind::ReportRevoked => "撤销报告",
            RecordKind::ContractRegistered => "合同登记",
            RecordKind::SamplingPlanDrafted => "取样计划",
            RecordKind::TestingPlanDrafted => "检测计划",
            RecordKind::PlanApproved => "计划审批",
            RecordKind::PreStartChecked => "开工前检查",
            RecordKind::TagGuidePriceFiled => "标识指导价备案",
            RecordKind::OrganisationRegistered => "单位登记",
            RecordKind::ProjectRegistered => "项目登记",
            RecordKind::UnitProjectRegistered => "单位工程登记",
            RecordKind::PersonRegistered => "人员登记",
            RecordKind::AuthorisationGranted => "授权",
            RecordKind::AuthorisationRevoked => "撤销授权",
            RecordKind::DeviceEnrolled => "设备注册",
            RecordKind::DeviceRevoked => "设备注销",
            RecordKind::TagBatchRegistered => "标识批次登记",
            RecordKind::LabCommissioned => "委托检测机构",
            RecordKind::LabRegistryUpdated => "检测机构登记变更",
        }
    }

    /// Facts only the server (the operator's key) may author.
    pub fn is_admin_fact(self) -> bool {
        !matches!(
            self,
            RecordKind::Sampling
                | RecordKind::Witnessing
                | RecordKind::Commission
                | RecordKind::LabReceipt
                | RecordKind::TestData
                | RecordKind::TestReviewed
                | RecordKind::Report
                | RecordKind::ReportRevoked
                | RecordKind::ContractRegistered
                | RecordKind::SamplingPlanDrafted
                | RecordKind::TestingPlanDrafted
                | RecordKind::PlanApproved
                | RecordKind::PreStartChecked
        )
    }

    /// The person role needed to author this kind on a project (R1).
    pub fn required_role(self) -> Option<PersonRole> {
        match self {
            RecordKind::Sampling | RecordKind::Commission => Some(PersonRole::Sampler),
            RecordKind::Witnessing => Some(PersonRole::Witness),
            RecordKind::LabReceipt => Some(PersonRole::LabReceiver),
            RecordKind::TestData => Some(PersonRole::LabTester),
            // The lab's reviewer (审核) is one of its report issuers: a person
            // other than the tester (R12), authorised to sign for the lab.
            RecordKind::TestReviewed | RecordKind::Report | RecordKind::ReportRevoked => {
                Some(PersonRole::LabReporter)
            }
            RecordKind::ContractRegistered => Some(PersonRole::OwnerRepresentative),
            RecordKind::SamplingPlanDrafted => Some(PersonRole::ContractorEngineer),
            // The lab's testing plan is signed for the lab by its report
            // signatory, who answers for what the lab will test.
            RecordKind::TestingPlanDrafted => Some(PersonRole::LabReporter),
            RecordKind::PlanApproved => Some(PersonRole::SupervisingEngineer),
            RecordKind::PreStartChecked => Some(PersonRole::Inspector),
            _ => None,
        }
    }
}

impl Payload {
    pub fn kind(&self) -> RecordKind {
        match self {
            Payload::Sampling(_) => RecordKind::Sampling,
            Payload::Witnessing(_) => RecordKind::Witnessing,
            Payload::Commission(_) => RecordKind::Commission,
            Payload::LabReceipt(_) => RecordKind::LabReceipt,
            Payload::TestData(_) => RecordKind::TestData,
            Payload::Report(_) => RecordKind::Report,
            Payload::ReportRevoked(_) => RecordKind::ReportRevoked,
            Payload::TestReviewed(_) => RecordKind::TestReviewed,
            Payload::ContractRegistered(_) => RecordKind::ContractRegistered,
            Payload::SamplingPlanDrafted(_) => RecordKind::SamplingPlanDrafted,
            Payload::TestingPlanDrafted(_) => RecordKind::TestingPlanDrafted,
            Payload::PlanApproved(_) => RecordKind::PlanApproved,
            Payload::PreStartChecked(_) => RecordKind::PreStartChecked,
            Payload::TagGuidePriceFiled(_) => RecordKind::TagGuidePriceFiled,
            Payload::OrganisationRegistered(_) => RecordKind::OrganisationRegistered,
            Payload::ProjectRegistered(_) => RecordKind::ProjectRegistered,
            Payload::UnitProjectRegistered(_) => RecordKind::UnitProjectRegistered,
            Payload::PersonRegistered(_) => RecordKind::PersonRegistered,
            Payload::AuthorisationGranted(_) => RecordKind::AuthorisationGranted,
            Payload::AuthorisationRevoked(_) => RecordKind::AuthorisationRevoked,
            Payload::DeviceEnrolled(_) => RecordKind::DeviceEnrolled,
            Payload::DeviceRevoked(_) => RecordKind::DeviceRevoked,
            Payload::TagBatchRegistered(_) => RecordKind::TagBatchRegistered,
            Payload::LabCommissioned(_) => RecordKind::LabCommissioned,
            Payload::LabRegistryUpdated(_) => RecordKind::LabRegistryUpdated,
        }
    }

    /// The tags this record is about (custody steps only).
    pub fn tags(&self) -> Vec<&TagCode> {
        match self {
            Payload::Sampling(s) => vec![&s.tag],
            Payload::Witnessing(w) => vec![&w.tag],
            Payload::Commission(c) => c.items.iter().map(|i| &i.tag).collect(),
            Payload::LabReceipt(r) => vec![&r.tag],
            Payload::TestData(t) => vec![&t.tag],
            Payload::Report(r) => r.tags.iter().collect(),
            Payload::ReportRevoked(r) => r.tags.iter().collect(),
            Payload::TestReviewed(r) => vec![&r.tag],
            _ => vec![],
        }
    }

    /// The project a custody step belongs to, where the payload names it.
    pub fn project(&self) -> Option<&Id> {
        match self {
            Payload::Sampling(s) => Some(&s.project),
            Payload::Commission(c) => Some(&c.project),
            Payload::ContractRegistered(c) => Some(&c.project),
            Payload::SamplingPlanDrafted(p) => Some(&p.project),
            Payload::TestingPlanDrafted(p) => Some(&p.project),
            Payload::PlanApproved(a) => Some(&a.project),
            Payload::PreStartChecked(c) => Some(&c.project),
            _ => None,
        }
    }

    /// Other records this one names (they must exist before it is judged).
    pub fn references(&self) -> Vec<Hash> {
        match self {
            Payload::Witnessing(w) => vec![w.sampling],
            Payload::Commission(c) => c.items.iter().flat_map(|i| [i.sampling, i.witnessing]).collect(),
            Payload::LabReceipt(r) => vec![r.commission],
            Payload::TestData(t) => [Some(t.receipt), t.revises].into_iter().flatten().collect(),
            Payload::Report(r) => r.amends.into_iter().collect(),
            Payload::ReportRevoked(r) => vec![r.report],
            Payload::TestReviewed(r) => vec![r.test_data],
            Payload::SamplingPlanDrafted(p) => p.supersedes.into_iter().collect(),
            Payload::TestingPlanDrafted(p) => p.supersedes.into_iter().chain([p.sampling_plan]).collect(),
            Payload::PlanApproved(a) => vec![a.plan],
            _ => vec![],
        }
    }
}

/// What a media file is evidence of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum MediaPurpose {
    /// Face-verification photo (sensitive personal information, PIPL).
    Face,
    /// Process photo or video of the sampling / witnessing (R7, R8).
    Process,
    /// Close-up of the tag on the specimen.
    Tag,
    /// The seal of a sample bag or box.
    Seal,
    /// Handwritten signature drawn on the screen.
    HandSignature,
    /// Letter of authorisation (R1).
    Letter,
    /// The printable commission form (R10).
    CommissionForm,
    /// A mechanical test's data curve (R12).
    TestCurve,
    /// The report document (R13).
    ReportDocument,
}

impl MediaPurpose {
    /// Its stable name, as the wire and the databases write it (`face`,
    /// `process`, …): the serde name, so the two cannot drift.
    pub fn name(self) -> String {
        serde_json::to_value(self).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
    }
}

/// A photo, video or document, by content hash. The bytes travel separately.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MediaRef {
    pub sha256: Hash,
    pub size: u64,
    /// IANA media type, e.g. `image/jpeg`, `video/mp4`, `application/pdf`.
    pub media_type: String,
    pub purpose: MediaPurpose,
    /// Device monotonic reading when captured, if captured live.
    pub captured_mono_ms: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Evidence {
    pub media: Vec<MediaRef>,
    pub fixes: Vec<Fix>,
    pub time: TimeEvidence,
}

impl Evidence {
    pub fn media_with(&self, purpose: MediaPurpose) -> impl Iterator<Item = &MediaRef> {
        self.media.iter().filter(move |m| m.purpose == purpose)
    }
    pub fn has_media(&self, hash: &Hash) -> bool {
        self.media.iter().any(|m| m.sha256 == *hash)
    }
}

/// How a tag was read. A typed code is weaker evidence than a scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum TagReadMethod {
    Camera,
    /// A hand-held scanner acting as a keyboard (lab workstations).
    Scanner,
    /// Typed from the printed digits because no camera could read it.
    Manual,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TagRead {
    pub method: TagReadMethod,
    /// Which decoder read it (camera), for diagnosis.
    pub decoder: Option<String>,
}

/// Result of the on-device face check (R1, R7, R8). Scores are integers in
/// thousandths so the canonical format stays float-free.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct FaceCheck {
    /// The face photo (listed in the evidence with purpose `face`).
    pub photo: Hash,
    /// Model identifiers and versions used.
    pub model: String,
    /// Similarity to the enrolled reference, x1000.
    pub score_milli: i32,
    /// Threshold in force when the check ran, x1000.
    pub threshold_milli: i32,
    pub matched: bool,
    /// Active liveness challenge, if one was run.
    pub liveness: Option<Liveness>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Liveness {
    /// `blink`, `turn_left` or `turn_right`.
    pub challenge: String,
    pub passed: bool,
    pub frames: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Specimen {
    pub kind: SpecimenKind,
    /// 工程部位: where in the structure it came from, e.g. "3层 柱".
    pub part: String,
    /// 规格/强度等级, e.g. "C30", "HRB400E Φ20".
    pub grade: String,
    /// 批号 / 进场批次.
    pub batch_no: String,
    pub quantity: u32,
    /// 组, 根, 个 …
    pub unit: String,
    /// Tests asked for, e.g. "抗压强度".
    pub tests: Vec<String>,
    /// The sampling-plan item this belongs to (R4), when there is a plan.
    pub plan_item: Option<Id>,
}

/// R6-R7.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Sampling {
    pub tag: TagCode,
    pub tag_read: TagRead,
    /// 封志 number, where a seal applies.
    pub seal: Option<String>,
    pub project: Id,
    pub unit_project: Id,
    pub specimen: Specimen,
    pub face: FaceCheck,
}

/// How the witness's phone came to hold the sampling record it attests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum HandshakeMethod {
    /// Scanned from the sampler's screen, face to face, offline.
    Qr,
    /// Received through the server.
    Synced,
}

/// R8.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Witnessing {
    /// Id of the sampling record witnessed.
    pub sampling: Hash,
    pub tag: TagCode,
    pub tag_read: TagRead,
    pub handshake: HandshakeMethod,
    /// The sampling record's signature as the witness received it: proof
    /// that the witness held the exact signed record (R8-R9).
    pub sampling_sig: Signature,
    pub face: FaceCheck,
    /// Handwritten signature drawn on the screen (media, purpose `hand_signature`).
    pub hand_signature: Option<Hash>,
    pub remarks: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CommissionItem {
    pub tag: TagCode,
    pub sampling: Hash,
    pub witnessing: Hash,
    pub tests: Vec<String>,
}

/// R10: made by the sampler after witnessing, co-signed by the witness.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Commission {
    /// Form number printed on the sheet.
    pub form_no: String,
    pub project: Id,
    pub unit_project: Id,
    pub lab: Id,
    /// The witness expected to co-sign.
    pub witness: Id,
    pub items: Vec<CommissionItem>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RealNameCheck {
    /// How identity was verified, e.g. `id_card+face`.
    pub method: String,
    pub verified_at_ms: i64,
    /// Reference face template photo for on-device 1:1 matching, if enrolled.
    pub face_reference: Option<Hash>,
}

/// R1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AuthorisationGrant {
    pub grant: Id,
    pub person: Id,
    pub org: Id,
    /// `None`: on every project the organisation is commissioned for (lab
    /// staff, whose letters are issued per lab, not per site).
    pub project: Option<Id>,
    pub role: PersonRole,
    /// The uploaded letter of authorisation (media, purpose `letter`).
    pub letter: Hash,
    pub real_name: RealNameCheck,
    pub valid_from_ms: i64,
    pub valid_until_ms: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AuthorisationRevocation {
    pub grant: Id,
    pub reason: String,
    pub effective_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DeviceEnrollment {
    pub device: PublicKey,
    pub person: Id,
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DeviceRevocation {
    pub device: PublicKey,
    pub reason: String,
    pub effective_ms: i64,
}

/// R2: one lab per unit project and test category.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LabAssignment {
    pub project: Id,
    pub unit_project: Id,
    pub lab: Id,
    pub kinds: Vec<SpecimenKind>,
}

/// R3: one approved change of a lab's registry. The registry is carried
/// whole, so the one in force at any time is one record, not a replay of
/// edits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LabRegistryChange {
    /// The change request approved (its id in the server's queue).
    pub request: String,
    /// The lab's manager who asked for it.
    pub requested_by: Id,
    /// What changed, in the lab's words.
    pub summary: String,
    pub registry: LabRegistry,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cosignature {
    pub device: PublicKey,
    pub author: Id,
    pub sig: Signature,
}

/// What a co-signer signs: the record's id *and* who they claim to be, so
/// the `author` beside a co-signature cannot be swapped afterwards.
#[derive(Serialize)]
struct CosignStatement<'a> {
    author: &'a Id,
    record: &'a Hash,
}

impl Cosignature {
    /// The bytes signed (under domain `jzqy/cosign/v1`): canonical
    /// `{"author":…,"record":"<id hex>"}`.
    pub fn message(record: &Hash, author: &Id) -> Vec<u8> {
        canonical::to_canonical(&CosignStatement { author, record }).expect("statement is canonical-safe")
    }

    pub fn verify(&self, record: &Hash) -> bool {
        self.device.verify(Domain::Cosign, &Cosignature::message(record, &self.author), &self.sig)
    }
}

/// Why bytes are not a valid record.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum DecodeError {
    #[error(
        "record format version {found} is not supported (this software reads version {FORMAT_VERSION}); update the app or server"
    )]
    UnknownVersion { found: u64 },
    #[error("record has no format version")]
    MissingVersion,
    #[error(transparent)]
    Canonical(#[from] CanonicalError),
}

impl DecodeError {
    pub fn message_zh(&self) -> String {
        match self {
            DecodeError::UnknownVersion { found } => format!(
                "记录格式版本 {found} 不受支持（本软件读取版本 {FORMAT_VERSION}），请更新应用或服务器"
            ),
            DecodeError::MissingVersion => "记录缺少格式版本".into(),
            DecodeError::Canonical(e) => format!("记录格式错误：{e}"),
        }
    }
}

/// Why a record's signatures do not hold.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum SignatureError {
    #[error("the author device's signature does not verify")]
    Author,
    #[error("co-signature {index} does not verify")]
    Cosignature { index: usize },
    #[error("co-signature {index} is by the author's own device")]
    SelfCosignature { index: usize },
}

impl RecordBody {
    pub fn canonical_bytes(&self) -> Vec<u8> {
        canonical::to_canonical(self).expect("record bodies contain only integers and strings")
    }
    pub fn id(&self) -> Hash {
        Hash::of(&self.canonical_bytes())
    }
    pub fn kind(&self) -> RecordKind {
        self.payload.kind()
    }
    pub fn tail(&self) -> ChainTail {
        ChainTail { seq: self.seq, id: self.id() }
    }
}

/// A record with its author's signature and any co-signatures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedRecord {
    body: RecordBody,
    body_bytes: Vec<u8>,
    id: Hash,
    sig: Signature,
    cosigs: Vec<Cosignature>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Envelope {
    body: RecordBody,
    sig: Signature,
    cosigs: Vec<Cosignature>,
}

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[error("signing key does not match the body's device key")]
pub struct WrongKey;

impl SignedRecord {
    /// Sign a body with its device's key.
    pub fn sign(body: RecordBody, key: &SigningKey) -> Result<SignedRecord, WrongKey> {
        if body.device != key.public() {
            return Err(WrongKey);
        }
        let body_bytes = body.canonical_bytes();
        let id = Hash::of(&body_bytes);
        let sig = key.sign(Domain::Record, id.as_bytes());
        Ok(SignedRecord { body, body_bytes, id, sig, cosigs: Vec::new() })
    }

    /// Add a co-signature by another device (e.g. the witness on the commission form).
    pub fn cosign(&mut self, key: &SigningKey, author: Id) {
        let sig = key.sign(Domain::Cosign, &Cosignature::message(&self.id, &author));
        self.cosigs.retain(|c| c.device != key.public());
        self.cosigs.push(Cosignature { device: key.public(), author, sig });
        self.cosigs.sort_by_key(|c| c.device);
    }

    /// Attach a co-signature made elsewhere (after checking it).
    pub fn attach_cosignature(&mut self, c: Cosignature) -> Result<(), SignatureError> {
        if c.device == self.body.device {
            return Err(SignatureError::SelfCosignature { index: self.cosigs.len() });
        }
        if !c.verify(&self.id) {
            return Err(SignatureError::Cosignature { index: self.cosigs.len() });
        }
        self.cosigs.retain(|x| x.device != c.device);
        self.cosigs.push(c);
        self.cosigs.sort_by_key(|c| c.device);
        Ok(())
    }

    pub fn body(&self) -> &RecordBody {
        &self.body
    }
    pub fn body_bytes(&self) -> &[u8] {
        &self.body_bytes
    }
    pub fn id(&self) -> Hash {
        self.id
    }
    pub fn sig(&self) -> &Signature {
        &self.sig
    }
    pub fn cosigs(&self) -> &[Cosignature] {
        &self.cosigs
    }
    pub fn tail(&self) -> ChainTail {
        ChainTail { seq: self.body.seq, id: self.id }
    }

    /// Check the author's signature and every co-signature.
    pub fn verify_signatures(&self) -> Result<(), SignatureError> {
        if !self.body.device.verify(Domain::Record, self.id.as_bytes(), &self.sig) {
            return Err(SignatureError::Author);
        }
        for (index, c) in self.cosigs.iter().enumerate() {
            if c.device == self.body.device {
                return Err(SignatureError::SelfCosignature { index });
            }
            if !c.verify(&self.id) {
                return Err(SignatureError::Cosignature { index });
            }
        }
        Ok(())
    }

    /// Canonical envelope bytes (what is stored and sent).
    pub fn to_bytes(&self) -> Vec<u8> {
        // Members in canonical order (body < cosigs < sig), splicing the body
        // bytes already computed instead of serialising the body again.
        let cosigs = canonical::to_canonical(&self.cosigs).expect("co-signatures are canonical-safe");
        let sig = self.sig.to_b64();
        let mut out = Vec::with_capacity(self.body_bytes.len() + cosigs.len() + sig.len() + 32);
        out.extend_from_slice(b"{\"body\":");
        out.extend_from_slice(&self.body_bytes);
        out.extend_from_slice(b",\"cosigs\":");
        out.extend_from_slice(&cosigs);
        out.extend_from_slice(b",\"sig\":\"");
        out.extend_from_slice(sig.as_bytes());
        out.extend_from_slice(b"\"}");
        out
    }

    /// Decode canonical envelope bytes. Checks format version and canonical
    /// form; signatures are checked separately by [`Self::verify_signatures`].
    pub fn from_bytes(bytes: &[u8]) -> Result<SignedRecord, DecodeError> {
        let value = canonical::parse_value(bytes)?;
        check_version(&value)?;
        // Floats and out-of-range integers are refused here, with their own error.
        let _ = canonical::value_to_canonical(&value)?;
        let env: Envelope =
            serde_json::from_value(value).map_err(|e| CanonicalError::Schema(e.to_string()))?;
        let body_bytes = env.body.canonical_bytes();
        let id = Hash::of(&body_bytes);
        let rec = SignedRecord { body: env.body, body_bytes, id, sig: env.sig, cosigs: env.cosigs };
        // The typed form must re-encode to exactly what was received, or a
        // field was lost or added in translation.
        if rec.to_bytes() != bytes {
            return Err(CanonicalError::NotCanonical.into());
        }
        Ok(rec)
    }

    /// Decode and verify signatures in one step.
    pub fn decode_verified(bytes: &[u8]) -> Result<SignedRecord, RecordError> {
        let r = SignedRecord::from_bytes(bytes)?;
        r.verify_signatures()?;
        Ok(r)
    }
}

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum RecordError {
    #[error(transparent)]
    Decode(#[from] DecodeError),
    #[error(transparent)]
    Signature(#[from] SignatureError),
}

fn check_version(envelope: &serde_json::Value) -> Result<(), DecodeError> {
    match envelope.get("body").and_then(|b| b.get("v")) {
        None => Err(DecodeError::MissingVersion),
        Some(v) => match v.as_u64() {
            Some(n) if n == u64::from(FORMAT_VERSION) => Ok(()),
            Some(n) => Err(DecodeError::UnknownVersion { found: n }),
            None => Err(DecodeError::MissingVersion),
        },
    }
}

/// Why a device's records do not form one unbroken chain.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "chain_error", rename_all = "snake_case")]
pub enum ChainError {
    #[error("expected sequence number {expected}, got {got}: records are missing")]
    Gap { expected: u64, got: u64 },
    #[error("sequence number {seq} is already taken by another record: equivocation")]
    Fork { seq: u64, existing: Option<Hash> },
    #[error("record {seq} names previous {claimed:?} but the chain has {actual:?}")]
    BrokenLink { seq: u64, claimed: Option<Hash>, actual: Option<Hash> },
    #[error("record belongs to another device")]
    WrongDevice,
}

impl ChainError {
    pub fn message_zh(&self) -> String {
        match self {
            ChainError::Gap { expected, got } => format!("应为序号 {expected}，收到 {got}：有记录缺失"),
            ChainError::Fork { seq, .. } => {
                format!("序号 {seq} 已被另一条记录占用：同一序号出现两条不同记录")
            }
            ChainError::BrokenLink { seq, .. } => format!("记录 {seq} 的前序哈希与链不符"),
            ChainError::WrongDevice => "记录属于另一台设备".into(),
        }
    }
}

/// Whether `body` may come next after `tail` (None: the device has no records yet).
/// Resending the record already at `tail` is not a chain error; callers check
/// idempotency (same id) before calling this.
pub fn check_next(tail: Option<&ChainTail>, body: &RecordBody) -> Result<(), ChainError> {
    let expected = tail.map_or(0, |t| t.seq + 1);
    if body.seq > expected {
        return Err(ChainError::Gap { expected, got: body.seq });
    }
    if body.seq < expected {
        // Only the tail's id is known here; callers with the full chain say more.
        let existing = tail.filter(|t| t.seq == body.seq).map(|t| t.id);
        return Err(ChainError::Fork { seq: body.seq, existing });
    }
    let actual = tail.map(|t| t.id);
    if body.prev != actual {
        return Err(ChainError::BrokenLink { seq: body.seq, claimed: body.prev, actual });
    }
    Ok(())
}

/// Verify a device's whole chain, in order, from its first record.
pub fn verify_chain(records: &[SignedRecord]) -> Result<(), ChainError> {
    let mut tail: Option<ChainTail> = None;
    let device = records.first().map(|r| r.body.device);
    for r in records {
        if Some(r.body.device) != device {
            return Err(ChainError::WrongDevice);
        }
        check_next(tail.as_ref(), &r.body)?;
        tail = Some(r.tail());
    }
    Ok(())
}
