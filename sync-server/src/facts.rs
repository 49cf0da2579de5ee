//! The store as the core's source of facts: plain lookups that
//! `custody_core::verify::build` and `custody_core::access` decide with.
//! Nothing here decides anything.

use crate::ingest::{decode_stored, stored_verdict};
use crate::store::{GrantRow, Result, StoreError, Tx};
use custody_core::access::{MediaReference, Viewer};
use custody_core::lab_registry::RegistryVersion;
use custody_core::model::{Id, OrgRole, Organisation, Person, Project, UnitProject};
use custody_core::protocol::RecordStatus;
use custody_core::record::{LabAssignment, SignedRecord};
use custody_core::tag::{BatchKey, TagBatch};
use custody_core::time::{Millis, TimeAssessment};
use custody_core::verify::{DeviceFacts, FactSource, Grant, TagFacts, Violation};
use custody_core::{Hash, PublicKey, TagCode};

/// One transaction of the store, seen as facts. `server` is the server's
/// own key: its records are admin facts, not a device's.
pub struct StoreFacts<'a> {
    pub tx: &'a mut dyn Tx,
    pub server: PublicKey,
    /// The server's clock, for what holds "now" (people in post, R19).
    pub now: Millis,
}

pub fn grant_facts(g: GrantRow) -> Grant {
    Grant {
        grant: g.grant,
        role: g.role,
        project: g.project,
        valid_from_ms: g.valid_from_ms,
        valid_until_ms: g.valid_until_ms,
        revoked_at_ms: g.revoked_ms,
        face_reference: g.face_reference,
    }
}

impl FactSource for StoreFacts<'_> {
    type Error = StoreError;

    fn plan_facts(
        &mut self,
        project: &Id,
        author: &Id,
        named_org: Option<&Id>,
    ) -> Result<Option<custody_core::verify::PlanSourceFacts>> {
        crate::plans::source_facts(self.tx, project, author, named_org, self.now).map(Some)
    }

    fn device(&mut self, key: &PublicKey) -> Result<Option<DeviceFacts>> {
        if *key == self.server {
            return Ok(None);
        }
        Ok(self.tx.device(key)?.map(|d| DeviceFacts {
            person: d.person,
            org: d.org,
            org_role: d.org_role,
            revoked_at_ms: d.revoked_ms,
        }))
    }

    fn grants_of(&mut self, person: &Id) -> Result<Vec<Grant>> {
        Ok(self.tx.grants_of(person)?.into_iter().map(grant_facts).collect())
    }

    fn referenced(&mut self, id: &Hash) -> Result<Option<(SignedRecord, TimeAssessment)>> {
        let Some(row) = self.tx.record(id)? else { return Ok(None) };
        if !matches!(row.status, RecordStatus::Accepted | RecordStatus::Refused) {
            return Ok(None);
        }
        let record = decode_stored(&row)?;
        let time = stored_verdict(&row)?
            .time
            .ok_or_else(|| StoreError::Corrupt(format!("{} has no time", row.id)))?;
        Ok(Some((record, time)))
    }

    fn tag(&mut self, tag: &TagCode) -> Result<TagFacts> {
        let batch =
            self.tx.batches(tag.supplier(), tag.year(), tag.batch())?.into_iter().find(|b| b.contains(tag));
        let state = self.tx.tag_state(tag.as_str())?.unwrap_or_default();
        Ok(TagFacts { batch, state })
    }

    fn unit_project(&mut self, id: &Id) -> Result<Option<UnitProject>> {
        self.tx.unit_project(id)
    }

    fn lab_assignments_of(&mut self, project: &Id) -> Result<Vec<LabAssignment>> {
        self.tx.lab_assignments_of(project)
    }

    fn covering_anchor_ms(&mut self, device: &PublicKey, seq: u64, id: &Hash) -> Result<Option<Millis>> {
        self.tx.covering_anchor_ms(device, seq, id)
    }

    fn org(&mut self, id: &Id) -> Result<Option<Organisation>> {
        self.tx.org(id)
    }

    fn project(&mut self, id: &Id) -> Result<Option<Project>> {
        self.tx.project(id)
    }

    fn person(&mut self, id: &Id) -> Result<Option<Person>> {
        self.tx.person(id)
    }

    fn grant(&mut self, id: &Id) -> Result<Option<Grant>> {
        Ok(self.tx.grant(id)?.map(grant_facts))
    }

    fn batches(&mut self, key: BatchKey) -> Result<Vec<TagBatch>> {
        self.tx.batches(key.supplier, key.year, key.batch)
    }

    fn lab_registries(&mut self, lab: &Id) -> Result<Option<Vec<RegistryVersion>>> {
        Ok(Some(self.tx.registry_versions(lab)?))
    }

    fn trail_findings(&mut self, tag: &TagCode) -> Result<Vec<Violation>> {
        let mut out = Vec::new();
        for row in self.tx.records_for_tag(tag.as_str())? {
            if row.status == RecordStatus::Accepted {
                out.extend(stored_verdict(&row)?.violations);
                // The server's face re-check counts like the record's own
                // findings: a receipt must confirm it too (R1, R7, R11).
                let recheck = self.tx.face_recheck(&row.id)?;
                let rec = decode_stored(&row)?;
                out.extend(custody_core::verify::face_recheck::record_findings(rec.body(), recheck.as_ref()));
            }
        }
        Ok(out)
    }
}

/// The viewer behind an enrolled device, for `custody_core::access`.
pub fn device_viewer(tx: &mut dyn Tx, person: &Id, org: &Id, org_role: OrgRole) -> Result<Viewer> {
    let jurisdiction = tx.org(org)?.and_then(|o| o.jurisdiction);
    let grants = tx.grants_of(person)?.into_iter().map(grant_facts).collect();
    let lab_assignments =
        if org_role == OrgRole::Lab { tx.lab_assignments_for_lab(org)? } else { Vec::new() };
    Ok(Viewer {
        is_admin: false,
        person: person.clone(),
        org: org.clone(),
        org_role,
        jurisdiction,
        grants,
        lab_assignments,
    })
}

/// Every stored record listing a media file, as access decides on them.
pub fn media_references(tx: &mut dyn Tx, sha: &Hash) -> Result<Vec<MediaReference>> {
    tx.records_with_media(sha)
}
