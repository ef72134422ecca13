//! A server binary run as a child process for a test: started on a free port, awaited until
//! `GET /ping` answers 200, killed when dropped. The examples' tests run each example this way.

use std::io;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// How long [`ServedBinary::start`] waits for `/ping`.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A running server process; killed (and reaped) on drop.
#[derive(Debug)]
pub struct ServedBinary {
    child: Child,
    port: u16,
}

impl ServedBinary {
    /// Runs `command` with `PORT` set to a free port and `HOST` to `127.0.0.1`, and waits until
    /// its `GET /ping` answers `200`.
    ///
    /// # Errors
    ///
    /// The process could not start, exited, or did not answer within 60 s.
    pub async fn start(mut command: Command) -> io::Result<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let child = command
            .env("PORT", port.to_string())
            .env("HOST", "127.0.0.1")
            .spawn()?;
        let mut served = Self { child, port };
        let deadline = Instant::now() + START_TIMEOUT;
        while Instant::now() < deadline {
            if let Some(status) = served.child.try_wait()? {
                return Err(io::Error::other(format!("the server exited: {status}")));
            }
            if ping(port).await {
                return Ok(served);
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "the server did not answer /ping within 60 s",
        ))
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Sends SIGTERM (as AgentCore stops a runtime) and waits, without blocking the runtime, for
    /// the process to exit within `within`.
    ///
    /// # Errors
    ///
    /// The signal could not be sent, or the process was still running after `within`.
    pub async fn terminate(&mut self, within: Duration) -> io::Result<std::process::ExitStatus> {
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()?;
        if !sent.success() {
            return Err(io::Error::other(format!("kill -TERM failed: {sent}")));
        }
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait()? {
                return Ok(status);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!("the server was still running {within:?} after SIGTERM"),
        ))
    }
}

impl Drop for ServedBinary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether `GET /ping` on `port` answers 200.
async fn ping(port: u16) -> bool {
    let attempt = async {
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
        stream
            .write_all(b"GET /ping HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            .await?;
        let mut head = [0u8; 12];
        stream.read_exact(&mut head).await?;
        Ok::<_, io::Error>(head.starts_with(b"HTTP/1.1 200"))
    };
    tokio::time::timeout(Duration::from_secs(2), attempt)
        .await
        .is_ok_and(|r| r.unwrap_or(false))
}
