//! Python Strands' session layout, written once over any [`ObjectStore`]: the keys, the JSON,
//! and the update rules of `FileSessionManager` and `S3SessionManager`.

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{
    ObjectStore, Session, SessionAgent, SessionError, SessionMessage, SessionRepository,
    SessionResult, validate_id,
};
use crate::BoxFuture;
use crate::time::now_iso8601;

const MESSAGE_PREFIX: &str = "message_";
const JSON_SUFFIX: &str = ".json";

/// `session_<id>/`, after validating the id.
fn session_prefix(session_id: &str) -> SessionResult<String> {
    validate_id("session", session_id)?;
    Ok(format!("session_{session_id}/"))
}

/// `session_<id>/agents/agent_<id>/`, after validating both ids.
fn agent_prefix(session_id: &str, agent_id: &str) -> SessionResult<String> {
    let session = session_prefix(session_id)?;
    validate_id("agent", agent_id)?;
    Ok(format!("{session}agents/agent_{agent_id}/"))
}

/// `session_<id>/agents/agent_<id>/messages/`.
/// `session_<id>/multi_agents/multi_agent_<id>/multi_agent.json`, after validating both ids.
fn multi_agent_key(session_id: &str, multi_agent_id: &str) -> SessionResult<String> {
    let session = session_prefix(session_id)?;
    validate_id("multi-agent", multi_agent_id)?;
    Ok(format!(
        "{session}multi_agents/multi_agent_{multi_agent_id}/multi_agent.json"
    ))
}

fn messages_prefix(session_id: &str, agent_id: &str) -> SessionResult<String> {
    Ok(format!("{}messages/", agent_prefix(session_id, agent_id)?))
}

fn message_key(session_id: &str, agent_id: &str, message_id: u64) -> SessionResult<String> {
    Ok(format!(
        "{}{MESSAGE_PREFIX}{message_id}{JSON_SUFFIX}",
        messages_prefix(session_id, agent_id)?
    ))
}

/// The `n` of a `message_<n>.json` key directly under `prefix`; `None` for any other key
/// (temporary files, deeper keys, names with anything but digits).
fn message_index(prefix: &str, key: &str) -> Option<u64> {
    let digits = key
        .strip_prefix(prefix)?
        .strip_prefix(MESSAGE_PREFIX)?
        .strip_suffix(JSON_SUFFIX)?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Python's `json.dumps(value, indent=2, ensure_ascii=False)`.
fn to_json<S: ObjectStore + ?Sized, T: Serialize>(
    store: &S,
    key: &str,
    value: &T,
) -> SessionResult<Vec<u8>> {
    serde_json::to_vec_pretty(value).map_err(|source| SessionError::Json {
        location: store.location(key),
        source,
    })
}

fn from_json<S: ObjectStore + ?Sized, T: DeserializeOwned>(
    store: &S,
    key: &str,
    body: Option<Vec<u8>>,
) -> SessionResult<Option<T>> {
    let Some(body) = body else {
        return Ok(None);
    };
    serde_json::from_slice(&body)
        .map(Some)
        .map_err(|source| SessionError::Json {
            location: store.location(key),
            source,
        })
}

async fn read<S: ObjectStore + ?Sized, T: DeserializeOwned>(
    store: &S,
    key: &str,
) -> SessionResult<Option<T>> {
    let body = store.get(key).await?;
    from_json(store, key, body)
}

async fn write<S: ObjectStore + ?Sized, T: Serialize>(
    store: &S,
    key: &str,
    value: &T,
) -> SessionResult<()> {
    store.put(key, to_json(store, key, value)?).await
}

/// A record whose update keeps `created_at` and stamps `updated_at`.
trait Stamped: Serialize + DeserializeOwned + Clone {
    fn created_at(&self) -> &str;
    fn stamp(&mut self, created_at: String);
}

impl Stamped for SessionAgent {
    fn created_at(&self) -> &str {
        &self.created_at
    }
    fn stamp(&mut self, created_at: String) {
        self.created_at = created_at;
        self.updated_at = now_iso8601();
    }
}

impl Stamped for SessionMessage {
    fn created_at(&self) -> &str {
        &self.created_at
    }
    fn stamp(&mut self, created_at: String) {
        self.created_at = created_at;
        self.updated_at = now_iso8601();
    }
}

/// Python's update: the record must exist; its `created_at` is kept, `updated_at` is now.
async fn update<S: ObjectStore + ?Sized, T: Stamped>(
    store: &S,
    key: &str,
    record: &T,
    missing: impl FnOnce() -> (String, &'static str),
) -> SessionResult<()> {
    let Some(previous) = read::<S, T>(store, key).await? else {
        let (what, create) = missing();
        return Err(SessionError::Conflict(format!(
            "{what} does not exist (no {}); create it with {create} before updating it",
            store.location(key)
        )));
    };
    let mut updated = record.clone();
    updated.stamp(previous.created_at().to_owned());
    write(store, key, &updated).await
}

async fn create_session<S: ObjectStore + ?Sized>(
    store: &S,
    session: &Session,
) -> SessionResult<()> {
    let prefix = session_prefix(&session.session_id)?;
    let key = format!("{prefix}session.json");
    if !store.put_new(&key, to_json(store, &key, session)?).await? {
        return Err(SessionError::Conflict(format!(
            "session {:?} already exists at {}; read it with read_session or pick another \
             session id",
            session.session_id,
            store.location(&key)
        )));
    }
    // Python's file manager creates both directories with the session.
    store.create_prefix(&format!("{prefix}agents/")).await?;
    store.create_prefix(&format!("{prefix}multi_agents/")).await
}

async fn list_messages<S: ObjectStore + ?Sized>(
    store: &S,
    session_id: &str,
    agent_id: &str,
    limit: Option<usize>,
    offset: usize,
) -> SessionResult<Vec<SessionMessage>> {
    let prefix = messages_prefix(session_id, agent_id)?;
    let mut indexed: Vec<(u64, String)> = store
        .list(&prefix)
        .await?
        .into_iter()
        .filter_map(|key| message_index(&prefix, &key).map(|index| (index, key)))
        .collect();
    indexed.sort_unstable();
    let keys: Vec<String> = indexed
        .into_iter()
        .skip(offset)
        .take(limit.unwrap_or(usize::MAX))
        .map(|(_, key)| key)
        .collect();
    let bodies = store.get_many(&keys).await?;
    let mut messages = Vec::with_capacity(keys.len());
    // A message deleted since the listing is skipped rather than failing the whole read.
    for (key, body) in keys.iter().zip(bodies) {
        messages.extend(from_json(store, key, body)?);
    }
    Ok(messages)
}

/// Every [`ObjectStore`] keeps sessions in Python Strands' layout:
///
/// ```text
/// session_<session_id>/session.json
/// session_<session_id>/multi_agents/            (a directory, where the store has them)
/// session_<session_id>/agents/agent_<agent_id>/agent.json
/// session_<session_id>/agents/agent_<agent_id>/messages/message_<message_id>.json
/// session_<session_id>/multi_agents/multi_agent_<id>/multi_agent.json
/// ```
///
/// Documents are written like Python's `json.dumps(value, indent=2, ensure_ascii=False)`; ids are
/// checked with [`validate_id`] before any key is built; updates keep `created_at` and stamp
/// `updated_at`; listing sorts messages by index and skips one deleted since the listing.
impl<S: ObjectStore + ?Sized> SessionRepository for S {
    fn create_session<'a>(&'a self, session: &'a Session) -> BoxFuture<'a, SessionResult<()>> {
        Box::pin(create_session(self, session))
    }

    fn read_session<'a>(
        &'a self,
        session_id: &'a str,
    ) -> BoxFuture<'a, SessionResult<Option<Session>>> {
        Box::pin(async move {
            let key = format!("{}session.json", session_prefix(session_id)?);
            read(self, &key).await
        })
    }

    fn create_agent<'a>(
        &'a self,
        session_id: &'a str,
        agent: &'a SessionAgent,
    ) -> BoxFuture<'a, SessionResult<()>> {
        Box::pin(async move {
            let prefix = agent_prefix(session_id, &agent.agent_id)?;
            self.create_prefix(&format!("{prefix}messages/")).await?;
            write(self, &format!("{prefix}agent.json"), agent).await
        })
    }

    fn read_agent<'a>(
        &'a self,
        session_id: &'a str,
        agent_id: &'a str,
    ) -> BoxFuture<'a, SessionResult<Option<SessionAgent>>> {
        Box::pin(async move {
            let key = format!("{}agent.json", agent_prefix(session_id, agent_id)?);
            read(self, &key).await
        })
    }

    fn update_agent<'a>(
        &'a self,
        session_id: &'a str,
        agent: &'a SessionAgent,
    ) -> BoxFuture<'a, SessionResult<()>> {
        Box::pin(async move {
            let key = format!("{}agent.json", agent_prefix(session_id, &agent.agent_id)?);
            update(self, &key, agent, || {
                let what = format!("agent {:?} in session {session_id:?}", agent.agent_id);
                (what, "create_agent")
            })
            .await
        })
    }

    fn create_message<'a>(
        &'a self,
        session_id: &'a str,
        agent_id: &'a str,
        message: &'a SessionMessage,
    ) -> BoxFuture<'a, SessionResult<()>> {
        Box::pin(async move {
            let key = message_key(session_id, agent_id, message.message_id)?;
            write(self, &key, message).await
        })
    }

    fn read_message<'a>(
        &'a self,
        session_id: &'a str,
        agent_id: &'a str,
        message_id: u64,
    ) -> BoxFuture<'a, SessionResult<Option<SessionMessage>>> {
        Box::pin(async move { read(self, &message_key(session_id, agent_id, message_id)?).await })
    }

    fn update_message<'a>(
        &'a self,
        session_id: &'a str,
        agent_id: &'a str,
        message: &'a SessionMessage,
    ) -> BoxFuture<'a, SessionResult<()>> {
        Box::pin(async move {
            let key = message_key(session_id, agent_id, message.message_id)?;
            update(self, &key, message, || {
                let what = format!(
                    "message {} of agent {agent_id:?} in session {session_id:?}",
                    message.message_id
                );
                (what, "create_message")
            })
            .await
        })
    }

    fn list_messages<'a>(
        &'a self,
        session_id: &'a str,
        agent_id: &'a str,
        limit: Option<usize>,
        offset: usize,
    ) -> BoxFuture<'a, SessionResult<Vec<SessionMessage>>> {
        Box::pin(list_messages(self, session_id, agent_id, limit, offset))
    }

    fn create_multi_agent<'a>(
        &'a self,
        session_id: &'a str,
        multi_agent_id: &'a str,
        state: &'a serde_json::Value,
    ) -> BoxFuture<'a, SessionResult<()>> {
        Box::pin(async move {
            let key = multi_agent_key(session_id, multi_agent_id)?;
            if let Some(directory) = key.strip_suffix("multi_agent.json") {
                self.create_prefix(directory).await?;
            }
            write(self, &key, state).await
        })
    }

    fn read_multi_agent<'a>(
        &'a self,
        session_id: &'a str,
        multi_agent_id: &'a str,
    ) -> BoxFuture<'a, SessionResult<Option<serde_json::Value>>> {
        Box::pin(async move { read(self, &multi_agent_key(session_id, multi_agent_id)?).await })
    }

    /// Python's `update_multi_agent`: the record must exist and is replaced as it is (it has no
    /// timestamps).
    fn update_multi_agent<'a>(
        &'a self,
        session_id: &'a str,
        multi_agent_id: &'a str,
        state: &'a serde_json::Value,
    ) -> BoxFuture<'a, SessionResult<()>> {
        Box::pin(async move {
            let key = multi_agent_key(session_id, multi_agent_id)?;
            if self.get(&key).await?.is_none() {
                return Err(SessionError::Conflict(format!(
                    "multi-agent state {multi_agent_id:?} in session {session_id:?} does not exist \
                     (no {}); create it with create_multi_agent before updating it",
                    self.location(&key)
                )));
            }
            write(self, &key, state).await
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]

    use super::*;

    #[test]
    fn keys_match_python() {
        assert_eq!(session_prefix("s").unwrap(), "session_s/");
        assert_eq!(agent_prefix("s", "a").unwrap(), "session_s/agents/agent_a/");
        assert_eq!(
            message_key("s", "a", 10).unwrap(),
            "session_s/agents/agent_a/messages/message_10.json"
        );
        assert_eq!(
            multi_agent_key("s", "default_swarm").unwrap(),
            "session_s/multi_agents/multi_agent_default_swarm/multi_agent.json"
        );
        assert!(agent_prefix("s", "../x").is_err());
        assert!(multi_agent_key("s", "../x").is_err());
        assert!(session_prefix("a/b").is_err());
    }

    #[test]
    fn only_message_documents_directly_under_the_prefix_are_listed() {
        let p = "x/messages/";
        assert_eq!(message_index(p, "x/messages/message_12.json"), Some(12));
        assert_eq!(message_index(p, "x/messages/message_0.json"), Some(0));
        for other in [
            "x/messages/message_a.json",
            "x/messages/message_.json",
            "x/messages/message_+1.json",
            "x/messages/message_1.json.tmp",
            "x/messages/.strands_abc.tmp",
            "x/messages/sub/message_1.json",
            "y/messages/message_1.json",
        ] {
            assert_eq!(message_index(p, other), None, "{other}");
        }
    }
}
