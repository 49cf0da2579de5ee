//! Canonical JSON (RFC 8785, "JCS") restricted to integers.
//!
//! Why JSON and not CBOR: every language has a JSON parser, a record can be read
//! by a person in a dispute, and RFC 8785 pins down the bytes. Why integers
//! only: RFC 8785 number formatting follows ECMAScript's double-to-string
//! algorithm, which is easy to get subtly wrong across languages; the record
//! format never needs fractions (coordinates are degrees x 1e7, accuracies are
//! centimetres, times are milliseconds), so floats are refused outright and the
//! number rule collapses to "plain decimal integer within +-(2^53 - 1)".
//!
//! The encoder sorts object members by their UTF-16 code units (RFC 8785 3.2.3)
//! and escapes strings exactly as ECMAScript's `JSON.stringify` does. The
//! decoder accepts only input that is already canonical, so one record has one
//! byte string and therefore one id.

use serde::{Serialize, de::DeserializeOwned};
use serde_json::Value;

/// Largest integer magnitude that survives a trip through an IEEE double
/// (I-JSON, RFC 7493 2.2), so JavaScript verifiers see the same number.
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum CanonicalError {
    #[error("not valid JSON: {0}")]
    Syntax(String),
    #[error("floating-point number {0} is not allowed in a record (use integers)")]
    Float(String),
    #[error("integer {0} is outside the interoperable range +-(2^53-1)")]
    IntegerRange(String),
    #[error("duplicate member name {0:?}")]
    DuplicateKey(String),
    #[error("bytes are valid JSON but not in canonical form (RFC 8785)")]
    NotCanonical,
    #[error("does not match the record schema: {0}")]
    Schema(String),
}

/// Serialise a value to canonical bytes.
pub fn to_canonical<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, CanonicalError> {
    let v = serde_json::to_value(value).map_err(|e| CanonicalError::Schema(e.to_string()))?;
    value_to_canonical(&v)
}

/// Canonical bytes of an already-parsed JSON value.
pub fn value_to_canonical(v: &Value) -> Result<Vec<u8>, CanonicalError> {
    let mut out = Vec::with_capacity(256);
    write_value(v, &mut out)?;
    Ok(out)
}

/// Parse canonical bytes: refuses anything that is not byte-for-byte canonical
/// (whitespace, member order, escapes, floats, duplicate names).
pub fn from_canonical<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, CanonicalError> {
    let v = parse_value(bytes)?;
    if value_to_canonical(&v)? != bytes {
        return Err(CanonicalError::NotCanonical);
    }
    serde_json::from_value(v).map_err(|e| CanonicalError::Schema(e.to_string()))
}

/// Parse JSON (any formatting), refusing duplicate member names, which
/// serde_json would otherwise silently collapse (a classic signature-bypass
/// trick: two parsers reading different values from the same bytes).
pub fn parse_value(bytes: &[u8]) -> Result<Value, CanonicalError> {
    let v: Value = {
        let mut de = serde_json::Deserializer::from_slice(bytes);
        let v = NoDupValue::deserialize_checked(&mut de)?;
        de.end().map_err(|e| CanonicalError::Syntax(e.to_string()))?;
        v
    };
    Ok(v)
}

fn write_value(v: &Value, out: &mut Vec<u8>) -> Result<(), CanonicalError> {
    match v {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                if u > MAX_SAFE_INTEGER {
                    return Err(CanonicalError::IntegerRange(n.to_string()));
                }
                out.extend_from_slice(u.to_string().as_bytes());
            } else if let Some(i) = n.as_i64() {
                if i.unsigned_abs() > MAX_SAFE_INTEGER {
                    return Err(CanonicalError::IntegerRange(n.to_string()));
                }
                out.extend_from_slice(i.to_string().as_bytes());
            } else {
                return Err(CanonicalError::Float(n.to_string()));
            }
        }
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(item, out)?;
            }
            out.push(b']');
        }
        Value::Object(map) => {
            let mut members: Vec<(&String, &Value)> = map.iter().collect();
            // RFC 8785 3.2.3: sort by UTF-16 code units, not by UTF-8 bytes.
            members.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
            out.push(b'{');
            for (i, (k, val)) in members.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_string(k, out);
                out.push(b':');
                write_value(val, out)?;
            }
            out.push(b'}');
        }
    }
    Ok(())
}

fn write_string(s: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    for ch in s.chars() {
        match ch {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\u{08}' => out.extend_from_slice(b"\\b"),
            '\u{0C}' => out.extend_from_slice(b"\\f"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\r' => out.extend_from_slice(b"\\r"),
            '\t' => out.extend_from_slice(b"\\t"),
            c if (c as u32) < 0x20 => {
                out.extend_from_slice(format!("\\u{:04x}", c as u32).as_bytes());
            }
            c => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    out.push(b'"');
}

/// A `serde_json::Value` deserializer that refuses duplicate object members.
struct NoDupValue;

impl NoDupValue {
    fn deserialize_checked<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Value, CanonicalError>
    where
        D::Error: std::fmt::Display,
    {
        use serde::de::{self, MapAccess, SeqAccess, Visitor};
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Value;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
                Ok(Value::Bool(b))
            }
            fn visit_i64<E>(self, i: i64) -> Result<Value, E> {
                Ok(Value::from(i))
            }
            fn visit_u64<E>(self, u: u64) -> Result<Value, E> {
                Ok(Value::from(u))
            }
            fn visit_f64<E: de::Error>(self, f: f64) -> Result<Value, E> {
                Err(E::custom(format!("\u{0}float:{f}")))
            }
            fn visit_str<E>(self, s: &str) -> Result<Value, E> {
                Ok(Value::String(s.to_owned()))
            }
            fn visit_string<E>(self, s: String) -> Result<Value, E> {
                Ok(Value::String(s))
            }
            fn visit_unit<E>(self) -> Result<Value, E> {
                Ok(Value::Null)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element_seed(Seed)? {
                    items.push(item);
                }
                Ok(Value::Array(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
                let mut out = serde_json::Map::new();
                while let Some(key) = map.next_key::<String>()? {
                    let val = map.next_value_seed(Seed)?;
                    if out.contains_key(&key) {
                        return Err(de::Error::custom(format!("\u{0}dup:{key}")));
                    }
                    out.insert(key, val);
                }
                Ok(Value::Object(out))
            }
        }
        struct Seed;
        impl<'de> de::DeserializeSeed<'de> for Seed {
            type Value = Value;
            fn deserialize<D2: serde::Deserializer<'de>>(self, d: D2) -> Result<Value, D2::Error> {
                d.deserialize_any(V)
            }
        }
        d.deserialize_any(V).map_err(|e| {
            let msg = e.to_string();
            if let Some(rest) = msg.strip_prefix("\u{0}float:") {
                CanonicalError::Float(rest.split(" at line").next().unwrap_or(rest).to_owned())
            } else if let Some(rest) = msg.strip_prefix("\u{0}dup:") {
                CanonicalError::DuplicateKey(rest.split(" at line").next().unwrap_or(rest).to_owned())
            } else {
                CanonicalError::Syntax(msg)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sorts_members_by_utf16_code_units() {
        // U+E000 sorts after U+1F600 in UTF-8 byte order but before it in UTF-16.
        let v = json!({"\u{1F600}": 1, "\u{E000}": 2, "b": 3, "a": 4});
        let bytes = value_to_canonical(&v).unwrap();
        assert_eq!(String::from_utf8(bytes).unwrap(), "{\"a\":4,\"b\":3,\"\u{1F600}\":1,\"\u{E000}\":2}");
    }

    #[test]
    fn escapes_like_ecmascript() {
        let v = json!("a\"b\\c\u{08}\u{0C}\n\r\t\u{01}\u{1f}\u{7f}é/");
        let s = String::from_utf8(value_to_canonical(&v).unwrap()).unwrap();
        assert_eq!(s, "\"a\\\"b\\\\c\\b\\f\\n\\r\\t\\u0001\\u001f\u{7f}é/\"");
    }

    #[test]
    fn refuses_floats_and_unsafe_integers() {
        assert!(matches!(parse_value(b"1.5"), Err(CanonicalError::Float(_))));
        assert!(matches!(
            value_to_canonical(&json!(9007199254740992u64)),
            Err(CanonicalError::IntegerRange(_))
        ));
        assert!(value_to_canonical(&json!(-9007199254740991i64)).is_ok());
    }

    #[test]
    fn refuses_duplicate_members() {
        assert_eq!(parse_value(br#"{"a":1,"a":2}"#), Err(CanonicalError::DuplicateKey("a".into())));
    }

    #[test]
    fn refuses_non_canonical_bytes() {
        let r: Result<Value, _> = from_canonical(br#"{"b":1,"a":2}"#);
        assert_eq!(r, Err(CanonicalError::NotCanonical));
        let r: Result<Value, _> = from_canonical(br#"{"a": 2}"#);
        assert_eq!(r, Err(CanonicalError::NotCanonical));
        let r: Result<Value, _> = from_canonical(br#""\u0041""#);
        assert_eq!(r, Err(CanonicalError::NotCanonical));
        let r: Value = from_canonical(br#"{"a":2,"b":[true,null,"x"]}"#).unwrap();
        assert_eq!(r, json!({"a":2,"b":[true,null,"x"]}));
    }
}
