//! The default entrypoint: a Strands agent per runtime session.
//!
//! AgentCore routes every invocation of a session to the same microVM, so keeping one agent per
//! session id lets a conversation continue across invocations. Agents are bounded in number and
//! evicted after being idle. Invocations of one session run one at a time: a second concurrent
//! invocation of the same session waits for the first to finish (history is never interleaved).
//! Invocations without a session id get a fresh agent that is not kept.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use http::StatusCode;
use serde_json::{Value, json};
use strands_agent::session::SessionError;
use strands_agent::{Agent, AgentError, AgentEvent, AgentInput, BuildError, InterruptResponse};
use tokio::sync::Mutex as AsyncMutex;

use crate::{AgentCoreApp, HandlerError, Reply, RequestContext};

type Factory = dyn Fn(&Caller<'_>) -> Result<Agent, BuildError> + Send + Sync;

/// Whom an invocation's agent serves: the AgentCore session and the actor (user) it acts for.
///
/// The actor is the `X-Amzn-Bedrock-AgentCore-Runtime-User-Id` header (the `runtimeUserId` of
/// `InvokeAgentRuntime`, which the caller needs `InvokeAgentRuntimeForUser` to set), else the
/// payload field named by [`AgentEntrypoint::actor_from_payload`], if any. Agents are kept per
/// session *and* actor, so two users never share one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Caller<'a> {
    /// The runtime session id; `None` for an invocation without one (its agent is not kept).
    pub session_id: Option<&'a str>,
    /// The actor, if the request names one.
    pub actor_id: Option<&'a str>,
}

impl<'a> Caller<'a> {
    /// A caller of `session_id` acting for `actor_id`.
    pub const fn new(session_id: Option<&'a str>, actor_id: Option<&'a str>) -> Self {
        Self {
            session_id,
            actor_id,
        }
    }
}
type Gate =
    dyn Fn() -> futures_util::future::BoxFuture<'static, Result<(), HandlerError>> + Send + Sync;

/// Serves `{"prompt": "...", "stream"?: bool}` with one agent per session.
///
/// The JSON answer is `{"result": "<final text>"}` (the Python quickstart's
/// `{"result": str(agent_result)}`); with `"stream": true` the answer is server-sent events, one
/// JSON string per text delta (the Python template's `yield event["data"]`). An agent with
/// structured output also answers `"structured_output": {...}`, or, streaming, ends with a
/// `{"structured_output": {...}}` event. With `"tool_events": true` as well (an extension, off
/// unless asked: what `strands-runtime chat` shows), each tool's start and end are events too:
/// `{"tool_start": {"toolUseId", "name", "input"}}` and `{"tool_result": {"toolUseId",
/// "status"}}`.
#[derive(Clone)]
pub struct AgentEntrypoint {
    factory: Arc<Factory>,
    sessions: Arc<Mutex<Sessions>>,
    gate: Option<Arc<Gate>>,
    /// The payload field naming the actor when no user id header does.
    actor_field: Option<Arc<str>>,
    /// The actor of requests that name none.
    default_actor: Option<Arc<str>>,
    /// Whether agents are kept per actor too (storage per actor), or per session only.
    actor_scoped: bool,
}

impl fmt::Debug for AgentEntrypoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sessions = self.sessions.lock().unwrap_or_else(PoisonError::into_inner);
        f.debug_struct("AgentEntrypoint")
            .field("sessions", &sessions.len())
            .field("max_sessions", &sessions.max)
            .field("idle_timeout", &sessions.idle)
            .finish_non_exhaustive()
    }
}

/// The kept agents by session id, with an index of their last use so that creating a session
/// costs O(log n) whatever the number of sessions: idle sessions are swept from the oldest end of
/// the index (only those expired are looked at) and the least recently used session is the first
/// one there that is not running.
///
/// An agent is running while an invocation holds a second reference to it
/// (`Arc::strong_count > 1`); running agents are never expired or evicted. They stay in the index
/// at their last-use position, so the oldest end may hold some of them; their number is bounded
/// by the number of concurrent invocations, and the sweeps step over them.
struct Sessions<A = AsyncMutex<Agent>> {
    slots: HashMap<String, Slot<A>>,
    /// Every slot's `used` key, oldest first; always the same sessions as `slots`.
    by_use: BTreeMap<UseKey, String>,
    next_seq: u64,
    max: usize,
    idle: Duration,
    /// Index entries looked at by sweeps and evictions, for the tests' cost bounds.
    #[cfg(test)]
    examined: usize,
}

/// When a session was last used; the sequence number orders uses at the same instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct UseKey {
    at: Instant,
    seq: u64,
}

struct Slot<A> {
    agent: Arc<A>,
    used: UseKey,
}

/// Every session slot holds a running agent.
#[derive(Debug, PartialEq, Eq)]
struct Busy;

fn running<A>(agent: &Arc<A>) -> bool {
    Arc::strong_count(agent) > 1
}

impl<A> Sessions<A> {
    fn new(max: usize, idle: Duration) -> Self {
        Self {
            slots: HashMap::new(),
            by_use: BTreeMap::new(),
            next_seq: 0,
            max: max.max(1),
            idle,
            #[cfg(test)]
            examined: 0,
        }
    }

    fn len(&self) -> usize {
        self.slots.len()
    }

    fn expired(&self, used: UseKey, now: Instant) -> bool {
        now.saturating_duration_since(used.at) >= self.idle
    }

    fn stamp(&mut self, now: Instant) -> UseKey {
        let key = UseKey {
            at: now,
            seq: self.next_seq,
        };
        self.next_seq += 1;
        key
    }

    fn note_examined(&mut self, entries: usize) {
        #[cfg(test)]
        {
            self.examined += entries;
        }
        #[cfg(not(test))]
        let _ = entries;
    }

    /// The agent of `id` if it is kept and live (running, or used within the idle time), marked
    /// as used now. An expired agent is dropped. O(log n).
    fn hit(&mut self, id: &str, now: Instant) -> Option<Arc<A>> {
        let slot = self.slots.get(id)?;
        let (live, old) = (
            running(&slot.agent) || !self.expired(slot.used, now),
            slot.used,
        );
        if !live {
            self.remove(id);
            return None;
        }
        let used = self.stamp(now);
        self.by_use.remove(&old);
        self.by_use.insert(used, id.to_owned());
        let slot = self.slots.get_mut(id)?;
        slot.used = used;
        Some(slot.agent.clone())
    }

    fn remove(&mut self, id: &str) {
        if let Some(slot) = self.slots.remove(id) {
            self.by_use.remove(&slot.used);
        }
    }

    /// Makes room for one more session: drops the expired agents that are not running, then, at
    /// the bound, the least recently used one that is not running. Looks only at the expired
    /// entries and at running ones in front of the victim. `Err(Busy)` when every slot runs.
    fn make_room(&mut self, now: Instant) -> Result<(), Busy> {
        let mut examined = 0;
        let mut expired = Vec::new();
        for (used, id) in &self.by_use {
            examined += 1;
            if !self.expired(*used, now) {
                break;
            }
            if self.slots.get(id).is_some_and(|slot| !running(&slot.agent)) {
                expired.push(id.clone());
            }
        }
        for id in &expired {
            self.remove(id);
        }
        while self.len() >= self.max {
            let victim = self
                .by_use
                .values()
                .inspect(|_| examined += 1)
                .find(|id| {
                    self.slots
                        .get(*id)
                        .is_some_and(|slot| !running(&slot.agent))
                })
                .cloned();
            let Some(id) = victim else {
                self.note_examined(examined);
                return Err(Busy);
            };
            self.remove(&id);
        }
        self.note_examined(examined);
        Ok(())
    }

    /// Keeps `agent` for `id`, used now. Call [`Self::make_room`] first.
    fn insert(&mut self, id: &str, agent: Arc<A>, now: Instant) {
        self.remove(id);
        let used = self.stamp(now);
        self.by_use.insert(used, id.to_owned());
        self.slots.insert(id.to_owned(), Slot { agent, used });
    }
}

/// Where a caller's agent is kept: the session id alone without an actor or when storage is not
/// per actor ([`AgentEntrypoint::per_session`]), or
/// a key no session id can spell (it starts with NUL, which no header holds) with one. `None`
/// for an invocation without a session id.
fn slot_key<'a>(caller: &Caller<'a>, actor_scoped: bool) -> Option<std::borrow::Cow<'a, str>> {
    let session_id = caller.session_id.filter(|s| !s.is_empty())?;
    Some(match caller.actor_id.filter(|_| actor_scoped) {
        None => std::borrow::Cow::Borrowed(session_id),
        Some(actor) => std::borrow::Cow::Owned(format!("\0{}:{actor}{session_id}", actor.len())),
    })
}

/// Default bound on kept sessions.
pub const DEFAULT_MAX_SESSIONS: usize = 1_000;
/// Default idle time after which a session's agent is dropped (AgentCore ends idle sessions
/// after 15 minutes).
pub const DEFAULT_SESSION_IDLE: Duration = Duration::from_secs(15 * 60);

impl AgentEntrypoint {
    /// An entrypoint building agents with `factory` (called once per new session).
    pub fn new(factory: impl Fn() -> Result<Agent, BuildError> + Send + Sync + 'static) -> Self {
        Self::per_session(move |_| factory())
    }

    /// An entrypoint whose `factory` is given the AgentCore session id (`None` for an
    /// invocation without one): for agents that persist their conversation under it, with a
    /// [`SessionManager`](strands_agent::session::SessionManager), so it continues in another
    /// microVM or after a restart.
    ///
    /// ```
    /// use strands_agent::Agent;
    /// use strands_agent::session::{FileSessionRepository, SessionManager};
    /// use strands_runtime::AgentEntrypoint;
    ///
    /// # let model = std::sync::Arc::new(strands_testkit::ScriptedModel::builder().build());
    /// let sessions = std::sync::Arc::new(FileSessionRepository::new("/var/lib/agent/sessions"));
    /// let entrypoint = AgentEntrypoint::per_session(move |session_id| {
    ///     let mut builder = Agent::builder().shared_model(model.clone());
    ///     if let Some(id) = session_id {
    ///         builder = builder.session_manager(SessionManager::with_shared_repository(id, sessions.clone())?);
    ///     }
    ///     builder.build()
    /// });
    /// # drop(entrypoint);
    /// ```
    pub fn per_session(
        factory: impl Fn(Option<&str>) -> Result<Agent, BuildError> + Send + Sync + 'static,
    ) -> Self {
        let mut entrypoint = Self::per_caller(move |caller| factory(caller.session_id));
        entrypoint.actor_scoped = false;
        entrypoint
    }

    /// An entrypoint whose `factory` is given the session and the actor ([`Caller`]): for agents
    /// whose storage is per user, such as AgentCore Memory, so one process serves many users.
    ///
    /// ```
    /// use strands_agent::Agent;
    /// use strands_runtime::AgentEntrypoint;
    ///
    /// # let model = std::sync::Arc::new(strands_testkit::ScriptedModel::builder().build());
    /// let entrypoint = AgentEntrypoint::per_caller(move |caller| {
    ///     let actor = caller.actor_id.unwrap_or("anonymous");
    ///     Agent::builder().shared_model(model.clone()).name(format!("assistant of {actor}")).build()
    /// })
    /// .actor_from_payload("actor_id");
    /// # drop(entrypoint);
    /// ```
    pub fn per_caller(
        factory: impl Fn(&Caller<'_>) -> Result<Agent, BuildError> + Send + Sync + 'static,
    ) -> Self {
        Self {
            factory: Arc::new(factory),
            sessions: Arc::new(Mutex::new(Sessions::new(
                DEFAULT_MAX_SESSIONS,
                DEFAULT_SESSION_IDLE,
            ))),
            gate: None,
            actor_field: None,
            default_actor: None,
            actor_scoped: true,
        }
    }

    /// The actor of requests that name none (so they share that actor's agent and storage).
    #[must_use]
    pub fn default_actor(mut self, actor: impl Into<String>) -> Self {
        self.default_actor = Some(actor.into().into());
        self
    }

    /// Takes the actor from the payload's string field `field` (Python samples use
    /// `payload["actor_id"]`) when the request has no user id header. The payload is the
    /// caller's to write: use this only when every caller may act for any actor.
    #[must_use]
    pub fn actor_from_payload(mut self, field: impl Into<String>) -> Self {
        self.actor_field = Some(field.into().into());
        self
    }

    /// Awaits `gate` before building a new agent (not for a session that has one), and
    /// answers with its error instead when it fails: e.g. to wait for MCP servers to list
    /// their tools, while `/ping` is answered at once. Once the gate is open, awaiting it
    /// should cost nothing (an agent is built for every invocation without a session id).
    ///
    /// ```
    /// use std::time::Duration;
    /// use strands_agent::Agent;
    /// use strands_runtime::{AgentEntrypoint, HandlerError};
    ///
    /// # let model = std::sync::Arc::new(strands_testkit::ScriptedModel::builder().build());
    /// let tools_ready = tokio::sync::watch::channel(true).1;
    /// let entrypoint = AgentEntrypoint::new(move || Agent::builder().shared_model(model.clone()).build())
    ///     .before_new_agent(move || {
    ///         let mut ready = tools_ready.clone();
    ///         async move {
    ///             let wait = ready.wait_for(|ready| *ready);
    ///             match tokio::time::timeout(Duration::from_secs(30), wait).await {
    ///                 Ok(Ok(_)) => Ok(()),
    ///                 _ => Err(HandlerError::new("the tools are not available")),
    ///             }
    ///         }
    ///     });
    /// # drop(entrypoint);
    /// ```
    #[must_use]
    pub fn before_new_agent<F, Fut>(mut self, gate: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<(), HandlerError>> + Send + 'static,
    {
        self.gate = Some(Arc::new(move || Box::pin(gate())));
        self
    }

    /// Keeps at most `max_sessions` agents, dropping those idle for `idle` first.
    #[must_use]
    pub fn with_limits(self, max_sessions: usize, idle: Duration) -> Self {
        {
            let mut sessions = self.sessions.lock().unwrap_or_else(PoisonError::into_inner);
            sessions.max = max_sessions.max(1);
            sessions.idle = idle;
        }
        self
    }

    /// Registers this entrypoint on `app`.
    pub fn install(self, app: AgentCoreApp) -> AgentCoreApp {
        app.entrypoint(move |payload, context| {
            let this = self.clone();
            async move { this.invoke(payload, context).await }
        })
    }

    /// Number of sessions with a live agent.
    pub fn session_count(&self) -> usize {
        self.sessions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Whether the caller's session has a live agent (one is built otherwise).
    fn has_agent(&self, caller: &Caller<'_>) -> bool {
        slot_key(caller, self.actor_scoped).is_some_and(|key| {
            self.sessions
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .slots
                .contains_key(key.as_ref())
        })
    }

    /// The actor the request names: the user id header, else the payload field if configured.
    fn actor<'a>(&'a self, payload: &'a Value, context: &'a RequestContext) -> Option<&'a str> {
        let from_payload = || {
            let field = self.actor_field.as_deref()?;
            payload.get(field)?.as_str()
        };
        context
            .user_id
            .as_deref()
            .or_else(from_payload)
            .filter(|actor| !actor.is_empty())
            .or(self.default_actor.as_deref())
    }

    fn agent_for(&self, caller: &Caller<'_>) -> Result<Arc<AsyncMutex<Agent>>, HandlerError> {
        let new_agent = |caller: &Caller<'_>| {
            (self.factory)(caller)
                .map(|agent| Arc::new(AsyncMutex::new(agent)))
                .map_err(|error| match error {
                    // A session id the session storage refuses is the client's to fix.
                    BuildError::Session(SessionError::InvalidId { .. }) => {
                        HandlerError::http(StatusCode::BAD_REQUEST, error.to_string())
                    }
                    error => HandlerError::new(format!("could not build the agent: {error}")),
                })
        };
        let Some(key) = slot_key(caller, self.actor_scoped) else {
            return new_agent(&Caller {
                session_id: None,
                actor_id: caller.actor_id,
            });
        };
        let mut sessions = self.sessions.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        if let Some(agent) = sessions.hit(&key, now) {
            return Ok(agent);
        }
        // A new (or expired) session: O(log n) plus the expired and running entries stepped over.
        if sessions.make_room(now).is_err() {
            return Err(HandlerError::http(
                StatusCode::SERVICE_UNAVAILABLE,
                "every session slot is busy; retry shortly",
            ));
        }
        let agent = new_agent(caller)?;
        sessions.insert(&key, agent.clone(), now);
        Ok(agent)
    }

    /// Runs one invocation.
    ///
    /// # Errors
    ///
    /// 400 when the payload has no `"prompt"` string; 500 with the agent's error (model
    /// failures name their fix) otherwise.
    pub async fn invoke(
        &self,
        payload: Value,
        context: RequestContext,
    ) -> Result<Reply, HandlerError> {
        let prompt = agent_input(&payload)?;
        let stream = payload
            .get("stream")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let tool_events = payload
            .get("tool_events")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let caller = Caller {
            session_id: context.session_id.as_deref(),
            actor_id: self.actor(&payload, &context),
        };
        if let Some(gate) = &self.gate
            && !self.has_agent(&caller)
        {
            gate().await?;
        }
        let mut agent = self.agent_for(&caller)?.lock_owned().await;
        check_resume(&agent, &prompt)?;
        if !stream {
            let result = agent.invoke(prompt).await.map_err(invoke_error)?;
            let mut reply = json!({"result": result.to_string()});
            if let Some(value) = result.structured_output {
                reply["structured_output"] = value;
            }
            if !result.interrupts.is_empty() {
                reply["interrupts"] = json!(result.interrupts);
            }
            return Ok(Reply::Json(reply));
        }
        Ok(Reply::stream(async_stream::stream! {
            let mut events = std::pin::pin!(agent.stream(prompt));
            while let Some(event) = events.next().await {
                match event {
                    Ok(AgentEvent::TextDelta { text }) => yield Ok(Value::String(text)),
                    Ok(AgentEvent::StructuredOutput { value }) => {
                        yield Ok(json!({"structured_output": value}));
                    }
                    Ok(AgentEvent::Result(result)) if !result.interrupts.is_empty() => {
                        yield Ok(json!({"interrupts": result.interrupts}));
                    }
                    Ok(AgentEvent::ToolStart { tool_use }) if tool_events => {
                        yield Ok(json!({"tool_start": {
                            "toolUseId": tool_use.tool_use_id,
                            "name": tool_use.name,
                            "input": tool_use.input,
                        }}));
                    }
                    Ok(AgentEvent::ToolResult { tool_result }) if tool_events => {
                        yield Ok(json!({"tool_result": {
                            "toolUseId": tool_result.tool_use_id,
                            "status": tool_result.status,
                        }}));
                    }
                    Ok(_) => {}
                    Err(error) => {
                        yield Err(HandlerError::from(error));
                        break;
                    }
                }
            }
        }))
    }
}

/// 400 before anything is streamed when the input does not fit the agent's state: a prompt
/// while it waits for interrupt responses, responses it did not ask for.
fn check_resume(agent: &Agent, input: &AgentInput) -> Result<(), HandlerError> {
    let pending = agent.pending_interrupts();
    let bad = |message: String| Err(HandlerError::http(StatusCode::BAD_REQUEST, message));
    match input {
        AgentInput::InterruptResponses(_) if pending.is_empty() => {
            bad("the prompt answers interrupts, but the agent is not waiting for any".to_owned())
        }
        AgentInput::InterruptResponses(responses) => {
            match responses
                .iter()
                .find(|r| !pending.iter().any(|p| p.id == r.interrupt_id))
            {
                Some(unknown) => bad(format!(
                    "the agent has no interrupt {:?}; answer one of: {}",
                    unknown.interrupt_id,
                    ids(&pending)
                )),
                None => Ok(()),
            }
        }
        _ if !pending.is_empty() => bad(format!(
            r#"the agent is waiting for answers to its interrupts ({}); send {{"prompt": [{{"interruptResponse": {{"interruptId": "<id>", "response": ...}}}}]}}"#,
            ids(&pending)
        )),
        _ => Ok(()),
    }
}

fn ids(interrupts: &[strands_core::Interrupt]) -> String {
    interrupts
        .iter()
        .map(|i| i.id.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The agent's failure: 400 when the input does not fit the agent's state (a prompt while it
/// waits for interrupt responses, or responses it did not ask for), else 500.
fn invoke_error(error: AgentError) -> HandlerError {
    match &error {
        AgentError::Resume(resume) => {
            HandlerError::http(StatusCode::BAD_REQUEST, resume.to_string())
        }
        _ => HandlerError::from(error),
    }
}

const PROMPT_HELP: &str = r#"the payload needs a "prompt": a string, e.g. {"prompt": "Hello"}, or the answers to the agent's interrupts, e.g. {"prompt": [{"interruptResponse": {"interruptId": "...", "response": "yes"}}]}"#;

/// The agent's input from the payload's `"prompt"`: a string, or (to resume an interrupted
/// agent) Python's list of `{"interruptResponse": {"interruptId", "response"}}`.
fn agent_input(payload: &Value) -> Result<AgentInput, HandlerError> {
    let bad = || HandlerError::http(StatusCode::BAD_REQUEST, PROMPT_HELP);
    match payload.get("prompt") {
        Some(Value::String(text)) => Ok(AgentInput::Text(text.clone())),
        Some(Value::Array(items)) if !items.is_empty() => items
            .iter()
            .map(|item| {
                let answer = item.get("interruptResponse")?;
                let id = answer.get("interruptId")?.as_str()?;
                Some(InterruptResponse::new(
                    id,
                    answer.get("response").cloned().unwrap_or(Value::Null),
                ))
            })
            .collect::<Option<Vec<_>>>()
            .map(AgentInput::InterruptResponses)
            .ok_or_else(bad),
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing,
        reason = "tests"
    )]

    use std::collections::HashSet;

    use super::*;

    const HOUR: Duration = Duration::from_secs(3600);

    fn ms(start: Instant, millis: u64) -> Instant {
        start + Duration::from_millis(millis)
    }

    /// What `agent_for` does with a session id, on the bare bookkeeping.
    fn open(sessions: &mut Sessions<u32>, id: &str, now: Instant) -> Result<Arc<u32>, Busy> {
        if let Some(agent) = sessions.hit(id, now) {
            return Ok(agent);
        }
        sessions.make_room(now)?;
        let agent = Arc::new(0);
        sessions.insert(id, agent.clone(), now);
        Ok(agent)
    }

    fn ids(sessions: &Sessions<u32>) -> Vec<&str> {
        let mut ids: Vec<&str> = sessions.slots.keys().map(String::as_str).collect();
        ids.sort_unstable();
        ids
    }

    /// The index holds exactly the map's sessions, each under its slot's last use.
    fn assert_consistent(sessions: &Sessions<u32>) {
        assert_eq!(sessions.by_use.len(), sessions.slots.len());
        for (used, id) in &sessions.by_use {
            assert_eq!(sessions.slots[id].used, *used, "{id}");
        }
        assert!(sessions.len() <= sessions.max);
    }

    #[test]
    fn the_least_recently_used_session_is_evicted_first() {
        let t = Instant::now();
        let mut sessions = Sessions::new(3, HOUR);
        for (i, id) in ["a", "b", "c"].into_iter().enumerate() {
            drop(open(&mut sessions, id, ms(t, i as u64)).unwrap());
        }
        drop(open(&mut sessions, "a", ms(t, 3)).unwrap()); // a hit: a is now the newest
        drop(open(&mut sessions, "d", ms(t, 4)).unwrap());
        assert_eq!(
            ids(&sessions),
            ["a", "c", "d"],
            "b was the least recently used"
        );
        drop(open(&mut sessions, "e", ms(t, 5)).unwrap());
        assert_eq!(ids(&sessions), ["a", "d", "e"]);
        assert_consistent(&sessions);
    }

    #[test]
    fn idle_sessions_expire_on_a_hit_or_the_next_creation() {
        let t = Instant::now();
        let mut sessions = Sessions::new(10, Duration::from_secs(10));
        let a = open(&mut sessions, "a", t).unwrap();
        drop(open(&mut sessions, "b", ms(t, 5_000)).unwrap());
        drop(a);
        assert!(
            sessions.hit("b", ms(t, 9_000)).is_some(),
            "used within the idle time"
        );
        assert!(
            sessions.hit("a", ms(t, 10_000)).is_none(),
            "idle for 10 s: gone"
        );
        assert_eq!(ids(&sessions), ["b"]);
        drop(open(&mut sessions, "c", ms(t, 18_999)).unwrap());
        assert_eq!(ids(&sessions), ["b", "c"], "b was used 9.999 s ago");
        drop(open(&mut sessions, "d", ms(t, 19_000)).unwrap());
        assert_eq!(ids(&sessions), ["c", "d"], "b expired when d was created");
        assert_consistent(&sessions);

        // With no idle time, only the latest session is kept.
        let mut sessions = Sessions::new(10, Duration::ZERO);
        for i in 0..5 {
            drop(open(&mut sessions, &format!("s{i}"), ms(t, i)).unwrap());
        }
        assert_eq!(ids(&sessions), ["s4"]);
    }

    #[test]
    fn running_sessions_are_never_expired_nor_evicted_and_a_full_house_is_busy() {
        let t = Instant::now();
        let mut sessions = Sessions::new(2, Duration::from_secs(1));
        let a = open(&mut sessions, "a", t).unwrap(); // held: running
        drop(open(&mut sessions, "b", ms(t, 1)).unwrap());
        drop(open(&mut sessions, "c", ms(t, 5_000)).unwrap());
        assert_eq!(ids(&sessions), ["a", "c"], "b expired, a runs");
        let c = sessions.hit("c", ms(t, 5_001)).unwrap();
        assert_eq!(open(&mut sessions, "d", ms(t, 5_002)), Err(Busy));
        assert_eq!(ids(&sessions), ["a", "c"]);
        let again = sessions.hit("a", ms(t, 9_000)).unwrap();
        assert!(
            Arc::ptr_eq(&a, &again),
            "an old running session is still served"
        );
        drop((again, c));
        drop(open(&mut sessions, "d", ms(t, 9_001)).unwrap());
        assert_eq!(ids(&sessions), ["a", "d"], "c (not running) made room");
        drop(a);
        drop(open(&mut sessions, "e", ms(t, 9_002)).unwrap());
        assert_eq!(
            ids(&sessions),
            ["d", "e"],
            "a, no longer running, was the oldest"
        );
        assert_consistent(&sessions);
    }

    #[test]
    fn each_actor_of_a_session_has_its_own_agent() {
        let entrypoint = AgentEntrypoint::per_caller(|caller| {
            Agent::builder()
                .model(strands_testkit::ScriptedModel::builder().build())
                .name(caller.actor_id.unwrap_or("nobody"))
                .build()
        });
        let alice = entrypoint
            .agent_for(&Caller::new(Some("s"), Some("alice")))
            .unwrap();
        let bob = entrypoint
            .agent_for(&Caller::new(Some("s"), Some("bob")))
            .unwrap();
        let anonymous = entrypoint.agent_for(&Caller::new(Some("s"), None)).unwrap();
        // An actor whose name and session would spell another key does not collide either.
        let tricky = entrypoint
            .agent_for(&Caller::new(Some("ce"), Some("ali")))
            .unwrap();
        assert!(!Arc::ptr_eq(&alice, &bob) && !Arc::ptr_eq(&alice, &anonymous));
        assert!(!Arc::ptr_eq(&alice, &tricky));
        let again = entrypoint
            .agent_for(&Caller::new(Some("s"), Some("alice")))
            .unwrap();
        assert!(Arc::ptr_eq(&alice, &again));
        assert_eq!(entrypoint.session_count(), 4);
    }

    #[test]
    fn per_session_agents_are_shared_by_every_actor_of_the_session() {
        let entrypoint = AgentEntrypoint::per_session(|_| {
            Agent::builder()
                .model(strands_testkit::ScriptedModel::builder().build())
                .build()
        });
        let alice = entrypoint
            .agent_for(&Caller::new(Some("s"), Some("alice")))
            .unwrap();
        let bob = entrypoint
            .agent_for(&Caller::new(Some("s"), Some("bob")))
            .unwrap();
        assert!(Arc::ptr_eq(&alice, &bob), "one storage session, one agent");
    }

    #[test]
    fn the_entrypoint_answers_503_when_every_slot_runs() {
        let entrypoint = AgentEntrypoint::new(|| {
            Agent::builder()
                .model(strands_testkit::ScriptedModel::builder().build())
                .build()
        })
        .with_limits(2, HOUR);
        let a = entrypoint.agent_for(&Caller::new(Some("a"), None)).unwrap();
        let b = entrypoint.agent_for(&Caller::new(Some("b"), None)).unwrap();
        let busy = entrypoint
            .agent_for(&Caller::new(Some("c"), None))
            .unwrap_err();
        assert_eq!(busy.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(busy.message(), "every session slot is busy; retry shortly");
        assert!(Arc::ptr_eq(
            &a,
            &entrypoint.agent_for(&Caller::new(Some("a"), None)).unwrap()
        ));
        drop(a);
        drop(entrypoint.agent_for(&Caller::new(Some("c"), None)).unwrap());
        assert_eq!(entrypoint.session_count(), 2);
        drop(b);
        drop(entrypoint.agent_for(&Caller::new(None, None)).unwrap());
        assert_eq!(entrypoint.session_count(), 2, "no session id: not kept");
    }

    /// A tiny deterministic pseudo-random sequence (xorshift64*).
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: u64) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
        }
    }

    /// The previous implementation (retain everything live, then a full scan for the victim),
    /// kept as the oracle.
    #[derive(Default)]
    struct Oracle {
        used: HashMap<String, Instant>,
    }

    impl Oracle {
        fn open(
            &mut self,
            id: &str,
            now: Instant,
            running: &HashSet<String>,
            max: usize,
            idle: Duration,
        ) -> Result<(), Busy> {
            let live = |id: &str, used: Instant| {
                running.contains(id) || now.saturating_duration_since(used) < idle
            };
            if let Some(used) = self.used.get_mut(id)
                && live(id, *used)
            {
                *used = now;
                return Ok(());
            }
            self.used.retain(|id, used| live(id, *used));
            if self.used.len() >= max {
                let victim = self
                    .used
                    .iter()
                    .filter(|(id, _)| !running.contains(*id))
                    .min_by_key(|(_, used)| **used)
                    .map(|(id, _)| id.clone())
                    .ok_or(Busy)?;
                self.used.remove(&victim);
            }
            self.used.insert(id.to_owned(), now);
            Ok(())
        }
    }

    #[test]
    fn index_and_map_agree_with_the_full_scan_after_many_random_operations() {
        for seed in 1..=4_u64 {
            let (max, idle) = (8, Duration::from_millis(400));
            let t = Instant::now();
            let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15));
            let mut sessions = Sessions::new(max, idle);
            let mut oracle = Oracle::default();
            let mut held: HashMap<String, Arc<u32>> = HashMap::new();
            let mut clock = 0;
            let mut busy = 0;
            for _ in 0..5_000 {
                clock += 1 + rng.below(40);
                let now = ms(t, clock);
                let id = format!("s{}", rng.below(24));
                match rng.below(10) {
                    // Start running a session (an invocation holding its agent).
                    0 | 1 => {
                        let running: HashSet<String> = held.keys().cloned().collect();
                        let expected = oracle.open(&id, now, &running, max, idle);
                        let got = open(&mut sessions, &id, now);
                        assert_eq!(got.as_ref().err(), expected.as_ref().err(), "{id}");
                        busy += usize::from(got.is_err());
                        if let Ok(agent) = got {
                            held.insert(id, agent);
                        }
                    }
                    // Finish a running one.
                    2 => {
                        let done = held.keys().nth(rng.below(8) as usize).cloned();
                        done.map(|id| held.remove(&id));
                    }
                    // An invocation that starts and ends.
                    _ => {
                        let running: HashSet<String> = held.keys().cloned().collect();
                        let expected = oracle.open(&id, now, &running, max, idle);
                        let got = open(&mut sessions, &id, now).map(drop);
                        assert_eq!(got, expected, "{id}");
                        busy += usize::from(got.is_err());
                    }
                }
                assert_consistent(&sessions);
                let mut expected: Vec<&str> = oracle.used.keys().map(String::as_str).collect();
                expected.sort_unstable();
                assert_eq!(ids(&sessions), expected);
                for id in held.keys() {
                    assert!(sessions.slots.contains_key(id), "running {id} was dropped");
                }
            }
            assert!(
                busy > 0,
                "seed {seed}: the sequence never filled every slot"
            );
        }
    }

    #[test]
    fn creating_a_session_among_50_000_looks_at_few_entries() {
        const N: u64 = 50_000;
        let t = Instant::now();
        let mut sessions = Sessions::new(N as usize, HOUR);
        // The oldest sessions run throughout: they sit at the old end of the index.
        let running: Vec<Arc<u32>> = (0..5)
            .map(|i| open(&mut sessions, &format!("r{i}"), ms(t, i)).unwrap())
            .collect();
        for i in 5..N {
            sessions.examined = 0;
            drop(open(&mut sessions, &format!("s{i}"), ms(t, i)).unwrap());
            assert!(
                sessions.examined <= 1,
                "creation {i}: {}",
                sessions.examined
            );
        }
        assert_eq!(sessions.len(), N as usize);

        // Full: each creation evicts the least recently used idle session, stepping over the
        // five running ones only.
        for i in N..N + 1_000 {
            sessions.examined = 0;
            drop(open(&mut sessions, &format!("s{i}"), ms(t, i)).unwrap());
            assert!(
                sessions.examined <= 8,
                "creation {i}: {}",
                sessions.examined
            );
            assert!(!sessions.slots.contains_key(&format!("s{}", i - N + 5)));
        }

        // Hits look at no entry of the index.
        sessions.examined = 0;
        for i in N..N + 1_000 {
            assert!(
                sessions
                    .hit(&format!("s{i}"), ms(t, N + 1_000 + i))
                    .is_some()
            );
        }
        assert_eq!(sessions.examined, 0);

        // An hour after the middle of the fill, about half have expired: one creation sweeps
        // them (each entry is swept once, ever), then creations are cheap again.
        let later = HOUR.as_millis() as u64 + N / 2;
        let before = sessions.len();
        sessions.examined = 0;
        drop(open(&mut sessions, "late-0", ms(t, later)).unwrap());
        let swept = before + 1 - sessions.len();
        assert!(swept > N as usize / 4, "swept {swept}");
        assert!(
            sessions.examined <= swept + 5 + 1,
            "{} for {swept}",
            sessions.examined
        );
        for i in 1..1_000 {
            sessions.examined = 0;
            drop(open(&mut sessions, &format!("late-{i}"), ms(t, later + i)).unwrap());
            assert!(
                sessions.examined <= 5 + 1 + 1,
                "late {i}: {}",
                sessions.examined
            );
        }
        assert_eq!(running.iter().map(Arc::strong_count).sum::<usize>(), 10);
        assert_consistent(&sessions);
    }
}
