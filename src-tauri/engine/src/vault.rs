//! Device secrets: the Ed25519 signing key and the key that encrypts face
//! photos and templates at rest (PIPL: faces are sensitive personal
//! information).
//!
//! Secrets live in a [`SecretStore`]. Phones implement it with the platform's
//! secure store (Android Keystore, iOS Keychain) from the app shell; on
//! desktop, [`FileSecretStore`] keeps them in an owner-only directory
//! *outside* the app's data directory, each file sealed (AES-256-GCM) under a
//! key-encryption key kept in a second owner-only file — so a copy of the data
//! directory (a backup, a support bundle) carries no usable key, and a
//! stolen secrets file is useless without the KEK file. A desktop with no
//! secure element cannot do better against its own administrator; the README
//! says so.

use custody_core::SigningKey;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("secret store: {0}")]
    Io(#[from] std::io::Error),
    #[error("secret {0} is damaged or was sealed under another key")]
    Unseal(String),
    #[error("system randomness unavailable")]
    Rng,
}

pub trait SecretStore: Send + Sync {
    fn get(&self, name: &str) -> Result<Option<Vec<u8>>, VaultError>;
    fn put(&self, name: &str, value: &[u8]) -> Result<(), VaultError>;
}

fn random<const N: usize>() -> Result<[u8; N], VaultError> {
    let mut b = [0u8; N];
    SystemRandom::new().fill(&mut b).map_err(|_| VaultError::Rng)?;
    Ok(b)
}

/// Seal `plain` under a 32-byte key: `nonce || ciphertext+tag`.
pub fn seal(key: &[u8; 32], plain: &[u8], aad: &[u8]) -> Result<Vec<u8>, VaultError> {
    let k = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key).expect("32-byte key"));
    let nonce_bytes = random::<NONCE_LEN>()?;
    let mut buf = plain.to_vec();
    k.seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce_bytes), Aad::from(aad), &mut buf)
        .map_err(|_| VaultError::Unseal("seal".into()))?;
    let mut out = nonce_bytes.to_vec();
    out.extend_from_slice(&buf);
    Ok(out)
}

pub fn open(key: &[u8; 32], sealed: &[u8], aad: &[u8], what: &str) -> Result<Vec<u8>, VaultError> {
    if sealed.len() < NONCE_LEN + 16 {
        return Err(VaultError::Unseal(what.into()));
    }
    let k = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key).expect("32-byte key"));
    let nonce = Nonce::try_assume_unique_for_key(&sealed[..NONCE_LEN])
        .map_err(|_| VaultError::Unseal(what.into()))?;
    let mut buf = sealed[NONCE_LEN..].to_vec();
    let plain =
        k.open_in_place(nonce, Aad::from(aad), &mut buf).map_err(|_| VaultError::Unseal(what.into()))?;
    Ok(plain.to_vec())
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let tmp = path.with_extension("tmp");
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}

/// Desktop secret store (see the module docs for what it protects against).
pub struct FileSecretStore {
    dir: PathBuf,
}

impl FileSecretStore {
    pub fn new(dir: &Path) -> Result<FileSecretStore, VaultError> {
        std::fs::create_dir_all(dir)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        }
        Ok(FileSecretStore { dir: dir.to_owned() })
    }

    fn kek(&self) -> Result<[u8; 32], VaultError> {
        let path = self.dir.join("kek");
        match std::fs::read(&path) {
            Ok(b) if b.len() == 32 => Ok(b.try_into().expect("32 bytes")),
            Ok(_) => Err(VaultError::Unseal("kek".into())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let k = random::<32>()?;
                write_private(&path, &k)?;
                Ok(k)
            }
            Err(e) => Err(e.into()),
        }
    }
}

impl SecretStore for FileSecretStore {
    fn get(&self, name: &str) -> Result<Option<Vec<u8>>, VaultError> {
        match std::fs::read(self.dir.join(format!("{name}.sealed"))) {
            Ok(b) => Ok(Some(open(&self.kek()?, &b, name.as_bytes(), name)?)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
    fn put(&self, name: &str, value: &[u8]) -> Result<(), VaultError> {
        let sealed = seal(&self.kek()?, value, name.as_bytes())?;
        write_private(&self.dir.join(format!("{name}.sealed")), &sealed)?;
        Ok(())
    }
}

/// The device's keys, made on first use.
pub struct Vault {
    store: Box<dyn SecretStore>,
}

impl Vault {
    pub fn new(store: Box<dyn SecretStore>) -> Vault {
        Vault { store }
    }

    fn get_or_make(&self, name: &str) -> Result<[u8; 32], VaultError> {
        if let Some(v) = self.store.get(name)? {
            return v.try_into().map_err(|_| VaultError::Unseal(name.into()));
        }
        let k = random::<32>()?;
        self.store.put(name, &k)?;
        Ok(k)
    }

    /// The device's Ed25519 signing key (one per install).
    pub fn signing_key(&self) -> Result<SigningKey, VaultError> {
        let seed = self.get_or_make("device-signing-key")?;
        SigningKey::from_seed(&seed).map_err(|_| VaultError::Unseal("device-signing-key".into()))
    }

    /// The key that seals face photos and templates on this device.
    pub fn face_key(&self) -> Result<[u8; 32], VaultError> {
        self.get_or_make("face-data-key")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_survive_reopen_and_refuse_tampering() {
        let dir = tempfile::tempdir().unwrap();
        let v = Vault::new(Box::new(FileSecretStore::new(dir.path()).unwrap()));
        let k1 = v.signing_key().unwrap().public();
        let v2 = Vault::new(Box::new(FileSecretStore::new(dir.path()).unwrap()));
        assert_eq!(v2.signing_key().unwrap().public(), k1);
        // The sealed file alone is not the key.
        let sealed = std::fs::read(dir.path().join("device-signing-key.sealed")).unwrap();
        assert!(!sealed.windows(32).any(|w| w == v2.signing_key().unwrap().seed()));
        // A flipped bit is detected, not silently accepted.
        let mut bad = sealed.clone();
        bad[20] ^= 1;
        std::fs::write(dir.path().join("device-signing-key.sealed"), bad).unwrap();
        assert!(matches!(v2.signing_key(), Err(VaultError::Unseal(_))));
    }

    #[test]
    fn seal_binds_its_context() {
        let k = [7u8; 32];
        let s = seal(&k, b"face", b"photo-1").unwrap();
        assert_eq!(open(&k, &s, b"photo-1", "x").unwrap(), b"face");
        assert!(open(&k, &s, b"photo-2", "x").is_err());
    }
}
