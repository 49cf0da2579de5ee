//! `verify`: judge one signed record against everything it must satisfy, and
//! report **every** rule it breaks, not just the first.
//!
//! The server runs this on every upload; the field app runs the same checks
//! on a draft before signing (so a person hears "this tag is already used"
//! on site, not hours later). Each finding says what it means for the record:
//!
//! | disposition | meaning |
//! |---|---|
//! | `reject` | not attributable or not well-formed: not stored (bad signature, unknown device, broken chain) |
//! | `refuse` | stored as evidence and logged, but it has **no custody effect** (tag already used, not authorised …) |
//! | `defer`  | names a record the verifier has not seen yet: judge again when it arrives |
//! | `flag`   | accepted, and recorded as a violation regulators see (late witness, outside the site …, R8, R17) |
//! | `notice` | accepted; worth showing (timing undetermined, manual tag entry …) |

use crate::crypto::{Hash, PublicKey};
use crate::custody::{self, CustodyError, SpecimenState, Step};
use crate::model::{Id, OrgRole, PersonRole, UnitProject};
use crate::place::{self, CoPresence, Containment};
use crate::policy::Policy;
use crate::record::{
    ChainError, ChainTail, LabAssignment, MediaPurpose, Payload, RecordBody, RecordKind, SignatureError,
    SignedRecord, TagReadMethod,
};
use crate::tag::{TagBatch, TagCode};
use crate::time::{self, Millis, TimeAssessment, TimeContext, TimeFinding, Undetermined, WindowVerdict};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Languages people read findings in. zh-CN first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Lang {
    #[default]
    #[serde(rename = "zh-CN")]
    ZhCn,
    #[serde(rename = "en")]
    En,
}

impl Lang {
    pub fn parse(s: &str) -> Lang {
        if s.to_ascii_lowercase().starts_with("en") { Lang::En } else { Lang::ZhCn }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Disposition {
    Notice,
    Flag,
    Defer,
    Refuse,
    Reject,
}

/// The requirement a finding enforces (REQUIREMENTS.md), or the record
/// format's own integrity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Rule {
    Integrity,
    R1,
    R2,
    R6,
    R7,
    R8,
    R9,
    R10,
    R11,
    R12,
    R13,
    R16,
    R17,
}

/// Evidence a step cannot do without.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Missing {
    FacePhoto,
    Location,
    ProcessPhoto,
    HandSignature,
    ReportDocument,
    TestCurve,
}

/// One broken rule. The `code` (snake_case tag) is stable: apps match on it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Violation {
    // --- reject ---
    BadSignature,
    BadCosignature { index: usize },
    UnknownDevice,
    DeviceRevoked { effective_ms: Millis },
    DeviceNotAuthors { device_person: Id },
    AdminFactFromDevice,
    ServerKeyOnCustodyStep,
    Chain { error: ChainError },
    // --- refuse ---
    NotAuthorised { role: PersonRole, project: Option<Id> },
    AuthorisationInvalidAtTime { grant: Id, why: GrantProblem },
    OrgCannotHoldRole { role: PersonRole, org_role: OrgRole },
    TagUnknown { tag: TagCode },
    TagOtherProject { tag: TagCode, tag_project: Id },
    UnknownUnitProject { unit_project: Id },
    Custody { tag: TagCode, error: CustodyError },
    MissingEvidence { what: Missing },
    MediaNotListed { hash: Hash },
    HandshakeMismatch,
    TagDiffersFromSampling { sampling_tag: TagCode },
    SelfWitness,
    LabNotCommissioned { lab: Id },
    TagNotOnCommission { tag: TagCode },
    WrongLab { lab: Id },
    EmptyCommission,
    // --- defer ---
    MissingReference { record: Hash },
    // --- flag ---
    LateWitness { min_gap_ms: Millis },
    OutsideSite { distance_m: i64 },
    NotTogether { distance_m: i64 },
    MockLocation,
    ImplausibleTrack { speed_mps: i64 },
    PoorAccuracy { accuracy_m: i64 },
    FaceMismatch { score_milli: i32, threshold_milli: i32 },
    LivenessFailed,
    ClockSkew { skew_ms: Millis },
    GnssMismatch { by_ms: Millis },
    AnchorInvalid,
    MonotonicInconsistent,
    ClaimOutsideProven { by_ms: Millis },
    AuthorisationUncertain { grant: Id },
    DeviceRevocationUncertain { effective_ms: Millis },
    TestDataNotAutomatic,
    // --- notice ---
    TimingUndetermined { reason: Undetermined, claimed_gap_ms: Millis },
    SiteUncertain { edge_distance_m: i64 },
    CoPresenceUncertain { distance_m: i64 },
    ManualTagEntry,
    NoLivenessCheck,
    AwaitingWitnessCosignature,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GrantProblem {
    NotYetValid,
    Expired,
    Revoked,
}

/// A duration as minutes and seconds, e.g. "44:05".
fn mins(ms: Millis) -> String {
    let s = ms.abs() / 1000;
    format!("{}:{:02}", s / 60, s % 60)
}

impl Violation {
    pub fn disposition(&self) -> Disposition {
        use Violation as V;
        match self {
            V::BadSignature
            | V::BadCosignature { .. }
            | V::UnknownDevice
            | V::DeviceRevoked { .. }
            | V::DeviceNotAuthors { .. }
            | V::AdminFactFromDevice
            | V::ServerKeyOnCustodyStep
            | V::Chain { .. } => Disposition::Reject,
            V::NotAuthorised { .. }
            | V::AuthorisationInvalidAtTime { .. }
            | V::OrgCannotHoldRole { .. }
            | V::TagUnknown { .. }
            | V::TagOtherProject { .. }
            | V::UnknownUnitProject { .. }
            | V::Custody { .. }
            | V::MissingEvidence { .. }
            | V::MediaNotListed { .. }
            | V::HandshakeMismatch
            | V::TagDiffersFromSampling { .. }
            | V::SelfWitness
            | V::LabNotCommissioned { .. }
            | V::TagNotOnCommission { .. }
            | V::WrongLab { .. }
            | V::EmptyCommission => Disposition::Refuse,
            V::MissingReference { .. } => Disposition::Defer,
            V::LateWitness { .. }
            | V::OutsideSite { .. }
            | V::NotTogether { .. }
            | V::MockLocation
            | V::ImplausibleTrack { .. }
            | V::PoorAccuracy { .. }
            | V::FaceMismatch { .. }
            | V::LivenessFailed
            | V::ClockSkew { .. }
            | V::GnssMismatch { .. }
            | V::AnchorInvalid
            | V::MonotonicInconsistent
            | V::ClaimOutsideProven { .. }
            | V::AuthorisationUncertain { .. }
            | V::DeviceRevocationUncertain { .. }
            | V::TestDataNotAutomatic => Disposition::Flag,
            V::TimingUndetermined { .. }
            | V::SiteUncertain { .. }
            | V::CoPresenceUncertain { .. }
            | V::ManualTagEntry
            | V::NoLivenessCheck
            | V::AwaitingWitnessCosignature => Disposition::Notice,
        }
    }

    pub fn rule(&self) -> Rule {
        use Violation as V;
        match self {
            V::BadSignature
            | V::BadCosignature { .. }
            | V::UnknownDevice
            | V::DeviceRevoked { .. }
            | V::DeviceNotAuthors { .. }
            | V::AdminFactFromDevice
            | V::ServerKeyOnCustodyStep
            | V::Chain { .. }
            | V::MissingReference { .. }
            | V::MediaNotListed { .. }
            | V::AnchorInvalid
            | V::MonotonicInconsistent
            | V::DeviceRevocationUncertain { .. } => Rule::Integrity,
            V::NotAuthorised { .. }
            | V::AuthorisationInvalidAtTime { .. }
            | V::OrgCannotHoldRole { .. }
            | V::AuthorisationUncertain { .. }
            | V::FaceMismatch { .. }
            | V::LivenessFailed
            | V::NoLivenessCheck => Rule::R1,
            V::LabNotCommissioned { .. } => Rule::R2,
            V::TagOtherProject { .. } | V::UnknownUnitProject { .. } | V::ManualTagEntry => Rule::R6,
            V::Custody { error: CustodyError::TagAlreadyBound { .. }, .. } => Rule::R16,
            V::TagUnknown { .. } => Rule::R16,
            V::Custody { .. } => Rule::R6,
            V::MissingEvidence { what: Missing::ReportDocument } => Rule::R13,
            V::MissingEvidence { what: Missing::TestCurve } | V::TestDataNotAutomatic => Rule::R12,
            V::MissingEvidence { what: Missing::HandSignature } => Rule::R8,
            V::MissingEvidence { .. } | V::PoorAccuracy { .. } => Rule::R7,
            V::LateWitness { .. }
            | V::TimingUndetermined { .. }
            | V::SelfWitness
            | V::ClockSkew { .. }
            | V::GnssMismatch { .. }
            | V::ClaimOutsideProven { .. } => Rule::R8,
            V::HandshakeMismatch
            | V::TagDiffersFromSampling { .. }
            | V::NotTogether { .. }
            | V::CoPresenceUncertain { .. }
            | V::MockLocation
            | V::ImplausibleTrack { .. }
            | V::SiteUncertain { .. } => Rule::R9,
            V::OutsideSite { .. } => Rule::R17,
            V::EmptyCommission | V::AwaitingWitnessCosignature => Rule::R10,
            V::TagNotOnCommission { .. } | V::WrongLab { .. } => Rule::R11,
        }
    }

    /// The stable machine-readable code (the serde tag).
    pub fn code(&self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.get("code").and_then(|c| c.as_str().map(str::to_owned)))
            .unwrap_or_default()
    }

    pub fn message(&self, lang: Lang) -> String {
        use Violation as V;
        let zh = lang == Lang::ZhCn;
        let t = |z: &str, e: &str| if zh { z.to_owned() } else { e.to_owned() };
        match self {
            V::BadSignature => t(
                "签名无效：记录被篡改或不是该设备签发",
                "signature invalid: the record was altered or not signed by this device",
            ),
            V::BadCosignature { index } => {
                if zh {
                    format!("第 {} 个会签无效", index + 1)
                } else {
                    format!("co-signature {} is invalid", index + 1)
                }
            }
            V::UnknownDevice => t("设备未注册", "device is not enrolled"),
            V::DeviceRevoked { .. } => {
                t("设备已注销，之后的记录无效", "device was revoked before this record")
            }
            V::DeviceNotAuthors { device_person } => {
                if zh {
                    format!("该设备登记给 {device_person}，不能以他人名义签发")
                } else {
                    format!("device belongs to {device_person}; it cannot sign for another person")
                }
            }
            V::AdminFactFromDevice => {
                t("管理类记录只能由系统签发", "admin facts may only be signed by the server")
            }
            V::ServerKeyOnCustodyStep => {
                t("系统密钥不能签发现场记录", "the server key cannot sign custody steps")
            }
            V::Chain { error } => {
                if zh {
                    error.message_zh()
                } else {
                    error.to_string()
                }
            }
            V::NotAuthorised { role, project } => {
                let p = project.as_ref().map(Id::as_str).unwrap_or("-");
                if zh {
                    format!("未获授权：在项目 {p} 没有“{}”授权书与实名认证（R1）", role_zh(*role))
                } else {
                    format!(
                        "not authorised: no letter of authorisation and real-name check as {role:?} on project {p} (R1)"
                    )
                }
            }
            V::AuthorisationInvalidAtTime { grant, why } => {
                let (z, e) = match why {
                    GrantProblem::NotYetValid => ("尚未生效", "not yet valid"),
                    GrantProblem::Expired => ("已过期", "expired"),
                    GrantProblem::Revoked => ("已撤销", "revoked"),
                };
                if zh {
                    format!("授权 {grant} 在记录时间{z}（R1）")
                } else {
                    format!("authorisation {grant} was {e} at the time of the record (R1)")
                }
            }
            V::OrgCannotHoldRole { role, org_role } => {
                if zh {
                    format!("{:?} 单位的人员不能担任“{}”", org_role, role_zh(*role))
                } else {
                    format!("a person of a {org_role:?} organisation cannot act as {role:?}")
                }
            }
            V::TagUnknown { tag } => {
                if zh {
                    format!("标识 {} 未登记（不是已备案批次的标识，R16）", tag.printed())
                } else {
                    format!("tag {} is not registered in any filed batch (R16)", tag.printed())
                }
            }
            V::TagOtherProject { tag, tag_project } => {
                if zh {
                    format!("标识 {} 属于项目 {tag_project}，不能用于本项目（防调换，R6）", tag.printed())
                } else {
                    format!(
                        "tag {} belongs to project {tag_project}, not this one (anti-swap, R6)",
                        tag.printed()
                    )
                }
            }
            V::UnknownUnitProject { unit_project } => {
                if zh {
                    format!("单位工程 {unit_project} 不属于本项目")
                } else {
                    format!("unit project {unit_project} is not part of this project")
                }
            }
            V::Custody { tag, error } => {
                if zh {
                    format!("标识 {}：{}", tag.printed(), error.message_zh())
                } else {
                    format!("tag {}: {error}", tag.printed())
                }
            }
            V::MissingEvidence { what } => {
                let (z, e) = match what {
                    Missing::FacePhoto => ("人脸核验照片", "face-verification photo"),
                    Missing::Location => ("定位", "location fix"),
                    Missing::ProcessPhoto => ("过程照片或视频", "process photo or video"),
                    Missing::HandSignature => ("手写签名", "handwritten signature"),
                    Missing::ReportDocument => ("报告文件", "report document"),
                    Missing::TestCurve => ("试验曲线", "test curve"),
                };
                if zh { format!("缺少{z}") } else { format!("missing {e}") }
            }
            V::MediaNotListed { hash } => {
                if zh {
                    format!("引用的文件 {} 未列入证据", &hash.to_hex()[..12])
                } else {
                    format!("referenced file {} is not listed in the evidence", &hash.to_hex()[..12])
                }
            }
            V::HandshakeMismatch => t(
                "见证所持的取样记录与服务器上的不一致（R9）",
                "the sampling record the witness held differs from the one on record (R9)",
            ),
            V::TagDiffersFromSampling { sampling_tag } => {
                if zh {
                    format!("见证扫描的标识与取样标识 {} 不一致", sampling_tag.printed())
                } else {
                    format!("witness scanned a different tag than the sampling's {}", sampling_tag.printed())
                }
            }
            V::SelfWitness => t("取样人不能为自己见证", "a sampler cannot witness their own sampling"),
            V::LabNotCommissioned { lab } => {
                if zh {
                    format!("检测机构 {lab} 未受建设单位委托检测该单位工程（R2）")
                } else {
                    format!("lab {lab} is not commissioned by the owner for this unit project (R2)")
                }
            }
            V::TagNotOnCommission { tag } => {
                if zh {
                    format!("标识 {} 不在该委托单上（R11）", tag.printed())
                } else {
                    format!("tag {} is not on this commission form (R11)", tag.printed())
                }
            }
            V::WrongLab { lab } => {
                if zh {
                    format!("该委托单委托给 {lab}，不是本机构")
                } else {
                    format!("this commission form is addressed to {lab}, not this lab")
                }
            }
            V::EmptyCommission => t("委托单没有样品", "the commission form lists no specimens"),
            V::MissingReference { record } => {
                if zh {
                    format!("所引用的记录 {} 尚未到达服务器，稍后自动重新核验", &record.to_hex()[..12])
                } else {
                    format!(
                        "referenced record {} has not reached the server yet; it will be re-checked",
                        &record.to_hex()[..12]
                    )
                }
            }
            V::LateWitness { min_gap_ms } => {
                if zh {
                    format!("见证超时：取样后至少 {}（分:秒）才完成见证（限 20 分钟，R8）", mins(*min_gap_ms))
                } else {
                    format!(
                        "late witnessing: completed at least {} (min:s) after sampling (limit 20, R8)",
                        mins(*min_gap_ms)
                    )
                }
            }
            V::OutsideSite { distance_m } => {
                if zh {
                    format!("定位在施工现场范围外约 {distance_m} 米")
                } else {
                    format!("location is about {distance_m} m outside the site boundary")
                }
            }
            V::NotTogether { distance_m } => {
                if zh {
                    format!("见证人与取样人相距约 {distance_m} 米，不在同一现场（R8-R9）")
                } else {
                    format!("witness was about {distance_m} m from the sampler, not on the spot (R8-R9)")
                }
            }
            V::MockLocation => t("定位来自模拟位置程序", "location came from a mock-location provider"),
            V::ImplausibleTrack { speed_mps } => {
                if zh {
                    format!("定位轨迹跳变（约 {speed_mps} 米/秒），可能被伪造")
                } else {
                    format!("location track jumps (about {speed_mps} m/s): possibly forged")
                }
            }
            V::PoorAccuracy { accuracy_m } => {
                if zh {
                    format!("定位精度太差（±{accuracy_m} 米）")
                } else {
                    format!("location accuracy too poor (±{accuracy_m} m)")
                }
            }
            V::FaceMismatch { score_milli, threshold_milli } => {
                if zh {
                    format!(
                        "人脸比对未通过（相似度 {:.3}，阈值 {:.3}）",
                        f64::from(*score_milli) / 1000.0,
                        f64::from(*threshold_milli) / 1000.0
                    )
                } else {
                    format!(
                        "face check failed (similarity {:.3}, threshold {:.3})",
                        f64::from(*score_milli) / 1000.0,
                        f64::from(*threshold_milli) / 1000.0
                    )
                }
            }
            V::LivenessFailed => t("活体检测（眨眼/转头）未通过", "liveness challenge (blink/turn) failed"),
            V::ClockSkew { skew_ms } => {
                if zh {
                    format!("设备时钟偏差 {}（分:秒）（可能被调过）", mins(*skew_ms))
                } else {
                    format!("device clock off by {} (min:s) (possibly set by hand)", mins(*skew_ms))
                }
            }
            V::GnssMismatch { by_ms } => {
                if zh {
                    format!("卫星时间与可信时间相差 {}（分:秒）", mins(*by_ms))
                } else {
                    format!("satellite time differs from trusted time by {} (min:s)", mins(*by_ms))
                }
            }
            V::AnchorInvalid => t("时间锚签名无效", "time anchor signature invalid"),
            V::MonotonicInconsistent => {
                t("设备开机计时与时间锚矛盾", "device uptime contradicts its time anchor")
            }
            V::ClaimOutsideProven { by_ms } => {
                if zh {
                    format!("设备声称的时间与可证明的时间相差 {}（分:秒）", mins(*by_ms))
                } else {
                    format!("device's claimed time is {} (min:s) outside what can be proven", mins(*by_ms))
                }
            }
            V::AuthorisationUncertain { grant } => {
                if zh {
                    format!("无法确定记录时授权 {grant} 是否仍有效")
                } else {
                    format!("cannot tell whether authorisation {grant} was still valid")
                }
            }
            V::DeviceRevocationUncertain { .. } => t(
                "无法确定记录是否在设备注销之前",
                "cannot tell whether the record predates the device's revocation",
            ),
            V::TestDataNotAutomatic => t(
                "力学试验数据不是由设备自动采集（R12）",
                "mechanical test data was not captured automatically (R12)",
            ),
            V::TimingUndetermined { reason, claimed_gap_ms } => {
                let (z, e) = match reason {
                    Undetermined::SamplingUnanchored => {
                        ("取样时间无可信依据", "sampling time has no trusted anchor")
                    }
                    Undetermined::WitnessUnbounded => ("见证记录尚未上传", "witness record not yet uploaded"),
                    Undetermined::IntervalsTooWide => ("可信时间区间过宽", "trusted time intervals too wide"),
                };
                if zh {
                    format!(
                        "无法证明是否在 20 分钟内见证：{z}；设备记录间隔 {}（分:秒）",
                        mins(*claimed_gap_ms)
                    )
                } else {
                    format!(
                        "cannot prove witnessing within 20 min: {e}; devices report {} (min:s)",
                        mins(*claimed_gap_ms)
                    )
                }
            }
            V::SiteUncertain { edge_distance_m } => {
                if zh {
                    format!("定位距现场边界约 {edge_distance_m} 米，精度不足以判断是否在现场内")
                } else {
                    format!(
                        "location is about {edge_distance_m} m from the site edge; accuracy cannot tell which side"
                    )
                }
            }
            V::CoPresenceUncertain { distance_m } => {
                if zh {
                    format!("见证人与取样人相距约 {distance_m} 米，精度不足以判断")
                } else {
                    format!("witness and sampler about {distance_m} m apart; accuracy cannot tell")
                }
            }
            V::ManualTagEntry => t("标识为手工输入（证据较弱）", "tag was typed by hand (weaker evidence)"),
            V::NoLivenessCheck => t("未做活体检测", "no liveness challenge was run"),
            V::AwaitingWitnessCosignature => {
                t("委托单尚待见证人会签（R10）", "commission form awaits the witness's co-signature (R10)")
            }
        }
    }
}

fn role_zh(r: PersonRole) -> &'static str {
    match r {
        PersonRole::Sampler => "取样员",
        PersonRole::Witness => "见证员",
        PersonRole::LabReceiver => "收样员",
        PersonRole::LabTester => "检测员",
        PersonRole::LabReporter => "报告签发人",
        PersonRole::Inspector => "监督员",
        PersonRole::Admin => "管理员",
    }
}

/// What the verifier knows about the signing device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceFacts {
    pub person: Id,
    pub org: Id,
    pub org_role: OrgRole,
    pub revoked_at_ms: Option<Millis>,
}

/// An authorisation of the author (R1), with its current status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    pub grant: Id,
    pub role: PersonRole,
    /// `None`: valid on every project of the person's organisation (lab staff).
    pub project: Option<Id>,
    pub valid_from_ms: Millis,
    pub valid_until_ms: Option<Millis>,
    pub revoked_at_ms: Option<Millis>,
}

impl Grant {
    fn end(&self) -> Option<Millis> {
        match (self.valid_until_ms, self.revoked_at_ms) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

/// What the verifier knows about a tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagFacts {
    pub batch: Option<TagBatch>,
    pub state: SpecimenState,
}

/// A record this one names, as the verifier holds it.
#[derive(Debug, Clone)]
pub struct Referenced {
    pub record: SignedRecord,
    pub time: TimeAssessment,
    /// Person enrolled for each co-signing device, as far as known.
    pub cosigners: Vec<Id>,
}

/// Everything `verify` needs besides the record. Built by the server from its
/// store, or by the app from what it holds offline.
#[derive(Debug, Clone, Default)]
pub struct VerifyContext {
    pub policy: Policy,
    /// Keys of the monitoring system (admin facts, anchors, checkpoints).
    pub server_keys: Vec<PublicKey>,
    /// The signing device, if enrolled.
    pub device: Option<DeviceFacts>,
    /// The device's chain head before this record.
    pub chain_tail: Option<ChainTail>,
    pub time: TimeContext,
    /// The author's authorisations.
    pub grants: Vec<Grant>,
    pub tags: BTreeMap<TagCode, TagFacts>,
    pub referenced: BTreeMap<Hash, Referenced>,
    pub unit_projects: BTreeMap<Id, UnitProject>,
    pub lab_assignments: Vec<LabAssignment>,
    /// Person of each known device, for co-signatures on this record.
    pub cosigners: BTreeMap<PublicKey, Id>,
    /// Skip the signature and chain checks (a draft the app has not signed yet).
    pub draft: bool,
    /// The caller has already checked the author's and co-signers' signatures
    /// on these exact bytes (the server does it outside its write lock).
    pub signatures_verified: bool,
}

/// The outcome of verifying one record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub violations: Vec<Violation>,
    pub time: Option<TimeAssessment>,
    pub window: Option<WindowVerdict>,
    pub site: Option<Containment>,
    pub co_presence: Option<CoPresence>,
    /// The specimen states after this record, for the tags it moves.
    pub custody: Vec<(TagCode, SpecimenState)>,
}

impl Verdict {
    /// The most severe disposition, `None` when clean.
    pub fn worst(&self) -> Option<Disposition> {
        self.violations.iter().map(Violation::disposition).max()
    }
    /// Whether the record is well-formed and attributable (may be stored).
    pub fn storable(&self) -> bool {
        self.worst().is_none_or(|d| d < Disposition::Reject)
    }
    /// Whether the record takes custody effect now.
    pub fn applies(&self) -> bool {
        self.worst().is_none_or(|d| d <= Disposition::Flag)
    }
    pub fn has(&self, pred: impl Fn(&Violation) -> bool) -> bool {
        self.violations.iter().any(pred)
    }
}

/// Decide which project a custody record belongs to: named in the payload,
/// else through the records it references, else from its tags' batches.
pub fn project_of(body: &RecordBody, ctx: &VerifyContext) -> Option<Id> {
    if let Some(p) = body.payload.project() {
        return Some(p.clone());
    }
    for r in body.payload.references() {
        if let Some(p) = ctx.referenced.get(&r).and_then(|refd| refd.record.body().payload.project()) {
            return Some(p.clone());
        }
    }
    body.payload
        .tags()
        .into_iter()
        .find_map(|t| ctx.tags.get(t).and_then(|f| f.batch.as_ref()).map(|b| b.project.clone()))
}

/// Verify a signed record (or, with `ctx.draft`, an unsigned draft's body).
pub fn verify(record: &SignedRecord, ctx: &VerifyContext) -> Verdict {
    let mut v = Vec::new();
    if !ctx.draft && !ctx.signatures_verified {
        match record.verify_signatures() {
            Ok(()) => {}
            Err(SignatureError::Author) => v.push(Violation::BadSignature),
            Err(SignatureError::Cosignature { index } | SignatureError::SelfCosignature { index }) => {
                v.push(Violation::BadCosignature { index })
            }
        }
    }
    verify_body(record.body(), Some(record), ctx, v)
}

/// The rules on a body alone: what the app checks before it signs a draft.
pub fn check_draft(body: &RecordBody, ctx: &VerifyContext) -> Verdict {
    let mut ctx = ctx.clone();
    ctx.draft = true;
    verify_body(body, None, &ctx, Vec::new())
}

fn verify_body(
    body: &RecordBody,
    signed: Option<&SignedRecord>,
    ctx: &VerifyContext,
    mut v: Vec<Violation>,
) -> Verdict {
    let kind = body.kind();
    let server_authored = ctx.server_keys.contains(&body.device);

    // --- who signed it ---
    if server_authored {
        if !kind.is_admin_fact() {
            v.push(Violation::ServerKeyOnCustodyStep);
        }
    } else if kind.is_admin_fact() {
        v.push(Violation::AdminFactFromDevice);
    }
    let device = if server_authored { None } else { ctx.device.as_ref() };
    if !server_authored {
        match device {
            None => v.push(Violation::UnknownDevice),
            Some(d) if d.person != body.author => {
                v.push(Violation::DeviceNotAuthors { device_person: d.person.clone() })
            }
            _ => {}
        }
    }
    if !ctx.draft
        && let Err(error) = crate::record::check_next(ctx.chain_tail.as_ref(), body)
    {
        v.push(Violation::Chain { error });
    }

    // --- when ---
    let mut tctx = ctx.time.clone();
    tctx.server_authored = server_authored;
    tctx.server_keys = ctx.server_keys.clone();
    let refs = body.payload.references();
    let mut missing_refs = false;
    for r in &refs {
        match ctx.referenced.get(r) {
            Some(refd) => {
                if let Some(e) = refd.time.proven.earliest_ms {
                    tctx.referenced_earliest_ms = Some(tctx.referenced_earliest_ms.map_or(e, |x| x.max(e)));
                }
            }
            None => {
                missing_refs = true;
                v.push(Violation::MissingReference { record: *r });
            }
        }
    }
    let assessment =
        time::assess(&body.evidence.time, &body.device, &body.evidence.fixes, &tctx, &ctx.policy);
    for f in &assessment.findings {
        v.push(match f {
            TimeFinding::AnchorInvalid => Violation::AnchorInvalid,
            TimeFinding::MonotonicInconsistent => Violation::MonotonicInconsistent,
            TimeFinding::ClaimOutsideProven { by_ms } => Violation::ClaimOutsideProven { by_ms: *by_ms },
            TimeFinding::ClockSkew { skew_ms } => Violation::ClockSkew { skew_ms: *skew_ms },
            TimeFinding::GnssMismatch { by_ms } => Violation::GnssMismatch { by_ms: *by_ms },
        });
    }
    // The record's time for rule checks: proven bounds where they exist,
    // the device's claim where they do not.
    let t_lo = assessment.proven.earliest_ms.unwrap_or(assessment.claimed.earliest_ms);
    let t_hi = assessment.proven.latest_ms.unwrap_or(assessment.claimed.latest_ms);

    if let Some(d) = device
        && let Some(rev) = d.revoked_at_ms
    {
        if assessment.proven.earliest_ms.is_some_and(|e| e >= rev) {
            v.push(Violation::DeviceRevoked { effective_ms: rev });
        } else if t_hi >= rev {
            v.push(Violation::DeviceRevocationUncertain { effective_ms: rev });
        }
    }

    let mut verdict = Verdict {
        violations: Vec::new(),
        time: Some(assessment.clone()),
        window: None,
        site: None,
        co_presence: None,
        custody: Vec::new(),
    };
    if kind.is_admin_fact() || server_authored {
        verdict.violations = v;
        return verdict;
    }

    // --- may this person do this, on this project, then? (R1) ---
    let project = project_of(body, ctx);
    if let Some(role) = kind.required_role() {
        if let Some(d) = device
            && !role.allowed_for(d.org_role)
        {
            v.push(Violation::OrgCannotHoldRole { role, org_role: d.org_role });
        }
        let candidates: Vec<&Grant> = ctx
            .grants
            .iter()
            .filter(|g| g.role == role && (g.project.is_none() || g.project == project))
            .collect();
        if candidates.is_empty() {
            v.push(Violation::NotAuthorised { role, project: project.clone() });
        } else {
            // Fully valid over the whole interval: fine. Valid for part: uncertain.
            // Valid for none of it: refused with the reason of the closest grant.
            let full = candidates.iter().any(|g| g.valid_from_ms <= t_lo && g.end().is_none_or(|e| e > t_hi));
            if !full {
                let partial =
                    candidates.iter().find(|g| g.valid_from_ms <= t_hi && g.end().is_none_or(|e| e > t_lo));
                match partial {
                    Some(g) => v.push(Violation::AuthorisationUncertain { grant: g.grant.clone() }),
                    None => {
                        let g = candidates[0];
                        let why = if g.valid_from_ms > t_hi {
                            GrantProblem::NotYetValid
                        } else if g.revoked_at_ms.is_some_and(|r| r <= t_lo) {
                            GrantProblem::Revoked
                        } else {
                            GrantProblem::Expired
                        };
                        v.push(Violation::AuthorisationInvalidAtTime { grant: g.grant.clone(), why });
                    }
                }
            }
        }
    }

    // --- tags and custody order (R6, R10-R13, R16) ---
    for tag in body.payload.tags() {
        match ctx.tags.get(tag).and_then(|f| f.batch.as_ref()) {
            None => v.push(Violation::TagUnknown { tag: tag.clone() }),
            Some(b) => {
                if let Some(p) = &project
                    && &b.project != p
                {
                    v.push(Violation::TagOtherProject { tag: tag.clone(), tag_project: b.project.clone() });
                }
            }
        }
    }
    if !missing_refs {
        let id = signed.map(SignedRecord::id).unwrap_or_else(|| body.id());
        for (tag, step) in Step::from_payload(id, &body.payload) {
            let state = ctx.tags.get(&tag).map(|f| f.state.clone()).unwrap_or_default();
            match custody::apply(&state, &step) {
                Ok(next) => verdict.custody.push((tag, next)),
                Err(error) => v.push(Violation::Custody { tag, error }),
            }
        }
    }

    // --- evidence (R7, R8, R12, R13) ---
    let ev = &body.evidence;
    let needs_field_evidence = matches!(kind, RecordKind::Sampling | RecordKind::Witnessing);
    if needs_field_evidence {
        if ev.fixes.is_empty() {
            v.push(Violation::MissingEvidence { what: Missing::Location });
        }
        if ev.media_with(MediaPurpose::Process).next().is_none() {
            v.push(Violation::MissingEvidence { what: Missing::ProcessPhoto });
        }
    }
    let face = match &body.payload {
        Payload::Sampling(s) => Some(&s.face),
        Payload::Witnessing(w) => Some(&w.face),
        _ => None,
    };
    if let Some(face) = face {
        if !ev.media_with(MediaPurpose::Face).any(|m| m.sha256 == face.photo) {
            v.push(Violation::MissingEvidence { what: Missing::FacePhoto });
        }
        let threshold = (ctx.policy.face_match_threshold * 1000.0).round() as i32;
        let threshold = threshold.max(face.threshold_milli);
        if !face.matched || face.score_milli < threshold {
            v.push(Violation::FaceMismatch { score_milli: face.score_milli, threshold_milli: threshold });
        }
        match &face.liveness {
            None => v.push(Violation::NoLivenessCheck),
            Some(l) if !l.passed => v.push(Violation::LivenessFailed),
            _ => {}
        }
    }
    let tag_read = match &body.payload {
        Payload::Sampling(s) => Some(&s.tag_read),
        Payload::Witnessing(w) => Some(&w.tag_read),
        Payload::LabReceipt(r) => Some(&r.tag_read),
        _ => None,
    };
    if tag_read.is_some_and(|t| t.method == TagReadMethod::Manual) {
        v.push(Violation::ManualTagEntry);
    }

    // --- place (R7-R9, R17) ---
    if needs_field_evidence && !ev.fixes.is_empty() {
        let best = place::best_fix(&ev.fixes).expect("non-empty");
        if ev.fixes.iter().any(|f| f.mock) {
            v.push(Violation::MockLocation);
        }
        if let Some(speed) = place::implausible_jump(&ev.fixes, ctx.policy.max_plausible_speed_mps) {
            v.push(Violation::ImplausibleTrack { speed_mps: speed.min(1e9).round() as i64 });
        }
        if best.accuracy_m() > ctx.policy.max_fix_accuracy_m {
            v.push(Violation::PoorAccuracy { accuracy_m: best.accuracy_m().round() as i64 });
        }
        let unit_project = match &body.payload {
            Payload::Sampling(s) => Some(s.unit_project.clone()),
            Payload::Witnessing(w) => {
                ctx.referenced.get(&w.sampling).and_then(|r| match &r.record.body().payload {
                    Payload::Sampling(s) => Some(s.unit_project.clone()),
                    _ => None,
                })
            }
            _ => None,
        };
        if let Some(up) = unit_project.and_then(|u| ctx.unit_projects.get(&u)) {
            let c = up.boundary.locate(best, ctx.policy.accuracy_sigma);
            match c {
                Containment::Outside { distance_m } => {
                    v.push(Violation::OutsideSite { distance_m: distance_m.round() as i64 })
                }
                Containment::Uncertain { edge_distance_m, .. } => {
                    v.push(Violation::SiteUncertain { edge_distance_m: edge_distance_m.round() as i64 })
                }
                Containment::Inside { .. } => {}
            }
            verdict.site = Some(c);
        }
    }

    // --- kind-specific ---
    match &body.payload {
        Payload::Sampling(s) => match ctx.unit_projects.get(&s.unit_project) {
            Some(up) if up.project == s.project => {}
            _ => v.push(Violation::UnknownUnitProject { unit_project: s.unit_project.clone() }),
        },
        Payload::Witnessing(w) => {
            if let Some(h) = w.hand_signature
                && !ev.media_with(MediaPurpose::HandSignature).any(|m| m.sha256 == h)
            {
                v.push(Violation::MediaNotListed { hash: h });
            }
            if let Some(refd) = ctx.referenced.get(&w.sampling) {
                let sb = refd.record.body();
                if let Payload::Sampling(s) = &sb.payload {
                    if w.sampling_sig != *refd.record.sig() {
                        v.push(Violation::HandshakeMismatch);
                    }
                    if w.tag != s.tag {
                        v.push(Violation::TagDiffersFromSampling { sampling_tag: s.tag.clone() });
                    }
                    if sb.author == body.author {
                        v.push(Violation::SelfWitness);
                    }
                    if let (Some(a), Some(b)) =
                        (place::best_fix(&sb.evidence.fixes), place::best_fix(&ev.fixes))
                    {
                        let cp =
                            place::co_presence(a, b, ctx.policy.co_presence_max_m, ctx.policy.accuracy_sigma);
                        match cp {
                            CoPresence::Apart { distance_m } => {
                                v.push(Violation::NotTogether { distance_m: distance_m.round() as i64 })
                            }
                            CoPresence::Uncertain { distance_m } => v.push(Violation::CoPresenceUncertain {
                                distance_m: distance_m.round() as i64,
                            }),
                            CoPresence::Together { .. } => {}
                        }
                        verdict.co_presence = Some(cp);
                    }
                    let w = time::witness_window(&refd.time, &assessment, ctx.policy.witness_window_ms);
                    match w {
                        WindowVerdict::Late { min_gap_ms } => v.push(Violation::LateWitness { min_gap_ms }),
                        WindowVerdict::Undetermined { reason, claimed_gap_ms } => {
                            v.push(Violation::TimingUndetermined { reason, claimed_gap_ms })
                        }
                        WindowVerdict::Compliant { .. } => {}
                    }
                    verdict.window = Some(w);
                } else {
                    v.push(Violation::Custody {
                        tag: w.tag.clone(),
                        error: CustodyError::WrongLink {
                            link: custody::Link::Sampling,
                            expected: Hash([0; 32]),
                            found: w.sampling,
                        },
                    });
                }
            }
        }
        Payload::Commission(c) => {
            if c.items.is_empty() {
                v.push(Violation::EmptyCommission);
            }
            let kinds: Vec<_> = c
                .items
                .iter()
                .filter_map(|i| ctx.referenced.get(&i.sampling))
                .filter_map(|r| match &r.record.body().payload {
                    Payload::Sampling(s) => Some(s.specimen.kind),
                    _ => None,
                })
                .collect();
            let assigned = ctx.lab_assignments.iter().any(|a| {
                a.lab == c.lab
                    && a.unit_project == c.unit_project
                    && kinds.iter().all(|k| a.kinds.contains(k))
            });
            if !assigned {
                v.push(Violation::LabNotCommissioned { lab: c.lab.clone() });
            }
            let witness_signed = signed.is_some_and(|s| {
                s.cosigs().iter().any(|cs| ctx.cosigners.get(&cs.device) == Some(&c.witness))
            });
            if !witness_signed {
                v.push(Violation::AwaitingWitnessCosignature);
            }
        }
        Payload::LabReceipt(r) => {
            if let Some(refd) = ctx.referenced.get(&r.commission)
                && let Payload::Commission(c) = &refd.record.body().payload
            {
                if !c.items.iter().any(|i| i.tag == r.tag) {
                    v.push(Violation::TagNotOnCommission { tag: r.tag.clone() });
                }
                if let Some(d) = device
                    && d.org != c.lab
                {
                    v.push(Violation::WrongLab { lab: c.lab.clone() });
                }
                if !refd.cosigners.contains(&c.witness) {
                    v.push(Violation::AwaitingWitnessCosignature);
                }
            }
        }
        Payload::TestData(t) => {
            if let Some(h) = t.curve
                && !ev.has_media(&h)
            {
                v.push(Violation::MediaNotListed { hash: h });
            }
            if !t.automatic {
                v.push(Violation::TestDataNotAutomatic);
            }
        }
        Payload::Report(r)
            if !ev.media_with(MediaPurpose::ReportDocument).any(|m| m.sha256 == r.document) =>
        {
            v.push(Violation::MissingEvidence { what: Missing::ReportDocument });
        }
        _ => {}
    }

    verdict.violations = v;
    verdict
}
