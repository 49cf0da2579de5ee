//! The statements that read whole rows of a kind, and their decoders.

use crate::store::sql::Row;
use crate::store::*;

/// `SELECT` every grant column, then `$tail`.
macro_rules! select_grants {
    ($tail:literal) => {
        concat!(
            "SELECT grant_id, person, org, project, role, letter, face_reference, valid_from_ms, \
             valid_until_ms, revoked_ms FROM grants ",
            $tail
        )
    };
}

/// `SELECT` a device with its owner's organisation and role, then `$tail`.
macro_rules! select_devices {
    ($tail:literal) => {
        concat!(
            "SELECT d.key, d.person, d.label, d.enrolled_ms, d.revoked_ms, p.org, o.role FROM devices d \
             JOIN persons p ON p.id = d.person JOIN orgs o ON o.id = p.org ",
            $tail
        )
    };
}

pub(super) use select_devices;
pub(super) use select_grants;

/// A directory table of JSON documents by id, with the one column queries
/// filter on beside the document.
pub(super) struct DocumentTable {
    pub(super) by_id: &'static str,
    pub(super) upsert: &'static str,
}

pub(super) const ORGS: DocumentTable = DocumentTable {
    by_id: "SELECT json FROM orgs WHERE id = $1",
    upsert: "INSERT INTO orgs (id, role, json) VALUES ($1,$2,$3) \
             ON CONFLICT(id) DO UPDATE SET role = excluded.role, json = excluded.json",
};
pub(super) const PERSONS: DocumentTable = DocumentTable {
    by_id: "SELECT json FROM persons WHERE id = $1",
    upsert: "INSERT INTO persons (id, org, json) VALUES ($1,$2,$3) \
             ON CONFLICT(id) DO UPDATE SET org = excluded.org, json = excluded.json",
};
pub(super) const PROJECTS: DocumentTable = DocumentTable {
    by_id: "SELECT json FROM projects WHERE id = $1",
    upsert: "INSERT INTO projects (id, jurisdiction, json) VALUES ($1,$2,$3) \
             ON CONFLICT(id) DO UPDATE SET jurisdiction = excluded.jurisdiction, json = excluded.json",
};
pub(super) const UNIT_PROJECTS: DocumentTable = DocumentTable {
    by_id: "SELECT json FROM unit_projects WHERE id = $1",
    upsert: "INSERT INTO unit_projects (id, project, json) VALUES ($1,$2,$3) \
             ON CONFLICT(id) DO UPDATE SET project = excluded.project, json = excluded.json",
};

/// A row of `select_records!`.
pub(super) fn record_row(mut r: Row) -> Result<RecordRow> {
    let (id, log_index, device, seq) = (r.hash(0)?, r.uint(1)?, r.key(2)?, r.uint(3)?);
    let (kind, author, project, envelope) = (r.text(4)?, r.text(5)?, r.opt_text(6)?, r.bytes(7)?);
    let (first_seen_ms, status, verdict) = (r.int(8)?, r.named(9)?, r.text(10)?);
    let (earliest_ms, latest_ms, change_seq) = (r.opt_int(11)?, r.opt_int(12)?, r.uint(13)?);
    Ok(RecordRow {
        id,
        log_index,
        device,
        seq,
        kind,
        author,
        project,
        envelope,
        first_seen_ms,
        status,
        verdict,
        earliest_ms,
        latest_ms,
        change_seq,
    })
}

/// A row of [`select_grants!`].
pub(super) fn grant_row(mut g: Row) -> Result<GrantRow> {
    let (grant, person, org, project, role) = (g.id(0)?, g.id(1)?, g.id(2)?, g.opt_id(3)?, g.named(4)?);
    let (letter, face_reference) = (g.hash(5)?, g.opt_hash(6)?);
    let (valid_from_ms, valid_until_ms, revoked_ms) = (g.int(7)?, g.opt_int(8)?, g.opt_int(9)?);
    Ok(GrantRow {
        grant,
        person,
        org,
        project,
        role,
        letter,
        face_reference,
        valid_from_ms,
        valid_until_ms,
        revoked_ms,
    })
}

/// A row of [`select_devices!`].
pub(super) fn device_row(mut d: Row) -> Result<DeviceRow> {
    let (key, person, label, enrolled_ms) = (d.key(0)?, d.id(1)?, d.text(2)?, d.int(3)?);
    let (revoked_ms, org, org_role) = (d.opt_int(4)?, d.id(5)?, d.named(6)?);
    Ok(DeviceRow { key, person, label, enrolled_ms, revoked_ms, org, org_role })
}
