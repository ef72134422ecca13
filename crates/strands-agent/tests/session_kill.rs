//! SIGKILL during session writes: a writer process appends messages and updates the agent record
//! through the real `FileSessionRepository` in a tight loop, reporting each write it completed;
//! it is killed at random moments. After each kill the session is reopened with a new repository
//! and restored into an agent: nothing is torn, nothing reported is lost, message indexes are
//! contiguous, and temp files of interrupted writes are ignored and, once stale, removed.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stderr,
    reason = "tests"
)]

use std::collections::BTreeSet;
use std::fs::{self, File};
use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use strands_agent::Agent;
use strands_agent::session::{
    FileSessionRepository, SessionManager, SessionMessage, SessionRepository,
};
use strands_core::{Message, Role};
use strands_testkit::ScriptedModel;

const CHILD_ROOT_ENV: &str = "STRANDS_SESSION_KILL_ROOT";
const CHILD_TEST: &str = "session_kill_child_writer";
const SESSION: &str = "kill";
const AGENT: &str = "writer";
/// Marks the child's reports in its stdout (the test harness prints there too).
const REPORT: &str = "@@written ";
/// The child rewrites the agent record after every this many messages.
const AGENT_EVERY: u64 = 3;
const ROUNDS: usize = 12;

/// A scratch directory under Cargo's per-target temp dir, removed on drop.
struct TestDir(PathBuf);

impl TestDir {
    fn new(name: &str) -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
            "session_kill-{name}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path).unwrap();
        Self(path)
    }
}

impl Drop for TestDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Kills and reaps the child when an assertion fails.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The text of message `index`: its index, then 0 to 7 KiB of filler so writes take a while.
fn message_text(index: u64) -> String {
    let filler = "x".repeat(usize::try_from(index % 8).unwrap() * 1024);
    format!("message {index} {filler}")
}

fn message(index: u64) -> Message {
    if index.is_multiple_of(2) {
        Message::user(message_text(index))
    } else {
        Message::assistant(message_text(index))
    }
}

/// A write the child completed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Written {
    Message(u64),
    Agent(u64),
}

fn parse_report(line: &str) -> Option<Written> {
    let (_, report) = line.split_once(REPORT)?;
    let (what, index) = report.trim().split_once(' ')?;
    let index = index.parse().ok()?;
    match what {
        "message" => Some(Written::Message(index)),
        "agent" => Some(Written::Agent(index)),
        _ => None,
    }
}

/// Not a test: the writer process `sigkill_during_session_writes_tears_and_loses_nothing` starts
/// and kills. It continues the session after the last stored message, appending messages and,
/// every few messages, updating the agent record (`state.last_message`), and prints
/// `@@written message <n>` / `@@written agent <n>` once each write returned. Without the
/// environment variable it does nothing.
#[test]
#[ignore = "helper process of sigkill_during_session_writes_tears_and_loses_nothing"]
fn session_kill_child_writer() {
    let Some(root) = std::env::var_os(CHILD_ROOT_ENV).map(PathBuf::from) else {
        return;
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let repo = FileSessionRepository::new(&root);
        let mut agent = repo.read_agent(SESSION, AGENT).await.unwrap().unwrap();
        let stored = repo.list_messages(SESSION, AGENT, None, 0).await.unwrap();
        let mut out = std::io::stdout().lock();
        for index in u64::try_from(stored.len()).unwrap().. {
            repo.create_message(SESSION, AGENT, &SessionMessage::new(message(index), index))
                .await
                .unwrap();
            writeln!(out, "{REPORT}message {index}").unwrap();
            out.flush().unwrap();
            if index % AGENT_EVERY == AGENT_EVERY - 1 {
                agent.state.insert("last_message".to_owned(), json!(index));
                agent
                    .state
                    .insert("filler".to_owned(), json!(message_text(index)));
                repo.update_agent(SESSION, &agent).await.unwrap();
                writeln!(out, "{REPORT}agent {index}").unwrap();
                out.flush().unwrap();
            }
        }
    });
}

/// xorshift64, seeded from the clock (the seed is printed so a failure can be replayed).
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn is_temp(name: &str) -> bool {
    name.starts_with(".strands_") && name.ends_with(".tmp")
}

/// Every file under `dir` (recursively): temp files and the others.
fn files(dir: &Path) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let (mut temps, mut documents) = (Vec::new(), Vec::new());
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            let (t, d) = files(&path);
            temps.extend(t);
            documents.extend(d);
        } else if is_temp(path.file_name().unwrap().to_str().unwrap()) {
            temps.push(path);
        } else {
            documents.push(path);
        }
    }
    (temps, documents)
}

/// An agent restoring the session from a new repository over `root`.
async fn restored_agent(root: &Path, model: ScriptedModel) -> Agent {
    let manager = SessionManager::new(SESSION, FileSessionRepository::new(root)).unwrap();
    let mut agent = Agent::builder()
        .model(model)
        .agent_id(AGENT)
        .session_manager(manager)
        .build()
        .unwrap();
    agent.load_session().await.unwrap();
    agent
}

/// Runs the writer until a random moment after its first reported write, kills it and returns
/// what it reported.
fn run_and_kill(root: &Path, rng: &mut Rng) -> (Vec<Written>, u64) {
    let mut child = KillOnDrop(
        Command::new(std::env::current_exe().unwrap())
            .args(["--ignored", "--exact", CHILD_TEST, "--nocapture"])
            .env(CHILD_ROOT_ENV, root)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap(),
    );
    let stdout = child.0.stdout.take().unwrap();
    let (sender, receiver) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            // A line cut by the kill is not a report: only whole lines parse.
            if let Some(written) = line.ok().as_deref().and_then(parse_report) {
                let _ = sender.send(written);
            }
        }
    });
    let first = receiver
        .recv_timeout(Duration::from_secs(60))
        .unwrap_or_else(|_| panic!("the writer reported nothing: {:?}", child.0.try_wait()));
    let delay = rng.below(50);
    std::thread::sleep(Duration::from_millis(delay));
    child.0.kill().unwrap();
    let status = child.0.wait().unwrap();
    assert!(!status.success(), "the writer must have been killed");
    reader.join().unwrap();
    let mut reports = vec![first];
    reports.extend(receiver.try_iter());
    (reports, delay)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_session_writes_tears_and_loses_nothing() {
    let dir = TestDir::new("sigkill");
    let root = dir.0.join("root");
    let session_dir = root.join(format!("session_{SESSION}"));
    let agent_dir = session_dir.join(format!("agents/agent_{AGENT}"));
    let messages_dir = agent_dir.join("messages");
    // The agent creates the session and its record, as in an application.
    drop(restored_agent(&root, ScriptedModel::builder().build()).await);

    let seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    eprintln!("session_kill: seed {seed}");
    let mut rng = Rng(seed);
    let started = Instant::now();
    let mut reported_messages = BTreeSet::new();
    let mut reported_agent = None;
    let mut left_mid_write = BTreeSet::new();
    for round in 0..ROUNDS {
        let root_for_child = root.clone();
        let mut round_rng = Rng(rng.below(u64::MAX) | 1);
        let (reports, delay) =
            tokio::task::spawn_blocking(move || run_and_kill(&root_for_child, &mut round_rng))
                .await
                .unwrap();
        let context = format!("round {round} (seed {seed}, killed {delay} ms after a write)");
        for report in &reports {
            match *report {
                Written::Message(index) => {
                    reported_messages.insert(index);
                }
                Written::Agent(index) => reported_agent = reported_agent.max(Some(index)),
            }
        }

        // Nothing torn: every document parses; temp files are the only leftovers.
        let (temps, documents) = files(&session_dir);
        for document in &documents {
            let body = fs::read(document).unwrap();
            serde_json::from_slice::<Value>(&body)
                .unwrap_or_else(|e| panic!("{context}: {} is torn: {e}", document.display()));
        }
        left_mid_write.extend(temps);

        // Nothing lost: a new repository lists every reported message, indexes contiguous.
        let repo = FileSessionRepository::new(&root);
        assert!(repo.read_session(SESSION).await.unwrap().is_some());
        let stored = repo.list_messages(SESSION, AGENT, None, 0).await.unwrap();
        let ids: Vec<u64> = stored.iter().map(|m| m.message_id).collect();
        let count = u64::try_from(ids.len()).unwrap();
        assert!(
            ids.iter().copied().eq(0..count),
            "{context}: indexes not contiguous"
        );
        let last_reported = *reported_messages.last().unwrap();
        assert!(
            count > last_reported,
            "{context}: message {last_reported} was reported written but only {count} are stored"
        );
        assert!(
            count <= last_reported + 2,
            "{context}: more messages than written"
        );
        for stored in &stored {
            assert_eq!(
                stored.message.content,
                message(stored.message_id).content,
                "{context}"
            );
        }
        let record = repo.read_agent(SESSION, AGENT).await.unwrap().unwrap();
        let last_message = record.state.get("last_message").and_then(Value::as_u64);
        assert!(
            last_message >= reported_agent,
            "{context}: agent record {last_message:?} is older than the reported {reported_agent:?}"
        );
        assert!(last_message.is_none_or(|last| last < count), "{context}");

        // The agent restores exactly that.
        let agent = restored_agent(&root, ScriptedModel::builder().build()).await;
        assert_eq!(agent.messages().len(), stored.len(), "{context}");
        assert_eq!(agent.state().get::<u64>("last_message"), last_message);
        if let Some(first) = agent.messages().first() {
            assert_eq!(first.role, Role::User);
        }
        if started.elapsed() > Duration::from_secs(20) {
            eprintln!(
                "session_kill: stopping after {} rounds (slow machine)",
                round + 1
            );
            break;
        }
    }
    eprintln!(
        "session_kill: {} messages reported over the rounds, {} temp files left by kills",
        reported_messages.len(),
        left_mid_write.len()
    );

    // Temp files left by kills are ignored above; once stale, reopening the session removes
    // them. Age the leftovers and plant torn ones where none were left.
    for (dir, name) in [
        (&session_dir, ".strands_planted1.tmp"),
        (&agent_dir, ".strands_planted2.tmp"),
        (&messages_dir, ".strands_planted3.tmp"),
    ] {
        fs::write(dir.join(name), b"{\"torn").unwrap();
    }
    let (temps, _) = files(&session_dir);
    let hour_ago = SystemTime::now() - Duration::from_secs(3600);
    for temp in &temps {
        File::open(temp).unwrap().set_modified(hour_ago).unwrap();
    }
    let mut agent =
        restored_agent(&root, ScriptedModel::builder().text("still here").build()).await;
    let (temps, _) = files(&session_dir);
    assert_eq!(
        temps,
        Vec::<PathBuf>::new(),
        "stale temp files were not removed"
    );

    // And the session continues at the next index.
    let before = u64::try_from(agent.messages().len()).unwrap();
    agent.invoke("and now?").await.unwrap();
    let repo = FileSessionRepository::new(&root);
    let stored = repo.list_messages(SESSION, AGENT, None, 0).await.unwrap();
    let ids: Vec<u64> = stored.iter().map(|m| m.message_id).collect();
    let count = u64::try_from(ids.len()).unwrap();
    // The prompt and the answer (and whatever the agent adds to close a turn left unanswered).
    assert!(
        count >= before + 2 && ids.iter().copied().eq(0..count),
        "{before} then {ids:?}"
    );
}
