//! The transparency log kept in the store (R14): every stored record's id is
//! a leaf. Only perfect, aligned subtrees are stored (`log_nodes`), written
//! once when they complete, so appending costs O(1) amortised writes and a
//! proof O(log n) reads, whatever the log's size.

use crate::store::{Result, StoreError, Tx};
use custody_core::log::{self, Checkpoint, Receipt, SignedCheckpoint};
use custody_core::{Hash, SigningKey};

/// Append a record id; returns its leaf index.
pub fn append(tx: &mut dyn Tx, record: &Hash) -> Result<u64> {
    let index = tx.log_size_for_update()?;
    let mut h = log::leaf_hash(record);
    tx.put_log_node(0, index, &h)?;
    // Each time this leaf completes a left sibling's pair, store the parent.
    let (mut level, mut i) = (0u32, index);
    while i & 1 == 1 {
        let left = tx
            .log_node(level, i - 1)?
            .ok_or_else(|| StoreError::Corrupt(format!("log node ({level},{}) missing", i - 1)))?;
        h = log::node_hash(&left, &h);
        level += 1;
        i >>= 1;
        tx.put_log_node(level, i, &h)?;
    }
    tx.set_log_size(index + 1)?;
    Ok(index)
}

/// A node oracle over the store; errors surface after the proof is built.
struct Oracle<'a> {
    tx: &'a mut dyn Tx,
    error: Option<StoreError>,
}

impl Oracle<'_> {
    fn node(&mut self, level: u32, index: u64) -> Hash {
        match self.tx.log_node(level, index) {
            Ok(Some(h)) => h,
            Ok(None) => {
                self.error.get_or_insert(StoreError::Corrupt(format!("log node ({level},{index}) missing")));
                Hash([0; 32])
            }
            Err(e) => {
                self.error.get_or_insert(e);
                Hash([0; 32])
            }
        }
    }
}

fn with_oracle<T>(tx: &mut dyn Tx, f: impl FnOnce(&mut dyn FnMut(u32, u64) -> Hash) -> T) -> Result<T> {
    let mut o = Oracle { tx, error: None };
    let out = f(&mut |l, i| o.node(l, i));
    match o.error {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

pub fn root(tx: &mut dyn Tx, size: u64) -> Result<Hash> {
    with_oracle(tx, |n| log::root(size, &mut |l, i| n(l, i)))
}

pub fn inclusion(tx: &mut dyn Tx, index: u64, size: u64) -> Result<Vec<Hash>> {
    with_oracle(tx, |n| log::inclusion_proof(index, size, &mut |l, i| n(l, i)))
}

pub fn consistency(tx: &mut dyn Tx, old: u64, new: u64) -> Result<Vec<Hash>> {
    with_oracle(tx, |n| log::consistency_proof(old, new, &mut |l, i| n(l, i)))
}

/// Sign a checkpoint of the log as it is now (reuses the latest if the log
/// has not grown).
pub fn checkpoint(tx: &mut dyn Tx, key: &SigningKey, now: i64) -> Result<SignedCheckpoint> {
    let size = tx.log_size_for_update()?;
    if let Some(c) = tx.latest_checkpoint()?
        && c.checkpoint.size == size
        && c.server_key == key.public()
    {
        return Ok(c);
    }
    let root = root(tx, size)?;
    let c = SignedCheckpoint::sign(Checkpoint { size, root, server_ms: now }, key);
    tx.insert_checkpoint(&c)?;
    Ok(c)
}

pub fn receipt(tx: &mut dyn Tx, record: &Hash, index: u64, at: &SignedCheckpoint) -> Result<Receipt> {
    let proof = inclusion(tx, index, at.checkpoint.size)?;
    Ok(Receipt { record: *record, leaf_index: index, checkpoint: at.clone(), proof })
}
