//! The lab's verification of one tag (R11): the specimen's whole custody
//! trail with a verdict computed here, on the server, from the stored
//! records — signatures re-checked, inclusion proofs against the latest
//! checkpoint, the 20-minute rule, place, media completeness, tag status.

use crate::ingest::{decode_stored, stored_verdict};
use crate::logtree;
use crate::store::{Result, Tx};
use custody_core::custody::Stage;
use custody_core::log::SignedCheckpoint;
use custody_core::protocol::{Finding, MediaView, RecordStatus, TrailCheck, TrailRecord, TrailResponse};
use custody_core::record::{MediaPurpose, Payload};
use custody_core::time::WindowVerdict;
use custody_core::verify::Violation;
use custody_core::{PublicKey, TagCode};
use serde_json::value::RawValue;

fn check(name: &str, ok: bool, zh: String, en: String) -> TrailCheck {
    TrailCheck { name: name.into(), ok, message_zh: zh, message_en: en }
}

fn minutes(ms: i64) -> String {
    format!("{:.1}", ms as f64 / 60_000.0)
}

pub fn trail(
    tx: &mut dyn Tx,
    tag: &TagCode,
    checkpoint: &SignedCheckpoint,
    server_key: &PublicKey,
) -> Result<TrailResponse> {
    let rows = tx.records_for_tag(tag.as_str())?;
    let state = tx.tag_state(tag.as_str())?.unwrap_or_default();
    let registered = tx.batches(tag.supplier(), tag.year(), tag.batch())?.iter().any(|b| b.contains(tag));

    let mut records = Vec::new();
    let mut sig_ok = true;
    let mut log_ok = true;
    let mut media_ok = true;
    let mut window: Option<WindowVerdict> = None;
    let mut outside = Vec::new();
    let mut apart = Vec::new();
    let mut refused_attempts = 0;
    let mut face_flags = 0;
    for row in &rows {
        let rec = decode_stored(row)?;
        let verdict = stored_verdict(row)?;
        if rec.verify_signatures().is_err() {
            sig_ok = false;
        }
        let receipt = logtree::receipt(tx, &row.id, row.log_index, checkpoint)?;
        if receipt.verify(&[*server_key]).is_err() {
            log_ok = false;
        }
        let media = tx.media_of_record(&row.id)?;
        if row.status == RecordStatus::Accepted && media.iter().any(|(_, complete)| !complete) {
            media_ok = false;
        }
        if row.status == RecordStatus::Refused {
            refused_attempts += 1;
        }
        if row.status == RecordStatus::Accepted {
            if let (Payload::Witnessing(_), Some(w)) = (&rec.body().payload, verdict.window) {
                window = Some(w);
            }
            for v in &verdict.violations {
                match v {
                    Violation::OutsideSite { distance_m } => outside.push(*distance_m),
                    Violation::NotTogether { distance_m } => apart.push(*distance_m),
                    Violation::FaceMismatch { .. } | Violation::LivenessFailed => face_flags += 1,
                    _ => {}
                }
            }
        }
        let body = rec.body();
        let person = tx.person(&body.author)?;
        let org_name = match &person {
            Some(p) => tx.org(&p.org)?.map(|o| o.name).unwrap_or_default(),
            None => String::new(),
        };
        let time = verdict.time.clone();
        records.push(TrailRecord {
            id: row.id,
            kind: body.kind().as_str().into(),
            kind_zh: body.kind().name_zh().into(),
            author: body.author.to_string(),
            author_name: person.map(|p| p.name).unwrap_or_else(|| body.author.to_string()),
            org_name,
            device_fingerprint: body.device.fingerprint(),
            seq: body.seq,
            log_index: row.log_index,
            status: row.status,
            first_seen_ms: row.first_seen_ms,
            proven_earliest_ms: row.earliest_ms,
            proven_latest_ms: row.latest_ms,
            claimed_ms: time
                .map(|t| (t.claimed.earliest_ms + t.claimed.latest_ms) / 2)
                .unwrap_or(body.evidence.time.wall_ms),
            findings: verdict.violations.iter().map(Finding::from).collect(),
            media: media
                .into_iter()
                .map(|(m, complete)| MediaView {
                    url: (m.purpose != MediaPurpose::Face).then(|| format!("/v1/media/{}/content", m.sha256)),
                    sha256: m.sha256,
                    purpose: serde_json::to_value(m.purpose)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default(),
                    media_type: m.media_type,
                    size: m.size,
                    complete,
                })
                .collect(),
            fixes: body.evidence.fixes.clone(),
            receipt,
            envelope: RawValue::from_string(String::from_utf8_lossy(&row.envelope).into_owned())
                .map_err(|e| crate::store::StoreError::Corrupt(e.to_string()))?,
        });
    }

    let accepted = |k: &str| rows.iter().any(|r| r.kind == k && r.status == RecordStatus::Accepted);
    let mut checks = vec![
        check(
            "tag_registered",
            registered,
            if registered {
                "标识属于已备案批次".into()
            } else {
                "标识不属于任何已备案批次（R16）".into()
            },
            if registered {
                "tag belongs to a filed batch".into()
            } else {
                "tag is in no filed batch (R16)".into()
            },
        ),
        check(
            "signatures",
            sig_ok && !rows.is_empty(),
            if sig_ok { "全部记录签名有效".into() } else { "有记录签名无效".into() },
            if sig_ok {
                "every record's signature verifies".into()
            } else {
                "a record's signature does not verify".into()
            },
        ),
        check(
            "transparency_log",
            log_ok,
            if log_ok {
                "全部记录已登记在防篡改日志中".into()
            } else {
                "日志证明不成立".into()
            },
            if log_ok {
                "every record is in the transparency log".into()
            } else {
                "a log inclusion proof fails".into()
            },
        ),
        check(
            "sampled",
            accepted("sampling"),
            if accepted("sampling") {
                "有有效的取样记录（R6-R7）".into()
            } else {
                "没有有效的取样记录（R6-R7）".into()
            },
            if accepted("sampling") {
                "a valid sampling record exists (R6-R7)".into()
            } else {
                "no valid sampling record (R6-R7)".into()
            },
        ),
    ];
    let (w_ok, w_zh, w_en) = match window {
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
    checks.push(check("witnessed_in_time", w_ok, w_zh, w_en));
    checks.push(check(
        "on_site",
        outside.is_empty(),
        if outside.is_empty() {
            "定位均在现场范围内或无法判断".into()
        } else {
            format!("有定位在现场外（约 {} 米）", outside.iter().max().unwrap_or(&0))
        },
        if outside.is_empty() {
            "no location provably outside the site".into()
        } else {
            format!("a location is outside the site (about {} m)", outside.iter().max().unwrap_or(&0))
        },
    ));
    checks.push(check(
        "co_presence",
        apart.is_empty(),
        if apart.is_empty() {
            "见证人与取样人未被证明分处两地".into()
        } else {
            format!("见证人与取样人相距约 {} 米（R9）", apart.iter().max().unwrap_or(&0))
        },
        if apart.is_empty() {
            "witness not proven away from the sampler".into()
        } else {
            format!("witness was about {} m from the sampler (R9)", apart.iter().max().unwrap_or(&0))
        },
    ));
    checks.push(check(
        "faces",
        face_flags == 0,
        if face_flags == 0 {
            "人脸核验通过".into()
        } else {
            "有人脸核验或活体检测未通过（R1）".into()
        },
        if face_flags == 0 {
            "face checks passed".into()
        } else {
            "a face check or liveness challenge failed (R1)".into()
        },
    ));
    let commissioned = accepted("commission");
    checks.push(check(
        "commissioned",
        commissioned,
        if commissioned { "已出具委托单（R10）".into() } else { "尚无委托单（R10）".into() },
        if commissioned {
            "commission form issued (R10)".into()
        } else {
            "no commission form yet (R10)".into()
        },
    ));
    checks.push(check(
        "media_complete",
        media_ok,
        if media_ok {
            "照片视频已全部上传".into()
        } else {
            "有照片或视频尚未上传完成".into()
        },
        if media_ok {
            "all photos and videos have arrived".into()
        } else {
            "some photos or videos have not arrived yet".into()
        },
    ));
    checks.push(check(
        "no_refused_attempts",
        refused_attempts == 0,
        if refused_attempts == 0 {
            "无被拒绝的操作".into()
        } else {
            format!("该标识有 {refused_attempts} 次被拒绝的操作（如重复绑定，R16）")
        },
        if refused_attempts == 0 {
            "no refused attempts".into()
        } else {
            format!("{refused_attempts} refused attempt(s) on this tag (e.g. rebinding, R16)")
        },
    ));
    let ok = checks.iter().all(|c| c.ok) && state.stage != Stage::Rejected;
    let failed: Vec<&TrailCheck> = checks.iter().filter(|c| !c.ok).collect();
    let (summary_zh, summary_en) = if ok {
        ("核验通过：可以收样".to_owned(), "verified: the lab may accept this specimen".to_owned())
    } else if rows.is_empty() {
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
    Ok(TrailResponse {
        tag: tag.to_string(),
        tag_printed: tag.printed(),
        stage: state.stage.name_en().into(),
        stage_zh: state.stage.name_zh().into(),
        ok,
        summary_zh,
        summary_en,
        checks,
        records,
        checkpoint: checkpoint.clone(),
    })
}
