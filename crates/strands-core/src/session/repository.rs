//! The storage interface sessions are persisted through.

use serde_json::Value;

use crate::BoxFuture;

use super::{Session, SessionAgent, SessionError, SessionMessage};

/// Result of a repository operation.
pub type SessionResult<T> = Result<T, SessionError>;

/// Storage for sessions, their agents and messages: Python's `SessionRepository`.
///
/// Implementations must reject ids that could escape their namespace (use
/// [`validate_id`](super::validate_id)) and make every write atomic: a reader sees the old
/// document or the new one, never a torn one.
///
/// Every [`ObjectStore`](super::ObjectStore) is a repository in Python's layout (see
/// [`session`](super)): `strands_agent::session::FileSessionRepository` keeps it in files,
/// `strands_aws::S3SessionRepository` in S3. Implement this trait directly only for storage that
/// does not hold documents under keys.
pub trait SessionRepository: Send + Sync {
    /// Creates a session; fails with [`SessionError::Conflict`] if it exists.
    fn create_session<'a>(&'a self, session: &'a Session) -> BoxFuture<'a, SessionResult<()>>;

    /// Reads a session, `None` if there is none.
    fn read_session<'a>(
        &'a self,
        session_id: &'a str,
    ) -> BoxFuture<'a, SessionResult<Option<Session>>>;

    /// Creates an agent record in a session.
    fn create_agent<'a>(
        &'a self,
        session_id: &'a str,
        agent: &'a SessionAgent,
    ) -> BoxFuture<'a, SessionResult<()>>;

    /// Reads an agent record, `None` if there is none.
    fn read_agent<'a>(
        &'a self,
        session_id: &'a str,
        agent_id: &'a str,
    ) -> BoxFuture<'a, SessionResult<Option<SessionAgent>>>;

    /// Replaces an agent record, keeping its `created_at` and setting `updated_at` to now; fails
    /// with [`SessionError::Conflict`] if the agent does not exist.
    fn update_agent<'a>(
        &'a self,
        session_id: &'a str,
        agent: &'a SessionAgent,
    ) -> BoxFuture<'a, SessionResult<()>>;

    /// Stores a new message of an agent.
    fn create_message<'a>(
        &'a self,
        session_id: &'a str,
        agent_id: &'a str,
        message: &'a SessionMessage,
    ) -> BoxFuture<'a, SessionResult<()>>;

    /// Reads one message, `None` if there is none.
    fn read_message<'a>(
        &'a self,
        session_id: &'a str,
        agent_id: &'a str,
        message_id: u64,
    ) -> BoxFuture<'a, SessionResult<Option<SessionMessage>>>;

    /// Replaces a message, keeping its `created_at` and setting `updated_at` to now; fails with
    /// [`SessionError::Conflict`] if the message does not exist.
    fn update_message<'a>(
        &'a self,
        session_id: &'a str,
        agent_id: &'a str,
        message: &'a SessionMessage,
    ) -> BoxFuture<'a, SessionResult<()>>;

    /// Lists an agent's messages in `message_id` order, skipping the first `offset` and returning
    /// at most `limit` (all when `None`).
    fn list_messages<'a>(
        &'a self,
        session_id: &'a str,
        agent_id: &'a str,
        limit: Option<usize>,
        offset: usize,
    ) -> BoxFuture<'a, SessionResult<Vec<SessionMessage>>>;

    /// Creates the state record of a swarm or graph (`multi_agent.json`, the document Python's
    /// `serialize_state()` returns). The default stores none.
    fn create_multi_agent<'a>(
        &'a self,
        session_id: &'a str,
        multi_agent_id: &'a str,
        state: &'a Value,
    ) -> BoxFuture<'a, SessionResult<()>> {
        let _ = (session_id, multi_agent_id, state);
        Box::pin(std::future::ready(Err(SessionError::Unsupported(
            "multi-agent state",
        ))))
    }

    /// Reads a swarm's or graph's state record, `None` if there is none. The default stores none.
    fn read_multi_agent<'a>(
        &'a self,
        session_id: &'a str,
        multi_agent_id: &'a str,
    ) -> BoxFuture<'a, SessionResult<Option<Value>>> {
        let _ = (session_id, multi_agent_id);
        Box::pin(std::future::ready(Err(SessionError::Unsupported(
            "multi-agent state",
        ))))
    }

    /// Replaces a swarm's or graph's state record; fails with [`SessionError::Conflict`] if it
    /// does not exist. The default stores none.
    fn update_multi_agent<'a>(
        &'a self,
        session_id: &'a str,
        multi_agent_id: &'a str,
        state: &'a Value,
    ) -> BoxFuture<'a, SessionResult<()>> {
        let _ = (session_id, multi_agent_id, state);
        Box::pin(std::future::ready(Err(SessionError::Unsupported(
            "multi-agent state",
        ))))
    }

    /// Writes what the repository holds back for `session_id` (messages batched into fewer
    /// requests); the session manager calls it at the end of every invocation. The default holds
    /// nothing back.
    fn flush<'a>(&'a self, session_id: &'a str) -> BoxFuture<'a, SessionResult<()>> {
        let _ = session_id;
        Box::pin(std::future::ready(Ok(())))
    }
}
