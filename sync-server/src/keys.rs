//! The server's identity: its Ed25519 signing key (admin records, time
//! anchors, log checkpoints) and its TLS certificate. Both are made at first
//! start and kept in the data directory with owner-only permissions; the
//! enrollment QR carries the key and the certificate's SHA-256 so devices pin
//! them (R1).

use custody_core::server_keys::SignedHandover;
use custody_core::{Hash, PublicKey, SigningKey};
use std::path::Path;

pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("{path}: not a 32-byte hex Ed25519 seed")]
    Format { path: String },
    #[error("cannot create the TLS certificate: {0}")]
    Cert(String),
}

/// Load the signing key, creating it on first start.
pub fn load_or_create_signing_key(dir: &Path) -> Result<SigningKey, KeyFileError> {
    let path = dir.join("server-signing.key");
    let io = |e| KeyFileError::Io { path: path.display().to_string(), source: e };
    if !path.exists() {
        std::fs::create_dir_all(dir).map_err(io)?;
        let k = SigningKey::generate().map_err(|e| KeyFileError::Cert(e.to_string()))?;
        write_private(&path, hex::encode(k.seed()).as_bytes()).map_err(io)?;
    }
    load_signing_key(dir)
}

/// The server's signing key from `dir`, which must hold one (backups,
/// restore drills: never make a new key there).
pub fn load_signing_key(dir: &Path) -> Result<SigningKey, KeyFileError> {
    let path = dir.join("server-signing.key");
    let io = |e| KeyFileError::Io { path: path.display().to_string(), source: e };
    let text = std::fs::read_to_string(&path).map_err(io)?;
    let seed: [u8; 32] = hex::decode(text.trim())
        .ok()
        .and_then(|v| v.try_into().ok())
        .ok_or_else(|| KeyFileError::Format { path: path.display().to_string() })?;
    SigningKey::from_seed(&seed).map_err(|_| KeyFileError::Format { path: path.display().to_string() })
}

/// A TLS certificate and key in PEM, and the certificate's SHA-256 (DER).
pub struct TlsMaterial {
    pub cert_pem: String,
    pub key_pem: String,
    pub cert_sha256: Hash,
}

fn cert_sha(pem: &str) -> Result<Hash, KeyFileError> {
    let der = rustls::pki_types::CertificateDer::from_pem_slice(pem.as_bytes())
        .map_err(|e| KeyFileError::Cert(format!("certificate PEM: {e}")))?;
    Ok(Hash::of(der.as_ref()))
}

use rustls::pki_types::pem::PemObject as _;

/// A self-signed certificate for the given host names, made once.
pub fn load_or_create_self_signed(dir: &Path, names: &[String]) -> Result<TlsMaterial, KeyFileError> {
    let cert_path = dir.join("tls-cert.pem");
    let key_path = dir.join("tls-key.pem");
    let io = |p: &Path| {
        let p = p.display().to_string();
        move |e| KeyFileError::Io { path: p.clone(), source: e }
    };
    if !cert_path.exists() {
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let ck = rcgen::generate_simple_self_signed(names.to_vec())
            .map_err(|e| KeyFileError::Cert(e.to_string()))?;
        write_private(&key_path, ck.signing_key.serialize_pem().as_bytes()).map_err(io(&key_path))?;
        std::fs::write(&cert_path, ck.cert.pem()).map_err(io(&cert_path))?;
    }
    load_tls_files(&cert_path, &key_path)
}

pub fn load_tls_files(cert: &Path, key: &Path) -> Result<TlsMaterial, KeyFileError> {
    let io = |p: &Path| {
        let p = p.display().to_string();
        move |e| KeyFileError::Io { path: p.clone(), source: e }
    };
    let cert_pem = std::fs::read_to_string(cert).map_err(io(cert))?;
    let key_pem = std::fs::read_to_string(key).map_err(io(key))?;
    let cert_sha256 = cert_sha(&cert_pem)?;
    Ok(TlsMaterial { cert_pem, key_pem, cert_sha256 })
}

/// Where the handovers of rotated keys are kept (`meta`, a JSON list, in
/// order): the server's own record of every key it signed with.
pub const HANDOVERS_META: &str = "server_key_handovers";

/// Every key handover this server made, oldest first.
pub fn handovers(tx: &mut dyn crate::store::Tx) -> crate::store::Result<Vec<SignedHandover>> {
    match tx.meta(HANDOVERS_META)? {
        Some(json) => serde_json::from_str(&json)
            .map_err(|e| crate::store::StoreError::Corrupt(format!("{HANDOVERS_META}: {e}"))),
        None => Ok(vec![]),
    }
}

/// The keys whose signatures this server stands behind: the current one
/// first, then every key it retired (their checkpoints, receipts, anchors
/// and report seals stay valid).
pub fn known_keys(current: &PublicKey, handovers: &[SignedHandover]) -> Vec<PublicKey> {
    let mut keys = vec![*current];
    for h in handovers.iter().rev() {
        for k in [h.handover.new, h.handover.old] {
            if !keys.contains(&k) {
                keys.push(k);
            }
        }
    }
    keys
}

#[derive(Debug, thiserror::Error)]
pub enum RotateError {
    #[error(transparent)]
    Key(#[from] KeyFileError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Rotate the server's signing key (issue 18): a new key is made, the old
/// one signs the handover naming it, the handover is stored (the database
/// and `retired/<fingerprint>.handover.json` beside the keys) *before* the
/// new key replaces the old one's file — so the old private key, which is
/// then gone, never leaves a successor nobody can trust. Every instance
/// must be restarted with the new key file to sign with it; until then
/// they sign with the old key, which everyone still trusts.
pub fn rotate(
    dir: &Path,
    store: &crate::store::Store,
    reason: &str,
    now: i64,
) -> Result<SignedHandover, RotateError> {
    let old = load_signing_key(dir)?;
    let new = SigningKey::generate().map_err(|e| KeyFileError::Cert(e.to_string()))?;
    let h = SignedHandover::sign(&old, new.public(), now, reason);
    let (stored, public) = (h.clone(), new.public());
    store.write(move |tx| {
        let mut list = handovers(tx)?;
        list.push(stored);
        tx.set_meta(HANDOVERS_META, &serde_json::to_string(&list).expect("handovers serialise"))?;
        tx.set_meta("server_key", &public.to_b64())
    })?;
    let retired = dir.join("retired");
    std::fs::create_dir_all(&retired)?;
    let note = retired.join(format!("{}.handover.json", old.public().fingerprint()));
    std::fs::write(&note, serde_json::to_vec_pretty(&h).expect("a handover serialises"))?;
    let path = dir.join("server-signing.key");
    let fresh = dir.join("server-signing.key.new");
    let _ = std::fs::remove_file(&fresh);
    write_private(&fresh, hex::encode(new.seed()).as_bytes())?;
    std::fs::rename(&fresh, &path)?;
    std::fs::File::open(dir)?.sync_all()?;
    Ok(h)
}
