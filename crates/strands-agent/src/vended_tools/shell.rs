//! `shell`: runs a command with `sh -c` in one directory.
//!
//! Python: `strands.vended_tools.shell` (1.62): the same name, arguments (`command`, `timeout`,
//! default 120) and answer (`{"output": stdout, "error": stderr, "exit_code": n}` as
//! `json.dumps` writes it; a timeout is an error carrying the partial output and exit code 124).
//! Python runs the command with the host's environment; this one passes only a few harmless
//! variables and those it is told to, so the server's credentials do not reach the model.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::json;
use strands_core::{Tool, ToolContext, ToolSpec, ToolStream, ToolUse};
use tokio::io::{AsyncRead, AsyncReadExt};

/// Python's default `timeout`.
const DEFAULT_TIMEOUT_SECONDS: u64 = 120;
/// Default upper bound of the model's `timeout`.
const DEFAULT_MAX_TIMEOUT: Duration = Duration::from_secs(600);
/// Default bound on each of stdout and stderr.
const DEFAULT_MAX_OUTPUT_BYTES: usize = 1024 * 1024;
/// Variables passed from the server's environment unless told otherwise.
const BASE_ENV: [&str; 6] = ["PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR"];
/// `PATH` when the server has none.
const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// `shell`: runs the model's commands. Every command can do anything the server's user can;
/// give it to an agent only in a sandbox (a container, a microVM) you are ready to lose.
///
/// ```
/// use strands_agent::vended_tools::Shell;
///
/// let shell = Shell::new(std::env::temp_dir())?.pass_env("GIT_AUTHOR_NAME");
/// # drop(shell);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Shell {
    directory: PathBuf,
    env: Vec<String>,
    max_timeout: Duration,
    max_output_bytes: usize,
    spec: ToolSpec,
}

impl Shell {
    /// A shell whose commands start in `directory` (which must exist).
    ///
    /// # Errors
    ///
    /// `directory` cannot be resolved or is not a directory.
    pub fn new(directory: impl AsRef<Path>) -> std::io::Result<Self> {
        let directory = directory.as_ref().canonicalize()?;
        if !directory.is_dir() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotADirectory,
                format!("{} is not a directory", directory.display()),
            ));
        }
        let description = "Executes shell commands and returns output (stdout), error (stderr), and exit_code (non-zero means the command failed). Each call runs in a fresh shell; state such as variables and the working directory does not persist across calls.";
        let schema = json!({
            "properties": {
                "command": {"description": "The shell command to execute.", "type": "string"},
                "timeout": {"default": DEFAULT_TIMEOUT_SECONDS, "description": "Timeout in seconds (default: 120).", "type": "integer"}
            },
            "required": ["command"],
            "type": "object"
        });
        Ok(Self {
            directory,
            env: BASE_ENV.iter().map(|v| (*v).to_owned()).collect(),
            max_timeout: DEFAULT_MAX_TIMEOUT,
            max_output_bytes: DEFAULT_MAX_OUTPUT_BYTES,
            spec: ToolSpec::new("shell", description, schema),
        })
    }

    /// Also passes the server's variable `name` (when set) to commands.
    #[must_use]
    pub fn pass_env(mut self, name: impl Into<String>) -> Self {
        self.env.push(name.into());
        self
    }

    /// The longest a command may run, whatever the model asks (default 10 minutes), and the
    /// most bytes kept of each of stdout and stderr (default 1 MiB; the rest is cut with a note).
    #[must_use]
    pub fn with_limits(mut self, max_timeout: Duration, max_output_bytes: usize) -> Self {
        self.max_timeout = max_timeout;
        self.max_output_bytes = max_output_bytes;
        self
    }

    fn environment(&self) -> BTreeMap<String, String> {
        let mut env: BTreeMap<String, String> = self
            .env
            .iter()
            .filter_map(|name| std::env::var(name).ok().map(|value| (name.clone(), value)))
            .collect();
        env.entry("PATH".to_owned())
            .or_insert_with(|| DEFAULT_PATH.to_owned());
        env
    }

    async fn run(&self, input: Input) -> Result<Output, String> {
        let timeout = Duration::from_secs(input.timeout.unwrap_or(DEFAULT_TIMEOUT_SECONDS))
            .min(self.max_timeout);
        let mut command = tokio::process::Command::new("sh");
        command
            .arg("-c")
            .arg(&input.command)
            .current_dir(&self.directory)
            .env_clear()
            .envs(self.environment())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        #[cfg(unix)]
        command.process_group(0);
        let mut child = command
            .spawn()
            .map_err(|e| format!("ShellExecutionError - the shell could not start: {e}"))?;
        // Kills the command and everything it started when the call ends early (timeout, or
        // the agent cancelled and dropped this future).
        let group = ProcessGroup(child.id());
        let mut stdout = Capture::new(self.max_output_bytes);
        let mut stderr = Capture::new(self.max_output_bytes);
        let (out_pipe, err_pipe) = (child.stdout.take(), child.stderr.take());
        let finished = tokio::time::timeout(timeout, async {
            tokio::join!(stdout.read_all(out_pipe), stderr.read_all(err_pipe));
            child.wait().await
        })
        .await;
        match finished {
            Ok(Ok(status)) => {
                group.disarm();
                Ok(Output {
                    output: stdout.text(),
                    error: stderr.text(),
                    exit_code: exit_code(status),
                })
            }
            Ok(Err(error)) => Err(format!("ShellExecutionError - {error}")),
            Err(_) => {
                drop(group);
                let partial = Output {
                    output: stdout.text(),
                    error: stderr.text(),
                    exit_code: 124,
                };
                let partial = strands_core::json::to_python_string(&partial).unwrap_or_default();
                Err(format!(
                    "SandboxTimeoutError - Execution timed out after {} seconds\n{partial}",
                    timeout.as_secs()
                ))
            }
        }
    }
}

/// The exit code, or 128 + the signal that ended the command (as `sh` reports it).
fn exit_code(status: std::process::ExitStatus) -> i32 {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt as _;
        if let Some(signal) = status.signal() {
            return 128 + signal;
        }
    }
    status.code().unwrap_or(-1)
}

/// The command's process group, killed on drop unless disarmed.
struct ProcessGroup(Option<u32>);

impl ProcessGroup {
    fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        #[cfg(unix)]
        if let Some(pid) = self
            .0
            .and_then(|id| i32::try_from(id).ok())
            .and_then(rustix::process::Pid::from_raw)
        {
            // Gone already is fine.
            let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
        }
    }
}

/// One output stream, kept up to a bound and drained past it.
struct Capture {
    bytes: Vec<u8>,
    limit: usize,
    cut: bool,
}

impl Capture {
    fn new(limit: usize) -> Self {
        Self {
            bytes: Vec::new(),
            limit,
            cut: false,
        }
    }

    async fn read_all(&mut self, pipe: Option<impl AsyncRead + Unpin>) {
        let Some(mut pipe) = pipe else { return };
        let mut buffer = vec![0u8; 8192];
        while let Ok(n @ 1..) = pipe.read(&mut buffer).await {
            let chunk = buffer.get(..n).unwrap_or_default();
            let room = self.limit.saturating_sub(self.bytes.len());
            if chunk.len() > room {
                self.cut = true;
            }
            self.bytes
                .extend_from_slice(chunk.get(..room.min(chunk.len())).unwrap_or_default());
        }
    }

    fn text(&self) -> String {
        let mut text = String::from_utf8_lossy(&self.bytes).into_owned();
        if self.cut {
            text.push_str(&format!("\n[cut at {} bytes]", self.limit));
        }
        text
    }
}

/// The model's arguments.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Input {
    command: String,
    timeout: Option<u64>,
}

/// Python's `ShellOutput`.
#[derive(Debug, Serialize)]
struct Output {
    output: String,
    error: String,
    exit_code: i32,
}

impl Tool for Shell {
    fn spec(&self) -> &ToolSpec {
        &self.spec
    }

    fn stream(&self, tool_use: ToolUse, context: ToolContext) -> ToolStream<'_> {
        super::json_answer(tool_use, context, "", |input: Input| self.run(input))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "test helpers fail loudly")]
mod tests {
    use super::*;

    fn shell() -> Shell {
        Shell::new(std::env::temp_dir()).unwrap()
    }

    async fn run(shell: &Shell, input: serde_json::Value) -> Result<Output, String> {
        shell.run(serde_json::from_value(input).unwrap()).await
    }

    #[tokio::test]
    async fn output_error_and_exit_code_come_back() {
        let output = run(
            &shell(),
            json!({"command": "echo out; echo err >&2; exit 3"}),
        )
        .await
        .unwrap();
        assert_eq!(
            strands_core::json::to_python_string(&output).unwrap(),
            r#"{"output": "out\n", "error": "err\n", "exit_code": 3}"#
        );
    }

    #[tokio::test]
    async fn only_the_variables_passed_reach_the_command() {
        // cargo sets CARGO_PKG_NAME for the test process, as a server has its credentials.
        let name = std::env::var("CARGO_PKG_NAME").unwrap();
        let command = json!({"command": "echo \"[$CARGO_PKG_NAME]\"; pwd"});
        let output = run(&shell(), command.clone()).await.unwrap();
        let dir = std::env::temp_dir().canonicalize().unwrap();
        assert_eq!(output.output, format!("[]\n{}\n", dir.display()));
        let output = run(&shell().pass_env("CARGO_PKG_NAME"), command)
            .await
            .unwrap();
        assert_eq!(output.output, format!("[{name}]\n{}\n", dir.display()));
    }

    #[tokio::test]
    async fn a_timeout_kills_the_whole_group_and_keeps_the_partial_output() {
        let shell = shell().with_limits(Duration::from_secs(1), 1024);
        let started = std::time::Instant::now();
        let error = run(
            &shell,
            json!({"command": "echo started; sleep 30 & sleep 30", "timeout": 5}),
        )
        .await
        .unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!(
            error,
            "SandboxTimeoutError - Execution timed out after 1 seconds\n{\"output\": \"started\\n\", \"error\": \"\", \"exit_code\": 124}"
        );
    }

    #[tokio::test]
    async fn output_is_cut_at_the_bound() {
        let shell = shell().with_limits(Duration::from_secs(10), 4);
        let output = run(&shell, json!({"command": "printf 0123456789"}))
            .await
            .unwrap();
        assert_eq!(output.output, "0123\n[cut at 4 bytes]");
    }
}
