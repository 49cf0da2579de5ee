//! The lab station's captured machine files (R12), by the SHA-256 of their
//! bytes: which record captured each. A row is written only inside the
//! transaction that commits its record (see `append_own_record_with`).

use super::records::hash_of;
use super::{LocalStore, now_wall};
use crate::error::Result;
use custody_core::Hash;
use rusqlite::{OptionalExtension, Transaction, params};

/// A machine file about to be captured by the record being committed.
#[derive(Debug, Clone)]
pub(crate) struct StationFile {
    /// Of the file's bytes as read, which is also the curve media's hash.
    pub sha256: Hash,
    /// The file's name in the watched folder, for people reading the table.
    pub name: String,
}

pub(super) fn insert_station_file(tx: &Transaction<'_>, f: &StationFile, record: &Hash) -> Result<()> {
    // Plain INSERT: a second capture of the same bytes is a bug, and failing
    // it rolls the second record back with it.
    tx.execute(
        "INSERT INTO station_files (sha256, record_id, name, captured_ms) VALUES (?1,?2,?3,?4)",
        params![f.sha256.as_bytes().as_slice(), record.as_bytes().as_slice(), f.name, now_wall()],
    )?;
    Ok(())
}

impl LocalStore {
    /// The test data record that already carries this curve: one the station
    /// made, else any own `test_data` record naming it as media (made by hand
    /// with the same file), so the station never signs a curve twice.
    pub fn record_capturing(&self, sha256: &Hash) -> Result<Option<Hash>> {
        let c = self.conn();
        let key = sha256.as_bytes().as_slice();
        let station: Option<Vec<u8>> = c
            .query_row("SELECT record_id FROM station_files WHERE sha256 = ?1", params![key], |r| r.get(0))
            .optional()?;
        let found = match station {
            Some(id) => Some(id),
            None => c
                .query_row(
                    "SELECT o.id FROM record_media m JOIN own_records o ON o.id = m.record \
                     WHERE m.sha256 = ?1 AND o.kind = 'test_data' ORDER BY o.seq LIMIT 1",
                    params![key],
                    |r| r.get(0),
                )
                .optional()?,
        };
        found.map(|id| hash_of(id, "本机记录损坏", "local record id damaged")).transpose()
    }
}
