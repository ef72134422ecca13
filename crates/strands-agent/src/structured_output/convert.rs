//! The output tool's input schema: Python Strands' `convert_pydantic_to_tool_spec`
//! (`tools/structured_output/structured_output_utils.py`), ported step by step over a
//! pydantic-shaped schema so the model sees the same bytes.
//!
//! Its quirks are kept on purpose, since they only shape what the model is shown (validation
//! uses `T`'s own schema):
//! - a field with a default and no `enum` is typed nullable (`"type": ["integer", "null"]`);
//! - an `Option<T>` field loses its title and default;
//! - a nested struct field is inlined as `{"type": "object", "description": "The <field>", ...}`
//!   and, when the nested struct's last field is optional, left out of `required` (the port keeps
//!   Python's reuse of the `is_required` variable).

use serde_json::{Map, Value};

type Object = Map<String, Value>;

/// How deep definitions may be expanded; recursive types go past it.
const MAX_DEPTH: usize = 64;

/// Why a schema cannot become an output tool.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ConvertError {
    /// The type refers to itself (Python: `Circular reference detected and not supported.`).
    Recursive,
    /// A `$ref` names no definition.
    MissingReference(String),
}

impl std::fmt::Display for ConvertError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Recursive => f.write_str(
                "recursive types cannot be structured output, as in Python; give the output type a fixed depth",
            ),
            Self::MissingReference(name) => write!(f, "the schema refers to `{name}`, which it does not define"),
        }
    }
}

/// `_expand_nested_properties` then `_flatten_schema` on a pydantic-shaped root schema.
pub(crate) fn flatten_model_schema(mut schema: Object) -> Result<Object, ConvertError> {
    expand_nested_properties(&mut schema);
    flatten_schema(&schema)
}

/// `_expand_nested_properties`: a field typed as a model (a bare `$ref` to an object
/// definition) is replaced by that model's properties, typed `object` (nullable when optional)
/// and described by the field's description or `The <field>`.
fn expand_nested_properties(schema: &mut Object) {
    let required = names(schema.get("required"));
    let defs = schema.get("$defs").and_then(Value::as_object).cloned();
    let Some(Value::Object(properties)) = schema.get_mut("properties") else {
        return;
    };
    for (name, property) in properties.iter_mut() {
        let Some(definition) = property
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| defs.as_ref()?.get(ref_name(r)))
        else {
            continue;
        };
        if definition.get("type").and_then(Value::as_str) != Some("object") {
            continue; // an enum, not a model
        }
        let optional = !required.iter().any(|r| r == name);
        let mut expanded = Object::new();
        expanded.insert(
            "type".to_owned(),
            if optional {
                serde_json::json!(["object", "null"])
            } else {
                Value::from("object")
            },
        );
        expanded.insert(
            "description".to_owned(),
            property
                .get("description")
                .cloned()
                .unwrap_or_else(|| Value::String(format!("The {name}"))),
        );
        expanded.insert(
            "properties".to_owned(),
            definition
                .get("properties")
                .cloned()
                .unwrap_or_else(|| Value::Object(Object::new())),
        );
        if let Some(required) = definition.get("required") {
            expanded.insert("required".to_owned(), required.clone());
        }
        *property = Value::Object(expanded);
    }
}

/// `_flatten_schema`.
fn flatten_schema(schema: &Object) -> Result<Object, ConvertError> {
    let required_fields = names(schema.get("required"));
    let empty = Object::new();
    let defs = schema
        .get("$defs")
        .and_then(Value::as_object)
        .unwrap_or(&empty);

    let mut flattened = Object::new();
    flattened.insert(
        "type".to_owned(),
        schema
            .get("type")
            .cloned()
            .unwrap_or_else(|| Value::from("object")),
    );
    flattened.insert("properties".to_owned(), Value::Object(Object::new()));
    if let Some(title) = schema.get("title") {
        flattened.insert("title".to_owned(), title.clone());
    }
    if let Some(description) = schema.get("description").filter(|d| truthy(d)) {
        flattened.insert("description".to_owned(), description.clone());
    }

    if !schema.contains_key("properties") && schema.contains_key("$ref") {
        return Err(ConvertError::Recursive);
    }
    let mut required_props: Vec<Value> = Vec::new();
    let mut out = Object::new();
    if let Some(Value::Object(properties)) = schema.get("properties") {
        for (name, value) in properties {
            let Value::Object(value) = value else {
                out.insert(name.clone(), value.clone());
                continue;
            };
            let mut is_required = required_fields.iter().any(|r| r == name);
            let processed = if let Some(nested) = value.get("properties") {
                let mut processed = Object::new();
                processed.insert(
                    "type".to_owned(),
                    value
                        .get("type")
                        .cloned()
                        .unwrap_or_else(|| Value::from("object")),
                );
                processed.insert(
                    "description".to_owned(),
                    value
                        .get("description")
                        .cloned()
                        .unwrap_or_else(|| Value::from("")),
                );
                let nested_required = names(value.get("required"));
                let mut nested_out = Object::new();
                if let Value::Object(nested) = nested {
                    for (nested_name, nested_value) in nested {
                        // Python reuses `is_required` here, so the field's own requiredness is
                        // lost: it ends as that of the nested model's last field.
                        is_required = nested_required.iter().any(|r| r == nested_name);
                        let sub = process_property(nested_value, defs, is_required, 0)?;
                        nested_out.insert(nested_name.clone(), Value::Object(sub));
                    }
                }
                processed.insert("properties".to_owned(), Value::Object(nested_out));
                if let Some(required) = value.get("required") {
                    processed.insert("required".to_owned(), required.clone());
                }
                processed
            } else {
                process_property(&Value::Object(value.clone()), defs, is_required, 0)?
            };
            let nullable = mentions_null(processed.get("type"));
            out.insert(name.clone(), Value::Object(processed));
            if is_required && !nullable {
                required_props.push(Value::String(name.clone()));
            }
        }
    }
    flattened.insert("properties".to_owned(), Value::Object(out));
    if !required_props.is_empty() {
        flattened.insert("required".to_owned(), Value::Array(required_props));
    }
    Ok(flattened)
}

/// `_process_property`.
fn process_property(
    prop: &Value,
    defs: &Object,
    is_required: bool,
    depth: usize,
) -> Result<Object, ConvertError> {
    if depth > MAX_DEPTH {
        return Err(ConvertError::Recursive);
    }
    let Value::Object(prop) = prop else {
        return Ok(Object::new());
    };
    let mut result = Object::new();
    let mut is_nullable = false;

    if let Some(any_of) = prop.get("anyOf") {
        let mut null_type = false;
        let mut non_null: Option<Value> = None;
        for option in any_of.as_array().into_iter().flatten() {
            if option.get("type").and_then(Value::as_str) == Some("null") {
                null_type = true;
                is_nullable = true;
            } else if let Some(reference) = option.get("$ref").and_then(Value::as_str) {
                let definition = resolve(defs, reference)?;
                non_null = Some(Value::Object(process_schema_object(
                    definition,
                    defs,
                    depth + 1,
                )?));
            } else {
                non_null = Some(option.clone());
            }
        }
        if let (true, Some(non_null)) = (null_type, non_null) {
            result = non_null.as_object().cloned().unwrap_or_default();
            // anyOf is kept for an enum or const: a null type beside non-null values is invalid.
            if result.contains_key("enum") || result.contains_key("const") {
                let mut kept = Object::new();
                kept.insert(
                    "anyOf".to_owned(),
                    serde_json::json!([non_null, {"type": "null"}]),
                );
                for (key, value) in prop {
                    if key != "anyOf" {
                        kept.insert(key.clone(), value.clone());
                    }
                }
                return Ok(kept);
            }
            match result.get_mut("type") {
                Some(Value::String(kind)) => {
                    let kind = std::mem::take(kind);
                    result.insert("type".to_owned(), serde_json::json!([kind, "null"]));
                }
                Some(Value::Array(kinds)) => {
                    if !kinds.iter().any(|k| k == "null") {
                        kinds.push(Value::from("null"));
                    }
                }
                Some(_) => {}
                None => {
                    result.insert("type".to_owned(), serde_json::json!(["object", "null"]));
                }
            }
            if let Some(description) = prop.get("description") {
                result.insert("description".to_owned(), description.clone());
            }
            if let Some(items) = result.get("items").cloned() {
                let items = process_property(&items, defs, false, depth + 1)?;
                result.insert("items".to_owned(), Value::Object(items));
            }
            return Ok(result);
        }
    } else if let Some(reference) = prop.get("$ref").and_then(Value::as_str) {
        result = process_schema_object(resolve(defs, reference)?, defs, depth + 1)?;
    }

    let has_enum = prop.contains_key("enum") || prop.contains_key("const");
    for (key, value) in prop {
        if key == "$ref" || key == "anyOf" {
            continue;
        }
        let value = match value {
            Value::Object(map) => process_nested_dict(map, defs, depth + 1)?,
            Value::String(kind) if key == "type" && !is_required && !is_nullable && !has_enum => {
                serde_json::json!([kind, "null"])
            }
            Value::Array(kinds)
                if key == "type"
                    && !is_required
                    && !is_nullable
                    && !has_enum
                    && !kinds.iter().any(|k| k == "null") =>
            {
                let mut kinds = kinds.clone();
                kinds.push(Value::from("null"));
                Value::Array(kinds)
            }
            other => other.clone(),
        };
        result.insert(key.clone(), value);
    }
    Ok(result)
}

/// `_process_schema_object`: a definition with its properties processed.
fn process_schema_object(
    schema: &Value,
    defs: &Object,
    depth: usize,
) -> Result<Object, ConvertError> {
    if depth > MAX_DEPTH {
        return Err(ConvertError::Recursive);
    }
    let mut result = Object::new();
    let Value::Object(schema) = schema else {
        return Ok(result);
    };
    for (key, value) in schema {
        if key != "properties" && key != "required" && key != "$defs" {
            result.insert(key.clone(), value.clone());
        }
    }
    if let Some(Value::Object(properties)) = schema.get("properties") {
        let required_fields = names(schema.get("required"));
        let mut out = Object::new();
        let mut required_props: Vec<Value> = Vec::new();
        for (name, value) in properties {
            let is_required = required_fields.iter().any(|r| r == name);
            let processed = process_property(value, defs, is_required, depth + 1)?;
            let nullable = mentions_null(processed.get("type"));
            out.insert(name.clone(), Value::Object(processed));
            if is_required && !nullable {
                required_props.push(Value::String(name.clone()));
            }
        }
        result.insert("properties".to_owned(), Value::Object(out));
        if !required_props.is_empty() {
            result.insert("required".to_owned(), Value::Array(required_props));
        }
    }
    Ok(result)
}

/// `_process_nested_dict`: resolves references anywhere below a property.
fn process_nested_dict(d: &Object, defs: &Object, depth: usize) -> Result<Value, ConvertError> {
    if depth > MAX_DEPTH {
        return Err(ConvertError::Recursive);
    }
    if let Some(reference) = d.get("$ref").and_then(Value::as_str) {
        let definition = resolve(defs, reference)?;
        return Ok(Value::Object(process_schema_object(
            definition,
            defs,
            depth + 1,
        )?));
    }
    let mut result = Object::new();
    for (key, value) in d {
        let value = match value {
            Value::Object(map) => process_nested_dict(map, defs, depth + 1)?,
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|item| match item {
                        Value::Object(map) => process_nested_dict(map, defs, depth + 1),
                        other => Ok(other.clone()),
                    })
                    .collect::<Result<_, _>>()?,
            ),
            other => other.clone(),
        };
        result.insert(key.clone(), value);
    }
    Ok(Value::Object(result))
}

fn resolve<'d>(defs: &'d Object, reference: &str) -> Result<&'d Value, ConvertError> {
    let name = ref_name(reference);
    defs.get(name)
        .ok_or_else(|| ConvertError::MissingReference(name.to_owned()))
}

/// The last segment of a `$ref`, as Python's `ref.split("/")[-1]`.
fn ref_name(reference: &str) -> &str {
    reference.rsplit('/').next().unwrap_or(reference)
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

/// Python's `"null" in str(type)`.
fn mentions_null(kind: Option<&Value>) -> bool {
    match kind {
        Some(Value::String(kind)) => kind.contains("null"),
        Some(Value::Array(kinds)) => kinds
            .iter()
            .any(|k| k.as_str().is_some_and(|k| k.contains("null"))),
        _ => false,
    }
}

/// Python truthiness of a JSON value.
fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64() != Some(0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}
