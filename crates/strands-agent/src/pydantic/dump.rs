//! Pydantic's `model_dump()` of a validated value: what a model instance serializes back to.

use serde_json::{Map, Value};

use super::validate::accepts;

/// How deep references may be followed.
const MAX_DEPTH: usize = 128;

/// `value` (already validated against the root `schema`) as pydantic dumps the model: fields in
/// declaration order, omitted ones with their defaults (`null` for an `Option`), unknown ones
/// dropped, integers in `number` fields as floats (`-3` → `-3.0`).
pub(crate) fn dump(value: &Value, schema: &Value) -> Value {
    let dumper = Dumper {
        defs: schema.get("$defs").and_then(Value::as_object),
    };
    dumper.dump(value, schema, 0)
}

struct Dumper<'s> {
    defs: Option<&'s Map<String, Value>>,
}

impl Dumper<'_> {
    fn dump(&self, value: &Value, schema: &Value, depth: usize) -> Value {
        let Value::Object(schema) = schema else {
            return value.clone();
        };
        if depth > MAX_DEPTH {
            return value.clone();
        }
        if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
            return match reference
                .strip_prefix("#/$defs/")
                .and_then(|name| self.defs?.get(name))
            {
                Some(definition) => self.dump(value, definition, depth + 1),
                None => value.clone(),
            };
        }
        if let Some(Value::Array(branches)) = schema.get("anyOf").or_else(|| schema.get("oneOf")) {
            // The branch the validated value belongs to.
            return match branches
                .iter()
                .find(|branch| accepts(value, branch, self.defs))
            {
                Some(branch) => self.dump(value, branch, depth + 1),
                None => value.clone(),
            };
        }
        match (schema.get("type").and_then(Value::as_str), value) {
            (Some("number"), Value::Number(n)) if !n.is_f64() => {
                n.as_f64().map_or_else(|| value.clone(), Value::from)
            }
            (Some("array"), Value::Array(items)) => {
                let prefix = schema.get("prefixItems").and_then(Value::as_array);
                let rest = schema.get("items");
                Value::Array(
                    items
                        .iter()
                        .enumerate()
                        .map(|(i, item)| match prefix.and_then(|p| p.get(i)).or(rest) {
                            Some(item_schema) => self.dump(item, item_schema, depth + 1),
                            None => item.clone(),
                        })
                        .collect(),
                )
            }
            (Some("object") | None, Value::Object(map)) => self.dump_object(map, schema, depth),
            _ => value.clone(),
        }
    }

    fn dump_object(
        &self,
        map: &Map<String, Value>,
        schema: &Map<String, Value>,
        depth: usize,
    ) -> Value {
        let Some(Value::Object(properties)) = schema.get("properties") else {
            return match schema.get("additionalProperties") {
                Some(extra @ Value::Object(_)) => Value::Object(
                    map.iter()
                        .map(|(k, v)| (k.clone(), self.dump(v, extra, depth + 1)))
                        .collect(),
                ),
                _ => Value::Object(map.clone()),
            };
        };
        let mut out = Map::new();
        for (name, property) in properties {
            match map.get(name) {
                Some(value) => {
                    out.insert(name.clone(), self.dump(value, property, depth + 1));
                }
                None => {
                    if let Some(default) = property.get("default") {
                        out.insert(name.clone(), default.clone());
                    }
                }
            }
        }
        // Unknown fields are ignored, as pydantic's default `extra="ignore"`, unless the type
        // collects them (`#[serde(flatten)]` into a map).
        match schema.get("additionalProperties") {
            Some(Value::Bool(false)) | None => {}
            Some(extra) => {
                for (name, value) in map {
                    if !properties.contains_key(name) {
                        out.insert(name.clone(), self.dump(value, extra, depth + 1));
                    }
                }
            }
        }
        Value::Object(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn dump_fills_defaults_orders_fields_and_widens_floats() {
        let schema = json!({
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "temperature": {"type": "number"},
                "humidity": {"default": 50.0, "type": "number"},
                "conditions": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": null}
            },
            "required": ["city", "temperature"]
        });
        let dumped = dump(
            &json!({"extra": 1, "temperature": -3, "city": "Oslo"}),
            &schema,
        );
        assert_eq!(
            serde_json::to_string(&dumped).unwrap(),
            r#"{"city":"Oslo","temperature":-3.0,"humidity":50.0,"conditions":null}"#
        );
    }
}
