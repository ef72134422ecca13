//! [`SessionManager`]: persists one agent into a [`SessionRepository`] as it runs.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use serde_json::{Map, Value};
use strands_core::{AgentState, ContentBlock, Message, Role, ToolResult};

use super::{Session, SessionAgent, SessionError, SessionMessage, SessionRepository, validate_id};
use crate::conversation::ConversationManager;
use crate::interrupts::InterruptState;

/// Text of the result given to a tool use whose result is missing from a restored history.
const MISSING_RESULT_TEXT: &str = "Tool was interrupted.";

/// Persists an agent's messages, state, conversation-manager state and interrupt state into a
/// [`SessionRepository`], and restores them into a new agent.
///
/// Give it to [`AgentBuilder::session_manager`](crate::AgentBuilder::session_manager). The
/// session is loaded before the first invocation (or by
/// [`Agent::load_session`](crate::Agent::load_session)); afterwards every message is written
/// when it is appended and the agent record when its state changes, as Python's
/// `RepositorySessionManager` does.
pub struct SessionManager {
    session_id: String,
    repository: Arc<dyn SessionRepository>,
    loaded: bool,
    /// The last message record written or restored (redaction updates it).
    latest_message: Option<SessionMessage>,
    /// The index the next message gets; taken before the write, so a write that fails or is
    /// cancelled never has its index reused.
    next_index: u64,
    /// `_internal_state` keys this port does not manage (e.g. a Python provider's
    /// `model_state`), written back unchanged.
    internal_extra: Map<String, Value>,
    last_synced: Option<Synced>,
}

#[derive(Debug, PartialEq)]
struct Synced {
    state_version: u64,
    interrupt_version: u64,
    conversation_manager_state: Map<String, Value>,
}

impl fmt::Debug for SessionManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionManager")
            .field("session_id", &self.session_id)
            .field("loaded", &self.loaded)
            .finish_non_exhaustive()
    }
}

/// The parts of an agent a session persists.
pub(crate) struct AgentParts<'a> {
    pub(crate) agent_id: &'a str,
    pub(crate) messages: &'a mut Vec<Message>,
    pub(crate) state: &'a AgentState,
    pub(crate) conversation: &'a mut dyn ConversationManager,
    pub(crate) interrupts: &'a mut InterruptState,
}

impl SessionManager {
    /// A manager for `session_id` in `repository`.
    ///
    /// # Errors
    ///
    /// [`SessionError::InvalidId`] when the id could escape its directory or key prefix.
    pub fn new(
        session_id: impl Into<String>,
        repository: impl SessionRepository + 'static,
    ) -> Result<Self, SessionError> {
        Self::with_shared_repository(session_id, Arc::new(repository))
    }

    /// A manager using a repository shared with other managers.
    ///
    /// # Errors
    ///
    /// [`SessionError::InvalidId`] when the id could escape its directory or key prefix.
    pub fn with_shared_repository(
        session_id: impl Into<String>,
        repository: Arc<dyn SessionRepository>,
    ) -> Result<Self, SessionError> {
        let session_id = session_id.into();
        validate_id("session", &session_id)?;
        Ok(Self {
            session_id,
            repository,
            loaded: false,
            latest_message: None,
            next_index: 0,
            internal_extra: Map::new(),
            last_synced: None,
        })
    }

    /// The session id.
    pub fn session_id(&self) -> &str {
        &self.session_id
    }

    /// The repository.
    pub fn repository(&self) -> &Arc<dyn SessionRepository> {
        &self.repository
    }

    pub(crate) fn is_loaded(&self) -> bool {
        self.loaded
    }

    /// Creates the session and agent records, or restores the agent from them.
    pub(crate) async fn load(&mut self, agent: AgentParts<'_>) -> Result<(), SessionError> {
        validate_id("agent", agent.agent_id)?;
        let repo = &self.repository;
        let session_id = self.session_id.as_str();
        let existing = match repo.read_session(session_id).await? {
            Some(_) => repo.read_agent(session_id, agent.agent_id).await?,
            None => {
                tracing::debug!(session_id, "session not found, creating it");
                repo.create_session(&Session::new(session_id)).await?;
                None
            }
        };
        match existing {
            None => {
                tracing::debug!(
                    session_id,
                    agent_id = agent.agent_id,
                    "creating agent in session"
                );
                let record = agent_record(&agent, &self.internal_extra);
                repo.create_agent(session_id, &record).await?;
                let mut latest = None;
                for (index, message) in agent.messages.iter().enumerate() {
                    let record = SessionMessage::new(message.clone(), index as u64);
                    repo.create_message(session_id, agent.agent_id, &record)
                        .await?;
                    latest = Some(record);
                }
                self.next_index = agent.messages.len() as u64;
                self.latest_message = latest;
            }
            Some(record) => {
                tracing::debug!(
                    session_id,
                    agent_id = agent.agent_id,
                    "restoring agent from session"
                );
                agent.state.replace(record.state.clone());
                let mut internal = record.internal_state.clone();
                if let Some(interrupts) = internal.shift_remove("interrupt_state") {
                    *agent.interrupts =
                        InterruptState::from_session(interrupts).map_err(|source| {
                            SessionError::Json {
                                location: format!(
                                    "session {session_id} agent {} interrupt_state",
                                    agent.agent_id
                                ),
                                source,
                            }
                        })?;
                }
                self.internal_extra = internal;
                let prepend = agent
                    .conversation
                    .restore(&record.conversation_manager_state)
                    .map_err(|e| SessionError::Conflict(e.to_string()))?;
                let offset = agent.conversation.removed_message_count();
                let stored = repo
                    .list_messages(session_id, agent.agent_id, None, offset)
                    .await?;
                let mut messages = prepend;
                messages.extend(stored.iter().map(SessionMessage::to_message));
                fix_broken_tool_use(&mut messages);
                *agent.messages = messages;
                // Messages before the offset are still stored; never reuse their indexes.
                self.next_index = stored
                    .last()
                    .map_or(offset as u64, |m| m.message_id + 1)
                    .max(offset as u64);
                self.latest_message = stored.into_iter().next_back();
            }
        }
        self.last_synced = Some(snapshot(&agent));
        self.loaded = true;
        Ok(())
    }

    /// Python's `initialize_multi_agent`: returns the swarm's or graph's stored state record, or
    /// creates the session (if new) and the record from `initial` and returns `None`.
    pub(crate) async fn load_multi_agent(
        &mut self,
        multi_agent_id: &str,
        initial: &Value,
    ) -> Result<Option<Value>, SessionError> {
        let repo = &self.repository;
        let session_id = self.session_id.as_str();
        let stored = match repo.read_session(session_id).await? {
            Some(_) => repo.read_multi_agent(session_id, multi_agent_id).await?,
            None => {
                tracing::debug!(session_id, "session not found, creating it");
                repo.create_session(&Session::new(session_id)).await?;
                None
            }
        };
        if stored.is_none() {
            tracing::debug!(session_id, multi_agent_id, "creating multi-agent state");
            repo.create_multi_agent(session_id, multi_agent_id, initial)
                .await?;
        }
        self.loaded = true;
        Ok(stored)
    }

    /// Python's `sync_multi_agent`: replaces the stored state record.
    pub(crate) async fn sync_multi_agent(
        &self,
        multi_agent_id: &str,
        state: &Value,
    ) -> Result<(), SessionError> {
        self.repository
            .update_multi_agent(&self.session_id, multi_agent_id, state)
            .await
    }

    /// Writes a newly appended message.
    pub(crate) async fn append_message(
        &mut self,
        agent_id: &str,
        message: &Message,
    ) -> Result<(), SessionError> {
        let index = self.next_index;
        self.next_index += 1;
        let record = SessionMessage::new(message.clone(), index);
        self.repository
            .create_message(&self.session_id, agent_id, &record)
            .await?;
        self.latest_message = Some(record);
        Ok(())
    }

    /// Records that the latest message was redacted (guardrails).
    pub(crate) async fn redact_latest_message(
        &mut self,
        agent_id: &str,
        redacted: Message,
    ) -> Result<(), SessionError> {
        let Some(latest) = self.latest_message.as_mut() else {
            return Ok(());
        };
        latest.redact_message = Some(redacted);
        self.repository
            .update_message(&self.session_id, agent_id, latest)
            .await
    }

    /// Writes what the repository holds back (batched messages); at the end of an invocation.
    pub(crate) async fn flush(&self) -> Result<(), SessionError> {
        self.repository.flush(&self.session_id).await
    }

    /// Rewrites the agent record if its state, interrupt state or conversation-manager state
    /// changed since the last write.
    pub(crate) async fn sync_agent(&mut self, agent: AgentParts<'_>) -> Result<(), SessionError> {
        let current = snapshot(&agent);
        if self.last_synced.as_ref() == Some(&current) {
            return Ok(());
        }
        let record = agent_record(&agent, &self.internal_extra);
        self.repository
            .update_agent(&self.session_id, &record)
            .await?;
        self.last_synced = Some(current);
        Ok(())
    }
}

fn snapshot(agent: &AgentParts<'_>) -> Synced {
    Synced {
        state_version: agent.state.version(),
        interrupt_version: agent.interrupts.version,
        conversation_manager_state: agent.conversation.state(),
    }
}

fn agent_record(agent: &AgentParts<'_>, extra: &Map<String, Value>) -> SessionAgent {
    let mut internal = Map::new();
    internal.insert("interrupt_state".to_owned(), agent.interrupts.to_value());
    internal.insert("model_state".to_owned(), Value::Object(Map::new()));
    for (key, value) in extra {
        internal.insert(key.clone(), value.clone());
    }
    SessionAgent::new(
        agent.agent_id,
        agent.state.to_map(),
        agent.conversation.state(),
        internal,
    )
}

/// Python's `_fix_broken_tool_use`: drops tool results with no tool use before them and makes
/// the message after every tool-use message (except the last message) hold exactly one result
/// per tool use, filling gaps with `"Tool was interrupted."` errors.
pub(crate) fn fix_broken_tool_use(messages: &mut Vec<Message>) {
    for index in (0..messages.len()).rev() {
        let is_results = messages[index].role == Role::User
            && messages[index]
                .content
                .iter()
                .any(|b| matches!(b, ContentBlock::ToolResult(_)));
        if !is_results {
            continue;
        }
        let preceded = index > 0 && messages[index - 1].has_tool_use();
        if preceded {
            continue;
        }
        tracing::warn!(
            message_index = index,
            "orphaned toolResult with no preceding toolUse, removing it"
        );
        messages[index]
            .content
            .retain(|b| !matches!(b, ContentBlock::ToolResult(_)));
        if messages[index].content.is_empty() {
            messages.remove(index);
        }
    }

    let last = messages.len().saturating_sub(1);
    let tool_use_indices: Vec<usize> = (0..last).filter(|&i| messages[i].has_tool_use()).collect();
    for &index in tool_use_indices.iter().rev() {
        let ids: Vec<String> = messages[index]
            .tool_uses()
            .map(|t| t.tool_use_id.clone())
            .collect();
        let next = &messages[index + 1];
        let mut existing: HashMap<String, ContentBlock> = HashMap::new();
        let mut others = Vec::new();
        for block in &next.content {
            match block {
                ContentBlock::ToolResult(r) => {
                    existing.insert(r.tool_use_id.clone(), block.clone());
                }
                other => others.push(other.clone()),
            }
        }
        let same = existing.len() == ids.len() && ids.iter().all(|id| existing.contains_key(id));
        if same {
            continue;
        }
        tracing::warn!(
            ?ids,
            "session history has mismatched toolUse/toolResult pairing, rebuilding"
        );
        if existing.is_empty() && !others.is_empty() {
            let mut inserted = Message::new(Role::User, Vec::new());
            inserted.tracking_id = Some(uuid::Uuid::new_v4().to_string());
            messages.insert(index + 1, inserted);
            others.clear();
        }
        let mut content: Vec<ContentBlock> = ids
            .iter()
            .map(|id| {
                existing.remove(id).unwrap_or_else(|| {
                    ContentBlock::ToolResult(ToolResult::error(id.clone(), MISSING_RESULT_TEXT))
                })
            })
            .collect();
        content.extend(others);
        messages[index + 1].content = content;
    }
}
