//! The [`Tool`] trait: something an agent can run when the model asks for it.
//!
//! Python: `strands.types.tools.AgentTool`.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_core::Stream;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::interrupt::{Interrupt, InterruptRaised, InterruptScope};
use crate::state::AgentState;
use crate::tools::{ToolResult, ToolSpec, ToolUse};
use crate::{BoxFuture, BoxStream};

/// The stream a tool returns.
pub type ToolStream<'a> = BoxStream<'a, ToolEvent>;

/// A tool the model can call.
///
/// Most tools are written with the `#[tool]` attribute (in `strands-agent`) or built from a
/// closure; implement this trait directly for tools whose spec is only known at run time (MCP,
/// agents as tools).
///
/// A tool never fails the agent: whatever goes wrong is reported as an error [`ToolResult`] that
/// the model reads. The stream yields any number of [`ToolEvent::Stream`] progress values and
/// should end with one [`ToolEvent::Result`]; a stream that ends without a result is reported to
/// the model as `"Tool '<name>' did not return a result"`, and a panic as an error result.
///
/// ```
/// use serde_json::json;
/// use strands_core::{Tool, ToolContext, ToolResult, ToolSpec, ToolStream, ToolUse};
///
/// struct Clock {
///     spec: ToolSpec,
/// }
///
/// impl Tool for Clock {
///     fn spec(&self) -> &ToolSpec {
///         &self.spec
///     }
///
///     fn stream(&self, tool_use: ToolUse, _context: ToolContext) -> ToolStream<'_> {
///         strands_core::tool_result_stream(async move {
///             ToolResult::success(tool_use.tool_use_id, "12:00")
///         })
///     }
/// }
///
/// let clock = Clock { spec: ToolSpec::new("clock", "Current time.", json!({"type": "object"})) };
/// assert_eq!(clock.name(), "clock");
/// ```
pub trait Tool: Send + Sync {
    /// The spec sent to the model.
    fn spec(&self) -> &ToolSpec;

    /// The tool name (from the spec).
    fn name(&self) -> &str {
        &self.spec().name
    }

    /// Runs the tool for one tool use.
    fn stream(&self, tool_use: ToolUse, context: ToolContext) -> ToolStream<'_>;
}

/// What a running tool reports.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ToolEvent {
    /// Progress, streamed to the caller as a `tool_stream` event.
    Stream(Value),
    /// The final result.
    Result(ToolResult),
}

/// What the agent hands a tool besides its input.
///
/// Python: `strands.types.tools.ToolContext`.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct ToolContext {
    cancellation: CancellationToken,
    state: AgentState,
    interrupts: Option<Arc<InterruptScope>>,
}

impl ToolContext {
    /// A context observing `cancellation`.
    pub fn new(cancellation: CancellationToken) -> Self {
        Self {
            cancellation,
            ..Self::default()
        }
    }

    /// The same context with the agent's state attached.
    #[must_use]
    pub fn with_agent_state(mut self, state: AgentState) -> Self {
        self.state = state;
        self
    }

    /// The same context able to raise interrupts in `scope`.
    #[must_use]
    pub fn with_interrupts(mut self, scope: Arc<InterruptScope>) -> Self {
        self.interrupts = Some(scope);
        self
    }

    /// Cancelled when the agent is cancelled; long-running tools can watch it to stop early.
    pub fn cancellation_token(&self) -> &CancellationToken {
        &self.cancellation
    }

    /// Whether the agent has been cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.cancellation.is_cancelled()
    }

    /// The state of the agent running the tool (shared: writes are seen by the agent).
    pub fn agent_state(&self) -> &AgentState {
        &self.state
    }

    /// The response to the interrupt `name` when the agent was resumed with one, without raising
    /// it otherwise: for a tool that must redo work before it asks again (Python reads
    /// `tool_context.interrupt` only by raising).
    ///
    /// ```
    /// use strands_core::ToolContext;
    ///
    /// assert!(ToolContext::default().interrupt_response("approve").is_none());
    /// ```
    pub fn interrupt_response(&self, name: &str) -> Option<&Value> {
        self.interrupts.as_ref()?.response(name)
    }

    /// The responses the agent was resumed with whose interrupt id starts with `prefix`, as
    /// `(id, response)`: for a tool that passed up interrupts with ids of its own (see
    /// [`raise_interrupts`](Self::raise_interrupts)). Empty outside an agent.
    pub fn responses_with_prefix(&self, prefix: &str) -> Vec<(String, Value)> {
        self.interrupts
            .as_ref()
            .map(|scope| scope.responses_with_prefix(prefix))
            .unwrap_or_default()
    }

    /// Pauses the agent on interrupts whose ids the tool chose, when the tool ends (its result,
    /// if any, is then ignored): how an agent used as a tool passes up the interrupts of the
    /// agent it wraps. Returns `false` outside an agent, where nothing can be paused.
    pub fn raise_interrupts(&self, interrupts: impl IntoIterator<Item = Interrupt>) -> bool {
        match &self.interrupts {
            Some(scope) => {
                scope.raise(interrupts);
                true
            }
            None => false,
        }
    }

    /// The id the interrupt `name` raised here has (stable when the agent resumes the tool);
    /// `None` outside an agent.
    pub fn interrupt_id(&self, name: &str) -> Option<String> {
        self.interrupts.as_ref().map(|scope| scope.id(name))
    }

    /// Asks a human for input: returns the response when the agent was resumed with one for this
    /// interrupt, otherwise [`InterruptRaised`], which the tool returns with `?`. The agent then
    /// stops with stop reason `interrupt`; resuming it runs the tool again, and this time the call
    /// returns the response.
    ///
    /// ```
    /// use serde_json::{json, Value};
    /// use strands_core::{InterruptRaised, ToolContext};
    ///
    /// fn delete_files(ctx: &ToolContext) -> Result<String, InterruptRaised> {
    ///     let answer: Value = ctx.interrupt("approve", json!("delete 3 files?"))?;
    ///     Ok(if answer == json!("yes") { "deleted".into() } else { "kept".into() })
    /// }
    ///
    /// // Outside an agent nothing can answer, so the interrupt is raised.
    /// let raised = delete_files(&ToolContext::default()).unwrap_err();
    /// assert_eq!(raised.interrupt().name, "approve");
    /// ```
    ///
    /// # Errors
    ///
    /// [`InterruptRaised`] until a response arrives (also when the context was not created by an
    /// agent, which cannot be resumed).
    pub fn interrupt(
        &self,
        name: &str,
        reason: impl Into<Value>,
    ) -> Result<Value, InterruptRaised> {
        let reason = reason.into();
        match &self.interrupts {
            Some(scope) => scope.interrupt(name, reason),
            None => Err(InterruptRaised::new(Interrupt::new(
                Interrupt::id_for("tool_call", "", name),
                name,
                reason,
            ))),
        }
    }
}

/// A [`ToolStream`] that yields the result of one future.
pub fn tool_result_stream<'a, F>(future: F) -> ToolStream<'a>
where
    F: Future<Output = ToolResult> + Send + 'a,
{
    Box::pin(ResultOnce {
        future: Some(Box::pin(future)),
    })
}

struct ResultOnce<'a> {
    future: Option<BoxFuture<'a, ToolResult>>,
}

impl Stream for ResultOnce<'_> {
    type Item = ToolEvent;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<ToolEvent>> {
        let Some(future) = self.future.as_mut() else {
            return Poll::Ready(None);
        };
        match future.as_mut().poll(cx) {
            Poll::Ready(result) => {
                self.future = None;
                Poll::Ready(Some(ToolEvent::Result(result)))
            }
            Poll::Pending => Poll::Pending,
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = usize::from(self.future.is_some());
        (n, Some(n))
    }
}
