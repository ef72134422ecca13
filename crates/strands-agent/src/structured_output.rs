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
            .field("tool", &self.tool.spec.name)
            .field("forced", &self.forced)
            .finish_non_exhaustive()
    }
}

impl StructuredOutput {
    /// The output tool for `T`, offered after `agent_specs`.
    ///
    /// # Errors
    ///
    /// The agent already has a tool with the output tool's name (the type's name), or the type
    /// is recursive.
    pub(crate) fn for_type<T: JsonSchema + DeserializeOwned + 'static>(
        agent_specs: &[ToolSpec],
    ) -> Result<Self, String> {
        let tool = Arc::new(StructuredOutputTool::new::<T>().map_err(|e| e.to_string())?);
        let name = tool.spec.name.clone();
        if agent_specs.iter().any(|s| s.name == name) {
            return Err(format!(
                "the agent already has a tool named `{name}`; rename the tool or the output type"
            ));
        }
        let mut specs = agent_specs.to_vec();
        specs.push(tool.spec.clone());
        Ok(Self {
            tool,
            specs,
            choice: ToolChoice::Tool { name },
            forced: false,
            invalid_outputs: 0,
        })
    }

    /// Python's `result_from_text`: after a forced retry the model may still answer in text;
    /// that text must be exactly one valid JSON object. Returns the validated value.
    pub(crate) fn parse_text(&self, message: &Message) -> Option<Value> {
        let text = message.text();
        let value: Value = serde_json::from_str(text.trim()).ok()?;
        (self.tool.validator)(&value).ok()
    }
}

/// The tool the model calls to return structured output.
pub(crate) struct StructuredOutputTool {
    spec: ToolSpec,
    validator: Arc<Validator>,
    captured: Mutex<Option<Value>>,
}

impl StructuredOutputTool {
    /// The tool for `T`: its spec is Python's `convert_pydantic_to_tool_spec` of the equivalent
    /// pydantic model, normalized as the registry does; its input is validated against `T`'s own
    /// schema in pydantic's lax mode and must deserialize as a `T`; the captured value is that
    /// input as pydantic's `model_dump()` gives it (defaults filled, fields in order, unknown
    /// fields dropped, `-3` as `-3.0` for an `f64`).
    fn new<T: JsonSchema + DeserializeOwned + 'static>() -> Result<Self, convert::ConvertError> {
        let model = pydantic::model_json_schema::<T>();
        let root = model.as_object().cloned().unwrap_or_default();
        let name = root
            .get("title")
            .and_then(Value::as_str)
            .map_or_else(|| T::schema_name().into_owned(), str::to_owned);
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
        let validator: Arc<Validator> = Arc::new(move |input: &Value| validate::<T>(input, &model));
        Ok(Self {
            spec: ToolSpec::new(name, description, Value::Object(schema)),
            validator,
            captured: Mutex::new(None),
        })
    }

    pub(crate) fn take_captured(&self) -> Option<Value> {
        self.captured
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }
}

impl Tool for StructuredOutputTool {
    fn spec(&self) -> &ToolSpec {
        &self.spec
    }

    fn stream(&self, tool_use: ToolUse, _context: ToolContext) -> ToolStream<'_> {
        let name = &self.spec.name;
        let result = match (self.validator)(&tool_use.input) {
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
/// failure listed as `- Field 'path': message`), the dump, and a check that it is a `T`.
fn validate<T: DeserializeOwned>(input: &Value, model: &Value) -> Result<Value, String> {
    let validated = pydantic::validate(input, model).map_err(|errors| {
        errors
            .iter()
            .map(|e| format!("- Field '{}': {}", e.arrow_path(), e.message))
            .collect::<Vec<_>>()
            .join("\n")
    })?;
    let dumped = pydantic::dump(&validated, model);
    T::deserialize(&dumped).map_err(|e| format!("- Field 'root': {e}"))?;
    Ok(dumped)
}
