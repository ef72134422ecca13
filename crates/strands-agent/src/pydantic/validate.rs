//! Validation of a JSON value against a pydantic-shaped schema, in pydantic's lax mode: numbers
//! and booleans sent as strings are converted (`"25"` → `25.0` for a number, `"yes"` → `true`),
//! integral floats become integers, `1`/`0` become booleans; every failure is collected with
//! pydantic's location, error type and message, in field order.

use serde_json::{Map, Value};

use super::error::{FieldError, Loc, error};
use super::repr::python_repr;
use super::scalars::{check_constraints, to_boolean, to_integer, to_number};

/// How deep references may be followed (guards against schemas that refer to themselves
/// without consuming input).
const MAX_DEPTH: usize = 128;

/// Validates `input` against the pydantic-shaped root `schema` (its `$defs` resolve `$ref`s).
///
/// # Errors
///
/// Every failure, in field order.
pub(crate) fn validate(input: &Value, schema: &Value) -> Result<Value, Vec<FieldError>> {
    let validator = Validator {
        defs: schema.get("$defs").and_then(Value::as_object),
        lax: true,
    };
    let mut errors = Vec::new();
    let value = validator.check(input, schema, &mut Vec::new(), &mut errors, 0);
    if errors.is_empty() {
        Ok(value)
    } else {
        Err(errors)
    }
}

/// Whether `value` already has `schema`'s type, without conversion (pydantic's strict mode).
pub(super) fn accepts(value: &Value, schema: &Value, defs: Option<&Map<String, Value>>) -> bool {
    let validator = Validator { defs, lax: false };
    let mut errors = Vec::new();
    validator.check(value, schema, &mut Vec::new(), &mut errors, 0);
    errors.is_empty()
}

struct Validator<'s> {
    defs: Option<&'s Map<String, Value>>,
    /// Lax mode converts (`"1"` → `1`); strict mode (tried first for unions, as pydantic's smart
    /// mode does) only accepts values of the right type.
    lax: bool,
}

impl Validator<'_> {
    /// Checks `value` against `schema`; returns the converted value (the input where it failed).
    fn check(
        &self,
        value: &Value,
        schema: &Value,
        loc: &mut Vec<Loc>,
        errors: &mut Vec<FieldError>,
        depth: usize,
    ) -> Value {
        let Value::Object(schema) = schema else {
            return value.clone();
        };
        if depth > MAX_DEPTH {
            return value.clone();
        }
        if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
            let Some(definition) = self.resolve(reference) else {
                return value.clone();
            };
            if let Some(Value::Array(options)) = definition.get("enum") {
                return self.check_enum(value, options, "enum", loc, errors);
            }
            return self.check(value, definition, loc, errors, depth + 1);
        }
        if let Some(Value::Array(branches)) = schema.get("anyOf").or_else(|| schema.get("oneOf")) {
            return self.check_union(value, branches, loc, errors, depth);
        }
        let mut value = value.clone();
        if let Some(Value::Array(all)) = schema.get("allOf") {
            for branch in all {
                value = self.check(&value, branch, loc, errors, depth + 1);
            }
        }
        if let Some(Value::Array(options)) = schema.get("enum") {
            return self.check_enum(&value, options, "literal_error", loc, errors);
        }
        if let Some(constant) = schema.get("const") {
            return self.check_enum(
                &value,
                std::slice::from_ref(constant),
                "literal_error",
                loc,
                errors,
            );
        }
        let before = errors.len();
        let value = match schema.get("type") {
            Some(Value::String(kind)) => self.check_type(&value, kind, schema, loc, errors, depth),
            Some(Value::Array(kinds)) => {
                let branches: Vec<Value> = kinds
                    .iter()
                    .map(|kind| {
                        let mut branch = schema.clone();
                        branch.insert("type".to_owned(), kind.clone());
                        Value::Object(branch)
                    })
                    .collect();
                self.check_union(&value, &branches, loc, errors, depth)
            }
            _ if schema.contains_key("properties") => {
                self.check_type(&value, "object", schema, loc, errors, depth)
            }
            _ => value,
        };
        if errors.len() == before {
            check_constraints(&value, schema, loc, errors);
        }
        value
    }

    fn resolve(&self, reference: &str) -> Option<&Value> {
        let name = reference.strip_prefix("#/$defs/")?;
        self.defs?.get(name)
    }

    /// Pydantic's smart unions: a branch the value matches exactly wins, else the first branch
    /// that accepts it after conversion; `null` matches a null branch.
    fn check_union(
        &self,
        value: &Value,
        branches: &[Value],
        loc: &mut Vec<Loc>,
        errors: &mut Vec<FieldError>,
        depth: usize,
    ) -> Value {
        if value.is_null() && branches.iter().any(is_null_schema) {
            return Value::Null;
        }
        let candidates: Vec<&Value> = branches.iter().filter(|b| !is_null_schema(b)).collect();
        let modes: &[bool] = if self.lax { &[false, true] } else { &[false] };
        for &lax in modes {
            let validator = Validator {
                defs: self.defs,
                lax,
            };
            for branch in &candidates {
                let mut branch_errors = Vec::new();
                let checked = validator.check(value, branch, loc, &mut branch_errors, depth + 1);
                if branch_errors.is_empty() {
                    return checked;
                }
            }
        }
        if candidates.is_empty() {
            errors.push(error(loc, "none_required", "Input should be None", value));
        }
        for branch in candidates {
            self.check(value, branch, loc, errors, depth + 1);
        }
        value.clone()
    }

    fn check_enum(
        &self,
        value: &Value,
        options: &[Value],
        kind: &'static str,
        loc: &[Loc],
        errors: &mut Vec<FieldError>,
    ) -> Value {
        if options.contains(value) {
            return value.clone();
        }
        // `1.0` for `Literal[1]`.
        if let Some(f) = value.as_f64().filter(|_| self.lax)
            && let Some(option) = options
                .iter()
                .find(|o| o.is_number() && o.as_f64() == Some(f))
        {
            return option.clone();
        }
        let reprs: Vec<String> = options.iter().map(python_repr).collect();
        let expected = match reprs.split_last() {
            Some((last, [])) => last.clone(),
            Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
            None => String::new(),
        };
        errors.push(error(
            loc,
            kind,
            format!("Input should be {expected}"),
            value,
        ));
        value.clone()
    }

    fn check_type(
        &self,
        value: &Value,
        kind: &str,
        schema: &Map<String, Value>,
        loc: &mut Vec<Loc>,
        errors: &mut Vec<FieldError>,
        depth: usize,
    ) -> Value {
        let converted = match kind {
            "string" => value
                .is_string()
                .then(|| value.clone())
                .ok_or(("string_type", "Input should be a valid string")),
            "integer" => to_integer(value, self.lax),
            "number" => to_number(value, self.lax),
            "boolean" => to_boolean(value, self.lax),
            "null" => value
                .is_null()
                .then_some(Value::Null)
                .ok_or(("none_required", "Input should be None")),
            "array" => match value {
                Value::Array(items) => Ok(self.check_items(items, schema, loc, errors, depth)),
                _ => Err(("list_type", "Input should be a valid list")),
            },
            "object" => match value {
                Value::Object(map) => Ok(self.check_object(map, schema, loc, errors, depth)),
                _ => {
                    let message = match schema.get("title").and_then(Value::as_str) {
                        Some(title) if schema.contains_key("properties") => {
                            format!("Input should be a valid dictionary or instance of {title}")
                        }
                        _ => "Input should be a valid dictionary".to_owned(),
                    };
                    let kind = if schema.contains_key("properties") {
                        "model_type"
                    } else {
                        "dict_type"
                    };
                    errors.push(error(loc, kind, message, value));
                    return value.clone();
                }
            },
            _ => Ok(value.clone()),
        };
        converted.unwrap_or_else(|(kind, message)| {
            errors.push(error(loc, kind, message, value));
            value.clone()
        })
    }

    fn check_items(
        &self,
        items: &[Value],
        schema: &Map<String, Value>,
        loc: &mut Vec<Loc>,
        errors: &mut Vec<FieldError>,
        depth: usize,
    ) -> Value {
        let prefix = schema.get("prefixItems").and_then(Value::as_array);
        let rest = schema.get("items");
        Value::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    let item_schema = prefix.and_then(|p| p.get(i)).or(rest);
                    let Some(item_schema) = item_schema else {
                        return item.clone();
                    };
                    loc.push(Loc::Index(i));
                    let checked = self.check(item, item_schema, loc, errors, depth + 1);
                    loc.pop();
                    checked
                })
                .collect(),
        )
    }

    /// Fields in schema order: each present one checked, each missing required one reported;
    /// other keys are kept (checked against `additionalProperties` when that is a schema).
    fn check_object(
        &self,
        map: &Map<String, Value>,
        schema: &Map<String, Value>,
        loc: &mut Vec<Loc>,
        errors: &mut Vec<FieldError>,
        depth: usize,
    ) -> Value {
        let empty = Map::new();
        let properties = schema
            .get("properties")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let required = schema.get("required").and_then(Value::as_array);
        let is_required = |name: &str| required.is_some_and(|r| r.iter().any(|n| n == name));
        let mut out = map.clone();
        for (name, property) in properties {
            match map.get(name) {
                Some(value) => {
                    loc.push(Loc::Key(name.clone()));
                    let checked = self.check(value, property, loc, errors, depth + 1);
                    loc.pop();
                    out.insert(name.clone(), checked);
                }
                None if is_required(name) => {
                    loc.push(Loc::Key(name.clone()));
                    errors.push(error(
                        loc,
                        "missing",
                        "Field required",
                        &Value::Object(map.clone()),
                    ));
                    loc.pop();
                }
                None => {}
            }
        }
        if let Some(extra @ Value::Object(_)) = schema.get("additionalProperties") {
            for (name, value) in map {
                if properties.contains_key(name) {
                    continue;
                }
                loc.push(Loc::Key(name.clone()));
                let checked = self.check(value, extra, loc, errors, depth + 1);
                loc.pop();
                out.insert(name.clone(), checked);
            }
        }
        Value::Object(out)
    }
}

fn is_null_schema(schema: &Value) -> bool {
    schema.get("type").and_then(Value::as_str) == Some("null")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pydantic::validation_error_text;
    use serde_json::json;

    fn messages(input: &Value, schema: &Value) -> Vec<String> {
        validate(input, schema)
            .unwrap_err()
            .iter()
            .map(|e| format!("{}: {}", e.arrow_path(), e.message))
            .collect()
    }

    #[test]
    fn scalars_are_converted_as_in_lax_mode() {
        let schema = json!({"type": "object", "properties": {
            "i": {"type": "integer"}, "f": {"type": "number"}, "b": {"type": "boolean"}
        }});
        let value = validate(&json!({"i": "1_000", "f": " 2.5 ", "b": "YES"}), &schema).unwrap();
        assert_eq!(value, json!({"i": 1000, "f": 2.5, "b": true}));
        let value = validate(&json!({"i": 2.0, "f": true, "b": 0}), &schema).unwrap();
        assert_eq!(value, json!({"i": 2, "f": 1.0, "b": false}));
        assert_eq!(
            messages(&json!({"i": 1.5, "f": "warm", "b": " yes "}), &schema),
            [
                "i: Input should be a valid integer, got a number with a fractional part",
                "f: Input should be a valid number, unable to parse string as a number",
                "b: Input should be a valid boolean, unable to interpret input",
            ]
        );
    }

    #[test]
    fn unions_prefer_an_exact_match() {
        let schema = json!({"anyOf": [{"type": "integer"}, {"type": "string"}]});
        assert_eq!(validate(&json!("1"), &schema).unwrap(), json!("1"));
        assert_eq!(validate(&json!(1.0), &schema).unwrap(), json!(1));
    }

    #[test]
    fn bounds_and_enums_use_pydantic_wording() {
        let schema = json!({"type": "object", "properties": {
            "y": {"type": "integer", "minimum": 0}, "l": {"enum": [1, 2, 3], "type": "integer"}
        }});
        assert_eq!(
            messages(&json!({"y": -1, "l": "1"}), &schema),
            [
                "y: Input should be greater than or equal to 0",
                "l: Input should be 1, 2 or 3"
            ]
        );
    }

    #[test]
    fn validation_error_text_is_pydantics() {
        let schema =
            json!({"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]});
        let errors = validate(&json!({"a": "not a number"}), &schema).unwrap_err();
        assert_eq!(
            validation_error_text("AddTool", &errors),
            "1 validation error for AddTool\na\n  Input should be a valid integer, unable to parse string as an integer [type=int_parsing, input_value='not a number', input_type=str]\n    For further information visit https://errors.pydantic.dev/2.14/v/int_parsing"
        );
    }
}
