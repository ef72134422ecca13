//! `strands-runtime chat`: a terminal conversation with an agent (a local server or a deployed
//! runtime) over the `invoke` client: answers stream as they are written, tools show as they
//! run, every turn is in one session, lines are edited with history, and Ctrl-C cancels the turn
//! under way, not the program (Ctrl-D ends it).

use std::io::Write as _;

use bytes::Bytes;
use rustyline::DefaultEditor;
use rustyline::error::ReadlineError;
use serde_json::{Value, json};
use strands_deploy::invoke::{Answer, EventReader, Invoker, SessionId};

use crate::cli::AgentTarget;

/// The widest a tool's input is shown.
const MAX_SHOWN_INPUT: usize = 200;

/// `strands-runtime chat`.
pub(crate) async fn run(args: &AgentTarget) -> Result<(), String> {
    let invoker = crate::invoke_command::invoker(args).await?;
    let session = crate::invoke_command::session(args)?;
    note(&format!(
        "session {} · Ctrl-C cancels a turn, Ctrl-D ends",
        session.as_str()
    ));
    let mut editor = DefaultEditor::new().map_err(|e| e.to_string())?;
    loop {
        let (line, back) = tokio::task::spawn_blocking(move || {
            let line = editor.readline("> ");
            (line, editor)
        })
        .await
        .map_err(|e| e.to_string())?;
        editor = back;
        match line {
            Ok(line) if line.trim().is_empty() => {}
            Ok(line) => {
                let _ = editor.add_history_entry(line.as_str());
                if let Err(error) = turn(&invoker, &session, &line).await {
                    note(&format!("error: {error}"));
                }
            }
            Err(ReadlineError::Interrupted) => {}
            Err(ReadlineError::Eof) => return Ok(()),
            Err(error) => return Err(error.to_string()),
        }
    }
}

/// One turn: the prompt sent, the answer printed until it ends or Ctrl-C cancels it (the
/// connection is dropped; the server cancels the agent's turn and keeps its history valid).
async fn turn(invoker: &Invoker, session: &SessionId, prompt: &str) -> Result<(), String> {
    let payload = json!({"prompt": prompt, "stream": true, "tool_events": true});
    let body = Bytes::from(payload.to_string());
    tokio::select! {
        answered = async {
            let mut answer = invoker.invoke(session, body).await.map_err(|e| e.to_string())?;
            show(&mut answer).await
        } => answered,
        _ = tokio::signal::ctrl_c() => {
            note("\n[turn cancelled]");
            Ok(())
        }
    }
}

async fn show(answer: &mut Answer) -> Result<(), String> {
    let mut events = EventReader::default();
    let streamed = answer.is_event_stream();
    while let Some(chunk) = answer.chunk().await.map_err(|e| e.to_string())? {
        if !streamed {
            print_text(&String::from_utf8_lossy(&chunk));
            continue;
        }
        for data in events.push(&chunk).map_err(|e| e.to_string())? {
            match serde_json::from_str::<Value>(&data) {
                Ok(Value::String(text)) => print_text(&text),
                Ok(event) => show_event(&event),
                Err(_) => print_text(&data),
            }
        }
    }
    print_text("\n");
    Ok(())
}

/// Tool starts and ends, interrupts and errors, on stderr beside the answer.
fn show_event(event: &Value) {
    if let Some(start) = event.get("tool_start") {
        let input = start["input"].to_string();
        let shown: String = input.chars().take(MAX_SHOWN_INPUT).collect();
        let more = if shown.len() < input.len() { "…" } else { "" };
        note(&format!(
            "\n[tool {} {shown}{more}]",
            start["name"].as_str().unwrap_or("?")
        ));
    } else if let Some(result) = event.get("tool_result") {
        note(&format!(
            "[tool {}: {}]",
            result["toolUseId"].as_str().unwrap_or("?"),
            result["status"].as_str().unwrap_or("?")
        ));
    } else if let Some(error) = event.get("error") {
        note(&format!(
            "\n[error: {}]",
            error.as_str().unwrap_or(&error.to_string())
        ));
    } else {
        note(&format!("\n{event}"));
    }
}

/// Writes model text to the terminal without its control characters (a model or a tool's
/// output could otherwise move the cursor, retitle the window or hide what it printed).
fn print_text(text: &str) {
    let shown: String = text
        .chars()
        .filter(|c| matches!(c, '\n' | '\t') || !c.is_control())
        .collect();
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(shown.as_bytes());
    let _ = out.flush();
}

fn note(line: &str) {
    #[allow(clippy::print_stderr, reason = "notes beside the answer go to stderr")]
    {
        eprintln!("{line}");
    }
}
