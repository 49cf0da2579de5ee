//! Every command through Tauri's mock runtime (the IPC layer the webview
//! uses), against real parts: an in-process sync server with the demo
//! project, frames from image files (a generated tag, a real face photo), a
//! recorded GPS track. The real app differs only in where frames and fixes
//! come from.

// A story reads top to bottom as the flow it checks; cut into pieces it
// would hide the order that matters.
#![allow(clippy::too_many_lines)]

use capture::frame::{Frame, PixelFormat};
use capture::qr::synth::{Condition, Placement, scene};
use custody_core::fixtures;
use field_app_lib::config::{AppConfig, CameraSource, LocationSource};
use serde_json::{Value, json};
use std::path::Path;
use sync_server::testing::TestServer;
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{INVOKE_KEY, MockRuntime, get_ipc_response, mock_builder, mock_context, noop_assets};
use tauri::webview::InvokeRequest;
use tauri::{App, WebviewWindow};

fn faces() -> std::path::PathBuf {
    capture::face::default_models_dir().join("faces")
}

/// A camera pointed at files: a tag, a face, a scene.
fn frames(dir: &Path, tag_serial: u32) {
    for sub in ["tag", "face", "photo", "qr"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    let payload = fixtures::tag(tag_serial).qr_payload();
    let g = scene(&payload, Placement::centred(640, 480, 260.0), Condition::Clean, 7);
    let f = Frame::new(g.width as u32, g.height as u32, PixelFormat::Luma8, g.data).unwrap();
    let jpg = capture::photo::capture_frame(&f, custody_core::record::MediaPurpose::Tag).unwrap();
    std::fs::write(dir.join("tag/tag.jpg"), &jpg.bytes).unwrap();
    std::fs::copy(faces().join("obama2.jpg"), dir.join("face/probe.jpg")).unwrap();
    std::fs::copy(faces().join("sample1.jpg"), dir.join("photo/scene.jpg")).unwrap();
}

fn track(path: &Path) {
    let at = fixtures::site_point(60.0, 80.0);
    let lines: String = (0..5)
        .map(|i| serde_json::to_string(&fixtures::gnss_fix(at, 3.5, 1000 * i)).unwrap() + "\n")
        .collect();
    std::fs::write(path, lines).unwrap();
}

struct Harness {
    _dir: tempfile::TempDir,
    app: App<MockRuntime>,
    win: WebviewWindow<MockRuntime>,
}

fn harness(server_url: &str) -> Harness {
    let dir = tempfile::tempdir().unwrap();
    frames(&dir.path().join("frames"), 1);
    track(&dir.path().join("track.jsonl"));
    let config = AppConfig {
        data_dir: None,
        secrets_dir: None,
        camera: CameraSource::Files(dir.path().join("frames")),
        location: LocationSource::Track(dir.path().join("track.jsonl")),
        enroll_file: None,
        models_dir: None,
        mock_camera: false,
    };
    let _ = server_url;
    let state =
        field_app_lib::build_state(config, &dir.path().join("data"), &dir.path().join("secrets"), None)
            .unwrap();
    let app = mock_builder()
        .manage(state)
        .invoke_handler(field_app_lib::handlers!())
        .build(mock_context(noop_assets()))
        .unwrap();
    let win = tauri::WebviewWindowBuilder::new(&app, "main", Default::default()).build().unwrap();
    Harness { _dir: dir, app, win }
}

fn request(cmd: &str, body: InvokeBody) -> InvokeRequest {
    InvokeRequest {
        cmd: cmd.into(),
        callback: CallbackFn(0),
        error: CallbackFn(1),
        url: "tauri://localhost".parse().unwrap(),
        body,
        headers: Default::default(),
        invoke_key: INVOKE_KEY.into(),
    }
}

impl Harness {
    /// Invoke a command as the webview would; Ok(json) or Err(CmdError json).
    async fn call(&self, cmd: &str, args: Value) -> Result<Value, Value> {
        self.call_body(cmd, InvokeBody::Json(args)).await
    }

    async fn call_body(&self, cmd: &str, body: InvokeBody) -> Result<Value, Value> {
        let win = self.win.clone();
        let req = request(cmd, body);
        tokio::task::spawn_blocking(move || {
            get_ipc_response(&win, req).map(|b| b.deserialize::<Value>().unwrap())
        })
        .await
        .unwrap()
    }

    async fn ok(&self, cmd: &str, args: Value) -> Value {
        self.call(cmd, args).await.unwrap_or_else(|e| panic!("{cmd}: {e}"))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_command_through_the_ipc_layer() {
    let sdir = tempfile::tempdir().unwrap();
    let server = TestServer::start(sdir.path()).await;
    sync_server::demo::seed_with_faces(&server.admin(), Some(&faces())).unwrap();
    let s = harness(&server.url);
    let w = harness(&server.url);
    let lab = harness(&server.url);

    // Before enrollment.
    let info = s.ok("app_info", json!({})).await;
    assert_eq!(info["camera"]["source"], "files");
    assert_eq!(info["location"]["source"], "track");
    assert_eq!(s.ok("status", json!({})).await["enrolled"], false);
    assert_eq!(s.ok("profile", json!({})).await, Value::Null);
    let e = s.call("sync_now", json!({})).await.unwrap_err();
    assert_eq!(e["code"], "not_enrolled");
    assert!(e["message_zh"].as_str().unwrap().contains("注册"));
    let e = s.call("enroll", json!({"qr": "not a QR"})).await.unwrap_err();
    assert_eq!(e["code"], "invalid");

    // Enrollment (R1).
    let p = s.ok("enroll", json!({"qr": server.offer(sync_server::demo::SAMPLER).to_qr()})).await;
    assert_eq!(p["person"]["name"], "张伟");
    w.ok("enroll", json!({"qr": server.offer(sync_server::demo::WITNESS).to_qr()})).await;
    lab.ok("enroll", json!({"qr": server.offer(sync_server::demo::LAB_RECEIVER).to_qr()})).await;
    assert_eq!(s.ok("status", json!({})).await["enrolled"], true);
    s.ok("sync_now", json!({})).await;

    // The tag from the camera (files), then the manual fallback.
    s.ok("camera_start", json!({"purpose": "tag", "unit_project": "UP-1"})).await;
    let ev = s.ok("camera_pull", json!({})).await;
    assert_eq!(ev["kind"], "tag", "{ev}");
    assert_eq!(ev["tag"]["code"], fixtures::tag(1).to_string());
    assert!(ev["preview"].as_str().unwrap().starts_with("data:image/"));
    let e = s.call("camera_torch", json!({"on": true})).await.unwrap_err();
    assert_eq!(e["code"], "camera");
    let e = s.call("camera_push", json!({})).await.unwrap_err();
    assert_eq!(e["code"], "camera");
    s.ok("camera_stop", json!({})).await;
    let t = s.ok("manual_tag", json!({"text": fixtures::tag(1).printed()})).await;
    assert_eq!(t["read"]["method"], "manual");
    let e = s.call("manual_tag", json!({"text": "0310 26 0001 0000001 9"})).await.unwrap_err();
    assert_eq!(e["code"], "unknown_tag");
    assert!(e["message_zh"].as_str().unwrap().contains("校验位"));
    let t = s.ok("scanner_tag", json!({"text": format!("{}\n", fixtures::tag(1).qr_payload())})).await;
    assert_eq!(t["read"]["method"], "scanner");

    // A frame pushed from the webview: header + RGBA.
    s.ok("camera_start", json!({"purpose": "photo"})).await;
    let mut body = Vec::new();
    body.extend_from_slice(&64u32.to_le_bytes());
    body.extend_from_slice(&48u32.to_le_bytes());
    body.extend(std::iter::repeat_n([90u8, 120, 140, 255], 64 * 48).flatten());
    let ev = s.call_body("camera_push", InvokeBody::Raw(body)).await.unwrap();
    assert_eq!(ev["kind"], "none");
    let bad = s.call_body("camera_push", InvokeBody::Raw(vec![1, 2, 3])).await.unwrap_err();
    assert_eq!(bad["code"], "camera");

    // Process photo from the camera (files), with a watermarked display copy.
    s.ok("camera_start", json!({"purpose": "photo"})).await;
    s.ok("camera_pull", json!({})).await;
    let photo = s.ok("camera_capture", json!({})).await;
    assert_eq!(photo["media"]["purpose"], "process");
    assert!(photo["preview"].as_str().unwrap().starts_with("data:image/jpeg"));
    let prev = s.ok("media_preview", json!({"sha256": photo["media"]["sha256"]})).await;
    assert!(prev.as_str().unwrap().starts_with("data:image/"));

    // Face: status, liveness challenge, capture with the 1:1 check against the
    // reference enrolled with the real-name check.
    s.ok("camera_start", json!({"purpose": "face"})).await;
    let ev = s.ok("camera_pull", json!({})).await;
    assert_eq!(ev["kind"], "face");
    assert_eq!(ev["face"]["found"], true, "{ev}");
    let live = s.ok("liveness_begin", json!({})).await;
    assert!(["blink", "turn_left", "turn_right"].contains(&live["challenge"].as_str().unwrap()));
    for _ in 0..3 {
        s.ok("camera_pull", json!({})).await;
    }
    let face = s.ok("camera_capture", json!({})).await;
    let check = face["face_check"].clone();
    assert_eq!(check["matched"], true, "the same person as the reference: {check}");
    assert_eq!(check["liveness"]["passed"], false, "a still photo does not pass a liveness challenge");
    s.ok("camera_stop", json!({})).await;

    // Location from the recorded track.
    assert_eq!(s.ok("location_info", json!({})).await["source"], "track");
    let fix = s.ok("location_collect", json!({"unit_project": "UP-1"})).await;
    assert_eq!(fix["site"], "inside", "{fix}");

    // Sampling (R6-R7): a failed liveness needs confirmation.
    let form = json!({
        "tag": fixtures::tag(1).to_string(), "tag_read": {"method": "camera", "decoder": "rxing"}, "seal": null,
        "unit_project": "UP-1",
        "specimen": {"kind": "concrete_cube", "part": "3层 柱", "grade": "C30", "batch_no": "B1", "quantity": 1, "unit": "组", "tests": ["抗压强度"], "plan_item": null},
        "face": check, "media": [face["media"], photo["media"]], "fixes": fix["fixes"],
    });
    let e = s.call("create_sampling", json!({"form": form, "confirm": false})).await.unwrap_err();
    assert_eq!(e["code"], "needs_confirmation");
    assert!(e["findings"].as_array().unwrap().iter().any(|f| f["code"] == "liveness_failed"));
    let created = s.ok("create_sampling", json!({"form": form, "confirm": true})).await;
    let sid = created["id"].as_str().unwrap().to_owned();
    let open = s.ok("open_samplings", json!({})).await;
    assert_eq!(open[0]["record"], sid);
    let qr = s.ok("handshake_qr", json!({"record": sid})).await;
    assert!(qr["svg"].as_str().unwrap().contains("<svg"));
    s.ok("sync_now", json!({})).await;

    // Witness: handshake, signature, witnessing (R8).
    let offer = w.ok("receive_handshake", json!({"text": qr["text"]})).await;
    assert_eq!(offer["author_name"], "张伟");
    // A JPEG is refused: signatures are PNG drawings.
    let jpeg = capture::photo::capture_frame(
        &Frame::new(2, 2, PixelFormat::Luma8, vec![0, 255, 255, 0]).unwrap(),
        custody_core::record::MediaPurpose::HandSignature,
    )
    .unwrap();
    let e = w.call_body("store_signature", InvokeBody::Raw(jpeg.bytes)).await.unwrap_err();
    assert_eq!(e["code"], "media");
    let png = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("icons/32x32.png")).unwrap();
    let sig = w.call_body("store_signature", InvokeBody::Raw(png)).await.unwrap();
    w.ok("camera_start", json!({"purpose": "photo"})).await;
    w.ok("camera_pull", json!({})).await;
    let wphoto = w.ok("camera_capture", json!({})).await;
    w.ok("camera_start", json!({"purpose": "face"})).await;
    w.ok("camera_pull", json!({})).await;
    let wface = w.ok("camera_capture", json!({})).await;
    let wfix = w.ok("location_collect", json!({"unit_project": "UP-1"})).await;
    let wform = json!({
        "sampling": sid, "tag": fixtures::tag(1).to_string(), "tag_read": {"method": "manual", "decoder": null},
        "face": wface["face_check"], "hand_signature": sig["sha256"], "remarks": "",
        "media": [wface["media"], wphoto["media"], sig], "fixes": wfix["fixes"],
    });
    // The witness's reference is another person (biden.jpg): a face mismatch to confirm.
    let wid = w.ok("create_witnessing", json!({"form": wform, "confirm": true})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    w.ok("sync_now", json!({})).await;
    s.ok("sync_now", json!({})).await;

    // Commission (R10), its PDF, the witness's co-signature.
    let c = s
        .ok("create_commission", json!({"form": {"form_no": "WT-T-1", "lab": sync_server::demo::LAB_ORG, "witness": sync_server::demo::WITNESS, "items": [[sid, wid]]}, "confirm": false}))
        .await;
    let cid = c["id"].as_str().unwrap().to_owned();
    let pdf = s.ok("commission_pdf", json!({"record": cid})).await;
    let bytes = std::fs::read(pdf["path"].as_str().unwrap()).unwrap();
    assert!(bytes.starts_with(b"%PDF"));
    assert!(bytes.len() < 400_000, "the Chinese font is subset, not embedded whole: {} bytes", bytes.len());
    let e = s.call("open_file", json!({"path": "/nonexistent/file.pdf"})).await;
    assert!(e.is_err(), "opening a missing file is an error, not a silent success");
    let e = s.call("open_file", json!({"path": "/etc/passwd"})).await.unwrap_err();
    assert_eq!(e["code"], "invalid", "the webview cannot open files the app did not export");
    s.ok("sync_now", json!({})).await;
    w.ok("sync_now", json!({})).await;
    w.ok("cosign", json!({"record": cid})).await;
    w.ok("sync_now", json!({})).await;

    // The lab (R11).
    let trail = lab.ok("verify_tag", json!({"code": fixtures::tag(1).qr_payload()})).await;
    assert_eq!(trail["stage"], "commissioned");
    let process =
        trail["records"][0]["media"].as_array().unwrap().iter().find(|m| m["purpose"] == "process").unwrap()
            ["sha256"]
            .clone();
    let img = lab.ok("trail_media", json!({"sha256": process})).await;
    assert!(img.as_str().unwrap().starts_with("data:image/"));
    let face_sha = trail["records"][0]["media"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["purpose"] == "face")
        .unwrap()["sha256"]
        .clone();
    assert_eq!(
        lab.call("trail_media", json!({"sha256": face_sha})).await.unwrap_err()["code"],
        "server",
        "faces never reach the lab"
    );
    let r = lab
        .ok("create_receipt", json!({"form": {"tag": fixtures::tag(1).to_string(), "tag_read": {"method": "scanner", "decoder": null}, "commission": cid, "decision": {"decision": "accepted"}}, "confirm": true}))
        .await;
    lab.ok("sync_now", json!({})).await;
    let rec = lab.ok("record", json!({"id": r["id"]})).await;
    assert_eq!(rec["state"], "accepted");
    let h = s.ok("history", json!({"limit": 50})).await;
    assert!(h.as_array().unwrap().len() >= 3);
    assert_eq!(s.call("record", json!({"id": "zz"})).await.unwrap_err()["code"], "invalid");
    let _ = (&s.app, &w.app, &lab.app);
    server.stop().await;
}
