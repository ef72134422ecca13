//! What a swarm or graph runs on.

use serde::{Serialize, Serializer};
use strands_core::ContentBlock;

use crate::InterruptResponse;

/// A multi-agent task: text, content blocks, or the answers to the interrupts a run paused on.
///
/// Python: `strands.types.multiagent.MultiAgentInput`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum MultiAgentInput {
    /// A text task.
    Text(String),
    /// A multi-modal task.
    Content(Vec<ContentBlock>),
    /// Answers to the interrupts the run paused on; resumes it.
    InterruptResponses(Vec<InterruptResponse>),
}

impl MultiAgentInput {
    /// The task as the content blocks a node receives after its context.
    pub(crate) fn blocks(&self) -> &[ContentBlock] {
        match self {
            Self::Content(blocks) => blocks,
            Self::Text(_) | Self::InterruptResponses(_) => &[],
        }
    }
}

/// As Python persists `current_task`: the text, or the list of blocks.
impl Serialize for MultiAgentInput {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Text(text) => serializer.serialize_str(text),
            Self::Content(blocks) => blocks.serialize(serializer),
            Self::InterruptResponses(responses) => responses.serialize(serializer),
        }
    }
}

impl From<&str> for MultiAgentInput {
    fn from(text: &str) -> Self {
        Self::Text(text.to_owned())
    }
}

impl From<String> for MultiAgentInput {
    fn from(text: String) -> Self {
        Self::Text(text)
    }
}

impl From<Vec<ContentBlock>> for MultiAgentInput {
    fn from(blocks: Vec<ContentBlock>) -> Self {
        Self::Content(blocks)
    }
}

impl From<Vec<InterruptResponse>> for MultiAgentInput {
    fn from(responses: Vec<InterruptResponse>) -> Self {
        Self::InterruptResponses(responses)
    }
}
