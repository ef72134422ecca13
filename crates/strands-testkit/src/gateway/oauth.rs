//! The fake Gateway's OAuth side, as a Gateway with a JWT inbound authorizer (e.g. Cognito)
//! and the MCP authorization spec present it: a 401 challenge naming the protected resource
//! metadata, the authorization server's metadata, and a token endpoint taking the
//! `client_credentials` grant with `client_secret_basic`. Tokens expire; they can be revoked.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::json;

use super::Answer;
use crate::http::RawRequest;

/// The path of the protected resource metadata (RFC 9728, path-based for `/mcp`).
const RESOURCE_METADATA: &str = "/.well-known/oauth-protected-resource/mcp";
/// The path of the authorization server metadata (RFC 8414).
const SERVER_METADATA: &str = "/.well-known/oauth-authorization-server";
const TOKEN: &str = "/token";

/// A request to the OAuth side: metadata or token.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OAuthRequest {
    /// The path requested.
    pub path: String,
    /// A token request's form fields, decoded.
    pub form: BTreeMap<String, String>,
    /// A token request's Basic credentials, decoded: `client_id:client_secret`.
    pub basic: Option<String>,
}

#[derive(Debug)]
pub(super) struct OAuthServer {
    client_id: String,
    client_secret: String,
    lifetime: Duration,
    /// Tokens issued and when they expire.
    issued: Vec<(String, Instant)>,
    /// How many tokens were issued, ever.
    count: usize,
    pub(super) requests: Vec<OAuthRequest>,
}

impl OAuthServer {
    pub(super) fn new(client_id: &str, client_secret: &str, lifetime: Duration) -> Self {
        Self {
            client_id: client_id.to_owned(),
            client_secret: client_secret.to_owned(),
            lifetime,
            issued: Vec::new(),
            count: 0,
            requests: Vec::new(),
        }
    }

    /// Forgets every token issued (a revocation).
    pub(super) fn revoke(&mut self) {
        self.issued.clear();
    }

    /// The answer to a metadata or token request; `None` for other paths.
    pub(super) fn route(&mut self, origin: &str, request: &RawRequest) -> Option<Answer> {
        let path = request.target.split('?').next().unwrap_or_default();
        let answer = match (request.method.as_str(), path) {
            ("GET", RESOURCE_METADATA) => Answer::Json(json!({
                "resource": format!("{origin}/mcp"),
                "authorization_servers": [origin],
                "scopes_supported": ["gateway:invoke"],
            })),
            ("GET", SERVER_METADATA) => Answer::Json(json!({
                "issuer": origin,
                "token_endpoint": format!("{origin}{TOKEN}"),
                "grant_types_supported": ["client_credentials"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic"],
                "response_types_supported": ["token"],
            })),
            ("POST", TOKEN) => self.token(request),
            ("GET", _) if path.starts_with("/.well-known/") => {
                Answer::Status(404, "no such metadata".to_owned())
            }
            _ => return None,
        };
        if path != TOKEN {
            self.requests.push(OAuthRequest {
                path: path.to_owned(),
                form: BTreeMap::new(),
                basic: None,
            });
        }
        Some(answer)
    }

    /// The challenge for a request to `/mcp` without a valid token; `None` when it has one.
    pub(super) fn challenge(&self, origin: &str, request: &RawRequest) -> Option<String> {
        let now = Instant::now();
        let presented = request
            .header("authorization")
            .and_then(|v| v.strip_prefix("Bearer "));
        let valid = presented.is_some_and(|token| {
            self.issued
                .iter()
                .any(|(issued, expires)| issued == token && now < *expires)
        });
        (!valid).then(|| {
            format!(
                r#"Bearer error="invalid_token", resource_metadata="{origin}{RESOURCE_METADATA}""#
            )
        })
    }

    fn token(&mut self, request: &RawRequest) -> Answer {
        let form = parse_form(&request.body);
        let basic = request
            .header("authorization")
            .and_then(|v| v.strip_prefix("Basic "))
            .and_then(|encoded| aws_smithy_types::base64::decode(encoded).ok())
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .map(|pair| {
                pair.split_once(':').map_or_else(
                    || pair.clone(),
                    |(id, secret)| format!("{}:{}", decode(id), decode(secret)),
                )
            });
        self.requests.push(OAuthRequest {
            path: TOKEN.to_owned(),
            form: form.clone(),
            basic: basic.clone(),
        });
        if form.get("grant_type").map(String::as_str) != Some("client_credentials") {
            return oauth_error(400, "unsupported_grant_type");
        }
        let expected = format!("{}:{}", self.client_id, self.client_secret);
        if basic.as_deref() != Some(expected.as_str()) {
            return oauth_error(401, "invalid_client");
        }
        self.count += 1;
        let token = format!("gw-token-{}", self.count);
        self.issued
            .push((token.clone(), Instant::now() + self.lifetime));
        Answer::Json(json!({
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": self.lifetime.as_secs(),
        }))
    }
}

fn oauth_error(status: u16, code: &str) -> Answer {
    Answer::JsonStatus(
        status,
        json!({"error": code, "error_description": "refused by the fake Gateway"}),
    )
}

/// An `application/x-www-form-urlencoded` body.
fn parse_form(body: &[u8]) -> BTreeMap<String, String> {
    String::from_utf8_lossy(body)
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(key), decode(value))
        })
        .collect()
}

/// Percent-decoding, with `+` as a space (form encoding).
fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while let Some(&byte) = bytes.get(index) {
        let hex = bytes
            .get(index + 1..index + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (byte, hex) {
            (b'%', Some(decoded)) => {
                out.push(decoded);
                index += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                index += 1;
            }
            _ => {
                out.push(byte);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_are_decoded() {
        let form =
            parse_form(b"grant_type=client_credentials&scope=a+b&resource=http%3A%2F%2Fx%2Fmcp");
        assert_eq!(form["scope"], "a b");
        assert_eq!(form["resource"], "http://x/mcp");
        assert_eq!(decode("100%"), "100%");
    }
}
