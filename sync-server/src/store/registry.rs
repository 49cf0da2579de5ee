//! What the lab registry (R3, `crate::registry`) reads and writes
//! ([`RegistryTx`]): the approved registries, a projection of the
//! `LabRegistryUpdated` admin facts in the log, and the labs' change
//! requests with the operator's decisions.

use super::Result;
use custody_core::Hash;
use custody_core::lab_registry::RegistryVersion;
use custody_core::model::Id;

/// Where a change request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestState {
    Pending,
    Approved,
    Refused,
}

impl RequestState {
    pub fn as_str(self) -> &'static str {
        match self {
            RequestState::Pending => "pending",
            RequestState::Approved => "approved",
            RequestState::Refused => "refused",
        }
    }
    pub fn parse(s: &str) -> Option<RequestState> {
        match s {
            "pending" => Some(RequestState::Pending),
            "approved" => Some(RequestState::Approved),
            "refused" => Some(RequestState::Refused),
            _ => None,
        }
    }
}

/// A lab's request to change its registry.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestRow {
    pub id: String,
    pub lab: Id,
    /// The lab person who asked (console person account's directory person).
    pub person: Id,
    /// Their console account, as the audit log names it.
    pub account: String,
    pub submitted_ms: i64,
    pub summary: String,
    /// JSON of the whole registry asked for (`LabRegistry`).
    pub registry: String,
    /// The registry record in force when it was asked for (what the
    /// operator's diff is against; `None`: the lab's first).
    pub base: Option<Hash>,
    pub state: RequestState,
    /// The administrator who decided, when, and why (a refusal's reason).
    pub decided_by: Option<String>,
    pub decided_ms: Option<i64>,
    pub reason: Option<String>,
    /// The `LabRegistryUpdated` record an approval signed.
    pub record: Option<Hash>,
}

pub trait RegistryTx {
    /// Project an accepted `LabRegistryUpdated` record.
    fn insert_registry_version(&mut self, v: &RegistryVersion) -> Result<()>;
    /// Every approved registry of a lab, in approval order.
    fn registry_versions(&mut self, lab: &Id) -> Result<Vec<RegistryVersion>>;
    fn insert_registry_request(&mut self, r: &RequestRow) -> Result<()>;
    fn registry_request(&mut self, id: &str) -> Result<Option<RequestRow>>;
    /// A lab's requests, newest first.
    fn registry_requests_of(&mut self, lab: &Id) -> Result<Vec<RequestRow>>;
    /// Requests in one state, oldest first (the operator's queue).
    fn registry_requests_in(&mut self, state: RequestState) -> Result<Vec<RequestRow>>;
    /// Record a decision on a pending request; false when it was not
    /// pending (decided already, or no such request).
    fn decide_registry_request(&mut self, decided: &RequestRow) -> Result<bool>;
}
