//! The engine: what it holds (the local store, media files, the device key,
//! the clock) and the device's estimate of time. Its API is spread over the
//! modules by concern: [`crate::enrollment`], the custody steps in
//! [`crate::steps`], [`crate::evidence`] (media), [`crate::views`],
//! [`crate::sync`] and [`crate::lookup`] (on-demand requests).
//!
//! Local operations (capture, validate, sign, list) are synchronous and work
//! with no network; network operations (enroll, sync, lab verification) are
//! async. Every record is validated with the shared rules (`check_draft`)
//! *before* it is signed, and committed with its media and outbox entry in
//! one SQLite transaction.

use crate::client::Client;
use crate::clock::DeviceClock;
use crate::enrollment::Enrollment;
use crate::error::Result;
use crate::media::{MediaError, MediaStore};
use crate::store::LocalStore;
use crate::vault::Vault;
use custody_core::SigningKey;
use custody_core::protocol::DeviceProfile;
use custody_core::time::TimeEvidence;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

pub struct Engine {
    pub(crate) store: LocalStore,
    pub(crate) media: MediaStore,
    pub(crate) key: SigningKey,
    pub(crate) clock: Arc<dyn DeviceClock>,
    /// Correction learned from a `clock_skew` answer (ms to add to our estimate).
    pub(crate) server_offset: Mutex<i64>,
    pub(crate) sync_lock: tokio::sync::Mutex<()>,
    pub(crate) wake: tokio::sync::Notify,
    /// What the lab station's last pass saw of each waiting file (its size
    /// and modification time), to tell a finished file from one being written.
    pub(crate) station_seen: Mutex<crate::station::Seen>,
    data_dir: PathBuf,
}

impl Engine {
    /// Open (or create) the engine's data in `dir`, with the device's keys
    /// from `vault`.
    pub fn open(dir: &Path, vault: &Vault, clock: Arc<dyn DeviceClock>) -> Result<Engine> {
        std::fs::create_dir_all(dir).map_err(MediaError::Io)?;
        let store = LocalStore::open(&dir.join("field.sqlite"))?;
        let media = MediaStore::open(&dir.join("media"), vault.face_key()?).map_err(MediaError::Io)?;
        Ok(Engine {
            store,
            media,
            key: vault.signing_key()?,
            clock,
            server_offset: Mutex::new(0),
            sync_lock: tokio::sync::Mutex::new(()),
            wake: tokio::sync::Notify::new(),
            station_seen: Mutex::new(Default::default()),
            data_dir: dir.to_owned(),
        })
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    pub fn device_key(&self) -> custody_core::PublicKey {
        self.key.public()
    }

    pub(crate) fn enrolled(&self) -> Result<Arc<Enrollment>> {
        self.store.enrolled()
    }

    pub(crate) fn profile(&self) -> Result<DeviceProfile> {
        Ok(self.enrolled()?.profile.clone())
    }

    /// The server keys this phone trusts: the one it enrolled with and those
    /// it handed over to (issue 18), in the order they were learnt.
    pub fn trusted_server_keys(&self) -> Result<Vec<custody_core::PublicKey>> {
        Ok(self.profile()?.server_keys)
    }

    pub(crate) fn client(&self, e: &Enrollment) -> Client {
        Client::new(&e.server_url, e.tls_pin)
    }

    // ------------------------------------------------------------ time

    /// The device's best estimate of the real (server) time: from the last
    /// anchor received on this boot and the uptime since, else the wall clock.
    pub fn now_estimate(&self) -> i64 {
        self.base_estimate() + *self.server_offset.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The estimate before any correction learned from the server.
    pub(crate) fn base_estimate(&self) -> i64 {
        match self.store.anchor_of_boot(&self.clock.boot_id()) {
            Some(held) => {
                held.anchor.body.server_ms + self.clock.mono_ms().saturating_sub(held.received_mono_ms) as i64
            }
            None => self.clock.wall_ms(),
        }
    }

    /// The evidence of time a record carries: the clocks now and the newest
    /// server anchor held (R8).
    pub(crate) fn time_evidence(&self) -> Result<TimeEvidence> {
        Ok(TimeEvidence {
            wall_ms: self.clock.wall_ms(),
            boot_id: self.clock.boot_id(),
            mono_ms: self.clock.mono_ms(),
            anchor: self.store.latest_anchor()?,
        })
    }
}
