//! The commands the screens call (app/src/api.ts). Each is a thin layer: it
//! reads arguments, calls the engine or the capture pipeline, and maps errors
//! to `CmdError`. No rule is decided here.

use crate::camera::{CameraEvent, CameraInfo, Purpose, ScannedTagView, Session};
use crate::error::{CmdError, CmdResult};
use crate::location::{self, CollectedView, LocationInfo};
use crate::pdf::PdfFile;
use crate::state::AppState;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use capture::face::liveness::Challenge;
use capture::face::step::Burst;
use capture::frame::Frame;
use custody_core::model::Id;
use custody_core::protocol::{ConsoleLoginInfo, DeviceProfile, TrailResponse};
use custody_core::record::*;
use custody_core::{Hash, TagCode};
use field_engine::{
    CommissionInput, Created, FieldEvidence, OpenSampling, PlanItemView, ReceiptInput, RecordView,
    SamplingInput, SyncReport, SyncStatus, WitnessInput,
};
use serde::{Deserialize, Serialize};
use tauri::State;

type St<'a> = State<'a, AppState>;

fn hash(s: &str) -> CmdResult<Hash> {
    s.parse().map_err(|_| CmdError::new("invalid", "记录编号格式错误", format!("not a record id: {s}")))
}

fn id(s: &str) -> CmdResult<Id> {
    Id::new(s).map_err(|_| CmdError::new("invalid", format!("编号格式错误：{s}"), format!("invalid id: {s}")))
}

fn profile_of(st: &AppState) -> CmdResult<DeviceProfile> {
    Ok(st.engine.enrollment()?.ok_or_else(|| CmdError::from(field_engine::EngineError::NotEnrolled))?.profile)
}

fn tag(s: &str) -> CmdResult<TagCode> {
    TagCode::parse(s).map_err(|e| CmdError::new("unknown_tag", e.message_zh(), e.to_string()))
}

fn data_url(media_type: &str, bytes: &[u8]) -> String {
    format!("data:{media_type};base64,{}", STANDARD.encode(bytes))
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> CmdResult<T> + Send + 'static) -> CmdResult<T> {
    tauri::async_runtime::spawn_blocking(f)
        .await
        .map_err(|e| CmdError::new("internal", "内部错误", e.to_string()))?
}

// ------------------------------------------------------------------ app

#[derive(Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct AppInfo {
    version: &'static str,
    platform: &'static str,
    camera: CameraInfo,
    location: LocationInfo,
    data_dir: String,
}

#[tauri::command(rename_all = "snake_case")]
pub async fn app_info(st: St<'_>) -> CmdResult<AppInfo> {
    Ok(AppInfo {
        version: env!("CARGO_PKG_VERSION"),
        platform: std::env::consts::OS,
        camera: Session::info(&st.config.camera),
        location: location::info(&st.config.location),
        data_dir: st.engine.data_dir().display().to_string(),
    })
}

#[tauri::command(rename_all = "snake_case")]
pub async fn status(st: St<'_>) -> CmdResult<SyncStatus> {
    Ok(st.engine.status()?)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn profile(st: St<'_>) -> CmdResult<Option<DeviceProfile>> {
    Ok(st.engine.enrollment()?.map(|e| e.profile))
}

#[tauri::command(rename_all = "snake_case")]
pub async fn enroll(st: St<'_>, qr: String) -> CmdResult<DeviceProfile> {
    let p = st.engine.enroll(qr.trim(), "field app", std::env::consts::OS).await?;
    // Best effort: the first sync right away (the engine also syncs in the background).
    let _ = st.engine.sync_once().await;
    Ok(p)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn sync_now(st: St<'_>) -> CmdResult<SyncReport> {
    Ok(st.engine.sync_once().await?)
}

// ------------------------------------------------------------------ camera

#[tauri::command(rename_all = "snake_case")]
pub async fn camera_start(
    st: St<'_>,
    purpose: Purpose,
    unit_project: Option<String>,
) -> CmdResult<CameraInfo> {
    let session = Session::open(purpose, unit_project, &st.config.camera)
        .map_err(|e| CmdError::new("camera", format!("无法打开摄像头：{}", e.message_zh()), e.to_string()))?;
    *st.camera.lock().unwrap_or_else(|p| p.into_inner()) = Some(session);
    Ok(Session::info(&st.config.camera))
}

/// Counts a frame being judged (the session is out of its slot meanwhile).
struct Judging<'a>(&'a AppState);

impl<'a> Judging<'a> {
    fn start(st: &'a AppState) -> Judging<'a> {
        st.judging.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Judging(st)
    }
}

impl Drop for Judging<'_> {
    fn drop(&mut self) {
        self.0.judging.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// A tap that needs the session (capture, torch) while a frame is being
/// judged waits for the session to come back (at most ~2 s: a face analysis
/// takes tens of milliseconds).
async fn session_settled(st: &AppState) {
    for _ in 0..200 {
        if st.judging.load(std::sync::atomic::Ordering::SeqCst) == 0 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

/// Judge a frame in the open session (on a worker thread: decoding and face
/// analysis take tens of milliseconds).
async fn judge(st: &AppState, frame: Frame, with_preview: bool) -> CmdResult<CameraEvent> {
    let batches = st.engine.tag_batches();
    let checker = {
        let purpose = st.camera.lock().unwrap_or_else(|p| p.into_inner()).as_ref().map(|s| s.purpose);
        if purpose == Some(Purpose::Face) { st.face().ok() } else { None }
    };
    let preview = if with_preview {
        capture::photo::capture_frame(&frame, MediaPurpose::Process)
            .ok()
            .map(|o| data_url(&o.media.media_type, &o.bytes))
    } else {
        None
    };
    // The session travels to a worker thread and back; a session started
    // meanwhile (the person switched screens) wins.
    let _judging = Judging::start(st);
    let mut session = st.camera.lock().unwrap_or_else(|p| p.into_inner()).take();
    let (event, session) = tauri::async_runtime::spawn_blocking(move || {
        let event = session.as_mut().map(|s| s.judge(frame, &batches, checker.as_deref()));
        (event, session)
    })
    .await
    .map_err(|e| CmdError::new("internal", "内部错误", e.to_string()))?;
    let mut slot = st.camera.lock().unwrap_or_else(|p| p.into_inner());
    if slot.is_none() {
        *slot = session;
    }
    drop(slot);
    let mut ev = event.ok_or_else(|| CmdError::new("camera", "摄像头未打开", "no camera session"))?;
    if let Some(t) = &ev.tag {
        *st.current_tag.lock().unwrap_or_else(|p| p.into_inner()) = Some(t.printed.clone());
    }
    ev.preview = preview;
    Ok(ev)
}

/// A frame pushed from the webview: 4-byte LE width, 4-byte LE height, RGBA.
#[tauri::command(rename_all = "snake_case")]
pub async fn camera_push(st: St<'_>, request: tauri::ipc::Request<'_>) -> CmdResult<CameraEvent> {
    let tauri::ipc::InvokeBody::Raw(body) = request.body() else {
        return Err(CmdError::new("camera", "帧格式错误", "expected a raw RGBA frame body"));
    };
    if body.len() < 8 {
        return Err(CmdError::new("camera", "帧格式错误", "frame body too short"));
    }
    let w = u32::from_le_bytes(body[0..4].try_into().expect("4 bytes"));
    let h = u32::from_le_bytes(body[4..8].try_into().expect("4 bytes"));
    let frame = Frame::from_rgba(w, h, &body[8..])
        .map_err(|e| CmdError::new("camera", e.message_zh(), e.to_string()))?
        .with_mono_ms(Some(st.clock.mono_ms()));
    judge(&st, frame, false).await
}

/// The shell's own source (files, USB camera): read and judge the next frame.
#[tauri::command(rename_all = "snake_case")]
pub async fn camera_pull(st: St<'_>) -> CmdResult<CameraEvent> {
    let frame = {
        let mut slot = st.camera.lock().unwrap_or_else(|p| p.into_inner());
        let s = slot.as_mut().ok_or_else(|| CmdError::new("camera", "摄像头未打开", "no camera session"))?;
        let src = s.puller.as_mut().ok_or_else(|| {
            CmdError::new("camera", "画面来自网页摄像头", "frames come from the webview: push them")
        })?;
        src.next_frame()
            .map_err(|e| CmdError::new("camera", e.message_zh(), e.to_string()))?
            .ok_or_else(|| CmdError::new("camera", "摄像头没有画面", "the camera gave no frame"))?
    };
    let frame = frame.with_mono_ms(Some(st.clock.mono_ms()));
    judge(&st, frame, true).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn camera_torch(st: St<'_>, on: bool) -> CmdResult<bool> {
    session_settled(&st).await;
    let mut slot = st.camera.lock().unwrap_or_else(|p| p.into_inner());
    let s = slot.as_mut().ok_or_else(|| CmdError::new("camera", "摄像头未打开", "no camera session"))?;
    match s.puller.as_mut() {
        Some(src) => src.set_torch(on).map_err(|e| CmdError::new("camera", e.message_zh(), e.to_string()))?,
        None => {
            return Err(CmdError::new(
                "camera",
                "手电筒由手机摄像头控制",
                "the torch is controlled by the webview's camera",
            ));
        }
    }
    s.torch = on;
    Ok(on)
}

/// The liveness challenge the person is asked to perform (the screens call it `Liveness`).
#[derive(Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct LivenessView {
    /// `Challenge::name()` of the challenge drawn.
    #[cfg_attr(test, ts(type = "'blink' | 'turn_left' | 'turn_right'"))]
    challenge: &'static str,
    prompt_zh: &'static str,
    prompt_en: &'static str,
}

#[tauri::command(rename_all = "snake_case")]
pub async fn liveness_begin(st: St<'_>) -> CmdResult<LivenessView> {
    let mut b = [0u8; 1];
    let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b);
    let challenge = Challenge::from_random(b[0]);
    let mut slot = st.camera.lock().unwrap_or_else(|p| p.into_inner());
    let s = slot
        .as_mut()
        .filter(|s| s.purpose == Purpose::Face)
        .ok_or_else(|| CmdError::new("camera", "请先打开人脸拍摄", "open a face session first"))?;
    s.liveness = Some(crate::camera::LivenessRun { challenge, frames: vec![] });
    Ok(LivenessView {
        challenge: challenge.name(),
        prompt_zh: challenge.prompt_zh(),
        prompt_en: challenge.prompt_en(),
    })
}

#[derive(Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Captured {
    media: MediaRef,
    /// A data: URL of the copy shown to people (watermarked, except faces).
    preview: String,
    /// Purpose "face": the 1:1 check against the enrolled reference.
    face_check: Option<FaceCheck>,
}

fn media_error(e: capture::photo::PhotoError) -> CmdError {
    CmdError::new("media", e.message_zh(), e.to_string())
}

/// Keep the current frame: a process photo, or the face photo with its
/// 1:1 check against the person's enrolled reference (and the liveness
/// challenge, when one ran).
#[tauri::command(rename_all = "snake_case")]
pub async fn camera_capture(st: St<'_>) -> CmdResult<Captured> {
    session_settled(&st).await;
    let (purpose, frame, run) = {
        let mut slot = st.camera.lock().unwrap_or_else(|p| p.into_inner());
        let s = slot.as_mut().ok_or_else(|| CmdError::new("camera", "摄像头未打开", "no camera session"))?;
        let (frame, run) = s.take_capture(st.clock.mono_ms());
        (s.purpose, frame.ok_or_else(|| CmdError::new("camera", "还没有画面", "no frame yet"))?, run)
    };
    let media_purpose = purpose.media_purpose();
    let checker = match purpose {
        Purpose::Face => Some(st.face().map_err(|e| CmdError::new("face", "人脸模型未安装", e))?),
        _ => None,
    };
    let original = capture::photo::capture_frame(&frame, media_purpose).map_err(media_error)?;
    let media = st.engine.store_media(&original.bytes, media_purpose, &original.media.media_type)?;
    let Some(checker) = checker else {
        let preview = match st.watermarked(&original) {
            Some(jpeg) => data_url("image/jpeg", &jpeg),
            None => data_url(&media.media_type, &original.bytes),
        };
        return Ok(Captured { media, preview, face_check: None });
    };
    let reference = st.engine.face_reference().await.ok().flatten();
    let cache = st.reference.clone();
    let photo = media.sha256;
    let check = blocking(move || {
        let burst = run.as_ref().map(|r| Burst { challenge: r.challenge, frames: &r.frames });
        checker
            .check_for_record(&frame, photo, reference.as_deref(), &cache, burst)
            .map_err(|e| CmdError::new("face", e.message_zh(), e.to_string()))
    })
    .await?;
    // Faces are never watermarked or shown beyond this screen.
    Ok(Captured { preview: data_url(&media.media_type, &original.bytes), media, face_check: Some(check) })
}

#[tauri::command(rename_all = "snake_case")]
pub async fn camera_stop(st: St<'_>) -> CmdResult<()> {
    *st.camera.lock().unwrap_or_else(|p| p.into_inner()) = None;
    Ok(())
}

#[tauri::command(rename_all = "snake_case")]
pub async fn manual_tag(st: St<'_>, text: String) -> CmdResult<ScannedTagView> {
    let t = capture::qr::tag::manual_entry(&text, Some(&st.engine.tag_batches()))
        .map_err(|e| CmdError::new("unknown_tag", e.message_zh(), e.to_string()))?;
    *st.current_tag.lock().unwrap_or_else(|p| p.into_inner()) = Some(t.code.printed());
    Ok(t.into())
}

#[tauri::command(rename_all = "snake_case")]
pub async fn scanner_tag(st: St<'_>, text: String) -> CmdResult<ScannedTagView> {
    // A lab may scan tags of any project it is commissioned for.
    let t = capture::qr::tag::keyboard_scanner_entry(&text, Some(&st.engine.tag_batches()))
        .map_err(|e| CmdError::new("unknown_tag", e.message_zh(), e.to_string()))?;
    Ok(t.into())
}

// ------------------------------------------------------------------ location

#[tauri::command(rename_all = "snake_case")]
pub async fn location_info(st: St<'_>) -> CmdResult<LocationInfo> {
    Ok(location::info(&st.config.location))
}

#[tauri::command(rename_all = "snake_case")]
pub async fn location_collect<R: tauri::Runtime>(
    app: tauri::AppHandle<R>,
    st: St<'_>,
    unit_project: Option<String>,
) -> CmdResult<CollectedView> {
    let profile = profile_of(&st)?;
    let source = st.config.location.clone();
    let clock = st.clock.clone();
    let start = clock.mono_ms();
    let p2 = profile.clone();
    let collected = blocking(move || {
        #[cfg(mobile)]
        if source == crate::config::LocationSource::Platform {
            return location::collect_platform(&app, &p2, start, move || clock.mono_ms())
                .map_err(|e| CmdError::new("location", e.zh().to_owned(), e.to_string()));
        }
        let _ = &app;
        location::collect_blocking(&source, &p2, start, move || clock.mono_ms())
            .map_err(|e| CmdError::new("location", e.zh().to_owned(), e.to_string()))
    })
    .await?;
    let view = location::view(collected, &profile, unit_project.as_deref());
    *st.last_fix.lock().unwrap_or_else(|p| p.into_inner()) = view.best.clone();
    Ok(view)
}

// ------------------------------------------------------------------ records

/// The approved sampling plan items in force for the person's unit projects
/// (R4), each with the samplings this phone knows were taken against it:
/// from what the last sync brought, so it works offline.
#[tauri::command(rename_all = "snake_case")]
pub async fn plan_items(st: St<'_>) -> CmdResult<Vec<PlanItemView>> {
    let engine = st.engine.clone();
    blocking(move || Ok(engine.plan_items()?)).await
}

#[derive(Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct SamplingForm {
    tag: String,
    tag_read: TagRead,
    seal: Option<String>,
    unit_project: String,
    specimen: Specimen,
    face: FaceCheck,
    media: Vec<MediaRef>,
    fixes: Vec<custody_core::place::Fix>,
}

#[tauri::command(rename_all = "snake_case")]
pub async fn create_sampling(st: St<'_>, form: SamplingForm, confirm: bool) -> CmdResult<Created> {
    let input = SamplingInput {
        project: st.engine.project_of(&form.unit_project)?,
        tag: tag(&form.tag)?,
        tag_read: form.tag_read,
        seal: form.seal.filter(|s| !s.trim().is_empty()),
        unit_project: id(&form.unit_project)?,
        specimen: form.specimen,
        face: form.face,
        evidence: FieldEvidence { media: form.media, fixes: form.fixes },
    };
    let engine = st.engine.clone();
    blocking(move || Ok(engine.create_sampling(input, confirm)?)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn open_samplings(st: St<'_>) -> CmdResult<Vec<OpenSampling>> {
    Ok(st.engine.open_samplings()?)
}

/// The handshake QR (R8-R9): its text, and an SVG to show.
#[derive(Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct HandshakeQr {
    text: String,
    svg: String,
}

#[tauri::command(rename_all = "snake_case")]
pub async fn handshake_qr(st: St<'_>, record: String) -> CmdResult<HandshakeQr> {
    let text = st.engine.handshake_qr(&hash(&record)?)?;
    let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::L)
        .map_err(|e| CmdError::new("internal", "二维码生成失败", e.to_string()))?;
    let svg =
        code.render::<qrcode::render::svg::Color<'_>>().min_dimensions(280, 280).quiet_zone(true).build();
    Ok(HandshakeQr { text, svg })
}

#[tauri::command(rename_all = "snake_case")]
pub async fn receive_handshake(
    st: St<'_>,
    text: String,
) -> CmdResult<field_engine::handshake::HandshakeOffer> {
    Ok(st.engine.receive_handshake(&text)?)
}

/// A handwritten signature drawn on the screen (PNG bytes as the raw body).
#[tauri::command(rename_all = "snake_case")]
pub async fn store_signature(st: St<'_>, request: tauri::ipc::Request<'_>) -> CmdResult<MediaRef> {
    let tauri::ipc::InvokeBody::Raw(png) = request.body() else {
        return Err(CmdError::new("media", "签名格式错误", "expected PNG bytes"));
    };
    if capture::photo::sniff_media_type(png) != Some("image/png") {
        return Err(CmdError::new("media", "签名必须是 PNG 图片", "the signature must be a PNG image"));
    }
    Ok(st.engine.store_media(png, MediaPurpose::HandSignature, "image/png")?)
}

#[derive(Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct WitnessForm {
    sampling: String,
    tag: String,
    tag_read: TagRead,
    face: FaceCheck,
    /// The sha256 of a stored signature (`store_signature`).
    hand_signature: Option<String>,
    remarks: String,
    media: Vec<MediaRef>,
    fixes: Vec<custody_core::place::Fix>,
}

#[tauri::command(rename_all = "snake_case")]
pub async fn create_witnessing(st: St<'_>, form: WitnessForm, confirm: bool) -> CmdResult<Created> {
    let input = WitnessInput {
        sampling: hash(&form.sampling)?,
        tag: tag(&form.tag)?,
        tag_read: form.tag_read,
        face: form.face,
        hand_signature: form.hand_signature.as_deref().map(hash).transpose()?,
        remarks: form.remarks,
        evidence: FieldEvidence { media: form.media, fixes: form.fixes },
    };
    let engine = st.engine.clone();
    blocking(move || Ok(engine.create_witnessing(input, confirm)?)).await
}

#[derive(Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct CommissionForm {
    form_no: String,
    lab: String,
    witness: String,
    /// Pairs of (sampling record, witnessing record).
    items: Vec<(String, String)>,
}

#[tauri::command(rename_all = "snake_case")]
pub async fn create_commission(st: St<'_>, form: CommissionForm, confirm: bool) -> CmdResult<Created> {
    let items = form.items.iter().map(|(s, w)| Ok((hash(s)?, hash(w)?))).collect::<CmdResult<Vec<_>>>()?;
    let input =
        CommissionInput { form_no: form.form_no, lab: id(&form.lab)?, witness: id(&form.witness)?, items };
    let engine = st.engine.clone();
    blocking(move || Ok(engine.create_commission(input, confirm)?)).await
}

/// The printable commission form (R10), written to the exports folder.
#[tauri::command(rename_all = "snake_case")]
pub async fn commission_pdf(st: St<'_>, record: String) -> CmdResult<PdfFile> {
    Ok(crate::pdf::export_commission(&st.engine, &hash(&record)?, st.font_bytes(), &st.exports_dir).await?)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn open_file<R: tauri::Runtime>(
    app: tauri::AppHandle<R>,
    st: St<'_>,
    path: String,
) -> CmdResult<()> {
    use tauri_plugin_opener::OpenerExt;
    let file = st.exported_file(&path).ok_or_else(|| {
        CmdError::new("invalid", "只能打开本应用导出的文件", format!("not a file this app exported: {path}"))
    })?;
    app.opener()
        .open_path(file.to_string_lossy(), None::<&str>)
        .map_err(|e| CmdError::new("invalid", "无法打开文件", e.to_string()))
}

#[tauri::command(rename_all = "snake_case")]
pub async fn cosign(st: St<'_>, record: String) -> CmdResult<()> {
    st.engine.cosign(&hash(&record)?)?;
    Ok(())
}

/// A scanned console sign-in QR: which browser asks (issue 13).
#[tauri::command(rename_all = "snake_case")]
pub async fn console_login_info(st: St<'_>, qr: String) -> CmdResult<ConsoleLoginInfo> {
    Ok(st.engine.console_login_info(&qr).await?)
}

/// Approve that console sign-in as this phone's person.
#[tauri::command(rename_all = "snake_case")]
pub async fn console_login_approve(st: St<'_>, qr: String) -> CmdResult<ConsoleLoginInfo> {
    Ok(st.engine.approve_console_login(&qr).await?)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn verify_tag(st: St<'_>, code: String) -> CmdResult<TrailResponse> {
    Ok(st.engine.verify_tag(&code).await?)
}

#[derive(Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct ReceiptForm {
    tag: String,
    tag_read: TagRead,
    commission: String,
    decision: ReceiptDecision,
}

#[tauri::command(rename_all = "snake_case")]
pub async fn create_receipt(st: St<'_>, form: ReceiptForm, confirm: bool) -> CmdResult<Created> {
    let input = ReceiptInput {
        tag: tag(&form.tag)?,
        tag_read: form.tag_read,
        commission: hash(&form.commission)?,
        decision: form.decision,
    };
    let engine = st.engine.clone();
    blocking(move || Ok(engine.create_receipt(input, confirm)?)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn history(st: St<'_>, limit: usize) -> CmdResult<Vec<RecordView>> {
    Ok(st.engine.history(limit.clamp(1, 2000))?)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn record(st: St<'_>, id: String) -> CmdResult<Option<RecordView>> {
    Ok(st.engine.record(&hash(&id)?)?)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn media_preview(st: St<'_>, sha256: String) -> CmdResult<String> {
    let sha = hash(&sha256)?;
    let bytes = st.engine.media_bytes(&sha)?;
    let ty = capture::photo::sniff_media_type(&bytes).unwrap_or("application/octet-stream");
    Ok(data_url(ty, &bytes))
}

#[tauri::command(rename_all = "snake_case")]
pub async fn trail_media(st: St<'_>, sha256: String) -> CmdResult<String> {
    let sha = hash(&sha256)?;
    let bytes = st.engine.fetch_media(&sha).await?;
    let ty = capture::photo::sniff_media_type(&bytes).unwrap_or("application/octet-stream");
    Ok(data_url(ty, &bytes))
}
