//! [`A2AAgent`]: a remote agent called over A2A, as Python Strands' `A2AAgent`.

mod sse;
mod tool;
mod tracker;

use std::fmt;
use std::time::Duration;

use futures_core::Stream;
use futures_util::StreamExt;
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use serde_json::{Value, json};
use strands_core::{ContentBlock, StopReason};
use tokio::sync::OnceCell;

pub use self::tool::{A2AClientTool, A2AClientToolBuilder, A2AClientToolError};
use self::tracker::Tracker;
use crate::types::{
    AgentCard, Message, Task, TaskArtifactUpdateEvent, TaskState, TaskStatusUpdateEvent,
};

/// The largest agent card read.
const MAX_CARD_BYTES: usize = 1024 * 1024;
/// The largest response, or streamed frame, read.
const MAX_RESPONSE_BYTES: usize = 16 * 1024 * 1024;

/// Why a call to a remote A2A agent failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum A2AClientError {
    /// The server answered with an HTTP error status.
    #[error("HTTP Error {status}: {context}")]
    Http {
        /// The status code.
        status: u16,
        /// What was asked.
        context: String,
    },
    /// The server could not be reached, or the connection broke.
    #[error("Network communication error: {0}")]
    Network(String),
    /// The server took longer than the timeout to send anything.
    #[error("Timeout Error: Client Request timed out")]
    Timeout,
    /// The server's answer is not what A2A 0.3 sends.
    #[error("JSON Error: {0}")]
    Json(String),
    /// The server answered with a JSON-RPC error.
    #[error("JSON-RPC Error code={code} message={message:?}")]
    Rpc {
        /// The JSON-RPC error code.
        code: i64,
        /// Its message.
        message: String,
    },
    /// The answer (or one streamed frame of it) is larger than the client reads.
    #[error("the response is larger than {0} bytes")]
    TooLarge(usize),
    /// The stream ended without any event.
    #[error("No response received from A2A agent")]
    NoResponse,
}

impl A2AClientError {
    fn network(error: &reqwest::Error) -> Self {
        if error.is_timeout() {
            return Self::Timeout;
        }
        Self::Network(strands_core::error_chain(error))
    }
}

/// What a remote agent sent: a message, its task, or a change of the task.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum A2AEvent {
    /// A direct answer, without a task.
    Message(Message),
    /// The task (the first event of a stream, or the whole answer of `message/send`).
    Task(Task),
    /// A change of the task's status.
    Status(TaskStatusUpdateEvent),
    /// An artifact of the task.
    Artifact(TaskArtifactUpdateEvent),
}

impl A2AEvent {
    fn from_result(result: Value) -> Result<Self, A2AClientError> {
        let kind = result
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let parsed = match kind.as_str() {
            "message" => serde_json::from_value(result).map(Self::Message),
            "task" => serde_json::from_value(result).map(Self::Task),
            "status-update" => serde_json::from_value(result).map(Self::Status),
            "artifact-update" => serde_json::from_value(result).map(Self::Artifact),
            other => {
                return Err(A2AClientError::Json(format!(
                    "unknown event kind {other:?}"
                )));
            }
        };
        parsed.map_err(|e| A2AClientError::Json(format!("a {kind} event does not parse: {e}")))
    }
}

/// One item of [`A2AAgent::stream`]: each event the remote agent sent, then the result.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum A2AStreamEvent {
    /// An event, as it came (Python: `{"type": "a2a_stream", "event": ...}`).
    Event(Box<A2AEvent>),
    /// The result, last (Python: `{"result": AgentResult}`).
    Result(Box<A2AResult>),
}

/// What a remote agent answered, as Python's `A2AAgent` makes an `AgentResult` of it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct A2AResult {
    /// `interrupt` when the task waits for input (`input-required`, `auth-required`), else
    /// `end_turn` (also for a failed task: see [`task_state`](Self::task_state)).
    pub stop_reason: StopReason,
    /// The answer's text parts, one text block each, as an assistant message.
    pub message: strands_core::Message,
    /// The task's state when the answer was a task (Python: `state["a2a_task_state"]`).
    pub task_state: Option<TaskState>,
    /// The task as the events built it, if the answer was a task.
    pub task: Option<Task>,
}

impl A2AResult {
    /// The texts, each followed by a new line (Python's `str(result)`).
    pub fn text(&self) -> String {
        self.to_string()
    }

    /// The answer's text parts.
    pub fn texts(&self) -> impl Iterator<Item = &str> {
        self.message.content.iter().filter_map(|block| match block {
            ContentBlock::Text(text) => Some(text.as_str()),
            _ => None,
        })
    }
}

impl fmt::Display for A2AResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for text in self.texts() {
            writeln!(f, "{text}")?;
        }
        Ok(())
    }
}

/// A remote agent called over A2A 0.3, as Python Strands' `A2AAgent`: its card is read from
/// `<endpoint>/.well-known/agent-card.json` on first use and kept; each call sends one user
/// message (a new conversation each time, as Python's) to the card's URL, streaming when the
/// card says the agent streams.
///
/// ```no_run
/// use strands_a2a::A2AAgent;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), strands_a2a::A2AClientError> {
/// let calculator = A2AAgent::new("http://127.0.0.1:9000/");
/// let result = calculator.invoke("What is 2+2?").await?;
/// println!("{}: {result}", calculator.card().await?.name);
/// # Ok(())
/// # }
/// ```
///
/// Python: `strands.agent.a2a_agent.A2AAgent`.
pub struct A2AAgent {
    endpoint: String,
    http: reqwest::Client,
    headers: HeaderMap,
    timeout: Duration,
    card: OnceCell<(AgentCard, Value)>,
}

impl fmt::Debug for A2AAgent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Header values (tokens) are never printed.
        let headers: Vec<&str> = self.headers.keys().map(HeaderName::as_str).collect();
        f.debug_struct("A2AAgent")
            .field("endpoint", &self.endpoint)
            .field("headers", &headers)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// Builds an [`A2AAgent`].
#[must_use]
#[derive(Clone)]
pub struct A2AAgentBuilder {
    endpoint: String,
    http: Option<reqwest::Client>,
    headers: HeaderMap,
    timeout: Duration,
}

impl fmt::Debug for A2AAgentBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("A2AAgentBuilder")
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

impl A2AAgentBuilder {
    /// A header sent with every request (e.g. `Authorization` for a runtime behind OAuth); its
    /// value is never logged.
    pub fn header(mut self, name: HeaderName, mut value: HeaderValue) -> Self {
        value.set_sensitive(true);
        self.headers.insert(name, value);
        self
    }

    /// How long the agent may stay silent: to connect, to answer, and between streamed
    /// events (default 300 s, as Python's).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The HTTP client to use (default: one with rustls and the connect timeout, that follows
    /// no redirects).
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// The agent.
    pub fn build(self) -> A2AAgent {
        let http = self.http.unwrap_or_else(|| {
            // No redirects (as httpx's default): a redirect would take the prompt and the
            // headers to an endpoint that was not allowed.
            reqwest::Client::builder()
                .connect_timeout(self.timeout)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap_or_default()
        });
        A2AAgent {
            endpoint: self.endpoint,
            http,
            headers: self.headers,
            timeout: self.timeout,
            card: OnceCell::new(),
        }
    }
}

impl A2AAgent {
    /// The agent at `endpoint` (its base URL), with the defaults.
    pub fn new(endpoint: impl Into<String>) -> Self {
        Self::builder(endpoint).build()
    }

    /// Starts building the agent at `endpoint`.
    pub fn builder(endpoint: impl Into<String>) -> A2AAgentBuilder {
        A2AAgentBuilder {
            endpoint: endpoint.into(),
            http: None,
            headers: HeaderMap::new(),
            timeout: Duration::from_secs(300),
        }
    }

    /// The base URL.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The agent card, read on first use and kept.
    ///
    /// # Errors
    ///
    /// [`A2AClientError`] when the card cannot be read.
    pub async fn card(&self) -> Result<&AgentCard, A2AClientError> {
        self.card_and_json().await.map(|(card, _)| card)
    }

    /// The card as the agent sent it (every field, in its order).
    pub(crate) async fn card_and_json(&self) -> Result<&(AgentCard, Value), A2AClientError> {
        self.card.get_or_try_init(|| self.fetch_card()).await
    }

    async fn fetch_card(&self) -> Result<(AgentCard, Value), A2AClientError> {
        let url = format!(
            "{}/.well-known/agent-card.json",
            self.endpoint.trim_end_matches('/')
        );
        let request = self.http.get(&url).headers(self.headers.clone());
        let response = self
            .send(request, &format!("Failed to fetch agent card from {url}"))
            .await?;
        let body = read_capped(response, MAX_CARD_BYTES, self.timeout).await?;
        let json: Value = serde_json::from_slice(&body).map_err(|e| {
            A2AClientError::Json(format!(
                "Failed to parse JSON for agent card from {url}: {e}"
            ))
        })?;
        let card = serde_json::from_value(json.clone()).map_err(|e| {
            A2AClientError::Json(format!("Failed to validate agent card from {url}: {e}"))
        })?;
        Ok((card, json))
    }

    async fn send(
        &self,
        request: reqwest::RequestBuilder,
        context: &str,
    ) -> Result<reqwest::Response, A2AClientError> {
        let response = tokio::time::timeout(self.timeout, request.send())
            .await
            .map_err(|_| A2AClientError::Timeout)?
            .map_err(|e| A2AClientError::network(&e))?;
        let status = response.status();
        if !status.is_success() {
            return Err(A2AClientError::Http {
                status: status.as_u16(),
                context: context.to_owned(),
            });
        }
        Ok(response)
    }

    /// Sends `prompt` and waits for the answer.
    ///
    /// # Errors
    ///
    /// [`A2AClientError`] when the agent cannot be reached or answers outside the protocol. A
    /// task that fails is not an error: see [`A2AResult::task_state`].
    pub async fn invoke(&self, prompt: &str) -> Result<A2AResult, A2AClientError> {
        let mut stream = std::pin::pin!(self.stream(prompt));
        while let Some(item) = stream.next().await {
            if let A2AStreamEvent::Result(result) = item? {
                return Ok(*result);
            }
        }
        Err(A2AClientError::NoResponse)
    }

    /// Sends `prompt`; yields each event the agent sends, then the result.
    pub fn stream<'a>(
        &'a self,
        prompt: &'a str,
    ) -> impl Stream<Item = Result<A2AStreamEvent, A2AClientError>> + Send + 'a {
        async_stream::try_stream! {
            let (card, _) = self.card_and_json().await?;
            let streaming = card.capabilities.streaming == Some(true);
            let body = request(prompt, streaming);
            let mut request = self.http.post(&card.url).headers(self.headers.clone()).json(&body);
            if streaming {
                request = request.header(ACCEPT, "text/event-stream");
            }
            let response = self.send(request, &format!("Failed to send message to {}", card.url)).await?;
            let mut tracker = Tracker::default();
            if streaming && is_event_stream(&response) {
                let mut events = std::pin::pin!(sse::events(response, MAX_RESPONSE_BYTES, self.timeout));
                while let Some(data) = events.next().await {
                    let event = A2AEvent::from_result(rpc_result(&data?)?)?;
                    tracker.apply(&event);
                    yield A2AStreamEvent::Event(Box::new(event));
                }
            } else {
                let body = read_capped(response, MAX_RESPONSE_BYTES, self.timeout).await?;
                let event = A2AEvent::from_result(rpc_result(&body)?)?;
                tracker.apply(&event);
                yield A2AStreamEvent::Event(Box::new(event));
            }
            let result = tracker.result().ok_or(A2AClientError::NoResponse)?;
            yield A2AStreamEvent::Result(Box::new(result));
        }
    }
}

/// The JSON-RPC request carrying `prompt` as a new user message (a2a-sdk's shape).
fn request(prompt: &str, streaming: bool) -> Value {
    let message = json!({
        "kind": "message",
        "messageId": uuid::Uuid::new_v4().simple().to_string(),
        "parts": [{"kind": "text", "text": prompt}],
        "role": "user",
    });
    json!({
        "id": uuid::Uuid::new_v4().to_string(),
        "jsonrpc": "2.0",
        "method": if streaming { "message/stream" } else { "message/send" },
        "params": {"configuration": {"acceptedOutputModes": [], "blocking": true}, "message": message},
    })
}

fn is_event_stream(response: &reqwest::Response) -> bool {
    response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"))
}

/// The `result` of a JSON-RPC response; its `error` as an error.
fn rpc_result(body: &[u8]) -> Result<Value, A2AClientError> {
    let mut response: Value = serde_json::from_slice(body)
        .map_err(|e| A2AClientError::Json(format!("the response is not JSON: {e}")))?;
    if let Some(error) = response.get("error").filter(|e| !e.is_null()) {
        return Err(A2AClientError::Rpc {
            code: error.get("code").and_then(Value::as_i64).unwrap_or(0),
            message: error
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
        });
    }
    match response.get_mut("result") {
        Some(result) => Ok(result.take()),
        None => Err(A2AClientError::Json(
            "the response has no result".to_owned(),
        )),
    }
}

/// The whole body, at most `limit` bytes, each read within `timeout`.
async fn read_capped(
    response: reqwest::Response,
    limit: usize,
    timeout: Duration,
) -> Result<Vec<u8>, A2AClientError> {
    if response.content_length().is_some_and(|n| n > limit as u64) {
        return Err(A2AClientError::TooLarge(limit));
    }
    let mut body = Vec::new();
    let mut chunks = std::pin::pin!(response.bytes_stream());
    loop {
        let chunk = tokio::time::timeout(timeout, chunks.next())
            .await
            .map_err(|_| A2AClientError::Timeout)?;
        let Some(chunk) = chunk else { return Ok(body) };
        let chunk = chunk.map_err(|e| A2AClientError::network(&e))?;
        if body.len() + chunk.len() > limit {
            return Err(A2AClientError::TooLarge(limit));
        }
        body.extend_from_slice(&chunk);
    }
}
