//! Hooks: typed callbacks the agent runs at fixed points of its loop.
//!
//! A callback receives `&mut` the event and may change its writable fields: rewrite or cancel a
//! tool call ([`BeforeToolCallEvent`]), replace a tool result ([`AfterToolCallEvent`]), ask for
//! the model call to be retried ([`AfterModelCallEvent::retry`]), cancel an invocation
//! ([`BeforeInvocationEvent::cancel`]) and so on. A [`HookProvider`] registers several
//! callbacks at once.
//!
//! ```
//! use std::sync::Arc;
//! use std::sync::atomic::{AtomicUsize, Ordering};
//! use strands_agent::hooks::{BeforeToolCallEvent, HookProvider, HookRegistry, MessageAddedEvent};
//! use strands_agent::{tool, Agent};
//! use strands_testkit::ScriptedModel;
//!
//! /// Delete a file.
//! #[tool]
//! async fn delete_file(path: String) -> String {
//!     format!("deleted {path}")
//! }
//!
//! /// Counts messages and refuses deletions outside /tmp.
//! #[derive(Default)]
//! struct Guard {
//!     messages: Arc<AtomicUsize>,
//! }
//!
//! impl HookProvider for Guard {
//!     fn register_hooks(&self, registry: &mut HookRegistry) {
//!         let messages = self.messages.clone();
//!         registry.add_callback(move |_: &mut MessageAddedEvent| {
//!             messages.fetch_add(1, Ordering::Relaxed);
//!         });
//!         registry.add_callback(|event: &mut BeforeToolCallEvent| {
//!             let path = event.tool_use.input["path"].as_str().unwrap_or("");
//!             if !path.starts_with("/tmp/") {
//!                 event.cancel_tool = Some(format!("refusing to delete {path}"));
//!             }
//!         });
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let model = ScriptedModel::builder()
//!     .tool_use("t1", "delete_file", r#"{"path": "/etc/passwd"}"#)
//!     .text("I was not allowed to.")
//!     .build();
//! let guard = Guard::default();
//! let counter = guard.messages.clone();
//! let mut agent = Agent::builder().model(model).tool(delete_file).hooks(guard).build()?;
//! agent.invoke("delete /etc/passwd").await?;
//! let result = agent.messages()[2].content[0].as_tool_result().unwrap();
//! assert_eq!(result.content[0].as_text(), Some("refusing to delete /etc/passwd"));
//! assert_eq!(counter.load(Ordering::Relaxed), 4);
//! # Ok(())
//! # }
//! ```
//!
//! Python: `strands.hooks` (`HookProvider`, `HookRegistry`, the `*Event` classes). Callbacks on
//! `After*` events run in reverse registration order, as in Python.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use serde_json::Value;
use strands_core::interrupt::InterruptScope;
use strands_core::{
    AgentState, BoxFuture, InterruptRaised, Message, ModelError, StopReason, Tool, ToolResult,
    ToolUse,
};

use crate::result::AgentResult;

/// An event hooks can subscribe to.
pub trait HookEvent: Send + 'static {
    /// Whether callbacks run in reverse registration order (the `After*` events).
    const REVERSE: bool = false;
}

/// Registers callbacks; implemented by anything that bundles several hooks.
///
/// Python: `HookProvider.register_hooks`.
pub trait HookProvider: Send + Sync {
    /// Adds this provider's callbacks to `registry`.
    fn register_hooks(&self, registry: &mut HookRegistry);
}

/// Where a callback runs relative to others on the same event; lower runs first (reversed for
/// `After*` events). Python: `HookOrder`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct HookOrder(pub i32);

impl HookOrder {
    /// Before user callbacks.
    pub const SDK_FIRST: Self = Self(-100);
    /// The default.
    pub const DEFAULT: Self = Self(0);
    /// After user callbacks.
    pub const SDK_LAST: Self = Self(100);
}

type SyncCallback<E> = Arc<dyn Fn(&mut E) + Send + Sync>;
type AsyncCallback<E> = Arc<dyn for<'a> Fn(&'a mut E) -> BoxFuture<'a, ()> + Send + Sync>;

enum Callback<E> {
    Sync(SyncCallback<E>),
    Async(AsyncCallback<E>),
}

impl<E> Clone for Callback<E> {
    fn clone(&self) -> Self {
        match self {
            Self::Sync(f) => Self::Sync(f.clone()),
            Self::Async(f) => Self::Async(f.clone()),
        }
    }
}

struct Entry<E> {
    order: HookOrder,
    callback: Callback<E>,
}

/// Callbacks by event type.
///
/// Python: `HookRegistry`.
#[derive(Default)]
pub struct HookRegistry {
    by_event: HashMap<TypeId, Box<dyn Any + Send + Sync>>,
}

impl fmt::Debug for HookRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HookRegistry")
            .field("event_types", &self.by_event.len())
            .finish()
    }
}

impl HookRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a callback for the event type of its argument.
    pub fn add_callback<E: HookEvent>(
        &mut self,
        callback: impl Fn(&mut E) + Send + Sync + 'static,
    ) -> &mut Self {
        self.insert(HookOrder::DEFAULT, Callback::Sync(Arc::new(callback)))
    }

    /// Adds a callback at a given [`HookOrder`].
    pub fn add_callback_ordered<E: HookEvent>(
        &mut self,
        order: HookOrder,
        callback: impl Fn(&mut E) + Send + Sync + 'static,
    ) -> &mut Self {
        self.insert(order, Callback::Sync(Arc::new(callback)))
    }

    /// Adds an async callback, e.g. one that asks a service before allowing a tool call:
    ///
    /// ```
    /// use strands_agent::hooks::{BeforeToolCallEvent, HookRegistry};
    ///
    /// let mut registry = HookRegistry::new();
    /// registry.add_async_callback(|event: &mut BeforeToolCallEvent| {
    ///     Box::pin(async move {
    ///         tokio::task::yield_now().await; // e.g. an HTTP call
    ///         event.cancel_tool = Some("not allowed".into());
    ///     })
    /// });
    /// ```
    pub fn add_async_callback<E: HookEvent>(
        &mut self,
        callback: impl for<'a> Fn(&'a mut E) -> BoxFuture<'a, ()> + Send + Sync + 'static,
    ) -> &mut Self {
        self.insert(HookOrder::DEFAULT, Callback::Async(Arc::new(callback)))
    }

    /// Lets `provider` register its callbacks.
    pub fn add_provider(&mut self, provider: &dyn HookProvider) -> &mut Self {
        provider.register_hooks(self);
        self
    }

    fn insert<E: HookEvent>(&mut self, order: HookOrder, callback: Callback<E>) -> &mut Self {
        let entries = self
            .by_event
            .entry(TypeId::of::<E>())
            .or_insert_with(|| Box::new(Vec::<Entry<E>>::new()));
        if let Some(entries) = entries.downcast_mut::<Vec<Entry<E>>>() {
            // Stable: equal orders keep registration order.
            let at = entries.partition_point(|e| e.order <= order);
            entries.insert(at, Entry { order, callback });
        }
        self
    }

    /// Whether any callback listens to `E` (the agent builds events only when one does).
    pub fn has<E: HookEvent>(&self) -> bool {
        self.by_event.contains_key(&TypeId::of::<E>())
    }

    /// Runs every callback for `E`, in order (reversed for `After*` events).
    pub async fn invoke<E: HookEvent>(&self, event: &mut E) {
        let Some(entries) = self
            .by_event
            .get(&TypeId::of::<E>())
            .and_then(|e| e.downcast_ref::<Vec<Entry<E>>>())
        else {
            return;
        };
        let run = |callback: &Callback<E>| callback.clone();
        let callbacks: Vec<Callback<E>> = if E::REVERSE {
            entries.iter().rev().map(|e| run(&e.callback)).collect()
        } else {
            entries.iter().map(|e| run(&e.callback)).collect()
        };
        for callback in callbacks {
            match callback {
                Callback::Sync(f) => f(event),
                Callback::Async(f) => f(event).await,
            }
        }
    }
}

/// Who an event is about: the agent's name, id and shared state.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct HookAgent {
    /// The agent's name.
    pub name: Arc<str>,
    /// The agent's id.
    pub agent_id: Arc<str>,
    /// The agent's state (a shared handle: writes are seen by the agent).
    pub state: AgentState,
}

/// An invocation starts. Callbacks may rewrite the new input messages or cancel.
#[derive(Debug)]
#[non_exhaustive]
pub struct BeforeInvocationEvent {
    /// The agent.
    pub agent: HookAgent,
    /// The messages this invocation appends to history (writable).
    pub messages: Vec<Message>,
    /// Set to stop before calling the model: this text is appended as the assistant's answer
    /// (empty: Python's `"invocation denied by hook"`), the stop reason is `end_turn`, and the
    /// input is not recorded.
    pub cancel: Option<String>,
}

impl HookEvent for BeforeInvocationEvent {}

/// An invocation ended (also when it failed: then `result` is `None`).
#[derive(Debug)]
#[non_exhaustive]
pub struct AfterInvocationEvent {
    /// The agent.
    pub agent: HookAgent,
    /// The result, `None` when the invocation failed.
    pub result: Option<AgentResult>,
}

impl HookEvent for AfterInvocationEvent {
    const REVERSE: bool = true;
}

/// A message was appended to the history (and stored, with a session).
#[derive(Debug)]
#[non_exhaustive]
pub struct MessageAddedEvent {
    /// The agent.
    pub agent: HookAgent,
    /// The message (writable): a change is what the conversation holds from then on and what
    /// the model sees, while the session keeps the message as it was stored, as when a Python
    /// hook edits `agent.messages[-1]` (e.g. long-term memory context, see
    /// [`memory`](crate::memory)).
    pub message: Message,
}

impl HookEvent for MessageAddedEvent {}

/// The model is about to be called (also before each retry).
#[derive(Debug)]
#[non_exhaustive]
pub struct BeforeModelCallEvent {
    /// The agent.
    pub agent: HookAgent,
    /// The number of messages in the history sent to the model.
    pub message_count: usize,
    /// Set to skip the model call; the model's answer becomes an assistant message with this
    /// text and stop reason `end_turn` (empty: Python's `"model call denied by hook"`).
    pub cancel: Option<String>,
}

impl HookEvent for BeforeModelCallEvent {}

/// The model call ended, successfully or not.
#[derive(Debug)]
#[non_exhaustive]
pub struct AfterModelCallEvent {
    /// The agent.
    pub agent: HookAgent,
    /// On success, why the model stopped and its message.
    pub stop_response: Option<(StopReason, Message)>,
    pub(crate) error: Option<Arc<ModelError>>,
    /// Set to call the model again. After a success the streamed deltas are not retracted.
    pub retry: bool,
}

impl AfterModelCallEvent {
    /// On failure, the error. Hooks read it; with `retry` unset the agent's own retry strategy
    /// still applies to it.
    pub fn error(&self) -> Option<&ModelError> {
        self.error.as_deref()
    }
}

impl HookEvent for AfterModelCallEvent {
    const REVERSE: bool = true;
}

/// A tool is about to run. Callbacks may rewrite the tool use, swap the tool, cancel the call,
/// or interrupt for human input.
#[non_exhaustive]
pub struct BeforeToolCallEvent {
    /// The agent.
    pub agent: HookAgent,
    /// The tool use (writable: e.g. rewrite its input).
    pub tool_use: ToolUse,
    /// The tool that will run, `None` for an unknown name (writable: swap in another tool).
    pub selected_tool: Option<Arc<dyn Tool>>,
    /// Set to skip the tool; the model receives an error result with this text.
    pub cancel_tool: Option<String>,
    pub(crate) interrupts: Arc<InterruptScope>,
}

impl fmt::Debug for BeforeToolCallEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BeforeToolCallEvent")
            .field("tool_use", &self.tool_use)
            .field(
                "selected_tool",
                &self.selected_tool.as_ref().map(|t| t.name()),
            )
            .field("cancel_tool", &self.cancel_tool)
            .finish_non_exhaustive()
    }
}

impl BeforeToolCallEvent {
    /// Pauses the agent for human input before this tool runs: returns the response when the
    /// agent was resumed with one, otherwise [`InterruptRaised`] (just return from the
    /// callback; the agent stops with stop reason `interrupt`).
    ///
    /// # Errors
    ///
    /// [`InterruptRaised`] until a response arrives.
    pub fn interrupt(
        &self,
        name: &str,
        reason: impl Into<Value>,
    ) -> Result<Value, InterruptRaised> {
        self.interrupts.interrupt(name, reason.into())
    }
}

impl HookEvent for BeforeToolCallEvent {}

/// A tool finished. Callbacks may replace its result or ask for it to run again.
#[derive(Debug)]
#[non_exhaustive]
pub struct AfterToolCallEvent {
    /// The agent.
    pub agent: HookAgent,
    /// The tool use that ran.
    pub tool_use: ToolUse,
    /// The result the model will receive (writable).
    pub result: ToolResult,
    /// Whether the call was cancelled by a hook (then `result` holds the cancel message).
    pub cancelled: bool,
    /// Set to run the tool again (ignored for cancelled calls).
    pub retry: bool,
}

impl HookEvent for AfterToolCallEvent {
    const REVERSE: bool = true;
}
