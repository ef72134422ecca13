//! Context-overflow recovery: Python's `force_stop` event, then the conversation manager reduces
//! the history and the cycle runs again.

use strands_core::ModelError;

use super::Run;
use crate::agent::Agent;
use crate::conversation::{ReduceContext, ReduceError};
use crate::error::AgentError;
use crate::events::AgentEvent;

/// Emits `force_stop` (as Python does each time, before reducing), then asks the conversation
/// manager to reduce the history and syncs the session. `Ok` means: run the cycle again.
pub(super) async fn recover(
    agent: &mut Agent,
    run: &mut Run,
    error: ModelError,
) -> Result<(), AgentError> {
    run.sink
        .emit(AgentEvent::ForceStop {
            reason: error.to_string(),
        })
        .await;
    tracing::warn!(%error, "context window overflow, reducing the conversation");
    let reduced = agent
        .conversation
        .reduce_context(ReduceContext::new(
            &mut agent.messages,
            &agent.model,
            Some(&error),
        ))
        .await;
    match reduced {
        Ok(()) => agent.sync_session().await,
        Err(ReduceError::CannotReduce) => Err(AgentError::ContextWindowOverflow(error)),
        Err(other) => Err(AgentError::ContextReduction(other)),
    }
}
