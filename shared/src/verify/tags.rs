//! R6, R16: every tag a record names is registered in a filed batch of this
//! project, and the record moves each tag's custody in order (R6–R13).

use super::{Judging, Verdict, Violation};
use crate::custody::{self, Step};
use crate::model::Id;
use crate::record::SignedRecord;

pub(super) fn check(j: &Judging<'_>, project: Option<&Id>, v: &mut Vec<Violation>, verdict: &mut Verdict) {
    for tag in j.body.payload.tags() {
        match j.ctx.tags.get(tag).and_then(|f| f.batch.as_ref()) {
            None => v.push(Violation::TagUnknown { tag: tag.clone() }),
            Some(b) => {
                if let Some(p) = project
                    && &b.project != p
                {
                    v.push(Violation::TagOtherProject { tag: tag.clone(), tag_project: b.project.clone() });
                }
            }
        }
    }
    if j.missing_refs {
        return;
    }
    let id = j.signed.map(SignedRecord::id).unwrap_or_else(|| j.body.id());
    for (tag, step) in Step::from_payload(id, &j.body.payload) {
        let state = j.ctx.tags.get(&tag).map(|f| f.state.clone()).unwrap_or_default();
        match custody::apply(&state, &step) {
            Ok(next) => verdict.custody.push((tag, next)),
            Err(error) => v.push(Violation::Custody { tag, error }),
        }
    }
}
