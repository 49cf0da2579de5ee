//! Who may see what: every visibility decision of the system, as pure
//! functions over what the asker is (a [`Viewer`]) and what is asked about.
//!
//! The rules (R1, R2, R18, and PIPL for face photos):
//! - Only authorisations **in force now** open anything: a revoked or
//!   expired grant opens nothing, not the feed, not media, not trails (R1).
//! - Field people see the projects their grants name; lab staff the projects
//!   their lab is commissioned for (R2); regulators the projects in their
//!   jurisdiction and below, never others (R18).
//! - What a media file *is* (a face or a process photo, its type) and who
//!   may read it come from the first **accepted** record that lists it — the
//!   capture — never from later or refused records naming the same hash.
//! - Face photos leave the server only to the person they show (their own
//!   enrolled reference), never to labs, projects or regulators.
//!
//! The server's handlers, and the console built on them, gather the facts
//! and ask here; none decides on its own.

// The decisions others call: every public item says what it is for.
#![warn(missing_docs)]

use crate::crypto::Hash;
use crate::model::{Id, OrgRole, PersonRole, SpecimenKind};
use crate::protocol::RecordStatus;
use crate::record::{LabAssignment, MediaPurpose, Payload, RecordBody};
use crate::time::Millis;
use crate::verify::Grant;

/// Whoever is asking, with everything their access depends on.
#[derive(Debug, Clone)]
pub struct Viewer {
    /// An operator's administrator account (R21): sees and runs everything,
    /// every read of a face photo logged.
    pub is_admin: bool,
    /// The person asking (an admin account's own id).
    pub person: Id,
    /// Their organisation.
    pub org: Id,
    /// What their organisation is (owner, lab, regulator …).
    pub org_role: OrgRole,
    /// The organisation's administrative division code (regulators, R18).
    pub jurisdiction: Option<String>,
    /// Every grant of the person; only those in force count.
    pub grants: Vec<Grant>,
    /// The lab assignments naming the viewer's organisation (R2).
    pub lab_assignments: Vec<LabAssignment>,
}

/// A refusal, in both languages, with a stable code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denied {
    /// Stable code an app matches on.
    pub code: &'static str,
    /// Why, for a person reading Chinese.
    pub message_zh: String,
    /// Why, in English.
    pub message_en: String,
}

fn denied(code: &'static str, zh: &str, en: &str) -> Denied {
    Denied { code, message_zh: zh.into(), message_en: en.into() }
}

const LAB_ROLES: [PersonRole; 3] = [PersonRole::LabReceiver, PersonRole::LabTester, PersonRole::LabReporter];

impl Viewer {
    /// The grants in force at `now`.
    pub fn grants_in_force(&self, now: Millis) -> impl Iterator<Item = &Grant> {
        self.grants.iter().filter(move |g| g.valid_at(now))
    }

    fn holds(&self, roles: &[PersonRole], now: Millis) -> bool {
        self.grants_in_force(now).any(|g| roles.contains(&g.role))
    }

    /// An authorised inspector of a regulator with a jurisdiction (R18):
    /// the division-code prefix they oversee.
    pub fn jurisdiction_prefix(&self, now: Millis) -> Option<&str> {
        if self.org_role != OrgRole::Regulator || !self.holds(&[PersonRole::Inspector], now) {
            return None;
        }
        let prefix = crate::model::division_prefix(self.jurisdiction.as_deref()?);
        // A malformed code must not become a prefix of everything.
        (prefix.len() >= 2 && prefix.bytes().all(|b| b.is_ascii_digit())).then_some(prefix)
    }

    /// The projects whose custody records the viewer works with (the device
    /// profile and feed): projects named by grants in force; for lab staff
    /// in force, every project their lab is commissioned for.
    pub fn projects(&self, now: Millis) -> Vec<Id> {
        let mut out: Vec<Id> = self.grants_in_force(now).filter_map(|g| g.project.clone()).collect();
        if self.org_role == OrgRole::Lab && self.holds(&LAB_ROLES, now) {
            out.extend(self.lab_assignments.iter().filter(|a| a.lab == self.org).map(|a| a.project.clone()));
        }
        out.sort();
        out.dedup();
        out
    }

    /// The feed audiences the viewer receives (see [`record_audiences`]):
    /// its projects, and its organisation's own deliveries while it holds
    /// any grant in force.
    pub fn feed_audiences(&self, now: Millis) -> Vec<String> {
        let mut out = Vec::new();
        if self.grants_in_force(now).next().is_some() {
            out.push(org_audience(&self.org));
        }
        out.extend(self.projects(now).iter().map(project_audience));
        out
    }
}

fn org_audience(org: &Id) -> String {
    format!("org:{org}")
}
fn project_audience(project: &Id) -> String {
    format!("project:{project}")
}

/// Who receives a stored record through the feed: the members of its
/// project (a witness receives the samplings to attest), and the lab a
/// commission form is addressed to. Admin facts go to no one (devices get
/// them through their profile).
pub fn record_audiences(body: &RecordBody, project: Option<&Id>) -> Vec<String> {
    let mut out = Vec::new();
    if body.kind().is_admin_fact() {
        return out;
    }
    if let Some(p) = project {
        out.push(project_audience(p));
    }
    if let Payload::Commission(c) = &body.payload {
        out.push(org_audience(&c.lab));
    }
    out
}

/// Whether a division code lies within a regulator's prefix (R18).
pub fn jurisdiction_covers(prefix: &str, code: &str) -> bool {
    !prefix.is_empty() && code.trim().starts_with(prefix)
}

// ---------------------------------------------------------------- media

/// One stored record listing a media file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaReference {
    /// The record's place in the log (what "first" means).
    pub log_index: u64,
    /// What became of the record.
    pub status: RecordStatus,
    /// The record's project.
    pub project: Option<Id>,
    /// That project's division code (R18: its regulators may see it).
    pub jurisdiction: Option<String>,
    /// What the record says the file is.
    pub purpose: MediaPurpose,
    /// The person who authored the record (whose face a face photo is).
    pub author: Id,
    /// The media type the record declares.
    pub media_type: String,
}

/// The capture a media file belongs to: the first accepted record listing
/// it. Later records naming the same hash (re-listing someone's photo as a
/// face, a refused record from elsewhere) change nothing.
pub fn media_owner(refs: &[MediaReference]) -> Option<&MediaReference> {
    refs.iter().filter(|r| r.status == RecordStatus::Accepted).min_by_key(|r| r.log_index)
}

/// Media types the server stores and serves, as it serves them. Anything
/// else is served as opaque bytes for download, never rendered.
const MEDIA_TYPES: &[&str] = &[
    "image/jpeg",
    "image/png",
    "image/webp",
    "image/heic",
    "video/mp4",
    "video/webm",
    "video/quicktime",
    "application/pdf",
    "text/csv",
    "text/plain",
    "application/json",
];

/// The media type to store and serve for a declared one: an allowlisted
/// type (parameters dropped), else `application/octet-stream`.
pub fn served_media_type(declared: &str) -> &'static str {
    let essence = declared.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    MEDIA_TYPES.iter().find(|t| **t == essence).copied().unwrap_or("application/octet-stream")
}

/// Whether the served type may be shown inline (pictures, video, PDF)
/// rather than offered as a download.
pub fn inline_media_type(served: &str) -> bool {
    served.starts_with("image/") || served.starts_with("video/") || served == "application/pdf"
}

/// Whether a media file of this purpose may be linked from a view shared
/// with others (a lab's trail, a regulator's list): never a face (PIPL).
pub fn shareable_purpose(purpose: MediaPurpose) -> bool {
    purpose != MediaPurpose::Face
}

/// May `viewer` download the media file `sha`, listed by `refs`? A person's
/// own enrolled face reference (named by a grant in force) goes to them for
/// the offline 1:1 check (R1). Returns the type to serve it as.
pub fn media(
    viewer: &Viewer,
    now: Millis,
    sha: &Hash,
    refs: &[MediaReference],
) -> Result<&'static str, Denied> {
    let own_reference = viewer.grants_in_force(now).any(|g| g.face_reference == Some(*sha));
    if own_reference {
        let declared = refs.iter().find(|r| r.purpose == MediaPurpose::Face).map(|r| r.media_type.as_str());
        return Ok(served_media_type(declared.unwrap_or("image/jpeg")));
    }
    let Some(owner) = media_owner(refs) else {
        return Err(denied(
            "media_forbidden",
            "该文件不属于任何有效记录，无权查看",
            "this media belongs to no accepted record: not entitled",
        ));
    };
    if !shareable_purpose(owner.purpose) {
        return Err(denied(
            "media_forbidden",
            "无权查看该文件（人脸照片仅限本人与管理员，个人信息保护）",
            "not entitled to this media (face photos: only the person and admins, PIPL)",
        ));
    }
    // The project's people and commissioned labs, and the regulators whose
    // jurisdiction holds it (R18), as for the trail the photo belongs to.
    let in_scope = owner.project.as_ref().is_some_and(|p| viewer.projects(now).contains(p))
        || match (viewer.jurisdiction_prefix(now), owner.jurisdiction.as_deref()) {
            (Some(prefix), Some(code)) => jurisdiction_covers(prefix, code),
            _ => false,
        };
    if !in_scope {
        return Err(denied(
            "media_forbidden",
            "无权查看该文件（不属于您有效授权的项目或辖区）",
            "not entitled to this media (not a project you are authorised on, nor in your jurisdiction)",
        ));
    }
    Ok(served_media_type(&owner.media_type))
}

// ---------------------------------------------------------------- trails

/// What decides who may read a tag's trail.
#[derive(Debug, Clone, Default)]
pub struct TrailScope {
    /// The tag's home project (its batch's, else its sampling's).
    pub project: Option<Id>,
    /// That project's jurisdiction.
    pub jurisdiction: Option<String>,
    /// The sampling's unit project and specimen kind, once sampled.
    pub sampled: Option<(Id, SpecimenKind)>,
    /// The home project's lab assignments (R2).
    pub lab_assignments: Vec<LabAssignment>,
    /// Labs that commission forms for this tag are addressed to.
    pub commission_labs: Vec<Id>,
}

/// May `viewer` read the trail of a tag (R11, R18, R2)? Regulators within
/// their jurisdiction; the lab the owner commissioned for the specimen (or
/// that a commission form for it names); nobody else.
pub fn trail(viewer: &Viewer, now: Millis, scope: &TrailScope) -> Result<(), Denied> {
    match viewer.org_role {
        OrgRole::Regulator => {
            let Some(prefix) = viewer.jurisdiction_prefix(now) else {
                return Err(denied(
                    "no_jurisdiction",
                    "未授权为监督员或单位无管辖区域",
                    "not an authorised inspector, or no jurisdiction",
                ));
            };
            match &scope.jurisdiction {
                Some(j) if jurisdiction_covers(prefix, j) => Ok(()),
                // A tag of no project has no trail to hide.
                None if scope.project.is_none() => Ok(()),
                _ => Err(denied(
                    "outside_jurisdiction",
                    "该标识所属项目不在您的管辖范围内（R18）",
                    "this tag's project is outside your jurisdiction (R18)",
                )),
            }
        }
        OrgRole::Lab => {
            if !viewer.holds(&LAB_ROLES, now) {
                return Err(denied(
                    "not_authorised",
                    "您没有有效的检测机构人员授权（R1）",
                    "you hold no lab authorisation in force (R1)",
                ));
            }
            let named = scope.commission_labs.contains(&viewer.org);
            let assigned = scope.lab_assignments.iter().any(|a| {
                a.lab == viewer.org
                    && match &scope.sampled {
                        Some((unit, kind)) => &a.unit_project == unit && a.kinds.contains(kind),
                        None => true,
                    }
            });
            if named || assigned || scope.project.is_none() {
                Ok(())
            } else {
                Err(denied(
                    "lab_not_commissioned",
                    "贵机构未受建设单位委托检测该样品，无权查看其流转记录（R2）",
                    "your lab is not commissioned for this specimen and may not read its trail (R2)",
                ))
            }
        }
        _ => Err(denied(
            "lab_only",
            "仅检测机构和监督机构可以核验",
            "only labs and regulators may verify trails",
        )),
    }
}

/// Whether a record of `project` is shown in a trail the viewer may read:
/// records of the tag's home project are; another project's attempt to use
/// the tag is counted, not shown (its people are not the viewer's concern).
pub fn trail_record_shown(scope: &TrailScope, record_project: Option<&Id>) -> bool {
    scope.project.is_none() || record_project.is_none() || record_project == scope.project.as_ref()
}

// ---------------------------------------------------------------- regulators

/// The jurisdiction prefix whose violations the viewer may list (R18).
pub fn violations(viewer: &Viewer, now: Millis) -> Result<String, Denied> {
    if viewer.org_role != OrgRole::Regulator {
        return Err(denied(
            "regulator_only",
            "仅监督机构可以查看违规记录",
            "only regulators may list violations",
        ));
    }
    viewer.jurisdiction_prefix(now).map(str::to_owned).ok_or_else(|| {
        denied(
            "no_jurisdiction",
            "未授权为监督员或单位无管辖区域",
            "not an authorised inspector, or no jurisdiction",
        )
    })
}

/// Over what `viewer` may define "double random" spot-check draws (R20):
/// `None` every project (administrators), `Some(prefix)` a regulator's
/// inspector over their jurisdiction and below (R18). Others may not.
pub fn spot_checks(viewer: &Viewer, now: Millis) -> Result<Option<String>, Denied> {
    if viewer.is_admin {
        return Ok(None);
    }
    match viewer.jurisdiction_prefix(now) {
        Some(p) => Ok(Some(p.to_owned())),
        None => Err(denied(
            "spot_checks_regulators_only",
            "仅监督机构的监督员可以组织双随机抽查（R20）",
            "only a regulator's inspectors may run double-random spot checks (R20)",
        )),
    }
}

/// Whether a draw over jurisdiction `draw_scope` (`None`: everything) is
/// listed for a viewer who may run draws over `viewer_scope`: a regulator
/// sees the draws over its jurisdiction and below.
pub fn spot_check_listed(viewer_scope: Option<&str>, draw_scope: Option<&str>) -> bool {
    match (viewer_scope, draw_scope) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(v), Some(d)) => jurisdiction_covers(v, d),
    }
}

// ---------------------------------------------------------------- the console

/// What decides who sees a project in the console.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectScope {
    /// The project.
    pub project: Id,
    /// The owner organisation (建设单位).
    pub owner: Id,
    /// Its administrative division code (R18).
    pub jurisdiction: String,
    /// Organisations whose people hold an authorisation on it (contractor,
    /// supervisor …), in force or not: an organisation keeps seeing the
    /// projects it worked on.
    pub participants: Vec<Id>,
    /// Labs the owner commissioned on it (R2).
    pub labs: Vec<Id>,
    /// Suppliers of its tag batches (R15).
    pub suppliers: Vec<Id>,
}

/// May `viewer` see this project and its records in the console? Admins
/// every project; regulators' inspectors those of their jurisdiction and
/// below (R18); the owner, the organisations working on it, its labs and
/// its tag suppliers their own projects (read-only).
pub fn console_project(viewer: &Viewer, now: Millis, scope: &ProjectScope) -> bool {
    if viewer.is_admin {
        return true;
    }
    match viewer.org_role {
        OrgRole::Regulator => {
            viewer.jurisdiction_prefix(now).is_some_and(|p| jurisdiction_covers(p, &scope.jurisdiction))
        }
        OrgRole::Owner => scope.owner == viewer.org,
        OrgRole::Contractor | OrgRole::Supervisor => scope.participants.contains(&viewer.org),
        OrgRole::Lab => scope.labs.contains(&viewer.org),
        OrgRole::TagSupplier => scope.suppliers.contains(&viewer.org),
        OrgRole::Operator => false,
    }
}

/// The projects of `scopes` the viewer may see, in their order.
pub fn console_projects<'a>(
    viewer: &Viewer,
    now: Millis,
    scopes: &'a [ProjectScope],
) -> Vec<&'a ProjectScope> {
    scopes.iter().filter(|s| console_project(viewer, now, s)).collect()
}

/// Which plan records the viewer may sign on a project now (R1 with R2,
/// R4, R5, R19): each the record kind's required role, in force, on the
/// project (a lab's and an inspector's grants cover every project; an
/// inspector only within their jurisdiction, a lab only where commissioned).
/// Administrators sign none: a plan is the word of the person who answers
/// for it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PlanSigner {
    /// The owner's representative: testing and tag-supply contracts (R2, R15).
    pub contracts: bool,
    /// The contractor's engineer: sampling plan versions (R4).
    pub sampling_plan: bool,
    /// A commissioned lab's report signatory: testing plan versions (R5).
    pub testing_plan: bool,
    /// The supervising engineer: approvals and returns (R4, R5).
    pub approve: bool,
    /// An inspector of the jurisdiction: the pre-start check (R19).
    pub prestart: bool,
}

impl PlanSigner {
    /// Whether the viewer may sign anything here (the page shows the signing device).
    pub fn any(self) -> bool {
        self.contracts || self.sampling_plan || self.testing_plan || self.approve || self.prestart
    }
}

/// See [`PlanSigner`].
pub fn plan_signer(viewer: &Viewer, now: Millis, scope: &ProjectScope) -> PlanSigner {
    use crate::record::RecordKind as K;
    if viewer.is_admin {
        return PlanSigner::default();
    }
    let may = |kind: K| {
        kind.required_role().is_some_and(|role| {
            role.allowed_for(viewer.org_role)
                && viewer.grants_in_force(now).any(|g| g.covers(role, Some(&scope.project)))
        })
    };
    PlanSigner {
        contracts: may(K::ContractRegistered) && scope.owner == viewer.org,
        sampling_plan: may(K::SamplingPlanDrafted),
        testing_plan: may(K::TestingPlanDrafted) && scope.labs.contains(&viewer.org),
        approve: may(K::PlanApproved),
        prestart: may(K::PreStartChecked)
            && viewer.jurisdiction_prefix(now).is_some_and(|p| jurisdiction_covers(p, &scope.jurisdiction)),
    }
}

/// May `viewer` run the system (register, grant, revoke, enroll …, R21)?
pub fn administer(viewer: &Viewer) -> Result<(), Denied> {
    if viewer.is_admin {
        Ok(())
    } else {
        Err(denied(
            "admin_only",
            "仅系统管理员可以执行此操作",
            "only the system's administrators may do this",
        ))
    }
}

/// R11-R13: whose lab desk (received specimens, tests, curves, reviews,
/// reports) may `viewer` open? A lab's own people see their lab's; the
/// operator's administrators any lab they name. Nobody else: a lab's work
/// in progress is not yet evidence anyone relies on (regulators see it
/// through records, trails and warnings, scoped by R18).
pub fn lab_desk(viewer: &Viewer, requested: Option<&Id>) -> Result<Option<Id>, Denied> {
    if viewer.is_admin {
        return Ok(requested.cloned());
    }
    if viewer.org_role != OrgRole::Lab {
        return Err(denied(
            "lab_only",
            "仅检测机构人员可以查看检测工作台",
            "only a lab's staff may open its lab desk",
        ));
    }
    match requested {
        Some(lab) if *lab != viewer.org => {
            Err(denied("not_your_lab", "只能查看本机构的检测工作", "you may only see your own lab's work"))
        }
        _ => Ok(Some(viewer.org.clone())),
    }
}

/// What a viewer may do with a lab's registry (R3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegistryAccess {
    /// The operator's administrators: read it, approve or refuse changes.
    Decide,
    /// The lab's own people: read it and ask for changes (never approve
    /// them: a lab does not vouch for itself).
    Request,
}

/// R3: who may see a lab's registry and what they may do with it: its own
/// people keep it current by asking for changes, the operator's
/// administrators decide them. Other organisations — another lab among
/// them — see nothing of it and can ask for nothing.
pub fn lab_registry(viewer: &Viewer, lab: &Id) -> Result<RegistryAccess, Denied> {
    if viewer.is_admin {
        Ok(RegistryAccess::Decide)
    } else if viewer.org_role == OrgRole::Lab && &viewer.org == lab {
        Ok(RegistryAccess::Request)
    } else {
        Err(denied(
            "registry_not_yours",
            "只有该检测机构本单位人员和系统管理员可以查看或申请变更其登记信息",
            "only the lab's own people and the system's administrators may see or change its registry",
        ))
    }
}

/// May `viewer` open this media file in the console, and as what type?
/// `project_visible`: the owning record's project is one the viewer sees
/// (`console_project`). Face photos only to their person and admins (PIPL);
/// letters of authorisation (personal documents filed with the
/// administrators, R1, R21) and other files of no project only to admins —
/// a project's page shows every party whose authorisation is in force.
pub fn console_media(
    viewer: &Viewer,
    refs: &[MediaReference],
    project_visible: bool,
) -> Result<&'static str, Denied> {
    let Some(owner) = media_owner(refs) else {
        return Err(denied(
            "media_forbidden",
            "该文件不属于任何有效记录",
            "this media belongs to no accepted record",
        ));
    };
    if owner.purpose == MediaPurpose::Face {
        face_photo(viewer, &owner.author)?;
    } else if owner.purpose == MediaPurpose::Letter {
        if !viewer.is_admin {
            return Err(denied(
                "media_forbidden",
                "授权书仅限系统管理员查看",
                "letters of authorisation are for administrators only",
            ));
        }
    } else if !(viewer.is_admin || (owner.project.is_some() && project_visible)) {
        return Err(denied(
            "media_forbidden",
            "无权查看该文件（不属于您可见的项目）",
            "not entitled to this media (not a project you may see)",
        ));
    }
    Ok(served_media_type(&owner.media_type))
}

/// May `viewer` look at the face photo of `person` (PIPL: sensitive
/// personal information)? Admins, and the person themself; every view is
/// logged by the caller.
pub fn face_photo(viewer: &Viewer, person: &Id) -> Result<(), Denied> {
    if viewer.is_admin || &viewer.person == person {
        Ok(())
    } else {
        Err(denied(
            "face_forbidden",
            "人脸照片属于敏感个人信息，仅本人与系统管理员可以查看",
            "face photos are sensitive personal information: only the person and administrators may view them",
        ))
    }
}

// ---------------------------------------------------------------- co-signing

/// May `viewer` co-sign this record, signing as `author` (R10, R1)? Only a
/// commission form's own witness, in their own name, holding a witness
/// authorisation on its project in force now.
pub fn cosign(viewer: &Viewer, now: Millis, payload: &Payload, author: &Id) -> Result<(), Denied> {
    if author != &viewer.person {
        return Err(denied(
            "cosign_not_yours",
            "会签署名必须是本设备登记的人员",
            "a co-signature must name the person this device is enrolled for",
        ));
    }
    let Payload::Commission(c) = payload else {
        return Err(denied("cosign_not_allowed", "只能会签委托单", "only commission forms are co-signed"));
    };
    if c.witness != viewer.person {
        return Err(denied(
            "cosign_not_witness",
            "该委托单指定的见证人不是您",
            "this form names another witness",
        ));
    }
    if !viewer.grants_in_force(now).any(|g| g.covers(PersonRole::Witness, Some(&c.project))) {
        return Err(denied(
            "not_authorised",
            "您在该项目没有有效的见证员授权，不能会签（R1）",
            "you hold no witness authorisation in force on this project and may not co-sign (R1)",
        ));
    }
    Ok(())
}
