//! Request authentication as the server reads it: the device key, time,
//! nonce and signature headers, then the signature over the request. Never
//! panics; a signature made by one key over one request verifies for none
//! other.
#![no_main]
use custody_core::protocol::{RequestAuth, request_time_in_range};
use custody_core::{Hash, PublicKey, Signature, SigningKey};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.splitn(6, '\n');
    let (key, ts, nonce, sig, method, path) =
        (parts.next(), parts.next(), parts.next(), parts.next(), parts.next(), parts.next());
    let key: Option<PublicKey> = key.and_then(|k| k.parse().ok());
    let ts: Option<i64> = ts.and_then(|t| t.parse().ok()).filter(|t| request_time_in_range(*t));
    let sig: Option<Signature> = sig.and_then(|s| s.parse().ok());
    let auth = RequestAuth {
        method: method.unwrap_or("GET").into(),
        path: path.unwrap_or("/").into(),
        body_sha256: Hash::of(data),
        ts: ts.unwrap_or(0),
        nonce: nonce.unwrap_or("").into(),
    };
    if let (Some(key), Some(sig)) = (key, sig) {
        let _ = auth.verify(&key, &sig);
    }
    // A real signature verifies for its own request and key only.
    let signer = SigningKey::from_seed(&[7; 32]).expect("seed");
    let good = auth.sign(&signer);
    assert!(auth.verify(&signer.public(), &good));
    let mut other = auth.clone();
    other.nonce.push('x');
    assert!(!other.verify(&signer.public(), &good));
});
