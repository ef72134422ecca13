//! Bedrock credentials kept in a Secrets Manager secret, re-read on rotation.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use aws_config::SdkConfig;
use aws_credential_types::Credentials;
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{ProvideCredentials, future};
use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use serde_json::{Map, Value};
use tokio::sync::Mutex;

/// How often the secret is re-read by default, so a rotation is picked up without a restart.
pub const DEFAULT_REFRESH: Duration = Duration::from_secs(300);

/// Names the secret [`SecretsManagerCredentials::from_env`] reads.
const SECRET_VAR: &str = "BEDROCK_CREDENTIALS_SECRET";
/// Seconds between reads of that secret.
const REFRESH_VAR: &str = "BEDROCK_CREDENTIALS_REFRESH_SECONDS";

/// Keys read from a secret. `Debug` hides the secret key and token.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SecretCredentials {
    /// The access key id.
    pub access_key_id: String,
    /// The secret access key.
    pub secret_access_key: String,
    /// A session token, for temporary credentials.
    pub session_token: Option<String>,
    /// A region the secret names, if any.
    pub region: Option<String>,
}

impl fmt::Debug for SecretCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretCredentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"(set, hidden)")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "(set, hidden)"),
            )
            .field("region", &self.region)
            .finish()
    }
}

/// Key spellings accepted for each field (compared case-insensitively): environment style,
/// credentials-file style, IAM/STS output style and Terraform style.
const ACCESS_KEY_NAMES: [&str; 3] = ["aws_access_key_id", "accesskeyid", "access_key"];
const SECRET_KEY_NAMES: [&str; 3] = ["aws_secret_access_key", "secretaccesskey", "secret_key"];
const TOKEN_NAMES: [&str; 3] = ["aws_session_token", "sessiontoken", "token"];
const REGION_NAMES: [&str; 3] = ["aws_region", "region", "aws_default_region"];

impl SecretCredentials {
    /// Parses a secret's JSON `SecretString`.
    ///
    /// # Errors
    ///
    /// [`SecretError::Malformed`] when it is not a JSON object, [`SecretError::MissingKeys`]
    /// when the access key or the secret key is absent (the message lists the accepted
    /// spellings, never values).
    pub fn parse(secret_id: &str, text: &str) -> Result<Self, SecretError> {
        let map: Map<String, Value> =
            serde_json::from_str(text).map_err(|e| SecretError::Malformed {
                secret_id: secret_id.to_owned(),
                reason: format!("not a JSON object ({})", json_problem(&e)),
            })?;
        let find = |names: &[&str]| {
            map.iter()
                .find(|(k, v)| {
                    names.contains(&k.to_ascii_lowercase().as_str())
                        && v.as_str().is_some_and(|s| !s.is_empty())
                })
                .and_then(|(_, v)| v.as_str().map(str::to_owned))
        };
        let (Some(access_key_id), Some(secret_access_key)) =
            (find(&ACCESS_KEY_NAMES), find(&SECRET_KEY_NAMES))
        else {
            return Err(SecretError::MissingKeys {
                secret_id: secret_id.to_owned(),
            });
        };
        Ok(Self {
            access_key_id,
            secret_access_key,
            session_token: find(&TOKEN_NAMES),
            region: find(&REGION_NAMES),
        })
    }

    fn to_credentials(&self) -> Credentials {
        Credentials::new(
            self.access_key_id.clone(),
            self.secret_access_key.clone(),
            self.session_token.clone(),
            None,
            "SecretsManager",
        )
    }
}

/// What kind of JSON problem `error` is, without quoting the input.
fn json_problem(error: &serde_json::Error) -> &'static str {
    match error.classify() {
        serde_json::error::Category::Io => "I/O error",
        serde_json::error::Category::Syntax => "invalid JSON",
        serde_json::error::Category::Data => "JSON that is not an object",
        serde_json::error::Category::Eof => "truncated JSON",
    }
}

/// Why the secret could not provide credentials. Messages name the secret and the fix, never a
/// value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SecretError {
    /// The reader credentials may not read the secret.
    #[error(
        "access to secret `{secret_id}` was denied ({message}); allow secretsmanager:GetSecretValue on it for the credentials that read it (and kms:Decrypt on its key)"
    )]
    AccessDenied {
        /// The secret.
        secret_id: String,
        /// AWS's message.
        message: String,
    },
    /// The secret does not exist.
    #[error(
        "secret `{secret_id}` does not exist in this account and region; check BEDROCK_CREDENTIALS_SECRET and AWS_REGION"
    )]
    NotFound {
        /// The secret.
        secret_id: String,
    },
    /// The secret is not a JSON object, or has no string value.
    #[error(
        "secret `{secret_id}` is malformed: {reason}; store a JSON object such as {{\"AWS_ACCESS_KEY_ID\": \"...\", \"AWS_SECRET_ACCESS_KEY\": \"...\"}}"
    )]
    Malformed {
        /// The secret.
        secret_id: String,
        /// What is wrong (no values).
        reason: String,
    },
    /// The secret lacks the access key or the secret key.
    #[error(
        "secret `{secret_id}` has no access key id or no secret access key; use the keys AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (also accepted: aws_access_key_id/aws_secret_access_key, AccessKeyId/SecretAccessKey, access_key/secret_key; optional AWS_SESSION_TOKEN, AWS_REGION)"
    )]
    MissingKeys {
        /// The secret.
        secret_id: String,
    },
    /// The secret could not be read for another reason (network, reader credentials).
    #[error("could not read secret `{secret_id}`: {message}")]
    Fetch {
        /// The secret.
        secret_id: String,
        /// What failed.
        message: String,
    },
}

/// Credentials read from a Secrets Manager secret (`BEDROCK_CREDENTIALS_SECRET`) with separate
/// reader credentials, served to a client through [`ProvideCredentials`]: never written into the
/// process environment.
///
/// The secret is re-read after the refresh interval, and at once after
/// [`SecretsManagerCredentials::invalidate`] (call it when a service rejects the keys, then
/// retry once).
///
/// Clones share the same cache, so one clone can be given to a client while another invalidates.
#[derive(Clone)]
pub struct SecretsManagerCredentials {
    inner: Arc<Inner>,
}

struct Inner {
    client: Client,
    secret_id: String,
    refresh: Duration,
    cached: Mutex<Option<(SecretCredentials, Instant)>>,
    stale: AtomicBool,
}

impl fmt::Debug for SecretsManagerCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretsManagerCredentials")
            .field("secret_id", &self.inner.secret_id)
            .field("refresh", &self.inner.refresh)
            .finish_non_exhaustive()
    }
}

impl SecretsManagerCredentials {
    /// The secret named by `BEDROCK_CREDENTIALS_SECRET` (a name or ARN; surrounding blanks are
    /// ignored), re-read every `BEDROCK_CREDENTIALS_REFRESH_SECONDS` seconds ([`DEFAULT_REFRESH`]
    /// when unset or not a number), with a Secrets Manager client built from `reader`, whose
    /// credentials are the reader's (usually [`sdk_config`](crate::sdk_config)). `None` when the
    /// variable is unset or blank. Nothing is read until the first use.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), strands_aws::SecretError> {
    /// use strands_aws::SecretsManagerCredentials;
    ///
    /// let reader = strands_aws::sdk_config().await;
    /// if let Some(secret) = SecretsManagerCredentials::from_env(&reader) {
    ///     let keys = secret.current().await?;
    ///     println!("`{}` holds keys for {:?}", secret.secret_id(), keys.region);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn from_env(reader: &SdkConfig) -> Option<Self> {
        Self::from_vars(
            reader,
            std::env::var(SECRET_VAR).ok(),
            std::env::var(REFRESH_VAR).ok(),
        )
    }

    fn from_vars(
        reader: &SdkConfig,
        secret_id: Option<String>,
        refresh_seconds: Option<String>,
    ) -> Option<Self> {
        let secret_id = secret_id
            .map(|id| id.trim().to_owned())
            .filter(|id| !id.is_empty())?;
        let refresh = refresh_seconds
            .and_then(|s| s.trim().parse().ok())
            .map_or(DEFAULT_REFRESH, Duration::from_secs);
        Some(Self::with_refresh_interval(
            Client::new(reader),
            secret_id,
            refresh,
        ))
    }

    /// Reads `secret_id` with `client` (whose credentials are the reader's).
    pub fn new(client: Client, secret_id: impl Into<String>) -> Self {
        Self::with_refresh_interval(client, secret_id, DEFAULT_REFRESH)
    }

    /// Like [`SecretsManagerCredentials::new`], re-reading the secret after `refresh`.
    pub fn with_refresh_interval(
        client: Client,
        secret_id: impl Into<String>,
        refresh: Duration,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                client,
                secret_id: secret_id.into(),
                refresh,
                cached: Mutex::new(None),
                stale: AtomicBool::new(false),
            }),
        }
    }

    /// The secret's id or ARN.
    pub fn secret_id(&self) -> &str {
        &self.inner.secret_id
    }

    /// How long keys read from the secret are used before it is read again.
    pub fn refresh_interval(&self) -> Duration {
        self.inner.refresh
    }

    /// Forces the next use to re-read the secret (after a service rejected the keys).
    pub fn invalidate(&self) {
        self.inner.stale.store(true, Ordering::Release);
    }

    /// The current keys, re-reading the secret when the copy is older than the refresh interval
    /// or was invalidated.
    ///
    /// # Errors
    ///
    /// See [`SecretError`].
    pub async fn current(&self) -> Result<SecretCredentials, SecretError> {
        let mut cached = self.inner.cached.lock().await;
        let stale = self.inner.stale.swap(false, Ordering::AcqRel);
        if let Some((keys, read_at)) = cached.as_ref()
            && !stale
            && read_at.elapsed() < self.inner.refresh
        {
            return Ok(keys.clone());
        }
        let keys = self.fetch().await?;
        tracing::info!(secret_id = %self.inner.secret_id, "read Bedrock credentials from Secrets Manager");
        *cached = Some((keys.clone(), Instant::now()));
        Ok(keys)
    }

    async fn fetch(&self) -> Result<SecretCredentials, SecretError> {
        let output = self
            .inner
            .client
            .get_secret_value()
            .secret_id(&self.inner.secret_id)
            .send()
            .await
            .map_err(|e| self.fetch_error(&e))?;
        let text = output
            .secret_string()
            .ok_or_else(|| SecretError::Malformed {
                secret_id: self.inner.secret_id.clone(),
                reason: "it holds binary data, not a SecretString".to_owned(),
            })?;
        SecretCredentials::parse(&self.inner.secret_id, text)
    }

    fn fetch_error<E, R>(&self, error: &SdkError<E, R>) -> SecretError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: fmt::Debug + Send + Sync + 'static,
    {
        let secret_id = self.inner.secret_id.clone();
        if let SdkError::ServiceError(service) = error {
            let err = service.err();
            let message = err.message().unwrap_or("").to_owned();
            match err.code() {
                Some("ResourceNotFoundException") => return SecretError::NotFound { secret_id },
                Some("AccessDeniedException") => {
                    return SecretError::AccessDenied { secret_id, message };
                }
                Some(code) => {
                    return SecretError::Fetch {
                        secret_id,
                        message: format!("{code}: {message}"),
                    };
                }
                None => {}
            }
        }
        SecretError::Fetch {
            secret_id,
            message: DisplayErrorContext(error).to_string(),
        }
    }
}

impl ProvideCredentials for SecretsManagerCredentials {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(async move {
            self.current()
                .await
                .map(|keys| keys.to_credentials())
                .map_err(CredentialsError::provider_error)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_key_spelling_is_accepted() {
        for text in [
            r#"{"AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "S", "AWS_SESSION_TOKEN": "T", "AWS_REGION": "eu-west-1"}"#,
            r#"{"aws_access_key_id": "AKID", "aws_secret_access_key": "S", "aws_session_token": "T", "region": "eu-west-1"}"#,
            r#"{"AccessKeyId": "AKID", "SecretAccessKey": "S", "SessionToken": "T", "region": "eu-west-1"}"#,
            r#"{"AccessKeyId": "AKID", "SecretAccessKey": "S", "Token": "T", "region": "eu-west-1"}"#,
            r#"{"access_key": "AKID", "secret_key": "S", "token": "T", "AWS_DEFAULT_REGION": "eu-west-1"}"#,
        ] {
            let keys = SecretCredentials::parse("s", text).unwrap();
            assert_eq!(keys.access_key_id, "AKID", "{text}");
            assert_eq!(keys.secret_access_key, "S");
            assert_eq!(keys.session_token.as_deref(), Some("T"));
            assert_eq!(keys.region.as_deref(), Some("eu-west-1"));
        }
    }

    fn reader() -> SdkConfig {
        SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .build()
    }

    #[test]
    fn an_unset_or_blank_secret_variable_means_no_secret() {
        assert!(SecretsManagerCredentials::from_vars(&reader(), None, None).is_none());
        assert!(
            SecretsManagerCredentials::from_vars(&reader(), Some("  ".to_owned()), None).is_none()
        );
    }

    #[test]
    fn the_secret_id_is_trimmed_and_the_refresh_falls_back_to_the_default() {
        let secret = SecretsManagerCredentials::from_vars(
            &reader(),
            Some(" bedrock/creds ".to_owned()),
            None,
        )
        .unwrap();
        assert_eq!(secret.secret_id(), "bedrock/creds");
        assert_eq!(secret.refresh_interval(), DEFAULT_REFRESH);
        for (text, seconds) in [(" 60 ", 60), ("soon", 300), ("", 300), ("-5", 300)] {
            let secret = SecretsManagerCredentials::from_vars(
                &reader(),
                Some("s".to_owned()),
                Some(text.to_owned()),
            )
            .unwrap();
            assert_eq!(
                secret.refresh_interval(),
                Duration::from_secs(seconds),
                "{text:?}"
            );
        }
    }

    #[test]
    fn bad_secrets_name_the_problem_without_values() {
        let error = SecretCredentials::parse("bedrock/creds", "not json at all").unwrap_err();
        assert!(matches!(error, SecretError::Malformed { .. }));
        assert!(error.to_string().contains("bedrock/creds"));
        let error =
            SecretCredentials::parse("bedrock/creds", r#"{"AWS_ACCESS_KEY_ID": "AKIDVALUE"}"#)
                .unwrap_err();
        assert!(matches!(error, SecretError::MissingKeys { .. }));
        assert!(!error.to_string().contains("AKIDVALUE"));
        let keys = SecretCredentials::parse(
            "s",
            r#"{"AWS_ACCESS_KEY_ID": "A", "AWS_SECRET_ACCESS_KEY": "very-secret"}"#,
        )
        .unwrap();
        assert!(!format!("{keys:?}").contains("very-secret"));
    }
}
