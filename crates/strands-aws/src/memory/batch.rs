//! Messages held back to be written together (Python's `batch_size`): one `CreateEvent` per
//! session holds every buffered message, sent when the batch is full and at the end of each
//! invocation. A failed send puts the messages back, in order, to be sent by the next flush.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use aws_sdk_bedrockagentcore::types::PayloadType;

/// Most messages held per repository: a batch is at most 100, so this is ten failed flushes'
/// worth; past it, new messages are refused instead of piling up.
pub(super) const MAX_BUFFERED: usize = 1000;

/// One held message.
#[derive(Debug, Clone)]
pub(super) struct Buffered {
    pub(super) agent_id: String,
    pub(super) message_id: u64,
    pub(super) payload: PayloadType,
}

/// The held messages of each session, in the order they were added.
#[derive(Debug, Default)]
pub(super) struct Batches {
    sessions: Mutex<HashMap<String, Vec<Buffered>>>,
}

impl Batches {
    fn sessions(&self) -> std::sync::MutexGuard<'_, HashMap<String, Vec<Buffered>>> {
        self.sessions.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Holds `message`; returns how many the session holds, or `None` (nothing held) when the
    /// repository already holds [`MAX_BUFFERED`].
    pub(super) fn push(&self, session_id: &str, message: Buffered) -> Option<usize> {
        let mut sessions = self.sessions();
        if sessions.values().map(Vec::len).sum::<usize>() >= MAX_BUFFERED {
            return None;
        }
        let held = sessions.entry(session_id.to_owned()).or_default();
        held.push(message);
        Some(held.len())
    }

    /// Replaces the held payload of `message_id`; `false` when it is not held.
    pub(super) fn replace(
        &self,
        session_id: &str,
        agent_id: &str,
        message_id: u64,
        payload: PayloadType,
    ) -> bool {
        let mut sessions = self.sessions();
        let held = sessions.get_mut(session_id).and_then(|held| {
            held.iter_mut()
                .rev()
                .find(|m| m.agent_id == agent_id && m.message_id == message_id)
        });
        match held {
            Some(message) => {
                message.payload = payload;
                true
            }
            None => false,
        }
    }

    /// Takes the session's held messages, to send.
    pub(super) fn take(&self, session_id: &str) -> Vec<Buffered> {
        self.sessions().remove(session_id).unwrap_or_default()
    }

    /// Puts back messages whose send failed, before any held since.
    pub(super) fn put_back(&self, session_id: &str, mut messages: Vec<Buffered>) {
        let mut sessions = self.sessions();
        let held = sessions.entry(session_id.to_owned()).or_default();
        messages.append(held);
        *held = messages;
    }

    /// How many messages are held in all.
    pub(super) fn len(&self) -> usize {
        self.sessions().values().map(Vec::len).sum()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]

    use super::*;

    fn message(id: u64) -> Buffered {
        Buffered {
            agent_id: "default".into(),
            message_id: id,
            payload: PayloadType::Blob(aws_smithy_types::Document::String(id.to_string())),
        }
    }

    #[test]
    fn failed_messages_go_back_before_newer_ones_and_the_total_is_bounded() {
        let batches = Batches::default();
        assert_eq!(batches.push("s", message(0)), Some(1));
        assert_eq!(batches.push("s", message(1)), Some(2));
        let sent = batches.take("s");
        batches.push("s", message(2));
        batches.put_back("s", sent);
        let ids: Vec<u64> = batches.take("s").iter().map(|m| m.message_id).collect();
        assert_eq!(ids, [0, 1, 2]);

        for i in 0..MAX_BUFFERED {
            assert!(
                batches
                    .push(&format!("s{}", i % 7), message(i as u64))
                    .is_some()
            );
        }
        assert_eq!(batches.push("s", message(9999)), None);
        assert_eq!(batches.len(), MAX_BUFFERED);
    }

    #[test]
    fn a_held_message_is_replaced_in_place() {
        let batches = Batches::default();
        batches.push("s", message(0));
        let redacted = PayloadType::Blob(aws_smithy_types::Document::String("redacted".into()));
        assert!(batches.replace("s", "default", 0, redacted));
        assert!(!batches.replace("s", "default", 1, message(1).payload));
        let held = batches.take("s");
        assert!(
            matches!(&held[0].payload, PayloadType::Blob(aws_smithy_types::Document::String(s)) if s == "redacted")
        );
    }
}
