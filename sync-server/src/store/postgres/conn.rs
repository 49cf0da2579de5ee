//! The shared statements on a PostgreSQL connection: arguments bound as
//! PostgreSQL's types, rows read back into the store's values, and writes
//! nobody reads back queued for one pipelined round trip.

use super::PgConn;
use crate::store::dialect::Dialect;
use crate::store::sql::{Arg, Conn, Row, Value};
use crate::store::{Result, StoreError};
use bytes::BytesMut;
use tokio_postgres::types::{IsNull, ToSql, Type, to_sql_checked};

fn params<'a>(args: &'a [Arg<'a>]) -> Vec<&'a (dyn ToSql + Sync)> {
    args.iter().map(|a| a as &(dyn ToSql + Sync)).collect()
}

impl Conn for PgConn {
    const DIALECT: Dialect = Dialect::Postgres;

    fn rows(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<Vec<Row>> {
        self.query(sql, &params(args))?.iter().map(row).collect()
    }

    fn exec(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<u64> {
        PgConn::exec(self, sql, &params(args))
    }

    fn exec_later(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<()> {
        self.queue(sql, args.iter().map(|a| a.clone().into_owned()).collect())
    }
}

fn row(r: &tokio_postgres::Row) -> Result<Row> {
    (0..r.len()).map(|i| value(r, i)).collect::<Result<Vec<_>>>().map(Row)
}

/// Column `i` as the store's value. The schema has 64-bit integers, text
/// and bytes; `SELECT 1` and the like give smaller integers.
fn value(r: &tokio_postgres::Row, i: usize) -> Result<Value> {
    let ty = r.columns()[i].type_();
    let int = |v: Option<i64>| v.map_or(Value::Null, Value::Int);
    Ok(if *ty == Type::INT8 {
        int(r.try_get(i)?)
    } else if *ty == Type::INT4 {
        int(r.try_get::<_, Option<i32>>(i)?.map(i64::from))
    } else if *ty == Type::INT2 {
        int(r.try_get::<_, Option<i16>>(i)?.map(i64::from))
    } else if *ty == Type::TEXT || *ty == Type::VARCHAR {
        r.try_get::<_, Option<String>>(i)?.map_or(Value::Null, Value::Text)
    } else if *ty == Type::BYTEA {
        r.try_get::<_, Option<Vec<u8>>>(i)?.map_or(Value::Null, Value::Bytes)
    } else {
        return Err(StoreError::Corrupt(format!("column {} is of type {ty}", r.columns()[i].name())));
    })
}

impl ToSql for Arg<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> std::result::Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        // Each value as its own type, which checks it against the parameter's.
        match self {
            Arg::Null => Ok(IsNull::Yes),
            Arg::Int(v) => v.to_sql_checked(ty, out),
            Arg::Text(t) => <&str as ToSql>::to_sql_checked(&t.as_ref(), ty, out),
            Arg::Bytes(b) => <&[u8] as ToSql>::to_sql_checked(&b.as_ref(), ty, out),
            Arg::Texts(l) => <&[String] as ToSql>::to_sql_checked(&l.as_ref(), ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}
