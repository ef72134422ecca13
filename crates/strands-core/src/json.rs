//! JSON text exactly as Python's `json.dumps` writes it: with `ensure_ascii=False`
//! ([`to_python_string`]) or with its defaults, non-ASCII escaped ([`to_python_ascii_string`]).
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

/// Serializes `value` the way Python's `json.dumps(value)` does with its defaults: Python's
/// separators, and every character outside printable ASCII written as a `\uXXXX` escape
/// (UTF-16 surrogate pairs above U+FFFF), as `ensure_ascii=True` does.
///
/// ```
/// use serde_json::json;
///
/// let text = strands_core::json::to_python_ascii_string(&json!({"é": ["😀", "\u{7f}"]})).unwrap();
/// assert_eq!(text, r#"{"\u00e9": ["\ud83d\ude00", "\u007f"]}"#);
/// ```
///
/// # Errors
///
/// Fails only if `value`'s `Serialize` implementation fails (e.g. a map with non-string keys).
pub fn to_python_ascii_string<T: Serialize + ?Sized>(
    value: &T,
) -> Result<String, serde_json::Error> {
    let mut out = Vec::with_capacity(128);
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, PythonAsciiFormatter);
    value.serialize(&mut serializer)?;
    String::from_utf8(out).map_err(|e| serde::ser::Error::custom(e.utf8_error()))
}

/// [`PythonFormatter`] that also escapes what `ensure_ascii=True` escapes: every character
/// outside `' '..='~'` (serde_json already escapes the control characters below `' '`).
#[derive(Debug, Clone, Copy, Default)]
struct PythonAsciiFormatter;

impl Formatter for PythonAsciiFormatter {
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
        PythonFormatter.begin_object_value(writer)
    }

    fn write_f64<W: ?Sized + io::Write>(&mut self, writer: &mut W, value: f64) -> io::Result<()> {
        PythonFormatter.write_f64(writer, value)
    }

    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut plain = 0;
        for (at, c) in fragment.char_indices() {
            if (' '..='~').contains(&c) {
                continue;
            }
            writer.write_all(&fragment.as_bytes()[plain..at])?;
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                write!(writer, "\\u{unit:04x}")?;
            }
            plain = at + c.len_utf8();
        }
        writer.write_all(&fragment.as_bytes()[plain..])
    }
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
        if !value.is_finite() {
            // serde_json writes `null` for these without asking the formatter.
            return CompactFormatter.write_f64(writer, value);
        }
        writer.write_all(float_repr(value).as_bytes())
    }
}

/// Python's `repr(float)`, which `json.dumps` writes: the shortest digits that read back as the
/// same float, in fixed notation while the decimal point falls within -4 < decpt <= 16 (`0.0001`,
/// `1000000000000000.0`), else as `d.ddde±XX` with at least two exponent digits (`1e-05`,
/// `1.5e+16`). serde_json's own writer differs from 1e-5 down (`0.00001`, `1e-7`).
fn float_repr(value: f64) -> String {
    if value == 0.0 {
        return if value.is_sign_negative() {
            "-0.0"
        } else {
            "0.0"
        }
        .to_owned();
    }
    // `{:e}` prints the shortest round-trip digits too: `-1.2345e-7`, `1e16`.
    let formatted = format!("{value:e}");
    let (mantissa, exponent) = formatted.split_once('e').unwrap_or((&formatted, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let mut out = String::with_capacity(digits.len() + 8);
    if value.is_sign_negative() {
        out.push('-');
    }
    let decpt = exponent + 1;
    if (1..=16).contains(&decpt) {
        // The point inside the digits, or zeros and `.0` after them.
        let point = usize::try_from(decpt).unwrap_or(0);
        if point >= digits.len() {
            out.push_str(&digits);
            out.extend(std::iter::repeat_n('0', point - digits.len()));
            out.push_str(".0");
        } else {
            let (int, frac) = digits.split_at(point);
            out.push_str(int);
            out.push('.');
            out.push_str(frac);
        }
    } else if (-3..=0).contains(&decpt) {
        // `0.` and zeros before the digits.
        out.push_str("0.");
        out.extend(std::iter::repeat_n(
            '0',
            usize::try_from(-decpt).unwrap_or(0),
        ));
        out.push_str(&digits);
    } else {
        let (first, rest) = digits.split_at(digits.len().min(1));
        out.push_str(first);
        if !rest.is_empty() {
            out.push('.');
            out.push_str(rest);
        }
        let sign = if exponent < 0 { '-' } else { '+' };
        out.push_str(&format!("e{sign}{:02}", exponent.unsigned_abs()));
    }
    out
}

/// Python's item separator, `", "`, before every item but the first.
fn separator<W: ?Sized + io::Write>(writer: &mut W, first: bool) -> io::Result<()> {
    if first {
        Ok(())
    } else {
        writer.write_all(b", ")
    }
}

/// Python's `repr()` of the object `json.loads` would give for `value`: `{'a': [1, 2.5, True,
/// None]}`, as Python Strands prints dicts into texts (a swarm's shared context, an interrupt's
/// reason, `str(result)` of an interrupted agent).
///
/// ```
/// use serde_json::json;
/// assert_eq!(strands_core::json::to_python_repr(&json!({"a": [1, 2.5, true, null, "it's"]})),
///            r#"{'a': [1, 2.5, True, None, "it's"]}"#);
/// ```
pub fn to_python_repr(value: &serde_json::Value) -> String {
    let mut out = String::new();
    write_repr(&mut out, value);
    out
}

fn write_repr(out: &mut String, value: &serde_json::Value) {
    match value {
        serde_json::Value::Null => out.push_str("None"),
        serde_json::Value::Bool(true) => out.push_str("True"),
        serde_json::Value::Bool(false) => out.push_str("False"),
        serde_json::Value::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() => out.push_str(&python_float_repr(f)),
            _ => out.push_str(&n.to_string()),
        },
        serde_json::Value::String(s) => write_str_repr(out, s),
        serde_json::Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_repr(out, item);
            }
            out.push(']');
        }
        serde_json::Value::Object(map) => {
            out.push('{');
            for (i, (key, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_str_repr(out, key);
                out.push_str(": ");
                write_repr(out, item);
            }
            out.push('}');
        }
    }
}

/// Python's float repr: the shortest round-trip digits, `.0` for integral values, exponent form
/// from 1e16.
pub fn python_float_repr(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e16 {
        return format!("{f:.1}");
    }
    let plain = format!("{f}");
    if f.abs() >= 1e16 || (f != 0.0 && f.abs() < 1e-4) {
        let exp = format!("{f:e}");
        // Rust: `1e16`, `1.5e-5`; Python: `1e+16`, `1.5e-05`.
        if let Some((mantissa, exponent)) = exp.split_once('e') {
            let (sign, digits) = match exponent.strip_prefix('-') {
                Some(digits) => ('-', digits),
                None => ('+', exponent),
            };
            return format!("{mantissa}e{sign}{digits:0>2}");
        }
    }
    plain
}

fn write_str_repr(out: &mut String, s: &str) {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push(quote);
}
