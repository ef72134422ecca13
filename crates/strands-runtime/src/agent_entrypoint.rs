//! The default entrypoint: a Strands agent per runtime session.
//!
//! AgentCore routes every invocation of a session to the same microVM, so keeping one agent per
//! session id lets a conversation continue across invocations. Agents are bounded in number and
//! evicted after being idle. Invocations of one session run one at a time: a second concurrent
//! invocation of the same session waits for the first to finish (history is never interleaved).
//! Invocations without a session id get a fresh agent that is not kept.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use http::StatusCode;
use serde_json::{Value, json};
use strands_agent::{Agent, AgentEvent, BuildError};
use tokio::sync::Mutex as AsyncMutex;

use crate::{AgentCoreApp, HandlerError, Reply, RequestContext};

type Factory = dyn Fn() -> Result<Agent, BuildError> + Send + Sync;

/// Serves `{"prompt": "...", "stream"?: bool}` with one agent per session.
///
/// The JSON answer is `{"result": "<final text>"}` (the Python quickstart's
/// `{"result": str(agent_result)}`); with `"stream": true` the answer is server-sent events, one
/// JSON string per text delta (the Python template's `yield event["data"]`).
#[derive(Clone)]
pub struct AgentEntrypoint {
    factory: Arc<Factory>,
    sessions: Arc<Mutex<Sessions>>,
}

impl fmt::Debug for AgentEntrypoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sessions = self.sessions.lock().unwrap_or_else(PoisonError::into_inner);
        f.debug_struct("AgentEntrypoint")
            .field("sessions", &sessions.agents.len())
            .field("max_sessions", &sessions.max)
            .field("idle_timeout", &sessions.idle)
            .finish_non_exhaustive()
    }
}

struct Sessions {
    agents: HashMap<String, (Arc<AsyncMutex<Agent>>, Instant)>,
    max: usize,
    idle: Duration,
}

/// Default bound on kept sessions.
pub const DEFAULT_MAX_SESSIONS: usize = 1_000;
/// Default idle time after which a session's agent is dropped (AgentCore ends idle sessions
/// after 15 minutes).
pub const DEFAULT_SESSION_IDLE: Duration = Duration::from_secs(15 * 60);

impl AgentEntrypoint {
    /// An entrypoint building agents with `factory` (called once per new session).
    pub fn new(factory: impl Fn() -> Result<Agent, BuildError> + Send + Sync + 'static) -> Self {
        Self {
            factory: Arc::new(factory),
            sessions: Arc::new(Mutex::new(Sessions {
                agents: HashMap::new(),
                max: DEFAULT_MAX_SESSIONS,
                idle: DEFAULT_SESSION_IDLE,
            })),
        }
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
            .agents
            .len()
    }

    fn agent_for(&self, session_id: Option<&str>) -> Result<Arc<AsyncMutex<Agent>>, HandlerError> {
        let new_agent = || {
            (self.factory)()
                .map(|agent| Arc::new(AsyncMutex::new(agent)))
                .map_err(|e| HandlerError::new(format!("could not build the agent: {e}")))
        };
        let Some(session_id) = session_id.filter(|s| !s.is_empty()) else {
            return new_agent();
        };
        let mut sessions = self.sessions.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        let idle = sessions.idle;
        // A running agent is never idle: its invocation holds a second reference.
        let live = |agent: &Arc<AsyncMutex<Agent>>, used: Instant| {
            Arc::strong_count(agent) > 1 || now.duration_since(used) < idle
        };
        if let Some((agent, used)) = sessions.agents.get_mut(session_id)
            && live(agent, *used)
        {
            *used = now;
            return Ok(agent.clone());
        }
        // A new (or expired) session: drop the idle ones first. Hits above stay O(1).
        sessions
            .agents
            .retain(|_, (agent, used)| live(agent, *used));
        if sessions.agents.len() >= sessions.max {
            // Drop the least recently used session that is not running.
            let victim = sessions
                .agents
                .iter()
                .filter(|(_, (agent, _))| Arc::strong_count(agent) == 1)
                .min_by_key(|(_, (_, used))| *used)
                .map(|(id, _)| id.clone());
            match victim {
                Some(id) => {
                    sessions.agents.remove(&id);
                }
                None => {
                    return Err(HandlerError::http(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "every session slot is busy; retry shortly",
                    ));
                }
            }
        }
        let agent = new_agent()?;
        sessions
            .agents
            .insert(session_id.to_owned(), (agent.clone(), now));
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
        let Some(prompt) = payload
            .get("prompt")
            .and_then(Value::as_str)
            .map(str::to_owned)
        else {
            return Err(HandlerError::http(
                StatusCode::BAD_REQUEST,
                r#"the payload needs a "prompt" string, e.g. {"prompt": "Hello"}"#,
            ));
        };
        let stream = payload
            .get("stream")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let agent = self.agent_for(context.session_id.as_deref())?;
        if !stream {
            let mut agent = agent.lock().await;
            let result = agent.invoke(prompt).await?;
            return Ok(Reply::Json(json!({"result": result.to_string()})));
        }
        Ok(Reply::stream(async_stream::stream! {
            let mut agent = agent.lock_owned().await;
            let mut events = std::pin::pin!(agent.stream(prompt));
            while let Some(event) = events.next().await {
                match event {
                    Ok(AgentEvent::TextDelta { text }) => yield Ok(text),
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
