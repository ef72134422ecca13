//! An entrypoint that answers with a typed value: the model fills a `WeatherReport` (Python:
//! `agent(prompt, structured_output_model=WeatherReport)` with a pydantic model), validated
//! before it is returned as JSON.
//!
//! ```bash
//! AWS_REGION=us-east-1 cargo run -p example-structured-output
//! curl -s localhost:8080/invocations -d '{"prompt": "Weather in Lisbon: 21.5 C and sunny"}'
//! # {"temperature": 21.5, "conditions": "sunny", "city": "Lisbon"}
//! ```

use std::sync::Arc;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use strands_runtime::models::bedrock::BedrockModel;
use strands_runtime::prelude::*;

/// A weather report.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
struct WeatherReport {
    /// Temperature in degrees Celsius.
    temperature: f64,
    /// One or two words, such as sunny or light rain.
    conditions: String,
    /// The city the report is for.
    city: String,
}

#[tokio::main]
async fn main() -> Result<(), ServeError> {
    let model = Arc::new(BedrockModel::from_env().build().await);
    AgentCoreApp::new()
        .entrypoint(move |payload: Value, _context: RequestContext| {
            let model = model.clone();
            async move {
                let prompt = payload["prompt"].as_str().ok_or_else(|| {
                    HandlerError::http(StatusCode::BAD_REQUEST, r#"send {"prompt": "..."}"#)
                })?;
                let mut agent = Agent::builder().shared_model(model).build()?;
                let report: WeatherReport = agent.structured_output(prompt).await?;
                Ok::<_, HandlerError>(json!(report))
            }
        })
        .serve()
        .await
}
