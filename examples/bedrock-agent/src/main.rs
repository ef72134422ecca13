//! A Bedrock agent with two tools, served on the AgentCore runtime contract in one call.
//!
//! ```bash
//! AWS_REGION=us-east-1 MODEL_ID=us.anthropic.claude-sonnet-4-20250514-v1:0 \
//!   cargo run -p example-bedrock-agent
//! curl -s localhost:8080/invocations -H 'X-Amzn-Bedrock-AgentCore-Runtime-Session-Id: s1' \
//!   -d '{"prompt": "How warm is it in Lisbon, in Fahrenheit?"}'
//! ```
//!
//! The Python equivalent is a Strands `Agent(tools=[weather, to_fahrenheit])` behind a
//! `BedrockAgentCoreApp` entrypoint (docs/migrating-from-python.md).

use std::sync::Arc;

use strands_runtime::models::bedrock::BedrockModel;
use strands_runtime::prelude::*;

/// Gets the current weather in a city.
///
/// # Arguments
/// * `city` - the city, such as Lisbon
#[tool]
fn weather(city: String) -> String {
    format!("Sunny and 22 degrees Celsius in {city}")
}

/// Converts a temperature from Celsius to Fahrenheit.
///
/// # Arguments
/// * `celsius` - degrees Celsius
#[tool]
fn to_fahrenheit(celsius: f64) -> f64 {
    celsius * 9.0 / 5.0 + 32.0
}

#[tokio::main]
async fn main() -> Result<(), ServeError> {
    // MODEL_ID, AWS_REGION and credentials from the environment (the execution role on AgentCore).
    let model = Arc::new(BedrockModel::from_env().build().await);
    // One agent per AgentCore session: {"prompt": "..."} in, {"result": "..."} (or SSE) out.
    AgentEntrypoint::new(move || {
        Agent::builder()
            .shared_model(model.clone())
            .system_prompt("You answer questions about the weather. Use the tools.")
            .tool(weather)
            .tool(to_fahrenheit)
            .build()
    })
    .install(AgentCoreApp::new())
    .serve()
    .await
}
