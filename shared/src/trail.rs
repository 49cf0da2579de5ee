//! The lab's verdict on one tag's whole custody trail (R11), as a pure
//! function: the server gathers the trail (records, their stored verdicts,
//! whether signatures, log proofs and media hold) and [`judge`] decides, so
//! a lab station holding the same facts offline would decide the same.
//!
//! The verdict passes only when every check does. Every finding a regulator
//! would see (each flag: authorisation uncertain, mock location, clock
//! trouble, late or unprovable witnessing …) fails it and is listed in
//! [`TrailJudgement::to_confirm`]: a lab that accepts the specimen anyway
//! must confirm each one in its receipt (`LabReceipt::acknowledged`), and a
//! receipt that does not is itself flagged ([`unconfirmed`]).

// The decisions others call: every public item says what it is for.
#![warn(missing_docs)]

use crate::custody::{SpecimenState, Stage};
use crate::protocol::{Finding, RecordStatus, TrailCheck};
use crate::record::{Payload, RecordKind, SignedRecord};
use crate::time::WindowVerdict;
use crate::verify::face_recheck::{self, ServerFaceCheck};
use crate::verify::{Verdict, Violation};

/// One record of the trail and what the server established about it.
#[derive(Debug, Clone)]
pub struct TrailEntry {
    /// The record as stored, with its co-signatures.
    pub record: SignedRecord,
    /// What became of it.
    pub status: RecordStatus,
    /// The verdict stored when it was judged.
    pub verdict: Verdict,
    /// Its signatures verify (re-checked now, not remembered).
    pub signatures_ok: bool,
    /// Its inclusion proof verifies against the checkpoint.
    pub logged: bool,
    /// Every photo, video and document it lists has arrived.
    pub media_complete: bool,
    /// The server's own re-check of its face photo (R1, R7), when the
    /// server ran one: `None` while it has not (no reference photo, no face
    /// models, the photo not arrived, or no face claim at all).
    pub face_recheck: Option<ServerFaceCheck>,
}

/// What the verdict is judged on.
#[derive(Debug, Clone)]
pub struct TrailFacts {
    /// The tag is in a filed batch (R16).
    pub registered: bool,
    /// The tag's custody state now.
    pub state: SpecimenState,
    /// Every stored record naming the tag, in log order.
    pub entries: Vec<TrailEntry>,
    /// Fingerprints of the trail's devices that offered two records for one
    /// place in their chain (equivocation).
    pub equivocating_devices: Vec<String>,
}

/// The verdict.
#[derive(Debug, Clone)]
pub struct TrailJudgement {
    /// Every check passed: the lab may accept.
    pub ok: bool,
    /// Each check, passed or not, with its reason in both languages.
    pub checks: Vec<TrailCheck>,
    /// One line for the receiver, in Chinese.
    pub summary_zh: String,
    /// The same line in English.
    pub summary_en: String,
    /// The findings a lab must confirm, one by one, to accept anyway.
    pub to_confirm: Vec<Finding>,
}

/// Whether accepting a specimen despite this finding needs confirmation:
/// everything regulators are shown (flags, unprovable witnessing).
pub fn needs_confirmation(v: &Violation) -> bool {
    v.reported_to_regulators()
}

/// The codes among `findings` needing confirmation that `acknowledged` does
/// not confirm, sorted, each once.
pub fn unconfirmed(findings: &[Violation], acknowledged: &[String]) -> Vec<String> {
    let mut codes: Vec<String> = findings
        .iter()
        .filter(|v| needs_confirmation(v))
        .map(Violation::code)
        .filter(|c| !acknowledged.contains(c))
        .collect();
    codes.sort();
    codes.dedup();
    codes
}

fn check(name: &str, ok: bool, zh: String, en: String) -> TrailCheck {
    TrailCheck { name: name.into(), ok, message_zh: zh, message_en: en }
}

/// A check that passes with one message and fails with another.
fn pass_fail(name: &str, ok: bool, pass: (&str, &str), fail: (String, String)) -> TrailCheck {
    if ok { check(name, true, pass.0.into(), pass.1.into()) } else { check(name, false, fail.0, fail.1) }
}

fn minutes(ms: i64) -> String {
    format!("{:.1}", ms as f64 / 60_000.0)
}

/// The codes of `found`, joined for a message.
fn codes(found: &[&Violation]) -> String {
    let mut c: Vec<String> = found.iter().map(|v| v.code()).collect();
    c.sort();
    c.dedup();
    c.join(", ")
}

/// Which findings a named check gathers. Every finding a regulator would
/// see falls into one of them, or into `other_findings`: none passes
/// unnoticed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Group {
    Faces,
    Authority,
    Location,
    Clock,
    Place,
    Window,
    Other,
}

fn group(v: &Violation) -> Group {
    use Violation as V;
    match v {
        V::FaceMismatch { .. }
        | V::LivenessFailed
        | V::FaceRecheckDisagrees { .. }
        | V::FaceNotFound { .. } => Group::Faces,
        V::AuthorisationUncertain { .. }
        | V::DeviceRevocationUncertain { .. }
        | V::CosignerNotAuthorised { .. } => Group::Authority,
        V::MockLocation | V::ImplausibleTrack { .. } | V::PoorAccuracy { .. } => Group::Location,
        V::ClockSkew { .. }
        | V::GnssMismatch { .. }
        | V::ClaimOutsideProven { .. }
        | V::AnchorInvalid
        | V::MonotonicInconsistent => Group::Clock,
        V::OutsideSite { .. } | V::NotTogether { .. } => Group::Place,
        V::LateWitness { .. } | V::WitnessMissing { .. } | V::TimingUndetermined { .. } => Group::Window,
        _ => Group::Other,
    }
}

/// The findings of one entry: its stored verdict's, and those of the
/// server's face re-check of its photo (`verify::face_recheck`).
pub fn entry_findings(entry: &TrailEntry) -> Vec<Violation> {
    let mut v = entry.verdict.violations.clone();
    v.extend(face_recheck::record_findings(entry.record.body(), entry.face_recheck.as_ref()));
    v
}

/// What the checks read off the trail.
struct Seen<'a> {
    facts: &'a TrailFacts,
    accepted: Vec<&'a TrailEntry>,
    findings: Vec<Violation>,
}

impl<'a> Seen<'a> {
    fn of(facts: &'a TrailFacts) -> Seen<'a> {
        let accepted: Vec<&TrailEntry> =
            facts.entries.iter().filter(|e| e.status == RecordStatus::Accepted).collect();
        let findings = accepted.iter().flat_map(|e| entry_findings(e)).collect();
        Seen { facts, accepted, findings }
    }

    /// Face claims on the accepted records, and how many of them the server
    /// re-checked itself.
    fn face_claims(&self) -> (usize, usize) {
        let with_claim = self.accepted.iter().filter(|e| face_recheck::claim_of(e.record.body()).is_some());
        let (mut claims, mut rechecked) = (0, 0);
        for e in with_claim {
            claims += 1;
            let claim = face_recheck::claim_of(e.record.body()).map(|c| c.photo);
            if e.face_recheck.as_ref().is_some_and(|s| s.rechecked() && Some(s.photo) == claim) {
                rechecked += 1;
            }
        }
        (claims, rechecked)
    }

    /// R1, R7: the faces, on the phones' word and the server's re-check. A
    /// pass says whether the server re-checked, never more than it did.
    fn faces(&self) -> TrailCheck {
        let faces = self.in_group(Group::Faces);
        if !faces.is_empty() {
            return check(
                "faces",
                false,
                format!("有人脸核验、服务器复核或活体检测未通过：{}（R1、R7）", codes(&faces)),
                format!(
                    "a face check, the server's face re-check or a liveness challenge failed: {} (R1, R7)",
                    codes(&faces)
                ),
            );
        }
        let (claims, rechecked) = self.face_claims();
        let (zh, en) = if rechecked == claims {
            (
                "人脸核验通过，服务器已复核".to_owned(),
                "face checks passed, re-checked by the server".to_owned(),
            )
        } else {
            let open = claims - rechecked;
            (
                format!(
                    "手机人脸核验通过；其中 {open} 张服务器未复核（无底库照片、服务器未配置人脸模型或照片未到）"
                ),
                format!(
                    "the phones' face checks passed; the server has not re-checked {open} of them (no reference photo, no face models on the server, or the photo has not arrived)"
                ),
            )
        };
        check("faces", true, zh, en)
    }

    fn in_group(&self, g: Group) -> Vec<&Violation> {
        self.findings
            .iter()
            .filter(|v| group(v) == g && (g != Group::Other || needs_confirmation(v)))
            .collect()
    }

    fn has_kind(&self, k: RecordKind) -> bool {
        self.accepted.iter().any(|e| e.record.body().kind() == k)
    }

    fn max_distance(&self, pick: fn(&Violation) -> Option<i64>) -> Option<i64> {
        self.findings.iter().filter_map(pick).max()
    }

    /// The records are what they claim and are in the log (R14, R16).
    fn integrity(&self) -> Vec<TrailCheck> {
        let entries = &self.facts.entries;
        let sig_ok = entries.iter().all(|e| e.signatures_ok);
        let log_ok = entries.iter().all(|e| e.logged);
        vec![
            pass_fail(
                "tag_registered",
                self.facts.registered,
                ("标识属于已备案批次", "tag belongs to a filed batch"),
                ("标识不属于任何已备案批次（R16）".into(), "tag is in no filed batch (R16)".into()),
            ),
            pass_fail(
                "signatures",
                sig_ok && !entries.is_empty(),
                ("全部记录签名有效", "every record's signature verifies"),
                if sig_ok {
                    ("全部记录签名有效".into(), "every record's signature verifies".into())
                } else {
                    ("有记录签名无效".into(), "a record's signature does not verify".into())
                },
            ),
            pass_fail(
                "transparency_log",
                log_ok,
                ("全部记录已登记在防篡改日志中", "every record is in the transparency log"),
                ("日志证明不成立".into(), "a log inclusion proof fails".into()),
            ),
            pass_fail(
                "sampled",
                self.has_kind(RecordKind::Sampling),
                ("有有效的取样记录（R6-R7）", "a valid sampling record exists (R6-R7)"),
                ("没有有效的取样记录（R6-R7）".into(), "no valid sampling record (R6-R7)".into()),
            ),
        ]
    }

    /// R8: witnessed within the window, proven.
    fn window(&self) -> TrailCheck {
        let window = self
            .accepted
            .iter()
            .filter(|e| matches!(e.record.body().payload, Payload::Witnessing(_)))
            .filter_map(|e| e.verdict.window)
            .next_back();
        let (ok, zh, en) = match window {
            Some(WindowVerdict::Compliant { max_gap_ms }) => (
                true,
                format!("已证明在取样后 {} 分钟内完成见证（R8）", minutes(max_gap_ms)),
                format!("witnessed within {} min of sampling, proven (R8)", minutes(max_gap_ms)),
            ),
            Some(WindowVerdict::Late { min_gap_ms }) => (
                false,
                format!("见证超时：取样后至少 {} 分钟（R8）", minutes(min_gap_ms)),
                format!("late witnessing: at least {} min after sampling (R8)", minutes(min_gap_ms)),
            ),
            Some(WindowVerdict::Undetermined { claimed_gap_ms, .. }) => (
                false,
                format!("无法证明 20 分钟内见证；设备记录间隔 {} 分钟（R8）", minutes(claimed_gap_ms)),
                format!(
                    "cannot prove witnessing within 20 min; devices report {} min (R8)",
                    minutes(claimed_gap_ms)
                ),
            ),
            None => (false, "没有见证记录（R8）".into(), "not witnessed (R8)".into()),
        };
        check("witnessed_in_time", ok, zh, en)
    }

    /// R9, R17, R1, R8: where, who and when, as the findings say.
    fn findings(&self) -> Vec<TrailCheck> {
        let outside = self.max_distance(|v| match v {
            Violation::OutsideSite { distance_m } => Some(*distance_m),
            _ => None,
        });
        let apart = self.max_distance(|v| match v {
            Violation::NotTogether { distance_m } => Some(*distance_m),
            _ => None,
        });
        let (authority, location, clock, other) = (
            self.in_group(Group::Authority),
            self.in_group(Group::Location),
            self.in_group(Group::Clock),
            self.in_group(Group::Other),
        );
        vec![
            pass_fail(
                "on_site",
                outside.is_none(),
                ("定位均在现场范围内或无法判断", "no location provably outside the site"),
                (
                    format!("有定位在现场外（约 {} 米）", outside.unwrap_or(0)),
                    format!("a location is outside the site (about {} m)", outside.unwrap_or(0)),
                ),
            ),
            pass_fail(
                "co_presence",
                apart.is_none(),
                ("见证人与取样人未被证明分处两地", "witness not proven away from the sampler"),
                (
                    format!("见证人与取样人相距约 {} 米（R9）", apart.unwrap_or(0)),
                    format!("witness was about {} m from the sampler (R9)", apart.unwrap_or(0)),
                ),
            ),
            self.faces(),
            pass_fail(
                "authorisation",
                authority.is_empty(),
                ("操作人员的授权均已证明有效（R1）", "every actor's authorisation is proven valid (R1)"),
                (
                    format!("无法证明操作人员当时有效授权或设备未被注销：{}（R1）", codes(&authority)),
                    format!(
                        "an actor's authorisation or device was not proven valid at the time: {} (R1)",
                        codes(&authority)
                    ),
                ),
            ),
            pass_fail(
                "location_genuine",
                location.is_empty(),
                (
                    "定位未见模拟、跳变或精度不足（R9）",
                    "locations show no mocking, jumps or poor accuracy (R9)",
                ),
                (
                    format!("定位可疑：{}（R9）", codes(&location)),
                    format!("locations are suspect: {} (R9)", codes(&location)),
                ),
            ),
            pass_fail(
                "trusted_time",
                clock.is_empty(),
                ("设备时间证据一致（R8）", "the devices' time evidence is consistent (R8)"),
                (
                    format!("设备时间证据有问题：{}（R8）", codes(&clock)),
                    format!("the devices' time evidence is in doubt: {} (R8)", codes(&clock)),
                ),
            ),
            pass_fail(
                "other_findings",
                other.is_empty(),
                ("没有其他需监管关注的问题", "no other finding regulators are shown"),
                (
                    format!("其他需关注的问题：{}", codes(&other)),
                    format!("other findings regulators are shown: {}", codes(&other)),
                ),
            ),
        ]
    }

    /// R10, R16, and what is still missing or was attempted.
    fn completeness(&self) -> Vec<TrailCheck> {
        // Refused attempts at custody itself (a rebinding, a second witness,
        // a forged receipt …). The lab's own later records (test data,
        // reviews, reports, revocations) refused for their own rules are
        // the lab's mistakes, judged where they are made, and do not make
        // the specimen's custody doubtful.
        let refused = self
            .facts
            .entries
            .iter()
            .filter(|e| {
                e.status == RecordStatus::Refused
                    && matches!(
                        e.record.body().kind(),
                        RecordKind::Sampling
                            | RecordKind::Witnessing
                            | RecordKind::Commission
                            | RecordKind::LabReceipt
                    )
            })
            .count();
        let equivocating = &self.facts.equivocating_devices;
        vec![
            pass_fail(
                "commissioned",
                self.has_kind(RecordKind::Commission),
                ("已出具委托单（R10）", "commission form issued (R10)"),
                ("尚无委托单（R10）".into(), "no commission form yet (R10)".into()),
            ),
            pass_fail(
                "media_complete",
                self.accepted.iter().all(|e| e.media_complete),
                ("照片视频已全部上传", "all photos and videos have arrived"),
                ("有照片或视频尚未上传完成".into(), "some photos or videos have not arrived yet".into()),
            ),
            pass_fail(
                "no_refused_attempts",
                refused == 0,
                ("无被拒绝的操作", "no refused attempts"),
                (
                    format!("该标识有 {refused} 次被拒绝的操作（如重复绑定，R16）"),
                    format!("{refused} refused attempt(s) on this tag (e.g. rebinding, R16)"),
                ),
            ),
            pass_fail(
                "no_equivocation",
                equivocating.is_empty(),
                ("相关设备没有提交过相互矛盾的记录", "no device of this trail offered conflicting records"),
                (
                    format!("设备 {} 曾对同一序号提交两份不同记录（记录链分叉）", equivocating.join("、")),
                    format!(
                        "device {} offered two different records for one place in its chain (equivocation)",
                        equivocating.join(", ")
                    ),
                ),
            ),
        ]
    }
}

/// Judge a tag's trail.
pub fn judge(facts: &TrailFacts) -> TrailJudgement {
    let seen = Seen::of(facts);
    let mut checks = seen.integrity();
    checks.push(seen.window());
    checks.extend(seen.findings());
    checks.extend(seen.completeness());

    let ok = checks.iter().all(|c| c.ok) && facts.state.stage != Stage::Rejected;
    let failed: Vec<&TrailCheck> = checks.iter().filter(|c| !c.ok).collect();
    let (summary_zh, summary_en) = if ok {
        ("核验通过：可以收样".to_owned(), "verified: the lab may accept this specimen".to_owned())
    } else if facts.entries.is_empty() {
        ("该标识没有任何记录：不要收样".to_owned(), "no records for this tag: do not accept".to_owned())
    } else {
        (
            format!(
                "发现问题：{}",
                failed.iter().map(|c| c.message_zh.clone()).collect::<Vec<_>>().join("；")
            ),
            format!(
                "problems: {}",
                failed.iter().map(|c| c.message_en.clone()).collect::<Vec<_>>().join("; ")
            ),
        )
    };
    let mut to_confirm: Vec<Finding> = Vec::new();
    for v in seen.findings.iter().filter(|v| needs_confirmation(v)) {
        if !to_confirm.iter().any(|f| f.code == v.code()) {
            to_confirm.push(Finding::from(v));
        }
    }
    TrailJudgement { ok, checks, summary_zh, summary_en, to_confirm }
}
