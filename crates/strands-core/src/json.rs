//! JSON text exactly as Python's `json.dumps(value, ensure_ascii=False)` writes it.
//!
//! Python Strands turns tool return values into text with `json.dumps`, whose default separators
//! are `", "` and `": "` (serde_json writes `","` and `":"`). Matching it keeps tool-result text,
//! and so what the model reads, identical across the two stacks.

use std::io;

use serde::Serialize;
use serde_json::ser::{CompactFormatter, Formatter};

/// Serializes `value` the way Python's `json.dumps(value, ensure_ascii=False)` does.
///
/// ```
/// use serde_json::json;
///
/// let text = strands_core::json::to_python_string(&json!({"a": [1, 2], "é": null})).unwrap();
/// assert_eq!(text, r#"{"a": [1, 2], "é": null}"#);
/// ```
///
/// # Errors
///
/// Fails only if `value`'s `Serialize` implementation fails (e.g. a map with non-string keys).
pub fn to_python_string<T: Serialize + ?Sized>(value: &T) -> Result<String, serde_json::Error> {
    let mut out = Vec::with_capacity(128);
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, PythonFormatter);
    value.serialize(&mut serializer)?;
    // serde_json only ever writes valid UTF-8.
    String::from_utf8(out).map_err(|e| serde::ser::Error::custom(e.utf8_error()))
}

/// A `serde_json` formatter with Python's default `json.dumps` separators.
#[derive(Debug, Clone, Copy, Default)]
pub struct PythonFormatter;

impl Formatter for PythonFormatter {
    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        separator(writer, first)
    }

    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        separator(writer, first)
    }

    fn begin_object_value<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        writer.write_all(b": ")
    }

    fn write_f64<W: ?Sized + io::Write>(&mut self, writer: &mut W, value: f64) -> io::Result<()> {
        CompactFormatter.write_f64(writer, value)
    }
}

/// Python's item separator, `", "`, before every item but the first.
fn separator<W: ?Sized + io::Write>(writer: &mut W, first: bool) -> io::Result<()> {
    if first {
        Ok(())
    } else {
        writer.write_all(b", ")
    }
}
