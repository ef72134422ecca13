//! One MCP tool as a Strands tool (Python's `MCPAgentTool`).

use std::sync::Arc;
use std::time::Duration;

use futures_util::{FutureExt as _, StreamExt as _};
use rmcp::model::{
    CallToolRequestParams, CancelledNotificationParam, ClientRequest, ProgressNotificationParam,
    Request, RequestId, ServerResult,
};
use rmcp::service::{Peer, PeerRequestOptions, RoleClient, ServiceError};
use serde_json::{Value, json};
use strands_core::{
    Tool, ToolContext, ToolEvent, ToolResult, ToolResultContent, ToolResultStatus, ToolSpec,
    ToolStream, ToolUse,
};

use crate::content::map_result;
use crate::state::{Connection, Inner};

/// Python's text for a call the agent cancelled.
const CANCELLED: &str = "Tool execution cancelled locally; remote execution may have continued";

/// A tool of an MCP server.
pub(crate) struct McpTool {
    spec: ToolSpec,
    /// The name the server knows it by (the spec's may be prefixed).
    original: String,
    client: Arc<Inner>,
}

impl McpTool {
    /// The tool for `tool`, named `prefix_name` with a prefix. `Err` is the name when a model
    /// cannot take it.
    pub(crate) fn new(
        client: Arc<Inner>,
        prefix: Option<&str>,
        tool: rmcp::model::Tool,
    ) -> Result<Self, String> {
        let original = tool.name.to_string();
        let name = match prefix {
            Some(prefix) => format!("{prefix}_{original}"),
            None => original.clone(),
        };
        let valid = (1..=64).contains(&name.len())
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !valid {
            return Err(name);
        }
        let description = tool
            .description
            .as_deref()
            .filter(|d| !d.is_empty())
            .map_or_else(|| format!("Tool which performs {original}"), str::to_owned);
        let mut spec = ToolSpec::new(
            name,
            description,
            Value::Object((*tool.input_schema).clone()),
        );
        spec.output_schema = tool
            .output_schema
            .filter(|schema| !schema.is_empty())
            .map(|schema| strands_core::tools::JsonSchema::new(Value::Object((*schema).clone())));
        spec.annotations = tool
            .annotations
            .and_then(|a| serde_json::to_value(a).ok())
            .filter(|a| a.as_object().is_some_and(|o| !o.is_empty()));
        Ok(Self {
            spec,
            original,
            client,
        })
    }

    /// The connection, waiting for a reconnect at most `wait`.
    async fn peer(&self, wait: Duration) -> Result<Peer<RoleClient>, String> {
        let mut state = self.client.state.subscribe();
        let settled = tokio::time::timeout(
            wait,
            state.wait_for(|c| !matches!(c, Connection::Connecting)),
        )
        .await;
        let connection = match settled {
            Ok(Ok(connection)) => connection.clone(),
            Ok(Err(_)) => Connection::Stopped,
            Err(_) => Connection::Connecting,
        };
        let server = &self.client.name;
        match connection {
            Connection::Ready(peer) if !peer.is_transport_closed() => Ok(peer),
            Connection::Ready(_) | Connection::Connecting => Err(format!(
                "the MCP server {server} is not connected; the client is reconnecting"
            )),
            Connection::Down(reason) => Err(format!(
                "the MCP server {server} is not available ({reason}); the client is reconnecting"
            )),
            Connection::Stopped => Err(format!("the MCP client for {server} was stopped")),
        }
    }
}

/// What happened while a call was in flight.
enum Step {
    Cancelled,
    Answered(Box<Result<ServerResult, ServiceError>>),
    Progress(ProgressNotificationParam),
}

/// Sends `notifications/cancelled` for a request abandoned before its answer.
struct CancelOnDrop {
    peer: Peer<RoleClient>,
    id: Option<RequestId>,
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        let (Some(id), Ok(runtime)) = (self.id.take(), tokio::runtime::Handle::try_current())
        else {
            return;
        };
        let peer = self.peer.clone();
        runtime.spawn(async move {
            let cancelled = CancelledNotificationParam::new(
                Some(id),
                Some("Strands agent invocation cancelled".to_owned()),
            );
            let _ = peer.notify_cancelled(cancelled).await;
        });
    }
}

/// Python's text for an error of the call (`str(exception)`).
fn describe(error: &ServiceError) -> String {
    match error {
        ServiceError::McpError(data) => data.message.to_string(),
        ServiceError::Timeout { .. } => "Request 'tools/call' timed out".to_owned(),
        ServiceError::TransportClosed | ServiceError::TransportSend(_) => {
            "Connection to the MCP server was closed".to_owned()
        }
        other => other.to_string(),
    }
}

/// A `tool_stream` event for a progress notification.
fn progress_event(update: &ProgressNotificationParam) -> Value {
    json!({"progress": update.progress, "total": update.total, "message": update.message})
}

fn failed(id: String, message: &str) -> ToolResult {
    ToolResult::error(id, format!("Tool execution failed: {message}"))
}

impl Tool for McpTool {
    fn spec(&self) -> &ToolSpec {
        &self.spec
    }

    fn stream(&self, tool_use: ToolUse, context: ToolContext) -> ToolStream<'_> {
        Box::pin(async_stream::stream! {
            let id = tool_use.tool_use_id;
            let arguments = match tool_use.input {
                Value::Object(map) => map,
                Value::Null => serde_json::Map::new(),
                other => {
                    yield ToolEvent::Result(failed(id, &format!("the arguments must be a JSON object, not {other}")));
                    return;
                }
            };
            let timeout = self.client.call_timeout;
            let peer = match self.peer(timeout.unwrap_or(Duration::from_secs(10)).min(Duration::from_secs(10))).await {
                Ok(peer) => peer,
                Err(reason) => {
                    yield ToolEvent::Result(failed(id, &reason));
                    return;
                }
            };
            let params = CallToolRequestParams::new(self.original.clone()).with_arguments(arguments);
            let options = timeout.map_or_else(PeerRequestOptions::no_options, PeerRequestOptions::with_timeout);
            let handle = match peer
                .send_cancellable_request(ClientRequest::CallToolRequest(Request::new(params)), options)
                .await
            {
                Ok(handle) => handle,
                Err(error) => {
                    yield ToolEvent::Result(failed(id, &describe(&error)));
                    return;
                }
            };
            let mut progress = self.client.progress.subscribe(handle.progress_token.clone()).await;
            let mut guard = CancelOnDrop { peer: handle.peer.clone(), id: Some(handle.id.clone()) };
            let response = handle.await_response();
            tokio::pin!(response);
            let cancel = context.cancellation_token().clone();
            let outcome = loop {
                // `yield` cannot sit inside `select!`: the branch is chosen here, acted on below.
                let step = tokio::select! {
                    biased;
                    () = cancel.cancelled() => Step::Cancelled,
                    // Progress first: a server sends its last progress before its answer.
                    Some(update) = progress.next() => Step::Progress(update),
                    answer = &mut response => Step::Answered(Box::new(answer)),
                };
                match step {
                    Step::Cancelled => break None,
                    Step::Answered(answer) => {
                        // Answered (or timed out, which rmcp has already cancelled).
                        guard.id = None;
                        break Some(*answer);
                    }
                    Step::Progress(update) => yield ToolEvent::Stream(progress_event(&update)),
                }
            };
            drop(guard);
            // rmcp hands notifications to spawned tasks, so progress sent just before the answer
            // may land just after it: let those tasks run, then pass on what arrived.
            if outcome.is_some() {
                tokio::task::yield_now().await;
                while let Some(Some(update)) = progress.next().now_or_never() {
                    yield ToolEvent::Stream(progress_event(&update));
                }
            }
            let result = match outcome {
                None => ToolResult::new(id, ToolResultStatus::Error, vec![ToolResultContent::Text(CANCELLED.to_owned())]),
                Some(Ok(ServerResult::CallToolResult(result))) => match map_result(result) {
                    Ok((status, content, structured)) => {
                        let mut result = ToolResult::new(id, status, content);
                        result.structured_content = structured;
                        result
                    }
                    Err(error) => failed(id, &error),
                },
                Some(Ok(_)) => failed(id, "the server answered tools/call with another kind of result"),
                Some(Err(error)) => failed(id, &describe(&error)),
            };
            yield ToolEvent::Result(result);
        })
    }
}
