//! The server's memory: one agent per conversation, the tasks, and the running ones' cancel
//! handles. Every map is bounded: the least recently used entry goes first.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use indexmap::IndexMap;
use strands_agent::{Agent, CancelHandle};

use crate::types::Task;

/// A conversation's agent; one invocation at a time.
pub(super) type SharedAgent = Arc<tokio::sync::Mutex<Agent>>;

pub(super) struct Store {
    contexts: Mutex<IndexMap<String, SharedAgent>>,
    tasks: Mutex<IndexMap<String, Task>>,
    running: Mutex<HashMap<String, CancelHandle>>,
    max_contexts: usize,
    max_tasks: usize,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Store {
    pub(super) fn new(max_contexts: usize, max_tasks: usize) -> Self {
        Self {
            contexts: Mutex::new(IndexMap::new()),
            tasks: Mutex::new(IndexMap::new()),
            running: Mutex::new(HashMap::new()),
            max_contexts,
            max_tasks,
        }
    }

    /// The conversation's agent, made with `make` the first time (or again after eviction).
    pub(super) fn agent(
        &self,
        context_id: &str,
        make: impl FnOnce() -> Result<Agent, strands_agent::BuildError>,
    ) -> Result<SharedAgent, strands_agent::BuildError> {
        let mut contexts = lock(&self.contexts);
        if let Some(index) = contexts.get_index_of(context_id) {
            let last = contexts.len() - 1;
            contexts.move_index(index, last);
            return Ok(contexts[last].clone());
        }
        let agent = Arc::new(tokio::sync::Mutex::new(make()?));
        contexts.insert(context_id.to_owned(), agent.clone());
        while contexts.len() > self.max_contexts {
            contexts.shift_remove_index(0);
        }
        Ok(agent)
    }

    pub(super) fn task(&self, task_id: &str) -> Option<Task> {
        lock(&self.tasks).get(task_id).cloned()
    }

    pub(super) fn save(&self, task: &Task) {
        let mut tasks = lock(&self.tasks);
        tasks.shift_remove(&task.id);
        tasks.insert(task.id.clone(), task.clone());
        while tasks.len() > self.max_tasks {
            tasks.shift_remove_index(0);
        }
    }

    pub(super) fn started(&self, task_id: &str, cancel: CancelHandle) {
        lock(&self.running).insert(task_id.to_owned(), cancel);
    }

    pub(super) fn finished(&self, task_id: &str) {
        lock(&self.running).remove(task_id);
    }

    /// Cancels the running invocation of `task_id`; false when none runs.
    pub(super) fn cancel(&self, task_id: &str) -> bool {
        match lock(&self.running).get(task_id) {
            Some(handle) => {
                handle.cancel();
                true
            }
            None => false,
        }
    }
}
