//! `strands-runtime invoke`: one invocation of a local server or a deployed runtime, its answer
//! printed as it arrives (server-sent events as text), in a session that can be continued.

use std::io::Write as _;

use bytes::Bytes;
use strands_deploy::AgentRuntimes;
use strands_deploy::invoke::{Answer, EventReader, Invoker, SessionId};

use crate::cli::{AgentTarget, InvokeArgs};

/// `strands-runtime invoke`.
pub(crate) async fn run(args: &InvokeArgs) -> Result<(), String> {
    let invoker = invoker(&args.target).await?;
    let session = session(&args.target)?;
    note(&format!(
        "session {} (continue it with --session)",
        session.as_str()
    ));
    let payload = payload(args)?;
    let mut answer = invoker
        .invoke(&session, payload)
        .await
        .map_err(|e| e.to_string())?;
    print_answer(&mut answer).await
}

/// `--session`, checked, or a new session.
pub(crate) fn session(args: &AgentTarget) -> Result<SessionId, String> {
    match &args.session {
        Some(id) => SessionId::parse(id).map_err(|e| e.to_string()),
        None => Ok(SessionId::generate()),
    }
}

/// Where the invocation goes: `--arn`, else `--name` looked up, else `--url` (a local server).
pub(crate) async fn invoker(args: &AgentTarget) -> Result<Invoker, String> {
    if let Some(arn) = &args.arn {
        let conf = crate::deploy_command::aws(args.region.as_deref()).await;
        return Ok(Invoker::runtime(&conf, arn, args.qualifier.clone()));
    }
    if let Some(name) = &args.name {
        let conf = crate::deploy_command::aws(args.region.as_deref()).await;
        let found = AgentRuntimes::new(&conf)
            .find(name)
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| strands_deploy::DeployError::NotFound(name.clone()).to_string())?;
        return Ok(Invoker::runtime(&conf, &found.arn, args.qualifier.clone()));
    }
    Ok(Invoker::local(
        args.url.as_deref().unwrap_or("http://localhost:8080"),
    ))
}

/// The JSON sent: the argument when it is JSON, else `{"prompt": <it>}`; `--stream` asks for
/// server-sent events.
fn payload(args: &InvokeArgs) -> Result<Bytes, String> {
    let text = args
        .payload
        .as_deref()
        .ok_or("give the payload: strands-runtime invoke '{\"prompt\": \"Hello\"}' (or a prompt in quotes)")?;
    let mut value =
        serde_json::from_str(text).unwrap_or_else(|_| serde_json::json!({ "prompt": text }));
    if args.stream
        && let Some(object) = value.as_object_mut()
    {
        object.insert("stream".to_owned(), serde_json::Value::Bool(true));
    }
    serde_json::to_vec(&value)
        .map(Bytes::from)
        .map_err(|e| e.to_string())
}

/// Prints the answer as it arrives: each event's text as is (a JSON string's contents), other
/// events and bodies as sent.
pub(crate) async fn print_answer(answer: &mut Answer) -> Result<(), String> {
    let mut events = answer.is_event_stream().then(EventReader::default);
    let mut out = std::io::stdout().lock();
    while let Some(chunk) = answer.chunk().await.map_err(|e| e.to_string())? {
        match &mut events {
            Some(reader) => {
                for data in reader.push(&chunk).map_err(|e| e.to_string())? {
                    match serde_json::from_str::<serde_json::Value>(&data) {
                        Ok(serde_json::Value::String(text)) => write!(out, "{text}"),
                        _ => writeln!(out, "{data}"),
                    }
                    .map_err(|e| e.to_string())?;
                }
            }
            None => out.write_all(&chunk).map_err(|e| e.to_string())?,
        }
        out.flush().map_err(|e| e.to_string())?;
    }
    writeln!(out).map_err(|e| e.to_string())
}

/// A line on stderr, apart from the answer.
fn note(line: &str) {
    #[allow(
        clippy::print_stderr,
        reason = "the session id is a note beside the answer"
    )]
    {
        eprintln!("{line}");
    }
}
