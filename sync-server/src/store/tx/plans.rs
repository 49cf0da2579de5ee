//! The plans' operations ([`PlansTx`]), once for both back ends.

use super::SqlTx;
use crate::store::plans::*;
use crate::store::sql::{Conn, args, to_json};
use crate::store::{Result, StoreError};
use custody_core::Hash;
use custody_core::custody::Stage;
use custody_core::model::{Id, SpecimenKind};
use custody_core::plans::{GuidePrice, PlanDoc, PlanRecord};
use custody_core::record::RecordKind;

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

fn doc(kind: &str, json: &str) -> Result<PlanDoc> {
    let k = |r: RecordKind| r.as_str() == kind;
    Ok(if k(RecordKind::ContractRegistered) {
        PlanDoc::Contract(serde_json::from_str(json).map_err(corrupt)?)
    } else if k(RecordKind::SamplingPlanDrafted) {
        PlanDoc::Sampling(serde_json::from_str(json).map_err(corrupt)?)
    } else if k(RecordKind::TestingPlanDrafted) {
        PlanDoc::Testing(serde_json::from_str(json).map_err(corrupt)?)
    } else if k(RecordKind::PlanApproved) {
        PlanDoc::Approval(serde_json::from_str(json).map_err(corrupt)?)
    } else if k(RecordKind::PreStartChecked) {
        PlanDoc::Check(serde_json::from_str(json).map_err(corrupt)?)
    } else {
        return Err(corrupt(format!("plan record kind {kind}")));
    })
}

impl<C: Conn> PlansTx for SqlTx<'_, C> {
    fn insert_plan_record(
        &mut self,
        project: &Id,
        record: &Hash,
        kind: &str,
        author: &Id,
        at_ms: i64,
        json: &str,
    ) -> Result<()> {
        self.c.exec(
            "INSERT INTO plan_records (project, record, kind, author, at_ms, json) VALUES ($1,$2,$3,$4,$5,$6)",
            args![project, record, kind, author, at_ms, json],
        )?;
        Ok(())
    }

    fn plan_records(&mut self, project: &Id) -> Result<Vec<PlanRecord>> {
        self.c
            .rows(
                "SELECT record, kind, author, at_ms, json FROM plan_records WHERE project = $1 ORDER BY seq",
                args![project],
            )?
            .into_iter()
            .map(|mut r| {
                let record = r.hash(0)?;
                let kind = r.text(1)?;
                let author = Id::new(r.text(2)?).map_err(corrupt)?;
                let at_ms = r.int(3)?;
                let doc = doc(&kind, &r.text(4)?)?;
                Ok(PlanRecord { record, author, at_ms, doc })
            })
            .collect()
    }

    fn insert_guide_price(&mut self, g: &GuidePrice, record: &Hash, at_ms: i64) -> Result<()> {
        self.c.exec(
            "INSERT INTO tag_guide_prices (supplier, record, at_ms, json) VALUES ($1,$2,$3,$4)",
            args![&g.supplier, record, at_ms, to_json(g)],
        )?;
        Ok(())
    }

    fn guide_prices(&mut self, supplier: &Id) -> Result<Vec<GuidePrice>> {
        self.c
            .rows("SELECT json FROM tag_guide_prices WHERE supplier = $1 ORDER BY seq", args![supplier])?
            .into_iter()
            .map(|mut r| r.json(0))
            .collect()
    }

    fn all_guide_prices(&mut self) -> Result<Vec<GuidePrice>> {
        self.c
            .rows("SELECT json FROM tag_guide_prices ORDER BY seq", args![])?
            .into_iter()
            .map(|mut r| r.json(0))
            .collect()
    }

    fn insert_plan_sampling(
        &mut self,
        tag: &str,
        project: &Id,
        unit_project: &Id,
        plan_item: Option<&Id>,
        kind: SpecimenKind,
        at_ms: i64,
    ) -> Result<()> {
        self.c.exec(
            "INSERT INTO plan_samplings (tag, project, unit_project, plan_item, kind, sampled_ms) \
             VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT (tag) DO NOTHING",
            args![tag, project, unit_project, plan_item, crate::store::sql::name_of(&kind), at_ms],
        )?;
        Ok(())
    }

    fn plan_stage_counts(&mut self, project: &Id) -> Result<Vec<StageCount>> {
        self.c
            .rows(
                "SELECT s.unit_project, s.plan_item, t.stage, count(*), s.kind FROM plan_samplings s \
                 JOIN tags t ON t.code = s.tag WHERE s.project = $1 \
                 GROUP BY s.unit_project, s.plan_item, s.kind, t.stage",
                args![project],
            )?
            .into_iter()
            .map(|mut r| {
                let stage_name = r.text(2)?;
                let stage: Stage = serde_json::from_value(serde_json::Value::String(stage_name.clone()))
                    .map_err(|_| corrupt(format!("stage {stage_name}")))?;
                let kind_name = r.text(4)?;
                let kind: SpecimenKind = serde_json::from_value(serde_json::Value::String(kind_name.clone()))
                    .map_err(|_| corrupt(format!("kind {kind_name}")))?;
                Ok(StageCount {
                    unit_project: Id::new(r.text(0)?).map_err(corrupt)?,
                    plan_item: r.opt_text(1)?.map(Id::new).transpose().map_err(corrupt)?,
                    kind,
                    stage,
                    count: r.uint(3)?,
                })
            })
            .collect()
    }

    fn planned_projects(&mut self) -> Result<Vec<Id>> {
        self.c
            .rows("SELECT DISTINCT project FROM plan_records ORDER BY project", args![])?
            .into_iter()
            .map(|mut r| Id::new(r.text(0)?).map_err(corrupt))
            .collect()
    }

    fn raw_plan_pass(&mut self, project: &Id) -> Result<i64> {
        let mut r = self.c.rows(
            "SELECT count(*) FROM plan_samplings s JOIN tags t ON t.code = s.tag WHERE s.project = $1",
            args![project],
        )?;
        match r.pop() {
            Some(mut row) => row.int(0),
            None => Ok(0),
        }
    }
}
