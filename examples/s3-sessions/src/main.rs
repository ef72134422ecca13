//! An agent whose sessions live in S3 under Python's `S3SessionManager` layout: AgentCore may
//! route a session to a new microVM (or restart one), and the conversation continues there. The
//! Python equivalent passes `session_manager=S3SessionManager(session_id=..., bucket=...)` to
//! each session's `Agent`.
//!
//! ```bash
//! SESSION_BUCKET=my-agent-sessions AWS_REGION=us-east-1 cargo run -p example-s3-sessions
//! ```

use std::sync::Arc;

use strands_aws::S3SessionRepository;
use strands_runtime::agent::session::SessionManager;
use strands_runtime::models::bedrock::BedrockModel;
use strands_runtime::prelude::*;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let bucket = std::env::var("SESSION_BUCKET")
        .map_err(|_| "set SESSION_BUCKET to the S3 bucket for sessions")?;
    let aws = strands_aws::sdk_config().await;
    let sessions = Arc::new(S3SessionRepository::from_conf(&aws, bucket, "sessions/"));
    let model = Arc::new(BedrockModel::from_env().build().await);
    // The factory gets the AgentCore session id: the agent loads (or starts) that session.
    AgentEntrypoint::per_session(move |session_id| {
        let mut builder = Agent::builder().shared_model(model.clone());
        if let Some(id) = session_id {
            builder = builder.session_manager(SessionManager::with_shared_repository(
                id,
                sessions.clone(),
            )?);
        }
        builder.build()
    })
    .install(AgentCoreApp::new())
    .serve()
    .await?;
    Ok(())
}
