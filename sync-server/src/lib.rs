//! # sync-server
//!
//! The authority of the witnessed-sampling system: field devices sync to it,
//! labs verify specimens with it, admins run it. It trusts nothing a device
//! says without checking it with `custody-core`'s rules, and keeps everything
//! (R14).
//!
//! * [`store`]: storage behind one interface (embedded SQLite by default).
//! * [`ingest`]: the pipeline every record goes through.
//! * [`facts`]: the store as the core's fact source (verification contexts, access).
//! * [`logtree`]: the transparency log over the store.
//! * [`blobs`]: content-addressed, resumable, write-once media.
//! * [`faces`]: face photos encrypted at rest, every read logged (PIPL).
//! * [`api`], [`auth`], [`error`]: the HTTP surface.
//! * [`console`]: the web console for everyone not on site (issue 13).
//! * [`admin`], [`demo`], [`maintenance`]: the admin CLI's operations.
//! * [`export`]: the lifetime archive, a BagIt bag `custody-verify` checks (R14).

pub mod admin;
pub mod api;
pub mod auth;
pub mod backup;
pub mod blobs;
pub mod config;
pub mod console;
pub mod demo;
pub mod driver;
pub mod error;
pub mod export;
pub mod face_recheck;
pub mod faces;
pub mod facts;
pub mod ingest;
pub mod key_custody;
pub mod keys;
pub mod logtree;
pub mod maintenance;
pub mod migrate;
pub mod openapi;
pub mod oversight;
pub mod plans;
pub mod registry;
pub mod report_pdf;
pub mod reports;
pub mod status;
pub mod store;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod trail;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, patch, post};
use blobs::Blobs;
use config::Config;
use custody_core::{Hash, SigningKey, routes};
use metrics_exporter_prometheus::PrometheusHandle;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use store::Store;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

/// The server's clock: the authority's time (anchors, first-seen bounds,
/// request freshness). Injectable so tests can let hours pass.
pub trait Clock: Send + Sync {
    fn now_ms(&self) -> i64;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        admin::now_ms()
    }
}

/// Everything a handler may need. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub clock: Arc<dyn Clock>,
    pub store: Store,
    pub blobs: Blobs,
    /// The face photos' key-encryption key and everything done with it.
    pub faces: Arc<faces::FaceVault>,
    pub key: Arc<SigningKey>,
    /// Every key this server signed with: `key`'s public half first, then
    /// the keys it rotated away from (issue 18), whose signatures stay valid.
    pub server_keys: Arc<Vec<custody_core::PublicKey>>,
    /// The handovers that retired them, each signed by the key it retired.
    pub handovers: Arc<Vec<custody_core::server_keys::SignedHandover>>,
    pub config: Arc<Config>,
    pub tls_cert_sha256: Option<Hash>,
    pub metrics: Option<PrometheusHandle>,
    pub anchors: Arc<ingest::AnchorCache>,
    /// The console's per-address sign-in limits.
    pub console: Arc<console::Limiter>,
    /// The address actually listened on (known once serving: a port 0 bind
    /// gets its number then), for the URLs the server prints and puts in QRs.
    pub bound: Arc<OnceLock<std::net::SocketAddr>>,
    /// The report font (`[reports]`), read when a report PDF is first
    /// rendered and kept once it loads (a missing font is asked again, so
    /// installing it needs no restart).
    pub report_font: Arc<OnceLock<report_pdf::ReportFont>>,
    /// The server's own face re-check (`[faces]`, issue 19).
    pub face_recheck: Arc<face_recheck::FaceRechecker>,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error(transparent)]
    Keys(#[from] keys::KeyFileError),
    #[error("media storage: {0}")]
    Media(#[from] blobs::BlobError),
    #[error("face photos: {0} / {zh}", zh = .0.message_zh())]
    Faces(#[from] faces::FaceError),
}

impl AppState {
    pub fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    /// Open the store, media and keys named by the configuration (creating
    /// them on first start).
    pub fn open(config: Config) -> Result<AppState, StartError> {
        let store = if config.is_postgres() {
            let replica = Some(config.storage.read_replica.as_str()).filter(|r| !r.is_empty());
            Store::open_postgres(&config.storage.database, replica, config.storage.database_ca.as_deref())?
        } else {
            Store::open_sqlite(&config.database_path())?
        };
        let blobs = Blobs::from_config(&config)?;
        let key = keys::load_or_create_signing_key(&config.keys_dir())?;
        let handovers = store.write(|tx| {
            if tx.meta("schema")?.is_none() {
                tx.set_meta("schema", "custody-server/1")?;
            }
            tx.set_meta("server_key", &key.public().to_b64())?;
            keys::handovers(tx)
        })?;
        let server_keys = keys::known_keys(&key.public(), &handovers);
        let faces = faces::FaceVault::open(&config.face_key_file(), &store)?;
        let face_recheck = Arc::new(face_recheck::FaceRechecker::new(&config));
        Ok(AppState {
            clock: Arc::new(SystemClock),
            store,
            blobs,
            faces: Arc::new(faces),
            key: Arc::new(key),
            server_keys: Arc::new(server_keys),
            handovers: Arc::new(handovers),
            config: Arc::new(config),
            tls_cert_sha256: None,
            metrics: metrics_handle(),
            anchors: Arc::new(ingest::AnchorCache::default()),
            console: Arc::new(console::Limiter::default()),
            bound: Arc::default(),
            report_font: Arc::default(),
            face_recheck,
        })
    }

    /// The media store as readers see it: a sealed face photo opened.
    pub fn media(&self) -> faces::Media {
        faces::Media { blobs: self.blobs.clone(), faces: self.faces.clone() }
    }

    /// The report font (R13), loaded on first use.
    pub fn report_font(&self) -> Result<report_pdf::ReportFont, report_pdf::PdfError> {
        if let Some(f) = self.report_font.get() {
            return Ok(f.clone());
        }
        let r = &self.config.reports;
        let font = report_pdf::ReportFont::load(&r.font_file, r.font_index)?;
        Ok(self.report_font.get_or_init(|| font).clone())
    }

    /// The URL devices should use (enrollment QRs).
    pub fn public_url(&self, bound: Option<std::net::SocketAddr>) -> String {
        if !self.config.server.public_url.is_empty() {
            return self.config.server.public_url.clone();
        }
        let scheme = if self.config.tls_enabled() { "https" } else { "http" };
        let addr = bound
            .or_else(|| self.bound.get().copied())
            .map(|a| a.to_string())
            .unwrap_or_else(|| self.config.server.bind.clone());
        format!("{scheme}://{addr}")
    }
}

/// One process-wide Prometheus recorder (tests start many servers in one process).
fn metrics_handle() -> Option<PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok().map(|_| handle)
        })
        .clone()
}

async fn track_metrics(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().to_string();
    let resp = next.run(req).await;
    let status = resp.status().as_u16().to_string();
    metrics::counter!("http_requests_total", "route" => route.clone(), "method" => method.clone(), "status" => status).increment(1);
    metrics::histogram!("http_request_duration_seconds", "route" => route, "method" => method)
        .record(start.elapsed().as_secs_f64());
    resp
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    use axum::response::IntoResponse;
    tracing::error!("a request handler panicked; the server keeps running");
    error::AppError::internal("handler panicked").into_response()
}

/// The whole HTTP application.
pub fn router(state: AppState) -> Router {
    let limits = state.config.limits.clone();
    let timeout = Duration::from_secs(limits.request_timeout_secs);
    let media_timeout = Duration::from_secs(limits.media_timeout_secs);
    let signed = |limit: usize| middleware::from_fn_with_state((state.clone(), limit), auth::device_auth);

    let device_api = Router::new()
        .route(routes::PROFILE, get(api::profile))
        .route(routes::TIME, post(api::time))
        .route(routes::RECORDS, post(api::upload))
        .route(routes::COSIGNATURES, post(api::cosign))
        .route(routes::FEED, get(api::feed))
        .route(routes::LOG_CHECKPOINT, get(api::checkpoint))
        .route(routes::LOG_CONSISTENCY, get(api::consistency))
        .route(routes::LOG_RECEIPT, get(api::receipt))
        .route(routes::MEDIA, get(api::media_status))
        .route(routes::MEDIA_CONTENT, get(api::media_content))
        .route(routes::LAB_TAG, get(api::lab_trail))
        .route(routes::LAB_REPORT_SEAL, get(api::lab_report_seal))
        .route(routes::PROJECT_PLANS, get(api::project_plans))
        .route(routes::LAB_REPORT_PDF, get(api::lab_report_pdf))
        .route(routes::VIOLATIONS, get(api::violations))
        .merge(console::device_routes())
        .layer(signed(limits.upload_body_bytes))
        .layer(TimeoutLayer::with_status_code(axum::http::StatusCode::REQUEST_TIMEOUT, timeout));
    let media_api = Router::new()
        .route(routes::MEDIA, patch(api::media_upload))
        .layer(signed(limits.media_chunk_bytes))
        .layer(TimeoutLayer::with_status_code(axum::http::StatusCode::REQUEST_TIMEOUT, media_timeout));
    let open_api = Router::new()
        .route(routes::HEALTHZ, get(api::healthz))
        .route(routes::READYZ, get(api::readyz))
        .route(routes::METRICS, get(api::metrics_text))
        .route(routes::OPENAPI, get(openapi::serve))
        .route(routes::ENROLL, post(api::enroll))
        .route(routes::PUBLIC_TAG, get(api::public_tag))
        .route(routes::PUBLIC_RECORD, get(api::public_record))
        .route(routes::PUBLIC_REPORT, get(api::public_report))
        .route(routes::PUBLIC_REPORT_PDF, get(api::public_report_pdf))
        .route(routes::ADMIN_TAG, get(api::admin_trail))
        .route(routes::ADMIN_VIOLATIONS, get(api::admin_violations))
        .layer(DefaultBodyLimit::max(64 * 1024))
        .layer(TimeoutLayer::with_status_code(axum::http::StatusCode::REQUEST_TIMEOUT, timeout));

    let console = console::router(&state)
        .layer(DefaultBodyLimit::max(64 * 1024))
        .layer(TimeoutLayer::with_status_code(axum::http::StatusCode::REQUEST_TIMEOUT, timeout));

    let routes = Router::new()
        .merge(device_api)
        .merge(media_api)
        .merge(open_api)
        .merge(console)
        // The device routes buffer bodies themselves, up to their own limits.
        .layer(DefaultBodyLimit::max(limits.media_chunk_bytes.max(limits.upload_body_bytes) + 4096));
    with_common_layers(routes).with_state(state)
}

/// The layers every route runs under: metrics, panic containment, tracing
/// with request ids, a JSON 404, and every error answered in the one JSON
/// shape (`error::json_errors`). Public so tests can put a route of their
/// own under exactly the same stack.
pub fn with_common_layers<S: Clone + Send + Sync + 'static>(routes: Router<S>) -> Router<S> {
    routes
        .layer(middleware::from_fn(track_metrics))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
            let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
            tracing::info_span!("request", method = %req.method(), uri = %req.uri(), request_id = %id)
        }))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(middleware::map_response(error::json_errors))
        .fallback(|| async {
            error::AppError::not_found("no_such_endpoint", "没有这个接口", "no such endpoint")
        })
}

/// Serve until `shutdown` resolves, on an already-bound listener (port 0 in tests).
pub async fn serve_on(
    listener: std::net::TcpListener,
    state: AppState,
    tls: Option<keys::TlsMaterial>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    if let Ok(addr) = listener.local_addr() {
        let _ = state.bound.set(addr);
    }
    // The client's address reaches handlers (the console's sign-in limits
    // and audit log).
    // Said at every start: a server without face models accepts the
    // phones' face results unchecked, and an operator must know it.
    match state.face_recheck.unavailable() {
        None => tracing::info!(faces = %state.face_recheck.describe(), "face re-check"),
        Some(_) => tracing::warn!(faces = %state.face_recheck.describe(), "face re-check"),
    }
    oversight::spawn(state.clone());
    status::spawn(state.clone());
    faces::sweep::spawn(state.clone());
    let app = router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    let handle = axum_server::Handle::new();
    let h2 = handle.clone();
    tokio::spawn(async move {
        shutdown.await;
        tracing::info!("shutting down: finishing requests in flight");
        h2.graceful_shutdown(Some(Duration::from_secs(20)));
    });
    listener.set_nonblocking(true)?;
    match tls {
        Some(t) => {
            let _ = rustls::crypto::ring::default_provider().install_default();
            let config = axum_server::tls_rustls::RustlsConfig::from_pem(
                t.cert_pem.into_bytes(),
                t.key_pem.into_bytes(),
            )
            .await?;
            axum_server::from_tcp_rustls(listener, config)?.handle(handle).serve(app).await
        }
        None => axum_server::from_tcp(listener)?.handle(handle).serve(app).await,
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
