//! [`A2AClientTool`]: lets an agent call remote A2A agents, as Python Strands'
//! `strands.vended_tools.make_a2a_client`.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Value, json};
use strands_agent::tools::FunctionTool;
use strands_core::json::{to_python_repr, to_python_string};
use strands_core::{ToolResult, ToolSpec};

use super::{A2AAgent, A2AAgentBuilder};
use crate::types::TaskState;

const DEFAULT_DESCRIPTION: &str = "Interacts with remote A2A (Agent-to-Agent) protocol agents. \
    Use operation='discover' to fetch an agent card from an endpoint. \
    Use operation='send_message' to send a message and receive a response. \
    Only the listed endpoints are permitted.";

/// A tool (`a2a_client` by default) with which an agent discovers remote A2A agents (their
/// card) and sends them messages, limited to the endpoints it is given. Each call reaches the
/// endpoint afresh (a new conversation each time); an answer whose task did not complete is an
/// error result naming the task's state.
///
/// ```
/// use strands_a2a::A2AClientTool;
/// use strands_agent::Agent;
/// use strands_testkit::ScriptedModel;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let a2a = A2AClientTool::builder()
///     .endpoint("http://calculator.internal:9000/")
///     .build()?;
/// let agent = Agent::builder()
///     .model(ScriptedModel::builder().text("ok").build())
///     .tool(a2a)
///     .build()?;
/// assert_eq!(agent.tool_names().collect::<Vec<_>>(), ["a2a_client"]);
/// # Ok(())
/// # }
/// ```
///
/// Python: `strands.vended_tools.make_a2a_client(allowed_endpoints=[...])`.
#[derive(Debug)]
pub struct A2AClientTool;

/// Builds the [`A2AClientTool`]'s tool.
#[derive(Debug, Default)]
#[must_use]
pub struct A2AClientToolBuilder {
    name: Option<String>,
    description: Option<String>,
    endpoints: BTreeMap<String, Option<A2AAgentBuilder>>,
}

/// Why the tool could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum A2AClientToolError {
    /// No endpoint was allowed.
    #[error("allowed_endpoints must contain at least one endpoint")]
    NoEndpoints,
}

impl A2AClientTool {
    /// Starts building the tool.
    pub fn builder() -> A2AClientToolBuilder {
        A2AClientToolBuilder::default()
    }
}

impl A2AClientToolBuilder {
    /// The tool's name (default `a2a_client`).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// The tool's description (default: Python's, listing the endpoints).
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Allows `url` (matched exactly, as the model writes it), reached with the defaults.
    pub fn endpoint(mut self, url: impl Into<String>) -> Self {
        self.endpoints.insert(url.into(), None);
        self
    }

    /// Allows `agent`'s endpoint, reached with its settings (headers such as `Authorization`,
    /// timeout): Python's `(url, ClientConfig)` entries.
    pub fn agent(mut self, agent: A2AAgentBuilder) -> Self {
        self.endpoints.insert(agent.endpoint.clone(), Some(agent));
        self
    }

    /// The tool.
    ///
    /// # Errors
    ///
    /// [`A2AClientToolError::NoEndpoints`] when no endpoint is allowed.
    pub fn build(self) -> Result<FunctionTool, A2AClientToolError> {
        if self.endpoints.is_empty() {
            return Err(A2AClientToolError::NoEndpoints);
        }
        let description = self.description.unwrap_or_else(|| {
            let list: Vec<&str> = self.endpoints.keys().map(String::as_str).collect();
            format!(
                "{DEFAULT_DESCRIPTION} Permitted endpoints: {}.",
                list.join(", ")
            )
        });
        let spec = ToolSpec::new(
            self.name.unwrap_or_else(|| "a2a_client".to_owned()),
            description,
            input_schema(),
        );
        let endpoints = Arc::new(self.endpoints);
        Ok(FunctionTool::from_spec(spec, move |input, _context| {
            let endpoints = endpoints.clone();
            async move {
                match call(&endpoints, &input).await {
                    Ok(output) => ToolResult::success("", output),
                    Err(error) => ToolResult::error("", format!("Error: A2AClientError - {error}")),
                }
            }
        }))
    }
}

/// Python's schema for the tool, as its `@tool` decorator writes it from the signature and
/// docstring.
fn input_schema() -> Value {
    json!({
        "properties": {
            "operation": {
                "description": "Action to perform \u{2014} ``discover`` to fetch the agent card,\nor ``send_message`` to send a text message and receive a response.",
                "enum": ["discover", "send_message"],
                "type": "string",
            },
            "endpoint": {
                "description": "Base URL of the target A2A agent.",
                "type": "string",
            },
            "message": {
                "default": null,
                "description": "Text to send to the agent.  Required when\n``operation`` is ``send_message``; ignored otherwise.",
                "type": "string",
            },
        },
        "required": ["operation", "endpoint"],
        "type": "object",
    })
}

fn repr(text: &str) -> String {
    to_python_repr(&Value::String(text.to_owned()))
}

/// One call: the text of the result, or what went wrong.
async fn call(
    endpoints: &BTreeMap<String, Option<A2AAgentBuilder>>,
    input: &Value,
) -> Result<String, String> {
    let field = |name: &str| input.get(name).and_then(Value::as_str);
    let endpoint = field("endpoint").ok_or("'endpoint' is required")?;
    let Some(settings) = endpoints.get(endpoint) else {
        let allowed: Vec<Value> = endpoints.keys().map(|k| json!(k)).collect();
        return Err(format!(
            "Endpoint {} is not in the allowed endpoints list. Permitted endpoints: {}",
            repr(endpoint),
            to_python_repr(&Value::Array(allowed))
        ));
    };
    let agent = settings
        .clone()
        .unwrap_or_else(|| A2AAgent::builder(endpoint))
        .build();
    match field("operation") {
        Some("discover") => discover(&agent).await,
        Some("send_message") => match field("message").filter(|m| !m.is_empty()) {
            Some(message) => send_message(&agent, message).await,
            None => Err("'message' is required for send_message operation".to_owned()),
        },
        other => Err(format!(
            "Unknown operation: {}",
            to_python_repr(&other.map_or(Value::Null, |o| json!(o)))
        )),
    }
}

async fn discover(agent: &A2AAgent) -> Result<String, String> {
    let (_, card) = agent.card_and_json().await.map_err(|error| {
        format!(
            "Failed to discover agent card at {}: {error}",
            repr(agent.endpoint())
        )
    })?;
    python_json(&without_nulls(card.clone()))
}

async fn send_message(agent: &A2AAgent, message: &str) -> Result<String, String> {
    let result = agent.invoke(message).await.map_err(|error| {
        format!(
            "Failed to send message to {}: {error}",
            repr(agent.endpoint())
        )
    })?;
    if let Some(state) = result.task_state.filter(|s| *s != TaskState::Completed) {
        let detail = result.texts().collect::<Vec<_>>().join(" ");
        let text = format!(
            "Remote agent at {} did not complete: task state is {}. {detail}",
            repr(agent.endpoint()),
            repr(state.python_name())
        );
        return Err(text.trim_end().to_owned());
    }
    python_json(&json!({"message": result.message}))
}

fn python_json(value: &Value) -> Result<String, String> {
    to_python_string(value).map_err(|e| e.to_string())
}

/// The card as pydantic dumps it with `exclude_none`.
fn without_nulls(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, without_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(without_nulls).collect()),
        other => other,
    }
}
