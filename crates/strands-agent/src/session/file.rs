//! [`FileSessionRepository`]: sessions as JSON files on the local file system, in the layout of
//! Python's `FileSessionManager` (the layout itself is `strands_core::session`'s).

use std::collections::HashSet;
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use strands_core::BoxFuture;
use strands_core::session::{ObjectStore, SessionError, SessionResult};

const TEMP_PREFIX: &str = ".strands_";
const TEMP_SUFFIX: &str = ".tmp";
/// Characters of the random part of a temp file name: Python's `tempfile` alphabet.
const TEMP_ALPHABET: &[u8; 37] = b"abcdefghijklmnopqrstuvwxyz0123456789_";
/// How many temp names to try before giving up (Python tries `os.TMP_MAX` = 10000).
const TEMP_ATTEMPTS: usize = 100;
/// Age (since its last modification) after which a temp file is taken for the leftover of a
/// writer that is gone, and removed. A live writer keeps its temp file only for one write, sync
/// and rename.
const STALE_TEMP_AGE: Duration = Duration::from_secs(60);
/// Directories remembered as swept before the memory is cleared (and they are swept again).
const SWEPT_DIRS_KEPT: usize = 4096;

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
/// It is an [`ObjectStore`] whose keys are paths under the root, and so a
/// [`SessionRepository`](strands_core::session::SessionRepository) in Python's layout. Files are
/// written like Python's `json.dump(data, f, indent=2, ensure_ascii=False)`: two-space
/// indentation, non-ASCII characters as they are, no trailing newline. Every write goes to a
/// `.strands_<random>.tmp` file in the target's directory, is flushed to disk and then renamed
/// over the target, so a reader (or a process restarted after a crash) sees the old document or
/// the new one, never a torn one. On Unix, directories are created with mode `0700` and files
/// with `0600`. Reads and writes refuse to go through a symbolic link at the target path.
///
/// A writer killed mid-write (or a Python one) leaves its temp file behind. Readers never see
/// temp files (listing skips them), and the repository removes stale ones: every temp file
/// found when listing a directory, and those in a directory it reads a document from for the
/// first time, once their last modification is 60 seconds old. Removing by age is safe with
/// other processes writing the same session: a live writer holds its temp file only while it
/// writes, syncs and renames it, and a temp file name is never reused while the file exists; a
/// writer stalled for a whole minute (or a file system whose clock lags by as much) sees its
/// rename fail with an error and the previous document stays in place.
///
/// Session and agent ids are checked with
/// [`validate_id`](strands_core::session::validate_id) before any path is built, and the store
/// refuses any key with an empty, `.` or `..` segment, so nothing is read or written outside the
/// root. The file I/O runs on Tokio's blocking thread pool, so the methods must be awaited inside
/// a Tokio runtime.
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
    swept: SweptDirs,
}

/// The directories a repository (and its clones) already swept for stale temp files.
#[derive(Clone, Default)]
struct SweptDirs(Arc<Mutex<HashSet<PathBuf>>>);

impl fmt::Debug for SweptDirs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let swept = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        write!(f, "{} directories swept", swept.len())
    }
}

impl SweptDirs {
    /// Removes the stale temp files in `dir` the first time it is asked about `dir`.
    fn sweep_once(&self, dir: &Path) {
        {
            let mut swept = self.0.lock().unwrap_or_else(PoisonError::into_inner);
            if swept.contains(dir) {
                return;
            }
            if swept.len() >= SWEPT_DIRS_KEPT {
                swept.clear();
            }
            swept.insert(dir.to_path_buf());
        }
        remove_stale_temp_files(dir);
    }
}

impl FileSessionRepository {
    /// A repository storing sessions under `root`. Nothing is created until the first write;
    /// then `root` is created (mode `0700`) if it does not exist.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self {
            root: root.into(),
            swept: SweptDirs::default(),
        }
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

    /// The path of `key` under the root; refuses keys that could leave it.
    fn path(&self, key: &str) -> SessionResult<PathBuf> {
        let mut path = self.root.clone();
        for segment in key.trim_end_matches('/').split('/') {
            if segment.is_empty()
                || segment == "."
                || segment == ".."
                || segment.contains(['\\', '\0'])
            {
                return Err(SessionError::Conflict(format!(
                    "refusing the storage key {key:?}: it could name a path outside {}",
                    self.root.display()
                )));
            }
            path.push(segment);
        }
        Ok(path)
    }

    /// Runs `job` on the path of `key`, on Tokio's blocking pool.
    fn blocking<'a, T, F>(&'a self, key: &'a str, job: F) -> BoxFuture<'a, SessionResult<T>>
    where
        T: Send + 'static,
        F: FnOnce(&Path) -> SessionResult<T> + Send + 'static,
    {
        Box::pin(async move {
            let path = self.path(key)?;
            let joined = tokio::task::spawn_blocking(move || job(&path));
            match joined.await {
                Ok(result) => result,
                Err(join_error) => Err(SessionError::Backend {
                    message: "the file session I/O task panicked or was cancelled; the files are \
                              unchanged or fully written, retry the operation"
                        .to_owned(),
                    source: Some(Box::new(join_error)),
                }),
            }
        })
    }
}

impl ObjectStore for FileSessionRepository {
    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, SessionResult<Option<Vec<u8>>>> {
        let swept = self.swept.clone();
        self.blocking(key, move |path| {
            if let Some(dir) = path.parent() {
                swept.sweep_once(dir);
            }
            read_file(path)
        })
    }

    fn put<'a>(&'a self, key: &'a str, body: Vec<u8>) -> BoxFuture<'a, SessionResult<()>> {
        self.blocking(key, move |path| {
            write_file(path, &body, Replace::Yes).map(drop)
        })
    }

    fn put_new<'a>(&'a self, key: &'a str, body: Vec<u8>) -> BoxFuture<'a, SessionResult<bool>> {
        self.blocking(key, move |path| write_file(path, &body, Replace::No))
    }

    fn list<'a>(&'a self, prefix: &'a str) -> BoxFuture<'a, SessionResult<Vec<String>>> {
        let owned = prefix.to_owned();
        self.blocking(prefix, move |dir| list_files(dir, &owned))
    }

    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, SessionResult<()>> {
        self.blocking(key, |path| match fs::remove_file(path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(io_error(path, e)),
            _ => Ok(()),
        })
    }

    fn create_prefix<'a>(&'a self, prefix: &'a str) -> BoxFuture<'a, SessionResult<()>> {
        self.blocking(prefix, create_private_dir)
    }

    fn location(&self, key: &str) -> String {
        self.root.join(key).display().to_string()
    }
}

fn io_error(path: &Path, source: io::Error) -> SessionError {
    SessionError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The keys (`prefix` + file name) of the files directly in `dir`, temp files left out (and
/// removed when stale). Unlike an empty directory, a missing one is an error, as in Python's
/// `FileSessionManager` (listing the messages of an agent never created).
fn list_files(dir: &Path, prefix: &str) -> SessionResult<Vec<String>> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(SessionError::Conflict(format!(
                "directory {} is missing: nothing was stored under it (for messages, create the \
                 agent with create_agent first)",
                dir.display()
            )));
        }
        Err(source) => return Err(io_error(dir, source)),
    };
    let mut keys = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| io_error(dir, source))?;
        let file_name = entry.file_name();
        let Some(name) = file_name.to_str() else {
            continue;
        };
        if name.starts_with(TEMP_PREFIX) {
            remove_if_stale_temp_file(&entry.path(), name);
        } else {
            keys.push(format!("{prefix}{name}"));
        }
    }
    Ok(keys)
}

/// Removes the stale temp files directly in `dir`; best effort (a missing or unreadable directory
/// is left to the read or write that follows).
fn remove_stale_temp_files(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if let Some(name) = entry.file_name().to_str()
            && name.starts_with(TEMP_PREFIX)
        {
            remove_if_stale_temp_file(&entry.path(), name);
        }
    }
}

/// Removes `path` if it is a temp file of this store (`.strands_*.tmp`, a regular file, not a
/// symbolic link) last modified at least [`STALE_TEMP_AGE`] ago. A modification time in the
/// future (clock skew) is not stale. Best effort: failures are ignored.
fn remove_if_stale_temp_file(path: &Path, name: &str) {
    if !is_temp_name(name) {
        return;
    }
    let Ok(meta) = fs::symlink_metadata(path) else {
        return;
    };
    let stale = meta.file_type().is_file()
        && meta
            .modified()
            .ok()
            .and_then(|modified| SystemTime::now().duration_since(modified).ok())
            .is_some_and(|age| age >= STALE_TEMP_AGE);
    if stale {
        let _ = fs::remove_file(path);
    }
}

/// Whether `name` is a temp file name of this store (or of Python's `FileSessionManager`).
fn is_temp_name(name: &str) -> bool {
    name.len() > TEMP_PREFIX.len() + TEMP_SUFFIX.len()
        && name.starts_with(TEMP_PREFIX)
        && name.ends_with(TEMP_SUFFIX)
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
    builder.create(dir).map_err(|source| io_error(dir, source))
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
        Err(source) => Err(io_error(path, source)),
    }
}

/// Reads a file, `None` if there is none at `path`.
fn read_file(path: &Path) -> SessionResult<Option<Vec<u8>>> {
    if !check_not_symlink(path, "read through")? {
        return Ok(None);
    }
    match fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(io_error(path, source)),
    }
}

/// Whether a write may replace an existing file.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Replace {
    Yes,
    No,
}

/// Writes a file atomically, like Python's `_write_file`: into a fresh temp file in the same
/// directory, flushed to disk, then renamed over `path` (or, when it must not replace a file,
/// hard-linked to `path`, which fails if one exists; where the file system has no hard links, the
/// file is created in place with `create_new`). `Ok(false)` when a file was there and must
/// not be replaced. The temp file is removed whatever happens.
fn write_file(path: &Path, body: &[u8], replace: Replace) -> SessionResult<bool> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    create_private_dir(dir)?;
    check_not_symlink(path, "write to")?;
    let (tmp_path, file) = create_temp_file(dir)?;
    let written = write_and_sync(file, body).map_err(|source| io_error(&tmp_path, source));
    let placed = written.and_then(|()| {
        let placed = match replace {
            Replace::Yes => fs::rename(&tmp_path, path).map(|()| true),
            Replace::No => match fs::hard_link(&tmp_path, path) {
                Ok(()) => Ok(true),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(false),
                // No hard links here (exFAT, some FUSE and SMB mounts): create the file in
                // place, which still fails if one exists.
                Err(_) => create_new_file(path, body),
            },
        };
        placed.map_err(|source| io_error(path, source))
    });
    if replace == Replace::No || placed.is_err() {
        // Best effort: the original error is the one worth reporting.
        let _ = fs::remove_file(&tmp_path);
    }
    placed
}

/// Creates `path` only if nothing is there and writes `body` into it; `Ok(false)` if a file
/// exists. Not atomic for readers: the fallback where hard links are missing.
fn create_new_file(path: &Path, body: &[u8]) -> io::Result<bool> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(file) => write_and_sync(file, body).map(|()| true),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(e),
    }
}

/// Writes `body` into `file` and flushes it to disk.
fn write_and_sync(mut file: File, body: &[u8]) -> io::Result<()> {
    file.write_all(body)?;
    file.sync_all()
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
            Err(source) => return Err(io_error(&tmp_path, source)),
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

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        reason = "tests"
    )]

    use super::*;

    #[test]
    fn keys_map_to_paths_under_the_root_only() {
        let repo = FileSessionRepository::new("/r");
        assert_eq!(repo.root(), Path::new("/r"));
        assert_eq!(
            repo.path("session_s/agents/agent_a/messages/message_3.json")
                .unwrap(),
            Path::new("/r/session_s/agents/agent_a/messages/message_3.json")
        );
        assert_eq!(
            repo.path("session_s/agents/").unwrap(),
            Path::new("/r/session_s/agents")
        );
        for bad in ["../x", "a/../b", "a//b", "./a", "a\\b", "", "a/\0"] {
            assert!(repo.path(bad).is_err(), "{bad:?}");
        }
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
        assert!(write_file(&target, b"{}", Replace::Yes).is_err());
        let names = || -> Vec<_> {
            fs::read_dir(&dir)
                .unwrap()
                .map(|e| e.unwrap().file_name())
                .collect()
        };
        assert_eq!(names(), vec![std::ffi::OsString::from("target.json")]);

        // A file that must not be replaced is left as it was, and no temp file stays behind.
        let kept = dir.join("kept.json");
        assert!(write_file(&kept, b"1", Replace::No).unwrap());
        assert!(!write_file(&kept, b"2", Replace::No).unwrap());
        assert_eq!(fs::read(&kept).unwrap(), b"1");
        let mut left = names();
        left.sort();
        assert_eq!(
            left,
            ["kept.json", "target.json"].map(std::ffi::OsString::from)
        );
        fs::remove_dir_all(&dir).unwrap();
    }

    /// Sets the modification time of `path` to `age` ago.
    fn age(path: &Path, age: Duration) {
        let file = File::open(path).unwrap();
        file.set_modified(SystemTime::now() - age).unwrap();
    }

    #[tokio::test]
    async fn stale_temp_files_are_removed_fresh_ones_kept_and_none_is_listed() {
        let root =
            std::env::temp_dir().join(format!("strands-file-stale-{}", uuid::Uuid::new_v4()));
        let repo = FileSessionRepository::new(&root);
        let messages = root.join("session_s/agents/agent_a/messages");
        let agent_dir = messages.parent().unwrap().to_path_buf();
        create_private_dir(&messages).unwrap();
        let write = |path: PathBuf, old: bool| {
            fs::write(&path, b"{\"torn").unwrap();
            if old {
                age(&path, STALE_TEMP_AGE + Duration::from_secs(1));
            }
            path
        };
        let stale_message = write(messages.join(".strands_stale001.tmp"), true);
        let fresh_message = write(messages.join(".strands_fresh001.tmp"), false);
        let not_ours = write(messages.join(".strands_notes"), true);
        let message = write(messages.join("message_0.json"), true);
        let stale_agent = write(agent_dir.join(".strands_stale002.tmp"), true);
        let fresh_agent = write(agent_dir.join(".strands_fresh002.tmp"), false);
        let directory = agent_dir.join(".strands_dir0001.tmp");
        fs::create_dir(&directory).unwrap();
        age(&directory, STALE_TEMP_AGE * 2);
        #[cfg(unix)]
        let link = {
            let link = agent_dir.join(".strands_link001.tmp");
            std::os::unix::fs::symlink(&message, &link).unwrap();
            link
        };

        // Listing leaves temp files out and removes the stale ones.
        let keys = repo
            .list("session_s/agents/agent_a/messages/")
            .await
            .unwrap();
        assert_eq!(keys, ["session_s/agents/agent_a/messages/message_0.json"]);
        assert!(!stale_message.exists());
        assert!(fresh_message.exists() && not_ours.exists() && message.exists());

        // The first read in a directory sweeps it; a fresh temp file stays until it is stale.
        assert_eq!(
            repo.get("session_s/agents/agent_a/agent.json")
                .await
                .unwrap(),
            None
        );
        assert!(!stale_agent.exists());
        assert!(fresh_agent.exists() && directory.is_dir());
        #[cfg(unix)]
        assert!(
            fs::symlink_metadata(&link).is_ok(),
            "a symlink is never removed"
        );
        age(&fresh_agent, STALE_TEMP_AGE);
        repo.get("session_s/agents/agent_a/agent.json")
            .await
            .unwrap();
        assert!(
            fresh_agent.exists(),
            "a directory is swept once per repository"
        );
        let reopened = FileSessionRepository::new(&root);
        reopened
            .get("session_s/agents/agent_a/agent.json")
            .await
            .unwrap();
        assert!(!fresh_agent.exists(), "a new repository sweeps again");

        // A temp file dated in the future (clock skew) is not stale.
        let future = write(messages.join(".strands_future01.tmp"), false);
        let file = OpenOptions::new().append(true).open(&future).unwrap();
        file.set_modified(SystemTime::now() + Duration::from_secs(3600))
            .unwrap();
        repo.list("session_s/agents/agent_a/messages/")
            .await
            .unwrap();
        assert!(future.exists());
        assert!(format!("{repo:?}").contains("directories swept"));
        fs::remove_dir_all(&root).unwrap();
    }
}
