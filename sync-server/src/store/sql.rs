//! What the store's one implementation of [`Tx`](super::Tx) says to either
//! database: statements written once with `$1`-style parameters, their
//! arguments, the rows that come back, and the [`Conn`] each back end
//! implements to run them.
//!
//! Column encodings are the same on both back ends: hashes and keys as
//! 32-byte blobs, integers as 64-bit, enums as their serde names, documents
//! as JSON text.

use super::dialect::Dialect;
use super::{Result, StoreError};
use custody_core::model::Id;
use custody_core::{Hash, PublicKey};
use std::borrow::Cow;

/// One transaction's connection, on one back end.
///
/// Every statement is written once, with PostgreSQL's `$1`, `$2`, …
/// parameters: PostgreSQL reads them natively, SQLite reads `$1` as a
/// parameter *named* `$1` and the SQLite connection binds each by its name
/// (so the order they first appear in does not matter).
pub(super) trait Conn {
    /// The SQL this connection speaks, for the few statements that differ.
    const DIALECT: Dialect;

    /// The rows a statement returns.
    fn rows(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<Vec<Row>>;

    /// Execute a statement now; the number of rows it changed.
    fn exec(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<u64>;

    /// A write whose outcome this transaction never reads. PostgreSQL queues
    /// it and sends the queue in one pipelined round trip before the next
    /// statement or the commit (an error then rolls the transaction back);
    /// SQLite, in-process, executes it at once.
    fn exec_later(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<()>;

    /// The first row, if any.
    fn opt(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<Option<Row>> {
        Ok(self.rows(sql, args)?.into_iter().next())
    }

    /// The one row a statement always returns (an aggregate, a head row).
    fn one(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<Row> {
        self.opt(sql, args)?.ok_or_else(|| StoreError::Corrupt(format!("no row from {sql}")))
    }
}

/// One statement argument, borrowed where the caller holds the value.
#[derive(Debug, Clone)]
pub(super) enum Arg<'a> {
    Null,
    Int(i64),
    Text(Cow<'a, str>),
    Bytes(Cow<'a, [u8]>),
    /// A list of texts as one parameter: a `text[]` on PostgreSQL, a JSON
    /// array on SQLite (which has no arrays; see [`Dialect::FEED`]).
    Texts(Cow<'a, [String]>),
}

impl Arg<'_> {
    /// The same argument owning its value (a queued write outlives the caller's borrow).
    pub(super) fn into_owned(self) -> Arg<'static> {
        match self {
            Arg::Null => Arg::Null,
            Arg::Int(v) => Arg::Int(v),
            Arg::Text(t) => Arg::Text(Cow::Owned(t.into_owned())),
            Arg::Bytes(b) => Arg::Bytes(Cow::Owned(b.into_owned())),
            Arg::Texts(l) => Arg::Texts(Cow::Owned(l.into_owned())),
        }
    }
}

/// Arguments of a statement: `args![id, seq, label]`.
macro_rules! args {
    ($($e:expr),* $(,)?) => { &[$($crate::store::sql::Arg::from($e)),*] };
}
pub(super) use args;

impl From<i64> for Arg<'_> {
    fn from(v: i64) -> Self {
        Arg::Int(v)
    }
}
/// Sequence numbers, sizes and indexes are stored as 64-bit signed integers
/// (both databases' integer); they stay far below 2^63.
impl From<u64> for Arg<'_> {
    fn from(v: u64) -> Self {
        Arg::Int(v as i64)
    }
}
impl From<u32> for Arg<'_> {
    fn from(v: u32) -> Self {
        Arg::Int(i64::from(v))
    }
}
impl From<u16> for Arg<'_> {
    fn from(v: u16) -> Self {
        Arg::Int(i64::from(v))
    }
}
impl From<u8> for Arg<'_> {
    fn from(v: u8) -> Self {
        Arg::Int(i64::from(v))
    }
}
/// Flags are integers 0/1 on both back ends.
impl From<bool> for Arg<'_> {
    fn from(v: bool) -> Self {
        Arg::Int(i64::from(v))
    }
}
impl<'a> From<&'a str> for Arg<'a> {
    fn from(v: &'a str) -> Self {
        Arg::Text(Cow::Borrowed(v))
    }
}
impl<'a> From<&'a String> for Arg<'a> {
    fn from(v: &'a String) -> Self {
        Arg::Text(Cow::Borrowed(v))
    }
}
impl From<String> for Arg<'_> {
    fn from(v: String) -> Self {
        Arg::Text(Cow::Owned(v))
    }
}
impl<'a> From<&'a Id> for Arg<'a> {
    fn from(v: &'a Id) -> Self {
        Arg::Text(Cow::Borrowed(v.as_str()))
    }
}
impl<'a> From<&'a [u8]> for Arg<'a> {
    fn from(v: &'a [u8]) -> Self {
        Arg::Bytes(Cow::Borrowed(v))
    }
}
impl<'a> From<&'a Vec<u8>> for Arg<'a> {
    fn from(v: &'a Vec<u8>) -> Self {
        Arg::Bytes(Cow::Borrowed(v))
    }
}
impl<'a> From<&'a Hash> for Arg<'a> {
    fn from(v: &'a Hash) -> Self {
        Arg::Bytes(Cow::Borrowed(v.as_bytes()))
    }
}
impl<'a> From<&'a PublicKey> for Arg<'a> {
    fn from(v: &'a PublicKey) -> Self {
        Arg::Bytes(Cow::Borrowed(&v.0))
    }
}
impl<'a> From<&'a [String]> for Arg<'a> {
    fn from(v: &'a [String]) -> Self {
        Arg::Texts(Cow::Borrowed(v))
    }
}
impl<'a, T: Into<Arg<'a>>> From<Option<T>> for Arg<'a> {
    fn from(v: Option<T>) -> Self {
        v.map_or(Arg::Null, Into::into)
    }
}

/// One value of a result row, as either database returned it.
#[derive(Debug)]
pub(super) enum Value {
    Null,
    Int(i64),
    Text(String),
    Bytes(Vec<u8>),
}

impl Value {
    fn kind(&self) -> &'static str {
        match self {
            Value::Null => "NULL",
            Value::Int(_) => "an integer",
            Value::Text(_) => "text",
            Value::Bytes(_) => "bytes",
        }
    }
}

/// A result row. Readers take each column out once, by position, in the
/// order the statement selects them.
#[derive(Debug)]
pub(super) struct Row(pub(super) Vec<Value>);

impl Row {
    fn take(&mut self, i: usize) -> Result<Value> {
        let v = self.0.get_mut(i).ok_or_else(|| StoreError::Corrupt(format!("no column {i}")))?;
        Ok(std::mem::replace(v, Value::Null))
    }

    fn wrong(i: usize, want: &str, found: &Value) -> StoreError {
        StoreError::Corrupt(format!("column {i}: expected {want}, found {}", found.kind()))
    }

    pub(super) fn opt_int(&mut self, i: usize) -> Result<Option<i64>> {
        match self.take(i)? {
            Value::Null => Ok(None),
            Value::Int(v) => Ok(Some(v)),
            other => Err(Row::wrong(i, "an integer", &other)),
        }
    }

    pub(super) fn int(&mut self, i: usize) -> Result<i64> {
        self.opt_int(i)?.ok_or_else(|| Row::wrong(i, "an integer", &Value::Null))
    }

    /// A count, size or sequence number (stored as a signed 64-bit integer).
    pub(super) fn uint(&mut self, i: usize) -> Result<u64> {
        Ok(self.int(i)? as u64)
    }

    pub(super) fn opt_text(&mut self, i: usize) -> Result<Option<String>> {
        match self.take(i)? {
            Value::Null => Ok(None),
            Value::Text(v) => Ok(Some(v)),
            other => Err(Row::wrong(i, "text", &other)),
        }
    }

    pub(super) fn text(&mut self, i: usize) -> Result<String> {
        self.opt_text(i)?.ok_or_else(|| Row::wrong(i, "text", &Value::Null))
    }

    pub(super) fn opt_bytes(&mut self, i: usize) -> Result<Option<Vec<u8>>> {
        match self.take(i)? {
            Value::Null => Ok(None),
            Value::Bytes(v) => Ok(Some(v)),
            other => Err(Row::wrong(i, "bytes", &other)),
        }
    }

    pub(super) fn bytes(&mut self, i: usize) -> Result<Vec<u8>> {
        self.opt_bytes(i)?.ok_or_else(|| Row::wrong(i, "bytes", &Value::Null))
    }

    pub(super) fn opt_hash(&mut self, i: usize) -> Result<Option<Hash>> {
        let Some(b) = self.opt_bytes(i)? else { return Ok(None) };
        let a: [u8; 32] =
            b.try_into().map_err(|_| StoreError::Corrupt(format!("column {i}: a hash is 32 bytes")))?;
        Ok(Some(Hash(a)))
    }

    pub(super) fn hash(&mut self, i: usize) -> Result<Hash> {
        self.opt_hash(i)?.ok_or_else(|| Row::wrong(i, "a hash", &Value::Null))
    }

    pub(super) fn key(&mut self, i: usize) -> Result<PublicKey> {
        Ok(PublicKey(self.hash(i)?.0))
    }

    pub(super) fn opt_id(&mut self, i: usize) -> Result<Option<Id>> {
        self.opt_text(i)?.map(|s| Id::new(s).map_err(|e| StoreError::Corrupt(e.to_string()))).transpose()
    }

    pub(super) fn id(&mut self, i: usize) -> Result<Id> {
        self.opt_id(i)?.ok_or_else(|| Row::wrong(i, "an id", &Value::Null))
    }

    /// A document stored as JSON text.
    pub(super) fn json<T: serde::de::DeserializeOwned>(&mut self, i: usize) -> Result<T> {
        serde_json::from_str(&self.text(i)?).map_err(|e| StoreError::Corrupt(format!("stored JSON: {e}")))
    }

    /// An enum stored as its serde name.
    pub(super) fn named<T: serde::de::DeserializeOwned>(&mut self, i: usize) -> Result<T> {
        serde_json::from_value(serde_json::Value::String(self.text(i)?))
            .map_err(|e| StoreError::Corrupt(format!("stored enum: {e}")))
    }
}

/// A document as JSON text.
pub(super) fn to_json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("serialisable")
}

/// An enum as its serde name.
pub(crate) fn name_of<T: serde::Serialize>(v: &T) -> String {
    match serde_json::to_value(v).expect("serialisable") {
        serde_json::Value::String(s) => s,
        other => other.to_string(),
    }
}

/// The `records` columns, in the order [`super::tx`] reads a record row.
macro_rules! record_columns {
    () => {
        "id, log_index, device, seq, kind, author, project, envelope, first_seen_ms, status, verdict, earliest_ms, latest_ms, change_seq"
    };
}
pub(super) use record_columns;

/// `SELECT` every `records` column, then `$tail` (`WHERE …`).
macro_rules! select_records {
    ($tail:literal) => {
        concat!("SELECT ", $crate::store::sql::record_columns!(), " FROM records ", $tail)
    };
}
pub(super) use select_records;
