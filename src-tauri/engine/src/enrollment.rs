//! Enrollment (R1): the server's one-time QR binds this device's key to a
//! person, and pins the server's signing key and TLS certificate.

use crate::client::Client;
use crate::engine::Engine;
use crate::error::{EngineError, Result};
use custody_core::model::Id;
use custody_core::protocol::{DeviceProfile, EnrollRequest, EnrollResponse, EnrollmentOffer};
use custody_core::tag::TagBatch;
use custody_core::{Hash, routes};
use serde::{Deserialize, Serialize};

/// What is on the phone about the enrolled person and server.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Enrollment {
    pub server_url: String,
    pub server_key: custody_core::PublicKey,
    pub tls_pin: Option<Hash>,
    pub profile: DeviceProfile,
}

impl Engine {
    pub fn enrollment(&self) -> Result<Option<Enrollment>> {
        Ok(self.store.enrollment()?.map(|e| (*e).clone()))
    }

    /// The tag batches registered for the person's projects, which a scanned
    /// or typed tag is checked against (R15-R16); none before enrollment.
    pub fn tag_batches(&self) -> Vec<TagBatch> {
        self.store
            .enrollment()
            .ok()
            .flatten()
            .map(|e| e.profile.projects.iter().flat_map(|p| p.tag_batches.iter().cloned()).collect())
            .unwrap_or_default()
    }

    /// The project of one of the person's unit projects.
    pub fn project_of(&self, unit_project: &str) -> Result<Id> {
        self.enrolled()?
            .profile
            .projects
            .iter()
            .find(|p| p.unit_projects.iter().any(|u| u.id.as_str() == unit_project))
            .map(|p| p.project.id.clone())
            .ok_or_else(|| {
                EngineError::invalid("请选择您参与项目的单位工程", "choose a unit project of your projects")
            })
    }

    /// Scan the server's one-time enrollment QR (R1): binds this device's key
    /// to the person, pins the server's key and certificate.
    pub async fn enroll(&self, offer_qr: &str, label: &str, platform: &str) -> Result<DeviceProfile> {
        let offer = EnrollmentOffer::from_qr(offer_qr).map_err(|_| {
            EngineError::invalid("这不是本系统的注册二维码", "not an enrollment QR of this system")
        })?;
        if self.store.enrollment()?.is_some() {
            return Err(EngineError::AlreadyEnrolled);
        }
        if offer.server_url.starts_with("https://") && offer.tls_cert_sha256.is_none() {
            return Err(EngineError::invalid(
                "注册二维码缺少服务器证书指纹，无法安全连接",
                "the QR lacks the server certificate's fingerprint",
            ));
        }
        let client = Client::new(&offer.server_url, offer.tls_cert_sha256);
        let sent = self.clock.mono_ms();
        let req = EnrollRequest {
            code: offer.code.clone(),
            device: self.key.public(),
            label: label.into(),
            platform: platform.into(),
            boot_id: self.clock.boot_id(),
            mono_ms: sent,
            proof: self.key.sign(custody_core::crypto::Domain::DeviceRequest, offer.code.as_bytes()),
        };
        let resp: EnrollResponse = client.post_open(routes::ENROLL, &req).await?;
        let trusted = [offer.server_key];
        if !resp.anchor.verify(&trusted)
            || resp.checkpoint.verify(&trusted).is_err()
            || !resp.profile.server_keys.contains(&offer.server_key)
        {
            return Err(EngineError::invalid(
                "服务器的签名与二维码中的公钥不符：可能连接到了冒充的服务器",
                "the server's signatures do not match the key in the QR: possibly an impostor",
            ));
        }
        let received = self.clock.mono_ms().max(sent);
        let enrollment = Enrollment {
            server_url: offer.server_url,
            server_key: offer.server_key,
            tls_pin: offer.tls_cert_sha256,
            profile: resp.profile,
        };
        self.store.save_enrollment(
            &enrollment,
            &resp.anchor,
            &self.clock.boot_id(),
            received,
            &resp.checkpoint,
        )?;
        Ok(enrollment.profile)
    }
}
