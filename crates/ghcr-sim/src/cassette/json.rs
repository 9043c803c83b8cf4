//! JSON that keeps its key order, so a body can be shown pretty-printed in
//! a cassette and still be served back byte for byte.
//!
//! `serde_json::Value` sorts object keys (the workspace does not enable
//! `preserve_order`), and a manifest's digest is the hash of its exact bytes.
//! A body is stored as JSON only when re-serialising it compactly gives the
//! original bytes; anything else is stored as text.

use std::fmt;

use serde::de::{MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A JSON value with objects as ordered lists of members.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum OrderedJson {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(String),
    Array(Vec<OrderedJson>),
    Object(Vec<(String, OrderedJson)>),
}

impl OrderedJson {
    /// Parses `bytes` when they are compact JSON that re-serialises to
    /// exactly the same bytes; `None` otherwise.
    pub(crate) fn lossless(bytes: &[u8]) -> Option<Self> {
        let first = bytes.iter().find(|b| !b.is_ascii_whitespace())?;
        if !matches!(first, b'{' | b'[') {
            return None;
        }
        let value: Self = serde_json::from_slice(bytes).ok()?;
        let again = serde_json::to_vec(&value).ok()?;
        (again == bytes).then_some(value)
    }

    /// The compact bytes of this value.
    pub(crate) fn to_bytes(&self) -> Vec<u8> {
        // Serialising a tree of owned values into a Vec cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }
}

impl Serialize for OrderedJson {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Null => serializer.serialize_unit(),
            Self::Bool(value) => serializer.serialize_bool(*value),
            Self::Number(value) => value.serialize(serializer),
            Self::String(value) => serializer.serialize_str(value),
            Self::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Self::Object(members) => {
                let mut map = serializer.serialize_map(Some(members.len()))?;
                for (key, value) in members {
                    map.serialize_entry(key, value)?;
                }
                map.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for OrderedJson {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(OrderedVisitor)
    }
}

struct OrderedVisitor;

impl<'de> Visitor<'de> for OrderedVisitor {
    type Value = OrderedJson;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_unit<E>(self) -> Result<OrderedJson, E> {
        Ok(OrderedJson::Null)
    }

    fn visit_none<E>(self) -> Result<OrderedJson, E> {
        Ok(OrderedJson::Null)
    }

    fn visit_bool<E>(self, value: bool) -> Result<OrderedJson, E> {
        Ok(OrderedJson::Bool(value))
    }

    fn visit_u64<E>(self, value: u64) -> Result<OrderedJson, E> {
        Ok(OrderedJson::Number(value.into()))
    }

    fn visit_i64<E>(self, value: i64) -> Result<OrderedJson, E> {
        Ok(OrderedJson::Number(value.into()))
    }

    fn visit_f64<E: serde::de::Error>(self, value: f64) -> Result<OrderedJson, E> {
        serde_json::Number::from_f64(value)
            .map(OrderedJson::Number)
            .ok_or_else(|| E::custom("a JSON number cannot be NaN or infinite"))
    }

    fn visit_str<E>(self, value: &str) -> Result<OrderedJson, E> {
        Ok(OrderedJson::String(value.to_owned()))
    }

    fn visit_string<E>(self, value: String) -> Result<OrderedJson, E> {
        Ok(OrderedJson::String(value))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<OrderedJson, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(OrderedJson::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<OrderedJson, A::Error> {
        let mut members = Vec::new();
        while let Some((key, value)) = map.next_entry()? {
            members.push((key, value));
        }
        Ok(OrderedJson::Object(members))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_compact_bytes_and_refuses_the_rest() {
        for (input, lossless) in [
            (r#"{"z":1,"a":[true,null,"x"],"m":{"b":2,"a":1}}"#, true),
            (r#"{"schemaVersion":2,"size":1.5}"#, true),
            ("[1,2,3]", true),
            // Whitespace, escapes that re-serialise differently, exponents and scalars are kept as text.
            ("{\"a\": 1}", false),
            ("{\"a\":\"\\u00e9\"}", false),
            ("{\"a\":1e3}", false),
            ("\"just a string\"", false),
            ("not json", false),
            ("", false),
        ] {
            let parsed = OrderedJson::lossless(input.as_bytes());
            assert_eq!(parsed.is_some(), lossless, "{input}");
            if let Some(value) = parsed {
                assert_eq!(value.to_bytes(), input.as_bytes());
            }
        }
    }

    #[test]
    fn pretty_printing_keeps_the_order() {
        let value = OrderedJson::lossless(br#"{"z":1,"a":2}"#).unwrap();
        let pretty = serde_json::to_string_pretty(&value).unwrap();
        assert!(pretty.find("\"z\"").unwrap() < pretty.find("\"a\"").unwrap());
        let back: OrderedJson = serde_json::from_str(&pretty).unwrap();
        assert_eq!(back.to_bytes(), br#"{"z":1,"a":2}"#);
    }
}
