//! What `verify` needs besides the record, and the **one** place that
//! decides which facts a record needs.
//!
//! The server (its store), the field app (what the phone holds offline) and
//! the test world (in memory) each implement [`FactSource`]: plain lookups,
//! no decisions. [`build`] asks a source for exactly the facts the record's
//! kind needs, so adding a fact to a rule means adding it here once, not in
//! three shells.

// The decisions others call: every public item says what it is for.
#![warn(missing_docs)]

use super::violation::Violation;
use crate::crypto::{Hash, PublicKey};
use crate::custody::SpecimenState;
use crate::lab_registry::RegistryVersion;
use crate::model::{Id, OrgRole, Organisation, Person, PersonRole, Project, UnitProject};
use crate::policy::Policy;
use crate::record::{ChainTail, Cosignature, LabAssignment, Payload, RecordBody, SignedRecord};
use crate::tag::{BatchKey, TagBatch, TagCode};
use crate::time::{Millis, TimeAssessment, TimeContext};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// What the verifier knows about the signing device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceFacts {
    /// The person it is enrolled for.
    pub person: Id,
    /// Their organisation.
    pub org: Id,
    /// What their organisation is.
    pub org_role: OrgRole,
    /// When the device was revoked, if it was.
    pub revoked_at_ms: Option<Millis>,
}

/// An authorisation of the author (R1), with its current status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    /// The grant's id.
    pub grant: Id,
    /// The role it authorises.
    pub role: PersonRole,
    /// `None`: valid on every project of the person's organisation (lab
    /// staff) or, for an inspector, in the regulator's jurisdiction.
    pub project: Option<Id>,
    /// When it takes effect.
    pub valid_from_ms: Millis,
    /// When it expires, if it does.
    pub valid_until_ms: Option<Millis>,
    /// When it was revoked, if it was.
    pub revoked_at_ms: Option<Millis>,
    /// The reference face photo enrolled with it (R1), if any.
    #[serde(default)]
    pub face_reference: Option<Hash>,
}

impl Grant {
    /// When the grant stops: expiry or revocation, whichever is first.
    pub fn end(&self) -> Option<Millis> {
        match (self.valid_until_ms, self.revoked_at_ms) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
    /// In force at `at` (from its start, before its end).
    pub fn valid_at(&self, at: Millis) -> bool {
        self.valid_from_ms <= at && self.end().is_none_or(|e| e > at)
    }
    /// Covers `role` on `project` (a project-less grant covers every project).
    pub fn covers(&self, role: PersonRole, project: Option<&Id>) -> bool {
        self.role == role && (self.project.is_none() || self.project.as_ref() == project)
    }
}

/// What the verifier knows about a tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagFacts {
    /// The filed batch it belongs to, if any.
    pub batch: Option<TagBatch>,
    /// Its custody state before this record.
    pub state: SpecimenState,
}

/// A record this one names, as the verifier holds it.
#[derive(Debug, Clone)]
pub struct Referenced {
    /// The record, with the co-signatures it has.
    pub record: SignedRecord,
    /// Its proven and claimed time.
    pub time: TimeAssessment,
    /// The people whose co-signatures on it count (see [`counted_cosigners`]).
    pub cosigners: Vec<Id>,
}

/// A device that co-signed this record, and its person's authorisations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cosigner {
    /// The person the device is enrolled for.
    pub person: Id,
    /// When the device was revoked, if it was.
    pub device_revoked_at_ms: Option<Millis>,
    /// The person's authorisations.
    pub grants: Vec<Grant>,
}

/// The directory entries an admin fact names (R1, R2, R15, R16): what must
/// exist, what must not exist yet, and what it must not collide with.
#[derive(Debug, Clone, Default)]
pub struct DirectoryFacts {
    /// The organisations it names that are registered.
    pub orgs: BTreeMap<Id, Organisation>,
    /// The projects it names that are registered.
    pub projects: BTreeMap<Id, Project>,
    /// The people it names that are registered.
    pub people: BTreeMap<Id, Person>,
    /// The grants it names that exist.
    pub grants: BTreeMap<Id, Grant>,
    /// The devices it names that are enrolled.
    pub devices: BTreeSet<PublicKey>,
    /// Registered batches with the same supplier, year and batch number.
    pub batches: Vec<TagBatch>,
}

/// Everything `verify` needs besides the record. Made by [`build`].
#[derive(Debug, Clone, Default)]
pub struct VerifyContext {
    /// The thresholds in force.
    pub policy: Policy,
    /// Keys of the monitoring system (admin facts, anchors, checkpoints).
    pub server_keys: Vec<PublicKey>,
    /// The signing device, if enrolled.
    pub device: Option<DeviceFacts>,
    /// The device's chain head before this record.
    pub chain_tail: Option<ChainTail>,
    /// What bounds the record's time besides its own evidence.
    pub time: TimeContext,
    /// The author's authorisations.
    pub grants: Vec<Grant>,
    /// The tags the record names.
    pub tags: BTreeMap<TagCode, TagFacts>,
    /// The records it names, as far as they are held.
    pub referenced: BTreeMap<Hash, Referenced>,
    /// The unit projects (site boundaries) it concerns.
    pub unit_projects: BTreeMap<Id, UnitProject>,
    /// The labs commissioned on its project (R2).
    pub lab_assignments: Vec<LabAssignment>,
    /// The enrolled device behind each co-signature on this record.
    pub cosigners: BTreeMap<PublicKey, Cosigner>,
    /// For admin facts: the directory entries they name.
    pub directory: DirectoryFacts,
    /// For a lab receipt: the findings already on the tag's accepted records
    /// (the trail the receiver was shown, R11).
    pub trail_findings: Vec<Violation>,
    /// For test data: every approved registry of the tester's lab, in
    /// approval order (R3). `None`: the source does not hold them (a phone
    /// offline), so the registry is not judged here; `Some(empty)`: the lab
    /// has none on record.
    pub lab_registries: Option<Vec<RegistryVersion>>,
    /// For a sampling, a contract, a plan, an approval or a pre-start
    /// check: its project's plans and what they rest on (R2, R4, R5, R19).
    /// `None`: the source does not hold them, and those rules are not
    /// judged here (the server judges them).
    pub plans: Option<PlanSourceFacts>,
    /// When the server judges (see [`Situation::judged_at_ms`]).
    pub judged_at_ms: Option<Millis>,
    /// Skip the signature and chain checks (a draft the app has not signed yet).
    pub draft: bool,
    /// The caller has already checked the author's and co-signers' signatures
    /// on these exact bytes (the server does it outside its write lock).
    pub signatures_verified: bool,
}

/// What a source knows of one project's plans (R2, R4, R5, R15, R19).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlanSourceFacts {
    /// The accepted plan records, folded.
    pub plans: crate::plans::ProjectPlans,
    /// The project itself, if registered.
    pub project: Option<Project>,
    /// Its registered unit projects.
    pub unit_projects: BTreeSet<Id>,
    /// The labs commissioned on it (R2), by the operator or by contract.
    pub lab_assignments: Vec<LabAssignment>,
    /// What the system finds missing before work starts now (R19), for a
    /// pre-start check; `None` when the source cannot count people in post.
    pub prestart_gaps: Option<Vec<crate::plans::PreStartGap>>,
    /// The author's organisation.
    pub author_org: Option<Organisation>,
    /// The organisation a contract names (its lab or tag supplier).
    pub named_org: Option<Organisation>,
    /// A testing contract's lab: its registries in approval order (R3).
    pub lab_registries: Vec<RegistryVersion>,
    /// A tag-supply contract's supplier: its filed guide prices (R15).
    pub guide_prices: Vec<crate::plans::GuidePrice>,
}

/// Plain lookups over wherever the facts live. No decisions: a source
/// answers what it holds, and says `None`/empty for what it does not.
pub trait FactSource {
    /// Why a lookup failed (a store error; never "not found", which is `None`).
    type Error;
    /// An enrolled device (the server's own key is not a device).
    fn device(&mut self, key: &PublicKey) -> Result<Option<DeviceFacts>, Self::Error>;
    /// A person's authorisations, whatever their status.
    fn grants_of(&mut self, person: &Id) -> Result<Vec<Grant>, Self::Error>;
    /// A record this one names, with its proven time, if held and in effect
    /// (accepted or refused; a deferred record has no effect yet, so whoever
    /// names it waits too).
    fn referenced(&mut self, id: &Hash) -> Result<Option<(SignedRecord, TimeAssessment)>, Self::Error>;
    /// A tag's batch and custody state.
    fn tag(&mut self, tag: &TagCode) -> Result<TagFacts, Self::Error>;
    /// A unit project and its site boundary.
    fn unit_project(&mut self, id: &Id) -> Result<Option<UnitProject>, Self::Error>;
    /// The labs commissioned on a project (R2).
    fn lab_assignments_of(&mut self, project: &Id) -> Result<Vec<LabAssignment>, Self::Error>;
    /// Earliest server time of an anchor whose tail provably covers the record.
    fn covering_anchor_ms(
        &mut self,
        device: &PublicKey,
        seq: u64,
        id: &Hash,
    ) -> Result<Option<Millis>, Self::Error>;
    /// A registered organisation.
    fn org(&mut self, id: &Id) -> Result<Option<Organisation>, Self::Error>;
    /// A registered project.
    fn project(&mut self, id: &Id) -> Result<Option<Project>, Self::Error>;
    /// A registered person.
    fn person(&mut self, id: &Id) -> Result<Option<Person>, Self::Error>;
    /// A grant by id.
    fn grant(&mut self, id: &Id) -> Result<Option<Grant>, Self::Error>;
    /// The registered batches with a batch key (supplier, year, number).
    fn batches(&mut self, key: BatchKey) -> Result<Vec<TagBatch>, Self::Error>;
    /// The findings of the accepted records naming a tag.
    fn trail_findings(&mut self, tag: &TagCode) -> Result<Vec<Violation>, Self::Error>;
    /// Every approved registry of a lab, in approval order (R3); `None`
    /// when this source does not hold labs' registries.
    fn lab_registries(&mut self, lab: &Id) -> Result<Option<Vec<RegistryVersion>>, Self::Error>;
    /// What it holds of a project's plans (for the record being judged:
    /// its author, and the organisation a contract names); `None` when this
    /// source does not hold plans.
    fn plan_facts(
        &mut self,
        _project: &Id,
        _author: &Id,
        _named_org: Option<&Id>,
    ) -> Result<Option<PlanSourceFacts>, Self::Error> {
        Ok(None)
    }
    /// The enrolled device behind a co-signature, with its person's grants.
    fn cosigner(&mut self, c: &Cosignature) -> Result<Option<Cosigner>, Self::Error> {
        let Some(d) = self.device(&c.device)? else { return Ok(None) };
        let grants = self.grants_of(&d.person)?;
        Ok(Some(Cosigner { person: d.person, device_revoked_at_ms: d.revoked_at_ms, grants }))
    }
}

/// Where the record stands, as the caller knows it.
#[derive(Debug, Clone, Default)]
pub struct Situation {
    /// The thresholds in force.
    pub policy: Policy,
    /// Keys of the monitoring system.
    pub server_keys: Vec<PublicKey>,
    /// The device's chain head before this record (server; `None` for a draft).
    pub chain_tail: Option<ChainTail>,
    /// Proven earliest time of the previous record in the device's chain.
    pub predecessor_earliest_ms: Option<Millis>,
    /// When the server first received the record (`None` on the phone).
    pub first_seen_ms: Option<Millis>,
    /// When the server judges, by its own clock (`None` on the phone).
    /// Co-signatures carry no time of their own: a co-signer's authority is
    /// judged at this moment.
    pub judged_at_ms: Option<Millis>,
    /// A draft the app has not signed yet.
    pub draft: bool,
}

/// What is being verified: a signed record, or a draft the app has not signed.
#[derive(Debug, Clone, Copy)]
pub enum Subject<'a> {
    /// A signed record (with its co-signatures).
    Signed(&'a SignedRecord),
    /// A body the app has not signed yet.
    Draft(&'a RecordBody),
}

impl<'a> Subject<'a> {
    /// The record's body.
    pub fn body(&self) -> &'a RecordBody {
        match self {
            Subject::Signed(r) => r.body(),
            Subject::Draft(b) => b,
        }
    }
    /// Its co-signatures (a draft has none).
    pub fn cosigs(&self) -> &'a [Cosignature] {
        match self {
            Subject::Signed(r) => r.cosigs(),
            Subject::Draft(_) => &[],
        }
    }
}

/// The co-signers whose signature counts: an enrolled device whose
/// co-signature names its own person, not revoked, and — on a commission
/// form, which only its witness co-signs (R10) — holding a witness
/// authorisation on the project in force at `at` (R1). The rest are
/// reported by `verify`; here they simply do not count.
pub fn counted_cosigners(
    record: &SignedRecord,
    cosigners: &BTreeMap<PublicKey, Cosigner>,
    at: Option<Millis>,
) -> Vec<Id> {
    record
        .cosigs()
        .iter()
        .filter_map(|c| {
            let who = cosigners.get(&c.device)?;
            (who.person == c.author && cosigner_authorised(&record.body().payload, who, at))
                .then(|| who.person.clone())
        })
        .collect()
}

/// Whether a co-signer may co-sign this payload at `at` (unknown time: the
/// device's and grants' revocations are not held against it).
pub fn cosigner_authorised(payload: &Payload, who: &Cosigner, at: Option<Millis>) -> bool {
    let Some(at) = at else { return true };
    if who.device_revoked_at_ms.is_some_and(|r| r <= at) {
        return false;
    }
    match payload {
        Payload::Commission(c) => {
            who.grants.iter().any(|g| g.covers(PersonRole::Witness, Some(&c.project)) && g.valid_at(at))
        }
        _ => true,
    }
}

/// Gather, from `src`, exactly the facts verifying `subject` needs.
pub fn build<S: FactSource>(
    subject: Subject<'_>,
    situation: Situation,
    src: &mut S,
) -> Result<VerifyContext, S::Error> {
    let body = subject.body();
    let server_authored = situation.server_keys.contains(&body.device);
    let device = if server_authored { None } else { src.device(&body.device)? };
    let grants = if server_authored { Vec::new() } else { src.grants_of(&body.author)? };

    let mut unit_ids = Vec::new();
    let mut referenced = BTreeMap::new();
    for r in body.payload.references() {
        let Some((record, time)) = src.referenced(&r)? else { continue };
        if let Payload::Sampling(s) = &record.body().payload {
            unit_ids.push(s.unit_project.clone());
        }
        // Their co-signers' authority was judged when each co-signature
        // arrived (and flagged there); here only attribution counts.
        // Only co-signatures that verify against the record count: a
        // source that cannot tie a device to its person (a phone, offline)
        // answers with the signed claim, and the signature is what makes it
        // one (R10).
        let id = record.id();
        let valid: Vec<Cosignature> = record.cosigs().iter().filter(|c| c.verify(&id)).cloned().collect();
        let cosigners = cosigners_of(&valid, src)?;
        let counted = counted_cosigners(&record, &cosigners, None);
        referenced.insert(r, Referenced { record, time, cosigners: counted });
    }

    let mut tags = BTreeMap::new();
    for t in body.payload.tags() {
        tags.insert(t.clone(), src.tag(t)?);
    }

    let mut lab_assignments = Vec::new();
    let mut directory = DirectoryFacts::default();
    let mut trail_findings = Vec::new();
    let mut lab_registries = None;
    match &body.payload {
        Payload::Sampling(s) => unit_ids.push(s.unit_project.clone()),
        Payload::Commission(c) => {
            unit_ids.push(c.unit_project.clone());
            lab_assignments = src.lab_assignments_of(&c.project)?;
        }
        Payload::LabReceipt(r) => trail_findings = src.trail_findings(&r.tag)?,
        Payload::TestData(_) => {
            if let Some(d) = &device {
                lab_registries = src.lab_registries(&d.org)?;
            }
        }
        Payload::LabCommissioned(a) => {
            unit_ids.push(a.unit_project.clone());
            lab_assignments = src.lab_assignments_of(&a.project)?;
        }
        _ => {}
    }
    if body.kind().is_admin_fact() {
        directory = directory_facts(&body.payload, src)?;
    }
    let plans = match &body.payload {
        Payload::Sampling(s) => src.plan_facts(&s.project, &body.author, None)?,
        Payload::ContractRegistered(c) => {
            let named = match &c.terms {
                crate::plans::ContractTerms::Testing { lab, .. } => lab,
                crate::plans::ContractTerms::TagSupply { supplier, .. } => supplier,
            };
            src.plan_facts(&c.project, &body.author, Some(named))?
        }
        Payload::SamplingPlanDrafted(p) => src.plan_facts(&p.project, &body.author, None)?,
        Payload::TestingPlanDrafted(p) => src.plan_facts(&p.project, &body.author, None)?,
        Payload::PlanApproved(a) => src.plan_facts(&a.project, &body.author, None)?,
        Payload::PreStartChecked(c) => src.plan_facts(&c.project, &body.author, None)?,
        _ => None,
    };
    let mut unit_projects = BTreeMap::new();
    for u in unit_ids {
        if let Some(up) = src.unit_project(&u)? {
            unit_projects.insert(u, up);
        }
    }
    let cosigners = cosigners_of(subject.cosigs(), src)?;
    let covering = match subject {
        Subject::Signed(r) => src.covering_anchor_ms(&body.device, body.seq, &r.id())?,
        Subject::Draft(_) => None,
    };
    Ok(VerifyContext {
        policy: situation.policy,
        server_keys: situation.server_keys.clone(),
        device,
        chain_tail: situation.chain_tail,
        time: TimeContext {
            server_keys: situation.server_keys,
            predecessor_earliest_ms: situation.predecessor_earliest_ms,
            referenced_earliest_ms: None,
            covering_anchor_ms: covering,
            first_seen_ms: situation.first_seen_ms,
            server_authored: false,
            anchor_verified: None,
        },
        grants,
        tags,
        referenced,
        unit_projects,
        lab_assignments,
        cosigners,
        directory,
        trail_findings,
        lab_registries,
        plans,
        judged_at_ms: situation.judged_at_ms,
        draft: situation.draft,
        signatures_verified: false,
    })
}

fn cosigners_of<S: FactSource>(
    cosigs: &[Cosignature],
    src: &mut S,
) -> Result<BTreeMap<PublicKey, Cosigner>, S::Error> {
    let mut out = BTreeMap::new();
    for c in cosigs {
        // Through the source's own answer: a phone knows no other device,
        // so it cannot look the co-signer up the way the server does.
        if let Some(who) = src.cosigner(c)? {
            out.insert(c.device, who);
        }
    }
    Ok(out)
}

/// The directory entries an admin fact names.
fn directory_facts<S: FactSource>(payload: &Payload, src: &mut S) -> Result<DirectoryFacts, S::Error> {
    let mut d = DirectoryFacts::default();
    let org = |d: &mut DirectoryFacts, src: &mut S, id: &Id| -> Result<(), S::Error> {
        if let Some(o) = src.org(id)? {
            d.orgs.insert(id.clone(), o);
        }
        Ok(())
    };
    match payload {
        Payload::OrganisationRegistered(o) => org(&mut d, src, &o.id)?,
        Payload::ProjectRegistered(p) => {
            org(&mut d, src, &p.owner)?;
            if let Some(x) = src.project(&p.id)? {
                d.projects.insert(p.id.clone(), x);
            }
        }
        Payload::UnitProjectRegistered(u) => {
            if let Some(x) = src.project(&u.project)? {
                d.projects.insert(u.project.clone(), x);
            }
        }
        Payload::PersonRegistered(p) => {
            org(&mut d, src, &p.org)?;
            if let Some(x) = src.person(&p.id)? {
                d.people.insert(p.id.clone(), x);
            }
        }
        Payload::AuthorisationGranted(g) => {
            if let Some(p) = src.person(&g.person)? {
                org(&mut d, src, &p.org)?;
                d.people.insert(g.person.clone(), p);
            }
            if let Some(pid) = &g.project
                && let Some(x) = src.project(pid)?
            {
                d.projects.insert(pid.clone(), x);
            }
            if let Some(x) = src.grant(&g.grant)? {
                d.grants.insert(g.grant.clone(), x);
            }
        }
        Payload::AuthorisationRevoked(r) => {
            if let Some(x) = src.grant(&r.grant)? {
                d.grants.insert(r.grant.clone(), x);
            }
        }
        Payload::DeviceEnrolled(e) => {
            if let Some(p) = src.person(&e.person)? {
                d.people.insert(e.person.clone(), p);
            }
            if src.device(&e.device)?.is_some() {
                d.devices.insert(e.device);
            }
        }
        Payload::DeviceRevoked(r) if src.device(&r.device)?.is_some() => {
            d.devices.insert(r.device);
        }
        Payload::TagBatchRegistered(b) => {
            org(&mut d, src, &b.supplier_org)?;
            if let Some(x) = src.project(&b.project)? {
                d.projects.insert(b.project.clone(), x);
            }
            d.batches = src.batches(b.key)?;
        }
        Payload::LabCommissioned(a) => org(&mut d, src, &a.lab)?,
        Payload::TagGuidePriceFiled(g) => org(&mut d, src, &g.supplier)?,
        Payload::LabRegistryUpdated(c) => {
            org(&mut d, src, &c.registry.lab)?;
            for q in &c.registry.staff {
                let Ok(person) = Id::new(q.person.as_str()) else { continue };
                if !d.people.contains_key(&person)
                    && let Some(p) = src.person(&person)?
                {
                    d.people.insert(person, p);
                }
            }
        }
        _ => {}
    }
    Ok(d)
}
