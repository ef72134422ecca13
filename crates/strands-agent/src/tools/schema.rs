//! Tool input schemas from Rust types, built the way Python's `@tool` builds them (pydantic's
//! schema of the arguments, cleaned by `_clean_pydantic_schema`, normalized by the registry),
//! and argument parsing in pydantic's lax mode with pydantic's error text.

use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::pydantic;

type Object = Map<String, Value>;

/// What a typed tool needs from its arguments type `A`.
#[derive(Debug, Clone)]
pub(crate) struct ArgsSchema {
    /// The input schema the model is shown.
    pub(crate) input: Value,
    /// How arguments are checked.
    pub(crate) args: ArgsModel,
}

impl ArgsSchema {
    /// The schemas of `A`, for the function `function`.
    pub(crate) fn of<A: JsonSchema>(function: &str) -> Self {
        let model = pydantic::model_json_schema::<A>();
        let input = input_schema_from_model(&model);
        let args = ArgsModel {
            plain: !has_constraints(&model),
            model,
            title: args_model_title(function),
        };
        Self { input, args }
    }
}

/// The pydantic-shaped model a tool's arguments are validated against.
#[derive(Debug, Clone)]
pub(crate) struct ArgsModel {
    model: Value,
    /// Python's name for it, `<Function>Tool`, in validation errors.
    title: String,
    /// No constraint serde cannot check itself (bounds, lengths, patterns): arguments that
    /// deserialize as they are need no validation pass.
    plain: bool,
}

impl ArgsModel {
    /// Parses tool arguments; see [`parse_args`]. Arguments that already have the right types
    /// skip the validator (the common case, and the hot path of every tool call), unless the
    /// schema has constraints only the validator checks.
    pub(crate) fn parse<A: DeserializeOwned>(&self, input: &Value) -> Result<A, String> {
        if self.plain
            && let Ok(args) = A::deserialize(input)
        {
            return Ok(args);
        }
        parse_args(input, &self.model, &self.title)
    }
}

/// Whether `schema` holds a keyword that constrains values beyond their type.
fn has_constraints(schema: &Value) -> bool {
    const CONSTRAINTS: [&str; 13] = [
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "multipleOf",
        "minLength",
        "maxLength",
        "pattern",
        "minItems",
        "maxItems",
        "uniqueItems",
        "minProperties",
        "maxProperties",
    ];
    match schema {
        Value::Object(map) => map
            .iter()
            .any(|(key, value)| CONSTRAINTS.contains(&key.as_str()) || has_constraints(value)),
        Value::Array(items) => items.iter().any(has_constraints),
        _ => false,
    }
}

/// The input schema of `A` as Python's `@tool` would show it.
#[cfg(test)]
pub(crate) fn input_schema<A: JsonSchema>() -> Value {
    ArgsSchema::of::<A>("f").input
}

fn input_schema_from_model(model: &Value) -> Value {
    let Value::Object(model) = model else {
        return model.clone();
    };
    let mut schema = model.clone();
    // A function has no docstring of its own for the arguments model.
    schema.shift_remove("description");
    clean_pydantic_schema(&mut schema);
    inline_enums(&mut schema);
    Value::Object(normalize_schema(&schema, 0))
}

/// `DecoratedFunctionTool._clean_pydantic_schema`: no `title` or `additionalProperties`, and an
/// optional (not required) `Optional[X]` property becomes `X` beside its `"default": null`.
fn clean_pydantic_schema(schema: &mut Object) {
    for key in ["title", "additionalProperties"] {
        schema.shift_remove(key);
    }
    let required = names(schema.get("required"));
    let Some(Value::Object(properties)) = schema.get_mut("properties") else {
        return;
    };
    for (name, property) in properties.iter_mut() {
        let Value::Object(property) = property else {
            continue;
        };
        if let Some(Value::Array(any_of)) = property.get("anyOf").cloned()
            && !required.iter().any(|r| r == name)
            && any_of.len() == 2
            && any_of.iter().any(is_null_schema)
            && let Some(Value::Object(item)) = any_of.iter().find(|i| !is_null_schema(i))
        {
            for (key, value) in item {
                property.insert(key.clone(), value.clone());
            }
            property.shift_remove("anyOf");
        }
        if property.contains_key("properties") {
            clean_pydantic_schema(property);
        }
        for key in ["title", "additionalProperties"] {
            property.shift_remove(key);
        }
    }
}

/// A Rust enum argument is shown inline, as Python shows a `Literal` (`{"enum": [...], "type":
/// "string"}`), rather than as a `$ref` to `$defs` as Python shows an `Enum` class: Rust has one
/// construct for both, and an inline list needs no reference resolution by the model.
fn inline_enums(schema: &mut Object) {
    let Some(defs) = schema.get("$defs").and_then(Value::as_object).cloned() else {
        return;
    };
    let inline = |node: &mut Object| {
        let Some(definition) = node
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix("#/$defs/"))
            .and_then(|name| defs.get(name))
            .and_then(Value::as_object)
            .filter(|d| d.contains_key("enum"))
        else {
            return;
        };
        let mut entries: Vec<(String, Value)> = node
            .iter()
            .filter(|(key, _)| *key != "$ref")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        for (key, value) in definition {
            if key != "title" && !node.contains_key(key) {
                entries.push((key.clone(), value.clone()));
            }
        }
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        *node = entries.into_iter().collect();
    };
    if let Some(Value::Object(properties)) = schema.get_mut("properties") {
        for property in properties.values_mut() {
            if let Value::Object(property) = property {
                inline(property);
                if let Some(Value::Object(items)) = property.get_mut("items") {
                    inline(items);
                }
            }
        }
    }
    drop_unused_definitions(schema);
}

/// Removes `$defs` entries nothing refers to any more (and `$defs` itself once empty).
fn drop_unused_definitions(schema: &mut Object) {
    let Some(Value::Object(defs)) = schema.shift_remove("$defs") else {
        return;
    };
    let mut used: Vec<String> = Vec::new();
    collect_refs(&Value::Object(schema.clone()), &mut used);
    let mut i = 0;
    while let Some(name) = used.get(i).cloned() {
        if let Some(definition) = defs.get(&name) {
            collect_refs(definition, &mut used);
        }
        i += 1;
    }
    let kept: Object = defs
        .into_iter()
        .filter(|(name, _)| used.contains(name))
        .collect();
    if !kept.is_empty() {
        // `$defs` sorts first, as pydantic places it.
        let rest = std::mem::take(schema);
        schema.insert("$defs".to_owned(), Value::Object(kept));
        schema.extend(rest);
    }
}

fn collect_refs(value: &Value, used: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(name) = map
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix("#/$defs/"))
                && !used.iter().any(|u| u == name)
            {
                used.push(name.to_owned());
            }
            map.values().for_each(|v| collect_refs(v, used));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, used)),
        _ => {}
    }
}

/// Python's `normalize_schema` (`tools/tools.py`), which the registry applies to every spec it
/// sends: `type`, `properties` and `required` present; every property typed (`string` if
/// untyped) and described (`Property <name>`); nested objects normalized alike.
pub(crate) fn normalize_schema(schema: &Object, depth: usize) -> Object {
    const MAX_DEPTH: usize = 64;
    let mut normalized = schema.clone();
    if depth > MAX_DEPTH {
        return normalized;
    }
    normalized
        .entry("type")
        .or_insert_with(|| Value::from("object"));
    normalized
        .entry("properties")
        .or_insert_with(|| Value::Object(Object::new()));
    normalized
        .entry("required")
        .or_insert_with(|| Value::Array(Vec::new()));
    if let Some(Value::Object(properties)) = normalized.get_mut("properties") {
        for (name, property) in properties.iter_mut() {
            *property = normalize_property(name, property, depth);
        }
    }
    normalized
}

fn normalize_property(name: &str, property: &Value, depth: usize) -> Value {
    let Value::Object(property) = property else {
        return serde_json::json!({"type": "string", "description": format!("Property {name}")});
    };
    if property.get("type").and_then(Value::as_str) == Some("object")
        && property.contains_key("properties")
    {
        return Value::Object(normalize_schema(property, depth + 1));
    }
    let mut normalized = property.clone();
    if normalized.contains_key("$ref") {
        return Value::Object(normalized);
    }
    let composed = ["anyOf", "oneOf", "allOf", "not"]
        .iter()
        .any(|k| normalized.contains_key(*k));
    if !composed {
        normalized
            .entry("type")
            .or_insert_with(|| Value::from("string"));
    }
    normalized
        .entry("description")
        .or_insert_with(|| Value::String(format!("Property {name}")));
    Value::Object(normalized)
}

/// Python's name for a function's arguments model: `{function.capitalize()}Tool`.
pub(crate) fn args_model_title(function: &str) -> String {
    let mut chars = function.chars();
    let mut title: String = chars
        .next()
        .map(|c| c.to_uppercase().collect())
        .unwrap_or_default();
    title.extend(chars.flat_map(char::to_lowercase));
    title.push_str("Tool");
    title
}

/// Parses tool arguments: validated and converted as pydantic's lax mode does (`"3"` → `3`,
/// `2.0` → `2`, `"yes"` → `true`), then deserialized (which fills declared defaults).
///
/// # Errors
///
/// The text Python sends the model: `Validation failed for input parameters: ` and pydantic's
/// `ValidationError` text for the model `title`; serde's message when the input is not an
/// object or the type rejects it beyond what the schema says.
pub(crate) fn parse_args<A: DeserializeOwned>(
    input: &Value,
    model: &Value,
    title: &str,
) -> Result<A, String> {
    const PREFIX: &str = "Validation failed for input parameters: ";
    let validated = if input.is_object() {
        pydantic::validate(input, model).map_err(|errors| {
            format!(
                "{PREFIX}{}",
                pydantic::validation_error_text(title, &errors)
            )
        })?
    } else {
        input.clone()
    };
    A::deserialize(&validated).map_err(|error| format!("{PREFIX}{error}"))
}

fn is_null_schema(schema: &Value) -> bool {
    schema.get("type").and_then(Value::as_str) == Some("null")
}

fn names(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|names| {
            names
                .iter()
                .filter_map(|n| n.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
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
            serde_json::to_string(&schema).unwrap(),
            r#"{"properties":{"a":{"description":"first addend","type":"integer"},"note":{"default":null,"description":"an optional note","type":"string"}},"required":["a"],"type":"object"}"#
        );
    }

    #[test]
    fn numeric_strings_are_coerced_like_pydantic_lax_mode() {
        let args_model = ArgsSchema::of::<Args>("args").args;
        let args: Args = args_model.parse(&json!({"a": "3"})).unwrap();
        assert_eq!(args.a, 3);
        let err = args_model.parse::<Args>(&json!({"a": "x"})).err().unwrap();
        assert!(
            err.starts_with(
                "Validation failed for input parameters: 1 validation error for ArgsTool\na\n"
            ),
            "{err}"
        );
    }

    #[test]
    fn bounds_are_enforced_even_when_the_arguments_deserialize() {
        #[derive(Debug, Deserialize, schemars::JsonSchema)]
        struct Bounded {
            #[schemars(range(min = 0))]
            n: i64,
        }
        let args_model = ArgsSchema::of::<Bounded>("bounded").args;
        assert!(!args_model.plain);
        assert!(args_model.parse::<Bounded>(&json!({"n": -1})).is_err());
        assert_eq!(args_model.parse::<Bounded>(&json!({"n": 2})).unwrap().n, 2);
        assert!(ArgsSchema::of::<Args>("args").args.plain);
    }

    #[test]
    fn args_model_title_is_python_capitalize() {
        assert_eq!(args_model_title("literal_arg"), "Literal_argTool");
        assert_eq!(args_model_title("addTwo"), "AddtwoTool");
    }
}
