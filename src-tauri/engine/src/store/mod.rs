//! The engine's local store: every SQL statement the engine runs lives in
//! this module, `records` and `exchange`, behind domain operations (the enrollment and
//! the facts of its profile, time anchors, log checkpoints, own and received
//! records, media upload state, handshakes, co-signatures, alarms, sync
//! bookkeeping, the lab station's captured files), the way the server's `Tx` offers domain operations instead
//! of SQL. The tables and their migrations are in [`crate::db`].
//!
//! One connection behind a mutex: each operation holds it for its own
//! statements only, so a sync in progress never blocks capture for longer
//! than one statement or one short transaction.

mod exchange;
mod records;
mod station;

pub(crate) use records::UploadAck;
pub(crate) use station::StationFile;

use crate::db;
use crate::enrollment::Enrollment;
use crate::error::{EngineError, Result};
use crate::views::Alarm;
use custody_core::log::SignedCheckpoint;
use custody_core::model::Id;
use custody_core::protocol::DeviceProfile;
use custody_core::record::LabAssignment;
use custody_core::tag::TagBatch;
use custody_core::time::{HeldAnchor, TimeAnchor};
use custody_core::verify::{DeviceFacts, Grant, Violation};
use custody_core::{TagCode, model::UnitProject};
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

/// The wall clock, for the store's own bookkeeping (when a row was written);
/// never evidence.
pub(crate) fn now_wall() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// The enrollment as the store last read or wrote it. `None`: not read yet.
type CachedEnrollment = Option<Option<Arc<Enrollment>>>;

pub(crate) struct LocalStore {
    conn: Mutex<Connection>,
    /// Every record the phone makes reads the profile, so it is parsed once
    /// and kept until this store writes a new one (nothing else writes it).
    enrollment: Mutex<CachedEnrollment>,
}

/// The last sync's outcome, as the status bar shows it.
pub(crate) struct SyncOutcome {
    pub last_sync_ms: Option<i64>,
    pub last_error_zh: Option<String>,
    pub last_error_en: Option<String>,
}

fn serialised(v: &impl serde::Serialize) -> String {
    serde_json::to_string(v).expect("serialises")
}

fn meta(c: &Connection, key: &str) -> rusqlite::Result<Option<String>> {
    c.query_row("SELECT value FROM meta WHERE key = ?1", params![key], |r| r.get(0)).optional()
}

fn set_meta(c: &Connection, key: &str, value: &str) -> rusqlite::Result<()> {
    c.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
    Ok(())
}

fn insert_anchor(c: &Connection, anchor: &TimeAnchor, boot: &str, received_mono: u64) -> Result<()> {
    c.execute(
        "INSERT INTO anchors (boot_id, received_mono_ms, anchor) VALUES (?1,?2,?3)",
        params![boot, received_mono as i64, serialised(anchor)],
    )?;
    Ok(())
}

fn insert_checkpoint(c: &Connection, checkpoint: &SignedCheckpoint) -> Result<()> {
    c.execute(
        "INSERT OR IGNORE INTO checkpoints (size, checkpoint, received_ms) VALUES (?1,?2,?3)",
        params![checkpoint.checkpoint.size as i64, serialised(checkpoint), now_wall()],
    )?;
    Ok(())
}

impl LocalStore {
    /// Open (or create) the database file and migrate it to the newest schema.
    pub fn open(path: &Path) -> Result<LocalStore> {
        Ok(LocalStore { conn: Mutex::new(db::open(path)?), enrollment: Mutex::new(None) })
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn cache(&self) -> MutexGuard<'_, CachedEnrollment> {
        self.enrollment.lock().unwrap_or_else(|p| p.into_inner())
    }

    // ------------------------------------------------------------ enrollment

    /// The enrolled person and server, if this device is enrolled.
    pub fn enrollment(&self) -> Result<Option<Arc<Enrollment>>> {
        if let Some(cached) = self.cache().as_ref() {
            return Ok(cached.clone());
        }
        let row: Option<(String, String, Option<String>, String)> = self
            .conn()
            .query_row(
                "SELECT server_url, server_key, tls_pin, profile FROM enrollment WHERE id = 0",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        let enrollment = row
            .map(|(url, key, pin, profile)| -> Result<Arc<Enrollment>> {
                Ok(Arc::new(Enrollment {
                    server_url: url,
                    server_key: key.parse().map_err(|_| {
                        EngineError::invalid("登记的服务器公钥损坏", "stored server key damaged")
                    })?,
                    tls_pin: pin.and_then(|p| p.parse().ok()),
                    profile: serde_json::from_str(&profile)
                        .map_err(|e| EngineError::invalid("登记信息损坏", e.to_string()))?,
                }))
            })
            .transpose()?;
        *self.cache() = Some(enrollment.clone());
        Ok(enrollment)
    }

    /// The enrollment, or [`EngineError::NotEnrolled`].
    pub fn enrolled(&self) -> Result<Arc<Enrollment>> {
        self.enrollment()?.ok_or(EngineError::NotEnrolled)
    }

    /// Keep a new enrollment with the first time anchor and log checkpoint
    /// the server signed for it, in one transaction.
    pub fn save_enrollment(
        &self,
        enrollment: &Enrollment,
        anchor: &TimeAnchor,
        boot: &str,
        received_mono: u64,
        checkpoint: &SignedCheckpoint,
    ) -> Result<()> {
        let mut c = self.conn();
        let tx = c.transaction()?;
        tx.execute(
            "INSERT INTO enrollment (id, server_url, server_key, tls_pin, person, profile, enrolled_ms, updated_ms) VALUES (0,?1,?2,?3,?4,?5,?6,?6)",
            params![
                enrollment.server_url,
                enrollment.server_key.to_b64(),
                enrollment.tls_pin.map(|h| h.to_hex()),
                enrollment.profile.person.id.as_str(),
                serialised(&enrollment.profile),
                now_wall()
            ],
        )?;
        insert_anchor(&tx, anchor, boot, received_mono)?;
        insert_checkpoint(&tx, checkpoint)?;
        tx.commit()?;
        *self.cache() = Some(Some(Arc::new(enrollment.clone())));
        Ok(())
    }

    /// The profile the server sent on the last sync (grants may have changed, R1).
    pub fn update_profile(&self, profile: &DeviceProfile) -> Result<()> {
        self.conn().execute(
            "UPDATE enrollment SET profile = ?1, updated_ms = ?2 WHERE id = 0",
            params![serialised(profile), now_wall()],
        )?;
        // Read back on next use: the row is the truth (and absent if never enrolled).
        *self.cache() = None;
        Ok(())
    }

    // ------------------------------------------------------------ facts of the profile

    /// The signing device's facts: whose it is, and whether it was revoked.
    pub fn device_facts(&self) -> Result<Option<DeviceFacts>> {
        Ok(self.enrollment()?.map(|e| DeviceFacts {
            person: e.profile.person.id.clone(),
            org: e.profile.org.id.clone(),
            org_role: e.profile.org_role,
            revoked_at_ms: e.profile.device_revoked_ms,
        }))
    }

    /// The person's authorisations (R1).
    pub fn grants(&self) -> Result<Vec<Grant>> {
        let Some(e) = self.enrollment()? else { return Ok(vec![]) };
        Ok(e.profile
            .grants
            .iter()
            .map(|g| Grant {
                grant: g.grant.clone(),
                role: g.role,
                project: g.project.clone(),
                valid_from_ms: g.valid_from_ms,
                valid_until_ms: g.valid_until_ms,
                revoked_at_ms: g.revoked_at_ms,
                face_reference: g.face_reference,
            })
            .collect())
    }

    /// The registered batch a tag belongs to, among the person's projects (R15-R16).
    pub fn tag_batch(&self, tag: &TagCode) -> Result<Option<TagBatch>> {
        let Some(e) = self.enrollment()? else { return Ok(None) };
        Ok(e.profile.projects.iter().flat_map(|p| p.tag_batches.iter()).find(|b| b.contains(tag)).cloned())
    }

    /// The unit projects of the person's projects, with their site boundaries.
    pub fn unit_projects(&self) -> Result<BTreeMap<Id, UnitProject>> {
        let Some(e) = self.enrollment()? else { return Ok(BTreeMap::new()) };
        Ok(e.profile
            .projects
            .iter()
            .flat_map(|p| p.unit_projects.iter())
            .map(|u| (u.id.clone(), u.clone()))
            .collect())
    }

    /// The labs commissioned for the person's projects (R2).
    pub fn lab_assignments(&self) -> Result<Vec<LabAssignment>> {
        let Some(e) = self.enrollment()? else { return Ok(vec![]) };
        Ok(e.profile.projects.iter().flat_map(|p| p.labs.iter().cloned()).collect())
    }

    // ------------------------------------------------------------ what the lab was shown

    /// Remember the findings of a tag's trail that accepting it needs the
    /// receiver to confirm (R11), as the server last showed them.
    pub fn save_trail_findings(&self, tag: &TagCode, findings: &[Violation]) -> Result<()> {
        self.conn().execute(
            "INSERT INTO trail_findings (tag, findings, fetched_ms) VALUES (?1, ?2, ?3) \
             ON CONFLICT(tag) DO UPDATE SET findings = excluded.findings, fetched_ms = excluded.fetched_ms",
            params![tag.as_str(), serde_json::to_string(findings).expect("findings serialise"), now_wall()],
        )?;
        Ok(())
    }

    /// The trail findings last shown for a tag (none if it was never verified here).
    pub fn trail_findings(&self, tag: &TagCode) -> Result<Vec<Violation>> {
        let text: Option<String> = self
            .conn()
            .query_row("SELECT findings FROM trail_findings WHERE tag = ?1", params![tag.as_str()], |r| {
                r.get(0)
            })
            .optional()?;
        Ok(text.and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default())
    }

    // ------------------------------------------------------------ time anchors

    pub fn add_anchor(&self, anchor: &TimeAnchor, boot: &str, received_mono: u64) -> Result<()> {
        insert_anchor(&self.conn(), anchor, boot, received_mono)
    }

    /// The newest anchor this device holds, whatever the boot.
    pub fn latest_anchor(&self) -> Result<Option<HeldAnchor>> {
        let r: Option<(i64, String)> = self
            .conn()
            .query_row("SELECT received_mono_ms, anchor FROM anchors ORDER BY id DESC LIMIT 1", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?;
        Ok(r.and_then(|(m, a)| {
            serde_json::from_str(&a).ok().map(|anchor| HeldAnchor { anchor, received_mono_ms: m as u64 })
        }))
    }

    /// The newest anchor received on this boot (what an estimate of server
    /// time can rest on); none when unreadable.
    pub fn anchor_of_boot(&self, boot: &str) -> Option<HeldAnchor> {
        self.conn()
            .query_row(
                "SELECT received_mono_ms, anchor FROM anchors WHERE boot_id = ?1 ORDER BY id DESC LIMIT 1",
                params![boot],
                |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)),
            )
            .optional()
            .ok()
            .flatten()
            .and_then(|(m, a)| {
                serde_json::from_str(&a).ok().map(|anchor| HeldAnchor { anchor, received_mono_ms: m as u64 })
            })
    }

    pub fn has_anchor_of_boot(&self, boot: &str) -> Result<bool> {
        let n: i64 =
            self.conn()
                .query_row("SELECT count(*) FROM anchors WHERE boot_id = ?1", params![boot], |r| r.get(0))?;
        Ok(n > 0)
    }

    // ------------------------------------------------------------ log checkpoints

    /// The largest checkpoint of the server's log this device has seen.
    pub fn latest_checkpoint(&self) -> Result<Option<SignedCheckpoint>> {
        let s: Option<String> = self
            .conn()
            .query_row("SELECT checkpoint FROM checkpoints ORDER BY size DESC LIMIT 1", [], |r| r.get(0))
            .optional()?;
        Ok(s.and_then(|s| serde_json::from_str(&s).ok()))
    }

    pub fn add_checkpoint(&self, checkpoint: &SignedCheckpoint) -> Result<()> {
        insert_checkpoint(&self.conn(), checkpoint)
    }

    // ------------------------------------------------------------ sync bookkeeping

    pub fn sync_succeeded(&self) -> Result<()> {
        let c = self.conn();
        set_meta(&c, "last_sync_ms", &now_wall().to_string())?;
        set_meta(&c, "last_error_zh", "")?;
        set_meta(&c, "last_error_en", "")?;
        Ok(())
    }

    pub fn sync_failed(&self, zh: &str, en: &str) -> Result<()> {
        let c = self.conn();
        set_meta(&c, "last_error_zh", zh)?;
        set_meta(&c, "last_error_en", en)?;
        Ok(())
    }

    pub fn sync_outcome(&self) -> Result<SyncOutcome> {
        let c = self.conn();
        Ok(SyncOutcome {
            last_sync_ms: meta(&c, "last_sync_ms")?.and_then(|v| v.parse().ok()),
            last_error_zh: meta(&c, "last_error_zh")?.filter(|s| !s.is_empty()),
            last_error_en: meta(&c, "last_error_en")?.filter(|s| !s.is_empty()),
        })
    }

    /// Where the next feed page starts (the server's change sequence).
    pub fn feed_cursor(&self) -> Result<u64> {
        Ok(meta(&self.conn(), "feed_cursor")?.and_then(|v| v.parse().ok()).unwrap_or(0))
    }

    // ------------------------------------------------------------ alarms

    /// A problem that stays on screen until cleared (a broken chain, a bad
    /// receipt, an inconsistent log, a revoked device).
    pub fn raise_alarm(&self, kind: &str, zh: &str, en: &str, detail: &str) -> Result<()> {
        self.conn().execute(
            "INSERT INTO alarms (kind, message_zh, message_en, detail, created_ms) VALUES (?1,?2,?3,?4,?5)",
            params![kind, zh, en, detail, now_wall()],
        )?;
        Ok(())
    }

    pub fn open_alarms(&self) -> Result<Vec<Alarm>> {
        let c = self.conn();
        let mut st = c.prepare(
            "SELECT kind, message_zh, message_en, created_ms FROM alarms WHERE cleared_ms IS NULL ORDER BY id",
        )?;
        let alarms = st
            .query_map([], |r| {
                Ok(Alarm {
                    kind: r.get(0)?,
                    message_zh: r.get(1)?,
                    message_en: r.get(2)?,
                    created_ms: r.get(3)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(alarms)
    }
}
