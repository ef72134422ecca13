//! The accept loop, the connection handling and the metadata routes.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use bytes::BytesMut;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::ImdsMode;
use super::time::rfc3339_after;
use crate::http::response::{Head, linger, write_full};
use crate::http::{Incoming, Limits, RawRequest, read_request};

/// Connections served at once; further ones wait in the listener's backlog.
const MAX_CONNECTIONS: usize = 64;
/// 16 KiB of headers in at most 64 lines; IMDS requests have no body worth more than 64 KiB.
const LIMITS: Limits = Limits {
    server: "fake imds",
    max_header_bytes: 16 * 1024,
    max_headers: 64,
    max_body_bytes: 64 * 1024,
};

const TOKEN_PATH: &str = "/latest/api/token";
const ROLE_LIST_PATH: &str = "/latest/meta-data/iam/security-credentials/";
const ROLE: &str = "agent-role";
const TOKEN_TTL_HEADER: &str = "x-aws-ec2-metadata-token-ttl-seconds";
const TOKEN_HEADER: &str = "x-aws-ec2-metadata-token";
/// The session token handed out in the modes that support IMDSv2.
const SESSION_TOKEN: &str = "fake-imds-v2-session-token";
/// How long the served credentials are valid.
const CREDENTIALS_LIFETIME: Duration = Duration::from_secs(3600);

/// The fixed test credentials served until they are replaced.
const DEFAULT_ACCESS_KEY_ID: &str = "ASIAIMDSFAKE0000001";
const DEFAULT_SECRET_ACCESS_KEY: &str = "imds-secret-access-key/fake/0000000000001";
const DEFAULT_TOKEN: &str = "imds-session-token-fake-0000000001";

/// The role credentials served: `(AccessKeyId, SecretAccessKey, Token)`.
type Keys = (String, String, String);

/// State shared between the handle and the server tasks. No lock is held across an `.await`.
#[derive(Debug)]
pub(super) struct Shared {
    mode: ImdsMode,
    credentials: Mutex<Keys>,
    requests: Mutex<Vec<(String, String, bool)>>,
}

impl Shared {
    pub(super) fn new(mode: ImdsMode) -> Self {
        Self {
            mode,
            credentials: Mutex::new((
                DEFAULT_ACCESS_KEY_ID.to_owned(),
                DEFAULT_SECRET_ACCESS_KEY.to_owned(),
                DEFAULT_TOKEN.to_owned(),
            )),
            requests: Mutex::new(Vec::new()),
        }
    }

    pub(super) fn mode(&self) -> ImdsMode {
        self.mode
    }

    pub(super) fn credentials(&self) -> Keys {
        self.credentials
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub(super) fn set_credentials(&self, access_key_id: &str, secret: &str, token: &str) {
        *self
            .credentials
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = (
            access_key_id.to_owned(),
            secret.to_owned(),
            token.to_owned(),
        );
    }

    pub(super) fn requests(&self) -> Vec<(String, String, bool)> {
        self.requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub(super) fn request_count(&self) -> usize {
        self.requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    fn record(&self, request: &Request) {
        self.requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((
                request.method.clone(),
                request.path.clone(),
                request.header(TOKEN_HEADER).is_some(),
            ));
    }
}

/// Serves connections until the task is aborted.
pub(super) async fn accept_loop(listener: TcpListener, shared: std::sync::Arc<Shared>) {
    crate::http::accept_loop(listener, MAX_CONNECTIONS, |stream| {
        serve_connection(stream, std::sync::Arc::clone(&shared))
    })
    .await;
}

/// One request, as the routes see it.
#[derive(Debug)]
struct Request {
    method: String,
    path: String,
    /// Names lower-cased, in the order received.
    headers: Vec<(String, String)>,
    keep_alive: bool,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

impl From<RawRequest> for Request {
    fn from(raw: RawRequest) -> Self {
        Self {
            method: raw.method,
            path: raw.target,
            headers: raw.headers,
            keep_alive: raw.keep_alive,
        }
    }
}

/// A response to write.
#[derive(Debug)]
struct Response {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: String,
}

impl Response {
    fn new(status: u16, body: impl Into<String>) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: body.into(),
        }
    }
}

async fn serve_connection(mut stream: TcpStream, shared: std::sync::Arc<Shared>) {
    let mut buf = BytesMut::with_capacity(4 * 1024);
    loop {
        let request = match read_request(&mut stream, &mut buf, &LIMITS).await {
            Ok(Incoming::Request(raw)) => Request::from(raw),
            Ok(Incoming::Refused(refusal)) => {
                let response = Response::new(refusal.status, refusal.message);
                let _ = write_response(&mut stream, &response, true).await;
                linger(&mut stream).await;
                return;
            }
            Ok(Incoming::Closed) | Err(_) => return,
        };
        shared.record(&request);
        if shared.mode == ImdsMode::Hang {
            // Never answer; keep the connection open until the client gives up (or the fake is
            // dropped), discarding whatever else it sends.
            let mut scratch = [0_u8; 1024];
            while let Ok(n) = stream.read(&mut scratch).await {
                if n == 0 {
                    break;
                }
            }
            return;
        }
        let response = route(&shared, &request);
        let close = !request.keep_alive;
        if write_response(&mut stream, &response, close).await.is_err() || close {
            break;
        }
    }
    let _ = stream.shutdown().await;
}

/// The answer to `request` in the fake's mode.
fn route(shared: &Shared, request: &Request) -> Response {
    let credentials_path = format!("{ROLE_LIST_PATH}{ROLE}");
    let supports_tokens = matches!(shared.mode, ImdsMode::V2 | ImdsMode::NoRole);
    match (request.method.as_str(), request.path.as_str()) {
        ("PUT", TOKEN_PATH) => match shared.mode {
            ImdsMode::TokenMethodNotAllowed => Response::new(405, "Method Not Allowed"),
            ImdsMode::TokenNotFound => Response::new(404, "Not Found"),
            _ => token_response(request),
        },
        ("GET", path) if path == ROLE_LIST_PATH || path == credentials_path => {
            if supports_tokens && request.header(TOKEN_HEADER) != Some(SESSION_TOKEN) {
                return Response::new(
                    401,
                    "fake imds: IMDSv2 is required; send the token from PUT /latest/api/token in x-aws-ec2-metadata-token",
                );
            }
            if shared.mode == ImdsMode::NoRole {
                return Response::new(404, "Not Found");
            }
            if path == ROLE_LIST_PATH {
                Response::new(200, ROLE)
            } else {
                credentials_response(shared)
            }
        }
        (method, path) => Response::new(
            404,
            format!(
                "fake imds: nothing at {method} {path}; it serves PUT {TOKEN_PATH}, GET {ROLE_LIST_PATH} and GET {credentials_path}"
            ),
        ),
    }
}

/// `PUT /latest/api/token` in IMDSv2 modes: the TTL header is required, as on EC2.
fn token_response(request: &Request) -> Response {
    let ttl = request
        .header(TOKEN_TTL_HEADER)
        .and_then(|value| value.trim().parse::<u32>().ok())
        .filter(|ttl| (1..=21_600).contains(ttl));
    match ttl {
        Some(ttl) => {
            let mut response = Response::new(200, SESSION_TOKEN);
            response.headers.push((TOKEN_TTL_HEADER, ttl.to_string()));
            response
        }
        None => Response::new(
            400,
            format!(
                "fake imds: send {TOKEN_TTL_HEADER} with a whole number of seconds from 1 to 21600"
            ),
        ),
    }
}

/// The role's credentials document.
fn credentials_response(shared: &Shared) -> Response {
    let (access_key_id, secret_access_key, token) = shared.credentials();
    let now = SystemTime::now();
    let body = json!({
        "Code": "Success",
        "LastUpdated": rfc3339_after(now, Duration::ZERO),
        "Type": "AWS-HMAC",
        "AccessKeyId": access_key_id,
        "SecretAccessKey": secret_access_key,
        "Token": token,
        "Expiration": rfc3339_after(now, CREDENTIALS_LIFETIME),
    });
    let mut response = Response::new(200, body.to_string());
    response
        .headers
        .push(("content-type", "application/json".to_owned()));
    response
}

/// Writes `response`: `content-type: text/plain` unless it sets its own, then its headers and
/// its body.
async fn write_response(
    stream: &mut TcpStream,
    response: &Response,
    close: bool,
) -> std::io::Result<()> {
    let mut head = Head::new(response.status);
    if !response
        .headers
        .iter()
        .any(|(name, _)| *name == "content-type")
    {
        head = head.header("content-type", "text/plain");
    }
    for (name, value) in &response.headers {
        head = head.header(name, value);
    }
    write_full(stream, head, response.body.as_bytes(), close).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(method: &str, path: &str, headers: &[(&str, &str)]) -> Request {
        Request {
            method: method.to_owned(),
            path: path.to_owned(),
            headers: headers
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            keep_alive: true,
        }
    }

    #[test]
    fn v2_token_request_without_ttl_is_rejected_with_400() {
        let shared = Shared::new(ImdsMode::V2);
        let response = route(&shared, &request("PUT", TOKEN_PATH, &[]));
        assert_eq!(response.status, 400);
    }

    #[test]
    fn v2_get_with_a_wrong_token_gets_401() {
        let shared = Shared::new(ImdsMode::V2);
        let response = route(
            &shared,
            &request("GET", ROLE_LIST_PATH, &[(TOKEN_HEADER, "forged")]),
        );
        assert_eq!(response.status, 401);
    }

    #[test]
    fn unknown_paths_get_404_naming_what_is_served() {
        let shared = Shared::new(ImdsMode::TokenMethodNotAllowed);
        let response = route(&shared, &request("GET", "/latest/meta-data/ami-id", &[]));
        assert_eq!(response.status, 404);
        assert!(response.body.contains(ROLE_LIST_PATH));
    }

    #[test]
    fn credentials_document_has_the_imds_shape() {
        let shared = Shared::new(ImdsMode::TokenNotFound);
        let response = route(
            &shared,
            &request("GET", &format!("{ROLE_LIST_PATH}{ROLE}"), &[]),
        );
        assert_eq!(response.status, 200);
        let body: serde_json::Value = serde_json::from_str(&response.body).unwrap();
        assert_eq!(body["Code"], "Success");
        assert_eq!(body["AccessKeyId"], DEFAULT_ACCESS_KEY_ID);
        assert_eq!(body["Token"], DEFAULT_TOKEN);
        assert!(body["Expiration"].as_str().unwrap().ends_with('Z'));
    }

    async fn read_one(input: &[u8]) -> Incoming {
        use tokio::io::AsyncWriteExt as _;
        let (mut client, mut server) = tokio::io::duplex(1 << 20);
        client.write_all(input).await.unwrap();
        drop(client);
        read_request(&mut server, &mut BytesMut::new(), &LIMITS)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn oversized_and_malformed_heads_are_refused() {
        let status = |incoming: Incoming| match incoming {
            Incoming::Refused(refusal) => Some(refusal.status),
            _ => None,
        };
        let mut big = b"GET / HTTP/1.1\r\nx-big: ".to_vec();
        big.extend(std::iter::repeat_n(b'a', LIMITS.max_header_bytes + 1));
        assert_eq!(status(read_one(&big).await), Some(431));
        assert_eq!(
            status(read_one(b"\x01\x02 nonsense\r\n\r\n").await),
            Some(400)
        );
        assert_eq!(
            status(read_one(b"PUT / HTTP/1.1\r\ncontent-length: 999999999\r\n\r\n").await),
            Some(413)
        );
        assert!(matches!(
            read_one(b"GET / HTTP/1.1\r\nhost").await,
            Incoming::Closed
        ));
    }
}
