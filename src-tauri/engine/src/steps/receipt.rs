//! R11: the lab's receipt or rejection of one scanned tag.

use super::{Created, FieldEvidence};
use crate::engine::Engine;
use crate::error::{EngineError, Result};
use custody_core::record::{LabReceipt, Payload, ReceiptDecision, RejectReason, TagRead};
use custody_core::{Hash, TagCode};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReceiptInput {
    pub tag: TagCode,
    pub tag_read: TagRead,
    pub commission: Hash,
    pub decision: ReceiptDecision,
}

impl Engine {
    /// R11: the lab's receipt or rejection of one scanned tag.
    pub fn create_receipt(&self, input: ReceiptInput, confirm: bool) -> Result<Created> {
        self.enrolled()?;
        if let ReceiptDecision::Rejected { note, reason } = &input.decision
            && *reason == RejectReason::Other
            && note.trim().is_empty()
        {
            return Err(EngineError::invalid(
                "选择“其他”时请填写拒收原因",
                "describe the reason when rejecting for 'other'",
            ));
        }
        let commission = input.commission;
        // Accepting a specimen whose trail carries findings is the receiver's
        // recorded decision (R11): once they confirm, the receipt names each
        // finding they were shown; before, the draft check asks them to.
        let acknowledged = if confirm && input.decision == ReceiptDecision::Accepted {
            custody_core::trail::unconfirmed(&self.store.trail_findings(&input.tag)?, &[])
        } else {
            vec![]
        };
        let payload = Payload::LabReceipt(LabReceipt {
            tag: input.tag,
            tag_read: input.tag_read,
            commission,
            decision: input.decision,
            acknowledged,
        });
        // The lab may not hold the commission offline: the server checks it.
        let judged =
            self.draft(payload.clone(), &FieldEvidence::default())?.judge(vec![], &[commission], confirm)?;
        self.commit(payload, vec![], vec![], judged)
    }
}
