//! Sessions stored in Amazon S3 (or an S3-compatible store) under the keys Python Strands'
//! `S3SessionManager` uses, so a bucket can be shared between the two stacks.

use std::fmt;

use aws_sdk_s3::Client;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use aws_smithy_types::error::display::DisplayErrorContext;
use futures_util::{StreamExt, TryStreamExt, stream};
use serde::Serialize;
use serde::de::DeserializeOwned;
use strands_agent::session::{
    Session, SessionAgent, SessionError, SessionMessage, SessionRepository, SessionResult,
    now_iso8601, validate_id,
};
use strands_core::BoxFuture;

const SESSION_PREFIX: &str = "session_";
const AGENT_PREFIX: &str = "agent_";
const MESSAGE_PREFIX: &str = "message_";

/// How many message documents [`S3SessionRepository::list_messages`](SessionRepository::list_messages)
/// reads at once.
const READ_CONCURRENCY: usize = 16;

/// A [`SessionRepository`] that keeps each record as one JSON object in an S3 bucket, with the
/// keys and JSON Python Strands' `S3SessionManager` writes:
///
/// ```text
/// <prefix>/session_<session_id>/session.json
/// <prefix>/session_<session_id>/agents/agent_<agent_id>/agent.json
/// <prefix>/session_<session_id>/agents/agent_<agent_id>/messages/message_<message_id>.json
/// ```
///
/// Leading and trailing `/` are stripped from the prefix, and an empty prefix puts
/// `session_<id>/` at the top of the bucket, as in Python. Bodies are pretty-printed JSON with
/// two-space indentation and `Content-Type: application/json`. Every write is a single
/// `PutObject`, so readers see the old document or the new one.
///
/// The caller needs `s3:GetObject` and `s3:PutObject` on the objects under the prefix and
/// `s3:ListBucket` on the bucket (without it S3 answers `403` instead of `404` for a missing
/// object, so a new session cannot be told from a denied one). Failures are
/// [`SessionError::Backend`] errors naming the bucket, the key and, for a denial, the permission
/// to grant; a document that does not parse is a [`SessionError::Json`].
///
/// Like Python's manager, the repository reads messages concurrently when listing them, skips a
/// message deleted between the listing and the read, and ignores keys under `messages/` that are
/// not `message_<n>.json`.
///
/// ```no_run
/// use strands_agent::session::SessionRepository;
/// use strands_aws::S3SessionRepository;
///
/// # async fn example() -> Result<(), Box<dyn std::error::Error>> {
/// let config = aws_config::load_from_env().await;
/// let repository = S3SessionRepository::from_conf(&config, "my-bucket", "strands/sessions");
/// let session = repository.read_session("user-42").await?;
/// # let _ = session;
/// # Ok(())
/// # }
/// ```
///
/// For S3-compatible stores that need path-style addressing (MinIO, LocalStack, MiniStack), build
/// the client yourself and pass it to [`S3SessionRepository::new`]:
///
/// ```no_run
/// # async fn example() {
/// let config = aws_config::load_from_env().await;
/// let s3 = aws_sdk_s3::config::Builder::from(&config)
///     .endpoint_url("http://127.0.0.1:4566")
///     .force_path_style(true)
///     .build();
/// let repository =
///     strands_aws::S3SessionRepository::new(aws_sdk_s3::Client::from_conf(s3), "my-bucket", "");
/// # let _ = repository;
/// # }
/// ```
#[derive(Clone)]
pub struct S3SessionRepository {
    client: Client,
    bucket: String,
    /// The prefix with surrounding `/` stripped; may be empty.
    prefix: String,
    page_size: Option<i32>,
}

impl fmt::Debug for S3SessionRepository {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The client (and its credentials provider) is left out on purpose.
        f.debug_struct("S3SessionRepository")
            .field("bucket", &self.bucket)
            .field("prefix", &self.prefix)
            .field("page_size", &self.page_size)
            .finish_non_exhaustive()
    }
}

impl S3SessionRepository {
    /// A repository storing sessions in `bucket` under `prefix` (may be empty) through `client`.
    pub fn new(client: Client, bucket: impl Into<String>, prefix: impl AsRef<str>) -> Self {
        Self {
            client,
            bucket: bucket.into(),
            prefix: prefix.as_ref().trim_matches('/').to_owned(),
            page_size: None,
        }
    }

    /// A repository with an S3 client built from `config` (e.g. [`crate::sdk_config`] or
    /// `aws_config::load_from_env`). Like Python, the client identifies itself as
    /// `strands-agents` in the user agent unless `config` names an app already.
    pub fn from_conf(
        config: &aws_config::SdkConfig,
        bucket: impl Into<String>,
        prefix: impl AsRef<str>,
    ) -> Self {
        let mut builder = aws_sdk_s3::config::Builder::from(config);
        if config.app_name().is_none()
            && let Ok(name) = aws_sdk_s3::config::AppName::new("strands-agents")
        {
            builder = builder.app_name(name);
        }
        Self::new(Client::from_conf(builder.build()), bucket, prefix)
    }

    /// Sets how many keys each `ListObjectsV2` page asks for (S3's default and maximum is 1000).
    #[must_use]
    pub fn with_list_page_size(mut self, keys: i32) -> Self {
        self.page_size = Some(keys.max(1));
        self
    }

    /// The bucket.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The key prefix, without leading or trailing `/` (empty for none).
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The S3 client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// `<prefix>/session_<id>/`, after validating the id.
    fn session_path(&self, session_id: &str) -> SessionResult<String> {
        validate_id("session", session_id)?;
        Ok(if self.prefix.is_empty() {
            format!("{SESSION_PREFIX}{session_id}/")
        } else {
            format!("{}/{SESSION_PREFIX}{session_id}/", self.prefix)
        })
    }

    fn session_key(&self, session_id: &str) -> SessionResult<String> {
        Ok(format!("{}session.json", self.session_path(session_id)?))
    }

    /// `<session path>agents/agent_<id>/`, after validating both ids.
    fn agent_path(&self, session_id: &str, agent_id: &str) -> SessionResult<String> {
        let session_path = self.session_path(session_id)?;
        validate_id("agent", agent_id)?;
        Ok(format!("{session_path}agents/{AGENT_PREFIX}{agent_id}/"))
    }

    fn agent_key(&self, session_id: &str, agent_id: &str) -> SessionResult<String> {
        Ok(format!(
            "{}agent.json",
            self.agent_path(session_id, agent_id)?
        ))
    }

    fn message_key(
        &self,
        session_id: &str,
        agent_id: &str,
        message_id: u64,
    ) -> SessionResult<String> {
        Ok(format!(
            "{}messages/{MESSAGE_PREFIX}{message_id}.json",
            self.agent_path(session_id, agent_id)?
        ))
    }

    /// Reads and parses an object, `None` when S3 answers `NoSuchKey`.
    async fn read_object<T: DeserializeOwned>(&self, key: &str) -> SessionResult<Option<T>> {
        let response = match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(response) => response,
            Err(error) if error.as_service_error().is_some_and(|e| e.is_no_such_key()) => {
                return Ok(None);
            }
            Err(error) => return Err(self.backend("GetObject", "s3:GetObject", key, error)),
        };
        let body = response
            .body
            .collect()
            .await
            .map_err(|error| SessionError::Backend {
                message: format!(
                    "reading the body of s3://{}/{key} failed: {error}",
                    self.bucket
                ),
                source: Some(Box::new(error)),
            })?
            .into_bytes();
        serde_json::from_slice(&body)
            .map(Some)
            .map_err(|source| SessionError::Json {
                location: format!("s3://{}/{key}", self.bucket),
                source,
            })
    }

    /// Writes `value` as one object, formatted like Python's
    /// `json.dumps(value, indent=2, ensure_ascii=False)`.
    async fn write_object<T: Serialize + Sync>(&self, key: &str, value: &T) -> SessionResult<()> {
        let body = serde_json::to_vec_pretty(value).map_err(|source| SessionError::Json {
            location: format!("s3://{}/{key}", self.bucket),
            source,
        })?;
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .body(ByteStream::from(body))
            .content_type("application/json")
            .send()
            .await
            .map_err(|error| self.backend("PutObject", "s3:PutObject", key, error))?;
        Ok(())
    }

    /// Whether an object exists (`HeadObject`; a 404 is `false`).
    async fn exists(&self, key: &str) -> SessionResult<bool> {
        match self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(error) if error.as_service_error().is_some_and(|e| e.is_not_found()) => Ok(false),
            Err(error) => Err(self.backend("HeadObject", "s3:GetObject", key, error)),
        }
    }

    /// Every key under `prefix`, following `ListObjectsV2` continuation tokens.
    async fn list_keys(&self, prefix: &str) -> SessionResult<Vec<String>> {
        let mut keys = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = self
                .client
                .list_objects_v2()
                .bucket(&self.bucket)
                .prefix(prefix)
                .set_max_keys(self.page_size)
                .set_continuation_token(token.take())
                .send()
                .await
                .map_err(|error| self.backend("ListObjectsV2", "s3:ListBucket", prefix, error))?;
            keys.extend(
                page.contents()
                    .iter()
                    .filter_map(|object| object.key().map(str::to_owned)),
            );
            match page.next_continuation_token() {
                Some(next) if page.is_truncated() == Some(true) => token = Some(next.to_owned()),
                _ => return Ok(keys),
            }
        }
    }

    /// A [`SessionError::Backend`] that says what failed, where, and what usually fixes it.
    fn backend<E>(
        &self,
        operation: &str,
        permission: &str,
        key: &str,
        error: SdkError<E, aws_sdk_s3::config::http::HttpResponse>,
    ) -> SessionError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let bucket = &self.bucket;
        let location = format!("s3://{bucket}/{key}");
        let status = error.raw_response().map(|r| r.status().as_u16());
        let code = error.code().unwrap_or_default().to_owned();
        // "Code: message" from S3, or the HTTP status when the response had no body (HEAD).
        let reason = match (error.code(), error.message(), status) {
            (Some(code), Some(message), _) => format!("{code}: {message}"),
            (Some(code), None, _) => code.to_owned(),
            (None, _, Some(status)) => format!("HTTP {status}"),
            (None, _, None) => DisplayErrorContext(&error).to_string(),
        };
        let resource = if permission == "s3:ListBucket" {
            format!("arn:aws:s3:::{bucket}")
        } else {
            format!("arn:aws:s3:::{bucket}/{key}")
        };
        let message = match (code.as_str(), status) {
            ("NoSuchBucket", _) => format!(
                "S3 {operation} of {location} failed: bucket {bucket:?} does not exist; create it or fix the bucket name (and check the region and endpoint)"
            ),
            ("AccessDenied" | "AllAccessDisabled", _) | (_, Some(403)) => format!(
                "S3 {operation} of {location} was denied ({reason}); grant the caller {permission} on {resource}"
            ),
            (
                "InvalidAccessKeyId"
                | "SignatureDoesNotMatch"
                | "ExpiredToken"
                | "InvalidToken"
                | "TokenRefreshRequired",
                _,
            ) => format!(
                "S3 {operation} of {location} failed: the credentials were rejected ({reason})"
            ),
            _ => match &error {
                SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) => format!(
                    "S3 {operation} of {location} failed: could not reach the S3 endpoint ({})",
                    DisplayErrorContext(&error)
                ),
                SdkError::ConstructionFailure(_) => format!(
                    "S3 {operation} of {location} failed before sending: {}",
                    DisplayErrorContext(&error)
                ),
                _ => format!("S3 {operation} of {location} failed ({reason})"),
            },
        };
        // The modeled S3 error (e.g. `NoSuchBucket: ...`) is a better cause than `service error`.
        let source: Box<dyn std::error::Error + Send + Sync> = match error {
            SdkError::ServiceError(context) => Box::new(context.into_err()),
            other => Box::new(other),
        };
        SessionError::Backend {
            message,
            source: Some(source),
        }
    }
}

/// The message index of a `message_<n>.json` key directly under `messages_prefix`.
fn message_index(messages_prefix: &str, key: &str) -> Option<u64> {
    key.strip_prefix(messages_prefix)?
        .strip_prefix(MESSAGE_PREFIX)?
        .strip_suffix(".json")?
        .parse()
        .ok()
}

impl SessionRepository for S3SessionRepository {
    fn create_session<'a>(&'a self, session: &'a Session) -> BoxFuture<'a, SessionResult<()>> {
        Box::pin(async move {
            let key = self.session_key(&session.session_id)?;
            if self.exists(&key).await? {
                return Err(SessionError::Conflict(format!(
                    "session {} already exists",
                    session.session_id
                )));
            }
            self.write_object(&key, session).await
        })
    }

    fn read_session<'a>(
        &'a self,
        session_id: &'a str,
    ) -> BoxFuture<'a, SessionResult<Option<Session>>> {
        Box::pin(async move { self.read_object(&self.session_key(session_id)?).await })
    }

    fn create_agent<'a>(
        &'a self,
        session_id: &'a str,
        agent: &'a SessionAgent,
    ) -> BoxFuture<'a, SessionResult<()>> {
        Box::pin(async move {
            let key = self.agent_key(session_id, &agent.agent_id)?;
            self.write_object(&key, agent).await
        })
    }

    fn read_agent<'a>(
        &'a self,
        session_id: &'a str,
        agent_id: &'a str,
    ) -> BoxFuture<'a, SessionResult<Option<SessionAgent>>> {
        Box::pin(async move {
            self.read_object(&self.agent_key(session_id, agent_id)?)
                .await
        })
    }

    fn update_agent<'a>(
        &'a self,
        session_id: &'a str,
        agent: &'a SessionAgent,
    ) -> BoxFuture<'a, SessionResult<()>> {
        Box::pin(async move {
            let key = self.agent_key(session_id, &agent.agent_id)?;
            let Some(previous) = self.read_object::<SessionAgent>(&key).await? else {
                return Err(SessionError::Conflict(format!(
                    "agent {} in session {session_id} does not exist",
                    agent.agent_id
                )));
            };
            let mut updated = agent.clone();
            updated.created_at = previous.created_at;
            updated.updated_at = now_iso8601();
            self.write_object(&key, &updated).await
        })
    }

    fn create_message<'a>(
        &'a self,
        session_id: &'a str,
        agent_id: &'a str,
        message: &'a SessionMessage,
    ) -> BoxFuture<'a, SessionResult<()>> {
        Box::pin(async move {
            let key = self.message_key(session_id, agent_id, message.message_id)?;
            self.write_object(&key, message).await
        })
    }

    fn read_message<'a>(
        &'a self,
        session_id: &'a str,
        agent_id: &'a str,
        message_id: u64,
    ) -> BoxFuture<'a, SessionResult<Option<SessionMessage>>> {
        Box::pin(async move {
            self.read_object(&self.message_key(session_id, agent_id, message_id)?)
                .await
        })
    }

    fn update_message<'a>(
        &'a self,
        session_id: &'a str,
        agent_id: &'a str,
        message: &'a SessionMessage,
    ) -> BoxFuture<'a, SessionResult<()>> {
        Box::pin(async move {
            let key = self.message_key(session_id, agent_id, message.message_id)?;
            let Some(previous) = self.read_object::<SessionMessage>(&key).await? else {
                return Err(SessionError::Conflict(format!(
                    "message {} of agent {agent_id} in session {session_id} does not exist",
                    message.message_id
                )));
            };
            let mut updated = message.clone();
            updated.created_at = previous.created_at;
            updated.updated_at = now_iso8601();
            self.write_object(&key, &updated).await
        })
    }

    fn list_messages<'a>(
        &'a self,
        session_id: &'a str,
        agent_id: &'a str,
        limit: Option<usize>,
        offset: usize,
    ) -> BoxFuture<'a, SessionResult<Vec<SessionMessage>>> {
        Box::pin(async move {
            let prefix = format!("{}messages/", self.agent_path(session_id, agent_id)?);
            let mut indexed: Vec<(u64, String)> = self
                .list_keys(&prefix)
                .await?
                .into_iter()
                .filter_map(|key| message_index(&prefix, &key).map(|index| (index, key)))
                .collect();
            indexed.sort_unstable();
            let selected = indexed
                .into_iter()
                .skip(offset)
                .take(limit.unwrap_or(usize::MAX));
            // Read concurrently, keeping the order; a message deleted since the listing is skipped.
            let messages: Vec<Option<SessionMessage>> = stream::iter(selected)
                .map(|(_, key)| async move { self.read_object::<SessionMessage>(&key).await })
                .buffered(READ_CONCURRENCY)
                .try_collect()
                .await?;
            Ok(messages.into_iter().flatten().collect())
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]

    use super::*;

    fn repository(prefix: &str) -> S3SessionRepository {
        let config = aws_sdk_s3::Config::builder()
            .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
            .region(aws_sdk_s3::config::Region::new("us-east-1"))
            .build();
        S3SessionRepository::new(Client::from_conf(config), "bucket", prefix)
    }

    #[test]
    fn keys_match_python() {
        for (prefix, expected) in [
            ("", "session_s/"),
            ("/", "session_s/"),
            ("sessions", "sessions/session_s/"),
            ("/a/b/", "a/b/session_s/"),
        ] {
            let repo = repository(prefix);
            assert_eq!(
                repo.session_key("s").unwrap(),
                format!("{expected}session.json")
            );
            assert_eq!(
                repo.agent_key("s", "a").unwrap(),
                format!("{expected}agents/agent_a/agent.json")
            );
            assert_eq!(
                repo.message_key("s", "a", 10).unwrap(),
                format!("{expected}agents/agent_a/messages/message_10.json")
            );
        }
    }

    #[test]
    fn message_keys_parse_to_their_index() {
        let p = "x/messages/";
        assert_eq!(message_index(p, "x/messages/message_12.json"), Some(12));
        assert_eq!(message_index(p, "x/messages/message_a.json"), None);
        assert_eq!(message_index(p, "x/messages/message_1.json.tmp"), None);
        assert_eq!(message_index(p, "x/messages/sub/message_1.json"), None);
        assert_eq!(message_index(p, "y/messages/message_1.json"), None);
    }

    #[test]
    fn debug_shows_no_client() {
        let text = format!("{:?}", repository("p"));
        assert!(text.contains("bucket"), "{text}");
        assert!(!text.contains("client"), "{text}");
    }
}
