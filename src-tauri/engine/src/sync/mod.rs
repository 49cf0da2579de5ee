//! Offline-first sync with the server. One pass (`sync_once`): refresh the
//! profile and a time anchor; upload pending records in chain order
//! ([`upload`]); check each new log checkpoint extends the last one seen
//! ([`checkpoint`]); upload media resumably ([`media`]); send co-signatures
//! and page the feed ([`feed`]). `run_background` repeats it with
//! exponential backoff and jitter.

mod checkpoint;
mod feed;
mod media;
mod upload;

use crate::client::{Client, ClientError};
use crate::engine::Engine;
use crate::error::{EngineError, Result};
use custody_core::protocol::{DeviceProfile, DeviceState, TimeResponse};
use custody_core::routes;
use custody_core::verify::Lang;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// What a sync pass did.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SyncReport {
    pub uploaded: usize,
    pub accepted: usize,
    pub refused: usize,
    pub deferred: usize,
    pub rejected: usize,
    pub media_bytes: u64,
    pub media_completed: usize,
    pub received: usize,
    pub cosignatures: usize,
}

/// Chunk size for media uploads: small enough to resume cheaply on a bad
/// mobile link, large enough to keep request overhead low.
pub const MEDIA_CHUNK: usize = 512 * 1024;
/// Records per upload request (the server accepts up to 500).
pub const UPLOAD_BATCH: usize = 100;

/// Exponential backoff with jitter: 2 s × 2^(n−1), capped at 5 min, ×[0.5, 1.5).
pub fn backoff(failures: u32) -> std::time::Duration {
    let base = 2_000u64.saturating_mul(1u64 << failures.saturating_sub(1).min(16)).min(300_000);
    let mut b = [0u8; 2];
    let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b);
    let jitter = 0.5 + f64::from(u16::from_le_bytes(b)) / 65536.0;
    std::time::Duration::from_millis((base as f64 * jitter) as u64)
}

impl Engine {
    /// A device-signed request stamped with our estimate of server time; a
    /// `clock_skew` answer teaches us the server's time and is retried once.
    pub(crate) async fn signed<T: serde::de::DeserializeOwned>(
        &self,
        client: &Client,
        method: reqwest::Method,
        path: &str,
        body: Vec<u8>,
        headers: &[(&str, String)],
    ) -> std::result::Result<T, ClientError> {
        let first =
            client.signed(&self.key, self.now_estimate(), method.clone(), path, body.clone(), headers).await;
        match first {
            Err(ClientError::Api(_, e)) if e.code == "clock_skew" => {
                if let Some(server_ms) = e.detail.as_ref().and_then(|d| d["server_ms"].as_i64()) {
                    let base = self.base_estimate();
                    *self.server_offset.lock().unwrap_or_else(|p| p.into_inner()) = server_ms - base;
                }
                client.signed(&self.key, self.now_estimate(), method, path, body, headers).await
            }
            other => other,
        }
    }

    /// This boot, its uptime and the chain head: what an anchor is bound to.
    pub(crate) fn device_state(&self) -> Result<DeviceState> {
        Ok(DeviceState {
            boot_id: self.clock.boot_id(),
            mono_ms: self.clock.mono_ms(),
            tail: self.store.chain_head()?,
        })
    }

    /// Ask the server for a fresh time anchor (cheap; the app does it before
    /// a sampling when a network is there, to tighten the trusted interval).
    pub async fn refresh_time(&self) -> Result<()> {
        let e = self.enrolled()?;
        let client = self.client(&e);
        let sent = self.clock.mono_ms();
        let state = self.device_state()?;
        let body = serde_json::to_vec(&state).expect("serialises");
        let r: TimeResponse = self.signed(&client, reqwest::Method::POST, routes::TIME, body, &[]).await?;
        if !r.anchor.verify(&e.profile.server_keys) {
            return Err(EngineError::invalid("服务器时间签名无效", "server time signature invalid"));
        }
        let received = self.clock.mono_ms().max(sent);
        self.store.add_anchor(&r.anchor, &self.clock.boot_id(), received)
    }

    /// One sync pass: profile, records, media, co-signatures, feed. Safe to
    /// call any time; never blocks capture (the store lock is held only
    /// between network calls).
    pub async fn sync_once(&self) -> Result<SyncReport> {
        let _one = self.sync_lock.lock().await;
        let result = self.sync_pass().await;
        match &result {
            Ok(_) => self.store.sync_succeeded()?,
            // Not enrolled yet is the first-run screen's business, not a sync problem.
            Err(EngineError::NotEnrolled) => {}
            Err(e) => self.store.sync_failed(&e.message(Lang::ZhCn), &e.message(Lang::En))?,
        }
        result
    }

    async fn sync_pass(&self) -> Result<SyncReport> {
        let e = self.enrolled()?;
        let client = self.client(&e);
        let mut report = SyncReport::default();

        // 1. The profile (authorisations may have changed, R1).
        match self.signed::<DeviceProfile>(&client, reqwest::Method::GET, routes::PROFILE, vec![], &[]).await
        {
            Ok(mut p) => {
                // Trust only the key this phone enrolled with and the keys it
                // handed over to, each handover signed by the key it retired
                // (issue 18): whoever answers cannot add a key of their own.
                p.server_keys = custody_core::server_keys::trusted(&[e.server_key], &p.key_handovers);
                self.store.update_profile(&p)?
            }
            Err(ClientError::Api(_, err)) if err.code == "device_revoked" => {
                self.store.raise_alarm("device_revoked", &err.message_zh, &err.message_en, "")?;
                return Err(ClientError::Api(403, err).into());
            }
            Err(err) => return Err(err.into()),
        }
        let profile = self.profile()?;

        // A fresh time anchor: the records made from now on, and the
        // countdowns, rest on it (R8).
        self.refresh_time().await?;

        // 2. Records, in chain order, in batches.
        self.upload_records(&client, &profile, &mut report).await?;
        // 3. Media of records the server holds, resumably.
        self.upload_pending_media(&client, &mut report).await?;
        // 4. Co-signatures (R10).
        self.send_cosignatures(&client, &mut report).await?;
        // 5. What the person needs to see (feed).
        self.read_feed(&client, &mut report).await?;
        Ok(report)
    }

    /// Run sync in the background for as long as the engine lives: right
    /// after any new record, and every `interval` otherwise; on failure back
    /// off exponentially (2 s … 5 min) with jitter so a site's phones do not
    /// all retry at once.
    pub async fn run_background(
        self: Arc<Self>,
        interval: std::time::Duration,
        stop: tokio::sync::watch::Receiver<bool>,
    ) {
        let mut failures = 0u32;
        let mut stop = stop;
        loop {
            if *stop.borrow() {
                return;
            }
            let wait = match self.sync_once().await {
                Ok(_) => {
                    failures = 0;
                    interval
                }
                Err(EngineError::NotEnrolled) => interval,
                Err(e) => {
                    failures = failures.saturating_add(1);
                    tracing::info!("sync failed ({}): {}", failures, e);
                    backoff(failures)
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = self.wake.notified() => {}
                _ = stop.changed() => {}
            }
        }
    }
}
