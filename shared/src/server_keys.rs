//! The server's signing keys over time (R14, issue 18): a key is rotated
//! by a *handover* — the retiring key signs the name of its successor —
//! so whoever trusts the old key (a phone since its enrollment, a reader
//! holding the published key, an archive's verifier) can come to trust the
//! new one without trusting whoever delivers it, and everything the old
//! key signed (checkpoints, receipts, anchors, report seals) keeps
//! verifying. The retiring private key is destroyed: nothing new is ever
//! signed with it.

use crate::canonical;
use crate::crypto::{Domain, PublicKey, Signature, SigningKey};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct KeyHandover {
    pub old: PublicKey,
    pub new: PublicKey,
    /// From when the new key signs (server time, ms).
    pub effective_ms: i64,
    /// Why, in the operator's words (routine, suspected compromise …).
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SignedHandover {
    pub handover: KeyHandover,
    /// By `handover.old`.
    pub sig: Signature,
}

impl SignedHandover {
    /// Sign `new` as the successor of `old`.
    pub fn sign(old: &SigningKey, new: PublicKey, effective_ms: i64, reason: &str) -> SignedHandover {
        let handover = KeyHandover { old: old.public(), new, effective_ms, reason: reason.to_owned() };
        let bytes = canonical::to_canonical(&handover).expect("a handover is canonical-safe");
        SignedHandover { sig: old.sign(Domain::KeyHandover, &bytes), handover }
    }

    /// Signed by the key it retires, naming another.
    pub fn verify(&self) -> bool {
        let h = &self.handover;
        h.old != h.new
            && canonical::to_canonical(h)
                .is_ok_and(|bytes| h.old.verify(Domain::KeyHandover, &bytes, &self.sig))
    }
}

/// The keys to trust: `roots` (keys trusted already) and every key a
/// trusted key handed over to, transitively. A handover from a key not
/// trusted, or not signed by its old key, adds nothing — whoever delivers
/// the list cannot add a key of their own.
pub fn trusted(roots: &[PublicKey], handovers: &[SignedHandover]) -> Vec<PublicKey> {
    let mut keys: Vec<PublicKey> = Vec::new();
    for r in roots {
        if !keys.contains(r) {
            keys.push(*r);
        }
    }
    loop {
        let before = keys.len();
        for h in handovers {
            if keys.contains(&h.handover.old) && !keys.contains(&h.handover.new) && h.verify() {
                keys.push(h.handover.new);
            }
        }
        if keys.len() == before {
            return keys;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_seed(&[seed; 32]).unwrap()
    }

    #[test]
    fn r14_trust_follows_handovers_from_a_trusted_key_only() {
        let (a, b, c, x) = (key(1), key(2), key(3), key(9));
        let ab = SignedHandover::sign(&a, b.public(), 10, "routine");
        let bc = SignedHandover::sign(&b, c.public(), 20, "suspected compromise");
        assert!(ab.verify() && bc.verify());
        // In any order, transitively.
        assert_eq!(
            trusted(&[a.public()], &[bc.clone(), ab.clone()]),
            vec![a.public(), b.public(), c.public()]
        );
        // Trusting the middle key does not bring back the old one.
        assert_eq!(trusted(&[b.public()], &[ab.clone(), bc.clone()]), vec![b.public(), c.public()]);
        // A handover by an untrusted key, or forged, adds nothing.
        let xc = SignedHandover::sign(&x, c.public(), 5, "mine");
        assert_eq!(trusted(&[a.public()], &[xc]), vec![a.public()]);
        let mut forged = ab.clone();
        forged.handover.new = x.public();
        assert!(!forged.verify());
        assert_eq!(trusted(&[a.public()], &[forged]), vec![a.public()]);
        // A key cannot hand over to itself.
        assert!(!SignedHandover::sign(&a, a.public(), 1, "").verify());
        // The signature is for handovers only: a checkpoint's cannot pass as one.
        let mut other_domain = ab.clone();
        other_domain.sig = a.sign(Domain::Checkpoint, &canonical::to_canonical(&ab.handover).unwrap());
        assert!(!other_domain.verify());
    }
}
