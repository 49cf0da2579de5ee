//! The face re-check's operations ([`FaceRechecksTx`]), once for both back ends.

use super::SqlTx;
use crate::store::Result;
use crate::store::face_rechecks::*;
use crate::store::sql::{Conn, args, to_json};
use custody_core::Hash;
use custody_core::verify::face_recheck::ServerFaceCheck;

/// Accepted records with a face claim whose face photo has arrived, whose
/// author has a reference photo here, and that the server has not
/// re-checked — or re-checked against a reference without a usable face
/// that a newer reference has since replaced; the caller adds one
/// condition. Records still waiting for a reference are not candidates, so
/// they never fill the sweep's batch and starve the ones behind them.
const PENDING: &str = "SELECT r.id FROM records r \
     JOIN record_media m ON m.record = r.id AND m.purpose = 'face' \
     JOIN media x ON x.sha256 = m.sha256 AND x.complete = 1 \
     WHERE r.status = 'accepted' AND r.kind IN ('sampling', 'witnessing') \
     AND EXISTS (SELECT 1 FROM grants g JOIN media y ON y.sha256 = g.face_reference AND y.complete = 1 \
                 WHERE g.person = r.author) \
     AND NOT EXISTS (SELECT 1 FROM face_rechecks f WHERE f.record = r.id \
                     AND (f.json NOT LIKE '%\"reference_unusable\"%' OR f.reference = \
                          (SELECT n.face_reference FROM grants n WHERE n.person = r.author \
                           AND n.face_reference IS NOT NULL ORDER BY n.valid_from_ms DESC LIMIT 1)))";

impl<C: Conn> FaceRechecksTx for SqlTx<'_, C> {
    fn face_recheck(&mut self, record: &Hash) -> Result<Option<ServerFaceCheck>> {
        let r = self.c.opt("SELECT json FROM face_rechecks WHERE record = $1", args![record])?;
        r.map(|mut r| r.json(0)).transpose()
    }

    fn insert_face_recheck(&mut self, record: &Hash, check: &ServerFaceCheck) -> Result<bool> {
        let n = self.c.exec(
            "INSERT INTO face_rechecks (record, photo, reference, checked_ms, json) VALUES ($1,$2,$3,$4,$5) \
             ON CONFLICT (record) DO UPDATE SET photo = excluded.photo, reference = excluded.reference, \
             checked_ms = excluded.checked_ms, json = excluded.json \
             WHERE face_rechecks.json LIKE '%\"reference_unusable\"%' \
             AND face_rechecks.reference <> excluded.reference",
            args![record, &check.photo, &check.reference, check.checked_ms, to_json(check)],
        )?;
        Ok(n > 0)
    }

    fn face_recheck_pending(&mut self, which: &Pending, limit: u32) -> Result<Vec<Hash>> {
        let rows = match which {
            Pending::Records(ids) => {
                let mut out = Vec::new();
                for id in ids {
                    let sql = format!("{PENDING} AND r.id = $1");
                    out.extend(self.c.rows(&sql, args![id])?);
                }
                out
            }
            Pending::Photo(sha) => {
                let sql = format!("{PENDING} AND m.sha256 = $1 ORDER BY r.log_index LIMIT $2");
                self.c.rows(&sql, args![sha, limit])?
            }
            Pending::Author(person) => {
                let sql = format!("{PENDING} AND r.author = $1 ORDER BY r.log_index LIMIT $2");
                self.c.rows(&sql, args![person, limit])?
            }
            Pending::Any => {
                let sql = format!("{PENDING} ORDER BY r.log_index LIMIT $1");
                self.c.rows(&sql, args![limit])?
            }
        };
        let mut ids: Vec<Hash> = rows.into_iter().map(|mut r| r.hash(0)).collect::<Result<_>>()?;
        ids.dedup();
        ids.truncate(limit as usize);
        Ok(ids)
    }

    fn face_recheck_count(&mut self) -> Result<u64> {
        self.c.one("SELECT count(*) FROM face_rechecks", args![])?.uint(0)
    }
}
