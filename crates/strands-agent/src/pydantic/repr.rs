//! Python's `repr()` of JSON values, as pydantic prints them in validation errors.

use serde_json::Value;

pub(crate) use strands_core::json::{
    python_float_repr as float_repr, to_python_repr as python_repr,
};

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
