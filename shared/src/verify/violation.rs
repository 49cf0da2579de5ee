//! The findings a verdict is made of: what each means for the record
//! (its disposition), the requirement it enforces, and its stable code.
//! The words people read are in `messages.rs`.

use crate::crypto::Hash;
use crate::custody::CustodyError;
use crate::lab_registry::{RegistryError, RegistryProblem};
use crate::model::{Id, OrgRole, PersonRole};
use crate::record::ChainError;
use crate::tag::TagCode;
use crate::time::{Millis, Undetermined};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Lang {
    #[default]
    #[serde(rename = "zh-CN")]
    ZhCn,
    #[serde(rename = "en")]
    En,
}

impl Lang {
    pub fn parse(s: &str) -> Lang {
        if s.to_ascii_lowercase().starts_with("en") { Lang::En } else { Lang::ZhCn }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Disposition {
    Notice,
    Flag,
    Defer,
    Refuse,
    Reject,
}

/// The requirement a finding enforces (REQUIREMENTS.md), or the record
/// format's own integrity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Rule {
    Integrity,
    R1,
    R2,
    R3,
    R4,
    R5,
    R6,
    R7,
    R8,
    R9,
    R10,
    R11,
    R12,
    R13,
    R15,
    R16,
    R17,
    R19,
}

/// Evidence a step cannot do without.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Missing {
    FacePhoto,
    Location,
    ProcessPhoto,
    HandSignature,
    ReportDocument,
    TestCurve,
}

/// What is wrong with a report revocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum RevocationProblem {
    NotAReport,
    TagsDiffer,
    NoReason,
}

/// What is wrong with a correction of test data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum RevisionProblem {
    NotTestData,
    OtherTagOrTest,
    NoReason,
}

/// What is wrong with a test review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum ReviewProblem {
    NotTestData,
    OtherTag,
    ReturnedWithoutNote,
}

/// One broken rule. The `code` (snake_case tag) is stable: apps match on it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Violation {
    // --- reject ---
    BadSignature,
    BadCosignature {
        index: usize,
    },
    CosignatureMisattributed {
        index: usize,
    },
    UnknownDevice,
    DeviceRevoked {
        effective_ms: Millis,
    },
    DeviceNotAuthors {
        device_person: Id,
    },
    AdminFactFromDevice,
    ServerKeyOnCustodyStep,
    Chain {
        error: ChainError,
    },
    // --- refuse ---
    NotAuthorised {
        role: PersonRole,
        project: Option<Id>,
    },
    AuthorisationInvalidAtTime {
        grant: Id,
        why: GrantProblem,
    },
    OrgCannotHoldRole {
        role: PersonRole,
        org_role: OrgRole,
    },
    TagUnknown {
        tag: TagCode,
    },
    TagOtherProject {
        tag: TagCode,
        tag_project: Id,
    },
    UnknownUnitProject {
        unit_project: Id,
    },
    Custody {
        tag: TagCode,
        error: CustodyError,
    },
    MissingEvidence {
        what: Missing,
    },
    MediaNotListed {
        hash: Hash,
    },
    HandshakeMismatch,
    TagDiffersFromSampling {
        sampling_tag: TagCode,
    },
    SelfWitness,
    LabNotCommissioned {
        lab: Id,
    },
    TagNotOnCommission {
        tag: TagCode,
    },
    WrongLab {
        lab: Id,
    },
    EmptyCommission,
    /// A report revocation that does not name a report, lists other tags,
    /// or gives no reason (R13).
    RevocationInvalid {
        what: RevocationProblem,
    },
    /// The tester reviewing their own test data (R12).
    SelfReview,
    /// A correction of test data that does not name earlier test data of
    /// the same tag and test, or gives no reason (R12, R20).
    RevisionInvalid {
        what: RevisionProblem,
    },
    /// A review that does not name a test of this tag, or returns it
    /// without saying why (R12).
    ReviewInvalid {
        what: ReviewProblem,
    },
    // --- refuse: admin facts (the directory's own rules) ---
    DirectoryIdTaken {
        entry: DirectoryEntry,
        id: String,
    },
    DirectoryEntryMissing {
        entry: DirectoryEntry,
        id: String,
    },
    OrgWrongRole {
        org: Id,
        expected: OrgRole,
    },
    GrantWithoutProject,
    GrantAlreadyRevoked {
        grant: Id,
    },
    BatchInvalid {
        reason: String,
    },
    BatchOverlap {
        project: Id,
    },
    BoundaryInvalid {
        reason: String,
    },
    LabAlreadyCommissioned {
        lab: Id,
    },
    /// A lab registry that contradicts itself or the directory (R3).
    LabRegistryInvalid {
        errors: Vec<RegistryError>,
    },
    // --- defer ---
    MissingReference {
        record: Hash,
    },
    // --- flag ---
    LateWitness {
        min_gap_ms: Millis,
    },
    /// Raised by the server on its own clock (`oversight::missed`): the
    /// window closed `overdue_ms` ago and every phone that could witness
    /// has synced since without a witnessing.
    WitnessMissing {
        closes_ms: Millis,
        overdue_ms: Millis,
    },
    OutsideSite {
        distance_m: i64,
    },
    NotTogether {
        distance_m: i64,
    },
    MockLocation,
    ImplausibleTrack {
        speed_mps: i64,
    },
    PoorAccuracy {
        accuracy_m: i64,
    },
    FaceMismatch {
        score_milli: i32,
        threshold_milli: i32,
    },
    LivenessFailed,
    /// The server's own face check of the uploaded photo contradicts the
    /// phone's claim (R1, R7; `face_recheck`): both scores × 1000 and the
    /// threshold applied.
    FaceRecheckDisagrees {
        claimed_milli: i32,
        server_milli: i32,
        threshold_milli: i32,
    },
    /// The server found no face to compare in the uploaded face photo,
    /// whatever the phone claimed (R1, R7; `face_recheck`).
    FaceNotFound {
        reason: super::face_recheck::FaceAbsence,
    },
    ClockSkew {
        skew_ms: Millis,
    },
    GnssMismatch {
        by_ms: Millis,
    },
    AnchorInvalid,
    MonotonicInconsistent,
    ClaimOutsideProven {
        by_ms: Millis,
    },
    AuthorisationUncertain {
        grant: Id,
    },
    DeviceRevocationUncertain {
        effective_ms: Millis,
    },
    TestDataNotAutomatic,
    CosignerNotAuthorised {
        person: Id,
    },
    UnconfirmedTrailFindings {
        codes: Vec<String>,
    },
    /// A test that breaks the lab's registry wherever in its time interval
    /// it was made (R3): outside the scope, by unqualified staff, on
    /// equipment out of calibration.
    RegistryBreach {
        problem: RegistryProblem,
    },
    // --- notice ---
    /// A test that breaks the registry at one end of its time interval
    /// only (R3): shown to regulators like an undetermined witness window.
    RegistryUncertain {
        problem: RegistryProblem,
    },
    /// A contract, plan, approval or pre-start check that does not hold
    /// together (R2, R4, R5, R15, R19): kept as evidence, no effect.
    PlanInvalid {
        problem: crate::plans::PlanProblem,
    },
    /// A sampling outside the approved sampling plan (R4): allowed, shown.
    OutsidePlan {
        reason: crate::plans::OutsidePlan,
    },
    /// No registry of the lab was in force when it tested (R3): labs
    /// registered before the registry existed keep working, and are told.
    NoLabRegistry {
        lab: Id,
    },
    TimingUndetermined {
        reason: Undetermined,
        claimed_gap_ms: Millis,
    },
    SiteUncertain {
        edge_distance_m: i64,
    },
    CoPresenceUncertain {
        distance_m: i64,
    },
    ManualTagEntry,
    NoLivenessCheck,
    AwaitingWitnessCosignature,
    /// R10: a specimen received as complete from a commission form its
    /// witness has not co-signed (the lab may still reject it).
    ReceivedWithoutCosignature,
}

/// An entry of the directory that admin facts build (R1, R2, R15).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DirectoryEntry {
    Organisation,
    Project,
    UnitProject,
    Person,
    Grant,
    Device,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GrantProblem {
    NotYetValid,
    Expired,
    Revoked,
}

impl Violation {
    pub fn disposition(&self) -> Disposition {
        use Violation as V;
        match self {
            V::BadSignature
            | V::BadCosignature { .. }
            | V::CosignatureMisattributed { .. }
            | V::UnknownDevice
            | V::DeviceRevoked { .. }
            | V::DeviceNotAuthors { .. }
            | V::AdminFactFromDevice
            | V::ServerKeyOnCustodyStep
            | V::Chain { .. } => Disposition::Reject,
            V::NotAuthorised { .. }
            | V::AuthorisationInvalidAtTime { .. }
            | V::OrgCannotHoldRole { .. }
            | V::TagUnknown { .. }
            | V::TagOtherProject { .. }
            | V::UnknownUnitProject { .. }
            | V::Custody { .. }
            | V::MissingEvidence { .. }
            | V::MediaNotListed { .. }
            | V::HandshakeMismatch
            | V::TagDiffersFromSampling { .. }
            | V::SelfWitness
            | V::LabNotCommissioned { .. }
            | V::TagNotOnCommission { .. }
            | V::WrongLab { .. }
            | V::EmptyCommission
            | V::RevocationInvalid { .. }
            | V::SelfReview
            | V::ReviewInvalid { .. }
            | V::RevisionInvalid { .. }
            | V::DirectoryIdTaken { .. }
            | V::DirectoryEntryMissing { .. }
            | V::OrgWrongRole { .. }
            | V::GrantWithoutProject
            | V::GrantAlreadyRevoked { .. }
            | V::BatchInvalid { .. }
            | V::BatchOverlap { .. }
            | V::BoundaryInvalid { .. }
            | V::LabAlreadyCommissioned { .. }
            | V::LabRegistryInvalid { .. }
            | V::PlanInvalid { .. }
            | V::ReceivedWithoutCosignature => Disposition::Refuse,
            V::MissingReference { .. } => Disposition::Defer,
            V::LateWitness { .. }
            | V::WitnessMissing { .. }
            | V::OutsideSite { .. }
            | V::NotTogether { .. }
            | V::MockLocation
            | V::ImplausibleTrack { .. }
            | V::PoorAccuracy { .. }
            | V::FaceMismatch { .. }
            | V::LivenessFailed
            | V::FaceRecheckDisagrees { .. }
            | V::FaceNotFound { .. }
            | V::ClockSkew { .. }
            | V::GnssMismatch { .. }
            | V::AnchorInvalid
            | V::MonotonicInconsistent
            | V::ClaimOutsideProven { .. }
            | V::AuthorisationUncertain { .. }
            | V::DeviceRevocationUncertain { .. }
            | V::TestDataNotAutomatic
            | V::CosignerNotAuthorised { .. }
            | V::UnconfirmedTrailFindings { .. }
            | V::RegistryBreach { .. } => Disposition::Flag,
            V::TimingUndetermined { .. }
            | V::SiteUncertain { .. }
            | V::CoPresenceUncertain { .. }
            | V::ManualTagEntry
            | V::NoLivenessCheck
            | V::AwaitingWitnessCosignature
            | V::RegistryUncertain { .. }
            | V::NoLabRegistry { .. }
            | V::OutsidePlan { .. } => Disposition::Notice,
        }
    }

    pub fn rule(&self) -> Rule {
        use Violation as V;
        match self {
            V::BadSignature
            | V::BadCosignature { .. }
            | V::CosignatureMisattributed { .. }
            | V::UnknownDevice
            | V::DeviceRevoked { .. }
            | V::DeviceNotAuthors { .. }
            | V::AdminFactFromDevice
            | V::ServerKeyOnCustodyStep
            | V::Chain { .. }
            | V::MissingReference { .. }
            | V::DirectoryIdTaken { .. }
            | V::DirectoryEntryMissing { .. }
            | V::MediaNotListed { .. }
            | V::AnchorInvalid
            | V::MonotonicInconsistent
            | V::DeviceRevocationUncertain { .. } => Rule::Integrity,
            V::NotAuthorised { .. }
            | V::AuthorisationInvalidAtTime { .. }
            | V::OrgCannotHoldRole { .. }
            | V::AuthorisationUncertain { .. }
            | V::CosignerNotAuthorised { .. }
            | V::GrantWithoutProject
            | V::GrantAlreadyRevoked { .. }
            | V::FaceMismatch { .. }
            | V::FaceRecheckDisagrees { .. }
            | V::FaceNotFound { .. }
            | V::LivenessFailed
            | V::NoLivenessCheck => Rule::R1,
            V::LabNotCommissioned { .. } | V::LabAlreadyCommissioned { .. } => Rule::R2,
            V::PlanInvalid { problem } => problem.rule(),
            V::OutsidePlan { .. } => Rule::R4,
            V::LabRegistryInvalid { .. }
            | V::RegistryBreach { .. }
            | V::RegistryUncertain { .. }
            | V::NoLabRegistry { .. } => Rule::R3,
            V::OrgWrongRole { expected: OrgRole::TagSupplier, .. } => Rule::R15,
            V::OrgWrongRole { expected: OrgRole::Lab | OrgRole::Owner, .. } => Rule::R2,
            V::OrgWrongRole { .. } => Rule::Integrity,
            V::BatchInvalid { .. } | V::BatchOverlap { .. } => Rule::R16,
            V::BoundaryInvalid { .. } => Rule::R9,
            V::TagOtherProject { .. } | V::UnknownUnitProject { .. } | V::ManualTagEntry => Rule::R6,
            V::Custody { error: CustodyError::TagAlreadyBound { .. }, .. } => Rule::R16,
            V::TagUnknown { .. } => Rule::R16,
            V::Custody { .. } => Rule::R6,
            V::MissingEvidence { what: Missing::ReportDocument } => Rule::R13,
            V::MissingEvidence { what: Missing::TestCurve } | V::TestDataNotAutomatic => Rule::R12,
            V::MissingEvidence { what: Missing::HandSignature } => Rule::R8,
            V::MissingEvidence { .. } | V::PoorAccuracy { .. } => Rule::R7,
            V::LateWitness { .. }
            | V::WitnessMissing { .. }
            | V::TimingUndetermined { .. }
            | V::SelfWitness
            | V::ClockSkew { .. }
            | V::GnssMismatch { .. }
            | V::ClaimOutsideProven { .. } => Rule::R8,
            V::HandshakeMismatch
            | V::TagDiffersFromSampling { .. }
            | V::NotTogether { .. }
            | V::CoPresenceUncertain { .. }
            | V::MockLocation
            | V::ImplausibleTrack { .. }
            | V::SiteUncertain { .. } => Rule::R9,
            V::OutsideSite { .. } => Rule::R17,
            V::EmptyCommission | V::AwaitingWitnessCosignature | V::ReceivedWithoutCosignature => Rule::R10,
            V::RevocationInvalid { .. } => Rule::R13,
            V::SelfReview | V::ReviewInvalid { .. } | V::RevisionInvalid { .. } => Rule::R12,
            V::TagNotOnCommission { .. } | V::WrongLab { .. } | V::UnconfirmedTrailFindings { .. } => {
                Rule::R11
            }
        }
    }

    /// Whether regulators see this finding in their list of violations
    /// (R8, R17, R18): every flag, and a witnessing whose 20-minute window
    /// cannot be proven — a notice to the person on site, but exactly what a
    /// witness faking a clock would produce, so it must not stay unseen —
    /// and for the same reason a test that breaks the lab's registry at one
    /// end of its time interval only (R3).
    pub fn reported_to_regulators(&self) -> bool {
        self.disposition() == Disposition::Flag
            || matches!(self, Violation::TimingUndetermined { .. } | Violation::RegistryUncertain { .. })
    }

    /// The stable machine-readable code (the serde tag).
    pub fn code(&self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.get("code").and_then(|c| c.as_str().map(str::to_owned)))
            .unwrap_or_default()
    }
}
