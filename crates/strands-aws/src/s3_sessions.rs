//! Sessions stored in Amazon S3 (or an S3-compatible store) under the keys Python Strands'
//! `S3SessionManager` uses, so a bucket can be shared between the two stacks.

use std::fmt;

use aws_sdk_s3::Client;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use aws_smithy_types::error::display::DisplayErrorContext;
use futures_util::{StreamExt, TryStreamExt, stream};
use strands_core::BoxFuture;
use strands_core::session::{ObjectStore, SessionError, SessionResult};

/// How many message documents listing a conversation reads at once.
const READ_CONCURRENCY: usize = 16;

/// A [`SessionRepository`](strands_core::session::SessionRepository) that keeps each record as
/// one JSON object in an S3 bucket, with the keys and JSON Python Strands' `S3SessionManager`
/// writes (it is an [`ObjectStore`]; the layout is `strands_core::session`'s):
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
/// use strands_core::session::SessionRepository;
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

    /// The object key of a layout key: `<prefix>/<key>`, or the key itself without a prefix.
    fn object_key(&self, key: &str) -> String {
        if self.prefix.is_empty() {
            key.to_owned()
        } else {
            format!("{}/{key}", self.prefix)
        }
    }

    /// The body of an object, `None` when S3 answers `NoSuchKey`.
    async fn get_object(&self, key: &str) -> SessionResult<Option<Vec<u8>>> {
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
            })?;
        Ok(Some(body.to_vec()))
    }

    /// Writes one object (a single `PutObject`, so readers see the old or the new document).
    async fn put_object(&self, key: &str, body: Vec<u8>) -> SessionResult<()> {
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

impl ObjectStore for S3SessionRepository {
    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, SessionResult<Option<Vec<u8>>>> {
        Box::pin(async move { self.get_object(&self.object_key(key)).await })
    }

    fn put<'a>(&'a self, key: &'a str, body: Vec<u8>) -> BoxFuture<'a, SessionResult<()>> {
        Box::pin(async move { self.put_object(&self.object_key(key), body).await })
    }

    fn list<'a>(&'a self, prefix: &'a str) -> BoxFuture<'a, SessionResult<Vec<String>>> {
        Box::pin(async move {
            let object_prefix = self.object_key(prefix);
            let strip = object_prefix.len() - prefix.len();
            let keys = self.list_keys(&object_prefix).await?;
            Ok(keys
                .into_iter()
                .filter_map(|key| key.get(strip..).map(str::to_owned))
                .collect())
        })
    }

    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, SessionResult<()>> {
        Box::pin(async move {
            let key = self.object_key(key);
            self.client
                .delete_object()
                .bucket(&self.bucket)
                .key(&key)
                .send()
                .await
                .map_err(|error| self.backend("DeleteObject", "s3:DeleteObject", &key, error))?;
            Ok(())
        })
    }

    /// Reads up to 16 objects at once, keeping the order.
    fn get_many<'a>(
        &'a self,
        keys: &'a [String],
    ) -> BoxFuture<'a, SessionResult<Vec<Option<Vec<u8>>>>> {
        Box::pin(
            stream::iter(keys)
                .map(|key| self.get(key))
                .buffered(READ_CONCURRENCY)
                .try_collect(),
        )
    }

    fn location(&self, key: &str) -> String {
        format!("s3://{}/{}", self.bucket, self.object_key(key))
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
    fn layout_keys_go_under_the_prefix() {
        for (prefix, expected) in [
            ("", "session_s/session.json"),
            ("/", "session_s/session.json"),
            ("sessions", "sessions/session_s/session.json"),
            ("/a/b/", "a/b/session_s/session.json"),
        ] {
            let repo = repository(prefix);
            assert_eq!(repo.object_key("session_s/session.json"), expected);
            assert_eq!(
                repo.location("session_s/session.json"),
                format!("s3://bucket/{expected}")
            );
        }
    }

    #[test]
    fn debug_shows_no_client() {
        let text = format!("{:?}", repository("p"));
        assert!(text.contains("bucket"), "{text}");
        assert!(!text.contains("client"), "{text}");
    }
}
