//! A custom entrypoint that streams every agent event (text deltas, tool calls, the final
//! result) as server-sent events, the Rust form of Python's
//! `async for event in agent.stream_async(prompt): yield event`.
//!
//! ```bash
//! AWS_REGION=us-east-1 cargo run -p example-streaming-events
//! curl -sN localhost:8080/invocations -d '{"prompt": "What is 6 times 7?"}'
//! ```

use std::sync::Arc;

use futures_util::StreamExt;
use strands_runtime::agent::vended_tools::calculator;
use strands_runtime::models::bedrock::BedrockModel;
use strands_runtime::prelude::*;

#[tokio::main]
async fn main() -> Result<(), ServeError> {
    let model = Arc::new(BedrockModel::from_env().build().await);
    AgentCoreApp::new()
        .entrypoint(move |payload: Value, _context: RequestContext| {
            let model = model.clone();
            async move {
                let Some(prompt) = payload["prompt"].as_str().map(str::to_owned) else {
                    return Err(HandlerError::http(
                        StatusCode::BAD_REQUEST,
                        r#"send {"prompt": "..."}"#,
                    ));
                };
                let mut agent = Agent::builder()
                    .shared_model(model)
                    .tool(calculator)
                    .build()?;
                Ok(Reply::stream(async_stream::stream! {
                    let mut events = std::pin::pin!(agent.stream(prompt));
                    while let Some(event) = events.next().await {
                        // Each event is one SSE frame: `data: {"type": ..., ...}`.
                        yield event.map_err(HandlerError::from);
                    }
                }))
            }
        })
        .serve()
        .await
}
