//! The directory's own rules, for the facts only the operator signs: what
//! an admin fact names must exist (and be of the right kind), what it
//! creates must not exist yet, and it must not collide with what is
//! registered — one lab per unit project and category (R2), tags only from
//! a filed supplier (R15) in batches that never overlap (R16), grants only
//! to roles the person's organisation may hold, per project outside labs
//! and regulators (R1); a lab registry that holds together (R3).

use super::{DirectoryEntry, DirectoryFacts, Judging, Violation};
use crate::model::{Id, OrgRole};
use crate::record::{AuthorisationGrant, LabAssignment, Payload};
use crate::tag::TagBatch;

pub(super) fn check(j: &Judging<'_>, v: &mut Vec<Violation>) {
    let d = &j.ctx.directory;
    match &j.body.payload {
        Payload::OrganisationRegistered(o) if d.orgs.contains_key(&o.id) => {
            v.push(taken(DirectoryEntry::Organisation, &o.id));
        }
        Payload::ProjectRegistered(p) => {
            if role_of(d, &p.owner) != Some(OrgRole::Owner) {
                v.push(Violation::OrgWrongRole { org: p.owner.clone(), expected: OrgRole::Owner });
            }
            if d.projects.contains_key(&p.id) {
                v.push(taken(DirectoryEntry::Project, &p.id));
            }
        }
        Payload::UnitProjectRegistered(u) => {
            if !d.projects.contains_key(&u.project) {
                v.push(missing(DirectoryEntry::Project, &u.project));
            }
            if let Err(e) = u.boundary.validate() {
                v.push(Violation::BoundaryInvalid { reason: e.to_string() });
            }
        }
        Payload::PersonRegistered(p) => {
            if !d.orgs.contains_key(&p.org) {
                v.push(missing(DirectoryEntry::Organisation, &p.org));
            }
            if d.people.contains_key(&p.id) {
                v.push(taken(DirectoryEntry::Person, &p.id));
            }
        }
        Payload::AuthorisationGranted(g) => grant(d, g, v),
        Payload::AuthorisationRevoked(r) => match d.grants.get(&r.grant) {
            None => v.push(missing(DirectoryEntry::Grant, &r.grant)),
            Some(g) if g.revoked_at_ms.is_some() => {
                v.push(Violation::GrantAlreadyRevoked { grant: r.grant.clone() })
            }
            Some(_) => {}
        },
        Payload::DeviceEnrolled(e) => {
            if !d.people.contains_key(&e.person) {
                v.push(missing(DirectoryEntry::Person, &e.person));
            }
            if d.devices.contains(&e.device) {
                v.push(taken(DirectoryEntry::Device, &e.device.fingerprint()));
            }
        }
        Payload::DeviceRevoked(r) if !d.devices.contains(&r.device) => {
            v.push(missing(DirectoryEntry::Device, &r.device.fingerprint()));
        }
        Payload::TagBatchRegistered(b) => tag_batch(d, b, v),
        Payload::LabCommissioned(a) => lab(j, a, v),
        Payload::TagGuidePriceFiled(g) => {
            if role_of(d, &g.supplier) != Some(OrgRole::TagSupplier) {
                v.push(Violation::OrgWrongRole { org: g.supplier.clone(), expected: OrgRole::TagSupplier });
            }
            if g.price_fen == 0 || g.filing.trim().is_empty() || !(2000..=2200).contains(&g.year) {
                v.push(Violation::PlanInvalid { problem: crate::plans::PlanProblem::GuidePriceInvalid });
            }
        }
        Payload::LabRegistryUpdated(c) => {
            let known = crate::lab_registry::Known {
                lab_role: role_of(d, &c.registry.lab),
                people: d.people.iter().map(|(id, p)| (id.to_string(), p.org.clone())).collect(),
            };
            let errors = crate::lab_registry::validate(&c.registry, &known);
            if !errors.is_empty() {
                v.push(Violation::LabRegistryInvalid { errors });
            }
        }
        _ => {}
    }
}

fn missing(entry: DirectoryEntry, id: &dyn std::fmt::Display) -> Violation {
    Violation::DirectoryEntryMissing { entry, id: id.to_string() }
}

fn taken(entry: DirectoryEntry, id: &dyn std::fmt::Display) -> Violation {
    Violation::DirectoryIdTaken { entry, id: id.to_string() }
}

fn role_of(d: &DirectoryFacts, org: &Id) -> Option<OrgRole> {
    d.orgs.get(org).map(|o| o.role)
}

/// R1: a grant to a known person, for a role their organisation may hold,
/// per project outside labs and regulators.
fn grant(d: &DirectoryFacts, g: &AuthorisationGrant, v: &mut Vec<Violation>) {
    match d.people.get(&g.person) {
        None => v.push(missing(DirectoryEntry::Person, &g.person)),
        Some(p) => match role_of(d, &p.org) {
            None => v.push(missing(DirectoryEntry::Organisation, &p.org)),
            Some(org_role) => {
                if !g.role.allowed_for(org_role) {
                    v.push(Violation::OrgCannotHoldRole { role: g.role, org_role });
                }
                // Labs work for every project they are commissioned for;
                // regulators' inspectors for their jurisdiction (R18).
                // Site roles are per project.
                if g.project.is_none() && !matches!(org_role, OrgRole::Lab | OrgRole::Regulator) {
                    v.push(Violation::GrantWithoutProject);
                }
            }
        },
    }
    if let Some(pid) = &g.project
        && !d.projects.contains_key(pid)
    {
        v.push(missing(DirectoryEntry::Project, pid));
    }
    if d.grants.contains_key(&g.grant) {
        v.push(taken(DirectoryEntry::Grant, &g.grant));
    }
}

/// R15, R16: a non-empty, well-formed batch from a filed supplier that
/// overlaps no registered batch.
fn tag_batch(d: &DirectoryFacts, b: &TagBatch, v: &mut Vec<Violation>) {
    if let Err(e) = b.check_ranges() {
        v.push(Violation::BatchInvalid { reason: e });
    } else if b.is_empty() {
        v.push(Violation::BatchInvalid { reason: String::new() });
    }
    if role_of(d, &b.supplier_org) != Some(OrgRole::TagSupplier) {
        v.push(Violation::OrgWrongRole { org: b.supplier_org.clone(), expected: OrgRole::TagSupplier });
    }
    if !d.projects.contains_key(&b.project) {
        v.push(missing(DirectoryEntry::Project, &b.project));
    }
    if let Some(other) = d.batches.iter().find(|o| o.overlaps(b)) {
        v.push(Violation::BatchOverlap { project: other.project.clone() });
    }
}

/// R2: a registered lab, for a unit project of the project, and no other lab
/// already holding one of these categories there.
fn lab(j: &Judging<'_>, a: &LabAssignment, v: &mut Vec<Violation>) {
    if role_of(&j.ctx.directory, &a.lab) != Some(OrgRole::Lab) {
        v.push(Violation::OrgWrongRole { org: a.lab.clone(), expected: OrgRole::Lab });
    }
    match j.ctx.unit_projects.get(&a.unit_project) {
        Some(u) if u.project == a.project => {}
        _ => v.push(Violation::UnknownUnitProject { unit_project: a.unit_project.clone() }),
    }
    let taken_by = j.ctx.lab_assignments.iter().find(|o| {
        o.unit_project == a.unit_project && o.lab != a.lab && o.kinds.iter().any(|k| a.kinds.contains(k))
    });
    if let Some(other) = taken_by {
        v.push(Violation::LabAlreadyCommissioned { lab: other.lab.clone() });
    }
}
