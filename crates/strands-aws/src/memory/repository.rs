//! [`AgentCoreMemory`] and the [`MemorySessionRepository`] of one actor.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use aws_sdk_bedrockagentcore::Client;
use aws_sdk_bedrockagentcore::types::{Event, FilterInput, MetadataValue, PayloadType};
use aws_smithy_types::DateTime;
use strands_core::BoxFuture;
use strands_core::session::{
    Session, SessionAgent, SessionError, SessionMessage, SessionRepository, SessionResult,
    validate_id,
};
use strands_core::time::now_iso8601;

use super::batch::{Batches, Buffered, MAX_BUFFERED};
use super::errors::Call;
use super::wire::{self, AGENT_ID_KEY, STATE_TYPE_KEY, StateType};

/// Most events one `ListEvents` call returns (the API's maximum).
const PAGE_SIZE: usize = 100;

/// Most events read to restore a conversation (Python's `MAX_FETCH_ALL_RESULTS`).
pub const DEFAULT_MAX_EVENTS: usize = 10_000;

/// The largest batch (Python's `batch_size` maximum).
pub const MAX_BATCH_SIZE: usize = 100;

/// Most `(session, agent)` pairs whose latest message and creation time a repository remembers.
const MAX_KNOWN: usize = 1024;

/// An AgentCore Memory resource: the client and the memory id, shared by the repositories of
/// every actor ([`AgentCoreMemory::for_actor`]), so one process serves many users.
///
/// ```no_run
/// use strands_aws::AgentCoreMemory;
///
/// # async fn example() -> Result<(), Box<dyn std::error::Error>> {
/// let config = strands_aws::sdk_config().await;
/// let memory = AgentCoreMemory::from_conf(&config, "my_memory-a1b2c3d4e5")?;
/// // Per invocation: the caller's conversations.
/// let repository = memory.for_actor("user-42")?;
/// # let _ = repository;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct AgentCoreMemory {
    client: Client,
    memory_id: Arc<str>,
}

impl fmt::Debug for AgentCoreMemory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The client (and its credentials provider) is left out on purpose.
        f.debug_struct("AgentCoreMemory")
            .field("memory_id", &self.memory_id)
            .finish_non_exhaustive()
    }
}

impl AgentCoreMemory {
    /// The memory `memory_id` (an id or an ARN) reached through `client`.
    ///
    /// # Errors
    ///
    /// [`SessionError::InvalidId`] for an empty id, one over 2048 bytes or one with control
    /// characters.
    pub fn new(client: Client, memory_id: impl Into<String>) -> Result<Self, SessionError> {
        let memory_id = memory_id.into();
        if memory_id.is_empty() || memory_id.len() > 2048 || memory_id.chars().any(char::is_control)
        {
            return Err(SessionError::InvalidId {
                kind: "memory",
                id: memory_id,
                rule: "a memory id (name-0123456789) or its ARN",
            });
        }
        Ok(Self {
            client,
            memory_id: memory_id.into(),
        })
    }

    /// The memory with a client built from `config` (e.g. [`crate::sdk_config`]). Like Python,
    /// the client identifies itself as `strands-agents` unless `config` names an app already.
    ///
    /// # Errors
    ///
    /// As [`AgentCoreMemory::new`].
    pub fn from_conf(
        config: &aws_config::SdkConfig,
        memory_id: impl Into<String>,
    ) -> Result<Self, SessionError> {
        let builder = crate::agentcore::data_plane_config(config);
        Self::new(Client::from_conf(builder.build()), memory_id)
    }

    /// Checks a session id against AgentCore's pattern (1 to 100 letters, digits, `-` and `_`,
    /// starting with a letter or digit), as every repository call does.
    ///
    /// # Errors
    ///
    /// [`SessionError::InvalidId`] naming the rule.
    pub fn check_session_id(session_id: &str) -> Result<(), SessionError> {
        MemorySessionRepository::check_session(session_id)
    }

    /// The memory id (or ARN) given.
    pub fn memory_id(&self) -> &str {
        &self.memory_id
    }

    /// The client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The session repository of `actor_id` (a user, usually): every session and message it
    /// stores is that actor's, as Python's `AgentCoreMemoryConfig(actor_id=...)`. Cheap: the
    /// client is shared.
    ///
    /// # Errors
    ///
    /// [`SessionError::InvalidId`] unless the id is 1 to 255 letters, digits, `-`, `_` and `/`,
    /// starting with a letter or digit, in segments joined by `:` (AgentCore's rule; Cognito
    /// user ids such as `us-east-1:1234abcd-...` fit it).
    pub fn for_actor(
        &self,
        actor_id: impl Into<String>,
    ) -> Result<MemorySessionRepository, SessionError> {
        let actor_id = actor_id.into();
        if !valid_actor(&actor_id) {
            return Err(SessionError::InvalidId {
                kind: "actor",
                id: actor_id,
                rule: "AgentCore Memory actor ids are 1 to 255 letters, digits, `-`, `_` and `/`, starting with a letter or digit, in segments joined by `:`",
            });
        }
        Ok(MemorySessionRepository {
            memory: self.clone(),
            actor_id,
            clock: Mutex::new(0),
            known: Mutex::new(Known::default()),
            max_events: DEFAULT_MAX_EVENTS,
            batch_size: 1,
            batches: Batches::default(),
        })
    }
}

/// AgentCore's actor pattern: `[a-zA-Z0-9][a-zA-Z0-9-_/]*(?::[a-zA-Z0-9-_/]+)*`, at most 255.
fn valid_actor(id: &str) -> bool {
    let mut segments = id.split(':');
    id.len() <= 255
        && segments
            .next()
            .is_some_and(|first| valid_name(first, 255, b"-_/"))
        && segments.all(|segment| {
            !segment.is_empty()
                && segment
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_/".contains(&b))
        })
}

/// Whether `id` is 1 to `max` ASCII letters, digits and `extra` bytes, starting with a letter or
/// digit (AgentCore's id patterns).
fn valid_name(id: &str, max: usize, extra: &[u8]) -> bool {
    let bytes = id.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= max
        && bytes[0].is_ascii_alphanumeric()
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || extra.contains(b))
}

/// A [`SessionRepository`] keeping one actor's sessions in AgentCore Memory, as events in the
/// exact format of Python's `AgentCoreMemorySessionManager` (bedrock-agentcore 1.25), so either
/// stack continues a conversation the other stored:
///
/// - every message is one `CreateEvent` (see [`crate::memory`] for the payloads), stamped with a
///   strictly increasing millisecond timestamp;
/// - the session and agent records are `blob` events with `stateType` (and `agentId`) metadata; an
///   agent update is a new event (events are immutable), read back as the newest one;
/// - restoring lists the session's events in pages of 100 (at most [`DEFAULT_MAX_EVENTS`], the
///   newest, as Python) and puts them in time order.
///
/// Each call reaches the service before it returns, so a message the agent holds is stored; a
/// failure is a [`SessionError::Backend`] that says what to fix, and what was stored stays.
///
/// Differences from Python, all safer: a redaction is stored (Python's update writes the original
/// message again), events are ordered by timestamp on restore whatever the listing order, a
/// listed message that does not parse is an error instead of an empty history, and legacy
/// (`session_<id>` actor) events of SDKs before metadata are not migrated.
pub struct MemorySessionRepository {
    memory: AgentCoreMemory,
    actor_id: String,
    /// The last event timestamp used, in milliseconds since the epoch.
    clock: Mutex<i64>,
    known: Mutex<Known>,
    max_events: usize,
    batch_size: usize,
    batches: Batches,
}

impl Drop for MemorySessionRepository {
    fn drop(&mut self) {
        let held = self.batches.len();
        if held > 0 {
            tracing::error!(
                actor_id = %self.actor_id,
                held,
                "AgentCore Memory messages held for a batch were never written (every flush failed)"
            );
        }
    }
}

impl fmt::Debug for MemorySessionRepository {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemorySessionRepository")
            .field("memory_id", &self.memory.memory_id)
            .field("actor_id", &self.actor_id)
            .field("max_events", &self.max_events)
            .field("batch_size", &self.batch_size)
            .finish_non_exhaustive()
    }
}

/// What a repository remembers per `(session, agent)` to update records in place.
#[derive(Default)]
struct Known {
    /// The latest message's id and the event holding it (the one message that can be updated).
    latest: HashMap<(String, String), (u64, String)>,
    /// The agent record's `created_at`, kept by updates.
    created: HashMap<(String, String), String>,
}

impl Known {
    /// Forgets everything when full: what is forgotten is read again when needed.
    fn make_room(&mut self) {
        if self.latest.len() >= MAX_KNOWN || self.created.len() >= MAX_KNOWN {
            self.latest.clear();
            self.created.clear();
        }
    }
}

impl MemorySessionRepository {
    /// Reads at most `events` events when restoring a conversation (default
    /// [`DEFAULT_MAX_EVENTS`]); older ones are left out, with a warning.
    #[must_use]
    pub fn with_max_events(mut self, events: usize) -> Self {
        self.max_events = events.max(1);
        self
    }

    /// Holds messages back and writes up to `size` of them in one `CreateEvent` (Python's
    /// `batch_size`, 1 to 100; default 1, every message at once): when `size` are held and at
    /// the end of every invocation, so the conversation streams without waiting for Memory. A
    /// failed write keeps them for the next flush; the invocation reports the error.
    #[must_use]
    pub fn with_batch_size(mut self, size: usize) -> Self {
        self.batch_size = size.clamp(1, MAX_BATCH_SIZE);
        self
    }

    /// The actor whose sessions this repository stores.
    pub fn actor_id(&self) -> &str {
        &self.actor_id
    }

    /// The memory.
    pub fn memory(&self) -> &AgentCoreMemory {
        &self.memory
    }

    fn call<'a>(&'a self, operation: &'static str, session_id: &'a str) -> Call<'a> {
        Call {
            operation,
            memory_id: &self.memory.memory_id,
            session: Some((&self.actor_id, session_id)),
        }
    }

    fn known(&self) -> std::sync::MutexGuard<'_, Known> {
        self.known.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Now, floored to the millisecond AgentCore stores, and after every earlier timestamp.
    fn next_timestamp(&self) -> DateTime {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        let mut last = self.clock.lock().unwrap_or_else(PoisonError::into_inner);
        *last = now.max(*last + 1);
        DateTime::from_millis(*last)
    }

    /// Stores one event and returns its id.
    async fn create_event(
        &self,
        session_id: &str,
        payload: Vec<PayloadType>,
        metadata: Option<HashMap<String, MetadataValue>>,
    ) -> SessionResult<String> {
        let output = self
            .memory
            .client
            .create_event()
            .memory_id(self.memory.memory_id.as_ref())
            .actor_id(&self.actor_id)
            .session_id(session_id)
            .event_timestamp(self.next_timestamp())
            .set_payload(Some(payload))
            .set_metadata(metadata)
            .send()
            .await
            .map_err(|error| self.call("CreateEvent", session_id).error(error))?;
        Ok(output
            .event()
            .map(|event| event.event_id().to_owned())
            .unwrap_or_default())
    }

    /// Stores a session or agent record as a state event.
    async fn create_state(
        &self,
        session_id: &str,
        state: StateType,
        agent_id: Option<&str>,
        record_json: String,
    ) -> SessionResult<()> {
        let mut metadata = HashMap::from([(
            STATE_TYPE_KEY.to_owned(),
            wire::string_value(state.as_str()),
        )]);
        if let Some(agent_id) = agent_id {
            metadata.insert(AGENT_ID_KEY.to_owned(), wire::string_value(agent_id));
        }
        self.create_event(session_id, vec![wire::blob(record_json)], Some(metadata))
            .await
            .map(drop)
    }

    /// Lists up to `limit` events of a session, as the service orders them (newest first).
    async fn list_events(
        &self,
        session_id: &str,
        filter: Option<FilterInput>,
        limit: usize,
    ) -> SessionResult<(Vec<Event>, bool)> {
        let mut events = Vec::new();
        let mut next_token: Option<String> = None;
        loop {
            let page = PAGE_SIZE.min(limit - events.len());
            let output = self
                .memory
                .client
                .list_events()
                .memory_id(self.memory.memory_id.as_ref())
                .actor_id(&self.actor_id)
                .session_id(session_id)
                .include_payloads(true)
                .max_results(i32::try_from(page).unwrap_or(100))
                .set_filter(filter.clone())
                .set_next_token(next_token.take())
                .send()
                .await
                .map_err(|error| self.call("ListEvents", session_id).error(error))?;
            events.extend_from_slice(output.events());
            next_token = output.next_token().map(str::to_owned);
            if next_token.is_none() || events.len() >= limit {
                return Ok((events, next_token.is_some()));
            }
        }
    }

    /// The newest state event of a kind (and agent), if any.
    async fn newest_state(
        &self,
        session_id: &str,
        pairs: &[(&str, &str)],
    ) -> SessionResult<Option<Event>> {
        let filter = wire::metadata_filter(pairs)?;
        let (events, _) = self.list_events(session_id, Some(filter), 1).await?;
        Ok(events.into_iter().next())
    }

    async fn delete_event(&self, session_id: &str, event_id: &str) -> SessionResult<()> {
        self.memory
            .client
            .delete_event()
            .memory_id(self.memory.memory_id.as_ref())
            .actor_id(&self.actor_id)
            .session_id(session_id)
            .event_id(event_id)
            .send()
            .await
            .map(drop)
            .map_err(|error| self.call("DeleteEvent", session_id).error(error))
    }

    /// Every stored message of a session, oldest first, with the id of its event.
    async fn all_messages(&self, session_id: &str) -> SessionResult<Vec<(SessionMessage, String)>> {
        self.flush_session(session_id).await?;
        let (mut events, more) = self.list_events(session_id, None, self.max_events).await?;
        if more {
            tracing::warn!(
                session_id,
                max_events = self.max_events,
                "AgentCore Memory session has more events than are read; the oldest are left out"
            );
        }
        let mut messages = wire::events_to_messages(&mut events)?;
        for (index, (message, _)) in messages.iter_mut().enumerate() {
            message.message_id = index as u64;
        }
        Ok(messages)
    }

    /// Checks a session id against AgentCore's pattern before it reaches a URL.
    fn check_session(session_id: &str) -> SessionResult<()> {
        if valid_name(session_id, 100, b"-_") {
            return Ok(());
        }
        Err(SessionError::InvalidId {
            kind: "session",
            id: session_id.to_owned(),
            rule: "AgentCore Memory session ids are 1 to 100 letters, digits, `-` and `_`, starting with a letter or digit",
        })
    }

    fn check_ids(session_id: &str, agent_id: &str) -> SessionResult<()> {
        Self::check_session(session_id)?;
        validate_id("agent", agent_id)
    }

    fn key(session_id: &str, agent_id: &str) -> (String, String) {
        (session_id.to_owned(), agent_id.to_owned())
    }

    async fn write_agent(&self, session_id: &str, agent: &SessionAgent) -> SessionResult<()> {
        let json = wire::dumps("an agent record for AgentCore Memory", agent)?;
        self.create_state(session_id, StateType::Agent, Some(&agent.agent_id), json)
            .await?;
        let mut known = self.known();
        known.make_room();
        known.created.insert(
            Self::key(session_id, &agent.agent_id),
            agent.created_at.clone(),
        );
        Ok(())
    }

    async fn replace_latest(
        &self,
        session_id: &str,
        agent_id: &str,
        message: &SessionMessage,
    ) -> SessionResult<()> {
        let key = Self::key(session_id, agent_id);
        let mut updated = message.clone();
        updated.updated_at = now_iso8601();
        let Some(payload) = wire::message_payload(&updated)? else {
            return Ok(());
        };
        if self
            .batches
            .replace(session_id, agent_id, message.message_id, payload.clone())
        {
            return Ok(());
        }
        let known = self.known().latest.get(&key).cloned();
        let old_event = match known {
            Some((id, event)) => (id == message.message_id).then_some(event),
            None => self.latest_alone(session_id, message.message_id).await?,
        };
        let Some(old_event) = old_event else {
            return Err(SessionError::Conflict(format!(
                "message {} of agent {agent_id} in session {session_id} is not the latest stored message alone in its event; AgentCore Memory events can only be replaced for the latest one",
                message.message_id
            )));
        };
        let new_event = self.create_event(session_id, vec![payload], None).await?;
        if let Err(error) = self.delete_event(session_id, &old_event).await {
            // Keep one copy of the message: take the new event back (as Python does).
            if let Err(rollback) = self.delete_event(session_id, &new_event).await {
                tracing::error!(
                    session_id,
                    old_event,
                    new_event,
                    error = %rollback,
                    "could not take back a replacement event; the message is stored twice"
                );
            }
            return Err(error);
        }
        self.known()
            .latest
            .insert(key, (message.message_id, new_event));
        Ok(())
    }
}

impl MemorySessionRepository {
    /// The event of message `message_id`, read from the service, if it is the latest message and
    /// its event holds no other (a batch's event cannot be replaced for one message).
    async fn latest_alone(
        &self,
        session_id: &str,
        message_id: u64,
    ) -> SessionResult<Option<String>> {
        let messages = self.all_messages(session_id).await?;
        let Some((last, event)) = messages.last() else {
            return Ok(None);
        };
        let alone = messages.iter().filter(|(_, e)| e == event).count() == 1;
        Ok((last.message_id == message_id && alone).then(|| event.clone()))
    }

    /// Holds a message for the session's batch, writing the batch when full.
    async fn hold(
        &self,
        session_id: &str,
        agent_id: &str,
        message_id: u64,
        payload: PayloadType,
    ) -> SessionResult<()> {
        let buffered = Buffered {
            agent_id: agent_id.to_owned(),
            message_id,
            payload,
        };
        let Some(held) = self.batches.push(session_id, buffered) else {
            return Err(SessionError::Backend {
                message: format!(
                    "AgentCore Memory (memory {}, actor {}, session {session_id}) already holds {MAX_BUFFERED} messages that could not be written; this one is not stored, fix the earlier error first",
                    self.memory.memory_id, self.actor_id
                ),
                source: None,
            });
        };
        if held >= self.batch_size {
            self.flush_session(session_id).await?;
        }
        Ok(())
    }

    /// Writes the session's held messages as one event; on failure they are held again.
    async fn flush_session(&self, session_id: &str) -> SessionResult<()> {
        let held = self.batches.take(session_id);
        if held.is_empty() {
            return Ok(());
        }
        let payloads = held.iter().map(|m| m.payload.clone()).collect();
        match self.create_event(session_id, payloads, None).await {
            Ok(event) => {
                let mut known = self.known();
                known.make_room();
                for message in &held {
                    known
                        .latest
                        .remove(&Self::key(session_id, &message.agent_id));
                }
                if let [only] = held.as_slice() {
                    known.latest.insert(
                        Self::key(session_id, &only.agent_id),
                        (only.message_id, event),
                    );
                }
                Ok(())
            }
            Err(error) => {
                self.batches.put_back(session_id, held);
                Err(error)
            }
        }
    }
}

impl SessionRepository for MemorySessionRepository {
    /// Stores the session record (AgentCore Memory has no sessions of its own; as in Python an
    /// existing one is not looked for).
    fn create_session<'a>(&'a self, session: &'a Session) -> BoxFuture<'a, SessionResult<()>> {
        Box::pin(async move {
            Self::check_session(&session.session_id)?;
            let json = wire::dumps("a session record for AgentCore Memory", session)?;
            self.create_state(&session.session_id, StateType::Session, None, json)
                .await
        })
    }

    fn read_session<'a>(
        &'a self,
        session_id: &'a str,
    ) -> BoxFuture<'a, SessionResult<Option<Session>>> {
        Box::pin(async move {
            Self::check_session(session_id)?;
            let pairs = [(STATE_TYPE_KEY, StateType::Session.as_str())];
            match self.newest_state(session_id, &pairs).await? {
                Some(event) => wire::state_record(&event),
                None => Ok(None),
            }
        })
    }

    fn create_agent<'a>(
        &'a self,
        session_id: &'a str,
        agent: &'a SessionAgent,
    ) -> BoxFuture<'a, SessionResult<()>> {
        Box::pin(async move {
            Self::check_ids(session_id, &agent.agent_id)?;
            self.write_agent(session_id, agent).await
        })
    }

    fn read_agent<'a>(
        &'a self,
        session_id: &'a str,
        agent_id: &'a str,
    ) -> BoxFuture<'a, SessionResult<Option<SessionAgent>>> {
        Box::pin(async move {
            Self::check_ids(session_id, agent_id)?;
            let pairs = [
                (STATE_TYPE_KEY, StateType::Agent.as_str()),
                (AGENT_ID_KEY, agent_id),
            ];
            let Some(event) = self.newest_state(session_id, &pairs).await? else {
                return Ok(None);
            };
            let agent: Option<SessionAgent> = wire::state_record(&event)?;
            if let Some(agent) = &agent {
                let mut known = self.known();
                known.make_room();
                known
                    .created
                    .insert(Self::key(session_id, agent_id), agent.created_at.clone());
            }
            Ok(agent)
        })
    }

    fn update_agent<'a>(
        &'a self,
        session_id: &'a str,
        agent: &'a SessionAgent,
    ) -> BoxFuture<'a, SessionResult<()>> {
        Box::pin(async move {
            Self::check_ids(session_id, &agent.agent_id)?;
            let key = Self::key(session_id, &agent.agent_id);
            let cached = self.known().created.get(&key).cloned();
            let created_at = match cached {
                Some(created_at) => created_at,
                None => match self.read_agent(session_id, &agent.agent_id).await? {
                    Some(existing) => existing.created_at,
                    None => {
                        return Err(SessionError::Conflict(format!(
                            "agent {} does not exist in session {session_id}",
                            agent.agent_id
                        )));
                    }
                },
            };
            let mut record = agent.clone();
            record.created_at = created_at;
            record.updated_at = now_iso8601();
            self.write_agent(session_id, &record).await
        })
    }

    fn create_message<'a>(
        &'a self,
        session_id: &'a str,
        agent_id: &'a str,
        message: &'a SessionMessage,
    ) -> BoxFuture<'a, SessionResult<()>> {
        Box::pin(async move {
            Self::check_ids(session_id, agent_id)?;
            let Some(payload) = wire::message_payload(message)? else {
                tracing::debug!(
                    session_id,
                    "message without content after dropping empty text; not stored"
                );
                return Ok(());
            };
            if self.batch_size > 1 {
                return self
                    .hold(session_id, agent_id, message.message_id, payload)
                    .await;
            }
            let event = self.create_event(session_id, vec![payload], None).await?;
            let mut known = self.known();
            known.make_room();
            known
                .latest
                .insert(Self::key(session_id, agent_id), (message.message_id, event));
            Ok(())
        })
    }

    fn read_message<'a>(
        &'a self,
        session_id: &'a str,
        agent_id: &'a str,
        message_id: u64,
    ) -> BoxFuture<'a, SessionResult<Option<SessionMessage>>> {
        Box::pin(async move {
            Self::check_ids(session_id, agent_id)?;
            let index = usize::try_from(message_id).unwrap_or(usize::MAX);
            Ok(self
                .all_messages(session_id)
                .await?
                .into_iter()
                .nth(index)
                .map(|(message, _)| message))
        })
    }

    /// Replaces the latest message (a guardrail's redaction): a new event, then the old one is
    /// deleted; if that fails the new one is deleted again and the error returned.
    fn update_message<'a>(
        &'a self,
        session_id: &'a str,
        agent_id: &'a str,
        message: &'a SessionMessage,
    ) -> BoxFuture<'a, SessionResult<()>> {
        Box::pin(async move {
            Self::check_ids(session_id, agent_id)?;
            self.replace_latest(session_id, agent_id, message).await
        })
    }

    /// Writes the messages held for the session's batch.
    fn flush<'a>(&'a self, session_id: &'a str) -> BoxFuture<'a, SessionResult<()>> {
        Box::pin(async move {
            Self::check_session(session_id)?;
            self.flush_session(session_id).await
        })
    }

    /// The session's messages (AgentCore Memory keeps one conversation per actor and session, so
    /// every agent of the session reads the same messages, as in Python).
    fn list_messages<'a>(
        &'a self,
        session_id: &'a str,
        agent_id: &'a str,
        limit: Option<usize>,
        offset: usize,
    ) -> BoxFuture<'a, SessionResult<Vec<SessionMessage>>> {
        Box::pin(async move {
            Self::check_ids(session_id, agent_id)?;
            let messages = self.all_messages(session_id).await?;
            if let Some((last, event)) = messages.last() {
                let mut known = self.known();
                known.make_room();
                known.latest.insert(
                    Self::key(session_id, agent_id),
                    (last.message_id, event.clone()),
                );
            }
            let limit = limit.unwrap_or(usize::MAX);
            Ok(messages
                .into_iter()
                .skip(offset)
                .take(limit)
                .map(|(message, _)| message)
                .collect())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actor_ids_follow_agentcores_pattern_with_colon_segments() {
        for good in [
            "alice",
            "user-1/team_a",
            "us-east-1:0f1e2d3c-4b5a",
            "a:b:c",
            "1",
        ] {
            assert!(valid_actor(good), "{good}");
        }
        let long = "a".repeat(256);
        for bad in [
            "",
            ":a",
            "a:",
            "a::b",
            "-a",
            "a b",
            "a:b c",
            "ü",
            long.as_str(),
        ] {
            assert!(!valid_actor(bad), "{bad}");
        }
    }
}
