//! Python's `repr()` of JSON values, as pydantic prints them in validation errors.

use serde_json::Value;

/// `repr(value)` for the Python object `json.loads` would give.
pub(crate) fn python_repr(value: &Value) -> String {
    let mut out = String::new();
    write_repr(&mut out, value);
    out
}

/// `repr()` shortened as pydantic-core shortens `input_value`: past 50 characters, the first 25
/// and the last 24 around `...`.
pub(crate) fn truncated_repr(value: &Value) -> String {
    let repr = python_repr(value);
    let chars: Vec<char> = repr.chars().collect();
    if chars.len() <= 50 {
        return repr;
    }
    let head: String = chars.iter().take(25).collect();
    let tail: String = chars.iter().skip(chars.len() - 24).collect();
    format!("{head}...{tail}")
}

/// The Python type name of a JSON value (`input_type=...`).
pub(crate) fn python_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "NoneType",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

fn write_repr(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("None"),
        Value::Bool(true) => out.push_str("True"),
        Value::Bool(false) => out.push_str("False"),
        Value::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() => out.push_str(&float_repr(f)),
            _ => out.push_str(&n.to_string()),
        },
        Value::String(s) => write_str_repr(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_repr(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
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
pub(crate) fn float_repr(f: f64) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reprs_match_python() {
        assert_eq!(python_repr(&json!({"street": "s"})), "{'street': 's'}");
        assert_eq!(
            python_repr(&json!([1, 2.5, true, null, "it's"])),
            "[1, 2.5, True, None, \"it's\"]"
        );
        assert_eq!(python_repr(&json!(-3.0)), "-3.0");
        assert_eq!(python_repr(&json!(1e20)), "1e+20");
        assert_eq!(python_repr(&json!(0.00001)), "1e-05");
    }

    #[test]
    fn long_reprs_are_shortened_like_pydantic_core() {
        let long = json!("x".repeat(80));
        assert_eq!(
            truncated_repr(&long),
            format!("'{}...{}'", "x".repeat(24), "x".repeat(23))
        );
    }
}
