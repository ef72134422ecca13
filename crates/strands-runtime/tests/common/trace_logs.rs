//! The suite's logs at TRACE. With `STRANDS_TRACE_LOGS=<dir>` set (scripts/test sets it), every
//! binary a test starts logs at TRACE into a file there, in-process servers log there at TRACE
//! too, and every credential, token or secret value a test hands out is listed in
//! `<dir>/secrets`. `scripts/secrets-in-logs <dir>` then fails if any listed value appears in any
//! log. Without the variable, binaries log at INFO to nowhere and nothing is recorded.

use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};

const VARIABLE: &str = "STRANDS_TRACE_LOGS";

fn dir() -> Option<PathBuf> {
    std::env::var_os(VARIABLE)
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
}

/// The `LOG_LEVEL` for a binary a test starts.
pub(crate) fn level() -> &'static str {
    if dir().is_some() { "TRACE" } else { "INFO" }
}

/// A new log file in the directory, named after `name`.
fn file(name: &str) -> Option<File> {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let dir = dir()?;
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!(
        "{name}-{}-{}.log",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    Some(File::create(path).unwrap())
}

/// Where a started binary's stderr goes: a log file in the directory, or nowhere.
pub(crate) fn stderr(name: &str) -> Stdio {
    file(name).map_or_else(Stdio::null, Stdio::from)
}

/// Keeps a log a test read itself (a piped stderr).
pub(crate) fn keep(name: &str, text: &str) {
    if let Some(mut file) = file(name) {
        file.write_all(text.as_bytes()).unwrap();
    }
}

/// Lists `value` as a secret no log may contain.
pub(crate) fn secret(value: &str) {
    if let Some(dir) = dir() {
        std::fs::create_dir_all(&dir).unwrap();
        let mut secrets = OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("secrets"))
            .unwrap();
        writeln!(secrets, "{value}").unwrap();
    }
}

/// Installs, once per test binary, the runtime's JSON log at TRACE into the directory, so
/// in-process servers are checked too (the filter is the binary's: `logging::filter`).
pub(crate) fn install_in_process(name: &str) {
    use tracing_subscriber::Layer as _;
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        if let Some(file) = file(name) {
            let writer = std::sync::Mutex::new(file);
            let layer = strands_runtime::logging::JsonLogLayer::new(writer)
                .with_filter(strands_runtime::logging::filter("TRACE"));
            let _ = tracing_subscriber::registry().with(layer).try_init();
        }
    });
}
