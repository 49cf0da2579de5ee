//! R10: the sampler's commission form for the lab, and the witness's
//! co-signature of it.

use super::{Created, FieldEvidence};
use crate::engine::Engine;
use crate::error::{EngineError, Result};
use custody_core::Hash;
use custody_core::model::Id;
use custody_core::record::{Commission, CommissionItem, Payload};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CommissionInput {
    pub form_no: String,
    pub lab: Id,
    pub witness: Id,
    /// Pairs of (sampling record, witnessing record) to send to the lab.
    pub items: Vec<(Hash, Hash)>,
}

impl Engine {
    /// R10: the commission form for the lab (sampler), to be co-signed by the witness.
    pub fn create_commission(&self, input: CommissionInput, confirm: bool) -> Result<Created> {
        self.enrolled()?;
        if input.items.is_empty() {
            return Err(EngineError::invalid(
                "委托单至少要有一个样品",
                "a commission form needs at least one specimen",
            ));
        }
        let mut items = Vec::new();
        let mut project_unit = None;
        for (s, w) in &input.items {
            let Some(held) = self.store.record(s)? else {
                return Err(EngineError::invalid(
                    "本机没有该取样记录",
                    "this phone does not hold that sampling record",
                ));
            };
            let Payload::Sampling(sp) = &held.record.body().payload else {
                return Err(EngineError::invalid("不是取样记录", "not a sampling record"));
            };
            if self.store.record(w)?.is_none() {
                return Err(EngineError::invalid(
                    "本机还没有该样品的见证记录：请联网同步后再出委托单",
                    "this phone does not hold the witnessing record yet: sync first",
                ));
            }
            let pu = (sp.project.clone(), sp.unit_project.clone());
            if project_unit.as_ref().is_some_and(|x| *x != pu) {
                return Err(EngineError::invalid(
                    "一张委托单只能包含同一单位工程的样品",
                    "one commission form covers one unit project",
                ));
            }
            project_unit = Some(pu);
            items.push(CommissionItem {
                tag: sp.tag.clone(),
                sampling: *s,
                witnessing: *w,
                tests: sp.specimen.tests.clone(),
            });
        }
        let (project, unit_project) = project_unit.expect("at least one item");
        let payload = Payload::Commission(Commission {
            form_no: input.form_no,
            project,
            unit_project,
            lab: input.lab,
            witness: input.witness,
            items,
        });
        let judged = self.draft(payload.clone(), &FieldEvidence::default())?.judge(vec![], &[], confirm)?;
        self.commit(payload, vec![], vec![], judged)
    }

    /// The witness co-signs a commission form it holds (R10); sent at next sync.
    pub fn cosign(&self, record: &Hash) -> Result<()> {
        let profile = self.enrolled()?;
        let Some(held) = self.store.record(record)? else {
            return Err(EngineError::invalid(
                "本机没有该委托单，请先同步",
                "this phone does not hold that commission form: sync first",
            ));
        };
        let Payload::Commission(cm) = &held.record.body().payload else {
            return Err(EngineError::invalid("只能会签委托单", "only commission forms are co-signed"));
        };
        if cm.witness != profile.profile.person.id {
            return Err(EngineError::invalid(
                "该委托单指定的见证人不是您",
                "this form names another witness",
            ));
        }
        let mut signed = held.record.clone();
        signed.cosign(&self.key, profile.profile.person.id.clone());
        let cosig =
            signed.cosigs().iter().find(|x| x.device == self.key.public()).cloned().expect("just added");
        self.store.save_cosignature(record, &cosig)?;
        self.wake.notify_one();
        Ok(())
    }
}
