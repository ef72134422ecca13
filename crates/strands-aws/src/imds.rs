//! The instance role's credentials from the EC2 / AgentCore microVM metadata service: IMDSv2
//! when it works, tokenless IMDSv1 when the token request is refused (as AgentCore's MMDS does).

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{self, ProvideCredentials};
use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format;
use serde_json::Value;
use tokio::sync::Mutex;
use tokio::time::{Instant, timeout_at};

/// The link-local metadata endpoint on EC2 and in AgentCore microVMs.
const DEFAULT_ENDPOINT: &str = "http://169.254.169.254";
/// The endpoint when `AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE=IPv6`.
const IPV6_ENDPOINT: &str = "http://[fd00:ec2::254]";
/// The default timeout of each request (connect and read).
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1);
/// A whole `provide_credentials` call may take this many request timeouts.
const REQUESTS_PER_CALL: u32 = 3;
/// Cached credentials are refreshed this long before they expire.
const REFRESH_BEFORE_EXPIRY: Duration = Duration::from_secs(5 * 60);
/// The largest metadata response read; the credentials document is well under 2 KiB.
const MAX_BODY_BYTES: usize = 64 * 1024;

const TOKEN_PATH: &str = "/latest/api/token";
const ROLE_LIST_PATH: &str = "/latest/meta-data/iam/security-credentials/";
const TOKEN_TTL_HEADER: &str = "x-aws-ec2-metadata-token-ttl-seconds";
const TOKEN_HEADER: &str = "x-aws-ec2-metadata-token";
const TOKEN_TTL_SECONDS: &str = "21600";
const PROVIDER_NAME: &str = "IMDS";

const ENV_DISABLED: &str = "AWS_EC2_METADATA_DISABLED";
const ENV_ENDPOINT: &str = "AWS_EC2_METADATA_SERVICE_ENDPOINT";
const ENV_ENDPOINT_MODE: &str = "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE";

/// Credentials of the role attached to this EC2 instance or Amazon Bedrock AgentCore microVM,
/// read from the instance metadata service.
///
/// It asks for an IMDSv2 session token first (`PUT /latest/api/token`) and uses it when granted;
/// when the token request is answered `403`, `404` or `405` (AgentCore's MicroVM Metadata
/// Service answers `405`), or with no token, it falls back to tokenless IMDSv1 requests, as
/// botocore and the Java and Go SDKs do. The Rust SDK's own IMDS provider treats that `405` as
/// a hard error, which is why this provider exists.
///
/// - No metadata service (connection refused, timeout), no role attached, or
///   `AWS_EC2_METADATA_DISABLED=true`: `CredentialsNotLoaded`, so a provider chain moves on or
///   ends cleanly.
/// - A malformed or unsuccessful credentials document: a provider error naming the problem.
/// - Each request times out after 1 s by default (see [`ImdsCredentialsProvider::builder`])
///   and a whole call after three times that, so a hanging endpoint cannot stall start-up.
/// - Credentials are kept and reused until 5 minutes before their `Expiration`.
///
/// Credential values never appear in `Debug` output, errors or logs.
///
/// Python: botocore's `InstanceMetadataProvider` (in boto3's default chain).
///
/// # Examples
///
/// ```
/// use aws_credential_types::provider::ProvideCredentials;
/// use strands_aws::ImdsCredentialsProvider;
/// use strands_testkit::imds::{FakeImds, ImdsMode};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// // A metadata service that refuses the IMDSv2 token request, like AgentCore's.
/// let imds = FakeImds::start(ImdsMode::TokenMethodNotAllowed).await?;
///
/// let provider = ImdsCredentialsProvider::builder()
///     .endpoint(imds.endpoint())
///     .build();
/// let credentials = provider.provide_credentials().await?;
/// assert_eq!(credentials.access_key_id(), imds.credentials().0);
/// assert!(credentials.session_token().is_some());
/// # Ok(())
/// # }
/// ```
pub struct ImdsCredentialsProvider {
    endpoint: String,
    timeout: Duration,
    disabled: bool,
    client: Result<reqwest::Client, Arc<reqwest::Error>>,
    cache: Mutex<Option<Credentials>>,
}

impl ImdsCredentialsProvider {
    /// Starts configuring a provider explicitly; nothing is read from the environment.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use strands_aws::ImdsCredentialsProvider;
    ///
    /// let provider = ImdsCredentialsProvider::builder()
    ///     .endpoint("http://127.0.0.1:1338")
    ///     .timeout(Duration::from_millis(200))
    ///     .build();
    /// # let _ = provider;
    /// ```
    pub fn builder() -> ImdsCredentialsProviderBuilder {
        ImdsCredentialsProviderBuilder::default()
    }

    /// A provider configured from the environment, like the AWS SDKs:
    ///
    /// - `AWS_EC2_METADATA_DISABLED=true` (any case) turns it off: every call returns
    ///   `CredentialsNotLoaded` without a request;
    /// - `AWS_EC2_METADATA_SERVICE_ENDPOINT` overrides the endpoint (e.g.
    ///   `http://127.0.0.1:1338`; a trailing slash is fine);
    /// - otherwise `AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE=IPv6` selects `http://[fd00:ec2::254]`,
    ///   and the default is `http://169.254.169.254`.
    ///
    /// This is the only place the provider reads the environment.
    ///
    /// # Examples
    ///
    /// ```
    /// use strands_aws::ImdsCredentialsProvider;
    ///
    /// let provider = ImdsCredentialsProvider::from_env();
    /// # let _ = provider;
    /// ```
    pub fn from_env() -> Self {
        builder_from(|name| std::env::var(name).ok()).build()
    }

    /// Returns the cached credentials while they are fresh; otherwise fetches new ones.
    async fn load(&self) -> Result<Credentials, CredentialsError> {
        if self.disabled {
            return Err(ImdsError::Disabled.into_credentials_error());
        }
        let budget = self.timeout.saturating_mul(REQUESTS_PER_CALL);
        let deadline = Instant::now() + budget;
        let timed_out = || {
            ImdsError::TimedOut {
                endpoint: self.endpoint.clone(),
                timeout: budget,
            }
            .into_credentials_error()
        };
        let mut cache = timeout_at(deadline, self.cache.lock())
            .await
            .map_err(|_| timed_out())?;
        let now = SystemTime::now();
        if let Some(credentials) = cache.as_ref().filter(|c| is_fresh(c.expiry(), now)) {
            return Ok(credentials.clone());
        }
        let fetched = timeout_at(deadline, self.fetch())
            .await
            .unwrap_or_else(|_| {
                Err(ImdsError::TimedOut {
                    endpoint: self.endpoint.clone(),
                    timeout: budget,
                })
            });
        match fetched {
            Ok(credentials) => {
                *cache = Some(credentials.clone());
                Ok(credentials)
            }
            Err(error) => match cache.as_ref().filter(|c| is_unexpired(c.expiry(), now)) {
                Some(credentials) => {
                    tracing::warn!(
                        endpoint = %self.endpoint,
                        error = %error,
                        "could not refresh the instance role's credentials; using the cached ones until they expire"
                    );
                    Ok(credentials.clone())
                }
                None => Err(error.into_credentials_error()),
            },
        }
    }

    /// Token (if granted), role name, credentials document.
    async fn fetch(&self) -> Result<Credentials, ImdsError> {
        let client = self.client.as_ref().map_err(|error| ImdsError::Client {
            source: Arc::clone(error),
        })?;
        let token = self.session_token(client).await?;
        let (status, body) = self.get(client, ROLE_LIST_PATH, token.as_ref()).await?;
        let role = match status {
            200 => first_line(&body).ok_or(ImdsError::NoRole)?,
            404 => return Err(ImdsError::NoRole),
            status => {
                return Err(ImdsError::Status {
                    request: "the role listing",
                    status,
                });
            }
        };
        if !is_role_name(&role) {
            return Err(ImdsError::InvalidRoleName);
        }
        let path = format!("{ROLE_LIST_PATH}{role}");
        let (status, body) = self.get(client, &path, token.as_ref()).await?;
        if status != 200 {
            return Err(ImdsError::Status {
                request: "the role's credentials",
                status,
            });
        }
        parse_credentials(&role, &body)
    }

    /// `PUT /latest/api/token`: `Some(token)` for IMDSv2, `None` to fall back to IMDSv1.
    async fn session_token(
        &self,
        client: &reqwest::Client,
    ) -> Result<Option<reqwest::header::HeaderValue>, ImdsError> {
        let request = client
            .put(format!("{}{TOKEN_PATH}", self.endpoint))
            .header(TOKEN_TTL_HEADER, TOKEN_TTL_SECONDS);
        let response = self.send(request).await?;
        let status = response.status().as_u16();
        let has_ttl = response.headers().contains_key(TOKEN_TTL_HEADER);
        let fallback = |why: &str| {
            tracing::debug!(endpoint = %self.endpoint, "IMDSv1 fallback ({why})");
            Ok(None)
        };
        match status {
            200 => {
                let body = read_body(response).await?;
                let token = std::str::from_utf8(&body)
                    .map(str::trim)
                    .unwrap_or_default();
                let value = reqwest::header::HeaderValue::from_str(token).ok();
                match value {
                    Some(mut value) if has_ttl && !token.is_empty() => {
                        value.set_sensitive(true);
                        tracing::debug!(endpoint = %self.endpoint, "IMDSv2");
                        Ok(Some(value))
                    }
                    _ if !has_ttl => fallback("token response had no TTL header"),
                    _ => fallback("token response had no usable token"),
                }
            }
            400 => Err(ImdsError::Status {
                request: "the IMDSv2 token request",
                status,
            }),
            status => fallback(&format!("token request answered {status}")),
        }
    }

    /// A `GET`, with the session token when there is one.
    async fn get(
        &self,
        client: &reqwest::Client,
        path: &str,
        token: Option<&reqwest::header::HeaderValue>,
    ) -> Result<(u16, Vec<u8>), ImdsError> {
        let mut request = client.get(format!("{}{path}", self.endpoint));
        if let Some(token) = token {
            request = request.header(TOKEN_HEADER, token.clone());
        }
        let response = self.send(request).await?;
        let status = response.status().as_u16();
        Ok((status, read_body(response).await?))
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Result<reqwest::Response, ImdsError> {
        request.send().await.map_err(|source| {
            if source.is_timeout() {
                ImdsError::TimedOut {
                    endpoint: self.endpoint.clone(),
                    timeout: self.timeout,
                }
            } else if source.is_connect() {
                ImdsError::Unreachable {
                    endpoint: self.endpoint.clone(),
                    source,
                }
            } else {
                ImdsError::Transport {
                    endpoint: self.endpoint.clone(),
                    source,
                }
            }
        })
    }
}

impl ProvideCredentials for ImdsCredentialsProvider {
    fn provide_credentials<'a>(&'a self) -> provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        provider::future::ProvideCredentials::new(self.load())
    }
}

impl fmt::Debug for ImdsCredentialsProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cached = match self.cache.try_lock() {
            Ok(cache) if cache.is_some() => "(set, hidden)",
            Ok(_) => "none",
            Err(_) => "(being refreshed)",
        };
        f.debug_struct("ImdsCredentialsProvider")
            .field("endpoint", &self.endpoint)
            .field("timeout", &self.timeout)
            .field("disabled", &self.disabled)
            .field("cached_credentials", &cached)
            .finish_non_exhaustive()
    }
}

/// Configures an [`ImdsCredentialsProvider`]; see [`ImdsCredentialsProvider::builder`].
///
/// Python: no equivalent (botocore reads `AWS_EC2_METADATA_*` and its config file).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use strands_aws::ImdsCredentialsProvider;
///
/// let provider = ImdsCredentialsProvider::builder()
///     .timeout(Duration::from_millis(500))
///     .build();
/// # let _ = provider;
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct ImdsCredentialsProviderBuilder {
    endpoint: Option<String>,
    timeout: Duration,
    disabled: bool,
}

impl Default for ImdsCredentialsProviderBuilder {
    fn default() -> Self {
        Self {
            endpoint: None,
            timeout: DEFAULT_TIMEOUT,
            disabled: false,
        }
    }
}

impl ImdsCredentialsProviderBuilder {
    /// The metadata service's base URL, e.g. `http://127.0.0.1:1338` (a trailing slash is fine);
    /// `http://169.254.169.254` by default. Only plain `http://` is supported, as on EC2.
    pub fn endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = Some(endpoint.into());
        self
    }

    /// The timeout of each request, for connecting and for the answer (1 s by default); a whole
    /// `provide_credentials` call is bounded by three times this.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Turns the provider off (every call returns `CredentialsNotLoaded` without a request), as
    /// `AWS_EC2_METADATA_DISABLED=true` does for [`ImdsCredentialsProvider::from_env`].
    pub fn disabled(mut self, disabled: bool) -> Self {
        self.disabled = disabled;
        self
    }

    /// Builds the provider and its HTTP client (no proxy, plain HTTP).
    ///
    /// This cannot fail: should the HTTP client be impossible to build, every call reports
    /// that as a provider error.
    pub fn build(self) -> ImdsCredentialsProvider {
        let endpoint = normalize_endpoint(self.endpoint.as_deref());
        let client = reqwest::Client::builder()
            .no_proxy()
            .connect_timeout(self.timeout)
            .timeout(self.timeout)
            .build()
            .map_err(Arc::new);
        ImdsCredentialsProvider {
            endpoint,
            timeout: self.timeout,
            disabled: self.disabled,
            client,
            cache: Mutex::new(None),
        }
    }
}

/// The builder `from_env` uses, with the environment injected as `lookup`.
fn builder_from(lookup: impl Fn(&str) -> Option<String>) -> ImdsCredentialsProviderBuilder {
    let disabled =
        lookup(ENV_DISABLED).is_some_and(|value| value.trim().eq_ignore_ascii_case("true"));
    let endpoint = lookup(ENV_ENDPOINT)
        .filter(|value| !value.trim().is_empty())
        .or_else(|| {
            lookup(ENV_ENDPOINT_MODE)
                .filter(|mode| mode.trim().eq_ignore_ascii_case("ipv6"))
                .map(|_| IPV6_ENDPOINT.to_owned())
        });
    let builder = ImdsCredentialsProvider::builder().disabled(disabled);
    match endpoint {
        Some(endpoint) => builder.endpoint(endpoint),
        None => builder,
    }
}

/// The base URL without trailing slashes; the default when none (or an empty one) is given.
fn normalize_endpoint(endpoint: Option<&str>) -> String {
    match endpoint.map(|e| e.trim().trim_end_matches('/')) {
        Some(endpoint) if !endpoint.is_empty() => endpoint.to_owned(),
        _ => DEFAULT_ENDPOINT.to_owned(),
    }
}

/// Whether credentials expiring at `expiry` may still be handed out without a refresh.
fn is_fresh(expiry: Option<SystemTime>, now: SystemTime) -> bool {
    expiry.is_some_and(|expiry| {
        expiry
            .checked_sub(REFRESH_BEFORE_EXPIRY)
            .is_some_and(|refresh_at| now < refresh_at)
    })
}

/// Whether credentials expiring at `expiry` still work (a fallback when a refresh fails).
fn is_unexpired(expiry: Option<SystemTime>, now: SystemTime) -> bool {
    expiry.is_some_and(|expiry| now < expiry)
}

/// Reads a response body, refusing more than [`MAX_BODY_BYTES`].
async fn read_body(mut response: reqwest::Response) -> Result<Vec<u8>, ImdsError> {
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) if body.len() + chunk.len() > MAX_BODY_BYTES => {
                return Err(ImdsError::TooLarge);
            }
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            Ok(None) => return Ok(body),
            Err(source) if source.is_timeout() => return Err(ImdsError::ReadTimedOut),
            Err(source) => return Err(ImdsError::Body { source }),
        }
    }
}

/// The first line of a role listing, trimmed; `None` when empty.
fn first_line(body: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(body);
    let line = text.lines().next().unwrap_or_default().trim();
    (!line.is_empty()).then(|| line.to_owned())
}

/// IAM role names: 1 to 64 of `A-Za-z0-9+=,.@_-`.
fn is_role_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b))
}

/// Parses the role's credentials document, naming what is wrong but never a value.
fn parse_credentials(role: &str, body: &[u8]) -> Result<Credentials, ImdsError> {
    let malformed = |problem: String| ImdsError::Malformed {
        role: role.to_owned(),
        problem,
    };
    let document: Value = serde_json::from_slice(body).map_err(|error| {
        malformed(format!(
            "it is not valid JSON (line {}, column {})",
            error.line(),
            error.column()
        ))
    })?;
    let field = |name: &str| {
        document
            .get(name)
            .and_then(Value::as_str)
            .filter(|value| !value.is_empty())
            .ok_or_else(|| malformed(format!("`{name}` is missing or not a non-empty string")))
    };
    let code = field("Code")?;
    if code != "Success" {
        let code: String = code
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '.')
            .take(64)
            .collect();
        return Err(ImdsError::Unsuccessful {
            role: role.to_owned(),
            code,
        });
    }
    let access_key_id = field("AccessKeyId")?;
    let secret_access_key = field("SecretAccessKey")?;
    let token = field("Token")?;
    let expiry = DateTime::from_str(field("Expiration")?, Format::DateTime)
        .ok()
        .and_then(|expiration| SystemTime::try_from(expiration).ok())
        .ok_or_else(|| malformed("`Expiration` is not an RFC 3339 date-time".to_owned()))?;
    Ok(Credentials::new(
        access_key_id,
        secret_access_key,
        Some(token.to_owned()),
        Some(expiry),
        PROVIDER_NAME,
    ))
}

/// Why the metadata service gave no credentials. Messages never contain credential values.
#[derive(Debug, thiserror::Error)]
enum ImdsError {
    #[error(
        "credentials from the instance metadata service are turned off ({ENV_DISABLED}=true); unset it to use the instance or microVM role"
    )]
    Disabled,
    #[error(
        "no metadata service at {endpoint}; outside EC2 or AgentCore, provide credentials another way (environment, profile) or set {ENV_ENDPOINT}"
    )]
    Unreachable {
        endpoint: String,
        #[source]
        source: reqwest::Error,
    },
    #[error(
        "no metadata service at {endpoint} (no answer within {timeout:?}); outside EC2 or AgentCore, provide credentials another way or set {ENV_ENDPOINT}"
    )]
    TimedOut { endpoint: String, timeout: Duration },
    #[error("the metadata service stopped sending its answer part-way; retry")]
    ReadTimedOut,
    #[error(
        "no IAM role attached to this instance/microVM; attach an instance profile (EC2) or give the agent runtime an execution role (AgentCore)"
    )]
    NoRole,
    #[error(
        "the metadata service listed a role name that is not a valid IAM role name; check {ENV_ENDPOINT} points at a metadata service"
    )]
    InvalidRoleName,
    #[error(
        "the metadata service answered {request} with HTTP {status}; check {ENV_ENDPOINT} points at a metadata service and retry"
    )]
    Status { request: &'static str, status: u16 },
    #[error(
        "the credentials document for role `{role}` is malformed: {problem}; check {ENV_ENDPOINT} points at a metadata service"
    )]
    Malformed { role: String, problem: String },
    #[error(
        "the metadata service could not issue credentials for role `{role}` (Code `{code}`); check the role's trust policy and retry"
    )]
    Unsuccessful { role: String, code: String },
    #[error(
        "the metadata service's answer exceeds {MAX_BODY_BYTES} bytes; check {ENV_ENDPOINT} points at a metadata service"
    )]
    TooLarge,
    #[error("could not reach the metadata service at {endpoint}; retry")]
    Transport {
        endpoint: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("could not read the metadata service's answer; retry")]
    Body {
        #[source]
        source: reqwest::Error,
    },
    #[error("could not build the HTTP client for the metadata service")]
    Client {
        #[source]
        source: Arc<reqwest::Error>,
    },
}

impl ImdsError {
    /// "Not here" errors let a provider chain continue; the rest end it.
    fn into_credentials_error(self) -> CredentialsError {
        match self {
            Self::Disabled | Self::Unreachable { .. } | Self::TimedOut { .. } | Self::NoRole => {
                CredentialsError::not_loaded(self)
            }
            _ => CredentialsError::provider_error(self),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn metadata_disabled_is_read_case_insensitively() {
        for value in ["true", "TRUE", "True", " true "] {
            assert!(
                builder_from(env(&[(ENV_DISABLED, value)])).disabled,
                "{value}"
            );
        }
        for value in ["false", "1", "", "yes"] {
            assert!(
                !builder_from(env(&[(ENV_DISABLED, value)])).disabled,
                "{value}"
            );
        }
        assert!(!builder_from(env(&[])).disabled);
    }

    #[test]
    fn endpoint_comes_from_the_environment_with_trailing_slash_tolerated() {
        let provider = builder_from(env(&[(ENV_ENDPOINT, "http://127.0.0.1:1338/")])).build();
        assert_eq!(provider.endpoint, "http://127.0.0.1:1338");
        let provider = builder_from(env(&[])).build();
        assert_eq!(provider.endpoint, DEFAULT_ENDPOINT);
        let provider = builder_from(env(&[(ENV_ENDPOINT, "")])).build();
        assert_eq!(provider.endpoint, DEFAULT_ENDPOINT);
        let provider = builder_from(env(&[(ENV_ENDPOINT_MODE, "IPv6")])).build();
        assert_eq!(provider.endpoint, IPV6_ENDPOINT);
        let provider = builder_from(env(&[
            (ENV_ENDPOINT_MODE, "IPv6"),
            (ENV_ENDPOINT, "http://127.0.0.1:9"),
        ]))
        .build();
        assert_eq!(provider.endpoint, "http://127.0.0.1:9");
    }

    #[tokio::test]
    async fn disabled_provider_is_not_loaded_without_a_request() {
        // The endpoint is unroutable: a request would time out rather than fail at once.
        let provider = ImdsCredentialsProvider::builder()
            .endpoint("http://10.255.255.1")
            .disabled(true)
            .build();
        let error = provider.provide_credentials().await.unwrap_err();
        assert!(matches!(error, CredentialsError::CredentialsNotLoaded(_)));
        let chain = format!("{:?}", std::error::Error::source(&error));
        assert!(chain.contains("Disabled"), "{chain}");
    }

    #[test]
    fn credentials_are_fresh_until_five_minutes_before_expiry() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let hour = Duration::from_secs(3600);
        assert!(is_fresh(Some(now + hour), now));
        assert!(is_fresh(Some(now + Duration::from_secs(301)), now));
        assert!(!is_fresh(Some(now + Duration::from_secs(300)), now));
        assert!(!is_fresh(Some(now + Duration::from_secs(60)), now));
        assert!(!is_fresh(None, now));
        assert!(is_unexpired(Some(now + Duration::from_secs(60)), now));
        assert!(!is_unexpired(Some(now), now));
    }

    #[test]
    fn a_valid_document_becomes_session_credentials() {
        let body = br#"{"Code":"Success","Type":"AWS-HMAC","AccessKeyId":"ASIAX","SecretAccessKey":"s3cr3t","Token":"t0k3n","Expiration":"2099-01-01T00:00:00Z"}"#;
        let credentials = parse_credentials("agent-role", body).unwrap();
        assert_eq!(credentials.access_key_id(), "ASIAX");
        assert_eq!(credentials.secret_access_key(), "s3cr3t");
        assert_eq!(credentials.session_token(), Some("t0k3n"));
        let expected = SystemTime::UNIX_EPOCH + Duration::from_secs(4_070_908_800);
        assert_eq!(credentials.expiry(), Some(expected));
    }

    #[test]
    fn bad_documents_are_provider_errors_that_never_show_values() {
        let cases: [&[u8]; 4] = [
            br#"{"Code":"AssumeRoleUnauthorizedAccess","AccessKeyId":"ASIAX","SecretAccessKey":"s3cr3t","Token":"t0k3n"}"#,
            br#"{"Code":"Success","AccessKeyId":"ASIAX","SecretAccessKey":"s3cr3t","Token":"t0k3n","Expiration":"s3cr3t-ish"}"#,
            br#"{"Code":"Success","AccessKeyId":"ASIAX","SecretAccessKey":"s3cr3t","Expiration":"2099-01-01T00:00:00Z"}"#,
            br#"{"Code":"Success","SecretAccessKey":"s3cr3t" "Token":"t0k3n"}"#,
        ];
        for body in cases {
            let error = parse_credentials("agent-role", body)
                .unwrap_err()
                .into_credentials_error();
            assert!(matches!(error, CredentialsError::ProviderError(_)));
            let text = format!("{error:?} {}", DisplayChain(&error));
            assert!(
                !text.contains("s3cr3t") && !text.contains("t0k3n"),
                "{text}"
            );
        }
    }

    #[test]
    fn unsuccessful_code_and_missing_field_are_named() {
        let error = parse_credentials("agent-role", br#"{"Code":"AssumeRoleUnauthorizedAccess"}"#)
            .unwrap_err();
        assert!(error.to_string().contains("AssumeRoleUnauthorizedAccess"));
        let error = parse_credentials("agent-role", br#"{"Code":"Success"}"#).unwrap_err();
        assert!(error.to_string().contains("`AccessKeyId`"), "{error}");
    }

    #[test]
    fn role_names_are_validated() {
        assert!(is_role_name("agent-role"));
        assert!(is_role_name("Role+=,.@_-1"));
        assert!(!is_role_name("../../user-data"));
        assert!(!is_role_name(""));
        assert_eq!(
            first_line(b"  agent-role \nother"),
            Some("agent-role".to_owned())
        );
        assert_eq!(first_line(b"\n"), None);
    }

    /// Prints an error and its sources.
    struct DisplayChain<'a>(&'a (dyn std::error::Error + 'static));

    impl fmt::Display for DisplayChain<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            let mut current = Some(self.0);
            while let Some(error) = current {
                write!(f, "{error}: ")?;
                current = error.source();
            }
            Ok(())
        }
    }
}
