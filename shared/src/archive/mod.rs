//! The lifetime archive (R14, R21; issue 18): what an export of the log
//! holds, so that a court, an archive or a new operator can check it in
//! decades without the server that made it.
//!
//! An export is a BagIt bag (RFC 8493): `data/` holds the records in their
//! canonical bytes, the media they list, the issued report PDFs and
//! `data/index.json` ([`ArchiveIndex`]): the signed checkpoint every proof
//! is against (the *head*), one inclusion proof per record, every
//! checkpoint the server signed up to the head with its consistency proof
//! to the head (so a checkpoint seen elsewhere — on a phone, in a report
//! check, in another export — can be compared: a server that showed two
//! histories is caught), and the server keys of the period. Device keys
//! need no list of their own: each is proven by the server-signed
//! `DeviceEnrolled` record in the bag.
//!
//! [`check`] verifies an archive from the bytes up, pure (the standalone
//! verifier `custody-verify` reads the files and calls it); [`bagit`]
//! reads and writes the bag's manifests. Every line it answers is in zh-CN
//! and English.

pub mod bagit;
pub mod check;
#[cfg(any(test, feature = "fixtures"))]
pub mod sample;
#[cfg(test)]
mod tests;

use crate::crypto::{Hash, PublicKey};
use crate::log::SignedCheckpoint;
use serde::{Deserialize, Serialize};

/// The index's format name; a verifier refuses any other.
pub const FORMAT: &str = "custody-archive/1";
/// Where the index sits in the bag.
pub const INDEX_FILE: &str = "data/index.json";

/// What the export was asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scope {
    /// Records of this project.
    pub project: Option<String>,
    /// Records of this report's specimens, the report and what amends or
    /// revokes it.
    pub report: Option<Hash>,
    /// First seen by the server at or after (ms since the epoch).
    pub from_ms: Option<i64>,
    /// First seen by the server at or before.
    pub until_ms: Option<i64>,
    /// Every earlier record of each device too, so its chain has no gap.
    pub whole_chains: bool,
}

/// Why a record is in the bag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Inclusion {
    /// Asked for by the scope.
    Scope,
    /// A directory fact the scope's records rest on: a device's enrollment
    /// or revocation, its person's and organisation's registration.
    Directory,
    /// An earlier record of a device's chain (`Scope::whole_chains`).
    ChainContext,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordEntry {
    pub id: Hash,
    pub log_index: u64,
    /// Path in the bag of the record's canonical envelope.
    pub file: String,
    pub why: Inclusion,
    /// The server's decision (accepted, refused, …): what it said, not
    /// something the bag can prove.
    pub status: String,
    /// RFC 6962 audit path of `log_index` at the head.
    pub proof: Vec<Hash>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MediaEntry {
    pub sha256: Hash,
    pub size: u64,
    pub media_type: String,
    /// Path in the bag, or `None` when the server never received the bytes.
    pub file: Option<String>,
}

/// A report the system issued a PDF for (R13).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportEntry {
    pub report: Hash,
    /// The issued PDF (a media entry).
    pub pdf: Hash,
}

/// A checkpoint the server signed, with the proof that the head extends it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryEntry {
    pub checkpoint: SignedCheckpoint,
    pub consistency: Vec<Hash>,
}

/// A key the server signed with, and over which period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerKey {
    pub key: PublicKey,
    pub from_ms: i64,
    pub until_ms: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArchiveIndex {
    pub format: String,
    pub scope: Scope,
    pub exported_ms: i64,
    /// The checkpoint every inclusion and consistency proof is against.
    pub head: SignedCheckpoint,
    /// Every checkpoint the server signed up to the head, by size, the head
    /// last.
    pub history: Vec<HistoryEntry>,
    pub server_keys: Vec<ServerKey>,
    /// How each retired key handed over to its successor, signed by the
    /// retiring key: a reader who trusts an old key comes to trust the new
    /// one only through these.
    #[serde(default)]
    pub handovers: Vec<crate::server_keys::SignedHandover>,
    /// By log index.
    pub records: Vec<RecordEntry>,
    pub media: Vec<MediaEntry>,
    pub reports: Vec<ReportEntry>,
}

/// Where a record's bytes go in the bag: log order sorts the listing.
pub fn record_file(log_index: u64, id: &Hash) -> String {
    format!("data/records/{log_index:010}-{id}.json")
}

/// Where a media file goes in the bag: named by its content.
pub fn media_file(sha: &Hash) -> String {
    format!("data/media/{sha}")
}

/// How sure a line of the verifier's answer is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Proven from the bytes.
    Proved,
    /// True, worth knowing, not a flaw (a chain gap outside the scope,
    /// media the server never received, a later checkpoint without proof).
    Note,
    /// The archive is not what it claims: the verifier fails.
    Flaw,
}

/// One line of the answer, in both languages, with a stable code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Line {
    pub level: Level,
    pub code: &'static str,
    pub zh: String,
    pub en: String,
}

impl Line {
    pub fn proved(code: &'static str, zh: impl Into<String>, en: impl Into<String>) -> Line {
        Line { level: Level::Proved, code, zh: zh.into(), en: en.into() }
    }
    pub fn note(code: &'static str, zh: impl Into<String>, en: impl Into<String>) -> Line {
        Line { level: Level::Note, code, zh: zh.into(), en: en.into() }
    }
    pub fn flaw(code: &'static str, zh: impl Into<String>, en: impl Into<String>) -> Line {
        Line { level: Level::Flaw, code, zh: zh.into(), en: en.into() }
    }
}

/// The whole answer: every line, flaws included.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Answer {
    pub lines: Vec<Line>,
}

impl Answer {
    pub fn push(&mut self, l: Line) {
        self.lines.push(l)
    }
    pub fn flaws(&self) -> impl Iterator<Item = &Line> {
        self.lines.iter().filter(|l| l.level == Level::Flaw)
    }
    pub fn ok(&self) -> bool {
        self.flaws().next().is_none()
    }
    pub fn has(&self, code: &str) -> bool {
        self.lines.iter().any(|l| l.code == code)
    }
}
