//! Calling an agent: a local server's `POST /invocations`, or a deployed runtime through
//! `InvokeAgentRuntime` (SigV4), both read as the bytes arrive. Session ids are generated valid
//! (AgentCore wants 33 to 256 characters) and AgentCore's refusals come with the fix.

use aws_sdk_bedrockagentcore as agentcore;
use aws_types::SdkConfig;
use bytes::Bytes;

use crate::aws_error;

/// The header carrying the session id, on both paths.
pub const SESSION_HEADER: &str = "X-Amzn-Bedrock-AgentCore-Runtime-Session-Id";
/// How long connecting to a local server may take.
const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
/// The longest silence inside an answer (AgentCore's own limit on a synchronous invocation).
const READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15 * 60);
/// The most of an error answer shown.
const MAX_ERROR_BODY: usize = 64 * 1024;
/// The most one server-sent event may hold before the reader gives up on it.
const MAX_EVENT: usize = 10 * 1024 * 1024;

/// Why an invocation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InvokeError {
    /// A session id outside AgentCore's bounds.
    #[error(
        "session ids are 33 to 256 characters (this one has {0}); leave --session out to get a new one"
    )]
    SessionId(usize),
    /// Nothing answered at the local URL.
    #[error("nothing answers at {url}: {detail}; start the agent with `strands-runtime serve`")]
    Unreachable {
        /// The URL called.
        url: String,
        /// The transport's error.
        detail: String,
    },
    /// AgentCore refused the call (with the fix when it is a known case).
    #[error("{0}")]
    Refused(String),
    /// The connection broke while the answer streamed.
    #[error("the answer stopped: {0}")]
    Interrupted(String),
    /// One server-sent event grew past the bound.
    #[error("a server-sent event over {MAX_EVENT} bytes")]
    EventTooLarge,
}

/// A runtime session id: 33 to 256 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionId(String);

impl SessionId {
    /// A new one: `strands-` and a UUID (44 characters).
    pub fn generate() -> Self {
        Self(format!("strands-{}", uuid::Uuid::new_v4()))
    }

    /// `text` if AgentCore would take it.
    pub fn parse(text: &str) -> Result<Self, InvokeError> {
        let len = text.chars().count();
        if (33..=256).contains(&len) {
            Ok(Self(text.to_owned()))
        } else {
            Err(InvokeError::SessionId(len))
        }
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Where invocations go.
#[derive(Debug, Clone)]
pub enum Invoker {
    /// A server speaking the AgentCore contract at this base URL (`http://localhost:8080`).
    Local {
        /// The base URL.
        url: String,
        /// The client.
        http: reqwest::Client,
    },
    /// A deployed agent runtime.
    Runtime {
        /// Its ARN.
        arn: String,
        /// The endpoint (`DEFAULT` when `None`).
        qualifier: Option<String>,
        /// The data-plane client.
        client: agentcore::Client,
    },
}

/// An answer being received.
#[derive(Debug)]
pub struct Answer {
    /// Its `Content-Type` (`application/json`, `text/event-stream`, …).
    pub content_type: String,
    body: Body,
}

#[derive(Debug)]
enum Body {
    Local(reqwest::Response),
    Runtime(aws_smithy_types::byte_stream::ByteStream),
}

impl Answer {
    /// The next bytes, `None` at the end.
    pub async fn chunk(&mut self) -> Result<Option<Bytes>, InvokeError> {
        match &mut self.body {
            Body::Local(response) => response
                .chunk()
                .await
                .map_err(|e| InvokeError::Interrupted(e.to_string())),
            Body::Runtime(stream) => stream
                .try_next()
                .await
                .map_err(|e| InvokeError::Interrupted(e.to_string())),
        }
    }

    /// Whether the answer is a stream of server-sent events.
    pub fn is_event_stream(&self) -> bool {
        self.content_type.starts_with("text/event-stream")
    }
}

impl Invoker {
    /// A local server at `url`.
    pub fn local(url: &str) -> Self {
        Self::Local {
            url: url.trim_end_matches('/').to_owned(),
            http: reqwest::Client::builder()
                .connect_timeout(CONNECT_TIMEOUT)
                .read_timeout(READ_TIMEOUT)
                .build()
                .unwrap_or_default(),
        }
    }

    /// The deployed runtime `arn`, signed with `conf`'s credentials in the ARN's region.
    pub fn runtime(conf: &SdkConfig, arn: &str, qualifier: Option<String>) -> Self {
        let mut builder = agentcore::config::Builder::from(conf);
        if let Some(region) = arn.split(':').nth(3).filter(|r| !r.is_empty()) {
            builder = builder.region(aws_types::region::Region::new(region.to_owned()));
        }
        Self::Runtime {
            arn: arn.to_owned(),
            qualifier,
            client: agentcore::Client::from_conf(builder.build()),
        }
    }

    /// Sends `payload` (JSON) in `session`; the answer streams from the returned [`Answer`].
    pub async fn invoke(&self, session: &SessionId, payload: Bytes) -> Result<Answer, InvokeError> {
        match self {
            Self::Local { url, http } => {
                let target = format!("{url}/invocations");
                let response = http
                    .post(&target)
                    .header("content-type", "application/json")
                    .header(SESSION_HEADER, session.as_str())
                    .body(payload)
                    .send()
                    .await
                    .map_err(|e| InvokeError::Unreachable {
                        url: target.clone(),
                        detail: std::error::Error::source(&e)
                            .map_or_else(|| e.to_string(), ToString::to_string),
                    })?;
                if !response.status().is_success() {
                    return Err(refused_locally(response).await);
                }
                let content_type = response
                    .headers()
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                Ok(Answer {
                    content_type,
                    body: Body::Local(response),
                })
            }
            Self::Runtime {
                arn,
                qualifier,
                client,
            } => {
                let out = client
                    .invoke_agent_runtime()
                    .agent_runtime_arn(arn)
                    .set_qualifier(qualifier.clone())
                    .runtime_session_id(session.as_str())
                    .content_type("application/json")
                    .accept("application/json, text/event-stream")
                    .payload(aws_smithy_types::Blob::new(payload.to_vec()))
                    .send()
                    .await
                    .map_err(|e| InvokeError::Refused(explain(&e)))?;
                Ok(Answer {
                    content_type: out.content_type,
                    body: Body::Runtime(out.response),
                })
            }
        }
    }
}

/// A local server's error answer: its status and (the start of) its body.
async fn refused_locally(mut response: reqwest::Response) -> InvokeError {
    let status = response.status();
    let mut body = Vec::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        body.extend_from_slice(&chunk);
        if body.len() >= MAX_ERROR_BODY {
            body.truncate(MAX_ERROR_BODY);
            break;
        }
    }
    InvokeError::Refused(format!(
        "the agent answered {status}: {}",
        String::from_utf8_lossy(&body).trim()
    ))
}

/// AgentCore's refusal, with what to do for the cases users meet.
fn explain<E: aws_error::ProvideErrorMetadata, R>(error: &aws_error::SdkError<E, R>) -> String {
    let line = aws_error::describe(
        "AgentCore",
        "bedrock-agentcore",
        "InvokeAgentRuntime",
        error,
    );
    format!("{line}{}", fix_for(&line))
}

/// The fix for a refusal, recognized by AgentCore's code and message (§10 of the contract notes).
fn fix_for(refusal: &str) -> &'static str {
    let lower = refusal.to_ascii_lowercase();
    if lower.contains("runtimesessionid") {
        "; session ids are 33 to 256 characters: leave --session out to get one"
    } else if lower.contains("initialization time exceeded") {
        "; the container did not answer GET /ping within AgentCore's 30 s: check that it starts (`strands-runtime check`, the runtime's CloudWatch logs) and listens on its protocol's port (8080 http, 8000 mcp)"
    } else if lower.contains("authorization method mismatch")
        || lower.contains("missing authentication token")
    {
        "; the runtime's inbound auth is OAuth (customJWTAuthorizer) and the call was SigV4, or the reverse: call it the way it is configured"
    } else if lower.contains("runtimeclienterror") {
        "; the container failed or does not listen on its protocol's port (8080 http, 8000 mcp); see its CloudWatch logs under /aws/bedrock-agentcore/runtimes/"
    } else if lower.contains("resourcenotfound") {
        "; check the ARN, the region and the endpoint (`strands-runtime status`)"
    } else {
        ""
    }
}

/// Server-sent events read from chunks: each complete event's `data` lines, joined.
#[derive(Debug, Default)]
pub struct EventReader {
    pending: Vec<u8>,
}

impl EventReader {
    /// Adds `bytes`; returns the data of every event they complete.
    pub fn push(&mut self, bytes: &[u8]) -> Result<Vec<String>, InvokeError> {
        self.pending.extend_from_slice(bytes);
        let mut events = Vec::new();
        while let Some(end) = find_blank_line(&self.pending) {
            let block: Vec<u8> = self.pending.drain(..end.0 + end.1).collect();
            let text = String::from_utf8_lossy(&block[..end.0]);
            let data: Vec<&str> = text
                .lines()
                .filter_map(|l| l.strip_prefix("data:"))
                .map(|d| d.strip_prefix(' ').unwrap_or(d))
                .collect();
            if !data.is_empty() {
                events.push(data.join("\n"));
            }
        }
        if self.pending.len() > MAX_EVENT {
            return Err(InvokeError::EventTooLarge);
        }
        Ok(events)
    }
}

/// Where the first blank line (`\n\n` or `\r\n\r\n`) starts, and its length.
fn find_blank_line(bytes: &[u8]) -> Option<(usize, usize)> {
    let lf = bytes.windows(2).position(|w| w == b"\n\n").map(|i| (i, 2));
    let crlf = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| (i, 4));
    match (lf, crlf) {
        (Some(a), Some(b)) => Some(if a.0 <= b.0 { a } else { b }),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_session_ids_are_valid_and_bad_ones_say_why() {
        let id = SessionId::generate();
        assert!(SessionId::parse(id.as_str()).is_ok());
        assert_eq!(id.as_str().len(), 44);
        let error = SessionId::parse("short").unwrap_err().to_string();
        assert!(
            error.contains("33 to 256") && error.contains("has 5"),
            "{error}"
        );
        assert!(SessionId::parse(&"x".repeat(257)).is_err());
    }

    #[test]
    fn agentcore_refusals_come_with_their_fix() {
        for (refusal, fix) in [
            (
                "ValidationException: Invalid length for parameter runtimeSessionId, value: 20, valid min length: 33",
                "leave --session out",
            ),
            (
                "RuntimeClientError: Runtime initialization time exceeded. Please make sure that initialization completes in 30s.",
                "did not answer GET /ping",
            ),
            (
                "AccessDeniedException: Authorization method mismatch",
                "inbound auth is OAuth",
            ),
            ("Missing Authentication Token", "inbound auth is OAuth"),
            (
                "RuntimeClientError: Received error (500) from runtime.",
                "CloudWatch logs",
            ),
            (
                "ResourceNotFoundException: Agent runtime x not found",
                "check the ARN",
            ),
        ] {
            assert!(fix_for(refusal).contains(fix), "{refusal}");
        }
        assert_eq!(fix_for("ThrottlingException: Rate exceeded"), "");
    }

    #[test]
    fn events_split_across_chunks_come_out_whole() {
        let mut reader = EventReader::default();
        assert!(reader.push(b"data: \"Hel").unwrap().is_empty());
        assert_eq!(
            reader.push(b"lo\"\n\ndata: 1\r\n\r\n").unwrap(),
            ["\"Hello\"", "1"]
        );
        assert_eq!(
            reader.push(b": comment\n\ndata: a\ndata: b\n\n").unwrap(),
            ["a\nb"]
        );
        let mut big = EventReader::default();
        assert!(matches!(
            big.push(&vec![b'x'; MAX_EVENT + 1]),
            Err(InvokeError::EventTooLarge)
        ));
    }
}
