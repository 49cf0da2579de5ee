//! Envelope encryption of one face photo, pure (no files, no store):
//! ChaCha20-Poly1305 from ring, a fresh random 256-bit data key per photo,
//! the data key wrapped by the key-encryption key (KEK).
//!
//! Both seals bind the photo's SHA-256 — its content address, the hash the
//! device signed — as associated data: a sealed object moved under another
//! photo's name, or a wrapped key moved to another photo's row, does not
//! open. Opening also re-hashes the plaintext against the name, so what
//! comes out is exactly what the device signed.

use custody_core::Hash;
use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};

/// The AEAD every face photo and data key is sealed with.
pub const ALG: &str = "chacha20-poly1305";
/// A sealed object is its photo's bytes plus the 16-byte tag.
pub const TAG_LEN: usize = 16;
const KEY_LEN: usize = 32;
/// Domain separation of the two seals and of the KEK's id.
const PHOTO_AD: &[u8] = b"jzqy face photo v1\0";
const DATA_KEY_AD: &[u8] = b"jzqy face data key v1\0";
const KEK_ID: &[u8] = b"jzqy face kek id v1\0";

/// Why a sealed photo or a wrapped key does not open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DoesNotOpen;

fn random<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    SystemRandom::new().fill(&mut b).expect("the system's random source works");
    b
}

fn aead(key: &[u8; KEY_LEN]) -> LessSafeKey {
    LessSafeKey::new(UnboundKey::new(&CHACHA20_POLY1305, key).expect("a 32-byte ChaCha20 key"))
}

fn ad(domain: &[u8], sha: &Hash) -> Vec<u8> {
    [domain, sha.as_bytes()].concat()
}

/// The key-encryption key: 32 random bytes, kept in a file outside the
/// database and the media store.
#[derive(Clone)]
pub struct Kek {
    key: [u8; KEY_LEN],
    id: String,
}

impl std::fmt::Debug for Kek {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Kek({})", self.id)
    }
}

impl Kek {
    pub fn generate() -> Kek {
        Kek::from_bytes(random())
    }

    pub fn from_bytes(key: [u8; KEY_LEN]) -> Kek {
        // A one-way name for the key: rows say which KEK wrapped them, and
        // a retired KEK is recognised, without the key being anywhere but its file.
        let id = Hash::of(&[KEK_ID, &key].concat()).to_hex()[..16].to_owned();
        Kek { key, id }
    }

    /// The file's text: the key in hex (like the server's signing seed).
    pub fn to_file_text(&self) -> String {
        hex::encode(self.key)
    }

    /// A key file's text, if it is 32 bytes of hex.
    pub fn parse(text: &str) -> Option<Kek> {
        let key: [u8; KEY_LEN] = hex::decode(text.trim()).ok()?.try_into().ok()?;
        Some(Kek::from_bytes(key))
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// Wrap a data key for the photo `sha`: nonce ‖ ciphertext ‖ tag.
    pub fn wrap(&self, sha: &Hash, data_key: &[u8; KEY_LEN]) -> Vec<u8> {
        let nonce: [u8; NONCE_LEN] = random();
        let mut out = data_key.to_vec();
        aead(&self.key)
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(ad(DATA_KEY_AD, sha)),
                &mut out,
            )
            .expect("a 32-byte data key seals");
        [nonce.as_slice(), &out].concat()
    }

    /// Unwrap the data key of the photo `sha`.
    pub fn unwrap(&self, sha: &Hash, wrapped: &[u8]) -> Result<[u8; KEY_LEN], DoesNotOpen> {
        if wrapped.len() != NONCE_LEN + KEY_LEN + TAG_LEN {
            return Err(DoesNotOpen);
        }
        let (nonce, sealed) = wrapped.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| DoesNotOpen)?;
        let mut data = sealed.to_vec();
        let key = aead(&self.key)
            .open_in_place(nonce, Aad::from(ad(DATA_KEY_AD, sha)), &mut data)
            .map_err(|_| DoesNotOpen)?;
        key.try_into().map_err(|_| DoesNotOpen)
    }
}

/// A photo's data key and nonce: everything its sealed bytes follow from.
#[derive(Clone)]
pub struct DataKey {
    pub key: [u8; KEY_LEN],
    pub nonce: [u8; NONCE_LEN],
}

impl DataKey {
    /// A fresh key and nonce for one photo (each key seals one photo, once;
    /// sealing it again gives the same bytes).
    pub fn generate() -> DataKey {
        DataKey { key: random(), nonce: random() }
    }

    /// The photo `sha` sealed: ciphertext ‖ tag.
    pub fn seal(&self, sha: &Hash, photo: &[u8]) -> Vec<u8> {
        let mut out = photo.to_vec();
        aead(&self.key)
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(self.nonce),
                Aad::from(ad(PHOTO_AD, sha)),
                &mut out,
            )
            .expect("a photo within ChaCha20's 256 GiB seals");
        out
    }

    /// Open the sealed photo `sha`; only bytes that hash to `sha` come out.
    pub fn open(&self, sha: &Hash, sealed: &[u8]) -> Result<Vec<u8>, DoesNotOpen> {
        let mut data = sealed.to_vec();
        let n = aead(&self.key)
            .open_in_place(Nonce::assume_unique_for_key(self.nonce), Aad::from(ad(PHOTO_AD, sha)), &mut data)
            .map_err(|_| DoesNotOpen)?
            .len();
        data.truncate(n);
        if Hash::of(&data) != *sha {
            return Err(DoesNotOpen);
        }
        Ok(data)
    }
}

/// The nonce stored in a row, as the AEAD takes it.
pub fn nonce_of(bytes: &[u8]) -> Result<[u8; NONCE_LEN], DoesNotOpen> {
    bytes.try_into().map_err(|_| DoesNotOpen)
}

#[cfg(test)]
mod tests {
    use super::*;

    const JPEG: &[u8] = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00 a face";

    #[test]
    fn a_sealed_photo_opens_to_the_signed_bytes_and_nothing_else() {
        let sha = Hash::of(JPEG);
        let k = DataKey::generate();
        let sealed = k.seal(&sha, JPEG);
        assert_eq!(sealed.len(), JPEG.len() + TAG_LEN);
        assert!(!sealed.windows(4).any(|w| w == &JPEG[..4]), "no JPEG magic in the sealed bytes");
        assert_eq!(k.open(&sha, &sealed).unwrap(), JPEG);
        assert_eq!(k.seal(&sha, JPEG), sealed, "the same key and nonce give the same bytes");
        // One flipped bit anywhere: refused.
        for i in [0, sealed.len() / 2, sealed.len() - 1] {
            let mut bad = sealed.clone();
            bad[i] ^= 1;
            assert_eq!(k.open(&sha, &bad), Err(DoesNotOpen), "byte {i}");
        }
        // Another photo's sealed bytes under this name (a swap): refused,
        // with its own key as with this one.
        let other = b"\xff\xd8\xff\xe0 another face".to_vec();
        let other_sha = Hash::of(&other);
        let k2 = DataKey::generate();
        let swapped = k2.seal(&other_sha, &other);
        assert_eq!(k.open(&sha, &swapped), Err(DoesNotOpen));
        assert_eq!(k2.open(&sha, &swapped), Err(DoesNotOpen), "the name is bound in");
        // Sealed under a name that is not its hash: never comes out.
        let liar = k.seal(&other_sha, JPEG);
        assert_eq!(k.open(&other_sha, &liar), Err(DoesNotOpen));
    }

    #[test]
    fn a_wrapped_data_key_opens_with_its_kek_for_its_photo_only() {
        let (a, b) = (Hash::of(b"a"), Hash::of(b"b"));
        let kek = Kek::generate();
        let dk = DataKey::generate();
        let w = kek.wrap(&a, &dk.key);
        assert_eq!(w.len(), NONCE_LEN + KEY_LEN + TAG_LEN);
        assert_eq!(kek.unwrap(&a, &w).unwrap(), dk.key);
        assert_ne!(kek.wrap(&a, &dk.key), w, "a fresh nonce each time");
        assert_eq!(kek.unwrap(&b, &w), Err(DoesNotOpen), "moved to another photo's row");
        assert_eq!(Kek::generate().unwrap(&a, &w), Err(DoesNotOpen), "another KEK");
        assert_eq!(kek.unwrap(&a, &w[1..]), Err(DoesNotOpen));
        // The file round-trips; the id names the key without holding it.
        let again = Kek::parse(&format!("{}\n", kek.to_file_text())).unwrap();
        assert_eq!(again.id(), kek.id());
        assert_eq!(kek.id().len(), 16);
        assert!(!kek.to_file_text().contains(kek.id()));
        assert!(Kek::parse("not hex").is_none() && Kek::parse("00ff").is_none());
    }
}
