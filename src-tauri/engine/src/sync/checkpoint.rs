//! The server's transparency log, watched from the phone (R14): each new
//! checkpoint must be signed by the pinned key and extend the last one this
//! device saw; a log that does not is a loud, persistent alarm.

use crate::client::Client;
use crate::engine::Engine;
use crate::error::{EngineError, Result};
use custody_core::log::{Checkpoint, SignedCheckpoint, verify_consistency};
use custody_core::protocol::{ConsistencyResponse, DeviceProfile};
use custody_core::routes;

impl Engine {
    /// Each new checkpoint must extend the last one this device saw; a log
    /// that does not is a loud, persistent alarm (R14).
    pub(super) async fn check_checkpoint(
        &self,
        client: &Client,
        new: &SignedCheckpoint,
        profile: &DeviceProfile,
    ) -> Result<()> {
        if new.verify(&profile.server_keys).is_err() {
            self.store.raise_alarm(
                "bad_checkpoint",
                "服务器日志签名无效",
                "the server's log checkpoint signature is invalid",
                "",
            )?;
            return Err(EngineError::invalid("服务器日志签名无效", "log checkpoint signature invalid"));
        }
        let old = self.store.latest_checkpoint()?;
        // Extends what we saw before, and the checkpoint just received is in
        // that same history.
        let consistent = match &old {
            None => true,
            Some(o) if o.checkpoint == new.checkpoint || o.checkpoint.size == 0 => true,
            Some(o) => {
                self.consistent_with_latest(client, &o.checkpoint, profile).await?
                    && self.consistent_with_latest(client, &new.checkpoint, profile).await?
            }
        };
        if !consistent {
            self.store.raise_alarm(
                "log_inconsistent",
                "服务器的防篡改日志与本机上次所见不一致：记录可能被删改，请立即报告监督机构",
                "the server's transparency log is inconsistent with what this device saw: records may have been altered; report it",
                &serde_json::to_string(&(old, new)).unwrap_or_default(),
            )?;
            return Err(EngineError::invalid("服务器日志不一致", "server log inconsistent"));
        }
        self.store.add_checkpoint(new)
    }

    /// Whether the server's latest checkpoint provably extends `from`.
    async fn consistent_with_latest(
        &self,
        client: &Client,
        from: &Checkpoint,
        profile: &DeviceProfile,
    ) -> Result<bool> {
        if from.size == 0 {
            return Ok(true);
        }
        let r: ConsistencyResponse = self
            .signed(client, reqwest::Method::GET, &routes::log_consistency(from.size), vec![], &[])
            .await?;
        Ok(r.checkpoint.verify(&profile.server_keys).is_ok()
            && verify_consistency(from, &r.checkpoint.checkpoint, &r.proof).is_ok())
    }
}
