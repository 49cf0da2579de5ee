//! Media up, resumably: each file in `MEDIA_CHUNK` pieces from where the
//! server's copy stops, only for records the server holds.

use super::{MEDIA_CHUNK, SyncReport};
use crate::client::{Client, ClientError};
use crate::engine::Engine;
use crate::error::{EngineError, Result};
use custody_core::Hash;
use custody_core::protocol::{H_UPLOAD_LENGTH, H_UPLOAD_OFFSET, MediaStatus};
use custody_core::routes;

impl Engine {
    pub(super) async fn upload_pending_media(&self, client: &Client, report: &mut SyncReport) -> Result<()> {
        for m in self.store.media_to_upload()? {
            let (sent, done) = self.upload_media(client, &m.sha, m.size, m.sealed).await?;
            report.media_bytes += sent;
            if done {
                report.media_completed += 1;
            }
        }
        Ok(())
    }

    /// Upload one media file from where the server's copy stops: (bytes sent, complete).
    async fn upload_media(
        &self,
        client: &Client,
        sha: &Hash,
        size: u64,
        sealed: bool,
    ) -> Result<(u64, bool)> {
        let path = routes::media(sha);
        let status: MediaStatus = match self.signed(client, reqwest::Method::GET, &path, vec![], &[]).await {
            Ok(s) => s,
            Err(ClientError::Api(404, _)) => return Ok((0, false)),
            Err(e) => return Err(e.into()),
        };
        if status.complete {
            self.store.media_progress(sha, size, true)?;
            return Ok((0, true));
        }
        let mut offset = status.received;
        let mut sent = 0u64;
        while offset < size {
            let chunk = self.media.read_range(sha, sealed, offset, MEDIA_CHUNK)?;
            if chunk.is_empty() {
                return Err(EngineError::invalid("本机文件不完整", "local media file is truncated"));
            }
            let headers = [(H_UPLOAD_OFFSET, offset.to_string()), (H_UPLOAD_LENGTH, size.to_string())];
            let len = chunk.len() as u64;
            match self.signed::<MediaStatus>(client, reqwest::Method::PATCH, &path, chunk, &headers).await {
                Ok(s) => {
                    sent += len;
                    offset = s.received;
                    self.store.media_progress(sha, offset, s.complete)?;
                    if s.complete {
                        return Ok((sent, true));
                    }
                }
                Err(ClientError::Api(409, e)) => {
                    // The server has a different amount: resume from there.
                    offset = e.detail.as_ref().and_then(|d| d["received"].as_u64()).unwrap_or(0);
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok((sent, false))
    }
}
