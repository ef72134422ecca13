//! AWS credentials that work inside Amazon Bedrock AgentCore, for the (unofficial) Rust port of
//! Strands Agents.
//!
//! AgentCore injects no credential environment variables, and its microVM metadata service
//! answers the IMDSv2 token request with `405`, which the Rust SDK treats as a hard error.
//! [`credentials_chain`] is the SDK's default chain followed by an IMDS provider that falls back
//! to tokenless (IMDSv1) requests; [`SecretsManagerCredentials`] serves keys kept in a Secrets
//! Manager secret, re-read on rotation ([`SecretsManagerCredentials::from_env`] reads the one
//! `BEDROCK_CREDENTIALS_SECRET` names).

#[cfg(any(feature = "agentcore-memory", feature = "agentcore-identity"))]
mod agentcore;
mod chain;
mod env_report;
#[cfg(feature = "agentcore-identity")]
pub mod identity;
mod imds;
#[cfg(feature = "agentcore-memory")]
pub mod memory;
#[cfg(feature = "s3-sessions")]
pub mod s3_sessions;
mod secrets;

#[doc(inline)]
pub use chain::{Logged, NotLoadedOnError, credentials_chain, sdk_config};
#[doc(inline)]
pub use env_report::{CREDENTIAL_ENV_VARS, log_credential_env, presence};
#[cfg(feature = "agentcore-identity")]
#[doc(inline)]
pub use identity::AgentCoreIdentity;
#[doc(inline)]
pub use imds::{ImdsCredentialsProvider, ImdsCredentialsProviderBuilder};
#[cfg(feature = "agentcore-memory")]
#[doc(inline)]
pub use memory::{AgentCoreMemory, MemorySessionRepository};
#[cfg(feature = "s3-sessions")]
#[doc(inline)]
pub use s3_sessions::S3SessionRepository;
#[doc(inline)]
pub use secrets::{DEFAULT_REFRESH, SecretError};
#[doc(inline)]
pub use secrets::{SecretCredentials, SecretsManagerCredentials};
