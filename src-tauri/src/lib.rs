//! # field-app
//!
//! The Tauri v2 shell of the field app: windows, platform plugins and the
//! commands the screens call. All logic lives below it — rules in
//! `custody-core`, storage and sync in `field-engine`, sensing in `capture` —
//! so the commands stay a thin layer and the same code runs on phones
//! (mobile entry point below) and on lab workstations.

pub mod camera;
pub mod commands;
pub mod config;
#[cfg(test)]
mod contract;
pub mod error;
pub mod location;
pub mod pdf;
pub mod state;

use config::AppConfig;
use field_engine::Engine;
use field_engine::clock::{DeviceClock, SystemClock};
use field_engine::vault::{FileSecretStore, Vault};
use state::AppState;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tauri::Manager;

/// Every command, for the real app and for the mock-runtime tests.
#[macro_export]
macro_rules! handlers {
    () => {
        tauri::generate_handler![
            $crate::commands::app_info,
            $crate::commands::status,
            $crate::commands::profile,
            $crate::commands::enroll,
            $crate::commands::sync_now,
            $crate::commands::camera_start,
            $crate::commands::camera_push,
            $crate::commands::camera_pull,
            $crate::commands::camera_torch,
            $crate::commands::liveness_begin,
            $crate::commands::camera_capture,
            $crate::commands::camera_stop,
            $crate::commands::manual_tag,
            $crate::commands::scanner_tag,
            $crate::commands::location_info,
            $crate::commands::location_collect,
            $crate::commands::plan_items,
            $crate::commands::create_sampling,
            $crate::commands::open_samplings,
            $crate::commands::handshake_qr,
            $crate::commands::receive_handshake,
            $crate::commands::store_signature,
            $crate::commands::create_witnessing,
            $crate::commands::create_commission,
            $crate::commands::commission_pdf,
            $crate::commands::open_file,
            $crate::commands::cosign,
            $crate::commands::verify_tag,
            $crate::commands::console_login_info,
            $crate::commands::console_login_approve,
            $crate::commands::create_receipt,
            $crate::commands::history,
            $crate::commands::record,
            $crate::commands::media_preview,
            $crate::commands::trail_media,
        ]
    };
}

/// Where bundled or installed resources live: next to the app (bundle), else
/// the repository's `.models` (development, tests).
fn resource(app_resources: Option<PathBuf>, rel: &str) -> Option<PathBuf> {
    app_resources
        .map(|d| d.join(rel))
        .filter(|p| p.exists())
        .or_else(|| Some(capture::face::default_models_dir().join(rel)).filter(|p| p.exists()))
}

/// Open the engine and everything the commands need.
pub fn build_state(
    config: AppConfig,
    data_dir: &Path,
    secrets_dir: &Path,
    resources: Option<PathBuf>,
) -> Result<AppState, String> {
    let clock: Arc<dyn DeviceClock> = Arc::new(SystemClock::default());
    let vault = Vault::new(Box::new(FileSecretStore::new(secrets_dir).map_err(|e| e.to_string())?));
    let engine = Arc::new(Engine::open(data_dir, &vault, clock.clone()).map_err(|e| e.to_string())?);
    let models_dir = config
        .models_dir
        .clone()
        .or_else(|| resource(resources.clone(), "models").filter(|p| p.is_dir()))
        .unwrap_or_else(capture::face::default_models_dir);
    let font = resource(resources, capture::photo::FONT_FILE)
        .or_else(|| Some(models_dir.join(capture::photo::FONT_FILE)).filter(|p| p.exists()));
    Ok(AppState::new(engine, clock, config, models_dir, font, data_dir.join("exports")))
}

/// Keeps background sync running for as long as the app holds it.
struct BackgroundSync(#[allow(dead_code)] tokio::sync::watch::Sender<bool>);

#[cfg_attr(mobile, tauri::mobile_entry_point)]
// `tauri::generate_context!` expands to code that exits the process on a
// broken bundle configuration; that is Tauri's to decide.
#[allow(clippy::exit)]
pub fn run() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .try_init();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let args: Vec<String> = std::env::args().collect();
    let config = match AppConfig::from_args(&args, |k| std::env::var(k).ok()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("配置错误 / configuration: {e}");
            // Nothing is open yet (no store, no window) that an exit would skip.
            #[allow(clippy::exit)]
            std::process::exit(2);
        }
    };
    let builder = tauri::Builder::default().plugin(tauri_plugin_opener::init());
    #[cfg(mobile)]
    let builder =
        builder.plugin(tauri_plugin_geolocation::init()).plugin(tauri_plugin_barcode_scanner::init());
    builder
        .setup(move |app| {
            let data_dir = match &config.data_dir {
                Some(d) => d.clone(),
                None => app.path().app_data_dir()?,
            };
            let secrets_dir = match &config.secrets_dir {
                Some(d) => d.clone(),
                // Outside the data folder, so a copy of the data carries no key.
                None => app.path().app_config_dir()?.join("device-secrets"),
            };
            let resources = app.path().resource_dir().ok();
            let state = build_state(config.clone(), &data_dir, &secrets_dir, resources)
                .map_err(|e| -> Box<dyn std::error::Error> { e.into() })?;
            let engine = state.engine.clone();
            app.manage(state);
            // Sync in the background for as long as the app runs.
            let (_stop_tx, stop_rx) = tokio::sync::watch::channel(false);
            let bg = engine.clone();
            tauri::async_runtime::spawn(async move {
                bg.run_background(std::time::Duration::from_secs(60), stop_rx).await;
            });
            // The sender lives as long as the app: background sync stops with it.
            app.manage(BackgroundSync(_stop_tx));
            if let Some(f) = &config.enroll_file
                && engine.enrollment().ok().flatten().is_none()
            {
                let qr = std::fs::read_to_string(f)
                    .map_err(|e| -> Box<dyn std::error::Error> { format!("{}: {e}", f.display()).into() })?;
                let engine = engine.clone();
                tauri::async_runtime::spawn(async move {
                    match engine.enroll(qr.trim(), "field app", std::env::consts::OS).await {
                        Ok(p) => tracing::info!("enrolled as {}", p.person.name),
                        Err(e) => tracing::warn!("enrollment from file failed: {e}"),
                    }
                });
            }
            #[cfg(target_os = "linux")]
            if config.mock_camera {
                // WebKitGTK's fake camera ("Mock video device"), for tests.
                if let Some(w) = app.get_webview_window("main") {
                    let _ = w.with_webview(|wv| {
                        use webkit2gtk::{SettingsExt, WebViewExt};
                        if let Some(s) = wv.inner().settings() {
                            s.set_enable_media_stream(true);
                            s.set_enable_mock_capture_devices(true);
                        }
                    });
                }
            }
            Ok(())
        })
        .invoke_handler(handlers!())
        .run(tauri::generate_context!())
        .expect("error while running the field app");
}
