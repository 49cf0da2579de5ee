//! The custody state machine of one specimen, keyed by its tag (R6-R13):
//!
//! ```text
//! unbound ─sampling─▶ sampled ─witnessing─▶ witnessed ─commission─▶ commissioned
//!   commissioned ─receipt(accepted)─▶ received ─test data─▶ tested ─report─▶ reported
//!   commissioned ─receipt(rejected)─▶ rejected (final: a rejected specimen is never tested)
//!   tested ─test data─▶ tested;  reported ─report(amends the last)─▶ reported
//! ```
//!
//! A tag binds once and forever: once sampled, no second sampling can bind it,
//! whatever happens later (R6, R16). Each step must name the record of the
//! previous step exactly (a witness attests *that* sampling record), so a
//! record cannot be grafted onto another specimen's trail.

use crate::crypto::Hash;
use crate::record::{Payload, ReceiptDecision, RecordKind};
use crate::tag::TagCode;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Unbound,
    Sampled,
    Witnessed,
    Commissioned,
    Received,
    Rejected,
    Tested,
    Reported,
}

impl Stage {
    pub fn name_zh(self) -> &'static str {
        match self {
            Stage::Unbound => "未绑定",
            Stage::Sampled => "已取样",
            Stage::Witnessed => "已见证",
            Stage::Commissioned => "已委托",
            Stage::Received => "已收样",
            Stage::Rejected => "已拒收",
            Stage::Tested => "已检测",
            Stage::Reported => "已出报告",
        }
    }
    pub fn name_en(self) -> &'static str {
        match self {
            Stage::Unbound => "unbound",
            Stage::Sampled => "sampled",
            Stage::Witnessed => "witnessed",
            Stage::Commissioned => "commissioned",
            Stage::Received => "received",
            Stage::Rejected => "rejected",
            Stage::Tested => "tested",
            Stage::Reported => "reported",
        }
    }

    /// The steps that may legally come next.
    pub fn allowed_next(self) -> &'static [RecordKind] {
        use RecordKind as K;
        match self {
            Stage::Unbound => &[K::Sampling],
            Stage::Sampled => &[K::Witnessing],
            Stage::Witnessed => &[K::Commission],
            Stage::Commissioned => &[K::LabReceipt],
            Stage::Received => &[K::TestData],
            Stage::Rejected => &[],
            Stage::Tested => &[K::TestData, K::Report],
            Stage::Reported => &[K::Report],
        }
    }
}

/// Where one specimen is in its custody, and the records that put it there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpecimenState {
    pub stage: Stage,
    pub sampling: Option<Hash>,
    pub witnessing: Option<Hash>,
    pub commission: Option<Hash>,
    pub receipt: Option<Hash>,
    pub tests: u32,
    pub report: Option<Hash>,
}

impl Default for SpecimenState {
    fn default() -> Self {
        SpecimenState::UNBOUND
    }
}

impl SpecimenState {
    pub const UNBOUND: SpecimenState = SpecimenState {
        stage: Stage::Unbound,
        sampling: None,
        witnessing: None,
        commission: None,
        receipt: None,
        tests: 0,
        report: None,
    };
}

/// One custody step as the state machine sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Sample { record: Hash },
    Witness { record: Hash, sampling: Hash },
    Commission { record: Hash, sampling: Hash, witnessing: Hash },
    Receive { record: Hash, commission: Hash, accepted: bool },
    Test { record: Hash, receipt: Hash },
    Report { record: Hash, amends: Option<Hash> },
}

impl Step {
    pub fn kind(&self) -> RecordKind {
        match self {
            Step::Sample { .. } => RecordKind::Sampling,
            Step::Witness { .. } => RecordKind::Witnessing,
            Step::Commission { .. } => RecordKind::Commission,
            Step::Receive { .. } => RecordKind::LabReceipt,
            Step::Test { .. } => RecordKind::TestData,
            Step::Report { .. } => RecordKind::Report,
        }
    }

    /// The custody steps a record makes, one per tag it covers.
    pub fn from_payload(record: Hash, payload: &Payload) -> Vec<(TagCode, Step)> {
        match payload {
            Payload::Sampling(s) => vec![(s.tag.clone(), Step::Sample { record })],
            Payload::Witnessing(w) => {
                vec![(w.tag.clone(), Step::Witness { record, sampling: w.sampling })]
            }
            Payload::Commission(c) => c
                .items
                .iter()
                .map(|i| {
                    (
                        i.tag.clone(),
                        Step::Commission { record, sampling: i.sampling, witnessing: i.witnessing },
                    )
                })
                .collect(),
            Payload::LabReceipt(r) => vec![(
                r.tag.clone(),
                Step::Receive {
                    record,
                    commission: r.commission,
                    accepted: matches!(r.decision, ReceiptDecision::Accepted),
                },
            )],
            Payload::TestData(t) => vec![(t.tag.clone(), Step::Test { record, receipt: t.receipt })],
            Payload::Report(r) => {
                r.tags.iter().map(|t| (t.clone(), Step::Report { record, amends: r.amends })).collect()
            }
            _ => vec![],
        }
    }
}

/// Which earlier record a step names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Link {
    Sampling,
    Witnessing,
    Commission,
    Receipt,
    Report,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "custody_error", rename_all = "snake_case")]
pub enum CustodyError {
    /// R6/R16: a tag binds to one specimen, once.
    #[error("tag already bound by sampling record {bound_by}")]
    TagAlreadyBound { bound_by: Hash },
    /// The step is not legal at this stage.
    #[error("a {attempted:?} record cannot follow stage {stage:?}; expected one of {expected:?}")]
    OutOfOrder { stage: Stage, attempted: RecordKind, expected: Vec<RecordKind> },
    /// The step names a different record than the one in the trail.
    #[error("names {link:?} record {found} but the specimen's trail has {expected}")]
    WrongLink { link: Link, expected: Hash, found: Hash },
    /// R11-R12: a rejected specimen can never be tested or reported.
    #[error("specimen was rejected on receipt ({receipt}); it cannot be tested or reported")]
    RejectedSpecimen { receipt: Hash },
}

impl CustodyError {
    pub fn message_zh(&self) -> String {
        let names = |ks: &[RecordKind]| {
            if ks.is_empty() {
                "无（流程已终止）".to_owned()
            } else {
                ks.iter().map(|k| k.name_zh()).collect::<Vec<_>>().join("、")
            }
        };
        match self {
            CustodyError::TagAlreadyBound { .. } => "该标识已绑定过样品，不能重复使用".into(),
            CustodyError::OutOfOrder { stage, attempted, expected } => format!(
                "样品当前为“{}”，不能进行“{}”；下一步应为：{}",
                stage.name_zh(),
                attempted.name_zh(),
                names(expected)
            ),
            CustodyError::WrongLink { link, .. } => {
                let what = match link {
                    Link::Sampling => "取样",
                    Link::Witnessing => "见证",
                    Link::Commission => "委托",
                    Link::Receipt => "收样",
                    Link::Report => "报告",
                };
                format!("引用的{what}记录与该样品的记录不一致")
            }
            CustodyError::RejectedSpecimen { .. } => "该样品已被拒收，不能检测或出具报告".into(),
        }
    }
}

fn check_link(link: Link, expected: Option<Hash>, found: Hash) -> Result<(), CustodyError> {
    match expected {
        Some(e) if e == found => Ok(()),
        Some(e) => Err(CustodyError::WrongLink { link, expected: e, found }),
        // Unreachable for states built by `apply`, but a hand-made state
        // without its link is treated as the wrong link rather than trusted.
        None => Err(CustodyError::WrongLink { link, expected: Hash([0; 32]), found }),
    }
}

/// The transition function: the state after `step`, or why it is illegal.
pub fn apply(state: &SpecimenState, step: &Step) -> Result<SpecimenState, CustodyError> {
    let out_of_order = || CustodyError::OutOfOrder {
        stage: state.stage,
        attempted: step.kind(),
        expected: state.stage.allowed_next().to_vec(),
    };
    let mut next = state.clone();
    match (state.stage, step) {
        (Stage::Unbound, Step::Sample { record }) => {
            next.stage = Stage::Sampled;
            next.sampling = Some(*record);
        }
        (_, Step::Sample { .. }) => {
            return Err(CustodyError::TagAlreadyBound { bound_by: state.sampling.unwrap_or(Hash([0; 32])) });
        }
        (Stage::Rejected, _) => {
            return Err(CustodyError::RejectedSpecimen { receipt: state.receipt.unwrap_or(Hash([0; 32])) });
        }
        (Stage::Sampled, Step::Witness { record, sampling }) => {
            check_link(Link::Sampling, state.sampling, *sampling)?;
            next.stage = Stage::Witnessed;
            next.witnessing = Some(*record);
        }
        (Stage::Witnessed, Step::Commission { record, sampling, witnessing }) => {
            check_link(Link::Sampling, state.sampling, *sampling)?;
            check_link(Link::Witnessing, state.witnessing, *witnessing)?;
            next.stage = Stage::Commissioned;
            next.commission = Some(*record);
        }
        (Stage::Commissioned, Step::Receive { record, commission, accepted }) => {
            check_link(Link::Commission, state.commission, *commission)?;
            next.stage = if *accepted { Stage::Received } else { Stage::Rejected };
            next.receipt = Some(*record);
        }
        (Stage::Received | Stage::Tested, Step::Test { record: _, receipt }) => {
            check_link(Link::Receipt, state.receipt, *receipt)?;
            next.stage = Stage::Tested;
            next.tests += 1;
        }
        (Stage::Tested, Step::Report { record, amends: None }) => {
            next.stage = Stage::Reported;
            next.report = Some(*record);
        }
        (Stage::Reported, Step::Report { record, amends: Some(prev) }) => {
            check_link(Link::Report, state.report, *prev)?;
            next.report = Some(*record);
        }
        (Stage::Tested, Step::Report { amends: Some(_), .. }) => {
            return Err(CustodyError::OutOfOrder {
                stage: state.stage,
                attempted: RecordKind::Report,
                expected: vec![RecordKind::Report],
            });
        }
        _ => return Err(out_of_order()),
    }
    Ok(next)
}

/// Replay a specimen's steps from unbound; stops at the first illegal one.
pub fn replay<'a>(steps: impl IntoIterator<Item = &'a Step>) -> Result<SpecimenState, (usize, CustodyError)> {
    let mut s = SpecimenState::UNBOUND;
    for (i, step) in steps.into_iter().enumerate() {
        s = apply(&s, step).map_err(|e| (i, e))?;
    }
    Ok(s)
}
