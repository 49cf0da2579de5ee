//! Talking to the sync server: TLS pinned to the certificate named in the
//! enrollment QR (not the system's CAs — a site network's proxy must not be
//! able to read or forge anything), and every request signed by the device.

use custody_core::protocol::{ApiError, H_DEVICE, H_NONCE, H_SIG, H_TS, RequestAuth};
use custody_core::{Hash, SigningKey};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// No network, a timeout, a refused connection: retry later.
    #[error("network: {0}")]
    Network(String),
    /// The server answered with an error.
    #[error("{} ({})", .1.message_en, .1.code)]
    Api(u16, ApiError),
    #[error("unexpected answer from the server: {0}")]
    Protocol(String),
}

impl ClientError {
    pub fn message_zh(&self) -> String {
        match self {
            ClientError::Network(_) => "网络不可用，记录已保存在本机，联网后自动上传".into(),
            ClientError::Api(_, e) => e.message_zh.clone(),
            ClientError::Protocol(e) => format!("服务器应答异常：{e}"),
        }
    }
    pub fn is_network(&self) -> bool {
        matches!(self, ClientError::Network(_))
    }
}

/// Accepts exactly one certificate: the one whose SHA-256 the QR carried.
#[derive(Debug)]
struct PinnedCert {
    pin: Hash,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl ServerCertVerifier for PinnedCert {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if Hash::of(end_entity.as_ref()) == self.pin {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General("server certificate does not match the pinned one".into()))
        }
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

pub fn http_client(pin: Option<Hash>) -> reqwest::Client {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut b =
        reqwest::Client::builder().connect_timeout(Duration::from_secs(10)).timeout(Duration::from_secs(120));
    if let Some(pin) = pin {
        let config = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .expect("ring supports the default protocol versions")
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(PinnedCert { pin, provider }))
            .with_no_client_auth();
        b = b.use_preconfigured_tls(config);
    } else {
        // Plain HTTP (loopback) or no pin: never trust anything but a pin
        // for https; an unpinned https URL fails closed.
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("ring supports the default protocol versions")
            .with_root_certificates(rustls::RootCertStore::empty())
            .with_no_client_auth();
        b = b.use_preconfigured_tls(config);
    }
    b.build().expect("HTTP client builds")
}

fn nonce() -> String {
    let mut b = [0u8; 12];
    let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b);
    hex::encode(b)
}

/// A signed-request client for one server.
#[derive(Clone)]
pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
}

impl Client {
    pub fn new(base: &str, pin: Option<Hash>) -> Client {
        Client { http: http_client(pin), base: base.trim_end_matches('/').to_owned() }
    }

    async fn read<T: serde::de::DeserializeOwned>(r: reqwest::Response) -> Result<T, ClientError> {
        let status = r.status();
        let bytes = r.bytes().await.map_err(|e| ClientError::Network(e.to_string()))?;
        if status.is_success() {
            serde_json::from_slice(&bytes).map_err(|e| ClientError::Protocol(e.to_string()))
        } else {
            match serde_json::from_slice::<ApiError>(&bytes) {
                Ok(e) => Err(ClientError::Api(status.as_u16(), e)),
                Err(_) => Err(ClientError::Protocol(format!("HTTP {status}"))),
            }
        }
    }

    /// An unauthenticated JSON POST (enrollment).
    pub async fn post_open<B: serde::Serialize, T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, ClientError> {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .json(body)
            .send()
            .await
            .map_err(|e| ClientError::Network(e.to_string()))?;
        Client::read(r).await
    }

    /// A device-signed GET of raw bytes (media).
    pub async fn get_bytes(&self, key: &SigningKey, ts: i64, path: &str) -> Result<Vec<u8>, ClientError> {
        let n = nonce();
        let auth = RequestAuth {
            method: "GET".into(),
            path: path.into(),
            body_sha256: Hash::of(&[]),
            ts,
            nonce: n.clone(),
        };
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .header(H_DEVICE, key.public().to_b64())
            .header(H_TS, ts.to_string())
            .header(H_NONCE, n)
            .header(H_SIG, auth.sign(key).to_b64())
            .send()
            .await
            .map_err(|e| ClientError::Network(e.to_string()))?;
        let status = r.status();
        let bytes = r.bytes().await.map_err(|e| ClientError::Network(e.to_string()))?;
        if status.is_success() {
            return Ok(bytes.to_vec());
        }
        match serde_json::from_slice::<ApiError>(&bytes) {
            Ok(e) => Err(ClientError::Api(status.as_u16(), e)),
            Err(_) => Err(ClientError::Protocol(format!("HTTP {status}"))),
        }
    }

    /// A device-signed request; `ts` is the device's estimate of server time.
    pub async fn signed<T: serde::de::DeserializeOwned>(
        &self,
        key: &SigningKey,
        ts: i64,
        method: reqwest::Method,
        path: &str,
        body: Vec<u8>,
        headers: &[(&str, String)],
    ) -> Result<T, ClientError> {
        let n = nonce();
        let auth = RequestAuth {
            method: method.as_str().into(),
            path: path.into(),
            body_sha256: Hash::of(&body),
            ts,
            nonce: n.clone(),
        };
        let mut rb = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header(H_DEVICE, key.public().to_b64())
            .header(H_TS, ts.to_string())
            .header(H_NONCE, n)
            .header(H_SIG, auth.sign(key).to_b64())
            .header("content-type", "application/json");
        for (k, v) in headers {
            rb = rb.header(*k, v);
        }
        let r = rb.body(body).send().await.map_err(|e| ClientError::Network(e.to_string()))?;
        Client::read(r).await
    }
}
