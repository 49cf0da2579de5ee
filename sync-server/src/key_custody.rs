//! Private keys never sit in a backup in the clear (issue 18; R14, R21).
//!
//! A backup's `keys/` holds what anyone may hold — the server's public key
//! (`server-signing.pub`, all a verifier needs) and the TLS certificate —
//! and each private key (`server-signing.key`, `tls-key.pem`) only
//! **sealed** with the operator's passphrase (`[backup]
//! key_passphrase_file`): `<name>.sealed`, Argon2id (64 MiB, 3 passes) over
//! the passphrase and a fresh salt gives a 256-bit key, ChaCha20-Poly1305
//! (ring) encrypts the file under a fresh nonce with the file's name as
//! associated data (a sealed file renamed does not open). Without a
//! passphrase the private keys are left out, and the operator keeps
//! `keys/` elsewhere (escrow): `admin restore --keys-from`.
//!
//! The face photos' key-encryption key (`crate::faces`, wherever `[storage]
//! face_key_file` keeps it) is a private key like these: sealed as
//! `face-photos.key.sealed` (and `next-face-photos.key.sealed` while a
//! rotation is under way), or left out with the others. A backup's media
//! hold face photos only sealed, so the backup opens no face without it.
//!
//! A restore writes the keys back (unsealed with the passphrase, or copied
//! from escrow; the face KEK to the configured file) and refuses a signing
//! key that is not the one the backup names. The restore drill needs no private key (verifying needs the
//! public one) but opens the sealed key when it has the passphrase: a
//! passphrase that no longer opens it is a drill failure, found before the
//! day it is needed.

use crate::faces::KeyFiles;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use custody_core::PublicKey;
use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The server's public key in a backup.
pub const PUBLIC_KEY_FILE: &str = "server-signing.pub";
const SEALED: &str = ".sealed";
/// Argon2id cost: OWASP's 64 MiB, 3 passes, 1 lane (a few hundred ms).
const M_KIB: u32 = 64 * 1024;
const T: u32 = 3;
const P: u32 = 1;

/// Whether a key file is private (sealed or left out of backups).
pub fn is_private(name: &str) -> bool {
    name.ends_with(".key") || name.ends_with("key.pem")
}

/// A private key file sealed with a passphrase.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SealedFile {
    pub format: u32,
    pub kdf: String,
    pub m_kib: u32,
    pub t: u32,
    pub p: u32,
    pub salt: String,
    pub aead: String,
    pub nonce: String,
    pub ciphertext: String,
}

#[derive(Debug, thiserror::Error)]
pub enum CustodyError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{name}: the passphrase does not open it (or the file was altered)")]
    WrongPassphrase { name: String },
    #[error("{name}: not a sealed key file ({why})")]
    Format { name: String, why: String },
    #[error(
        "the backup holds no private key in the clear: give the passphrase file that sealed it (--passphrase-file, or backup.key_passphrase_file) or the escrowed keys directory (--keys-from)"
    )]
    NoKeySource,
    #[error("the restored signing key is {found}, but the backup names {expected}: wrong escrow directory")]
    WrongKey { found: String, expected: String },
    #[error("the passphrase file {0} is empty")]
    EmptyPassphrase(PathBuf),
}

impl CustodyError {
    /// The same in Chinese, for the operator's terminal.
    pub fn message_zh(&self) -> String {
        match self {
            CustodyError::Io(e) => format!("读写密钥文件失败：{e}"),
            CustodyError::WrongPassphrase { name } => format!("{name}：口令无法解开（或文件被改动）"),
            CustodyError::Format { name, why } => format!("{name}：不是密封的密钥文件（{why}）"),
            CustodyError::NoKeySource => "备份中没有明文私钥：请提供密封时所用的口令文件（--passphrase-file 或 backup.key_passphrase_file），或另行保管的密钥目录（--keys-from）".into(),
            CustodyError::WrongKey { found, expected } => {
                format!("恢复出的签名密钥是 {found}，而备份所属服务器的密钥是 {expected}：密钥目录不对")
            }
            CustodyError::EmptyPassphrase(p) => format!("口令文件 {} 是空的", p.display()),
        }
    }
}

/// Read a passphrase file (its first line; trailing newline dropped).
pub fn read_passphrase(path: &Path) -> Result<String, CustodyError> {
    let text = std::fs::read_to_string(path)?;
    let pass = text.lines().next().unwrap_or("").to_owned();
    if pass.is_empty() {
        return Err(CustodyError::EmptyPassphrase(path.to_owned()));
    }
    Ok(pass)
}

fn kdf(passphrase: &str, salt: &[u8], m_kib: u32, t: u32, p: u32) -> Result<[u8; 32], String> {
    let params = argon2::Params::new(m_kib, t, p, Some(32)).map_err(|e| e.to_string())?;
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut key = [0u8; 32];
    argon.hash_password_into(passphrase.as_bytes(), salt, &mut key).map_err(|e| e.to_string())?;
    Ok(key)
}

/// Seal `secret` (the file `name`) with `passphrase`.
pub fn seal(name: &str, secret: &[u8], passphrase: &str) -> Result<SealedFile, CustodyError> {
    let rng = SystemRandom::new();
    let (mut salt, mut nonce) = ([0u8; 16], [0u8; 12]);
    let fail = |why: &str| CustodyError::Format { name: name.into(), why: why.into() };
    rng.fill(&mut salt).map_err(|_| fail("no randomness"))?;
    rng.fill(&mut nonce).map_err(|_| fail("no randomness"))?;
    let key = kdf(passphrase, &salt, M_KIB, T, P).map_err(|e| fail(&e))?;
    let key = LessSafeKey::new(UnboundKey::new(&CHACHA20_POLY1305, &key).map_err(|_| fail("key"))?);
    let mut data = secret.to_vec();
    key.seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(name.as_bytes()), &mut data)
        .map_err(|_| fail("seal"))?;
    Ok(SealedFile {
        format: 1,
        kdf: "argon2id".into(),
        m_kib: M_KIB,
        t: T,
        p: P,
        salt: B64.encode(salt),
        aead: "chacha20-poly1305".into(),
        nonce: B64.encode(nonce),
        ciphertext: B64.encode(&data),
    })
}

/// Open a sealed file `name` with `passphrase`.
pub fn unseal(name: &str, s: &SealedFile, passphrase: &str) -> Result<Vec<u8>, CustodyError> {
    let fail = |why: &str| CustodyError::Format { name: name.into(), why: why.into() };
    if s.format != 1 || s.kdf != "argon2id" || s.aead != "chacha20-poly1305" {
        return Err(fail("unknown format"));
    }
    // Bounds on the cost a file may ask for (a forged file must not make a
    // restore allocate gigabytes).
    if s.m_kib > 1024 * 1024 || s.t > 64 || s.p == 0 || s.p > 16 {
        return Err(fail("cost out of bounds"));
    }
    let salt = B64.decode(&s.salt).map_err(|_| fail("salt"))?;
    let nonce: [u8; 12] =
        B64.decode(&s.nonce).ok().and_then(|n| n.try_into().ok()).ok_or_else(|| fail("nonce"))?;
    let mut data = B64.decode(&s.ciphertext).map_err(|_| fail("ciphertext"))?;
    let key = kdf(passphrase, &salt, s.m_kib, s.t, s.p).map_err(|e| fail(&e))?;
    let key = LessSafeKey::new(UnboundKey::new(&CHACHA20_POLY1305, &key).map_err(|_| fail("key"))?);
    let plain = key
        .open_in_place(Nonce::assume_unique_for_key(nonce), Aad::from(name.as_bytes()), &mut data)
        .map_err(|_| CustodyError::WrongPassphrase { name: name.into() })?;
    Ok(plain.to_vec())
}

/// What a backup's `keys/` holds of the private keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Custody {
    /// Sealed with the operator's passphrase.
    Sealed,
    /// Left out: the operator keeps them elsewhere.
    LeftOut,
}

impl Custody {
    pub fn name(self) -> &'static str {
        match self {
            Custody::Sealed => "sealed",
            Custody::LeftOut => "left_out",
        }
    }
}

/// Write a backup's `keys/` from the live keys directory and the face
/// photos' key files. The public key written is the one the live key file
/// holds, so a backup made with another server's keys fails its
/// verification by name.
pub fn write_backup_keys(
    live: &Path,
    faces: Option<&KeyFiles>,
    to: &Path,
    passphrase: Option<&str>,
) -> Result<Custody, CustodyError> {
    crate::maintenance::create_private_dir(to)?;
    let public = crate::keys::load_signing_key(live)
        .map_err(|e| CustodyError::Format { name: "server-signing.key".into(), why: e.to_string() })?
        .public();
    std::fs::write(to.join(PUBLIC_KEY_FILE), format!("{public}\n"))?;
    let face_files: Vec<(&PathBuf, &str)> = faces
        .map(|f| vec![(&f.current, crate::faces::KEY_FILE), (&f.next, crate::faces::NEXT_KEY_FILE)])
        .unwrap_or_default();
    let mut private = Vec::new();
    for e in std::fs::read_dir(live)? {
        let e = e?;
        let path = e.path();
        if !e.file_type()?.is_file() || face_files.iter().any(|(p, _)| **p == path) {
            continue;
        }
        let name = e.file_name().to_string_lossy().into_owned();
        if is_private(&name) {
            private.push((name, path));
        } else {
            std::fs::copy(&path, to.join(&name))?;
        }
    }
    // The face KEK under its own name wherever it is kept.
    private.extend(
        face_files.iter().filter(|(p, _)| p.is_file()).map(|(p, n)| (n.to_string(), p.to_path_buf())),
    );
    if let Some(pass) = passphrase {
        for (name, path) in private {
            let sealed = seal(&name, &std::fs::read(path)?, pass)?;
            let json = serde_json::to_vec_pretty(&sealed).expect("a sealed file serialises");
            std::fs::write(to.join(format!("{name}{SEALED}")), json)?;
        }
    }
    Ok(if passphrase.is_some() { Custody::Sealed } else { Custody::LeftOut })
}

/// The face photos' KEKs sealed in a backup's `keys/`, opened in memory
/// (the restore drill opens the backup's face photos with them).
pub fn unseal_face_keys(keys: &Path, passphrase: &str) -> Result<Vec<crate::faces::Kek>, CustodyError> {
    let mut out = Vec::new();
    for (name, s) in sealed_files(keys)? {
        if name == crate::faces::KEY_FILE || name == crate::faces::NEXT_KEY_FILE {
            let plain = unseal(&name, &s, passphrase)?;
            let kek = crate::faces::Kek::parse(&String::from_utf8_lossy(&plain))
                .ok_or_else(|| CustodyError::Format { name: name.clone(), why: "not a face key".into() })?;
            out.push(kek);
        }
    }
    Ok(out)
}

/// Where a private key file of a backup goes in a restored data directory:
/// the face KEK to its configured file, the rest into `keys/`.
fn restored_path(name: &str, keys: &Path, faces: &KeyFiles) -> PathBuf {
    match name {
        crate::faces::KEY_FILE => faces.current.clone(),
        crate::faces::NEXT_KEY_FILE => faces.next.clone(),
        _ => keys.join(name),
    }
}

/// The public key a backup's `keys/` names (older backups: from their key file).
pub fn backup_public_key(keys: &Path) -> Option<PublicKey> {
    std::fs::read_to_string(keys.join(PUBLIC_KEY_FILE))
        .ok()
        .and_then(|t| t.trim().parse().ok())
        .or_else(|| crate::keys::load_signing_key(keys).ok().map(|k| k.public()))
}

/// The sealed files of a backup's `keys/`, by the name they seal.
fn sealed_files(keys: &Path) -> Result<Vec<(String, SealedFile)>, CustodyError> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(keys)? {
        let e = e?;
        let file = e.file_name().to_string_lossy().into_owned();
        if let Some(name) = file.strip_suffix(SEALED) {
            let s: SealedFile = serde_json::from_slice(&std::fs::read(e.path())?)
                .map_err(|err| CustodyError::Format { name: file.clone(), why: err.to_string() })?;
            out.push((name.to_owned(), s));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// Whether the backup holds sealed private keys.
pub fn has_sealed(keys: &Path) -> bool {
    sealed_files(keys).is_ok_and(|f| !f.is_empty())
}

/// Open every sealed file of a backup in memory and check the signing key
/// is the one the backup names (the restore drill's key check).
pub fn check_sealed(keys: &Path, passphrase: &str) -> Result<(), CustodyError> {
    for (name, s) in sealed_files(keys)? {
        let plain = unseal(&name, &s, passphrase)?;
        if name == "server-signing.key" {
            signing_key_matches(&plain, keys)?;
        }
    }
    Ok(())
}

fn signing_key_matches(seed_hex: &[u8], keys: &Path) -> Result<(), CustodyError> {
    let bad = |why: &str| CustodyError::Format { name: "server-signing.key".into(), why: why.into() };
    let seed: [u8; 32] = hex::decode(String::from_utf8_lossy(seed_hex).trim())
        .ok()
        .and_then(|v| v.try_into().ok())
        .ok_or_else(|| bad("not a hex seed"))?;
    let found = custody_core::SigningKey::from_seed(&seed).map_err(|_| bad("not a seed"))?.public();
    match backup_public_key(keys) {
        Some(expected) if expected != found => {
            Err(CustodyError::WrongKey { found: found.to_string(), expected: expected.to_string() })
        }
        _ => Ok(()),
    }
}

/// Where a restore takes the private keys from.
#[derive(Debug, Clone)]
pub enum KeySource {
    /// Unseal the backup's sealed keys with this passphrase.
    Passphrase(String),
    /// Copy them from the operator's escrowed keys directory.
    Escrow(PathBuf),
    /// Only the public files (the restore drill).
    PublicOnly,
    /// Whatever the backup holds in the clear (one made before keys were
    /// sealed); none there is an error naming the two sources above.
    InTheClear,
}

/// Write a backup's keys into a restored data directory's `keys/` (the
/// face KEK to `face_key`, never over an existing file).
pub fn restore_keys(
    backup_keys: &Path,
    to: &Path,
    face_key: &Path,
    source: &KeySource,
) -> Result<(), CustodyError> {
    crate::maintenance::create_private_dir(to)?;
    let faces = KeyFiles::at(face_key);
    if let Some(dir) = face_key.parent().filter(|d| !d.exists()) {
        crate::maintenance::create_private_dir(dir)?;
    }
    let mut clear_private = false;
    for e in std::fs::read_dir(backup_keys)? {
        let e = e?;
        let name = e.file_name().to_string_lossy().into_owned();
        if !e.file_type()?.is_file() || name.ends_with(SEALED) {
            continue;
        }
        // A backup made before keys were sealed holds them in the clear.
        clear_private |= is_private(&name);
        if !is_private(&name) || !matches!(source, KeySource::PublicOnly) {
            std::fs::copy(e.path(), to.join(&name))?;
        }
    }
    match source {
        KeySource::PublicOnly => return Ok(()),
        _ if clear_private => {}
        KeySource::InTheClear => return Err(CustodyError::NoKeySource),
        KeySource::Passphrase(pass) => {
            let files = sealed_files(backup_keys)?;
            if files.is_empty() {
                return Err(CustodyError::NoKeySource);
            }
            for (name, s) in files {
                let plain = unseal(&name, &s, pass)?;
                crate::keys::write_private(&restored_path(&name, to, &faces), &plain)?;
            }
        }
        KeySource::Escrow(dir) => {
            for e in std::fs::read_dir(dir)? {
                let e = e?;
                let name = e.file_name().to_string_lossy().into_owned();
                if e.file_type()?.is_file() && is_private(&name) {
                    crate::keys::write_private(&restored_path(&name, to, &faces), &std::fs::read(e.path())?)?;
                }
            }
        }
    }
    let seed = std::fs::read(to.join("server-signing.key")).map_err(|_| CustodyError::NoKeySource)?;
    signing_key_matches(&seed, backup_keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_key_opens_with_its_passphrase_only_and_under_its_own_name() {
        let s = seal("server-signing.key", b"00112233", "correct horse battery staple").unwrap();
        assert_eq!(unseal("server-signing.key", &s, "correct horse battery staple").unwrap(), b"00112233");
        assert!(matches!(
            unseal("server-signing.key", &s, "wrong").unwrap_err(),
            CustodyError::WrongPassphrase { .. }
        ));
        // Renamed, it does not open: the name is bound in.
        assert!(unseal("tls-key.pem", &s, "correct horse battery staple").is_err());
        // Two seals of the same secret share nothing (fresh salt and nonce).
        let again = seal("server-signing.key", b"00112233", "correct horse battery staple").unwrap();
        assert_ne!((s.salt.clone(), s.ciphertext.clone()), (again.salt, again.ciphertext));
        // A forged cost is refused before any work.
        let greedy = SealedFile { m_kib: u32::MAX, ..s };
        assert!(matches!(
            unseal("server-signing.key", &greedy, "x").unwrap_err(),
            CustodyError::Format { .. }
        ));
    }
}
