//! What Python's `AgentCoreMemorySessionManager` (bedrock-agentcore 1.25) writes into events and
//! how it reads them back, so a conversation moves between the two stacks unchanged.
//!
//! - A message is one `conversational` payload whose text is `json.dumps(SessionMessage)` (ASCII
//!   escapes, Python separators, `message_id` 0) and whose role is the Strands role upper-cased
//!   (tool results are `USER`), or a `blob` of `json.dumps([text, role])` when
//!   `len(text) + len(role) >= 100000`. Empty text blocks are left out; a message with nothing
//!   left is not written.
//! - Session and agent records are `blob` payloads of their JSON, told apart by the `stateType`
//!   (and `agentId`) metadata.

use aws_sdk_bedrockagentcore::types::{
    Content, Conversational, Event, EventMetadataFilterExpression, FilterInput, LeftExpression,
    MetadataValue, OperatorType, PayloadType, RightExpression, Role,
};
use aws_smithy_types::Document;
use serde::Serialize;
use serde_json::Value;
use strands_core::session::{SessionError, SessionMessage};
use strands_core::{ContentBlock, Message};

/// The conversational payload's text limit (Python's `CONVERSATIONAL_MAX_SIZE`).
pub(crate) const CONVERSATIONAL_MAX_SIZE: usize = 100_000;

/// Metadata key telling state events apart (Python's `STATE_TYPE_KEY`).
pub(crate) const STATE_TYPE_KEY: &str = "stateType";
/// Metadata key naming the agent of an agent-state event (Python's `AGENT_ID_KEY`).
pub(crate) const AGENT_ID_KEY: &str = "agentId";

/// The kind of a state event (Python's `StateType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StateType {
    Session,
    Agent,
}

impl StateType {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Session => "SESSION",
            Self::Agent => "AGENT",
        }
    }
}

/// `json.dumps(value)` with Python's defaults.
pub(crate) fn dumps<T: Serialize + ?Sized>(what: &str, value: &T) -> Result<String, SessionError> {
    strands_core::json::to_python_ascii_string(value).map_err(|source| SessionError::Json {
        location: what.to_owned(),
        source,
    })
}

/// A `blob` payload holding `text` as a JSON string document.
pub(crate) fn blob(text: String) -> PayloadType {
    PayloadType::Blob(Document::String(text))
}

/// The payload storing `message`, or `None` when nothing is left once empty text blocks are
/// dropped (Python writes no event then).
pub(crate) fn message_payload(
    message: &SessionMessage,
) -> Result<Option<PayloadType>, SessionError> {
    let Some(stored) = stored_record(message) else {
        return Ok(None);
    };
    let text = dumps("a message for AgentCore Memory", &stored)?;
    let role = role_name(&stored.message);
    if text.len() + role.len() >= CONVERSATIONAL_MAX_SIZE {
        // Python writes the Strands role here, not the upper-cased one.
        let strands_role = role.to_ascii_lowercase();
        return Ok(Some(blob(dumps(
            "a large message for AgentCore Memory",
            &[text.as_str(), strands_role.as_str()],
        )?)));
    }
    let conversational = Conversational::builder()
        .content(Content::Text(text))
        .role(Role::from(role))
        .build()
        .map_err(|error| SessionError::Backend {
            message: format!("building a conversational payload failed: {error}"),
            source: Some(Box::new(error)),
        })?;
    Ok(Some(PayloadType::Conversational(conversational)))
}

/// The record as stored: `message_id` 0 (the event id identifies the message) and no empty text
/// blocks in the message or its redaction.
fn stored_record(message: &SessionMessage) -> Option<SessionMessage> {
    let mut stored = message.clone();
    stored.message_id = 0;
    drop_empty_text(&mut stored.message);
    if let Some(redacted) = stored.redact_message.as_mut() {
        drop_empty_text(redacted);
    }
    (!stored.message.content.is_empty()).then_some(stored)
}

/// Drops text blocks that are empty or whitespace (Bedrock refuses them; Python drops them too).
fn drop_empty_text(message: &mut Message) {
    message
        .content
        .retain(|block| !matches!(block, ContentBlock::Text(text) if text.trim().is_empty()));
}

/// `"USER"` or `"ASSISTANT"`.
fn role_name(message: &Message) -> &'static str {
    match message.role {
        strands_core::Role::User => "USER",
        strands_core::Role::Assistant => "ASSISTANT",
    }
}

/// The messages stored in `events`, oldest first, each with the id of the event holding it.
///
/// Events are put in time order here (timestamp, then event id), whatever order the service
/// listed them in. Payloads that are not messages (session and agent records, other
/// applications' blobs) are skipped, as Python skips them; a conversational payload that is not a
/// session message is an error naming the event, since history would otherwise silently change.
pub(crate) fn events_to_messages(
    events: &mut [Event],
) -> Result<Vec<(SessionMessage, String)>, SessionError> {
    events.sort_by(|a, b| {
        a.event_timestamp()
            .cmp(b.event_timestamp())
            .then_with(|| a.event_id().cmp(b.event_id()))
    });
    let mut messages = Vec::new();
    for event in events.iter() {
        for item in event.payload() {
            let Some(mut message) = payload_message(event.event_id(), item)? else {
                continue;
            };
            drop_empty_text(&mut message.message);
            if !message.message.content.is_empty() {
                messages.push((message, event.event_id().to_owned()));
            }
        }
    }
    Ok(messages)
}

/// The session message in one payload item, if it holds one.
fn payload_message(
    event_id: &str,
    item: &PayloadType,
) -> Result<Option<SessionMessage>, SessionError> {
    let text = match item {
        PayloadType::Conversational(conversational) => match conversational.content() {
            Some(Content::Text(text)) => text.as_str(),
            _ => return Ok(None),
        },
        PayloadType::Blob(Document::String(blob)) => {
            // `[text, role]` is a large message; anything else (state records) is not one.
            match serde_json::from_str::<Value>(blob) {
                Ok(Value::Array(pair)) if pair.len() == 2 => match &pair[0] {
                    // A pair that is not a session message is another application's blob:
                    // skipped, as Python skips it.
                    Value::String(text) => return Ok(serde_json::from_str(text).ok()),
                    _ => return Ok(None),
                },
                _ => return Ok(None),
            }
        }
        _ => return Ok(None),
    };
    parse_message(event_id, text).map(Some)
}

fn parse_message(event_id: &str, text: &str) -> Result<SessionMessage, SessionError> {
    serde_json::from_str(text).map_err(|source| SessionError::Json {
        location: format!("AgentCore Memory event {event_id}"),
        source,
    })
}

/// The record in the last `blob` of a state event (a batched flush appends newer snapshots).
pub(crate) fn state_record<T: serde::de::DeserializeOwned>(
    event: &Event,
) -> Result<Option<T>, SessionError> {
    let Some(PayloadType::Blob(Document::String(text))) = event.payload().last() else {
        return Ok(None);
    };
    serde_json::from_str(text)
        .map(Some)
        .map_err(|source| SessionError::Json {
            location: format!("AgentCore Memory event {}", event.event_id()),
            source,
        })
}

/// `{"stringValue": value}`.
pub(crate) fn string_value(value: &str) -> MetadataValue {
    MetadataValue::StringValue(value.to_owned())
}

/// A `ListEvents` filter keeping events whose metadata has every `(key, value)`.
pub(crate) fn metadata_filter(pairs: &[(&str, &str)]) -> Result<FilterInput, SessionError> {
    let expressions = pairs
        .iter()
        .map(|(key, value)| {
            EventMetadataFilterExpression::builder()
                .left(LeftExpression::MetadataKey((*key).to_owned()))
                .operator(OperatorType::EqualsTo)
                .right(RightExpression::MetadataValue(string_value(value)))
                .build()
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| SessionError::Backend {
            message: format!("building a ListEvents filter failed: {error}"),
            source: Some(Box::new(error)),
        })?;
    Ok(FilterInput::builder()
        .set_event_metadata(Some(expressions))
        .build())
}

#[cfg(test)]
mod tests {
    use super::*;
    use strands_core::Message;

    fn record(message: Message) -> SessionMessage {
        let mut record = SessionMessage::new(message, 7);
        record.created_at = "2026-12-02T10:37:09.764478+00:00".to_owned();
        record.updated_at = "2026-12-02T10:37:09.764486+00:00".to_owned();
        record
    }

    fn text_of(payload: &PayloadType) -> (&str, &str) {
        let conversational = payload.as_conversational().unwrap();
        let Some(Content::Text(text)) = conversational.content() else {
            panic!("no text")
        };
        (text, conversational.role().as_str())
    }

    #[test]
    fn a_message_is_pythons_json_dumps_of_the_record_with_id_zero() {
        let payload = message_payload(&record(Message::user("héllo")))
            .unwrap()
            .unwrap();
        let (text, role) = text_of(&payload);
        assert_eq!(role, "USER");
        assert!(
            text.starts_with(r#"{"message": {"role": "user", "content": [{"text": "h\u00e9llo"}]"#),
            "{text}"
        );
        assert!(
            text.ends_with(
                r#""message_id": 0, "redact_message": null, "created_at": "2026-12-02T10:37:09.764478+00:00", "updated_at": "2026-12-02T10:37:09.764486+00:00"}"#
            ),
            "{text}"
        );
    }

    #[test]
    fn empty_text_is_dropped_and_an_empty_message_is_not_written() {
        let mut message = Message::assistant("  ");
        assert!(message_payload(&record(message.clone())).unwrap().is_none());
        message.content.push(ContentBlock::Text("kept".into()));
        let payload = message_payload(&record(message)).unwrap().unwrap();
        let (text, role) = text_of(&payload);
        assert_eq!(role, "ASSISTANT");
        assert!(text.contains(r#""content": [{"text": "kept"}]"#), "{text}");
    }

    #[test]
    fn a_large_message_becomes_a_blob_of_text_and_role() {
        let original = record(Message::user("x".repeat(CONVERSATIONAL_MAX_SIZE)));
        let payload = message_payload(&original).unwrap().unwrap();
        let Some(Document::String(blob)) = payload.as_blob().ok() else {
            panic!("not a blob: {payload:?}")
        };
        let pair: (String, String) = serde_json::from_str(blob).unwrap();
        assert_eq!(pair.1, "user", "Python writes the Strands role in the blob");
        let back: SessionMessage = serde_json::from_str(&pair.0).unwrap();
        assert!(back.message == original.message, "the message changed");
        assert_eq!(back.message_id, 0);
    }
}
