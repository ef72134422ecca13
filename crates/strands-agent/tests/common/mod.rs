//! Helpers shared by the agent's integration tests: the tools the Python parity fixtures use,
//! defined exactly as the Python generator defines them.
#![allow(
    dead_code,
    clippy::expect_used,
    clippy::panic,
    reason = "each test file uses a subset; helpers fail loudly"
)]

use std::sync::{Arc, OnceLock};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use strands_agent::tools::FunctionTool;
use strands_agent::{CancelHandle, tool};
use strands_core::{InterruptRaised, StreamEvent, ToolContext};
use strands_testkit::Step;

/// Add two integers.
///
/// Args:
///     a: first addend
///     b: second addend
#[tool]
pub(crate) async fn add(a: i64, b: i64) -> i64 {
    a + b
}

/// Always fails.
///
/// Args:
///     reason: the error message
#[tool]
pub(crate) fn fail(reason: String) -> Result<String, String> {
    Err(reason)
}

/// Publish a document once a human approved it.
///
/// Args:
///     title: the document's title
#[tool]
#[allow(
    clippy::needless_pass_by_value,
    reason = "tool arguments arrive by value"
)]
pub(crate) fn publish(title: String, context: ToolContext) -> Result<String, InterruptRaised> {
    let reason = json!({"action": "publish", "title": title});
    let response = context.interrupt("approve", reason)?;
    let response = response
        .as_str()
        .map_or_else(|| response.to_string(), str::to_owned);
    Ok(format!("published {title} ({response})"))
}

#[derive(Deserialize, JsonSchema)]
pub(crate) struct NoArgs {}

/// `stop_now`: cancels the agent it belongs to, then returns "stopping" (set the handle after
/// building the agent).
pub(crate) fn stop_now(handle: Arc<OnceLock<CancelHandle>>) -> FunctionTool {
    FunctionTool::new(
        "stop_now",
        "Cancels the agent, then returns.",
        move |_: NoArgs| {
            if let Some(handle) = handle.get() {
                handle.cancel();
            }
            async { "stopping" }
        },
    )
}

/// Removes what differs between runs and stacks for reasons that are not behaviour: tracking ids
/// (random uuids), time-to-first-byte (timing) and pydantic's wording of validation errors (the
/// prefix Python and Rust share is kept).
pub(crate) fn normalize(value: &mut Value) {
    const VALIDATION: &str = "Error: Validation failed for input parameters: ";
    match value {
        Value::Object(map) => {
            map.shift_remove("tracking_id");
            map.shift_remove("timeToFirstByteMs");
            map.values_mut().for_each(normalize);
        }
        Value::Array(items) => items.iter_mut().for_each(normalize),
        Value::String(text) if text.starts_with(VALIDATION) => *text = VALIDATION.to_owned(),
        _ => {}
    }
}

pub(crate) fn object(value: &Value) -> &Map<String, Value> {
    value.as_object().expect("a JSON object")
}

// The output model of the structured-output fixtures (`Weather` in `parity/generate.py`).
// `Literal["C", "F"] = "C"`
#[derive(Deserialize, Serialize, JsonSchema, Default)]
#[schemars(inline)]
pub(crate) enum Unit {
    #[default]
    C,
    F,
}

/// Weather report for a city.
#[derive(Deserialize, JsonSchema)]
pub(crate) struct Weather {
    /// City name
    pub(crate) city: String,
    pub(crate) temperature: f64,
    #[serde(default = "fifty")]
    pub(crate) humidity: f64,
    #[serde(default)]
    pub(crate) unit: Unit,
    pub(crate) conditions: Option<String>,
}

pub(crate) fn fifty() -> f64 {
    50.0
}

/// The model script of a `fixtures/parity` scenario: each step a list of stream events, or a
/// scripted failure (`throttled`, `context_overflow`).
pub(crate) fn parity_script(fixture: &Value) -> Vec<Step> {
    fixture["model_script"]
        .as_array()
        .expect("a model script")
        .iter()
        .map(|step| {
            if let Some(events) = step.get("events") {
                Step::Events(
                    serde_json::from_value::<Vec<StreamEvent>>(events.clone())
                        .expect("stream events"),
                )
            } else {
                let message = step["message"].as_str().expect("a message").to_owned();
                match step["raise"].as_str().expect("a failure") {
                    "throttled" => Step::Throttle(message),
                    "context_overflow" => Step::ContextOverflow(message),
                    other => panic!("unknown scripted failure {other}"),
                }
            }
        })
        .collect()
}
