//! Face photos' data keys and the face-read log ([`FacesTx`]), once for
//! both back ends.

use super::SqlTx;
use crate::store::faces::*;
use crate::store::sql::{Conn, Row, args, select_records};
use crate::store::{RecordRow, Result};
use custody_core::Hash;
use custody_core::model::Id;

const KEY_COLS: &str = "sha256, kek, wrapped_key, nonce, alg, size, sealed_sha256, created_ms, sealed_ms";
const READ_COLS: &str = "seq, at_ms, sha256, subject, reader, reader_person, via, ip";

fn key_row(mut r: Row) -> Result<FaceKeyRow> {
    Ok(FaceKeyRow {
        sha256: r.hash(0)?,
        kek: r.text(1)?,
        wrapped_key: r.bytes(2)?,
        nonce: r.bytes(3)?,
        alg: r.text(4)?,
        size: r.uint(5)?,
        sealed_sha256: r.hash(6)?,
        created_ms: r.int(7)?,
        sealed_ms: r.opt_int(8)?,
    })
}

fn read_row(mut r: Row) -> Result<FaceReadRow> {
    Ok(FaceReadRow {
        seq: r.uint(0)?,
        at_ms: r.int(1)?,
        sha256: r.hash(2)?,
        subject: r.opt_id(3)?,
        reader: r.text(4)?,
        reader_person: r.opt_id(5)?,
        via: r.text(6)?,
        ip: r.text(7)?,
    })
}

/// The lowest possible hash: paging "after nothing" starts here.
const BEFORE_ALL: [u8; 0] = [];

impl<C: Conn> FacesTx for SqlTx<'_, C> {
    fn is_face(&mut self, sha: &Hash) -> Result<bool> {
        Ok(self
            .c
            .opt("SELECT 1 FROM record_media WHERE sha256 = $1 AND purpose = 'face' LIMIT 1", args![sha])?
            .is_some())
    }

    fn face_key(&mut self, sha: &Hash) -> Result<Option<FaceKeyRow>> {
        self.c
            .opt(&format!("SELECT {KEY_COLS} FROM face_keys WHERE sha256 = $1"), args![sha])?
            .map(key_row)
            .transpose()
    }

    fn insert_face_key(&mut self, k: &FaceKeyRow) -> Result<()> {
        self.c.exec(
            &format!(
                "INSERT INTO face_keys ({KEY_COLS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9) ON CONFLICT DO NOTHING"
            ),
            args![
                &k.sha256,
                &k.kek,
                &k.wrapped_key,
                &k.nonce,
                &k.alg,
                k.size,
                &k.sealed_sha256,
                k.created_ms,
                k.sealed_ms
            ],
        )?;
        Ok(())
    }

    fn mark_face_sealed(&mut self, sha: &Hash, now: i64) -> Result<()> {
        self.c.exec(
            "UPDATE face_keys SET sealed_ms = $2 WHERE sha256 = $1 AND sealed_ms IS NULL",
            args![sha, now],
        )?;
        Ok(())
    }

    fn rewrap_face_key(&mut self, sha: &Hash, from: &str, to: &str, wrapped: &[u8]) -> Result<bool> {
        let n = self.c.exec(
            "UPDATE face_keys SET kek = $3, wrapped_key = $4 WHERE sha256 = $1 AND kek = $2",
            args![sha, from, to, wrapped],
        )?;
        Ok(n == 1)
    }

    fn face_keys_not_wrapped_by(
        &mut self,
        kek: &str,
        after: Option<&Hash>,
        limit: u32,
    ) -> Result<Vec<FaceKeyRow>> {
        let after: &[u8] = after.map_or(&BEFORE_ALL[..], |h| h.as_bytes());
        self.c
            .rows(
                &format!(
                    "SELECT {KEY_COLS} FROM face_keys WHERE kek <> $1 AND sha256 > $2 ORDER BY sha256 LIMIT $3"
                ),
                args![kek, after, limit],
            )?
            .into_iter()
            .map(key_row)
            .collect()
    }

    fn face_key_counts(&mut self) -> Result<Vec<(String, u64)>> {
        self.c
            .rows("SELECT kek, count(*) FROM face_keys GROUP BY kek ORDER BY kek", &[])?
            .into_iter()
            .map(|mut r| Ok((r.text(0)?, r.uint(1)?)))
            .collect()
    }

    fn unsealed_faces(&mut self, after: Option<&Hash>, limit: u32) -> Result<Vec<Hash>> {
        let after: &[u8] = after.map_or(&BEFORE_ALL[..], |h| h.as_bytes());
        self.c
            .rows(
                "SELECT DISTINCT m.sha256 FROM record_media m \
                 JOIN media x ON x.sha256 = m.sha256 AND x.complete = 1 \
                 LEFT JOIN face_keys k ON k.sha256 = m.sha256 \
                 WHERE m.purpose = 'face' AND k.sealed_ms IS NULL AND m.sha256 > $1 \
                 ORDER BY m.sha256 LIMIT $2",
                args![after, limit],
            )?
            .into_iter()
            .map(|mut r| r.hash(0))
            .collect()
    }

    fn records_listing_face(&mut self, sha: &Hash) -> Result<Vec<RecordRow>> {
        self.records(
            select_records!(
                "WHERE id IN (SELECT record FROM record_media WHERE sha256 = $1 AND purpose = 'face') \
                 ORDER BY log_index"
            ),
            args![sha],
        )
    }

    fn insert_face_read(&mut self, r: &FaceReadRow) -> Result<()> {
        self.c.exec(
            "INSERT INTO face_reads (at_ms, sha256, subject, reader, reader_person, via, ip) \
             VALUES ($1,$2,$3,$4,$5,$6,$7)",
            args![r.at_ms, &r.sha256, r.subject.as_ref(), &r.reader, r.reader_person.as_ref(), &r.via, &r.ip],
        )?;
        Ok(())
    }

    fn face_reads(&mut self, before: Option<u64>, limit: u32) -> Result<Vec<FaceReadRow>> {
        let before = before.map_or(i64::MAX, |b| i64::try_from(b).unwrap_or(i64::MAX));
        self.c
            .rows(
                &format!(
                    "SELECT {READ_COLS} FROM face_reads WHERE seq < CAST($1 AS BIGINT) ORDER BY seq DESC LIMIT $2"
                ),
                args![before, limit],
            )?
            .into_iter()
            .map(read_row)
            .collect()
    }

    fn face_reads_of(&mut self, subject: &Id, limit: u32) -> Result<Vec<FaceReadRow>> {
        self.c
            .rows(
                &format!("SELECT {READ_COLS} FROM face_reads WHERE subject = $1 ORDER BY seq DESC LIMIT $2"),
                args![subject, limit],
            )?
            .into_iter()
            .map(read_row)
            .collect()
    }
}
