//! What the plans before work starts (R2, R4, R5, R15, R19) read and write
//! ([`PlansTx`]): projections of the accepted plan records (contracts,
//! sampling and testing plan versions, approvals, pre-start checks) in log
//! order, the suppliers' filed guide prices, and each accepted sampling's
//! plan item, so progress against plan (A4.1) is one grouped query.

use super::Result;
use custody_core::Hash;
use custody_core::custody::Stage;
use custody_core::model::{Id, SpecimenKind};
use custody_core::plans::{GuidePrice, PlanRecord};

/// One group of a project's specimens: how many of one plan item (or none:
/// outside the plan) stand at one stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageCount {
    pub unit_project: Id,
    pub plan_item: Option<Id>,
    /// The specimen kind the sampling names (an item of another kind is
    /// outside the plan, R4).
    pub kind: SpecimenKind,
    pub stage: Stage,
    pub count: u64,
}

pub trait PlansTx {
    /// Project an accepted plan record (`kind` = its record kind's name;
    /// `json` = its payload's JSON).
    fn insert_plan_record(
        &mut self,
        project: &Id,
        record: &Hash,
        kind: &str,
        author: &Id,
        at_ms: i64,
        json: &str,
    ) -> Result<()>;
    /// A project's accepted plan records, in the order they were accepted.
    fn plan_records(&mut self, project: &Id) -> Result<Vec<PlanRecord>>;
    /// Project an accepted `TagGuidePriceFiled` admin fact (R15).
    fn insert_guide_price(&mut self, g: &GuidePrice, record: &Hash, at_ms: i64) -> Result<()>;
    /// A supplier's filed guide prices, in filing order.
    fn guide_prices(&mut self, supplier: &Id) -> Result<Vec<GuidePrice>>;
    /// Every supplier's latest guide prices, in filing order.
    fn all_guide_prices(&mut self) -> Result<Vec<GuidePrice>>;
    /// An accepted sampling: its tag and the plan item it names (R4).
    fn insert_plan_sampling(
        &mut self,
        tag: &str,
        project: &Id,
        unit_project: &Id,
        plan_item: Option<&Id>,
        kind: SpecimenKind,
        at_ms: i64,
    ) -> Result<()>;
    /// A project's specimens, grouped by unit project, plan item and
    /// custody stage (A4.1).
    fn plan_stage_counts(&mut self, project: &Id) -> Result<Vec<StageCount>>;
    /// The projects with any plan record (the oversight pass counts their
    /// items behind).
    fn planned_projects(&mut self) -> Result<Vec<Id>>;
    /// The baseline the progress benchmark prints beside it: a plain pass
    /// over the project's specimens joined to their stages, no grouping,
    /// nothing decoded (the number of specimens).
    fn raw_plan_pass(&mut self, project: &Id) -> Result<i64>;
}
