//! Per-invocation limits, checked at the top of every cycle (Python 1.62's `limits`).

use strands_core::{StopReason, Usage};

use super::Run;
use crate::agent::Agent;
use crate::result::AgentResult;

/// Caps on one invocation, checked at the top of each cycle: when one is reached, the
/// invocation ends with its stop reason (`limit_turns`, `limit_total_tokens`,
/// `limit_output_tokens`), no error, and the last message of the history as its message. Every
/// tool use is answered by then, so the history stays valid.
///
/// Turns count the cycles started (each model call, a forced structured-output retry, a cycle
/// that failed with a context overflow), not throttle retries. Token caps are soft: they stop
/// the next cycle once the invocation's usage reached them. When several are reached, turns win,
/// then total tokens, then output tokens.
///
/// ```
/// use strands_agent::{Agent, Limits};
/// use strands_core::StopReason;
/// use strands_testkit::ScriptedModel;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// // The model keeps asking for a tool; one turn is all this invocation may take.
/// let model = ScriptedModel::builder().tool_use("t1", "clock", "{}").build();
/// let mut agent = Agent::builder().model(model).build()?;
/// let result = agent.invoke_with_limits("what time is it?", Limits::new().turns(1)).await?;
/// assert_eq!(result.stop_reason, StopReason::LimitTurns);
/// assert_eq!(agent.messages().len(), 3); // prompt, tool use, its (error) result
/// # Ok(())
/// # }
/// ```
///
/// Python: `agent(prompt, limits={"turns": 1})`. A cap of 0, which Python rejects, stops before
/// the first cycle.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// The most cycles the invocation may start.
    pub turns: Option<u64>,
    /// Stop once the invocation's `totalTokens` reach this.
    pub total_tokens: Option<u64>,
    /// Stop once the invocation's `outputTokens` reach this.
    pub output_tokens: Option<u64>,
}

impl Limits {
    /// No limits.
    pub fn new() -> Self {
        Self::default()
    }

    /// At most `turns` cycles.
    #[must_use]
    pub fn turns(mut self, turns: u64) -> Self {
        self.turns = Some(turns);
        self
    }

    /// Stop once `tokens` total tokens are used.
    #[must_use]
    pub fn total_tokens(mut self, tokens: u64) -> Self {
        self.total_tokens = Some(tokens);
        self
    }

    /// Stop once `tokens` output tokens are generated.
    #[must_use]
    pub fn output_tokens(mut self, tokens: u64) -> Self {
        self.output_tokens = Some(tokens);
        self
    }

    /// The stop reason of the first cap reached, in Python's order.
    fn reached(&self, cycles: u64, usage: &Usage) -> Option<StopReason> {
        let over = |cap: Option<u64>, used: u64| cap.is_some_and(|cap| used >= cap);
        if over(self.turns, cycles) {
            Some(StopReason::LimitTurns)
        } else if over(self.total_tokens, usage.total_tokens) {
            Some(StopReason::LimitTotalTokens)
        } else if over(self.output_tokens, usage.output_tokens) {
            Some(StopReason::LimitOutputTokens)
        } else {
            None
        }
    }
}

/// The result to stop with when a limit is reached before the next cycle.
pub(super) fn limit_reached(agent: &Agent, run: &Run) -> Option<Box<AgentResult>> {
    let stop_reason = run.options.limits.reached(run.cycles, &run.usage)?;
    let message = agent.messages.last()?.clone();
    tracing::debug!(%stop_reason, cycles = run.cycles, "invocation limit reached");
    Some(run.finish(stop_reason, message))
}
