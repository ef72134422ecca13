//! `serde_json::Value` ↔ `aws_smithy_types::Document`.
//!
//! The SDK's own serde bridge needs `--cfg aws_sdk_unstable`, so this is the conversion every
//! project writes. Integers stay integers (unsigned first, then signed); only numbers that are
//! neither become floats. Non-finite floats, which JSON cannot carry, become `null`.

use std::collections::HashMap;

use aws_smithy_types::{Document, Number};
use serde_json::{Map, Value};

/// A JSON value as a Smithy document.
pub(crate) fn to_document(value: &Value) -> Document {
    match value {
        Value::Null => Document::Null,
        Value::Bool(b) => Document::Bool(*b),
        Value::Number(n) => Document::Number(if let Some(u) = n.as_u64() {
            Number::PosInt(u)
        } else if let Some(i) = n.as_i64() {
            Number::NegInt(i)
        } else {
            Number::Float(n.as_f64().unwrap_or(f64::NAN))
        }),
        Value::String(s) => Document::String(s.clone()),
        Value::Array(items) => Document::Array(items.iter().map(to_document).collect()),
        Value::Object(map) => Document::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), to_document(v)))
                .collect::<HashMap<_, _>>(),
        ),
    }
}

/// A Smithy document as a JSON value. Object keys are sorted, since documents keep no order.
pub(crate) fn from_document(document: &Document) -> Value {
    match document {
        Document::Null => Value::Null,
        Document::Bool(b) => Value::Bool(*b),
        Document::Number(Number::PosInt(u)) => Value::from(*u),
        Document::Number(Number::NegInt(i)) => Value::from(*i),
        Document::Number(Number::Float(f)) => {
            serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number)
        }
        Document::String(s) => Value::String(s.clone()),
        Document::Array(items) => Value::Array(items.iter().map(from_document).collect()),
        Document::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let mut out = Map::with_capacity(map.len());
            for key in keys {
                if let Some(value) = map.get(key) {
                    out.insert(key.clone(), from_document(value));
                }
            }
            Value::Object(out)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_survive_the_round_trip_exactly() {
        let value = json!({
            "big": u64::MAX,
            "negative": i64::MIN,
            "float": 0.1,
            "zero": 0,
            "nested": [1, -1, 2.5, null, true, "s", {"k": {}}]
        });
        assert_eq!(from_document(&to_document(&value)), value);
        assert!(matches!(
            to_document(&json!(u64::MAX)),
            Document::Number(Number::PosInt(u64::MAX))
        ));
        assert!(matches!(
            to_document(&json!(-3)),
            Document::Number(Number::NegInt(-3))
        ));
    }

    #[test]
    fn non_finite_floats_become_null() {
        assert_eq!(
            from_document(&Document::Number(Number::Float(f64::NAN))),
            Value::Null
        );
        assert_eq!(
            from_document(&Document::Number(Number::Float(f64::INFINITY))),
            Value::Null
        );
    }
}
