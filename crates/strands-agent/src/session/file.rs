//! [`FileSessionRepository`]: sessions as JSON files on the local file system, in the layout of
//! Python's `FileSessionManager`.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;
use strands_core::BoxFuture;

use super::time::now_iso8601;
use super::{
    Session, SessionAgent, SessionError, SessionMessage, SessionRepository, SessionResult,
    validate_id,
};

const SESSION_PREFIX: &str = "session_";
const AGENT_PREFIX: &str = "agent_";
const MESSAGE_PREFIX: &str = "message_";
const JSON_SUFFIX: &str = ".json";
const TEMP_PREFIX: &str = ".strands_";
const TEMP_SUFFIX: &str = ".tmp";
/// Characters of the random part of a temp file name: Python's `tempfile` alphabet.
const TEMP_ALPHABET: &[u8; 37] = b"abcdefghijklmnopqrstuvwxyz0123456789_";
/// How many temp names to try before giving up (Python tries `os.TMP_MAX` = 10000).
const TEMP_ATTEMPTS: usize = 100;

/// Sessions stored as JSON files under a root directory, in the same layout and format as Python
/// Strands' `FileSessionManager`, so a session directory can move between the two:
///
/// ```text
/// <root>/session_<session_id>/
///     session.json
///     multi_agents/                 (empty, created with the session like Python does)
///     agents/agent_<agent_id>/
///         agent.json
///         messages/message_<message_id>.json
/// ```
///
/// Files are written like Python's `json.dump(data, f, indent=2, ensure_ascii=False)`: two-space
/// indentation, non-ASCII characters as they are, no trailing newline. Every write goes to a
/// `.strands_<random>.tmp` file in the target's directory, is flushed to disk and then renamed
/// over the target, so a reader (or a process restarted after a crash) sees the old document or
/// the new one, never a torn one. On Unix, directories are created with mode `0700` and files
/// with `0600`. Reads and writes refuse to go through a symbolic link at the target path.
///
/// Every method checks session and agent ids with [`validate_id`] before touching the file
/// system, so an id cannot name a path outside the root. The file I/O runs on Tokio's blocking
/// thread pool, so the methods must be awaited inside a Tokio runtime.
///
/// ```
/// use strands_agent::session::{FileSessionRepository, Session, SessionRepository};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let dir = std::env::temp_dir().join(format!("strands-file-doc-{}", std::process::id()));
/// let repository = FileSessionRepository::new(&dir);
/// repository.create_session(&Session::new("user-42")).await?;
/// assert!(dir.join("session_user-42/session.json").is_file());
/// let session = repository.read_session("user-42").await?;
/// assert_eq!(session.map(|s| s.session_id).as_deref(), Some("user-42"));
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok(())
/// # }
/// ```
///
/// Python: `strands.session.FileSessionManager` (its `SessionRepository` half).
#[derive(Debug, Clone)]
pub struct FileSessionRepository {
    root: PathBuf,
}

impl FileSessionRepository {
    /// A repository storing sessions under `root`. Nothing is created until the first write;
    /// then `root` is created (mode `0700`) if it does not exist.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// Python's default storage directory, `~/.strands/sessions`: private to the user and out of
    /// the world-writable temp directory. The home directory is `$HOME` (on Windows
    /// `%USERPROFILE%`); without one it falls back to `.strands/sessions` in
    /// [`std::env::temp_dir`].
    ///
    /// ```
    /// use strands_agent::session::FileSessionRepository;
    ///
    /// let repository = FileSessionRepository::new(FileSessionRepository::default_dir());
    /// assert!(repository.root().ends_with(".strands/sessions"));
    /// ```
    pub fn default_dir() -> PathBuf {
        let home = ["HOME", "USERPROFILE"]
            .into_iter()
            .filter_map(std::env::var_os)
            .find(|dir| !dir.is_empty())
            .map_or_else(std::env::temp_dir, PathBuf::from);
        home.join(".strands").join("sessions")
    }

    /// The directory sessions are stored under.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `<root>/session_<id>`; the id must have been validated.
    fn session_dir(&self, session_id: &str) -> PathBuf {
        self.root.join(format!("{SESSION_PREFIX}{session_id}"))
    }

    /// `<root>/session_<id>/agents/agent_<id>`; the ids must have been validated.
    fn agent_dir(&self, session_id: &str, agent_id: &str) -> PathBuf {
        self.session_dir(session_id)
            .join("agents")
            .join(format!("{AGENT_PREFIX}{agent_id}"))
    }

    /// `.../agents/agent_<id>/messages`; the ids must have been validated.
    fn messages_dir(&self, session_id: &str, agent_id: &str) -> PathBuf {
        self.agent_dir(session_id, agent_id).join("messages")
    }

    /// `.../messages/message_<n>.json`; the ids must have been validated.
    fn message_path(&self, session_id: &str, agent_id: &str, message_id: u64) -> PathBuf {
        self.messages_dir(session_id, agent_id)
            .join(format!("{MESSAGE_PREFIX}{message_id}{JSON_SUFFIX}"))
    }

    fn create_session_blocking(&self, session: &Session) -> SessionResult<()> {
        let dir = self.session_dir(&session.session_id);
        create_private_dir(&self.root)?;
        // Not recursive: creating the session directory is what claims the id, atomically.
        let mut builder = fs::DirBuilder::new();
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt as _;
            builder.mode(0o700);
        }
        match builder.create(&dir) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                return Err(SessionError::Conflict(format!(
                    "session {:?} already exists at {}; read it with read_session or pick another \
                     session id",
                    session.session_id,
                    dir.display()
                )));
            }
            Err(source) => return Err(SessionError::Io { path: dir, source }),
        }
        create_private_dir(&dir.join("agents"))?;
        create_private_dir(&dir.join("multi_agents"))?;
        write_json(&dir.join("session.json"), session)
    }

    fn read_session_blocking(&self, session_id: &str) -> SessionResult<Option<Session>> {
        read_json(&self.session_dir(session_id).join("session.json"))
    }

    fn create_agent_blocking(&self, session_id: &str, agent: &SessionAgent) -> SessionResult<()> {
        let dir = self.agent_dir(session_id, &agent.agent_id);
        create_private_dir(&dir.join("messages"))?;
        write_json(&dir.join("agent.json"), agent)
    }

    fn read_agent_blocking(
        &self,
        session_id: &str,
        agent_id: &str,
    ) -> SessionResult<Option<SessionAgent>> {
        read_json(&self.agent_dir(session_id, agent_id).join("agent.json"))
    }

    fn update_agent_blocking(
        &self,
        session_id: &str,
        mut agent: SessionAgent,
    ) -> SessionResult<()> {
        let path = self
            .agent_dir(session_id, &agent.agent_id)
            .join("agent.json");
        let Some(previous) = read_json::<SessionAgent>(&path)? else {
            return Err(SessionError::Conflict(format!(
                "agent {:?} in session {session_id:?} does not exist (no {}); create it with \
                 create_agent before updating it",
                agent.agent_id,
                path.display()
            )));
        };
        agent.created_at = previous.created_at;
        agent.updated_at = now_iso8601();
        write_json(&path, &agent)
    }

    fn create_message_blocking(
        &self,
        session_id: &str,
        agent_id: &str,
        message: &SessionMessage,
    ) -> SessionResult<()> {
        write_json(
            &self.message_path(session_id, agent_id, message.message_id),
            message,
        )
    }

    fn read_message_blocking(
        &self,
        session_id: &str,
        agent_id: &str,
        message_id: u64,
    ) -> SessionResult<Option<SessionMessage>> {
        read_json(&self.message_path(session_id, agent_id, message_id))
    }

    fn update_message_blocking(
        &self,
        session_id: &str,
        agent_id: &str,
        mut message: SessionMessage,
    ) -> SessionResult<()> {
        let path = self.message_path(session_id, agent_id, message.message_id);
        let Some(previous) = read_json::<SessionMessage>(&path)? else {
            return Err(SessionError::Conflict(format!(
                "message {} of agent {agent_id:?} in session {session_id:?} does not exist (no {}); \
                 create it with create_message before updating it",
                message.message_id,
                path.display()
            )));
        };
        message.created_at = previous.created_at;
        message.updated_at = now_iso8601();
        write_json(&path, &message)
    }

    fn list_messages_blocking(
        &self,
        session_id: &str,
        agent_id: &str,
        limit: Option<usize>,
        offset: usize,
    ) -> SessionResult<Vec<SessionMessage>> {
        let dir = self.messages_dir(session_id, agent_id);
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(SessionError::Conflict(format!(
                    "messages directory {} is missing for agent {agent_id:?} in session \
                     {session_id:?}; create the agent with create_agent first",
                    dir.display()
                )));
            }
            Err(source) => return Err(SessionError::Io { path: dir, source }),
        };
        let mut indexed = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|source| SessionError::Io {
                path: dir.clone(),
                source,
            })?;
            let name = entry.file_name();
            if let Some(index) = name.to_str().and_then(parse_message_file_name) {
                indexed.push((index, name));
            }
        }
        indexed.sort_unstable();
        let limit = limit.unwrap_or(usize::MAX);
        let mut messages = Vec::with_capacity(indexed.len().saturating_sub(offset).min(limit));
        for (_, name) in indexed.into_iter().skip(offset).take(limit) {
            // A file removed since the listing is skipped rather than failing the whole read.
            if let Some(message) = read_json(&dir.join(name))? {
                messages.push(message);
            }
        }
        Ok(messages)
    }
}

/// The `n` of a `message_<n>.json` file name; `None` for any other name (temp files included).
fn parse_message_file_name(name: &str) -> Option<u64> {
    let digits = name
        .strip_prefix(MESSAGE_PREFIX)?
        .strip_suffix(JSON_SUFFIX)?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Runs blocking file I/O on Tokio's blocking pool.
async fn run_blocking<T, F>(job: F) -> SessionResult<T>
where
    T: Send + 'static,
    F: FnOnce() -> SessionResult<T> + Send + 'static,
{
    match tokio::task::spawn_blocking(job).await {
        Ok(result) => result,
        Err(join_error) => Err(SessionError::Backend {
            message: "the file session I/O task panicked or was cancelled; the files are \
                      unchanged or fully written, retry the operation"
                .to_owned(),
            source: Some(Box::new(join_error)),
        }),
    }
}

/// Serializes into `writer` like Python's `json.dump(value, f, indent=2, ensure_ascii=False)`.
fn write_python_json<W: io::Write, T: Serialize>(writer: W, value: &T) -> serde_json::Result<()> {
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"  ");
    let mut serializer = serde_json::Serializer::with_formatter(writer, formatter);
    value.serialize(&mut serializer)
}

/// Creates `dir` and any missing parents with mode `0700` (Unix).
fn create_private_dir(dir: &Path) -> SessionResult<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(|source| SessionError::Io {
        path: dir.to_path_buf(),
        source,
    })
}

/// Fails if `path` is a symbolic link; `Ok(false)` if nothing is there, `Ok(true)` otherwise.
fn check_not_symlink(path: &Path, doing: &str) -> SessionResult<bool> {
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => Err(SessionError::Conflict(format!(
            "refusing to {doing} symlink at {}: this may indicate a symlink attack or session \
             tampering; replace it with a regular file or remove it",
            path.display()
        ))),
        Ok(_) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(source) => Err(SessionError::Io {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Reads a JSON document, `None` if there is no file at `path`.
fn read_json<T: DeserializeOwned>(path: &Path) -> SessionResult<Option<T>> {
    if !check_not_symlink(path, "read through")? {
        return Ok(None);
    }
    let bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(SessionError::Io {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|source| SessionError::Json {
            location: path.display().to_string(),
            source,
        })
}

/// Writes a JSON document atomically, like Python's `_write_file`: serialized straight into a
/// fresh temp file in the same directory, flushed to disk, renamed over `path`. The temp file is
/// removed if anything fails.
fn write_json<T: Serialize>(path: &Path, value: &T) -> SessionResult<()> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    create_private_dir(dir)?;
    check_not_symlink(path, "write to")?;
    let (tmp_path, file) = create_temp_file(dir)?;
    let written = write_and_sync(file, value)
        .map_err(|error| match error {
            WriteError::Io(source) => SessionError::Io {
                path: tmp_path.clone(),
                source,
            },
            WriteError::Json(source) => SessionError::Json {
                location: path.display().to_string(),
                source,
            },
        })
        .and_then(|()| {
            fs::rename(&tmp_path, path).map_err(|source| SessionError::Io {
                path: path.to_path_buf(),
                source,
            })
        });
    if written.is_err() {
        // Best effort: the original error is the one worth reporting.
        let _ = fs::remove_file(&tmp_path);
    }
    written
}

/// Why writing a temp file failed.
enum WriteError {
    Io(io::Error),
    Json(serde_json::Error),
}

/// Serializes `value` into `file` and flushes it to disk.
fn write_and_sync<T: Serialize>(file: File, value: &T) -> Result<(), WriteError> {
    let mut writer = io::BufWriter::with_capacity(64 * 1024, file);
    write_python_json(&mut writer, value).map_err(|e| {
        if e.is_io() {
            WriteError::Io(io::Error::from(e))
        } else {
            WriteError::Json(e)
        }
    })?;
    let file = writer
        .into_inner()
        .map_err(|e| WriteError::Io(e.into_error()))?;
    file.sync_all().map_err(WriteError::Io)
}

/// Creates `<dir>/.strands_<random>.tmp` exclusively, with mode `0600` (Unix): Python's
/// `tempfile.mkstemp(dir=dir, prefix=".strands_", suffix=".tmp")`.
fn create_temp_file(dir: &Path) -> SessionResult<(PathBuf, File)> {
    let mut last_error = None;
    for _ in 0..TEMP_ATTEMPTS {
        let random = uuid::Uuid::new_v4();
        let name: String = random.as_bytes()[..8]
            .iter()
            .map(|b| char::from(TEMP_ALPHABET[usize::from(*b) % TEMP_ALPHABET.len()]))
            .collect();
        let tmp_path = dir.join(format!("{TEMP_PREFIX}{name}{TEMP_SUFFIX}"));
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(0o600);
        }
        match options.open(&tmp_path) {
            Ok(file) => return Ok((tmp_path, file)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last_error = Some(e),
            Err(source) => {
                return Err(SessionError::Io {
                    path: tmp_path,
                    source,
                });
            }
        }
    }
    Err(SessionError::Io {
        path: dir.to_path_buf(),
        source: last_error.unwrap_or_else(|| {
            io::Error::new(
                io::ErrorKind::AlreadyExists,
                "could not create a unique temp file; remove stale .strands_*.tmp files",
            )
        }),
    })
}

impl SessionRepository for FileSessionRepository {
    fn create_session<'a>(&'a self, session: &'a Session) -> BoxFuture<'a, SessionResult<()>> {
        Box::pin(async move {
            validate_id("session", &session.session_id)?;
            let (repo, session) = (self.clone(), session.clone());
            run_blocking(move || repo.create_session_blocking(&session)).await
        })
    }

    fn read_session<'a>(
        &'a self,
        session_id: &'a str,
    ) -> BoxFuture<'a, SessionResult<Option<Session>>> {
        Box::pin(async move {
            validate_id("session", session_id)?;
            let (repo, session_id) = (self.clone(), session_id.to_owned());
            run_blocking(move || repo.read_session_blocking(&session_id)).await
        })
    }

    fn create_agent<'a>(
        &'a self,
        session_id: &'a str,
        agent: &'a SessionAgent,
    ) -> BoxFuture<'a, SessionResult<()>> {
        Box::pin(async move {
            validate_id("session", session_id)?;
            validate_id("agent", &agent.agent_id)?;
            let (repo, session_id, agent) = (self.clone(), session_id.to_owned(), agent.clone());
            run_blocking(move || repo.create_agent_blocking(&session_id, &agent)).await
        })
    }

    fn read_agent<'a>(
        &'a self,
        session_id: &'a str,
        agent_id: &'a str,
    ) -> BoxFuture<'a, SessionResult<Option<SessionAgent>>> {
        Box::pin(async move {
            validate_id("session", session_id)?;
            validate_id("agent", agent_id)?;
            let (repo, session_id, agent_id) =
                (self.clone(), session_id.to_owned(), agent_id.to_owned());
            run_blocking(move || repo.read_agent_blocking(&session_id, &agent_id)).await
        })
    }

    fn update_agent<'a>(
        &'a self,
        session_id: &'a str,
        agent: &'a SessionAgent,
    ) -> BoxFuture<'a, SessionResult<()>> {
        Box::pin(async move {
            validate_id("session", session_id)?;
            validate_id("agent", &agent.agent_id)?;
            let (repo, session_id, agent) = (self.clone(), session_id.to_owned(), agent.clone());
            run_blocking(move || repo.update_agent_blocking(&session_id, agent)).await
        })
    }

    fn create_message<'a>(
        &'a self,
        session_id: &'a str,
        agent_id: &'a str,
        message: &'a SessionMessage,
    ) -> BoxFuture<'a, SessionResult<()>> {
        Box::pin(async move {
            validate_id("session", session_id)?;
            validate_id("agent", agent_id)?;
            let (repo, session_id, agent_id, message) = (
                self.clone(),
                session_id.to_owned(),
                agent_id.to_owned(),
                message.clone(),
            );
            run_blocking(move || repo.create_message_blocking(&session_id, &agent_id, &message))
                .await
        })
    }

    fn read_message<'a>(
        &'a self,
        session_id: &'a str,
        agent_id: &'a str,
        message_id: u64,
    ) -> BoxFuture<'a, SessionResult<Option<SessionMessage>>> {
        Box::pin(async move {
            validate_id("session", session_id)?;
            validate_id("agent", agent_id)?;
            let (repo, session_id, agent_id) =
                (self.clone(), session_id.to_owned(), agent_id.to_owned());
            run_blocking(move || repo.read_message_blocking(&session_id, &agent_id, message_id))
                .await
        })
    }

    fn update_message<'a>(
        &'a self,
        session_id: &'a str,
        agent_id: &'a str,
        message: &'a SessionMessage,
    ) -> BoxFuture<'a, SessionResult<()>> {
        Box::pin(async move {
            validate_id("session", session_id)?;
            validate_id("agent", agent_id)?;
            let (repo, session_id, agent_id, message) = (
                self.clone(),
                session_id.to_owned(),
                agent_id.to_owned(),
                message.clone(),
            );
            run_blocking(move || repo.update_message_blocking(&session_id, &agent_id, message))
                .await
        })
    }

    fn list_messages<'a>(
        &'a self,
        session_id: &'a str,
        agent_id: &'a str,
        limit: Option<usize>,
        offset: usize,
    ) -> BoxFuture<'a, SessionResult<Vec<SessionMessage>>> {
        Box::pin(async move {
            validate_id("session", session_id)?;
            validate_id("agent", agent_id)?;
            let (repo, session_id, agent_id) =
                (self.clone(), session_id.to_owned(), agent_id.to_owned());
            run_blocking(move || repo.list_messages_blocking(&session_id, &agent_id, limit, offset))
                .await
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        reason = "tests"
    )]

    use serde_json::{Value, json};

    use super::*;

    #[test]
    fn python_json_format() {
        // python3 -c 'import json,sys; sys.stdout.write(json.dumps(
        //   {"a": {}, "b": [], "c": [1, {"d": None}], "e": "é\n\"", "f": True, "g": 1.5},
        //   indent=2, ensure_ascii=False))'
        let value =
            json!({"a": {}, "b": [], "c": [1, {"d": null}], "e": "é\n\"", "f": true, "g": 1.5});
        let expected = "{\n  \"a\": {},\n  \"b\": [],\n  \"c\": [\n    1,\n    {\n      \"d\": null\n    }\n  ],\n  \"e\": \"é\\n\\\"\",\n  \"f\": true,\n  \"g\": 1.5\n}";
        let to_json = |value: &Value| {
            let mut out = Vec::new();
            write_python_json(&mut out, value).unwrap();
            String::from_utf8(out).unwrap()
        };
        assert_eq!(to_json(&value), expected);
        assert_eq!(to_json(&json!({})), "{}");
        assert_eq!(to_json(&json!([])), "[]");
    }

    #[test]
    fn message_file_names() {
        assert_eq!(parse_message_file_name("message_0.json"), Some(0));
        assert_eq!(parse_message_file_name("message_10.json"), Some(10));
        assert_eq!(parse_message_file_name("message_.json"), None);
        assert_eq!(parse_message_file_name("message_-1.json"), None);
        assert_eq!(parse_message_file_name("message_+1.json"), None);
        assert_eq!(parse_message_file_name("message_1.json.tmp"), None);
        assert_eq!(parse_message_file_name(".strands_abc.tmp"), None);
        assert_eq!(parse_message_file_name("notes.txt"), None);
        assert_eq!(
            parse_message_file_name("message_99999999999999999999999.json"),
            None
        );
    }

    #[test]
    fn layout_paths() {
        let repo = FileSessionRepository::new("/r");
        assert_eq!(repo.root(), Path::new("/r"));
        assert_eq!(
            repo.message_path("s", "a", 3),
            Path::new("/r/session_s/agents/agent_a/messages/message_3.json")
        );
        assert!(FileSessionRepository::default_dir().ends_with(".strands/sessions"));
    }

    #[test]
    fn temp_files_are_named_like_python_and_failed_writes_leave_none() {
        let dir = std::env::temp_dir().join(format!("strands-file-unit-{}", uuid::Uuid::new_v4()));
        create_private_dir(&dir).unwrap();
        let (path, file) = create_temp_file(&dir).unwrap();
        drop(file);
        let name = path.file_name().unwrap().to_str().unwrap();
        let random = name
            .strip_prefix(".strands_")
            .unwrap()
            .strip_suffix(".tmp")
            .unwrap();
        assert_eq!(random.len(), 8);
        assert!(random.bytes().all(|b| TEMP_ALPHABET.contains(&b)));
        fs::remove_file(&path).unwrap();

        // Renaming onto a directory fails; the temp file must be cleaned up.
        let target = dir.join("target.json");
        fs::create_dir(&target).unwrap();
        assert!(write_json(&target, &json!({"a": 1})).is_err());
        let left: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, vec![std::ffi::OsString::from("target.json")]);

        // A value JSON cannot represent fails half-way through the temp file; it is removed too.
        let bad_keys = std::collections::BTreeMap::from([((1, 2), "tuple keys")]);
        let other = dir.join("other.json");
        let err = write_json(&other, &bad_keys).unwrap_err();
        assert!(matches!(err, SessionError::Json { .. }), "{err:?}");
        let left: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, vec![std::ffi::OsString::from("target.json")]);
        fs::remove_dir_all(&dir).unwrap();
    }
}
