//! Hashes, keys and signatures (ring), with domain separation.
//!
//! Every signature covers `DOMAIN || 0x00 || message`, where the domain names
//! what is being signed (a record, a co-signature, a time anchor, a log
//! checkpoint). A signature made for one purpose can therefore never be
//! replayed as another.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::signature::{self, Ed25519KeyPair, KeyPair as _};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// What a signature is for. The strings are part of the frozen format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Domain {
    /// A device (or the server) signing a record it authored.
    Record,
    /// A second party (e.g. the witness) co-signing a record by its id.
    Cosign,
    /// The server signing a time anchor for a device.
    Anchor,
    /// The server signing a transparency-log checkpoint.
    Checkpoint,
    /// The server signing an enrollment offer (QR) or other server statement.
    ServerStatement,
    /// A device proving possession of its key in a sync request.
    DeviceRequest,
    /// The system vouching for an accepted test report (R13, the report QR).
    ReportSeal,
    /// A retiring server key naming its successor (issue 18, key rotation).
    KeyHandover,
}

impl Domain {
    pub const fn tag(self) -> &'static [u8] {
        match self {
            Domain::Record => b"jzqy/record/v1",
            Domain::Cosign => b"jzqy/cosign/v1",
            Domain::Anchor => b"jzqy/anchor/v1",
            Domain::Checkpoint => b"jzqy/checkpoint/v1",
            Domain::ServerStatement => b"jzqy/server-statement/v1",
            Domain::DeviceRequest => b"jzqy/device-request/v1",
            Domain::ReportSeal => b"jzqy/report-seal/v1",
            Domain::KeyHandover => b"jzqy/key-handover/v1",
        }
    }

    pub fn message(self, body: &[u8]) -> Vec<u8> {
        let tag = self.tag();
        let mut m = Vec::with_capacity(tag.len() + 1 + body.len());
        m.extend_from_slice(tag);
        m.push(0);
        m.extend_from_slice(body);
        m
    }
}

/// A SHA-256 digest. Shown as 64 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(type = "string"))]
pub struct Hash(pub [u8; 32]);

impl Hash {
    pub fn of(bytes: &[u8]) -> Hash {
        let d = ring::digest::digest(&ring::digest::SHA256, bytes);
        let mut out = [0u8; 32];
        out.copy_from_slice(d.as_ref());
        Hash(out)
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

/// Incremental SHA-256 for large media (videos) that must not be loaded whole.
pub struct Hasher(ring::digest::Context);

impl Default for Hasher {
    fn default() -> Self {
        Hasher(ring::digest::Context::new(&ring::digest::SHA256))
    }
}

impl Hasher {
    pub fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes)
    }
    pub fn finish(self) -> Hash {
        let d = self.0.finish();
        let mut out = [0u8; 32];
        out.copy_from_slice(d.as_ref());
        Hash(out)
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq, Clone)]
pub enum CodecError {
    #[error("expected {expected} bytes, got {got}")]
    Length { expected: usize, got: usize },
    #[error("invalid hex: {0}")]
    Hex(String),
    #[error("invalid base64url: {0}")]
    Base64(String),
}

impl FromStr for Hash {
    type Err = CodecError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() != 64 || s.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(CodecError::Hex(format!("expected 64 lowercase hex digits, got {s:?}")));
        }
        let v = hex::decode(s).map_err(|e| CodecError::Hex(e.to_string()))?;
        let mut out = [0u8; 32];
        out.copy_from_slice(&v);
        Ok(Hash(out))
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}
impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash({})", &self.to_hex()[..12])
    }
}

impl Serialize for Hash {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}
impl<'de> Deserialize<'de> for Hash {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

fn b64_fixed<const N: usize>(s: &str) -> Result<[u8; N], CodecError> {
    let v = URL_SAFE_NO_PAD.decode(s).map_err(|e| CodecError::Base64(e.to_string()))?;
    if v.len() != N {
        return Err(CodecError::Length { expected: N, got: v.len() });
    }
    // Refuse non-canonical base64 (trailing bits set) so one key has one spelling.
    if URL_SAFE_NO_PAD.encode(&v) != s {
        return Err(CodecError::Base64("non-canonical encoding".into()));
    }
    let mut out = [0u8; N];
    out.copy_from_slice(&v);
    Ok(out)
}

/// An Ed25519 public key. Shown as base64url without padding (43 characters).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(type = "string"))]
pub struct PublicKey(pub [u8; 32]);

impl PublicKey {
    pub fn to_b64(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.0)
    }

    /// Verify `sig` over `domain || 0 || body`.
    pub fn verify(&self, domain: Domain, body: &[u8], sig: &Signature) -> bool {
        signature::UnparsedPublicKey::new(&signature::ED25519, &self.0)
            .verify(&domain.message(body), &sig.0)
            .is_ok()
    }

    /// Short, human-comparable fingerprint (first 8 bytes of SHA-256, hex).
    pub fn fingerprint(&self) -> String {
        Hash::of(&self.0).to_hex()[..16].to_owned()
    }
}

impl FromStr for PublicKey {
    type Err = CodecError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        b64_fixed::<32>(s).map(PublicKey)
    }
}
impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_b64())
    }
}
impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.fingerprint())
    }
}
impl Serialize for PublicKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_b64())
    }
}
impl<'de> Deserialize<'de> for PublicKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// An Ed25519 signature, base64url without padding (86 characters).
#[derive(Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(type = "string"))]
pub struct Signature(pub [u8; 64]);

impl Signature {
    pub fn to_b64(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.0)
    }
}
impl FromStr for Signature {
    type Err = CodecError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        b64_fixed::<64>(s).map(Signature)
    }
}
impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({}…)", &self.to_b64()[..10])
    }
}
impl Serialize for Signature {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_b64())
    }
}
impl<'de> Deserialize<'de> for Signature {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("key material rejected: {0}")]
    Rejected(String),
    #[error("could not generate a key: system randomness unavailable")]
    Rng,
}

/// A device's (or the server's) Ed25519 signing key.
pub struct SigningKey {
    pair: Ed25519KeyPair,
    seed: [u8; 32],
}

impl SigningKey {
    /// A fresh key from the system's secure random source.
    pub fn generate() -> Result<SigningKey, KeyError> {
        let mut seed = [0u8; 32];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut seed)
            .map_err(|_| KeyError::Rng)?;
        SigningKey::from_seed(&seed)
    }

    /// From the 32-byte RFC 8032 private key ("seed"). Deterministic: used by
    /// golden test vectors and by stores that keep the seed encrypted.
    pub fn from_seed(seed: &[u8; 32]) -> Result<SigningKey, KeyError> {
        let pair =
            Ed25519KeyPair::from_seed_unchecked(seed).map_err(|e| KeyError::Rejected(e.to_string()))?;
        Ok(SigningKey { pair, seed: *seed })
    }

    /// The 32-byte seed, for the caller to keep in a secure store.
    pub fn seed(&self) -> &[u8; 32] {
        &self.seed
    }

    pub fn public(&self) -> PublicKey {
        let mut out = [0u8; 32];
        out.copy_from_slice(self.pair.public_key().as_ref());
        PublicKey(out)
    }

    pub fn sign(&self, domain: Domain, body: &[u8]) -> Signature {
        let sig = self.pair.sign(&domain.message(body));
        let mut out = [0u8; 64];
        out.copy_from_slice(sig.as_ref());
        Signature(out)
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print the secret.
        write!(f, "SigningKey(public {})", self.public().fingerprint())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc8032_test_vector_1() {
        // RFC 8032 7.1 TEST 1: empty message (signed without our domain prefix
        // by calling ring directly) proves the seed handling is standard.
        let seed: [u8; 32] = hex::decode("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
            .unwrap()
            .try_into()
            .unwrap();
        let k = SigningKey::from_seed(&seed).unwrap();
        assert_eq!(
            hex::encode(k.public().0),
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
        );
        let sig = k.pair.sign(b"");
        assert_eq!(
            hex::encode(sig.as_ref()),
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
        );
    }

    #[test]
    fn domains_do_not_cross() {
        let k = SigningKey::generate().unwrap();
        let sig = k.sign(Domain::Record, b"abc");
        assert!(k.public().verify(Domain::Record, b"abc", &sig));
        assert!(!k.public().verify(Domain::Cosign, b"abc", &sig));
        assert!(!k.public().verify(Domain::Record, b"abd", &sig));
    }

    #[test]
    fn encodings_are_canonical() {
        let k = SigningKey::generate().unwrap();
        let s = k.public().to_b64();
        assert_eq!(s.parse::<PublicKey>().unwrap(), k.public());
        assert!("AAAA".parse::<PublicKey>().is_err());
        let h = Hash::of(b"x");
        assert_eq!(h.to_hex().parse::<Hash>().unwrap(), h);
        assert!(h.to_hex().to_uppercase().parse::<Hash>().is_err());
    }
}
