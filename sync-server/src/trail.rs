//! The lab's verification of one tag (R11): the server gathers the trail —
//! stored records and verdicts, signatures re-checked, inclusion proofs
//! against a checkpoint, media arrived, equivocations of its devices, the
//! server's own face re-checks (`crate::faces`) — and
//! the core judges it (`custody_core::trail::judge`). Who may read it is the
//! core's decision too (`custody_core::access::trail`).

use crate::ingest::{decode_stored, stored_verdict};
use crate::logtree;
use crate::store::{Result, StoreError, Tx};
use custody_core::access::{self, Denied, TrailScope, Viewer};
use custody_core::log::SignedCheckpoint;
use custody_core::model::Id;
use custody_core::protocol::{Finding, MediaView, RecordStatus, TrailRecord, TrailResponse};
use custody_core::record::Payload;
use custody_core::trail::{TrailEntry, TrailFacts, judge};
use custody_core::{PublicKey, TagCode, routes};
use serde_json::value::RawValue;

/// Who may read a tag's trail depends on: its home project (its batch's,
/// else its sampling's), that project's jurisdiction and labs, and the labs
/// its commission forms name.
fn scope(
    tx: &mut dyn Tx,
    tag: &TagCode,
    records: &[(crate::store::RecordRow, custody_core::SignedRecord)],
) -> Result<TrailScope> {
    let batch = tx.batches(tag.supplier(), tag.year(), tag.batch())?.into_iter().find(|b| b.contains(tag));
    let accepted = || records.iter().filter(|(r, _)| r.status == RecordStatus::Accepted).map(|(_, rec)| rec);
    let sampling = accepted().find_map(|rec| match &rec.body().payload {
        Payload::Sampling(s) if &s.tag == tag => Some(s.clone()),
        _ => None,
    });
    let project: Option<Id> =
        batch.map(|b| b.project).or_else(|| sampling.as_ref().map(|s| s.project.clone()));
    let (jurisdiction, lab_assignments) = match &project {
        Some(p) => (tx.project(p)?.map(|x| x.jurisdiction), tx.lab_assignments_of(p)?),
        None => (None, Vec::new()),
    };
    let commission_labs = accepted()
        .filter_map(|rec| match &rec.body().payload {
            Payload::Commission(c) if c.items.iter().any(|i| &i.tag == tag) => Some(c.lab.clone()),
            _ => None,
        })
        .collect();
    Ok(TrailScope {
        project,
        jurisdiction,
        sampled: sampling.map(|s| (s.unit_project, s.specimen.kind)),
        lab_assignments,
        commission_labs,
    })
}

/// One record as the trail shows it: who (names and organisation), when,
/// findings, media (faces never linked), fixes, receipt, envelope.
fn record_view(
    tx: &mut dyn Tx,
    row: &crate::store::RecordRow,
    rec: &custody_core::SignedRecord,
    verdict: &custody_core::verify::Verdict,
    media: &[(custody_core::record::MediaRef, bool)],
    receipt: &custody_core::log::Receipt,
) -> Result<TrailRecord> {
    let body = rec.body();
    let person = tx.person(&body.author)?;
    let org_name = match &person {
        Some(p) => tx.org(&p.org)?.map(|o| o.name).unwrap_or_default(),
        None => String::new(),
    };
    Ok(TrailRecord {
        id: row.id,
        kind: body.kind().as_str().into(),
        kind_zh: body.kind().name_zh().into(),
        author: body.author.to_string(),
        author_name: person.map(|p| p.name).unwrap_or_else(|| body.author.to_string()),
        org_name,
        device_fingerprint: body.device.fingerprint(),
        seq: body.seq,
        log_index: row.log_index,
        status: row.status,
        first_seen_ms: row.first_seen_ms,
        proven_earliest_ms: row.earliest_ms,
        proven_latest_ms: row.latest_ms,
        claimed_ms: verdict
            .time
            .as_ref()
            .map(|t| (t.claimed.earliest_ms + t.claimed.latest_ms) / 2)
            .unwrap_or(body.evidence.time.wall_ms),
        findings: verdict.violations.iter().map(Finding::from).collect(),
        media: media
            .iter()
            .map(|(m, complete)| MediaView {
                url: access::shareable_purpose(m.purpose).then(|| routes::media_content(&m.sha256)),
                sha256: m.sha256,
                purpose: m.purpose.name(),
                media_type: m.media_type.clone(),
                size: m.size,
                complete: *complete,
            })
            .collect(),
        fixes: body.evidence.fixes.clone(),
        receipt: receipt.clone(),
        envelope: RawValue::from_string(String::from_utf8_lossy(&row.envelope).into_owned())
            .map_err(|e| StoreError::Corrupt(e.to_string()))?,
    })
}

/// Who may read the trail of `tag` depends on this (see [`scope`]).
pub fn scope_of(tx: &mut dyn Tx, tag: &TagCode) -> Result<TrailScope> {
    let mut decoded = Vec::new();
    for row in tx.records_for_tag(tag.as_str())? {
        let rec = decode_stored(&row)?;
        decoded.push((row, rec));
    }
    scope(tx, tag, &decoded)
}

/// The trail of `tag`, proven against `checkpoint`, for `viewer` (`None`:
/// an admin). `Ok(Err(_))` when the viewer may not read it.
pub fn trail(
    tx: &mut dyn Tx,
    tag: &TagCode,
    checkpoint: &SignedCheckpoint,
    server_key: &PublicKey,
    viewer: Option<(&Viewer, i64)>,
) -> Result<std::result::Result<TrailResponse, Denied>> {
    let rows = tx.records_for_tag(tag.as_str())?;
    let mut decoded = Vec::with_capacity(rows.len());
    for row in rows {
        let rec = decode_stored(&row)?;
        decoded.push((row, rec));
    }
    let scope = scope(tx, tag, &decoded)?;
    if let Some((v, now)) = viewer
        && let Err(denied) = access::trail(v, now, &scope)
    {
        return Ok(Err(denied));
    }
    let registered = tx.batches(tag.supplier(), tag.year(), tag.batch())?.iter().any(|b| b.contains(tag));
    let state = tx.tag_state(tag.as_str())?.unwrap_or_default();

    let mut entries = Vec::with_capacity(decoded.len());
    let mut records = Vec::new();
    let mut equivocating_devices: Vec<String> = Vec::new();
    for (row, rec) in decoded {
        let verdict = stored_verdict(&row)?;
        let receipt = logtree::receipt(tx, &row.id, row.log_index, checkpoint)?;
        let media = tx.media_of_record(&row.id)?;
        let body = rec.body();
        if !equivocating_devices.contains(&body.device.fingerprint())
            && tx.equivocations_of(&body.device)? > 0
        {
            equivocating_devices.push(body.device.fingerprint());
        }
        let project = row
            .project
            .as_deref()
            .map(Id::new)
            .transpose()
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        if access::trail_record_shown(&scope, project.as_ref()) {
            records.push(record_view(tx, &row, &rec, &verdict, &media, &receipt)?);
        }
        entries.push(TrailEntry {
            face_recheck: tx.face_recheck(&row.id)?,
            signatures_ok: rec.verify_signatures().is_ok(),
            logged: receipt.verify(&[*server_key]).is_ok(),
            media_complete: media.iter().all(|(_, complete)| *complete),
            record: rec,
            status: row.status,
            verdict,
        });
    }
    let judgement = judge(&TrailFacts { registered, state: state.clone(), entries, equivocating_devices });
    Ok(Ok(TrailResponse {
        tag: tag.to_string(),
        tag_printed: tag.printed(),
        stage: state.stage.name_en().into(),
        stage_zh: state.stage.name_zh().into(),
        ok: judgement.ok,
        summary_zh: judgement.summary_zh,
        summary_en: judgement.summary_en,
        checks: judgement.checks,
        to_confirm: judgement.to_confirm,
        records,
        checkpoint: checkpoint.clone(),
    }))
}
