//! Binary payloads (image, document and media bytes, redacted reasoning).

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::de::{self, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Raw bytes inside a content block.
///
/// Python Strands keeps these as `bytes` and writes them to JSON (session files, snapshots) as
/// `{"__bytes_encoded__": true, "data": "<base64>"}`. `Blob` serializes to exactly that shape, and
/// deserializes from it or from a plain base64 string (the Bedrock wire form).
///
/// ```
/// use strands_core::Blob;
///
/// let blob = Blob::from(b"hi".to_vec());
/// let json = serde_json::to_string(&blob).unwrap();
/// assert_eq!(json, r#"{"__bytes_encoded__":true,"data":"aGk="}"#);
/// assert_eq!(serde_json::from_str::<Blob>(&json).unwrap(), blob);
/// assert_eq!(serde_json::from_str::<Blob>(r#""aGk=""#).unwrap(), blob);
/// ```
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Blob(Vec<u8>);

impl Blob {
    /// Wraps bytes.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        Self(bytes.into())
    }

    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Takes the bytes out.
    pub fn into_inner(self) -> Vec<u8> {
        self.0
    }

    /// Number of bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no bytes.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Appends bytes (used when redacted reasoning arrives in several deltas).
    pub fn extend_from_slice(&mut self, bytes: &[u8]) {
        self.0.extend_from_slice(bytes);
    }
}

impl From<Vec<u8>> for Blob {
    fn from(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }
}

impl From<&[u8]> for Blob {
    fn from(bytes: &[u8]) -> Self {
        Self(bytes.to_vec())
    }
}

impl AsRef<[u8]> for Blob {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Blob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Blob({} bytes)", self.0.len())
    }
}

const BYTES_MARKER: &str = "__bytes_encoded__";

impl Serialize for Blob {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry(BYTES_MARKER, &true)?;
        map.serialize_entry("data", &STANDARD.encode(&self.0))?;
        map.end()
    }
}

impl<'de> Deserialize<'de> for Blob {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(BlobVisitor)
    }
}

struct BlobVisitor;

impl<'de> Visitor<'de> for BlobVisitor {
    type Value = Blob;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(r#"a base64 string or {"__bytes_encoded__": true, "data": "<base64>"}"#)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Blob, E> {
        STANDARD
            .decode(v)
            .map(Blob)
            .map_err(|e| E::custom(format_args!("invalid base64 in byte field: {e}")))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Blob, A::Error> {
        let mut data: Option<String> = None;
        let mut marked = false;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                BYTES_MARKER => marked = map.next_value::<bool>()?,
                "data" => data = Some(map.next_value()?),
                _ => {
                    map.next_value::<de::IgnoredAny>()?;
                }
            }
        }
        if !marked {
            return Err(de::Error::custom(
                "byte field object is missing `\"__bytes_encoded__\": true`",
            ));
        }
        let data = data.ok_or_else(|| de::Error::missing_field("data"))?;
        self.visit_str(&data)
    }
}
