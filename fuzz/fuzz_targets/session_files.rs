//! Session files with any contents, loaded by `FileSessionRepository` and restored into an agent.
//!
//! The input is text: sections separated by a line `%%`. The first is `session.json`, the second
//! the agent's `agent.json` (an empty section leaves the file out), each further one a message
//! file, its first line the file name (e.g. `message_0.json`) and the rest its contents. The
//! repository reads the session, the agent and the message list; a `SessionManager` restores the
//! agent (`load_session`) and, if that worked, the agent answers one more turn, saving it.
//!
//! Every failure is an error with a message (a JSON error names the file), never a panic.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use strands_agent::Agent;
use strands_agent::session::{
    FileSessionRepository, SessionError, SessionManager, SessionRepository,
};
use strands_fuzz::block_on_within;
use strands_testkit::ScriptedModel;

fn root() -> &'static PathBuf {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    ROOT.get_or_init(|| {
        std::env::temp_dir().join(format!("strands-fuzz-sessions-{}", std::process::id()))
    })
}

fn check(error: &SessionError) {
    let text = error.to_string();
    assert!(!text.is_empty(), "an error without a message: {error:?}");
    if let SessionError::Json { .. } = error {
        assert!(
            text.contains(".json"),
            "a JSON error that names no file: {text}"
        );
    }
}

fn split_sections(data: &[u8]) -> Vec<&[u8]> {
    let mut sections = Vec::new();
    let mut rest = data;
    while let Some(at) = rest.windows(4).position(|w| w == b"\n%%\n") {
        sections.push(&rest[..at]);
        rest = &rest[at + 4..];
    }
    sections.push(rest);
    sections
}

fuzz_target!(|data: &[u8]| {
    let root = root();
    let _ = std::fs::remove_dir_all(root);
    let session_dir = root.join("session_s");
    let agent_dir = session_dir.join("agents").join("agent_default");
    let messages_dir = agent_dir.join("messages");
    std::fs::create_dir_all(&messages_dir).expect("the temp dir is writable");

    let sections = split_sections(data);
    for (i, section) in sections.iter().enumerate() {
        let (path, contents) = match i {
            0 => (session_dir.join("session.json"), *section),
            1 => (agent_dir.join("agent.json"), *section),
            _ => {
                let (name, contents) = match section.iter().position(|&b| b == b'\n') {
                    Some(newline) => (&section[..newline], &section[newline + 1..]),
                    None => (*section, &b""[..]),
                };
                let name = String::from_utf8_lossy(name);
                // A plain file name in the messages directory, nothing that leaves it.
                if name.is_empty() || name.contains(['/', '\0']) || name == "." || name == ".." {
                    continue;
                }
                (messages_dir.join(&*name), contents)
            }
        };
        if i < 2 && contents.is_empty() {
            continue;
        }
        // A name the file system refuses (too long, say) leaves the file out.
        let _ = std::fs::write(path, contents);
    }

    let repository = FileSessionRepository::new(root);
    block_on_within(Duration::from_secs(30), async {
        if let Err(error) = repository.read_session("s").await {
            check(&error);
        }
        if let Err(error) = repository.read_agent("s", "default").await {
            check(&error);
        }
        if let Err(error) = repository.list_messages("s", "default", None, 0).await {
            check(&error);
        }
        let manager = SessionManager::new("s", repository.clone()).expect("a valid session id");
        let mut agent = Agent::builder()
            .model(ScriptedModel::builder().text("restored").build())
            .session_manager(manager)
            .build()
            .expect("the agent builds");
        match agent.load_session().await {
            Ok(()) => {
                if let Err(error) = agent.invoke("again").await {
                    assert!(
                        !error.to_string().is_empty(),
                        "an error without a message: {error:?}"
                    );
                }
            }
            Err(error) => assert!(
                !error.to_string().is_empty(),
                "an error without a message: {error:?}"
            ),
        }
    });
});
