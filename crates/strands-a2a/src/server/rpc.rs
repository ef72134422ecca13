//! The HTTP side: the card, and JSON-RPC 2.0 on `POST /` (answers are HTTP 200, errors
//! included, as a2a-sdk answers).

use std::convert::Infallible;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::Shared;
use super::run::{Running, Update, prepare, start};
use crate::types::{Message, RpcError};

pub(super) async fn card(State(shared): State<Arc<Shared>>) -> Response {
    json_response(&json!(shared.card))
}

fn json_response(value: &Value) -> Response {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        value.to_string(),
    )
        .into_response()
}

/// A JSON-RPC request's parts (`id` is kept as given: number, string or null).
struct Request {
    id: Option<Value>,
    method: String,
    params: Value,
}

pub(super) async fn handle(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let request = match parse(&body) {
        Ok(request) => request,
        Err((id, error)) => return reply(id.as_ref(), Err(error)),
    };
    let id = request.id.as_ref();
    match request.method.as_str() {
        "message/send" => reply(id, send(&shared, request.params).await),
        "message/stream" => stream(shared, request.id, request.params).await,
        "tasks/get" => reply(id, get(&shared, &request.params)),
        "tasks/cancel" => reply(id, cancel(&shared, &request.params)),
        _ => reply(id, Err(RpcError::method_not_found())),
    }
}

fn parse(body: &[u8]) -> Result<Request, (Option<Value>, RpcError)> {
    let value: Value = serde_json::from_slice(body).map_err(|e| (None, RpcError::parse(e)))?;
    let Value::Object(mut object) = value else {
        return Err((None, RpcError::invalid_request()));
    };
    let id = object.remove("id");
    let method = match object.remove("method") {
        Some(Value::String(method)) if object.get("jsonrpc") == Some(&json!("2.0")) => method,
        _ => return Err((id, RpcError::invalid_request())),
    };
    Ok(Request {
        id,
        method,
        params: object.remove("params").unwrap_or(Value::Null),
    })
}

fn envelope(id: Option<&Value>, result: Result<Value, RpcError>) -> Value {
    let mut out = Map::new();
    if let Some(id) = id {
        out.insert("id".to_owned(), id.clone());
    }
    out.insert("jsonrpc".to_owned(), json!("2.0"));
    match result {
        Ok(result) => out.insert("result".to_owned(), result),
        Err(error) => out.insert("error".to_owned(), json!(error)),
    };
    Value::Object(out)
}

fn reply(id: Option<&Value>, result: Result<Value, RpcError>) -> Response {
    json_response(&envelope(id, result))
}

#[derive(Deserialize)]
struct SendParams {
    message: Message,
}

fn send_params(params: Value) -> Result<Message, RpcError> {
    serde_json::from_value::<SendParams>(params)
        .map(|p| p.message)
        .map_err(|e| RpcError::invalid_params(format!("Invalid parameters: {e}")))
}

/// `message/send`: runs the message to the end and answers the task.
async fn send(shared: &Arc<Shared>, params: Value) -> Result<Value, RpcError> {
    let prepared = prepare(shared, send_params(params)?).await?;
    let Running { updates, done } = start(shared.clone(), prepared);
    drop(updates);
    let task = done
        .await
        .map_err(|_| RpcError::new(-32603, "Agent execution failed"))?;
    Ok(json!(task))
}

/// `message/stream`: the same run, each update an SSE frame holding a JSON-RPC response; an
/// error before the run is one error frame. A client that goes away stops reading, not the run.
async fn stream(shared: Arc<Shared>, id: Option<Value>, params: Value) -> Response {
    let prepared = match send_params(params) {
        Ok(message) => prepare(&shared, message).await,
        Err(error) => Err(error),
    };
    // Started now, not when the response body is first polled: a client that leaves at once
    // does not leave its task `submitted`.
    let running = prepared.map(|prepared| start(shared, prepared).updates);
    let frames = async_stream::stream! {
        match running {
            Err(error) => yield Ok::<Event, Infallible>(frame(id.as_ref(), Err(error))),
            Ok(mut updates) => {
                while let Some(update) = updates.recv().await {
                    let value = match update {
                        Update::Task(task) => json!(task),
                        Update::Status(status) => json!(status),
                        Update::Artifact(artifact) => json!(artifact),
                    };
                    yield Ok(frame(id.as_ref(), Ok(value)));
                }
            }
        }
    };
    // Comments every 15 s keep a quiet stream (a long tool call) open, as sse-starlette does.
    Sse::new(frames)
        .keep_alive(KeepAlive::default())
        .into_response()
}

fn frame(id: Option<&Value>, result: Result<Value, RpcError>) -> Event {
    Event::default().data(envelope(id, result).to_string())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TaskParams {
    id: String,
    #[serde(default)]
    history_length: Option<usize>,
}

fn task_params(params: &Value) -> Result<TaskParams, RpcError> {
    TaskParams::deserialize(params)
        .map_err(|e| RpcError::invalid_params(format!("Invalid parameters: {e}")))
}

/// `tasks/get`: the task, with at most `historyLength` of its latest messages.
fn get(shared: &Shared, params: &Value) -> Result<Value, RpcError> {
    let params = task_params(params)?;
    let mut task = shared
        .store
        .task(&params.id)
        .ok_or_else(RpcError::task_not_found)?;
    // As a2a-sdk: a length of 0 keeps the whole history.
    if let Some(keep) = params.history_length.filter(|keep| *keep > 0) {
        let skip = task.history.len().saturating_sub(keep);
        task.history.drain(..skip);
    }
    Ok(json!(task))
}

/// `tasks/cancel`: ends the task as cancelled and cancels its agent's run, if one runs; a task
/// that has ended cannot be cancelled.
fn cancel(shared: &Shared, params: &Value) -> Result<Value, RpcError> {
    let params = task_params(params)?;
    shared.store.cancel(&params.id).map(|task| json!(task))
}
