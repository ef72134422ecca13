//! The request context AgentCore passes in headers: session and request ids, workload identity,
//! OAuth callback, and the headers a handler may see.
//!
//! Python: `bedrock_agentcore.runtime.context.RequestContext` and
//! `BedrockAgentCoreApp._build_request_context`.

use std::fmt;

use http::HeaderMap;
use indexmap::IndexMap;

/// `X-Amzn-Bedrock-AgentCore-Runtime-Session-Id`.
pub const SESSION_HEADER: &str = "x-amzn-bedrock-agentcore-runtime-session-id";
/// `X-Amzn-Bedrock-AgentCore-Runtime-Request-Id`.
pub const REQUEST_ID_HEADER: &str = "x-amzn-bedrock-agentcore-runtime-request-id";
/// The actor (user) an invocation is for: `InvokeAgentRuntime`'s `runtimeUserId`.
pub const USER_ID_HEADER: &str = "x-amzn-bedrock-agentcore-runtime-user-id";
/// `WorkloadAccessToken`.
pub const ACCESS_TOKEN_HEADER: &str = "workloadaccesstoken";
/// `X-Amz-Bedrock-AgentCore-Identity-WAT` (wins over `WorkloadAccessToken`).
pub const IDENTITY_WAT_HEADER: &str = "x-amz-bedrock-agentcore-identity-wat";
/// `OAuth2CallbackUrl`.
pub const OAUTH2_CALLBACK_URL_HEADER: &str = "oauth2callbackurl";
/// Prefix of custom headers AgentCore forwards to the container.
pub const CUSTOM_HEADER_PREFIX: &str = "x-amzn-bedrock-agentcore-runtime-custom-";

/// AgentCore session and request ids are at most this many characters.
pub const MAX_ID_LEN: usize = 256;

/// `400` for a session or request id longer than AgentCore allows: ids are logged and kept
/// per session, so they are bounded before anything else reads them.
pub(crate) fn oversized_id(headers: &HeaderMap) -> Option<axum::response::Response> {
    for (name, shown) in [
        (
            SESSION_HEADER,
            "X-Amzn-Bedrock-AgentCore-Runtime-Session-Id",
        ),
        (
            REQUEST_ID_HEADER,
            "X-Amzn-Bedrock-AgentCore-Runtime-Request-Id",
        ),
    ] {
        let Some(value) = headers.get(name) else {
            continue;
        };
        if value.len() > MAX_ID_LEN {
            tracing::warn!(target: "bedrock_agentcore.app", "Rejected a {shown} of {} bytes", value.len());
            return Some(crate::wire::error_with_details(
                http::StatusCode::BAD_REQUEST,
                "Invalid header",
                &format!(
                    "{shown} is {} bytes long; AgentCore ids have at most {MAX_ID_LEN} characters",
                    value.len()
                ),
            ));
        }
    }
    None
}

/// Everything a handler learns about its request besides the payload.
///
/// Token values are hidden from `Debug`.
///
/// Python: `RequestContext` plus `BedrockAgentCoreContext` (request id, workload access token,
/// OAuth2 callback URL).
#[derive(Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RequestContext {
    /// The runtime session id (`None` when the header is absent; may be empty).
    pub session_id: Option<String>,
    /// The request id from the header, or a fresh UUID4 when absent or empty.
    pub request_id: String,
    /// The actor the invocation is for: `X-Amzn-Bedrock-AgentCore-Runtime-User-Id` (the
    /// `runtimeUserId` of `InvokeAgentRuntime`), if sent and not empty.
    pub user_id: Option<String>,
    /// The workload access token (identity), if sent.
    pub workload_access_token: Option<String>,
    /// The OAuth2 callback URL, if sent.
    pub oauth2_callback_url: Option<String>,
    /// Headers forwarded to the handler by Python's rules (`Authorization` with canonical casing,
    /// others lower-cased); `None` when there are none.
    pub request_headers: Option<IndexMap<String, String>>,
}

impl fmt::Debug for RequestContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hidden = |v: &Option<String>| v.as_ref().map(|_| "(set, hidden)");
        f.debug_struct("RequestContext")
            .field("session_id", &self.session_id)
            .field("request_id", &self.request_id)
            .field("user_id", &self.user_id)
            .field(
                "workload_access_token",
                &hidden(&self.workload_access_token),
            )
            .field("oauth2_callback_url", &self.oauth2_callback_url)
            .field(
                "request_headers",
                &self
                    .request_headers
                    .as_ref()
                    .map(|h| h.keys().collect::<Vec<_>>()),
            )
            .finish()
    }
}

tokio::task_local! {
    static CURRENT: std::sync::Arc<RequestContext>;
}

impl RequestContext {
    /// The context of the invocation running on this task, if any: available to entrypoints and
    /// to everything they call, such as an agent's tools (Python: `BedrockAgentCoreContext`).
    ///
    /// ```
    /// use strands_runtime::RequestContext;
    ///
    /// // Outside an invocation there is none.
    /// assert!(RequestContext::current().is_none());
    /// ```
    pub fn current() -> Option<std::sync::Arc<RequestContext>> {
        CURRENT.try_with(std::sync::Arc::clone).ok()
    }

    /// Runs `future` with this context as [`RequestContext::current`], as the server runs an
    /// invocation: for tests, and for servers of your own (Python:
    /// `BedrockAgentCoreContext.set_request_context`).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use strands_runtime::RequestContext;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let mut headers = http::HeaderMap::new();
    /// headers.insert("x-amzn-bedrock-agentcore-runtime-user-id", "alice".parse().unwrap());
    /// let context = Arc::new(RequestContext::from_headers(&headers));
    /// let user = context
    ///     .scope(async { RequestContext::current().and_then(|c| c.user_id.clone()) })
    ///     .await;
    /// assert_eq!(user.as_deref(), Some("alice"));
    /// # }
    /// ```
    pub fn scope<F: std::future::Future>(
        self: std::sync::Arc<Self>,
        future: F,
    ) -> impl std::future::Future<Output = F::Output> {
        CURRENT.scope(self, future)
    }

    /// Polls with this context as [`RequestContext::current`] (for streams polled by the server).
    pub(crate) fn sync_scope<R>(self: &std::sync::Arc<Self>, f: impl FnOnce() -> R) -> R {
        CURRENT.sync_scope(self.clone(), f)
    }

    /// Builds the context from request headers, exactly as Python does.
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let get = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let request_id = get(REQUEST_ID_HEADER)
            .filter(|id| !id.is_empty())
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let workload_access_token = get(IDENTITY_WAT_HEADER)
            .filter(|t| !t.is_empty())
            .or_else(|| get(ACCESS_TOKEN_HEADER).filter(|t| !t.is_empty()));
        let mut forwarded = IndexMap::new();
        for (name, value) in headers {
            let Ok(value) = value.to_str() else { continue };
            let name = name.as_str();
            if name == "authorization" {
                forwarded.insert("Authorization".to_owned(), value.to_owned());
            } else if is_forwardable_header(name) {
                forwarded.insert(name.to_owned(), value.to_owned());
            }
        }
        Self {
            session_id: get(SESSION_HEADER),
            request_id,
            user_id: get(USER_ID_HEADER).filter(|id| !id.is_empty()),
            workload_access_token,
            oauth2_callback_url: get(OAUTH2_CALLBACK_URL_HEADER),
            request_headers: (!forwarded.is_empty()).then_some(forwarded),
        }
    }
}

/// Whether a header may be forwarded to handler code (Python's `is_forwardable_header`): not a
/// restricted header, no `x-amz-` prefix except the identity WAT header, and no `x-amzn-` prefix
/// except the custom-header prefix.
pub fn is_forwardable_header(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    if RESTRICTED_HEADERS.contains(&lower.as_str()) {
        return false;
    }
    if lower.starts_with("x-amz-") {
        return lower == IDENTITY_WAT_HEADER;
    }
    !lower.starts_with("x-amzn-") || lower.starts_with(CUSTOM_HEADER_PREFIX)
}

/// Python's `RESTRICTED_HEADERS` (bedrock-agentcore 1.25), lower-cased.
const RESTRICTED_HEADERS: &[&str] = &[
    "proxy-authorization",
    "www-authenticate",
    "accept",
    "accept-charset",
    "accept-encoding",
    "accept-language",
    "content-type",
    "content-length",
    "content-encoding",
    "content-language",
    "content-location",
    "content-range",
    "cache-control",
    "etag",
    "expires",
    "if-match",
    "if-modified-since",
    "if-none-match",
    "if-range",
    "if-unmodified-since",
    "last-modified",
    "pragma",
    "vary",
    "connection",
    "keep-alive",
    "proxy-connection",
    "upgrade",
    "host",
    "user-agent",
    "referer",
    "from",
    "range",
    "accept-ranges",
    "transfer-encoding",
    "te",
    "trailer",
    "server",
    "date",
    "location",
    "retry-after",
    "set-cookie",
    "cookie",
    "content-security-policy",
    "content-security-policy-report-only",
    "strict-transport-security",
    "x-content-type-options",
    "x-frame-options",
    "x-xss-protection",
    "referrer-policy",
    "permissions-policy",
    "cross-origin-embedder-policy",
    "cross-origin-opener-policy",
    "cross-origin-resource-policy",
    "access-control-allow-origin",
    "access-control-allow-methods",
    "access-control-allow-headers",
    "access-control-allow-credentials",
    "access-control-expose-headers",
    "access-control-max-age",
    "access-control-request-method",
    "access-control-request-headers",
    "origin",
    "accept-ch",
    "accept-ch-lifetime",
    "dpr",
    "width",
    "viewport-width",
    "downlink",
    "ect",
    "rtt",
    "save-data",
    "clear-site-data",
    "feature-policy",
    "expect-ct",
    "public-key-pins",
    "public-key-pins-report-only",
    "via",
    "forwarded",
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-proto",
    "x-real-ip",
    "x-requested-with",
    "x-csrf-token",
    "true-client-ip",
    "x-client-ip",
    "x-cluster-client-ip",
    "x-originating-ip",
    "x-source-ip",
    "x-original-url",
    "x-original-host",
    "x-rewrite-url",
    "cf-ray",
    "cf-connecting-ip",
    "x-amz-cf-id",
    "x-cache",
    "x-served-by",
    ":method",
    ":path",
    ":scheme",
    ":authority",
    ":status",
    "link",
    "sec-websocket-key",
    "sec-websocket-accept",
    "sec-websocket-version",
    "sec-websocket-protocol",
    "sec-websocket-extensions",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.append(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                http::HeaderValue::from_str(v).unwrap(),
            );
        }
        map
    }

    #[test]
    fn forwarding_follows_python_rules() {
        let ctx = RequestContext::from_headers(&headers(&[
            ("X-Amzn-Bedrock-AgentCore-Runtime-Session-Id", "sess-1234"),
            ("X-Amzn-Bedrock-AgentCore-Runtime-Request-Id", "req-1"),
            ("WorkloadAccessToken", "wat-abc"),
            ("OAuth2CallbackUrl", "https://cb"),
            ("AUTHORIZATION", "Bearer xyz"),
            ("X-Amzn-Bedrock-AgentCore-Runtime-Custom-Foo", "bar"),
            ("X-Amzn-Bedrock-AgentCore-Runtime-Custom", "dropped"),
            ("X-Amzn-Trace-Id", "Root=1-abc"),
            ("X-Amz-Date", "20261124T000000Z"),
            ("X-Other", ""),
            ("Content-Type", "application/json"),
            ("baggage", "a=b"),
        ]));
        assert_eq!(ctx.session_id.as_deref(), Some("sess-1234"));
        assert_eq!(ctx.request_id, "req-1");
        assert_eq!(ctx.workload_access_token.as_deref(), Some("wat-abc"));
        let forwarded: Vec<(&str, &str)> = ctx
            .request_headers
            .as_ref()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            forwarded,
            [
                ("workloadaccesstoken", "wat-abc"),
                ("oauth2callbackurl", "https://cb"),
                ("Authorization", "Bearer xyz"),
                ("x-amzn-bedrock-agentcore-runtime-custom-foo", "bar"),
                ("x-other", ""),
                ("baggage", "a=b"),
            ]
        );
        assert!(!format!("{ctx:?}").contains("wat-abc"));
    }

    #[test]
    fn missing_ids_and_restricted_only_headers() {
        let ctx = RequestContext::from_headers(&headers(&[
            ("X-Amzn-Bedrock-AgentCore-Runtime-Request-Id", ""),
            ("Accept", "text/event-stream"),
        ]));
        assert_eq!(ctx.session_id, None);
        assert_eq!(ctx.request_id.len(), 36);
        assert_eq!(ctx.request_headers, None);
    }

    #[test]
    fn the_identity_wat_header_wins() {
        let ctx = RequestContext::from_headers(&headers(&[
            ("WorkloadAccessToken", "old"),
            ("X-Amz-Bedrock-AgentCore-Identity-WAT", "new"),
        ]));
        assert_eq!(ctx.workload_access_token.as_deref(), Some("new"));
        assert!(
            ctx.request_headers
                .unwrap()
                .contains_key("x-amz-bedrock-agentcore-identity-wat")
        );
    }
}
