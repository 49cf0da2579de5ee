//! What people read: every finding in zh-CN and English. Messages name the
//! requirement they enforce where a person would look it up.

use super::violation::{
    DirectoryEntry, GrantProblem, Lang, Missing, ReviewProblem, RevisionProblem, RevocationProblem, Violation,
};
use crate::model::{Id, OrgRole, PersonRole};
use crate::time::{Millis, Undetermined};

/// A duration as minutes and seconds, e.g. "44:05".
fn mins(ms: Millis) -> String {
    let s = ms.abs() / 1000;
    format!("{}:{:02}", s / 60, s % 60)
}

impl Violation {
    /// What a person reads about this finding, in their language.
    // One arm per finding: the table of every message, kept together so a
    // translator or reviewer reads them all in one place.
    #[allow(clippy::too_many_lines)]
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
            V::CosignatureMisattributed { index } => {
                if zh {
                    format!("第 {} 个会签的署名与会签设备登记的人员不符", index + 1)
                } else {
                    format!(
                        "co-signature {} names someone other than its device's enrolled person",
                        index + 1
                    )
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
            V::RevisionInvalid { what } => match what {
                RevisionProblem::NotTestData => {
                    t("更正的对象不是检测数据（R12）", "what is corrected is not test data (R12)")
                }
                RevisionProblem::OtherTagOrTest => t(
                    "更正的检测数据属于其他标识或其他检测项目（R12）",
                    "the corrected test data is of another tag or test (R12)",
                ),
                RevisionProblem::NoReason => t(
                    "更正检测数据必须说明原因（R12、R20）",
                    "test data is corrected only with a reason (R12, R20)",
                ),
            },
            V::SelfReview => t(
                "检测员不能审核自己录入的检测数据（R12）",
                "a tester may not review their own test data (R12)",
            ),
            V::ReviewInvalid { what } => match what {
                ReviewProblem::NotTestData => {
                    t("审核的对象不是检测数据（R12）", "what is reviewed is not test data (R12)")
                }
                ReviewProblem::OtherTag => t(
                    "审核记录的标识与检测数据不一致（R12）",
                    "the review names another tag than the test data (R12)",
                ),
                ReviewProblem::ReturnedWithoutNote => {
                    t("退回检测数据必须说明原因（R12）", "test data is returned only with a reason (R12)")
                }
            },
            V::RevocationInvalid { what } => match what {
                RevocationProblem::NotAReport => {
                    t("撤销的对象不是检测报告（R13）", "what is revoked is not a test report (R13)")
                }
                RevocationProblem::TagsDiffer => t(
                    "撤销记录列出的标识与报告不一致（R13）",
                    "the revocation lists other tags than the report (R13)",
                ),
                RevocationProblem::NoReason => {
                    t("撤销报告必须说明原因（R13）", "a report is revoked only with a reason (R13)")
                }
            },
            V::DirectoryIdTaken { entry, id } => {
                let (z, e) = entry_names(*entry);
                if zh { format!("{z} {id} 已存在") } else { format!("{e} {id} already exists") }
            }
            V::DirectoryEntryMissing { entry, id } => {
                let (z, e) = entry_names(*entry);
                if zh { format!("{z} {id} 不存在") } else { format!("{e} {id} not found") }
            }
            V::OrgWrongRole { org, expected } => {
                let (z, e) = org_role_names(*expected);
                if zh {
                    format!("单位 {org} 不是已登记的{z}")
                } else {
                    format!("organisation {org} is not a registered {e}")
                }
            }
            V::GrantWithoutProject => t(
                "只有检测机构人员和监督员的授权可以不限项目；取样员和见证员必须按项目授权（R1）",
                "only lab staff and inspectors may be authorised without a project; samplers and witnesses are authorised per project (R1)",
            ),
            V::GrantAlreadyRevoked { grant } => {
                if zh {
                    format!("授权 {grant} 已撤销")
                } else {
                    format!("grant {grant} is already revoked")
                }
            }
            V::BatchInvalid { reason } if reason.is_empty() => {
                t("批次没有号段", "the batch has no serial ranges")
            }
            V::BatchInvalid { reason } => {
                if zh {
                    format!("号段无效：{reason}")
                } else {
                    format!("invalid serial ranges: {reason}")
                }
            }
            V::BatchOverlap { project } => {
                if zh {
                    format!("与已登记批次（项目 {project}）的号段重叠：标识码不得重复（R16）")
                } else {
                    format!(
                        "serials overlap a registered batch (project {project}): tag codes must never repeat (R16)"
                    )
                }
            }
            V::BoundaryInvalid { reason } => {
                if zh {
                    format!("现场边界无效：{reason}")
                } else {
                    format!("site boundary invalid: {reason}")
                }
            }
            V::LabAlreadyCommissioned { lab } => {
                if zh {
                    format!("该单位工程此类检测已委托给 {lab}（每类只能委托一家，R2）")
                } else {
                    format!(
                        "this unit project already has lab {lab} for one of these categories (one lab per category, R2)"
                    )
                }
            }
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
            V::WitnessMissing { closes_ms, overdue_ms } => {
                let closed = crate::calendar::cst_minutes(*closes_ms);
                if zh {
                    format!(
                        "缺少见证：见证时限已于 {closed}（北京时间）届满，已超过 {}（分:秒），所有可见证的手机均已同步，仍无见证记录（R8）",
                        mins(*overdue_ms)
                    )
                } else {
                    format!(
                        "witnessing missing: the window closed at {closed} China time, {} (min:s) ago, and every phone that could witness has synced since without one (R8)",
                        mins(*overdue_ms)
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
            V::FaceRecheckDisagrees { claimed_milli, server_milli, threshold_milli } => {
                let (c, s, th) = (
                    f64::from(*claimed_milli) / 1000.0,
                    f64::from(*server_milli) / 1000.0,
                    f64::from(*threshold_milli) / 1000.0,
                );
                if zh {
                    format!(
                        "服务器复核人脸与手机结果不符：手机称相似度 {c:.3}，服务器测得 {s:.3}（阈值 {th:.3}，R1、R7）"
                    )
                } else {
                    format!(
                        "the server's face re-check contradicts the phone: phone claims similarity {c:.3}, server measured {s:.3} (threshold {th:.3}, R1, R7)"
                    )
                }
            }
            V::FaceNotFound { reason } => {
                use super::face_recheck::FaceAbsence as A;
                match reason {
                    A::NotAnImage => t(
                        "服务器复核：上传的人脸照片不是可解码的图像，手机的人脸比对结果不可信（R1、R7）",
                        "server re-check: the uploaded face photo is not a readable image; the phone's face result cannot stand (R1, R7)",
                    ),
                    A::NoFace => t(
                        "服务器复核：上传的人脸照片中没有人脸，手机的人脸比对结果不可信（R1、R7）",
                        "server re-check: no face in the uploaded face photo; the phone's face result cannot stand (R1, R7)",
                    ),
                    A::SeveralFaces => t(
                        "服务器复核：上传的人脸照片中有多张相近大小的人脸，无法确定核验对象（R1、R7）",
                        "server re-check: several faces of similar size in the uploaded face photo; whose check it is cannot be told (R1, R7)",
                    ),
                }
            }
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
            V::CosignerNotAuthorised { person } => {
                if zh {
                    format!("会签人 {person} 在会签时没有有效的见证员授权，该会签不计入（R1、R10）")
                } else {
                    format!(
                        "co-signer {person} held no valid witness authorisation when co-signing; the co-signature does not count (R1, R10)"
                    )
                }
            }
            V::UnconfirmedTrailFindings { codes } => {
                if zh {
                    format!("收样时未确认该样品流转记录中的问题：{}（R11）", codes.join("、"))
                } else {
                    format!("received without confirming the trail's findings: {} (R11)", codes.join(", "))
                }
            }
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
            V::ReceivedWithoutCosignature => t(
                "委托单缺少见证人会签，不能作为完整样品接收（可拒收，或待见证人会签后再接收）（R10）",
                "the commission form lacks the witness's co-signature: the specimen cannot be received as complete (reject it, or receive it once the witness has co-signed) (R10)",
            ),
            V::LabRegistryInvalid { errors } => {
                let sep = if zh { "；" } else { "; " };
                errors.iter().map(|e| e.message(lang)).collect::<Vec<_>>().join(sep)
            }
            V::RegistryBreach { problem } => problem.message(lang),
            V::RegistryUncertain { problem } => {
                if zh {
                    format!("可能违反检测机构登记：{}；取决于检测的确切时间", problem.message(lang))
                } else {
                    format!(
                        "may break the lab registry: {}; it depends on exactly when the test was made",
                        problem.message(lang)
                    )
                }
            }
            V::PlanInvalid { problem } => problem.message(lang),
            V::OutsidePlan { reason } => {
                use crate::plans::OutsidePlan as O;
                let (z, e) = match reason {
                    O::NoApprovedPlan => {
                        ("该单位工程没有经批准的取样计划", "the unit project has no approved sampling plan")
                    }
                    O::NoItem => ("未选择取样计划条目", "no sampling-plan item was chosen"),
                    O::UnknownItem => {
                        ("所选条目不在现行取样计划中", "the item is not in the sampling plan in force")
                    }
                    O::KindDiffers => {
                        ("试件类别与计划条目不一致", "the specimen kind differs from the plan item's")
                    }
                };
                if zh {
                    format!("计划外取样：{z}（R4）")
                } else {
                    format!("sampling outside the plan: {e} (R4)")
                }
            }
            V::NoLabRegistry { lab } => {
                if zh {
                    format!("检测机构 {lab} 检测时没有经审核的资质、设备和人员登记，无法核对（R3）")
                } else {
                    format!(
                        "lab {lab} had no approved registry of scope, equipment and staff when it tested: nothing to check against (R3)"
                    )
                }
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
        PersonRole::OwnerRepresentative => "建设单位项目负责人",
        PersonRole::ContractorEngineer => "施工单位技术负责人",
        PersonRole::SupervisingEngineer => "监理工程师",
    }
}

fn entry_names(e: DirectoryEntry) -> (&'static str, &'static str) {
    match e {
        DirectoryEntry::Organisation => ("单位", "organisation"),
        DirectoryEntry::Project => ("项目", "project"),
        DirectoryEntry::UnitProject => ("单位工程", "unit project"),
        DirectoryEntry::Person => ("人员", "person"),
        DirectoryEntry::Grant => ("授权", "grant"),
        DirectoryEntry::Device => ("设备", "device"),
    }
}

/// An organisation role's name in zh-CN and English.
pub fn org_role_names(r: OrgRole) -> (&'static str, &'static str) {
    match r {
        OrgRole::Owner => ("建设单位", "owner"),
        OrgRole::Contractor => ("施工单位", "contractor"),
        OrgRole::Supervisor => ("监理单位", "supervisor"),
        OrgRole::Lab => ("检测机构", "lab"),
        OrgRole::TagSupplier => ("标识供应商", "tag supplier"),
        OrgRole::Regulator => ("质量监督部门", "quality supervision authority"),
        OrgRole::Operator => ("系统运营方", "operator"),
    }
}
