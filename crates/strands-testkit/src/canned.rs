//! The canned model streams of the Python benchmark baseline
//! (`shared/bench/python-baseline/canned_streams.json`, written by its `fake_model.py --dump`).

use std::collections::HashMap;

use strands_core::{ContentBlock, ModelMessages, Role, StreamEvent};

const CANNED_JSON: &str = include_str!("../fixtures/canned_streams.json");

/// The three recorded streams: `text_answer`, `tool_request` and `tool_final_answer`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct CannedStreams {
    /// Scenario (a): ten text deltas, `end_turn`.
    pub text_answer: Vec<StreamEvent>,
    /// Scenario (b), cycle 1: a tool use of `add` with `{"a": 2, "b": 3}`.
    pub tool_request: Vec<StreamEvent>,
    /// Scenario (b), cycle 2: the final answer.
    pub tool_final_answer: Vec<StreamEvent>,
}

/// Parses the recorded streams.
///
/// # Errors
///
/// Only if the embedded fixture is corrupt.
pub fn python_baseline() -> Result<CannedStreams, serde_json::Error> {
    let mut streams: HashMap<String, Vec<StreamEvent>> = serde_json::from_str(CANNED_JSON)?;
    let mut take = |name: &str| {
        streams.remove(name).ok_or_else(|| {
            <serde_json::Error as serde::de::Error>::custom(format!(
                "canned stream `{name}` is missing"
            ))
        })
    };
    Ok(CannedStreams {
        text_answer: take("text_answer")?,
        tool_request: take("tool_request")?,
        tool_final_answer: take("tool_final_answer")?,
    })
}

impl CannedStreams {
    /// Which stream the Python fake model plays for a conversation: the final answer after a tool
    /// result, the tool request when the last user text has the word `add`, otherwise the text
    /// answer.
    pub fn choose<'a>(&self, messages: impl Into<ModelMessages<'a>>) -> &[StreamEvent] {
        let Some(last) = messages.into().last() else {
            return &self.text_answer;
        };
        if last.role == Role::User
            && last
                .content
                .iter()
                .any(|b| matches!(b, ContentBlock::ToolResult(_)))
        {
            return &self.tool_final_answer;
        }
        let asks_to_add = last
            .content
            .iter()
            .filter_map(ContentBlock::as_text)
            .any(|text| text.split_whitespace().any(|word| word == "add"));
        if asks_to_add {
            &self.tool_request
        } else {
            &self.text_answer
        }
    }
}
