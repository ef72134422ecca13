//! [`A2AServer`]: an agent behind A2A's JSON-RPC.

mod rpc;
mod run;
mod store;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use strands_agent::Agent;

use self::store::Store;
use crate::types::{AgentCard, AgentSkill, Capabilities};

type AgentFactory = dyn Fn() -> Result<Agent, strands_agent::BuildError> + Send + Sync;

/// Why an [`A2AServer`] could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The agent factory failed.
    #[error("the agent factory failed: {0}")]
    Agent(#[from] strands_agent::BuildError),
    /// The card needs a description (A2A requires one; Python Strands too).
    #[error(
        "the agent has no description; give it one (or call .description(..)) for its A2A card"
    )]
    MissingDescription,
}

/// Serves an agent over A2A 0.3: the agent card, and `message/send`, `message/stream`,
/// `tasks/get` and `tasks/cancel` on `POST /`.
///
/// Each conversation (`contextId`) gets its own agent from the factory, kept while the context
/// is among the most recent (1,000 by default); tasks are kept the same way (4,096). A message
/// runs the agent on its parts (text, and data as `[Structured Data]` JSON text); while it runs,
/// each text chunk is a `working` status with that chunk (Strands' default streaming), then the
/// answer is the `agent_response` artifact and the task `completed`. An agent that fails ends
/// its task `failed` ("Agent execution failed"); an interrupt ends it `input-required` with the
/// interrupts as data, and a message to that task holding `{"interruptResponse": ...}` data
/// parts resumes it.
///
/// Python: `strands.multiagent.a2a.A2AServer`.
#[derive(Clone)]
pub struct A2AServer {
    shared: Arc<Shared>,
}

struct Shared {
    factory: Box<AgentFactory>,
    card: AgentCard,
    store: Store,
    queue_timeout: Duration,
    max_body_bytes: usize,
}

impl fmt::Debug for A2AServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("A2AServer")
            .field("card", &self.shared.card)
            .finish_non_exhaustive()
    }
}

impl A2AServer {
    /// Starts building a server whose agents `factory` builds (one per conversation).
    pub fn builder(
        factory: impl Fn() -> Result<Agent, strands_agent::BuildError> + Send + Sync + 'static,
    ) -> A2AServerBuilder {
        A2AServerBuilder {
            factory: Box::new(factory),
            url: None,
            description: None,
            version: None,
            skills: None,
            max_contexts: 1000,
            max_tasks: 4096,
            queue_timeout: Duration::from_secs(60),
            max_body_bytes: 1024 * 1024,
        }
    }

    /// The agent card.
    pub fn card(&self) -> &AgentCard {
        &self.shared.card
    }

    /// The routes: `GET /.well-known/agent-card.json` (and the older `/.well-known/agent.json`),
    /// `POST /`.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/.well-known/agent-card.json", get(rpc::card))
            .route("/.well-known/agent.json", get(rpc::card))
            .route("/", post(rpc::handle))
            .layer(DefaultBodyLimit::max(self.shared.max_body_bytes))
            .with_state(self.shared.clone())
    }
}

/// Builds an [`A2AServer`].
#[must_use]
pub struct A2AServerBuilder {
    factory: Box<AgentFactory>,
    url: Option<String>,
    description: Option<String>,
    version: Option<String>,
    skills: Option<Vec<AgentSkill>>,
    max_contexts: usize,
    max_tasks: usize,
    queue_timeout: Duration,
    max_body_bytes: usize,
}

impl fmt::Debug for A2AServerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("A2AServerBuilder")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl A2AServerBuilder {
    /// The URL clients send requests to, published in the card (default
    /// `http://127.0.0.1:9000/`).
    pub fn url(mut self, url: impl Into<String>) -> Self {
        self.url = Some(url.into());
        self
    }

    /// The card's description (default: the agent's).
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// The card's version (default `0.0.1`, as Python Strands).
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.version = Some(version.into());
        self
    }

    /// The card's skills (default: one per tool of the agent).
    pub fn skills(mut self, skills: Vec<AgentSkill>) -> Self {
        self.skills = Some(skills);
        self
    }

    /// How many conversations keep their agent (default 1,000, as Python Strands; the least
    /// recent whose agent is not in use goes first, and its next message starts afresh).
    pub fn max_contexts(mut self, max: usize) -> Self {
        self.max_contexts = max.max(1);
        self
    }

    /// How many tasks are kept for `tasks/get` (default 4,096; the oldest goes first).
    pub fn max_tasks(mut self, max: usize) -> Self {
        self.max_tasks = max.max(1);
        self
    }

    /// How long a message waits for its conversation's agent to finish the message before it
    /// (default 60 s); after that it is refused (`-32603`) and can be sent again.
    pub fn queue_timeout(mut self, timeout: Duration) -> Self {
        self.queue_timeout = timeout;
        self
    }

    /// The largest request body (default 1 MiB); a larger one is answered `413`.
    pub fn max_body_bytes(mut self, bytes: usize) -> Self {
        self.max_body_bytes = bytes;
        self
    }

    /// Builds the server, and one agent to describe it in the card.
    ///
    /// # Errors
    ///
    /// [`BuildError`] when the factory fails or the agent has no description.
    pub fn build(self) -> Result<A2AServer, BuildError> {
        let agent = (self.factory)()?;
        let description = self
            .description
            .or_else(|| agent.description().map(str::to_owned))
            .ok_or(BuildError::MissingDescription)?;
        let skills = self.skills.unwrap_or_else(|| {
            agent
                .tools()
                .map(|tool| AgentSkill {
                    description: tool.spec().description.clone(),
                    id: tool.name().to_owned(),
                    name: tool.name().to_owned(),
                    tags: Vec::new(),
                })
                .collect()
        });
        let card = AgentCard {
            capabilities: Capabilities {
                streaming: Some(true),
            },
            default_input_modes: vec!["text".to_owned()],
            default_output_modes: vec!["text".to_owned()],
            description,
            name: agent.name().to_owned(),
            preferred_transport: "JSONRPC".to_owned(),
            protocol_version: "0.3.0".to_owned(),
            skills,
            url: self
                .url
                .unwrap_or_else(|| "http://127.0.0.1:9000/".to_owned()),
            version: self.version.unwrap_or_else(|| "0.0.1".to_owned()),
        };
        Ok(A2AServer {
            shared: Arc::new(Shared {
                factory: self.factory,
                card,
                store: Store::new(self.max_contexts, self.max_tasks),
                queue_timeout: self.queue_timeout,
                max_body_bytes: self.max_body_bytes,
            }),
        })
    }
}
