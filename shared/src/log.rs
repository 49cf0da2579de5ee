//! The transparency log (RFC 6962 Merkle tree) every accepted record's id is
//! appended to, and the receipts that prove it.
//!
//! The server signs *checkpoints* (tree size + root hash + time). A receipt is
//! a checkpoint plus an inclusion proof for one record; a device keeps the
//! last checkpoint it saw and asks for a consistency proof to the next, so a
//! server that rewrote history (dropped or changed a record, R14) is caught
//! by every device that ever held a receipt.
//!
//! Proof *generation* here is written against a node oracle (the hash of any
//! perfect, aligned subtree), so a server can keep those nodes in a database
//! and answer in O(log n) lookups. Proof *verification* uses the independent
//! `ct-merkle` implementation, so the two sides are not one piece of code
//! agreeing with itself.

use crate::canonical;
use crate::crypto::{Domain, Hash, PublicKey, Signature, SigningKey};
use ct_merkle::{ConsistencyProof, InclusionProof, RootHash};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// RFC 6962 leaf hash of a record id: SHA-256(0x00 || id).
pub fn leaf_hash(record_id: &Hash) -> Hash {
    let mut b = [0u8; 33];
    b[1..].copy_from_slice(record_id.as_bytes());
    Hash::of(&b)
}

/// RFC 6962 interior node: SHA-256(0x01 || left || right).
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut b = [0u8; 65];
    b[0] = 1;
    b[1..33].copy_from_slice(left.as_bytes());
    b[33..].copy_from_slice(right.as_bytes());
    Hash::of(&b)
}

/// Root of the empty tree: SHA-256 of nothing.
pub fn empty_root() -> Hash {
    Hash::of(&[])
}

/// Largest power of two strictly less than `n` (n >= 2).
fn split(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1u64 << (63 - (n - 1).leading_zeros())
}

/// Hash of the leaves `[start, start + len)`, from perfect aligned subtrees
/// given by `node(level, index)` (level 0 = leaf hashes).
pub fn subtree_hash(start: u64, len: u64, node: &mut impl FnMut(u32, u64) -> Hash) -> Hash {
    if len == 0 {
        return empty_root();
    }
    if len.is_power_of_two() && start.is_multiple_of(len) {
        let level = len.trailing_zeros();
        return node(level, start >> level);
    }
    let k = split(len);
    let l = subtree_hash(start, k, node);
    let r = subtree_hash(start + k, len - k, node);
    node_hash(&l, &r)
}

/// Root of a tree of `size` leaves.
pub fn root(size: u64, node: &mut impl FnMut(u32, u64) -> Hash) -> Hash {
    subtree_hash(0, size, node)
}

/// RFC 6962 2.1.1 audit path for leaf `index` in a tree of `size` leaves,
/// bottom-up.
pub fn inclusion_proof(index: u64, size: u64, node: &mut impl FnMut(u32, u64) -> Hash) -> Vec<Hash> {
    fn path(m: u64, start: u64, n: u64, node: &mut impl FnMut(u32, u64) -> Hash, out: &mut Vec<Hash>) {
        if n <= 1 {
            return;
        }
        let k = split(n);
        if m < k {
            path(m, start, k, node, out);
            out.push(subtree_hash(start + k, n - k, node));
        } else {
            path(m - k, start + k, n - k, node, out);
            out.push(subtree_hash(start, k, node));
        }
    }
    let mut out = Vec::new();
    if index < size {
        path(index, 0, size, node, &mut out);
    }
    out
}

/// RFC 6962 2.1.2 consistency proof from `old` to `new` leaves.
pub fn consistency_proof(old: u64, new: u64, node: &mut impl FnMut(u32, u64) -> Hash) -> Vec<Hash> {
    fn sub(
        m: u64,
        start: u64,
        n: u64,
        b: bool,
        node: &mut impl FnMut(u32, u64) -> Hash,
        out: &mut Vec<Hash>,
    ) {
        if m == n {
            if !b {
                out.push(subtree_hash(start, n, node));
            }
            return;
        }
        let k = split(n);
        if m <= k {
            sub(m, start, k, b, node, out);
            out.push(subtree_hash(start + k, n - k, node));
        } else {
            sub(m - k, start + k, n - k, false, node, out);
            out.push(subtree_hash(start, k, node));
        }
    }
    let mut out = Vec::new();
    if old > 0 && old < new {
        sub(old, 0, new, true, node, &mut out);
    }
    out
}

/// An in-memory oracle over leaf hashes: fine for tests and small logs.
pub fn memory_oracle(leaves: &[Hash]) -> impl FnMut(u32, u64) -> Hash + '_ {
    move |level, index| {
        let len = 1u64 << level;
        let start = index * len;
        fn rec(leaves: &[Hash], start: u64, len: u64) -> Hash {
            if len == 1 {
                return leaves[start as usize];
            }
            let h = len / 2;
            node_hash(&rec(leaves, start, h), &rec(leaves, start + h, h))
        }
        rec(leaves, start, len)
    }
}

/// What the server signs about the log at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Checkpoint {
    pub size: u64,
    pub root: Hash,
    pub server_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SignedCheckpoint {
    pub checkpoint: Checkpoint,
    pub server_key: PublicKey,
    pub sig: Signature,
}

impl SignedCheckpoint {
    pub fn sign(checkpoint: Checkpoint, key: &SigningKey) -> SignedCheckpoint {
        let bytes = canonical::to_canonical(&checkpoint).expect("checkpoint is canonical-safe");
        SignedCheckpoint { checkpoint, server_key: key.public(), sig: key.sign(Domain::Checkpoint, &bytes) }
    }

    pub fn verify(&self, trusted: &[PublicKey]) -> Result<(), LogError> {
        if !trusted.contains(&self.server_key) {
            return Err(LogError::UntrustedKey);
        }
        let bytes = canonical::to_canonical(&self.checkpoint).map_err(|_| LogError::BadSignature)?;
        if self.server_key.verify(Domain::Checkpoint, &bytes, &self.sig) {
            Ok(())
        } else {
            Err(LogError::BadSignature)
        }
    }
}

/// Proof that one record is in the log at a signed checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Receipt {
    pub record: Hash,
    pub leaf_index: u64,
    pub checkpoint: SignedCheckpoint,
    pub proof: Vec<Hash>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogError {
    #[error("checkpoint is signed by a key this device does not trust")]
    UntrustedKey,
    #[error("checkpoint signature does not verify")]
    BadSignature,
    #[error("inclusion proof does not verify")]
    Inclusion,
    #[error("consistency proof does not verify: the log was rewritten")]
    Inconsistent,
    #[error("new checkpoint is smaller than the old one: the log shrank")]
    Shrank,
}

fn to_digest(h: &Hash) -> sha2::digest::Output<Sha256> {
    (*h.as_bytes()).into()
}

fn root_of(c: &Checkpoint) -> RootHash<Sha256> {
    RootHash::new(to_digest(&c.root), c.size)
}

impl Receipt {
    /// Signature by a trusted key, and the record's inclusion at the checkpoint.
    pub fn verify(&self, trusted: &[PublicKey]) -> Result<(), LogError> {
        self.checkpoint.verify(trusted)?;
        verify_inclusion(&self.record, self.leaf_index, &self.checkpoint.checkpoint, &self.proof)
    }
}

pub fn verify_inclusion(record: &Hash, index: u64, at: &Checkpoint, proof: &[Hash]) -> Result<(), LogError> {
    let digests: Vec<_> = proof.iter().map(to_digest).collect();
    let p = InclusionProof::<Sha256>::from_digests(digests.iter());
    root_of(at).verify_inclusion(record.as_bytes(), index, &p).map_err(|_| LogError::Inclusion)
}

/// Check that `new` extends `old` (both already signature-checked).
pub fn verify_consistency(old: &Checkpoint, new: &Checkpoint, proof: &[Hash]) -> Result<(), LogError> {
    if new.size < old.size {
        return Err(LogError::Shrank);
    }
    if old.size == new.size {
        return if old.root == new.root { Ok(()) } else { Err(LogError::Inconsistent) };
    }
    if old.size == 0 {
        return Ok(());
    }
    let digests: Vec<_> = proof.iter().map(to_digest).collect();
    let p = ConsistencyProof::<Sha256>::from_digests(digests.iter());
    root_of(new).verify_consistency(&root_of(old), &p).map_err(|_| LogError::Inconsistent)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ct_merkle::mem_backed_tree::MemoryBackedTree;

    fn ids(n: u64) -> Vec<Hash> {
        (0..n).map(|i| Hash::of(&i.to_le_bytes())).collect()
    }

    #[test]
    fn r14_matches_ct_merkle_reference_roots_and_proofs() {
        for n in 1..=40u64 {
            let records = ids(n);
            let leaves: Vec<Hash> = records.iter().map(leaf_hash).collect();
            let mut reference = MemoryBackedTree::<Sha256, [u8; 32]>::new();
            for r in &records {
                reference.push(*r.as_bytes());
            }
            let mut oracle = memory_oracle(&leaves);
            let r = root(n, &mut oracle);
            assert_eq!(r.as_bytes()[..], reference.root().as_bytes()[..], "root of {n}");
            let cp = Checkpoint { size: n, root: r, server_ms: 0 };
            for i in 0..n {
                let proof = inclusion_proof(i, n, &mut oracle);
                verify_inclusion(&records[i as usize], i, &cp, &proof).unwrap();
                // A proof for one record never proves another.
                let other = Hash::of(b"not in the log");
                assert!(verify_inclusion(&other, i, &cp, &proof).is_err());
            }
            for old in 1..n {
                let old_root = root(old, &mut oracle);
                let oc = Checkpoint { size: old, root: old_root, server_ms: 0 };
                let proof = consistency_proof(old, n, &mut oracle);
                verify_consistency(&oc, &cp, &proof).unwrap_or_else(|e| panic!("{old}->{n}: {e}"));
                // A rewritten old tree is caught.
                let forged = Checkpoint { root: Hash::of(b"forged"), ..oc };
                assert_eq!(verify_consistency(&forged, &cp, &proof), Err(LogError::Inconsistent));
            }
        }
    }

    #[test]
    fn receipts_need_a_trusted_signature() {
        let key = SigningKey::from_seed(&[7; 32]).unwrap();
        let records = ids(5);
        let leaves: Vec<Hash> = records.iter().map(leaf_hash).collect();
        let mut oracle = memory_oracle(&leaves);
        let cp = Checkpoint { size: 5, root: root(5, &mut oracle), server_ms: 1 };
        let receipt = Receipt {
            record: records[3],
            leaf_index: 3,
            checkpoint: SignedCheckpoint::sign(cp, &key),
            proof: inclusion_proof(3, 5, &mut oracle),
        };
        receipt.verify(&[key.public()]).unwrap();
        let other = SigningKey::from_seed(&[8; 32]).unwrap();
        assert_eq!(receipt.verify(&[other.public()]), Err(LogError::UntrustedKey));
        let mut tampered = receipt.clone();
        tampered.checkpoint.checkpoint.server_ms = 2;
        assert_eq!(tampered.verify(&[key.public()]), Err(LogError::BadSignature));
    }
}
