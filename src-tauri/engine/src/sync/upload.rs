//! Records up, in chain order and in batches. A refused record is stored by
//! the server, so it never blocks the rest; a *rejected* one means the chain
//! is broken at the server, which stops the upload and raises an alarm.
//! Every receipt is verified against the pinned server key.

use super::{SyncReport, UPLOAD_BATCH};
use crate::client::Client;
use crate::engine::Engine;
use crate::error::{EngineError, Result};
use crate::store::UploadAck;
use custody_core::protocol::{DeviceProfile, RecordStatus, UploadRequest, UploadResponse};
use custody_core::routes;

impl Engine {
    pub(super) async fn upload_records(
        &self,
        client: &Client,
        profile: &DeviceProfile,
        report: &mut SyncReport,
    ) -> Result<()> {
        loop {
            let batch = self.store.pending_uploads(UPLOAD_BATCH)?;
            if batch.is_empty() {
                return Ok(());
            }
            let records = batch
                .iter()
                .map(|(_, env)| {
                    serde_json::value::RawValue::from_string(String::from_utf8_lossy(env).into_owned())
                })
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(|e| EngineError::invalid("本机记录损坏", e.to_string()))?;
            let state = self.device_state()?;
            let sent = self.clock.mono_ms();
            let body = serde_json::to_vec(&UploadRequest { state, records }).expect("serialises");
            let resp: UploadResponse =
                self.signed(client, reqwest::Method::POST, routes::RECORDS, body, &[]).await?;
            let received = self.clock.mono_ms().max(sent);
            self.check_checkpoint(client, &resp.checkpoint, profile).await?;
            if resp.anchor.verify(&profile.server_keys) {
                self.store.add_anchor(&resp.anchor, &self.clock.boot_id(), received)?;
            }
            let mut acks = Vec::with_capacity(batch.len());
            for ((seq, _), r) in batch.iter().zip(&resp.results) {
                report.uploaded += 1;
                match r.status {
                    RecordStatus::Accepted => report.accepted += 1,
                    RecordStatus::Refused => report.refused += 1,
                    RecordStatus::Deferred => report.deferred += 1,
                    RecordStatus::Rejected => report.rejected += 1,
                }
                let receipt_ok = r
                    .receipt
                    .as_ref()
                    .is_some_and(|x| x.record == r.id && x.verify(&profile.server_keys).is_ok());
                if r.receipt.is_some() && !receipt_ok {
                    // What was answered before this one still counts.
                    self.store.record_upload_results(&acks)?;
                    self.store.raise_alarm(
                        "bad_receipt",
                        "服务器回执无效：记录可能未被真实登记",
                        "a server receipt does not verify",
                        &r.id.to_hex(),
                    )?;
                    return Err(EngineError::invalid("服务器回执无效", "server receipt invalid"));
                }
                acks.push(UploadAck {
                    seq: *seq,
                    status: r.status,
                    findings: &r.findings,
                    receipt: r.receipt.as_ref(),
                });
            }
            self.store.record_upload_results(&acks)?;
            if resp.results.len() < batch.len() {
                return Err(EngineError::invalid("服务器应答不完整", "incomplete answer from the server"));
            }
            // A rejected record means this device's chain is broken at the
            // server: stop uploading (later ones would all be gaps), keep
            // everything, and tell the person.
            if let Some(r) = resp.results.iter().find(|r| r.status == RecordStatus::Rejected) {
                if let Some(f) = r.findings.first() {
                    self.store.raise_alarm("record_rejected", &f.message_zh, &f.message_en, "")?;
                }
                return Ok(());
            }
        }
    }
}
