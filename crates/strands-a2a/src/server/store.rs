//! The server's memory: one agent per conversation, the tasks, and the running ones' cancel
//! handles. Every map is bounded: the least recently used entry goes first (a conversation whose
//! agent is in use stays).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use indexmap::IndexMap;
use strands_agent::{Agent, CancelHandle};

use crate::types::{Message, Part, RpcError, Task, TaskState, TaskStatus};

/// A conversation's agent; one invocation at a time.
pub(super) type SharedAgent = Arc<tokio::sync::Mutex<Agent>>;

/// The messages a task keeps (one per streamed chunk, so a long answer makes many); the oldest
/// go first.
pub(super) const MAX_TASK_HISTORY: usize = 1000;

pub(super) struct Store {
    contexts: Mutex<IndexMap<String, SharedAgent>>,
    tasks: Mutex<IndexMap<String, Task>>,
    running: Mutex<HashMap<String, (u64, CancelHandle)>>,
    runs: AtomicU64,
    max_contexts: usize,
    max_tasks: usize,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Adds `message` to the task's history, dropping the oldest beyond [`MAX_TASK_HISTORY`].
pub(super) fn push_history(task: &mut Task, message: Message) {
    task.history.push(message);
    let excess = task.history.len().saturating_sub(MAX_TASK_HISTORY);
    task.history.drain(..excess);
}

/// An agent message with one text part.
pub(super) fn agent_text(task: &Task, text: &str) -> Message {
    Message::agent(
        vec![Part::Text {
            text: text.to_owned(),
        }],
        &task.context_id,
        &task.id,
    )
}

impl Store {
    pub(super) fn new(max_contexts: usize, max_tasks: usize) -> Self {
        Self {
            contexts: Mutex::new(IndexMap::new()),
            tasks: Mutex::new(IndexMap::new()),
            running: Mutex::new(HashMap::new()),
            runs: AtomicU64::new(0),
            max_contexts,
            max_tasks,
        }
    }

    /// The conversation's agent, made with `make` the first time (or again after eviction); the
    /// factory runs outside the store's lock.
    pub(super) fn agent(
        &self,
        context_id: &str,
        make: impl FnOnce() -> Result<Agent, strands_agent::BuildError>,
    ) -> Result<SharedAgent, strands_agent::BuildError> {
        if let Some(agent) = self.touch(context_id) {
            return Ok(agent);
        }
        let made = Arc::new(tokio::sync::Mutex::new(make()?));
        let mut contexts = lock(&self.contexts);
        // Another request may have made one meanwhile: the first one in wins.
        let agent = contexts
            .entry(context_id.to_owned())
            .or_insert(made)
            .clone();
        self.evict(&mut contexts);
        Ok(agent)
    }

    fn touch(&self, context_id: &str) -> Option<SharedAgent> {
        let mut contexts = lock(&self.contexts);
        let index = contexts.get_index_of(context_id)?;
        let last = contexts.len() - 1;
        contexts.move_index(index, last);
        Some(contexts[last].clone())
    }

    /// Drops the least recent conversations beyond the bound, skipping those whose agent is
    /// held by a request (their conversation would otherwise fork).
    fn evict(&self, contexts: &mut IndexMap<String, SharedAgent>) {
        let mut index = 0;
        while contexts.len() > self.max_contexts && index < contexts.len() {
            if Arc::strong_count(&contexts[index]) == 1 {
                contexts.shift_remove_index(index);
            } else {
                index += 1;
            }
        }
    }

    pub(super) fn task(&self, task_id: &str) -> Option<Task> {
        lock(&self.tasks).get(task_id).cloned()
    }

    /// Whether the stored task has ended (been cancelled, for a task that runs).
    pub(super) fn has_ended(&self, task_id: &str) -> bool {
        lock(&self.tasks)
            .get(task_id)
            .is_some_and(|task| task.status.state.is_terminal())
    }

    /// Stores `task`, unless the stored one has ended (a cancel that came first wins); false
    /// when it was not stored.
    pub(super) fn save(&self, task: &Task) -> bool {
        let mut tasks = lock(&self.tasks);
        if tasks
            .get(&task.id)
            .is_some_and(|stored| stored.status.state.is_terminal())
        {
            return false;
        }
        tasks.shift_remove(&task.id);
        tasks.insert(task.id.clone(), task.clone());
        while tasks.len() > self.max_tasks {
            tasks.shift_remove_index(0);
        }
        true
    }

    /// Records a run of `task_id`, cancelled by `cancel`; the id ends it with
    /// [`finished`](Self::finished).
    pub(super) fn started(&self, task_id: &str, cancel: CancelHandle) -> u64 {
        let run = self.runs.fetch_add(1, Ordering::Relaxed);
        lock(&self.running).insert(task_id.to_owned(), (run, cancel));
        run
    }

    /// Forgets run `run` of `task_id` (not a later one).
    pub(super) fn finished(&self, task_id: &str, run: u64) {
        let mut running = lock(&self.running);
        if running.get(task_id).is_some_and(|(id, _)| *id == run) {
            running.remove(task_id);
        }
    }

    /// Ends `task_id` as cancelled and cancels its run, if one is running; a task that has
    /// ended cannot be cancelled.
    pub(super) fn cancel(&self, task_id: &str) -> Result<Task, RpcError> {
        let task = {
            let mut tasks = lock(&self.tasks);
            let task = tasks
                .get_mut(task_id)
                .ok_or_else(RpcError::task_not_found)?;
            if task.status.state.is_terminal() {
                return Err(RpcError::not_cancelable(task.status.state));
            }
            let message = agent_text(task, "Task cancelled by client request");
            task.status = TaskStatus::now(TaskState::Canceled, Some(message));
            task.clone()
        };
        if let Some((_, handle)) = lock(&self.running).get(task_id) {
            handle.cancel();
        }
        Ok(task)
    }

    /// Ends `task_id` as failed, unless it has ended (a run that panicked or was aborted).
    pub(super) fn fail(&self, task_id: &str) {
        let mut tasks = lock(&self.tasks);
        if let Some(task) = tasks
            .get_mut(task_id)
            .filter(|task| !task.status.state.is_terminal())
        {
            let message = agent_text(task, "Agent execution failed");
            task.status = TaskStatus::now(TaskState::Failed, Some(message));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use strands_testkit::ScriptedModel;

    fn agent() -> Result<Agent, strands_agent::BuildError> {
        Agent::builder()
            .model(ScriptedModel::builder().text("hi").build())
            .build()
    }

    fn task(id: &str, state: TaskState) -> Task {
        Task {
            kind: "task".to_owned(),
            id: id.to_owned(),
            context_id: "c".to_owned(),
            status: TaskStatus::now(state, None),
            artifacts: Vec::new(),
            history: Vec::new(),
        }
    }

    #[test]
    fn a_conversation_in_use_is_not_evicted() -> Result<(), strands_agent::BuildError> {
        let store = Store::new(1, 8);
        let held = store.agent("a", agent)?;
        let _b = store.agent("b", agent)?;
        // "a" is held, so both stay for now; once released, the next one evicts it.
        assert_eq!(lock(&store.contexts).len(), 2);
        drop(held);
        drop(_b);
        store.agent("c", agent)?;
        let keys: Vec<String> = lock(&store.contexts).keys().cloned().collect();
        assert_eq!(keys, ["c"]);
        Ok(())
    }

    #[test]
    fn a_cancelled_task_is_not_overwritten_and_cannot_be_cancelled_twice() {
        let store = Store::new(1, 8);
        assert!(store.save(&task("t", TaskState::Working)));
        let cancelled = store.cancel("t");
        assert_eq!(
            cancelled.map(|t| t.status.state),
            Ok(TaskState::Canceled),
            "a working task is cancelled"
        );
        assert!(!store.save(&task("t", TaskState::Completed)));
        assert_eq!(
            store.task("t").map(|t| t.status.state),
            Some(TaskState::Canceled)
        );
        assert_eq!(store.cancel("t").map_err(|e| e.code), Err(-32002));
        store.fail("t");
        assert_eq!(
            store.task("t").map(|t| t.status.state),
            Some(TaskState::Canceled)
        );
    }

    #[test]
    fn a_finished_run_does_not_forget_a_later_one() -> Result<(), strands_agent::BuildError> {
        let store = Store::new(1, 8);
        let agent = agent()?;
        let first = store.started("t", agent.cancel_handle());
        let _second = store.started("t", agent.cancel_handle());
        store.finished("t", first);
        assert!(lock(&store.running).contains_key("t"));
        Ok(())
    }

    #[test]
    fn history_and_tasks_are_bounded() {
        let store = Store::new(1, 2);
        let mut t = task("t", TaskState::Working);
        for _ in 0..MAX_TASK_HISTORY + 5 {
            let chunk = agent_text(&t, "chunk");
            push_history(&mut t, chunk);
        }
        assert_eq!(t.history.len(), MAX_TASK_HISTORY);
        for id in ["a", "b", "c"] {
            store.save(&task(id, TaskState::Working));
        }
        assert!(store.task("a").is_none());
        assert!(store.task("c").is_some());
    }
}
