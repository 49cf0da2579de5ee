//! The oversight pass's operations ([`OversightTx`]), once for both back ends.

use super::SqlTx;
use crate::store::oversight::*;
use crate::store::sql::{Conn, Row, args, select_records};
use crate::store::*;

const WATCH_COLS: &str =
    "sampling, project, sampler, latest_ms, state, witnessing, witness, detail, updated_ms";

fn watch(mut r: Row) -> Result<WatchRow> {
    Ok(WatchRow {
        sampling: r.hash(0)?,
        project: r.text(1)?,
        sampler: r.text(2)?,
        latest_ms: r.opt_int(3)?,
        state: r.text(4)?,
        witnessing: r.opt_hash(5)?,
        witness: r.opt_text(6)?,
        detail: r.text(7)?,
        updated_ms: r.int(8)?,
    })
}

const DRAW_COLS: &str =
    "id, scope, created_by, spec, spec_sha256, announced_ms, log_size, beacon, result, drawn_ms";

fn draw(mut r: Row) -> Result<DrawRow> {
    Ok(DrawRow {
        id: r.text(0)?,
        scope: r.opt_text(1)?,
        created_by: r.text(2)?,
        spec: r.text(3)?,
        spec_sha256: r.hash(4)?,
        announced_ms: r.int(5)?,
        log_size: r.uint(6)?,
        beacon: r.opt_bytes(7)?,
        result: r.opt_text(8)?,
        drawn_ms: r.opt_int(9)?,
    })
}

fn finding(mut r: Row) -> Result<StoredFinding> {
    Ok(StoredFinding { id: r.uint(0)?, record: r.hash(1)?, project: r.opt_text(2)?, finding: r.text(3)? })
}

impl<C: Conn> OversightTx for SqlTx<'_, C> {
    fn insert_draw(&mut self, d: &DrawRow) -> Result<()> {
        self.c.exec(
            &format!("INSERT INTO spot_check_draws ({DRAW_COLS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)"),
            args![
                &d.id,
                d.scope.as_deref(),
                &d.created_by,
                &d.spec,
                &d.spec_sha256,
                d.announced_ms,
                d.log_size,
                d.beacon.as_ref(),
                d.result.as_deref(),
                d.drawn_ms
            ],
        )?;
        Ok(())
    }

    fn spot_check_draw(&mut self, id: &str) -> Result<Option<DrawRow>> {
        self.c
            .opt(&format!("SELECT {DRAW_COLS} FROM spot_check_draws WHERE id = $1"), args![id])?
            .map(draw)
            .transpose()
    }

    fn spot_check_draws(&mut self) -> Result<Vec<DrawRow>> {
        self.c
            .rows(
                &format!("SELECT {DRAW_COLS} FROM spot_check_draws ORDER BY announced_ms DESC, id DESC"),
                args![],
            )?
            .into_iter()
            .map(draw)
            .collect()
    }

    fn set_draw_result(&mut self, id: &str, beacon: &[u8], result: &str, drawn_ms: i64) -> Result<()> {
        self.c.exec(
            "UPDATE spot_check_draws SET beacon = $2, result = $3, drawn_ms = $4 WHERE id = $1 AND result IS NULL",
            args![id, beacon, result, drawn_ms],
        )?;
        Ok(())
    }

    fn records_changed_after(&mut self, after: u64, limit: u32) -> Result<Vec<RecordRow>> {
        self.records(
            select_records!("WHERE change_seq > $1 ORDER BY change_seq LIMIT $2"),
            args![after, limit],
        )
    }

    fn findings_after(&mut self, after: u64, limit: u32) -> Result<Vec<StoredFinding>> {
        self.c
            .rows(
                "SELECT id, record, project, finding FROM violations WHERE id > $1 ORDER BY id LIMIT $2",
                args![after, limit],
            )?
            .into_iter()
            .map(finding)
            .collect()
    }

    fn last_finding_id(&mut self) -> Result<u64> {
        Ok(self.c.one("SELECT max(id) FROM violations", args![])?.opt_int(0)?.map_or(0, |n| n.max(0) as u64))
    }

    fn findings_of_project(&mut self, project: &str, limit: u32) -> Result<Vec<StoredFinding>> {
        self.c
            .rows(
                "SELECT id, record, project, finding FROM violations WHERE project = $1 ORDER BY id DESC LIMIT $2",
                args![project, limit],
            )?
            .into_iter()
            .map(finding)
            .collect()
    }

    fn insert_watch(&mut self, w: &WatchRow) -> Result<bool> {
        let n = self.c.exec(
            &format!("INSERT INTO witness_watch ({WATCH_COLS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9) ON CONFLICT DO NOTHING"),
            args![
                &w.sampling,
                &w.project,
                &w.sampler,
                w.latest_ms,
                &w.state,
                w.witnessing.as_ref(),
                w.witness.as_deref(),
                &w.detail,
                w.updated_ms
            ],
        )?;
        Ok(n == 1)
    }

    fn watch(&mut self, sampling: &Hash) -> Result<Option<WatchRow>> {
        self.c
            .opt(&format!("SELECT {WATCH_COLS} FROM witness_watch WHERE sampling = $1"), args![sampling])?
            .map(watch)
            .transpose()
    }

    fn update_watch(&mut self, w: &WatchRow) -> Result<()> {
        self.c.exec(
            "UPDATE witness_watch SET state = $2, witnessing = $3, witness = $4, detail = $5, updated_ms = $6 \
             WHERE sampling = $1",
            args![&w.sampling, &w.state, w.witnessing.as_ref(), w.witness.as_deref(), &w.detail, w.updated_ms],
        )?;
        Ok(())
    }

    fn watches_due(
        &mut self,
        latest_before: i64,
        after: Option<&(i64, Hash)>,
        limit: u32,
    ) -> Result<Vec<WatchRow>> {
        let (from_ms, from_id): (i64, &[u8]) = match after {
            Some((l, h)) => (*l, h.as_bytes()),
            None => (i64::MIN, &[]),
        };
        self.c
            .rows(
                &format!(
                    "SELECT {WATCH_COLS} FROM witness_watch WHERE state IN ('open', 'pending') \
                     AND latest_ms <= $1 AND (latest_ms > $2 OR (latest_ms = $2 AND sampling > $3)) \
                     ORDER BY latest_ms, sampling LIMIT $4"
                ),
                args![latest_before, from_ms, from_id, limit],
            )?
            .into_iter()
            .map(watch)
            .collect()
    }

    fn watches_of(&mut self, project: &str, states: &[&str], limit: u32) -> Result<Vec<WatchRow>> {
        let mut out = Vec::new();
        for state in states {
            let rows = self.c.rows(
                &format!(
                    "SELECT {WATCH_COLS} FROM witness_watch WHERE project = $1 AND state = $2 \
                     ORDER BY latest_ms DESC LIMIT $3"
                ),
                args![project, *state, limit],
            )?;
            for r in rows {
                out.push(watch(r)?);
            }
        }
        out.sort_by_key(|w| std::cmp::Reverse(w.latest_ms));
        out.truncate(limit as usize);
        Ok(out)
    }

    fn add_tally(&mut self, project: &str, key: &str, n: i64, odd: i64) -> Result<()> {
        self.c.exec(
            "INSERT INTO oversight_tally (project, key, n, odd) VALUES ($1,$2,$3,$4) \
             ON CONFLICT (project, key) DO UPDATE SET n = oversight_tally.n + excluded.n, \
             odd = oversight_tally.odd + excluded.odd",
            args![project, key, n, odd],
        )?;
        Ok(())
    }

    fn tallies(&mut self) -> Result<Vec<TallyRow>> {
        self.c
            .rows("SELECT project, key, n, odd FROM oversight_tally", args![])?
            .into_iter()
            .map(|mut r| Ok(TallyRow { project: r.text(0)?, key: r.text(1)?, n: r.int(2)?, odd: r.int(3)? }))
            .collect()
    }

    fn set_tally_gauge(&mut self, key: &str, counts: &[(String, i64)]) -> Result<()> {
        self.c.exec("DELETE FROM oversight_tally WHERE key = $1", args![key])?;
        for (project, n) in counts {
            self.c.exec(
                "INSERT INTO oversight_tally (project, key, n, odd) VALUES ($1,$2,$3,0)",
                args![project, key, *n],
            )?;
        }
        Ok(())
    }

    fn stale_specimens(&mut self, stage: &str, before_ms: i64) -> Result<Vec<(String, i64)>> {
        self.c
            .rows(
                "SELECT project, count(*) FROM tags WHERE stage = $1 AND updated_ms < $2 AND project IS NOT NULL \
                 GROUP BY project",
                args![stage, before_ms],
            )?
            .into_iter()
            .map(|mut r| Ok((r.text(0)?, r.int(1)?)))
            .collect()
    }

    fn stale_specimens_of(
        &mut self,
        project: &str,
        stage: &str,
        before_ms: i64,
        limit: u32,
    ) -> Result<Vec<(String, i64)>> {
        self.c
            .rows(
                "SELECT code, updated_ms FROM tags WHERE stage = $1 AND updated_ms < $2 AND project = $3 \
                 ORDER BY updated_ms LIMIT $4",
                args![stage, before_ms, project, limit],
            )?
            .into_iter()
            .map(|mut r| Ok((r.text(0)?, r.int(1)?)))
            .collect()
    }

    fn raw_oversight_aggregate(&mut self) -> Result<i64> {
        let mut watches = 0;
        for mut r in self
            .c
            .rows("SELECT project, state, count(*) FROM witness_watch GROUP BY project, state", args![])?
        {
            watches += r.int(2)?;
        }
        self.c
            .rows("SELECT project, finding, count(*) FROM violations GROUP BY project, finding", args![])?;
        Ok(watches)
    }

    fn covered_until_ms(&mut self, device: &PublicKey) -> Result<Option<i64>> {
        self.c
            .one(
                "SELECT max(a.server_ms) FROM anchors a WHERE a.device = $1 AND (a.tail_seq IS NULL OR \
                 EXISTS (SELECT 1 FROM records r WHERE r.device = a.device AND r.seq = a.tail_seq AND r.id = a.tail_id))",
                args![device],
            )?
            .opt_int(0)
    }
}
