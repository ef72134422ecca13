//! Pydantic's lax conversions of scalars (`"7"` → `7`, `"yes"` → `true`) and its numeric bounds
//! and lengths.

use serde_json::{Map, Number, Value};

use super::error::{FieldError, Loc, error};
use super::repr::float_repr;

/// A failed conversion: pydantic's error type and message.
pub(super) type Failure = (&'static str, &'static str);

pub(super) fn to_integer(value: &Value, lax: bool) -> Result<Value, Failure> {
    const INT_TYPE: (&str, &str) = ("int_type", "Input should be a valid integer");
    const FRACTION: (&str, &str) = (
        "int_from_float",
        "Input should be a valid integer, got a number with a fractional part",
    );
    const PARSING: (&str, &str) = (
        "int_parsing",
        "Input should be a valid integer, unable to parse string as an integer",
    );
    match value {
        Value::Number(n) if n.is_i64() || n.is_u64() => Ok(value.clone()),
        Value::Number(n) if lax => integral(n.as_f64().unwrap_or(f64::NAN)).ok_or(FRACTION),
        Value::Bool(b) if lax => Ok(Value::from(i64::from(*b))),
        Value::String(s) if lax => {
            let s = s.trim();
            let digits = python_underscores(s).unwrap_or_else(|| s.to_owned());
            if let Ok(i) = digits.parse::<i64>() {
                Ok(Value::from(i))
            } else if let Ok(u) = digits.parse::<u64>() {
                Ok(Value::from(u))
            } else {
                digits.parse::<f64>().ok().and_then(integral).ok_or(PARSING)
            }
        }
        _ => Err(INT_TYPE),
    }
}

pub(super) fn to_number(value: &Value, lax: bool) -> Result<Value, Failure> {
    match value {
        Value::Number(_) => Ok(value.clone()),
        Value::Bool(b) if lax => Ok(Value::from(if *b { 1.0 } else { 0.0 })),
        Value::String(s) if lax => s
            .trim()
            .parse::<f64>()
            .ok()
            .and_then(Number::from_f64)
            .map(Value::Number)
            .ok_or((
                "float_parsing",
                "Input should be a valid number, unable to parse string as a number",
            )),
        _ => Err(("float_type", "Input should be a valid number")),
    }
}

pub(super) fn to_boolean(value: &Value, lax: bool) -> Result<Value, Failure> {
    const PARSING: (&str, &str) = (
        "bool_parsing",
        "Input should be a valid boolean, unable to interpret input",
    );
    match value {
        Value::Bool(_) => Ok(value.clone()),
        Value::Number(n) if lax => match n.as_f64() {
            Some(1.0) => Ok(Value::Bool(true)),
            Some(0.0) => Ok(Value::Bool(false)),
            _ => Err(PARSING),
        },
        Value::String(s) if lax => match s.to_ascii_lowercase().as_str() {
            "1" | "on" | "t" | "true" | "y" | "yes" => Ok(Value::Bool(true)),
            "0" | "off" | "f" | "false" | "n" | "no" => Ok(Value::Bool(false)),
            _ => Err(PARSING),
        },
        _ => Err(("bool_type", "Input should be a valid boolean")),
    }
}

/// A numeric bound: schema keyword, pydantic error type, message words, and whether a value
/// satisfies it.
type Bound = (
    &'static str,
    &'static str,
    &'static str,
    fn(f64, f64) -> bool,
);

/// Bounds and lengths on a value of the right type.
pub(super) fn check_constraints(
    value: &Value,
    schema: &Map<String, Value>,
    loc: &[Loc],
    errors: &mut Vec<FieldError>,
) {
    let limit = |key: &str| schema.get(key).filter(|v| v.is_number());
    let count = |key: &str| schema.get(key).and_then(Value::as_u64);
    let plural = |n: u64| if n == 1 { "" } else { "s" };
    match value {
        Value::Number(n) => {
            let Some(x) = n.as_f64() else {
                return;
            };
            let bounds: [Bound; 4] = [
                (
                    "minimum",
                    "greater_than_equal",
                    "greater than or equal to",
                    |x, l| x >= l,
                ),
                (
                    "exclusiveMinimum",
                    "greater_than",
                    "greater than",
                    |x, l| x > l,
                ),
                (
                    "maximum",
                    "less_than_equal",
                    "less than or equal to",
                    |x, l| x <= l,
                ),
                ("exclusiveMaximum", "less_than", "less than", |x, l| x < l),
            ];
            for (key, kind, words, holds) in bounds {
                if let Some(bound) = limit(key)
                    && let Some(l) = bound.as_f64()
                    && !holds(x, l)
                {
                    let shown = match bound {
                        Value::Number(b) if b.is_f64() => float_repr(l),
                        other => other.to_string(),
                    };
                    errors.push(error(
                        loc,
                        kind,
                        format!("Input should be {words} {shown}"),
                        value,
                    ));
                }
            }
        }
        Value::String(s) => {
            let len = s.chars().count() as u64;
            if let Some(min) = count("minLength").filter(|&m| len < m) {
                let message = format!("String should have at least {min} character{}", plural(min));
                errors.push(error(loc, "string_too_short", message, value));
            }
            if let Some(max) = count("maxLength").filter(|&m| len > m) {
                let message = format!("String should have at most {max} character{}", plural(max));
                errors.push(error(loc, "string_too_long", message, value));
            }
        }
        Value::Array(items) => {
            let len = items.len() as u64;
            if let Some(min) = count("minItems").filter(|&m| len < m) {
                let message = format!(
                    "List should have at least {min} item{} after validation, not {len}",
                    plural(min)
                );
                errors.push(error(loc, "too_short", message, value));
            }
            if let Some(max) = count("maxItems").filter(|&m| len > m) {
                let message = format!(
                    "List should have at most {max} item{} after validation, not {len}",
                    plural(max)
                );
                errors.push(error(loc, "too_long", message, value));
            }
        }
        _ => {}
    }
}

/// An integral float as a JSON integer (`2.0` → `2`).
fn integral(f: f64) -> Option<Value> {
    // Beyond 2^63 a float no longer converts exactly; pydantic reports those too.
    (f.is_finite() && f.fract() == 0.0 && f.abs() < 9.2e18).then(|| {
        #[allow(
            clippy::cast_possible_truncation,
            reason = "integral and in range, checked above"
        )]
        Value::from(f as i64)
    })
}

/// Python's integer literal underscores (`1_000`): the digits without them, when placed validly.
fn python_underscores(s: &str) -> Option<String> {
    if !s.contains('_') {
        return None;
    }
    let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
    let valid = !digits.starts_with('_')
        && !digits.ends_with('_')
        && !digits.contains("__")
        && digits.chars().all(|c| c.is_ascii_digit() || c == '_');
    valid.then(|| s.replace('_', ""))
}
