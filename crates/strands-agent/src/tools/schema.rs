//! Tool input schemas from Rust types, shaped like Python's `@tool` schemas, and lenient argument
//! parsing that matches pydantic's lax mode.

use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// The input schema of `A`, cleaned the way Python Strands cleans pydantic's: no `$schema`,
/// `title` or `additionalProperties`; `Option<T>` fields become plain `T` with `"default": null`;
/// property descriptions come first; top-level keys ordered `properties`, `required`, `type`.
pub(crate) fn input_schema<A: JsonSchema>() -> Value {
    let generator = schemars::generate::SchemaSettings::draft2020_12().into_generator();
    let schema = generator.into_root_schema_for::<A>();
    clean(schema.to_value())
}

fn clean(schema: Value) -> Value {
    let Value::Object(mut root) = schema else {
        return schema;
    };
    for key in ["$schema", "title", "additionalProperties", "description"] {
        root.shift_remove(key);
    }
    let required: Vec<String> = match root.get("required") {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    };
    let mut properties = match root.shift_remove("properties") {
        Some(Value::Object(properties)) => properties,
        _ => Map::new(),
    };
    for (name, property) in &mut properties {
        if let Value::Object(map) = property {
            *map = clean_property(std::mem::take(map), required.iter().any(|r| r == name));
        }
    }
    let mut out = Map::new();
    out.insert("properties".to_owned(), Value::Object(properties));
    out.insert(
        "required".to_owned(),
        Value::Array(required.into_iter().map(Value::String).collect()),
    );
    root.shift_remove("required");
    out.insert(
        "type".to_owned(),
        root.shift_remove("type")
            .unwrap_or_else(|| Value::String("object".to_owned())),
    );
    out.extend(root);
    Value::Object(out)
}

fn clean_property(mut property: Map<String, Value>, required: bool) -> Map<String, Value> {
    // Integer width formats (`int64`, `uint32`, ...) tell a model nothing; Python emits none.
    if matches!(property.get("format"), Some(Value::String(f)) if is_width_format(f)) {
        property.shift_remove("format");
    }
    if !required {
        collapse_nullable(&mut property);
    }
    let mut out = Map::new();
    if let Some(description) = property.shift_remove("description") {
        out.insert("description".to_owned(), description);
    }
    out.extend(property);
    out
}

fn is_width_format(format: &str) -> bool {
    matches!(
        format,
        "int8"
            | "int16"
            | "int32"
            | "int64"
            | "int128"
            | "uint"
            | "uint8"
            | "uint16"
            | "uint32"
            | "uint64"
            | "uint128"
            | "float"
            | "double"
    )
}

/// `{"type": ["integer", "null"]}` or `{"anyOf": [X, {"type": "null"}]}` becomes `X` with
/// `"default": null`, as Python does for `Optional[X] = None`.
fn collapse_nullable(property: &mut Map<String, Value>) {
    let mut collapsed = false;
    if let Some(Value::Array(types)) = property.get("type") {
        let non_null: Vec<Value> = types
            .iter()
            .filter(|t| t.as_str() != Some("null"))
            .cloned()
            .collect();
        if non_null.len() == 1 && types.len() == 2 {
            property.insert(
                "type".to_owned(),
                non_null.into_iter().next().unwrap_or(Value::Null),
            );
            collapsed = true;
        }
    } else if let Some(Value::Array(variants)) = property.get("anyOf") {
        let is_null = |v: &Value| v.get("type").and_then(Value::as_str) == Some("null");
        if variants.len() == 2
            && variants.iter().any(is_null)
            && let Some(Value::Object(inner)) = variants.iter().find(|v| !is_null(v)).cloned()
        {
            property.shift_remove("anyOf");
            for (k, v) in inner {
                property.entry(k).or_insert(v);
            }
            collapsed = true;
        }
    }
    if collapsed {
        property.entry("default").or_insert(Value::Null);
    }
}

/// Parses tool arguments. When strict parsing fails, retries once after pydantic-style lax
/// coercion (`"3"` → `3` for integers, `2.0` → `2`, `"1.5"` → `1.5`, `"true"` → `true`).
///
/// # Errors
///
/// Returns the text Python sends the model: `Validation failed for input parameters: ...`.
pub(crate) fn parse_args<A: DeserializeOwned>(input: &Value, schema: &Value) -> Result<A, String> {
    match A::deserialize(input) {
        Ok(args) => Ok(args),
        Err(strict) => {
            if let Some(coerced) = coerce_lax(input, schema)
                && let Ok(args) = A::deserialize(&coerced)
            {
                return Ok(args);
            }
            Err(format!("Validation failed for input parameters: {strict}"))
        }
    }
}

fn coerce_lax(input: &Value, schema: &Value) -> Option<Value> {
    let (Value::Object(args), Some(Value::Object(properties))) = (input, schema.get("properties"))
    else {
        return None;
    };
    let mut changed = false;
    let mut out = args.clone();
    for (name, value) in &mut out {
        let Some(kind) = properties
            .get(name)
            .and_then(|p| p.get("type"))
            .and_then(Value::as_str)
        else {
            continue;
        };
        if let Some(coerced) = coerce_value(value, kind) {
            *value = coerced;
            changed = true;
        }
    }
    changed.then_some(Value::Object(out))
}

fn coerce_value(value: &Value, kind: &str) -> Option<Value> {
    match (kind, value) {
        ("integer", Value::String(s)) => s.trim().parse::<i64>().ok().map(Value::from),
        ("integer", Value::Number(n)) => n
            .as_f64()
            .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
            .map(|f| Value::from(f as i64)),
        ("number", Value::String(s)) => s
            .trim()
            .parse::<f64>()
            .ok()
            .and_then(|f| serde_json::Number::from_f64(f).map(Value::Number)),
        ("boolean", Value::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" | "t" | "y" => Some(Value::Bool(true)),
            "false" | "0" | "no" | "off" | "f" | "n" => Some(Value::Bool(false)),
            _ => None,
        },
        ("boolean", Value::Number(n)) => match n.as_i64() {
            Some(1) => Some(Value::Bool(true)),
            Some(0) => Some(Value::Bool(false)),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Deserialize, JsonSchema)]
    #[allow(dead_code, reason = "only the schema is used")]
    struct Args {
        /// first addend
        a: i64,
        /// an optional note
        note: Option<String>,
    }

    #[test]
    fn schema_matches_python_shape() {
        let schema = input_schema::<Args>();
        assert_eq!(
            schema,
            json!({
                "properties": {
                    "a": {"description": "first addend", "type": "integer"},
                    "note": {"description": "an optional note", "type": "string", "default": null}
                },
                "required": ["a"],
                "type": "object"
            })
        );
        let keys: Vec<_> = schema.as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys, ["properties", "required", "type"]);
    }

    #[test]
    fn numeric_strings_are_coerced_like_pydantic_lax_mode() {
        let schema = input_schema::<Args>();
        let args: Args = parse_args(&json!({"a": "3"}), &schema).unwrap();
        assert_eq!(args.a, 3);
        let err = parse_args::<Args>(&json!({"a": "x"}), &schema)
            .err()
            .unwrap();
        assert!(
            err.starts_with("Validation failed for input parameters: "),
            "{err}"
        );
    }
}
