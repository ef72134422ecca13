//! `http_request`: one HTTP request to an allowed host.
//!
//! Python: `strands.vended_tools.http_request` (1.62): the same name, arguments (`method`, `url`,
//! `headers`, `body`, `timeout`) and answer (`{"status": ..., "status_text": ..., "headers":
//! {...}, "body": "..."}` as `json.dumps` writes it; a status of 400 or more is an error). Python's
//! tool reaches any URL; this one reaches only the hosts it is given, refuses private and
//! link-local addresses (the metadata service among them) unless a host is named exactly, and
//! bounds the time and the body it reads.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use indexmap::IndexMap;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use serde::{Deserialize, Serialize};
use serde_json::json;
use strands_core::{Tool, ToolContext, ToolSpec, ToolStream, ToolUse};

/// Default and upper bound of the model's `timeout`.
const DEFAULT_MAX_TIMEOUT: Duration = Duration::from_secs(30);
/// Default bound on the response body read.
const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;
/// Redirects followed, each to an allowed host.
const MAX_REDIRECTS: usize = 10;

/// The hosts the tool may reach.
#[derive(Debug, Clone)]
struct HostPolicy {
    /// Lower-cased entries: `api.example.com`, `*.example.com`, or `*`.
    allowed: Vec<String>,
    /// Whether hosts matched only by a wildcard may resolve to non-public addresses.
    private_networks: bool,
}

impl HostPolicy {
    fn allows(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.allowed
            .iter()
            .any(|entry| match entry.strip_prefix("*.") {
                Some(domain) => host
                    .strip_suffix(domain)
                    .is_some_and(|rest| rest.ends_with('.') && rest.len() > 1),
                None => entry == "*" || *entry == host,
            })
    }

    /// Whether `host` may resolve to non-public addresses: it is named exactly, or private
    /// networks are allowed.
    fn allows_private(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.private_networks || self.allowed.contains(&host)
    }

    /// Checks `url` before it is requested (also each redirect's target).
    fn check(&self, url: &reqwest::Url) -> Result<(), String> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!(
                "Only http and https URLs are supported, not {}",
                url.scheme()
            ));
        }
        let Some(host) = url.host_str() else {
            return Err("The URL has no host".to_owned());
        };
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        if !self.allows(bare) {
            return Err(format!(
                "{bare} is not an allowed host; allowed: {}",
                self.allowed.join(", ")
            ));
        }
        if let Ok(ip) = bare.parse::<IpAddr>()
            && !is_public(ip)
            && !self.allows_private(bare)
        {
            return Err(format!("{bare} is not a public address"));
        }
        Ok(())
    }
}

/// Whether `ip` is a public unicast address (not loopback, private, link-local, shared,
/// multicast, documentation, reserved or unspecified).
fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_unspecified()
                || v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.is_multicast()
                || a == 0
                || a >= 240
                || (a == 100 && (64..128).contains(&b))
                || (a == 192 && b == 0 && v4.octets()[2] == 0)
                || (a == 198 && (18..20).contains(&b)))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_unspecified()
                || v6.is_loopback()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || (first == 0x2001 && v6.segments()[1] == 0x0db8)
                || (first == 0x0064 && v6.segments()[1] == 0xff9b))
        }
    }
}

/// Resolves names with the system resolver and drops the addresses a host may not reach, so a
/// name that resolves to the metadata service (or rebinding to it) is refused at connect time.
struct GuardedResolver {
    policy: Arc<HostPolicy>,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let private = policy.allows_private(&host);
            let kept: Vec<SocketAddr> = addrs
                .into_iter()
                .filter(|a| private || is_public(a.ip()))
                .collect();
            if kept.is_empty() {
                return Err(format!("{host} resolves to no public address").into());
            }
            Ok(Box::new(kept.into_iter()) as Addrs)
        })
    }
}

/// `http_request`: makes HTTP requests to the hosts it is given.
///
/// ```
/// use strands_agent::vended_tools::HttpRequest;
///
/// let http = HttpRequest::new(["api.github.com", "*.example.com"])?;
/// # drop(http);
/// # Ok::<(), strands_agent::vended_tools::HttpRequestError>(())
/// ```
#[derive(Clone)]
pub struct HttpRequest {
    client: reqwest::Client,
    policy: Arc<HostPolicy>,
    spec: ToolSpec,
    max_timeout: Duration,
    max_body_bytes: usize,
}

impl fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpRequest")
            .field("allowed_hosts", &self.policy.allowed)
            .field("private_networks", &self.policy.private_networks)
            .field("max_timeout", &self.max_timeout)
            .field("max_body_bytes", &self.max_body_bytes)
            .finish_non_exhaustive()
    }
}

/// An `http_request` tool that cannot be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HttpRequestError {
    /// An allowed-host entry is not a host name, `*.domain` or `*`.
    #[error("{entry:?} is not a host name, *.domain or *")]
    InvalidHost {
        /// The entry.
        entry: String,
    },
    /// No host is allowed.
    #[error("no host is allowed; name at least one (or \"*\" for any public host)")]
    NoHosts,
    /// The HTTP client could not be built (the TLS roots could not be loaded).
    #[error("the HTTP client could not be built: {0}")]
    Client(#[source] reqwest::Error),
}

impl HttpRequest {
    /// A tool reaching `hosts`: exact names (`api.github.com`, `10.0.0.5`), subdomains
    /// (`*.example.com`) or any public host (`*`). Hosts matched only by a wildcard must resolve
    /// to public addresses; a host named exactly may be private.
    ///
    /// # Errors
    ///
    /// An entry is not a host, or no host is given.
    pub fn new<I, S>(hosts: I) -> Result<Self, HttpRequestError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut allowed = Vec::new();
        for entry in hosts {
            let entry = entry.as_ref().trim().to_ascii_lowercase();
            let name = entry.strip_prefix("*.").unwrap_or(&entry);
            let valid = entry == "*"
                || (!name.is_empty()
                    && name.len() <= 253
                    && name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':')));
            if !valid {
                return Err(HttpRequestError::InvalidHost { entry });
            }
            allowed.push(entry);
        }
        if allowed.is_empty() {
            return Err(HttpRequestError::NoHosts);
        }
        Self::build(HostPolicy {
            allowed,
            private_networks: false,
        })
        .map(|tool| tool.with_limits(DEFAULT_MAX_TIMEOUT, DEFAULT_MAX_BODY_BYTES))
    }

    /// Lets hosts matched by a wildcard (or `*`) resolve to private, loopback and link-local
    /// addresses too (default: refused).
    ///
    /// # Errors
    ///
    /// The HTTP client could not be rebuilt.
    pub fn allow_private_networks(self) -> Result<Self, HttpRequestError> {
        let (max_timeout, max_body_bytes) = (self.max_timeout, self.max_body_bytes);
        Self::build(HostPolicy {
            allowed: self.policy.allowed.clone(),
            private_networks: true,
        })
        .map(|tool| tool.with_limits(max_timeout, max_body_bytes))
    }

    /// The longest a request may take (default 30 s; also the `timeout` when the model sends
    /// none) and the most body bytes read (default 1 MiB; the rest is cut with a note).
    #[must_use]
    pub fn with_limits(mut self, max_timeout: Duration, max_body_bytes: usize) -> Self {
        self.max_timeout = max_timeout;
        self.max_body_bytes = max_body_bytes;
        self.spec = spec(&self.policy, max_timeout);
        self
    }

    fn build(policy: HostPolicy) -> Result<Self, HttpRequestError> {
        let policy = Arc::new(policy);
        let redirects = policy.clone();
        let client = reqwest::Client::builder()
            .dns_resolver(Arc::new(GuardedResolver {
                policy: policy.clone(),
            }))
            .redirect(reqwest::redirect::Policy::custom(move |attempt| {
                if attempt.previous().len() >= MAX_REDIRECTS {
                    attempt.error(format!("more than {MAX_REDIRECTS} redirects"))
                } else if let Err(reason) = redirects.check(attempt.url()) {
                    attempt.error(format!("redirect refused: {reason}"))
                } else {
                    attempt.follow()
                }
            }))
            .no_proxy()
            .build()
            .map_err(HttpRequestError::Client)?;
        Ok(Self {
            client,
            spec: spec(&policy, DEFAULT_MAX_TIMEOUT),
            policy,
            max_timeout: DEFAULT_MAX_TIMEOUT,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        })
    }

    async fn request(&self, input: Input) -> Result<Output, String> {
        let url = reqwest::Url::parse(&input.url).map_err(|e| format!("Invalid URL: {e}"))?;
        self.policy.check(&url)?;
        let timeout = match input.timeout {
            Some(t) if !(t.is_finite() && t > 0.0) => {
                return Err("timeout must be positive".to_owned());
            }
            Some(t) => Duration::from_secs_f64(t).min(self.max_timeout),
            None => self.max_timeout,
        };
        let method = reqwest::Method::from_bytes(input.method.as_bytes())
            .map_err(|_| format!("Unsupported method {}", input.method))?;
        let mut request = self.client.request(method.clone(), url.clone());
        for (name, value) in input.headers.unwrap_or_default() {
            request = request.header(name, value);
        }
        if let Some(body) = input.body {
            request = request.body(body);
        }
        tracing::debug!(tool = "http_request", %method, host = url.host_str().unwrap_or(""), "request");
        let exchange = async {
            let mut response = request.send().await.map_err(|e| describe(&e))?;
            let status = response.status();
            if status.as_u16() >= 400 {
                return Err(format!(
                    "HTTP {} {}: {method} {url}",
                    status.as_u16(),
                    status.canonical_reason().unwrap_or("")
                ));
            }
            let headers = response_headers(response.headers());
            let body = read_body(&mut response, self.max_body_bytes).await?;
            Ok(Output {
                status: status.as_u16(),
                status_text: status.canonical_reason().unwrap_or("").to_owned(),
                headers,
                body,
            })
        };
        tokio::time::timeout(timeout, exchange)
            .await
            .unwrap_or_else(|_| {
                Err(format!(
                    "Request timed out after {} seconds",
                    timeout.as_secs_f64()
                ))
            })
    }
}

/// Python's `HttpRequestError` texts, with the cause's chain (reqwest's own text is terse).
fn describe(error: &reqwest::Error) -> String {
    let chain = strands_core::error_chain(error);
    if error.is_timeout() {
        format!("Request timed out: {chain}")
    } else if error.is_redirect() {
        format!("Too many redirects: {chain}")
    } else {
        format!("Request failed: {chain}")
    }
}

/// Headers with lower-cased names; repeated headers joined by a newline (Python's).
fn response_headers(headers: &reqwest::header::HeaderMap) -> IndexMap<String, String> {
    let mut out: IndexMap<String, String> = IndexMap::new();
    for (name, value) in headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        out.entry(name.as_str().to_owned())
            .and_modify(|existing| {
                existing.push('\n');
                existing.push_str(&value);
            })
            .or_insert(value);
    }
    out
}

/// At most `limit` bytes of the body, as UTF-8 (invalid bytes replaced), with a note when cut.
async fn read_body(response: &mut reqwest::Response, limit: usize) -> Result<String, String> {
    let mut body = Vec::new();
    let mut cut = false;
    while let Some(chunk) = response.chunk().await.map_err(|e| describe(&e))? {
        let room = limit.saturating_sub(body.len());
        if chunk.len() > room {
            body.extend_from_slice(chunk.get(..room).unwrap_or_default());
            cut = true;
            break;
        }
        body.extend_from_slice(&chunk);
    }
    let mut text = String::from_utf8_lossy(&body).into_owned();
    if cut {
        text.push_str(&format!("\n[the body was cut at {limit} bytes]"));
    }
    Ok(text)
}

fn spec(policy: &HostPolicy, max_timeout: Duration) -> ToolSpec {
    let description = format!(
        "Makes HTTP requests to external APIs. Supports GET, POST, PUT, DELETE, PATCH, HEAD, and OPTIONS methods. Returns response with status, headers, and body. Allowed hosts: {}.",
        policy.allowed.join(", ")
    );
    let schema = json!({
        "properties": {
            "method": {
                "description": "HTTP method (``GET``, ``POST``, ``PUT``, ``DELETE``,\n``PATCH``, ``HEAD``, ``OPTIONS``).",
                "enum": ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"],
                "type": "string"
            },
            "url": {"description": "Absolute URL to request.", "type": "string"},
            "headers": {"default": null, "description": "Optional request headers.", "type": "object"},
            "body": {"default": null, "description": "Optional request body as a string.", "type": "string"},
            "timeout": {
                "default": null,
                "description": format!("Optional per-request timeout in seconds, at most {}.", max_timeout.as_secs_f64()),
                "type": "number"
            }
        },
        "required": ["method", "url"],
        "type": "object"
    });
    ToolSpec::new("http_request", description, schema)
}

/// The model's arguments.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Input {
    method: String,
    url: String,
    headers: Option<IndexMap<String, String>>,
    body: Option<String>,
    timeout: Option<f64>,
}

/// Python's `HttpRequestOutput`.
#[derive(Serialize)]
struct Output {
    status: u16,
    status_text: String,
    headers: IndexMap<String, String>,
    body: String,
}

impl Tool for HttpRequest {
    fn spec(&self) -> &ToolSpec {
        &self.spec
    }

    fn stream(&self, tool_use: ToolUse, context: ToolContext) -> ToolStream<'_> {
        super::json_answer(tool_use, context, "HttpRequestError - ", |input: Input| {
            self.request(input)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(hosts: &[&str], private: bool) -> HostPolicy {
        HostPolicy {
            allowed: hosts.iter().map(|h| (*h).to_owned()).collect(),
            private_networks: private,
        }
    }

    #[test]
    fn hosts_match_exactly_or_as_subdomains() {
        let p = policy(&["api.github.com", "*.example.com"], false);
        assert!(p.allows("api.github.com"));
        assert!(p.allows("API.GitHub.com."));
        assert!(!p.allows("github.com"));
        assert!(!p.allows("api.github.com.evil.net"));
        assert!(p.allows("a.example.com"));
        assert!(p.allows("a.b.example.com"));
        assert!(!p.allows("example.com"));
        assert!(!p.allows("badexample.com"));
        assert!(policy(&["*"], false).allows("anything.net"));
    }

    #[test]
    fn private_addresses_need_an_exact_entry_or_the_switch() {
        let any = policy(&["*"], false);
        for url in [
            "http://169.254.169.254/latest/meta-data/",
            "http://127.0.0.1:8080/",
            "http://10.1.2.3/",
            "http://[::1]/",
            "http://[fd00:ec2::254]/",
            "http://[::ffff:169.254.169.254]/",
            "http://100.64.0.1/",
            "http://0.0.0.0/",
        ] {
            let error = any.check(&url.parse().unwrap()).unwrap_err();
            assert!(error.ends_with("is not a public address"), "{url}: {error}");
        }
        assert!(
            any.check(&"https://93.184.215.14/".parse().unwrap())
                .is_ok()
        );
        assert!(
            policy(&["127.0.0.1"], false)
                .check(&"http://127.0.0.1:9/".parse().unwrap())
                .is_ok()
        );
        assert!(
            policy(&["*"], true)
                .check(&"http://10.0.0.1/".parse().unwrap())
                .is_ok()
        );
        let error = any
            .check(&"file:///etc/passwd".parse().unwrap())
            .unwrap_err();
        assert_eq!(error, "Only http and https URLs are supported, not file");
    }

    #[test]
    fn bad_entries_and_an_empty_list_are_refused() {
        assert!(matches!(
            HttpRequest::new(["http://x.com"]),
            Err(HttpRequestError::InvalidHost { .. })
        ));
        assert!(matches!(
            HttpRequest::new(Vec::<String>::new()),
            Err(HttpRequestError::NoHosts)
        ));
    }
}
