//! The [`Model`] trait every provider implements.
//!
//! Python: `strands.models.model.Model`.

use std::fmt;
use std::sync::Arc;

use crate::BoxStream;
use crate::content::{Message, SystemContentBlock};
use crate::error::ModelError;
use crate::streaming::StreamEvent;
use crate::tools::{ToolChoice, ToolSpec};

/// The stream a model returns.
pub type ModelStream<'a> = BoxStream<'a, Result<StreamEvent, ModelError>>;

/// A language model that streams Bedrock-Converse-shaped [`StreamEvent`]s.
///
/// Implementations map their wire format onto [`StreamEvent`]s and their failures onto
/// [`ModelError`] (throttling must become [`ModelError::Throttled`], an oversized prompt
/// [`ModelError::ContextWindowOverflow`]). Dropping the returned stream cancels the call.
///
/// ```
/// use futures_core::Stream;
/// use strands_core::{Metrics, Model, ModelRequest, ModelStream, StopReason, StreamEvent, Usage};
///
/// /// A model that always answers "pong".
/// #[derive(Debug)]
/// struct Pong;
///
/// impl Model for Pong {
///     fn model_id(&self) -> &str {
///         "pong"
///     }
///
///     fn stream<'a>(&'a self, _request: ModelRequest<'a>) -> ModelStream<'a> {
///         let events = vec![
///             Ok(StreamEvent::message_start()),
///             Ok(StreamEvent::block_start()),
///             Ok(StreamEvent::text_delta("pong")),
///             Ok(StreamEvent::block_stop()),
///             Ok(StreamEvent::message_stop(StopReason::EndTurn)),
///             Ok(StreamEvent::metadata(Usage::new(1, 1), Metrics::new(0))),
///         ];
///         Box::pin(Iter(events.into_iter()))
///     }
/// }
///
/// struct Iter<I>(I);
/// impl<I: Iterator + Unpin> Stream for Iter<I> {
///     type Item = I::Item;
///     fn poll_next(
///         mut self: std::pin::Pin<&mut Self>,
///         _: &mut std::task::Context<'_>,
///     ) -> std::task::Poll<Option<I::Item>> {
///         std::task::Poll::Ready(self.0.next())
///     }
/// }
///
/// let model: Box<dyn Model> = Box::new(Pong);
/// assert_eq!(model.model_id(), "pong");
/// ```
pub trait Model: Send + Sync + fmt::Debug {
    /// The model identifier, e.g. `us.anthropic.claude-sonnet-4-20250514-v1:0`.
    fn model_id(&self) -> &str;

    /// Streams the model's answer to `request`.
    fn stream<'a>(&'a self, request: ModelRequest<'a>) -> ModelStream<'a>;
}

impl<M: Model + ?Sized> Model for Arc<M> {
    fn model_id(&self) -> &str {
        (**self).model_id()
    }

    fn stream<'a>(&'a self, request: ModelRequest<'a>) -> ModelStream<'a> {
        (**self).stream(request)
    }
}

impl<M: Model + ?Sized> Model for Box<M> {
    fn model_id(&self) -> &str {
        (**self).model_id()
    }

    fn stream<'a>(&'a self, request: ModelRequest<'a>) -> ModelStream<'a> {
        (**self).stream(request)
    }
}

/// Everything a model call receives.
///
/// The messages carry only what the model should see: the agent strips `tracking_id` and
/// `metadata` in spirit (providers must ignore them) and applies Python's normalisation (blank
/// assistant text becomes `"[blank text]"`, invalid tool names become `"INVALID_TOOL_NAME"`).
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct ModelRequest<'a> {
    /// The conversation.
    pub messages: &'a [Message],
    /// The tools the model may call; `None` when there are none (never an empty slice).
    pub tool_specs: Option<&'a [ToolSpec]>,
    /// The system prompt as one string.
    pub system_prompt: Option<&'a str>,
    /// The system prompt as content blocks (may carry cache points).
    pub system_prompt_content: Option<&'a [SystemContentBlock]>,
    /// Forces a tool choice; set only when the agent needs a specific tool (structured output).
    pub tool_choice: Option<&'a ToolChoice>,
}

impl<'a> ModelRequest<'a> {
    /// A request for the given messages, with no tools and no system prompt.
    pub fn new(messages: &'a [Message]) -> Self {
        Self {
            messages,
            tool_specs: None,
            system_prompt: None,
            system_prompt_content: None,
            tool_choice: None,
        }
    }

    /// Sets the tool specs; an empty slice becomes `None`.
    #[must_use]
    pub fn with_tool_specs(mut self, tool_specs: &'a [ToolSpec]) -> Self {
        self.tool_specs = (!tool_specs.is_empty()).then_some(tool_specs);
        self
    }

    /// Sets the system prompt.
    #[must_use]
    pub fn with_system_prompt(
        mut self,
        system_prompt: &'a str,
        content: &'a [SystemContentBlock],
    ) -> Self {
        self.system_prompt = Some(system_prompt);
        self.system_prompt_content = Some(content);
        self
    }

    /// Forces a tool choice.
    #[must_use]
    pub fn with_tool_choice(mut self, tool_choice: &'a ToolChoice) -> Self {
        self.tool_choice = Some(tool_choice);
        self
    }
}
