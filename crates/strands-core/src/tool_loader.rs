//! [`ToolLoader`]: tools chosen afresh for each invocation, e.g. by a semantic search over
//! hundreds of tools that could not all be offered to the model at once.
//!
//! Python has no trait for this: a plugin registers tools in a `BeforeInvocationEvent` hook and
//! removes them at the next one (bedrock-agentcore's `AgentCoreToolSearchPlugin`). An agent
//! given a loader does the same, with the registry kept consistent for it.

use std::fmt;
use std::sync::Arc;

use crate::{BoxFuture, Message, Model, Tool};

/// Chooses the tools an agent offers the model during one invocation, besides its own.
///
/// The agent calls [`ToolLoader::load`] once per invocation that brings new input, after the
/// `BeforeInvocationEvent` hooks and before the input joins the history, and offers the model
/// its own tools plus the loaded ones until the next load. Resuming from an interrupt keeps the
/// tools loaded before, so a paused tool can still run.
///
/// A loader never fails the invocation: whatever goes wrong it logs, and answers with the
/// tools it could load (often none). A loaded tool whose name the agent's own tools (or its
/// structured output tool) already use is skipped, as Python skips it.
///
/// ```
/// use std::sync::Arc;
/// use strands_core::{BoxFuture, Tool, ToolLoadRequest, ToolLoader};
///
/// /// Offers a `weather` tool only when the user asks about the weather.
/// struct WeatherOnDemand {
///     weather: Arc<dyn Tool>,
/// }
///
/// impl std::fmt::Debug for WeatherOnDemand {
///     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
///         f.write_str("WeatherOnDemand")
///     }
/// }
///
/// impl ToolLoader for WeatherOnDemand {
///     fn load<'a>(&'a self, request: ToolLoadRequest<'a>) -> BoxFuture<'a, Option<Vec<Arc<dyn Tool>>>> {
///         Box::pin(async move {
///             if request.messages.is_empty() {
///                 return None; // nothing new was said: keep what was loaded
///             }
///             let asks = request.messages.iter().any(|m| m.text().contains("weather"));
///             Some(if asks { vec![self.weather.clone()] } else { Vec::new() })
///         })
///     }
/// }
///
/// // Given to an agent with strands-agent's `AgentBuilder::tool_loader`.
/// fn loader(weather: Arc<dyn Tool>) -> Arc<dyn ToolLoader> {
///     Arc::new(WeatherOnDemand { weather })
/// }
/// # let _ = loader;
/// ```
pub trait ToolLoader: Send + Sync + fmt::Debug {
    /// The tools for the invocation `request` describes: `Some` replaces the tools loaded
    /// before (`Some(vec![])` removes them), `None` keeps them.
    fn load<'a>(
        &'a self,
        request: ToolLoadRequest<'a>,
    ) -> BoxFuture<'a, Option<Vec<Arc<dyn Tool>>>>;
}

impl<L: ToolLoader + ?Sized> ToolLoader for Arc<L> {
    fn load<'a>(
        &'a self,
        request: ToolLoadRequest<'a>,
    ) -> BoxFuture<'a, Option<Vec<Arc<dyn Tool>>>> {
        (**self).load(request)
    }
}

/// What a [`ToolLoader`] is told about an invocation.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct ToolLoadRequest<'a> {
    /// The messages this invocation adds to the history (empty when it continues without new
    /// input). Python: `BeforeInvocationEvent.messages`.
    pub messages: &'a [Message],
    /// The whole history before them.
    pub history: &'a [Message],
    /// The agent's model (a loader may ask it, e.g. to state the user's intent).
    pub model: &'a dyn Model,
}

impl<'a> ToolLoadRequest<'a> {
    /// A request for `messages`, added to `history`, by an agent whose model is `model`.
    pub fn new(messages: &'a [Message], history: &'a [Message], model: &'a dyn Model) -> Self {
        Self {
            messages,
            history,
            model,
        }
    }
}
