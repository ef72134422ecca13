//! The credentials chain every AWS client of the project uses.

use std::sync::atomic::{AtomicBool, Ordering};

use aws_config::default_provider::credentials::DefaultCredentialsChain;
use aws_config::meta::credentials::CredentialsProviderChain;
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{ProvideCredentials, future};

use crate::ImdsCredentialsProvider;

/// Wraps a provider so that any failure reads as "not loaded", letting a
/// [`CredentialsProviderChain`] move on to the next provider (the SDK's chain stops at the first
/// error that is not "not loaded", e.g. its IMDSv2 provider's on AgentCore's 405).
#[derive(Debug)]
pub struct NotLoadedOnError<P>(pub P);

impl<P: ProvideCredentials> ProvideCredentials for NotLoadedOnError<P> {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(async move {
            self.0
                .provide_credentials()
                .await
                .map_err(CredentialsError::not_loaded)
        })
    }
}

/// The SDK's default chain (environment, profile, web identity, ECS, IMDSv2), then the
/// metadata service with the IMDSv1 fallback that AgentCore's microVM metadata service needs.
///
/// Use it as the credentials provider of an `SdkConfig`:
///
/// ```no_run
/// # async fn run() {
/// let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
///     .credentials_provider(strands_aws::credentials_chain().await)
///     .load()
///     .await;
/// # drop(config);
/// # }
/// ```
pub async fn credentials_chain() -> CredentialsProviderChain {
    let default = DefaultCredentialsChain::builder().build().await;
    CredentialsProviderChain::first_try(
        "DefaultChain",
        Logged::new(
            "the SDK default chain (environment, profile, web identity, container, IMDSv2)",
            NotLoadedOnError(default),
        ),
    )
    .or_else(
        "InstanceMetadata",
        Logged::new(
            "the instance/microVM metadata service (IMDS with IMDSv1 fallback)",
            ImdsCredentialsProvider::from_env(),
        ),
    )
}

/// The default AWS configuration (region, endpoints, retries from the environment and profile)
/// with [`credentials_chain`] as its credentials provider: the configuration every AWS client of
/// the runtime is built from.
pub async fn sdk_config() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .credentials_provider(credentials_chain().await)
        .load()
        .await
}

/// Logs which source produced credentials the first time it does (and whenever it fails after
/// having worked), never the values.
#[derive(Debug)]
pub struct Logged<P> {
    source: &'static str,
    provider: P,
    reported: AtomicBool,
}

impl<P> Logged<P> {
    /// Wraps `provider`, described as `source` in logs.
    pub fn new(source: &'static str, provider: P) -> Self {
        Self {
            source,
            provider,
            reported: AtomicBool::new(false),
        }
    }
}

impl<P: ProvideCredentials> ProvideCredentials for Logged<P> {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(async move {
            let result = self.provider.provide_credentials().await;
            match &result {
                Ok(credentials) if !self.reported.swap(true, Ordering::AcqRel) => {
                    let expiry = credentials.expiry().map(|e| {
                        aws_smithy_types::DateTime::from(e)
                            .fmt(aws_smithy_types::date_time::Format::DateTime)
                            .unwrap_or_default()
                    });
                    tracing::info!(
                        source = self.source,
                        expiry = expiry.as_deref().unwrap_or("none"),
                        "AWS credentials resolved"
                    );
                }
                Err(error) if self.reported.swap(false, Ordering::AcqRel) => {
                    tracing::warn!(source = self.source, %error, "AWS credentials no longer resolve from this source");
                }
                _ => {}
            }
            result
        })
    }
}
