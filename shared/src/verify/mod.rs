//! `verify`: judge one signed record against everything it must satisfy, and
//! report **every** rule it breaks, not just the first.
//!
//! The server runs this on every upload; the field app runs the same checks
//! on a draft before signing (so a person hears "this tag is already used"
//! on site, not hours later). Each finding says what it means for the record:
//!
//! | disposition | meaning |
//! |---|---|
//! | `reject` | not attributable or not well-formed: not stored (bad signature, unknown device, broken chain) |
//! | `refuse` | stored as evidence and logged, but it has **no custody effect** (tag already used, not authorised …) |
//! | `defer`  | names a record the verifier has not seen yet: judge again when it arrives |
//! | `flag`   | accepted, and recorded as a violation regulators see (late witness, outside the site …, R8, R17) |
//! | `notice` | accepted; worth showing (timing undetermined, manual tag entry …) |
//!
//! One module per concern, each a named check over the [`Judging`] of one
//! record, run in a fixed order by [`verify`]:
//!
//! | module | checks |
//! |---|---|
//! | `integrity` | signatures, who signed, device chain, device revocation |
//! | `timing` | referenced records present, trusted time (R8) |
//! | `admin_facts` | the directory's own rules: R1 grants, R2 one lab per category, R15 filed supplier, R16 batch overlap |
//! | `authorisation` | R1: the author's grant for this role, project and time |
//! | `tags` | R6/R16: tag known and of this project; custody order (R6–R13) |
//! | `evidence` | R7: fixes, process photos, face photo and match, liveness, how the tag was read |
//! | `location` | R7–R9, R17: mock location, jumps, accuracy, inside the site |
//! | `face_recheck` | R1/R7, after acceptance: the server's own face check of the uploaded photo against the claim (not run by `verify`: the photo arrives later; the trail counts it) |
//! | `steps` | each custody step's own rules: sampling (R6), witnessing (R8, R9), commission (R2, R10), receipt (R11), test data (R12, and the lab registry in force when it was made, R3, in `registry`), report (R13) |
//!
//! [`context`] holds what a check may know besides the record, and the one
//! builder that gathers it from any [`FactSource`].

mod admin_facts;
mod authorisation;
pub mod context;
mod evidence;
pub mod face_recheck;
mod integrity;
mod location;
mod messages;
mod plans;
mod registry;
mod steps;
mod tags;
mod timing;
mod violation;

pub use context::{
    Cosigner, DeviceFacts, DirectoryFacts, FactSource, Grant, PlanSourceFacts, Referenced, Situation,
    Subject, TagFacts, VerifyContext, build, counted_cosigners,
};
pub use messages::org_role_names;
pub use violation::{
    DirectoryEntry, Disposition, GrantProblem, Lang, Missing, ReviewProblem, RevisionProblem,
    RevocationProblem, Rule, Violation,
};

use crate::custody::SpecimenState;
use crate::model::Id;
use crate::place::{CoPresence, Containment};
use crate::record::{RecordBody, SignedRecord};
use crate::tag::TagCode;
use crate::time::{Millis, TimeAssessment, WindowVerdict};
use serde::{Deserialize, Serialize};

/// The outcome of verifying one record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub violations: Vec<Violation>,
    pub time: Option<TimeAssessment>,
    pub window: Option<WindowVerdict>,
    pub site: Option<Containment>,
    pub co_presence: Option<CoPresence>,
    /// The specimen states after this record, for the tags it moves.
    pub custody: Vec<(TagCode, SpecimenState)>,
}

impl Verdict {
    /// The most severe disposition, `None` when clean.
    pub fn worst(&self) -> Option<Disposition> {
        self.violations.iter().map(Violation::disposition).max()
    }
    /// Whether the record is well-formed and attributable (may be stored).
    pub fn storable(&self) -> bool {
        self.worst().is_none_or(|d| d < Disposition::Reject)
    }
    /// Whether the record takes custody effect now.
    pub fn applies(&self) -> bool {
        self.worst().is_none_or(|d| d <= Disposition::Flag)
    }
    pub fn has(&self, pred: impl Fn(&Violation) -> bool) -> bool {
        self.violations.iter().any(pred)
    }
}

/// Decide which project a custody record belongs to: named in the payload,
/// else through the records it references, else from its tags' batches.
pub fn project_of(body: &RecordBody, ctx: &VerifyContext) -> Option<Id> {
    if let Some(p) = body.payload.project() {
        return Some(p.clone());
    }
    for r in body.payload.references() {
        if let Some(p) = ctx.referenced.get(&r).and_then(|refd| refd.record.body().payload.project()) {
            return Some(p.clone());
        }
    }
    body.payload
        .tags()
        .into_iter()
        .find_map(|t| ctx.tags.get(t).and_then(|f| f.batch.as_ref()).map(|b| b.project.clone()))
}

/// One record being judged: what every check may read.
pub(crate) struct Judging<'a> {
    pub body: &'a RecordBody,
    pub signed: Option<&'a SignedRecord>,
    pub ctx: &'a VerifyContext,
    /// The enrolled signing device (`None` for the server's own records).
    pub device: Option<&'a DeviceFacts>,
    pub time: TimeAssessment,
    /// The record's time for rule checks: proven bounds where they exist,
    /// the device's claim where they do not.
    pub t_lo: Millis,
    pub t_hi: Millis,
    /// A record it names has not been seen: custody cannot be judged yet.
    pub missing_refs: bool,
}

/// Verify a signed record (or, with `ctx.draft`, an unsigned draft's body).
pub fn verify(record: &SignedRecord, ctx: &VerifyContext) -> Verdict {
    let mut v = Vec::new();
    if !ctx.draft && !ctx.signatures_verified {
        integrity::signatures(record, &mut v);
    }
    verify_body(record.body(), Some(record), ctx, v)
}

/// The findings of a record's signatures alone (author and co-signers):
/// what a server checks before anything else, outside its write lock.
pub fn signature_violations(record: &SignedRecord) -> Vec<Violation> {
    let mut v = Vec::new();
    integrity::signatures(record, &mut v);
    v
}

/// The rules on a body alone: what the app checks before it signs a draft.
pub fn check_draft(body: &RecordBody, ctx: &VerifyContext) -> Verdict {
    let mut ctx = ctx.clone();
    ctx.draft = true;
    verify_body(body, None, &ctx, Vec::new())
}

fn verify_body(
    body: &RecordBody,
    signed: Option<&SignedRecord>,
    ctx: &VerifyContext,
    mut v: Vec<Violation>,
) -> Verdict {
    let server_authored = ctx.server_keys.contains(&body.device);
    integrity::signer(body, signed, ctx, server_authored, &mut v);
    let (time, missing_refs) = timing::assess(body, ctx, server_authored, &mut v);
    let t_lo = time.proven.earliest_ms.unwrap_or(time.claimed.earliest_ms);
    let t_hi = time.proven.latest_ms.unwrap_or(time.claimed.latest_ms);
    let device = if server_authored { None } else { ctx.device.as_ref() };
    let j = Judging { body, signed, ctx, device, time, t_lo, t_hi, missing_refs };
    integrity::device_revocation(&j, &mut v);

    let mut verdict = Verdict {
        violations: Vec::new(),
        time: Some(j.time.clone()),
        window: None,
        site: None,
        co_presence: None,
        custody: Vec::new(),
    };
    if body.kind().is_admin_fact() || server_authored {
        if server_authored && body.kind().is_admin_fact() {
            admin_facts::check(&j, &mut v);
        }
        verdict.violations = v;
        return verdict;
    }

    let project = project_of(body, ctx);
    authorisation::check(&j, project.as_ref(), &mut v);
    tags::check(&j, project.as_ref(), &mut v, &mut verdict);
    evidence::check(&j, &mut v);
    location::check(&j, &mut v, &mut verdict);
    steps::check(&j, &mut v, &mut verdict);
    plans::check(&j, &mut v);

    verdict.violations = v;
    verdict
}
