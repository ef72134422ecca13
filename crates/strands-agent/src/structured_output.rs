//! Structured output: the model returns a value of a Rust type by calling a tool whose input
//! schema is that type's, as Python Strands does.

mod convert;

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::Value;
use strands_core::{
    Message, Tool, ToolChoice, ToolContext, ToolResult, ToolSpec, ToolStream, ToolUse,
};

use crate::pydantic;
use crate::tools::schema::normalize_schema;

/// The user message appended when the model answered in text instead of calling the output
/// tool (Python's default `structured_output_prompt`).
pub(crate) const STRUCTURED_OUTPUT_PROMPT: &str =
    "You must format the previous response as structured output.";

/// How many invalid outputs the model may produce before the agent gives up.
pub(crate) const MAX_INVALID_OUTPUTS: u32 = 3;

/// Validates the model's input; `Ok` is the validated value (pydantic's `model_dump`), `Err` the
/// error lines (`- Field 'x': ...`).
type Validator = dyn Fn(&Value) -> Result<Value, String> + Send + Sync;

/// Per-invocation structured-output state: the tool, and what it captured.
pub(crate) struct StructuredOutput {
    pub(crate) tool: Arc<StructuredOutputTool>,
    /// The agent's tool specs followed by the output tool's (built once per invocation).
    pub(crate) specs: Vec<ToolSpec>,
    /// `{"tool": {"name": <output tool>}}`, used once forced.
    pub(crate) choice: ToolChoice,
    /// Set once the model was forced to call the tool.
    pub(crate) forced: bool,
    pub(crate) invalid_outputs: u32,
}

impl fmt::Debug for StructuredOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StructuredOutput")
            .field("tool", &self.tool.schema.spec.name)
            .field("forced", &self.forced)
            .finish_non_exhaustive()
    }
}

impl StructuredOutput {
    /// The output tool for `schema`, offered after `agent_specs`.
    ///
    /// # Errors
    ///
    /// The agent already has a tool with the output tool's name.
    pub(crate) fn new(schema: &OutputSchema, agent_specs: &[ToolSpec]) -> Result<Self, String> {
        let name = schema.name().to_owned();
        if agent_specs.iter().any(|s| s.name == name) {
            return Err(format!(
                "the agent already has a tool named `{name}`; rename the tool or the output type"
            ));
        }
        let tool = Arc::new(StructuredOutputTool {
            schema: schema.clone(),
            captured: Mutex::new(None),
        });
        let mut specs = agent_specs.to_vec();
        specs.push(schema.spec.clone());
        Ok(Self {
            tool,
            specs,
            choice: ToolChoice::Tool { name },
            forced: false,
            invalid_outputs: 0,
        })
    }

    /// Offers the output tool after `agent_specs` (the agent's tools changed: a loader ran).
    pub(crate) fn offer(&mut self, agent_specs: &[ToolSpec]) {
        self.specs.clear();
        self.specs.extend_from_slice(agent_specs);
        self.specs.push(self.tool.spec().clone());
    }

    /// Python's `result_from_text`: after a forced retry the model may still answer in text;
    /// that text must be exactly one valid JSON object. Returns the validated value.
    pub(crate) fn parse_text(&self, message: &Message) -> Option<Value> {
        let text = message.text();
        let value: Value = serde_json::from_str(text.trim()).ok()?;
        (self.tool.schema.validator)(&value).ok()
    }
}

/// The shape of a structured output: the tool the model calls to return it, and how its input
/// is validated. Built from a Rust type ([`Agent::structured_output`](crate::Agent::structured_output))
/// or, when the shape is only known at run time, from a JSON schema ([`OutputSchema::new`]).
///
/// Python: the `structured_output_model` (a pydantic model class).
#[derive(Clone)]
pub struct OutputSchema {
    spec: ToolSpec,
    validator: Arc<Validator>,
}

impl fmt::Debug for OutputSchema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OutputSchema")
            .field("name", &self.spec.name)
            .finish_non_exhaustive()
    }
}

/// A JSON schema that cannot describe a structured output.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct OutputSchemaError {
    reason: String,
}

impl OutputSchemaError {
    fn new(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
        }
    }
}

/// The JSON schema types a property may have.
const JSON_TYPES: [&str; 7] = [
    "string", "number", "integer", "boolean", "array", "object", "null",
];

/// How deep a run-time schema may nest.
const MAX_SCHEMA_DEPTH: usize = 32;

impl OutputSchema {
    /// The structured output described by `schema`, the JSON schema of an object as pydantic's
    /// `Model.model_json_schema()` writes it: `title` names the tool the model calls,
    /// `description` describes it, `properties`, `required` and `$defs` give the shape. The
    /// model's output is validated against it as pydantic validates (lax mode: `"31"` is
    /// accepted for an integer) and returned as pydantic's `model_dump()` gives it.
    ///
    /// ```
    /// use serde_json::json;
    /// use strands_agent::OutputSchema;
    ///
    /// let schema = OutputSchema::new(json!({
    ///     "title": "Person",
    ///     "type": "object",
    ///     "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
    ///     "required": ["name", "age"]
    /// }))?;
    /// assert_eq!(schema.name(), "Person");
    /// # Ok::<(), strands_agent::OutputSchemaError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// The schema is not an object schema, has no `title`, names a type JSON schema does not
    /// have, refers to a missing or recursive definition, or nests deeper than 32 levels.
    pub fn new(schema: Value) -> Result<Self, OutputSchemaError> {
        let Value::Object(root) = &schema else {
            return Err(OutputSchemaError::new(
                "the schema must be a JSON object such as {\"title\": \"Person\", \"type\": \"object\", \"properties\": {...}}",
            ));
        };
        if root.get("type").and_then(Value::as_str) != Some("object") {
            return Err(OutputSchemaError::new(
                "type: a structured output is an object; set \"type\": \"object\"",
            ));
        }
        let Some(title) = root
            .get("title")
            .and_then(Value::as_str)
            .filter(|t| !t.trim().is_empty())
        else {
            return Err(OutputSchemaError::new(
                "title: missing; it names the tool the model calls to return the output (pydantic writes the class name)",
            ));
        };
        check_types(&schema, "", 0)?;
        let title = title.to_owned();
        Self::from_model(schema, title, |_| Ok(()))
            .map_err(|e| OutputSchemaError::new(e.to_string()))
    }

    /// The structured output of type `T`: the tool's spec is Python's
    /// `convert_pydantic_to_tool_spec` of the equivalent pydantic model, and the model's output
    /// must also deserialize as a `T`.
    ///
    /// # Errors
    ///
    /// The type is recursive (as in Python, which refuses circular references).
    pub fn of<T: JsonSchema + DeserializeOwned + 'static>() -> Result<Self, OutputSchemaError> {
        let model = pydantic::model_json_schema::<T>();
        Self::from_model(model, T::schema_name().into_owned(), |dumped| {
            T::deserialize(dumped)
                .map(drop)
                .map_err(|e| format!("- Field 'root': {e}"))
        })
        .map_err(|e| OutputSchemaError::new(e.to_string()))
    }

    /// The tool's spec (named after the model's title, else `fallback_name`), normalized as the
    /// registry does, and a validator that also applies `check` to the dumped value.
    fn from_model(
        model: Value,
        fallback_name: String,
        check: impl Fn(&Value) -> Result<(), String> + Send + Sync + 'static,
    ) -> Result<Self, convert::ConvertError> {
        let root = model.as_object().cloned().unwrap_or_default();
        let name = root
            .get("title")
            .and_then(Value::as_str)
            .map_or(fallback_name, str::to_owned);
        let name: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .take(64)
            .collect();
        let description = root
            .get("description")
            .and_then(Value::as_str)
            .filter(|d| !d.is_empty())
            .map_or_else(|| format!("{name} structured output tool"), str::to_owned);
        let description = format!(
            "IMPORTANT: This StructuredOutputTool should only be invoked as the last and final tool before returning the completed result to the caller. <description>{description}</description>"
        );
        let schema = normalize_schema(&convert::flatten_model_schema(root)?, 0);
        let validator: Arc<Validator> = Arc::new(move |input: &Value| {
            let dumped = validate(input, &model)?;
            check(&dumped)?;
            Ok(dumped)
        });
        Ok(Self {
            spec: ToolSpec::new(name, description, Value::Object(schema)),
            validator,
        })
    }

    /// The name of the tool the model calls to return the output.
    pub fn name(&self) -> &str {
        &self.spec.name
    }
}

/// Checks that every `type` in `schema` is a JSON schema type, naming the path of the first
/// that is not.
fn check_types(schema: &Value, path: &str, depth: usize) -> Result<(), OutputSchemaError> {
    if depth > MAX_SCHEMA_DEPTH {
        return Err(OutputSchemaError::new(format!(
            "{path}: the schema nests deeper than {MAX_SCHEMA_DEPTH} levels"
        )));
    }
    let join = |key: &str| {
        if path.is_empty() {
            key.to_owned()
        } else {
            format!("{path}.{key}")
        }
    };
    match schema {
        Value::Object(map) => {
            if let Some(kind) = map.get("type") {
                let kinds = match kind {
                    Value::Array(kinds) => kinds.iter().collect(),
                    other => vec![other],
                };
                for kind in kinds {
                    if !kind.as_str().is_some_and(|k| JSON_TYPES.contains(&k)) {
                        return Err(OutputSchemaError::new(format!(
                            "{}: {kind} is not a JSON schema type; use one of {}",
                            join("type"),
                            JSON_TYPES.join(", ")
                        )));
                    }
                }
            }
            for (key, value) in map {
                // Values under these keys are data, not schemas.
                if !matches!(
                    key.as_str(),
                    "enum" | "const" | "default" | "examples" | "required"
                ) {
                    check_types(value, &join(key), depth + 1)?;
                }
            }
            Ok(())
        }
        Value::Array(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(i, item)| check_types(item, &format!("{path}[{i}]"), depth + 1)),
        _ => Ok(()),
    }
}

/// The tool the model calls to return structured output.
pub(crate) struct StructuredOutputTool {
    schema: OutputSchema,
    captured: Mutex<Option<Value>>,
}

impl StructuredOutputTool {
    pub(crate) fn take_captured(&self) -> Option<Value> {
        self.captured
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }
}

impl Tool for StructuredOutputTool {
    fn spec(&self) -> &ToolSpec {
        &self.schema.spec
    }

    fn stream(&self, tool_use: ToolUse, _context: ToolContext) -> ToolStream<'_> {
        let name = self.schema.name();
        let result = match (self.schema.validator)(&tool_use.input) {
            Ok(value) => {
                *self.captured.lock().unwrap_or_else(PoisonError::into_inner) = Some(value);
                ToolResult::success(
                    tool_use.tool_use_id,
                    format!("Successfully validated {name} structured output"),
                )
            }
            Err(error) => {
                tracing::warn!(tool_name = %name, %error, "structured output validation failed");
                ToolResult::error(
                    tool_use.tool_use_id,
                    format!(
                        "Validation failed for {name}. Please fix the following errors:\n{error}"
                    ),
                )
            }
        };
        strands_core::tool_result_stream(async move { result })
    }
}

/// Pydantic's `Model(**input)` then `model_dump()`: lax validation against `model` (every
/// failure listed as `- Field 'path': message`), then the dump.
fn validate(input: &Value, model: &Value) -> Result<Value, String> {
    let validated = pydantic::validate(input, model).map_err(|errors| {
        errors
            .iter()
            .map(|e| format!("- Field '{}': {}", e.arrow_path(), e.message))
            .collect::<Vec<_>>()
            .join("\n")
    })?;
    Ok(pydantic::dump(&validated, model))
}
