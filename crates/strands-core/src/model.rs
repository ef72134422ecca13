//! The [`Model`] trait every provider implements.
//!
//! Python: `strands.models.model.Model`.

use std::fmt;
use std::sync::Arc;

use crate::BoxStream;
use crate::content::{ContentBlock, Message, Role, SystemContentBlock};
use crate::error::ModelError;
use crate::streaming::StreamEvent;
use crate::tools::{ToolChoice, ToolSpec, ToolUse};

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
/// The messages carry only what the model should see: each message's role and content (Python
/// strips `tracking_id` and `metadata` before `Model.stream`; here [`ModelMessages`] cannot reach
/// them), after Python's normalisation (blank assistant text becomes `"[blank text]"`, invalid
/// tool names become `"INVALID_TOOL_NAME"`).
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct ModelRequest<'a> {
    /// The conversation.
    pub messages: ModelMessages<'a>,
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
            messages: ModelMessages::new(messages),
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

/// The conversation as a model sees it: the role and content of each message, borrowed from the
/// history without a copy. Python: the `messages` `Model.stream` receives, stripped to
/// `{"role", "content"}`.
///
/// ```
/// use strands_core::{Message, ModelRequest, Role};
///
/// let history = [Message::user("hi"), Message::assistant("Hello!")];
/// let request = ModelRequest::new(&history);
/// let roles: Vec<Role> = request.messages.iter().map(|m| m.role).collect();
/// assert_eq!(roles, [Role::User, Role::Assistant]);
/// // Serialized as a model provider would see it: no tracking id, no metadata.
/// let json = serde_json::to_string(&request.messages.last().unwrap())?;
/// assert_eq!(json, r#"{"role":"assistant","content":[{"text":"Hello!"}]}"#);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct ModelMessages<'a>(&'a [Message]);

impl<'a> ModelMessages<'a> {
    /// The messages of `history`.
    pub fn new(history: &'a [Message]) -> Self {
        Self(history)
    }

    /// How many messages there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The messages in order.
    pub fn iter(
        &self,
    ) -> impl DoubleEndedIterator<Item = ModelMessage<'a>> + ExactSizeIterator + Clone + 'a {
        self.0.iter().map(ModelMessage::of)
    }

    /// The last message.
    pub fn last(&self) -> Option<ModelMessage<'a>> {
        self.0.last().map(ModelMessage::of)
    }

    /// Owned copies holding only role and content (for recording what a model received).
    pub fn to_vec(&self) -> Vec<Message> {
        self.iter()
            .map(|m| Message::new(m.role, m.content.to_vec()))
            .collect()
    }
}

impl<'a> From<&'a [Message]> for ModelMessages<'a> {
    fn from(history: &'a [Message]) -> Self {
        Self(history)
    }
}

impl<'a> From<&'a Vec<Message>> for ModelMessages<'a> {
    fn from(history: &'a Vec<Message>) -> Self {
        Self(history)
    }
}

impl<'a, const N: usize> From<&'a [Message; N]> for ModelMessages<'a> {
    fn from(history: &'a [Message; N]) -> Self {
        Self(history)
    }
}

impl<'a> IntoIterator for ModelMessages<'a> {
    type Item = ModelMessage<'a>;
    type IntoIter =
        std::iter::Map<std::slice::Iter<'a, Message>, fn(&'a Message) -> ModelMessage<'a>>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(ModelMessage::of)
    }
}

impl serde::Serialize for ModelMessages<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

/// One message as a model sees it: `{"role", "content"}`.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct ModelMessage<'a> {
    /// Who wrote it.
    pub role: Role,
    /// What it holds.
    pub content: &'a [ContentBlock],
}

impl<'a> ModelMessage<'a> {
    fn of(message: &'a Message) -> Self {
        Self {
            role: message.role,
            content: &message.content,
        }
    }

    /// The tool uses in this message, in order.
    pub fn tool_uses(self) -> impl Iterator<Item = &'a ToolUse> + 'a {
        self.content.iter().filter_map(|block| match block {
            ContentBlock::ToolUse(tool_use) => Some(tool_use),
            _ => None,
        })
    }
}
