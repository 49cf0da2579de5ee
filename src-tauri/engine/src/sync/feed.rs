//! What goes to and comes from the other phones through the server: this
//! witness's co-signatures (R10), and the feed of records the person needs
//! to see, paged by the server's change sequence (records reappear when
//! their status changes or they gain a co-signature).

use super::SyncReport;
use crate::client::{Client, ClientError};
use crate::engine::Engine;
use crate::error::Result;
use custody_core::protocol::{CosignRequest, FeedResponse, RecordResult};
use custody_core::record::SignedRecord;
use custody_core::routes;

/// Records per feed page.
const FEED_PAGE: u32 = 200;

impl Engine {
    pub(super) async fn send_cosignatures(&self, client: &Client, report: &mut SyncReport) -> Result<()> {
        for (record, cosig) in self.store.pending_cosignatures()? {
            let body = serde_json::to_vec(&CosignRequest { record, cosig }).expect("serialises");
            match self
                .signed::<RecordResult>(client, reqwest::Method::POST, routes::COSIGNATURES, body, &[])
                .await
            {
                Ok(r) => {
                    self.store.cosignature_sent(&record, &r.findings)?;
                    report.cosignatures += 1;
                }
                Err(ClientError::Api(404, err)) => {
                    // The form has not reached the server yet: try again next time.
                    tracing::info!("co-signature waits: {}", err.message_en);
                }
                Err(ClientError::Api(_, err)) => self.store.cosignature_failed(&record, &err)?,
                Err(err) => return Err(err.into()),
            }
        }
        Ok(())
    }

    pub(super) async fn read_feed(&self, client: &Client, report: &mut SyncReport) -> Result<()> {
        loop {
            let after = self.store.feed_cursor()?;
            let feed: FeedResponse = self
                .signed(client, reqwest::Method::GET, &routes::feed(after, FEED_PAGE), vec![], &[])
                .await?;
            let mut items = Vec::with_capacity(feed.items.len());
            for item in &feed.items {
                match SignedRecord::decode_verified(item.envelope.get().as_bytes()) {
                    Ok(rec) => items.push((rec, item.status, item.log_index)),
                    Err(_) => tracing::warn!("feed item {} does not verify: skipped", item.log_index),
                }
            }
            report.received += self.store.save_feed_page(&self.key.public(), &items, feed.next)?;
            if !feed.more {
                return Ok(());
            }
        }
    }
}
