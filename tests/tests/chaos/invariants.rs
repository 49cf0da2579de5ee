//! What must hold after any amount of chaos, checked once faults have
//! stopped and the server is down (R14, R21):
//!
//! 1. every record an engine holds as acknowledged (the server answered
//!    accepted, refused or deferred) is on the server, at its device and
//!    sequence number, and at the log index its receipt names;
//! 2. nothing is stored twice: one record per id, one per device and
//!    sequence number, no resend taken for a fork (no equivocation);
//! 3. every device's chain on the server is exactly the engine's own chain,
//!    0..n, and `sync-server admin verify` — run as the operator runs it —
//!    finds the signatures, chains, log and media clean;
//! 4. every media file any record lists is on the server, complete, of its
//!    size, and hashes to its name;
//! 5. the engines' queues drained: nothing pending, nothing rejected, no
//!    alarm (a bad receipt, an inconsistent log, a broken chain).

use crate::fleet::Device;
use crate::server::ServerProcess;
use custody_core::Hash;
use std::collections::{BTreeMap, BTreeSet};
use sync_server::config::Config;
use sync_server::store::RecordRow;

/// What was checked, and every way it failed.
#[derive(Debug, Default)]
pub struct Verdict {
    pub checked: Vec<String>,
    pub problems: Vec<String>,
}

impl Verdict {
    fn problem(&mut self, p: String) {
        // Thousands of the same failure say no more than the first few.
        if self.problems.len() < 50 {
            self.problems.push(p);
        } else if self.problems.len() == 50 {
            self.problems.push("… (further problems not listed)".into());
        }
    }
}

/// Figures the report prints beside the verdict.
#[derive(Debug, Default)]
pub struct Figures {
    pub own_records: usize,
    pub by_status: BTreeMap<String, usize>,
    pub media_files: usize,
    pub media_bytes: u64,
    pub largest_media: u64,
    pub server_records: u64,
}

/// Check everything; `drained` says whether each device's queue emptied.
pub fn check(config: &Config, server: &ServerProcess, devices: &[(&Device, bool)]) -> (Verdict, Figures) {
    let mut v = Verdict::default();
    let mut fig = Figures::default();

    let (ok, out) = server.admin(&["verify"]);
    if ok {
        v.checked.push(format!("admin verify: {}", out.trim()));
    } else {
        v.problem(format!("admin verify failed:\n{out}"));
    }

    let state = sync_server::AppState::open(config.clone()).expect("open the server's store");
    let rows = all_records(&state.store);
    fig.server_records = rows.len() as u64;
    let mut by_id: BTreeMap<Hash, &RecordRow> = BTreeMap::new();
    let mut by_place: BTreeMap<(String, u64), &RecordRow> = BTreeMap::new();
    for r in &rows {
        if by_id.insert(r.id, r).is_some() {
            v.problem(format!("record {} stored twice", r.id));
        }
        if let Some(other) = by_place.insert((r.device.to_b64(), r.seq), r) {
            v.problem(format!(
                "device {} seq {} stored twice: {} and {}",
                r.device.fingerprint(),
                r.seq,
                other.id,
                r.id
            ));
        }
    }
    let forks = state.store.read(|tx| tx.equivocation_count()).expect("count equivocations");
    if forks != 0 {
        v.problem(format!("{forks} equivocation(s) stored: a resend was taken for a fork"));
    }

    let mut device_keys = BTreeSet::new();
    for (device, drained) in devices {
        device_keys.insert(device.engine.device_key().to_b64());
        check_device(&mut v, &mut fig, &state, &by_place, device, *drained);
    }
    // Nothing on the server from our devices that they do not hold, and
    // nothing from any other device but the server's own (admin facts).
    let server_key = state.key.public().to_b64();
    let ours = rows.iter().filter(|r| device_keys.contains(&r.device.to_b64())).count();
    if ours != fig.own_records {
        v.problem(format!(
            "the server holds {ours} records of the devices, the devices made {}",
            fig.own_records
        ));
    }
    let strangers = rows
        .iter()
        .filter(|r| !device_keys.contains(&r.device.to_b64()) && r.device.to_b64() != server_key)
        .count();
    if strangers != 0 {
        v.problem(format!("{strangers} records from devices that are not the run's"));
    }
    if v.problems.is_empty() {
        v.checked.push(format!(
            "{} records of {} devices: each on the server once, at its place in its chain and the log; no equivocation",
            fig.own_records,
            devices.len()
        ));
        v.checked.push(format!(
            "{} media files ({} bytes): each complete on the server, of its size, matching its hash",
            fig.media_files, fig.media_bytes
        ));
        v.checked.push("every queue drained; no record rejected; no alarm".into());
    }
    (v, fig)
}

fn all_records(store: &sync_server::store::Store) -> Vec<RecordRow> {
    let mut rows = Vec::new();
    loop {
        let from = rows.last().map(|r: &RecordRow| r.log_index + 1).unwrap_or(0);
        let batch = store.read(|tx| tx.records_from(from, 2_000)).expect("read records");
        if batch.is_empty() {
            return rows;
        }
        rows.extend(batch);
    }
}

fn check_device(
    v: &mut Verdict,
    fig: &mut Figures,
    state: &sync_server::AppState,
    by_place: &BTreeMap<(String, u64), &RecordRow>,
    device: &Device,
    drained: bool,
) {
    let name = &device.name;
    let key = device.engine.device_key().to_b64();
    let status = device.engine.status().expect("status");
    if !drained || status.pending_records != 0 || status.pending_media != 0 {
        v.problem(format!(
            "{name}: queue did not drain: {} records, {} media files ({} bytes) pending; last error: {:?}",
            status.pending_records, status.pending_media, status.pending_media_bytes, status.last_error_en
        ));
    }
    if status.rejected_records != 0 {
        v.problem(format!("{name}: {} records rejected by the server", status.rejected_records));
    }
    if let Some(first) = status.alarms.first() {
        let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
        for a in &status.alarms {
            *kinds.entry(a.kind.as_str()).or_insert(0) += 1;
        }
        v.problem(format!("{name}: alarms {kinds:?}; the first: {}", first.message_en));
    }

    let mut own: Vec<_> =
        device.engine.history(usize::MAX).expect("history").into_iter().filter(|r| r.mine).collect();
    own.sort_by_key(|r| r.seq);
    fig.own_records += own.len();
    let on_server = by_place.keys().filter(|(k, _)| *k == key).count();
    if on_server != own.len() {
        v.problem(format!("{name}: the server holds {on_server} of its records, it made {}", own.len()));
    }
    let mut media = BTreeMap::new();
    let mut lost = Vec::new();
    for (i, r) in own.iter().enumerate() {
        if r.seq != i as u64 {
            v.problem(format!("{name}: own chain has seq {} at position {i}", r.seq));
        }
        *fig.by_status.entry(r.state.clone()).or_insert(0) += 1;
        if r.state == "pending" {
            continue; // reported with the queue
        }
        match by_place.get(&(key.clone(), r.seq)) {
            None => lost.push(format!("seq {} {} ({})", r.seq, r.id, r.state)),
            Some(row) if row.id != r.id => v.problem(format!(
                "{name}: seq {} is {} on the server, {} on the device",
                r.seq, row.id, r.id
            )),
            Some(row) => {
                if r.receipt_verified && r.log_index != Some(row.log_index) {
                    v.problem(format!(
                        "{name}: receipt of {} names log index {:?}, the server holds it at {}",
                        r.id, r.log_index, row.log_index
                    ));
                }
            }
        }
        for m in &r.body.evidence.media {
            media.insert(m.sha256, m.size);
        }
    }
    if !lost.is_empty() {
        v.problem(format!(
            "{name}: {} acknowledged records are not on the server: {}{}",
            lost.len(),
            lost[..lost.len().min(5)].join(", "),
            if lost.len() > 5 { ", …" } else { "" }
        ));
    }
    for (sha, size) in media {
        fig.media_files += 1;
        fig.media_bytes += size;
        fig.largest_media = fig.largest_media.max(size);
        let row = state.store.read(|tx| tx.media(&sha)).expect("media row");
        match row {
            Some(m) if m.complete && m.size == size => {}
            other => {
                v.problem(format!(
                    "{name}: media {sha} ({size} bytes) not complete on the server: {other:?}"
                ));
                continue;
            }
        }
        // Through the face vault, as the server reads media: a face photo is
        // stored sealed (issue 18) and only opening it shows its bytes.
        match state.faces.read(&state.store, &state.blobs, &sha) {
            Ok(bytes) if custody_core::Hash::of(&bytes) == sha => {}
            Ok(_) => v.problem(format!("{name}: media {sha} on the server does not match its hash")),
            Err(e) => v.problem(format!("{name}: media {sha} unreadable on the server: {e}")),
        }
    }
}
