//! [`AgentState`]: the agent's JSON key-value store.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// A JSON key-value store attached to an agent, persisted with its session and never sent to
/// the model.
///
/// The handle is cheap to clone and every clone sees the same values, so tools (through
/// [`ToolContext::agent_state`](crate::ToolContext::agent_state)) and hooks can read and write
/// the state of the agent running them. Values are stored as JSON: `set` serializes, `get`
/// deserializes a copy.
///
/// ```
/// use strands_core::AgentState;
///
/// let state = AgentState::default();
/// state.set("user", serde_json::json!({"name": "Ana", "visits": 2}))?;
/// let visits: Option<u32> = state.get("user").map(|u: serde_json::Value| u["visits"].as_u64().unwrap_or(0) as u32);
/// assert_eq!(visits, Some(2));
/// state.delete("user");
/// assert!(state.is_empty());
/// # Ok::<(), serde_json::Error>(())
/// ```
///
/// Python: `strands.agent.state.AgentState` (`get`, `set`, `delete`).
#[derive(Clone, Default)]
pub struct AgentState {
    inner: Arc<Mutex<Inner>>,
}

#[derive(Default)]
struct Inner {
    values: Map<String, Value>,
    version: u64,
}

impl AgentState {
    /// A state holding `values`.
    pub fn from_map(values: Map<String, Value>) -> Self {
        Self {
            inner: Arc::new(Mutex::new(Inner { values, version: 0 })),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Every critical section leaves the map consistent, so a poisoned lock is still usable.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Stores `value` under `key`.
    ///
    /// # Errors
    ///
    /// The value does not serialize to JSON (e.g. a map with non-string keys).
    pub fn set(
        &self,
        key: impl Into<String>,
        value: impl Serialize,
    ) -> Result<(), serde_json::Error> {
        let value = serde_json::to_value(value)?;
        let mut inner = self.lock();
        inner.values.insert(key.into(), value);
        inner.version += 1;
        Ok(())
    }

    /// The value under `key` as a `T`, `None` if the key is absent or holds something that is
    /// not a `T`.
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
        let value = self.lock().values.get(key).cloned()?;
        serde_json::from_value(value).ok()
    }

    /// The raw JSON value under `key`.
    pub fn get_value(&self, key: &str) -> Option<Value> {
        self.lock().values.get(key).cloned()
    }

    /// Removes `key`, returning its value.
    pub fn delete(&self, key: &str) -> Option<Value> {
        let mut inner = self.lock();
        let removed = inner.values.shift_remove(key);
        if removed.is_some() {
            inner.version += 1;
        }
        removed
    }

    /// A copy of every key and value.
    pub fn to_map(&self) -> Map<String, Value> {
        self.lock().values.clone()
    }

    /// Replaces every value (used when a session is restored).
    pub fn replace(&self, values: Map<String, Value>) {
        let mut inner = self.lock();
        inner.values = values;
        inner.version += 1;
    }

    /// Whether the state holds no keys.
    pub fn is_empty(&self) -> bool {
        self.lock().values.is_empty()
    }

    /// Increases on every change; lets persistence skip writes when nothing changed.
    pub fn version(&self) -> u64 {
        self.lock().version
    }
}

/// Lists the keys only: values may hold anything users put there, tokens included.
impl fmt::Debug for AgentState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AgentState")
            .field("keys", &self.lock().values.keys().collect::<Vec<_>>())
            .finish()
    }
}
