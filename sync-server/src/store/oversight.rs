//! What the oversight pass (`crate::oversight`) reads and writes
//! ([`OversightTx`]): samplings watched for their witnessing (R8) and the
//! per-project tallies the early warnings read (R17).

use super::{RecordRow, Result};
use custody_core::{Hash, PublicKey};

/// A sampling watched until its witnessing is decided.
#[derive(Debug, Clone, PartialEq)]
pub struct WatchRow {
    pub sampling: Hash,
    pub project: String,
    /// The sampler (person id).
    pub sampler: String,
    /// The sampling's proven latest moment.
    pub latest_ms: Option<i64>,
    /// `open`, `pending`, `missed` (`oversight::missed::WitnessState`) or,
    /// once witnessed, `in_time`, `late`, `undetermined` (`WitnessOutcome`).
    pub state: String,
    pub witnessing: Option<Hash>,
    /// The witness (person id), once witnessed.
    pub witness: Option<String>,
    /// JSON: the last state's details (who has not synced, since when).
    pub detail: String,
    pub updated_ms: i64,
}

/// One stored finding, with its position in the violations table.
#[derive(Debug, Clone)]
pub struct StoredFinding {
    pub id: u64,
    pub record: Hash,
    pub project: Option<String>,
    /// JSON of `custody_core::protocol::Finding`.
    pub finding: String,
}

/// One tally line: `n` of `key` in `project`; `odd`: of them, the part
/// the key singles out (a sampler-witness pair's samplings at odd hours, a
/// month's samplings witnessed late or never).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TallyRow {
    pub project: String,
    pub key: String,
    pub n: i64,
    pub odd: i64,
}

/// A spot-check draw (R20): announced with its spec, drawn once the log
/// has grown past `log_size` (the beacon is the log's root at
/// `log_size + 1`).
#[derive(Debug, Clone, PartialEq)]
pub struct DrawRow {
    pub id: String,
    /// The jurisdiction prefix it was drawn over (`None`: everything).
    pub scope: Option<String>,
    pub created_by: String,
    /// Canonical JSON of `custody_core::oversight::draw::DrawSpec`.
    pub spec: String,
    pub spec_sha256: Hash,
    pub announced_ms: i64,
    /// The log's size when it was announced.
    pub log_size: u64,
    pub beacon: Option<Vec<u8>>,
    /// JSON of `DrawResult`, once drawn.
    pub result: Option<String>,
    pub drawn_ms: Option<i64>,
}

pub trait OversightTx {
    fn insert_draw(&mut self, d: &DrawRow) -> Result<()>;
    fn spot_check_draw(&mut self, id: &str) -> Result<Option<DrawRow>>;
    /// Every draw, newest first.
    fn spot_check_draws(&mut self) -> Result<Vec<DrawRow>>;
    fn set_draw_result(&mut self, id: &str, beacon: &[u8], result: &str, drawn_ms: i64) -> Result<()>;

    /// Records whose change sequence is after `after`, oldest change first.
    fn records_changed_after(&mut self, after: u64, limit: u32) -> Result<Vec<RecordRow>>;
    /// Stored findings after position `after`, in order.
    fn findings_after(&mut self, after: u64, limit: u32) -> Result<Vec<StoredFinding>>;
    /// The position of the newest stored finding (0: none).
    fn last_finding_id(&mut self) -> Result<u64>;
    /// Findings stored for one project's records, newest first (evidence).
    fn findings_of_project(&mut self, project: &str, limit: u32) -> Result<Vec<StoredFinding>>;
    /// Start watching a sampling; false if it is watched already.
    fn insert_watch(&mut self, w: &WatchRow) -> Result<bool>;
    fn watch(&mut self, sampling: &Hash) -> Result<Option<WatchRow>>;
    fn update_watch(&mut self, w: &WatchRow) -> Result<()>;
    /// Undecided watches (`open`, `pending`) whose sampling's latest moment
    /// is at or before `latest_before`, in (latest moment, sampling) order,
    /// after `after` in that order (the previous batch's last).
    fn watches_due(
        &mut self,
        latest_before: i64,
        after: Option<&(i64, Hash)>,
        limit: u32,
    ) -> Result<Vec<WatchRow>>;
    /// One project's watches in these states, newest first (evidence).
    fn watches_of(&mut self, project: &str, states: &[&str], limit: u32) -> Result<Vec<WatchRow>>;
    /// Add to a tally line (creating it).
    fn add_tally(&mut self, project: &str, key: &str, n: i64, odd: i64) -> Result<()>;
    fn tallies(&mut self) -> Result<Vec<TallyRow>>;
    /// Replace every tally line of `key` with these counts per project.
    fn set_tally_gauge(&mut self, key: &str, counts: &[(String, i64)]) -> Result<()>;
    /// Specimens at `stage` since before `before_ms`, counted per project.
    fn stale_specimens(&mut self, stage: &str, before_ms: i64) -> Result<Vec<(String, i64)>>;
    /// One project's specimens at `stage` since before `before_ms`: tag
    /// codes and when they reached it, oldest first (evidence).
    fn stale_specimens_of(
        &mut self,
        project: &str,
        stage: &str,
        before_ms: i64,
        limit: u32,
    ) -> Result<Vec<(String, i64)>>;
    /// The dashboard's figures computed from the rows themselves (every
    /// watch and finding grouped by project): the baseline the tallies are
    /// measured against. Returns how many watches it counted.
    fn raw_oversight_aggregate(&mut self) -> Result<i64>;
    /// Server time of the latest anchor `device` fetched whose chain head
    /// the server holds (or that it fetched with an empty chain): every
    /// record it made before then is on the server.
    fn covered_until_ms(&mut self, device: &PublicKey) -> Result<Option<i64>>;
}
