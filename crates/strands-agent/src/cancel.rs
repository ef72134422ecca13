//! Cancelling a running agent from another task.

use std::sync::{Arc, Mutex, PoisonError};

use tokio_util::sync::CancellationToken;

/// Cancels the agent's current invocation from any task or thread.
///
/// Cancellation is observed between model stream events, before tools run and while they run
/// (tools still running are stopped and answered with `"Tool execution cancelled"`), and before the
/// next model call. The invocation then ends with stop reason `cancelled` and a consistent history.
/// Each invocation starts uncancelled, so the agent stays usable.
///
/// ```
/// # use strands_agent::Agent;
/// # use strands_testkit::ScriptedModel;
/// # let model = ScriptedModel::new(Vec::<Vec<strands_core::StreamEvent>>::new());
/// let agent = Agent::builder().model(model).build()?;
/// let handle = agent.cancel_handle();
/// // from another task, while `agent.invoke(...)` runs:
/// handle.cancel();
/// # Ok::<(), strands_agent::BuildError>(())
/// ```
///
/// Python: `Agent.cancel()`.
#[derive(Debug, Clone, Default)]
pub struct CancelHandle {
    current: Arc<Mutex<CancellationToken>>,
}

impl CancelHandle {
    /// Cancels the invocation in progress, if any.
    pub fn cancel(&self) {
        self.current
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .cancel();
    }

    /// A fresh token for a new invocation (taken once per invocation, never per event).
    pub(crate) fn begin(&self) -> CancellationToken {
        let mut current = self.current.lock().unwrap_or_else(PoisonError::into_inner);
        if current.is_cancelled() {
            *current = CancellationToken::new();
        }
        current.clone()
    }
}
