//! A running app on 127.0.0.1:0 and a raw HTTP client for byte-exact assertions.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail loudly"
)]

use std::net::SocketAddr;

pub(crate) mod trace_logs;

use strands_runtime::AgentCoreApp;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A served app; the server stops when dropped.
pub(crate) struct Server {
    pub(crate) addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Server {
    pub(crate) async fn start(app: AgentCoreApp) -> Self {
        Self::start_with(strands_runtime::Server::new(app)).await
    }

    /// Serves with the runtime's own server (connection timeouts, graceful shutdown).
    pub(crate) async fn start_with(server: strands_runtime::Server) -> Self {
        trace_logs::install_in_process("in-process");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            server
                .serve(listener, std::future::pending::<()>())
                .await
                .unwrap();
        });
        Self { addr, task }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

/// A raw HTTP/1.1 exchange: status line, lower-cased headers (minus `date`), body bytes.
pub(crate) struct Raw {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Raw {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn text(&self) -> String {
        String::from_utf8(self.body.clone()).unwrap()
    }
}

/// Sends `request` verbatim (with `Connection: close`) and reads the whole response.
pub(crate) async fn raw(addr: SocketAddr, request: &[u8]) -> Raw {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut bytes = Vec::new();
    stream.read_to_end(&mut bytes).await.unwrap();
    let split = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a header section");
    let head = String::from_utf8(bytes[..split].to_vec()).unwrap();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_ascii_lowercase(), v.to_owned()))
        .filter(|(k, _)| k != "date")
        .collect();
    let mut body = bytes[split + 4..].to_vec();
    if headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v == "chunked")
    {
        body = dechunk(&body);
    }
    Raw {
        status,
        headers,
        body,
    }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = data.windows(2).position(|w| w == b"\r\n").unwrap();
        let size =
            usize::from_str_radix(std::str::from_utf8(&data[..line_end]).unwrap().trim(), 16)
                .unwrap();
        data = &data[line_end + 2..];
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}

/// A POST to `/invocations` with the given extra header lines and body.
pub(crate) fn post(path: &str, headers: &str, body: &[u8]) -> Vec<u8> {
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: {}\r\n{headers}\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    request
}

/// A minimal static 64-bit ELF executable for `machine` (0xB7 arm64, 0x3E amd64): a header,
/// one `PT_LOAD` program header, then `payload`. What the image builder accepts; not runnable.
pub(crate) fn static_elf(machine: u16, payload: &[u8]) -> Vec<u8> {
    let mut bytes = vec![0u8; 64 + 56];
    bytes[..6].copy_from_slice(b"\x7fELF\x02\x01");
    bytes[16] = 2; // ET_EXEC
    bytes[18..20].copy_from_slice(&machine.to_le_bytes());
    bytes[32..40].copy_from_slice(&64u64.to_le_bytes());
    bytes[54..56].copy_from_slice(&56u16.to_le_bytes());
    bytes[56..58].copy_from_slice(&1u16.to_le_bytes());
    bytes[64..68].copy_from_slice(&1u32.to_le_bytes()); // PT_LOAD
    bytes.extend_from_slice(payload);
    bytes
}

/// The binary serving an agent (`serve` and `args`; `MODEL_ID` is Nova Lite unless an agent
/// file says otherwise) in `home`, its model the fake Bedrock, signed with `key`; its log and
/// the key go to the suite's TRACE logs as `log`.
pub(crate) async fn serve_on_fake_bedrock(
    fake: &strands_testkit::bedrock::FakeBedrock,
    home: &std::path::Path,
    key: (&str, &str),
    args: &[&std::ffi::OsStr],
    log: &str,
) -> strands_testkit::served::ServedBinary {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_strands-runtime"));
    command
        .env_clear()
        .env("HOME", home)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", key.0)
        .env("AWS_SECRET_ACCESS_KEY", key.1)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", fake.endpoint_url())
        .env("MODEL_ID", "us.amazon.nova-lite-v1:0")
        .env("LOG_LEVEL", trace_logs::level())
        .arg("serve")
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(trace_logs::stderr(log));
    trace_logs::secret(key.0);
    trace_logs::secret(key.1);
    strands_testkit::served::ServedBinary::start(command)
        .await
        .unwrap()
}
