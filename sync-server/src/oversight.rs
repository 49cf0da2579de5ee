//! The server's own pass over what arrived (issue 16): it runs on the
//! server's clock, off the ingest path, and
//! 1. watches every accepted sampling until its witnessing is decided, and
//!    raises `witness_missing` (R8) when the core says the window provably
//!    closed with no witnessing — whether or not any record arrives;
//! 2. tallies, per project, witness outcomes, sampler-witness pairs and the
//!    findings stored with records, which the early warnings read (R17).
//!
//! The decisions are the core's (`custody_core::oversight`); this module
//! gathers the facts and stores the answers. Each step works in batches, one
//! write transaction each, with its cursor in `meta`: a pass stopped half
//! way resumes where it stopped, and counts nothing twice (a cursor moves in
//! the transaction that counts).

use crate::config::OversightConfig;
use crate::ingest::{decode_stored, stored_verdict};
use crate::store::oversight::WatchRow;
use crate::store::{Result, Store, StoreError, Tx};
use custody_core::oversight::missed::{self, WitnessPhone, WitnessState};
use custody_core::oversight::project::odd_hour;
use custody_core::policy::Policy;
use custody_core::protocol::{Finding, RecordStatus};
use custody_core::record::Payload;
use custody_core::time::{Undetermined, WindowVerdict};
use custody_core::verify::Violation;
use custody_core::{Hash, Id};
use std::collections::HashMap;

const RECORD_CURSOR: &str = "oversight.change_seq";
const FINDING_CURSOR: &str = "oversight.finding_id";

/// The tally key of a watch state.
pub fn state_key(state: &str) -> String {
    format!("state:{state}")
}
/// The tally key of a finding code.
pub fn finding_key(code: &str) -> String {
    format!("finding:{code}")
}
/// The tally key of a month (China time) of samplings: `n` samplings
/// made then, `odd` of them witnessed late or never.
pub fn month_key(ms: i64) -> String {
    let (y, m, ..) = custody_core::calendar::cst(ms);
    format!("month:{y:04}-{m:02}")
}

/// Whether a watch state counts as late-or-missed in the monthly figures.
fn late_or_missed(state: &str) -> bool {
    state == "late" || state == "missed"
}

/// The tally key of a sampler-witness pair.
pub fn pair_key(sampler: &str, witness: &str) -> String {
    format!("pair:{sampler}/{witness}")
}

/// What one pass did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PassReport {
    pub records: usize,
    pub findings: usize,
    /// Samplings whose state changed, with the new state.
    pub decided: Vec<(Hash, String)>,
    /// Spot-check draws completed.
    pub draws: usize,
}

/// One full pass: every record and finding since the cursors, then every
/// watch whose window closed.
pub fn pass(store: &Store, policy: &Policy, cfg: &OversightConfig, now: i64) -> Result<PassReport> {
    let mut report = PassReport::default();
    loop {
        let (n, decided) = store.write(|tx| tally_records(tx, cfg.batch, now))?;
        report.records += n;
        report.decided.extend(decided);
        if n < cfg.batch as usize {
            break;
        }
    }
    loop {
        let n = store.write(|tx| tally_findings(tx, cfg.batch))?;
        report.findings += n;
        if n < cfg.batch as usize {
            break;
        }
    }
    let mut after: Option<(i64, Hash)> = None;
    loop {
        let (seen, last, decided) = store.write(|tx| decide_due(tx, policy, cfg.batch, after, now))?;
        report.decided.extend(decided);
        if seen < cfg.batch as usize {
            break;
        }
        after = last;
    }
    // Findings raised by this pass (witness_missing) are tallied now, not a
    // pass later.
    report.findings += store.write(|tx| tally_findings(tx, cfg.batch))?;
    report.draws = store.write(|tx| complete_draws(tx, now))?;
    store.write(|tx| count_stale_specimens(tx, &cfg.project, now))?;
    store.write(|tx| count_plan_items_behind(tx, cfg.plans, now))?;
    Ok(report)
}

/// The tally key of specimens left at a stage.
pub fn stale_key(stage: &str) -> String {
    format!("stale:{stage}")
}

const DAY_MS: i64 = 86_400_000;

/// When a specimen at `stage` has waited too long (A4.1: no test missed;
/// R13): received and not tested, tested and not reported.
pub fn stale_before(th: &custody_core::oversight::project::ProjectThresholds, stage: &str, now: i64) -> i64 {
    let days = if stage == "received" { th.received_untested_days } else { th.tested_unreported_days };
    now - i64::try_from(days).unwrap_or(i64::MAX / DAY_MS) * DAY_MS
}

/// Count, per project, the specimens left too long at `received` and at
/// `tested` (gauges: replaced each pass, so a specimen tested since drops out).
fn count_stale_specimens(
    tx: &mut dyn Tx,
    th: &custody_core::oversight::project::ProjectThresholds,
    now: i64,
) -> Result<()> {
    for stage in ["received", "tested"] {
        let counts = tx.stale_specimens(stage, stale_before(th, stage, now))?;
        tx.set_tally_gauge(&stale_key(stage), &counts)?;
    }
    Ok(())
}

/// The tally key of plan items behind or overdue.
pub const PLAN_BEHIND_KEY: &str = "plan:behind";

/// Count, per project, the items of its approved sampling plans behind or
/// past their period short of the plan (A4.1, R4): a gauge, replaced each
/// pass, so an item that catches up drops out.
fn count_plan_items_behind(
    tx: &mut dyn Tx,
    policy: custody_core::plans::progress::ProgressPolicy,
    now: i64,
) -> Result<()> {
    let mut counts = Vec::new();
    for project in tx.planned_projects()? {
        let plans = crate::plans::project_plans(tx, &project)?;
        let p = crate::plans::progress(tx, &project, &plans, now, policy)?;
        let behind = p.items.iter().filter(|i| i.status.is_finding()).count();
        counts.push((project.to_string(), behind as i64));
    }
    tx.set_tally_gauge(PLAN_BEHIND_KEY, &counts)
}

fn cursor(tx: &mut dyn Tx, key: &str) -> Result<u64> {
    Ok(tx.meta(key)?.and_then(|v| v.parse().ok()).unwrap_or(0))
}

fn move_state(tx: &mut dyn Tx, w: &WatchRow, to: &str) -> Result<()> {
    tx.add_tally(&w.project, &state_key(&w.state), -1, 0)?;
    tx.add_tally(&w.project, &state_key(to), 1, 0)?;
    let flagged = i64::from(late_or_missed(to)) - i64::from(late_or_missed(&w.state));
    match (flagged, w.latest_ms) {
        (0, _) | (_, None) => Ok(()),
        (d, Some(at)) => tx.add_tally(&w.project, &month_key(at), 0, d),
    }
}

/// Records since the cursor: new samplings are watched, witnessings decide
/// their sampling's watch.
fn tally_records(tx: &mut dyn Tx, batch: u32, now: i64) -> Result<(usize, Vec<(Hash, String)>)> {
    let from = cursor(tx, RECORD_CURSOR)?;
    let rows = tx.records_changed_after(from, batch)?;
    let mut decided = Vec::new();
    for row in &rows {
        if row.status != RecordStatus::Accepted {
            continue;
        }
        let Some(project) = row.project.clone() else { continue };
        match row.kind.as_str() {
            "sampling" => {
                let w = WatchRow {
                    sampling: row.id,
                    project,
                    sampler: row.author.clone(),
                    latest_ms: row.latest_ms,
                    state: "open".into(),
                    witnessing: None,
                    witness: None,
                    detail: "{}".into(),
                    updated_ms: now,
                };
                if tx.insert_watch(&w)? {
                    tx.add_tally(&w.project, &state_key("open"), 1, 0)?;
                    if let Some(at) = w.latest_ms {
                        tx.add_tally(&w.project, &month_key(at), 1, 0)?;
                    }
                }
            }
            "witnessing" => {
                let rec = decode_stored(row)?;
                let Payload::Witnessing(witnessing) = &rec.body().payload else { continue };
                let Some(mut w) = tx.watch(&witnessing.sampling)? else { continue };
                if w.witnessing.is_some() {
                    continue; // the first accepted witnessing decides
                }
                let window = stored_verdict(row)?.window.unwrap_or(WindowVerdict::Undetermined {
                    reason: Undetermined::WitnessUnbounded,
                    claimed_gap_ms: 0,
                });
                let outcome = missed::witnessed(&window, w.state == "missed");
                let to = outcome.code();
                move_state(tx, &w, to)?;
                let odd = w.latest_ms.is_some_and(odd_hour);
                tx.add_tally(&w.project, &pair_key(&w.sampler, &row.author), 1, i64::from(odd))?;
                w.detail = serde_json::json!({ "outcome": to, "was": w.state, "window": window }).to_string();
                w.state = to.to_owned();
                w.witnessing = Some(row.id);
                w.witness = Some(row.author.clone());
                w.updated_ms = now;
                tx.update_watch(&w)?;
                decided.push((w.sampling, w.state));
            }
            _ => {}
        }
    }
    if let Some(last) = rows.last() {
        tx.set_meta(RECORD_CURSOR, &last.change_seq.to_string())?;
    }
    Ok((rows.len(), decided))
}

/// Findings stored since the cursor, counted by project and code.
fn tally_findings(tx: &mut dyn Tx, batch: u32) -> Result<usize> {
    let from = cursor(tx, FINDING_CURSOR)?;
    let rows = tx.findings_after(from, batch)?;
    let mut counts: HashMap<(String, String), i64> = HashMap::new();
    for f in &rows {
        let Some(project) = &f.project else { continue };
        match serde_json::from_str::<Finding>(&f.finding) {
            Ok(finding) => *counts.entry((project.clone(), finding.code)).or_default() += 1,
            // A finding this version cannot read is skipped, never blocks.
            Err(e) => tracing::warn!(id = f.id, error = %e, "oversight: unreadable finding skipped"),
        }
    }
    for ((project, code), n) in counts {
        tx.add_tally(&project, &finding_key(&code), n, 0)?;
    }
    if let Some(last) = rows.last() {
        tx.set_meta(FINDING_CURSOR, &last.id.to_string())?;
    }
    Ok(rows.len())
}

/// What deciding a batch of watches looks up, each at most once per batch:
/// the devices, a project's grants, how far each phone is covered.
#[derive(Default)]
struct Lookups {
    devices: Option<Vec<crate::store::DeviceRow>>,
    grants: HashMap<String, Vec<(Id, custody_core::verify::context::Grant)>>,
    covered: HashMap<String, Option<i64>>,
}

/// The phones that could hold a witnessing of `w` (the core decides which:
/// `missed::may_hold_witnessing`, over the grants on its project), with
/// how far each is covered.
fn witness_phones(
    tx: &mut dyn Tx,
    l: &mut Lookups,
    w: &WatchRow,
    closes_ms: i64,
) -> Result<Vec<WitnessPhone>> {
    let project = Id::new(w.project.clone()).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let latest = w.latest_ms.unwrap_or(closes_ms);
    if !l.grants.contains_key(&w.project) {
        let grants =
            tx.grants_on(&project)?.into_iter().map(|g| (g.person.clone(), crate::facts::grant_facts(g)));
        l.grants.insert(w.project.clone(), grants.collect());
    }
    if l.devices.is_none() {
        l.devices = Some(tx.devices()?);
    }
    let on_project = &l.grants[&w.project];
    let mut phones = Vec::new();
    for d in l.devices.iter().flatten() {
        let grants: Vec<_> =
            on_project.iter().filter(|(p, _)| *p == d.person).map(|(_, g)| g.clone()).collect();
        if grants.is_empty() {
            continue;
        }
        let facts = missed::PhoneFacts {
            enrolled_ms: d.enrolled_ms,
            revoked: d.revoked_ms.is_some(),
            grants: &grants,
        };
        if !missed::may_hold_witnessing(&facts, &project, latest, closes_ms) {
            continue;
        }
        let key = d.key.to_b64();
        let covered_until_ms = match l.covered.get(&key) {
            Some(c) => *c,
            None => {
                let c = tx.covered_until_ms(&d.key)?;
                l.covered.insert(key.clone(), c);
                c
            }
        };
        phones.push(WitnessPhone {
            person: d.person.clone(),
            device: key,
            label: d.label.clone(),
            covered_until_ms,
        });
    }
    Ok(phones)
}

/// Whether a watch still in the same state needs no new write: still open,
/// or still pending on the same phones covered as far (how overdue it is
/// grows every pass and is not worth a write).
fn unchanged(state: &WitnessState, stored: &str) -> bool {
    match (state, serde_json::from_str::<WitnessState>(stored)) {
        (WitnessState::Open { .. }, _) => true,
        (WitnessState::Pending { unsynced, .. }, Ok(WitnessState::Pending { unsynced: before, .. })) => {
            *unsynced == before
        }
        _ => false,
    }
}

/// What deciding one batch of due watches did: how many it saw, where the
/// next batch starts, the samplings whose state changed.
type Decided = (usize, Option<(i64, Hash)>, Vec<(Hash, String)>);

/// Watches whose window may have closed: ask the core, store what changed,
/// and raise `witness_missing` once.
fn decide_due(
    tx: &mut dyn Tx,
    policy: &Policy,
    batch: u32,
    after: Option<(i64, Hash)>,
    now: i64,
) -> Result<Decided> {
    let window = policy.witness_window_ms;
    let due = tx.watches_due(now - window, after.as_ref(), batch)?;
    let mut decided = Vec::new();
    let mut lookups = Lookups::default();
    for mut w in due.clone() {
        let closes = w.latest_ms.map_or(now, |l| l.saturating_add(window));
        let phones = witness_phones(tx, &mut lookups, &w, closes)?;
        let margin = custody_core::protocol::REQUEST_SKEW_MS;
        let state = missed::unwitnessed(w.latest_ms, window, margin, now, &phones);
        let code = state.code();
        if code == w.state && unchanged(&state, &w.detail) {
            continue;
        }
        let detail = serde_json::to_string(&state).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        if code != w.state {
            move_state(tx, &w, code)?;
            decided.push((w.sampling, code.to_owned()));
        }
        if let WitnessState::Missed { closes_ms, overdue_ms, .. } = state {
            let v = Violation::WitnessMissing { closes_ms, overdue_ms };
            let f =
                serde_json::to_string(&Finding::from(&v)).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            tx.insert_violation(&w.sampling, Some(&w.project), &f, now)?;
            metrics::counter!("oversight_witness_missing_total").increment(1);
        }
        w.state = code.to_owned();
        w.detail = detail;
        w.updated_ms = now;
        tx.update_watch(&w)?;
    }
    let last = due.last().and_then(|w| w.latest_ms.map(|l| (l, w.sampling)));
    Ok((due.len(), last, decided))
}

/// Run passes every `interval_ms` until the process ends. A failed pass is
/// logged and retried at the next tick; it never touches ingest.
pub fn spawn(state: crate::AppState) {
    let every = state.config.oversight.interval_ms;
    if every == 0 {
        return;
    }
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_millis(every));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let s = state.clone();
            let r = tokio::task::spawn_blocking(move || {
                pass(&s.store, &s.config.policy, &s.config.oversight, s.now())
            })
            .await;
            match r {
                Ok(Ok(rep)) if !rep.decided.is_empty() => {
                    tracing::info!(decided = rep.decided.len(), records = rep.records, "oversight pass");
                }
                Ok(Ok(_)) => {}
                Ok(Err(e)) => tracing::warn!(error = %e, "oversight pass failed; retrying next tick"),
                Err(e) => tracing::warn!(error = %e, "oversight pass panicked; retrying next tick"),
            }
            // Face photos and references that arrived in an order no
            // request caught (or before models were installed).
            crate::face_recheck::recheck_async(&state, crate::store::face_rechecks::Pending::Any).await;
        }
    });
}

/// The beacon of a draw announced when the log held `log_size` records:
/// the log's root at `log_size + 1`, once that record exists. Nobody knew
/// it at the announcement: it covers the first record logged after it.
pub fn draw_beacon(tx: &mut dyn Tx, log_size: u64) -> Result<Option<Hash>> {
    if tx.log_size()? <= log_size {
        return Ok(None);
    }
    crate::logtree::root(tx, log_size + 1).map(Some)
}

/// Draw every announced draw whose beacon now exists (R20). The result is
/// stored once; the core decides it from the published spec and beacon.
pub fn complete_draws(tx: &mut dyn Tx, now: i64) -> Result<usize> {
    let mut done = 0;
    for d in tx.spot_check_draws()? {
        if d.result.is_some() {
            continue;
        }
        let Some(beacon) = draw_beacon(tx, d.log_size)? else { continue };
        let spec: custody_core::oversight::draw::DrawSpec =
            serde_json::from_str(&d.spec).map_err(|e| StoreError::Corrupt(format!("draw {}: {e}", d.id)))?;
        match custody_core::oversight::draw::draw(&spec, beacon.as_bytes()) {
            Ok(result) => {
                let json = serde_json::to_string(&result).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                tx.set_draw_result(&d.id, beacon.as_bytes(), &json, now)?;
                done += 1;
            }
            // Checked when it was announced; a spec this version cannot draw
            // is left for a person to look at, never blocks the others.
            Err(e) => tracing::warn!(draw = %d.id, error = %e, "spot-check draw cannot be drawn"),
        }
    }
    Ok(done)
}
