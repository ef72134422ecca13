//! Amazon Bedrock through the official AWS SDK: `ConverseStream` (default) or `Converse`.
//!
//! ```no_run
//! use strands_agent::Agent;
//! use strands_models::bedrock::BedrockModel;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // Model id from MODEL_ID, region and credentials from the usual AWS chain.
//! let _model = BedrockModel::from_env().max_tokens(2048).build().await;
//! // Or explicitly:
//! let model = BedrockModel::builder()
//!     .model_id("us.anthropic.claude-sonnet-4-20250514-v1:0")
//!     .region("us-east-1")
//!     .temperature(0.3)
//!     .build()
//!     .await;
//! let mut agent = Agent::builder().model(model).build()?;
//! println!("{}", agent.invoke("Hello!").await?);
//! # Ok(())
//! # }
//! ```
//!
//! Building is `async` (it may load the default AWS configuration) and cannot fail; see
//! [`BedrockModelBuilder::build`].
//!
//! Python: `strands.models.bedrock.BedrockModel`.

mod document;
mod errors;
mod request;
mod response;

use std::fmt;
use std::sync::Arc;

use aws_config::{BehaviorVersion, SdkConfig};
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_sdk_bedrockruntime::Client;
use aws_sdk_bedrockruntime::types as bedrock;
use futures_core::Stream;
use serde_json::Value;
use strands_core::streaming::RedactContentEvent;
use strands_core::{Model, ModelError, ModelRequest, ModelStream, StreamEvent};

use errors::CallSite;

/// The request members Converse and ConverseStream share; their builders (and guardrail
/// configuration types) are distinct types with the same setters.
macro_rules! with_request {
    ($builder:expr, $model:expr, $parts:expr, $guardrail:ty) => {
        $builder
            .model_id(&$model.config.model_id)
            .set_messages(Some($parts.messages))
            .set_system($parts.system)
            .set_tool_config($parts.tool_config)
            .set_inference_config($parts.inference)
            .set_additional_model_request_fields($parts.additional_fields)
            .set_guardrail_config($model.config.guardrail.as_ref().map(|g| {
                <$guardrail>::builder()
                    .guardrail_identifier(&g.id)
                    .guardrail_version(&g.version)
                    .trace(trace_setting(g.trace))
                    .build()
            }))
    };
}

/// Python's default model id.
pub const DEFAULT_MODEL_ID: &str = "global.anthropic.claude-sonnet-4-6";
/// Python's fallback region when none is configured.
pub const DEFAULT_REGION: &str = "us-west-2";

/// A guardrail applied to every call, and what to do when it blocks.
///
/// Python: the `guardrail_*` keys of `BedrockConfig`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Guardrail {
    /// The guardrail identifier.
    pub id: String,
    /// The guardrail version.
    pub version: String,
    /// Ask Bedrock for the trace (default on; needed to tell blocked from masked content).
    pub trace: bool,
    /// Replace the user's input in history when blocked (default on).
    pub redact_input: Option<String>,
    /// Replace the assistant's output when blocked (default off).
    pub redact_output: Option<String>,
}

impl Guardrail {
    /// A guardrail with Python's defaults: trace on, input redacted as `[User input redacted.]`,
    /// output kept.
    pub fn new(id: impl Into<String>, version: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            version: version.into(),
            trace: true,
            redact_input: Some("[User input redacted.]".to_owned()),
            redact_output: None,
        }
    }

    /// Also redacts the assistant's output when the guardrail blocks, with Python's text.
    #[must_use]
    pub fn redact_output(mut self) -> Self {
        self.redact_output = Some("[Assistant output redacted.]".to_owned());
        self
    }
}

/// What a [`BedrockModel`] sends with every call.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct BedrockConfig {
    /// The model or inference profile id.
    pub model_id: String,
    /// `inferenceConfig.maxTokens`.
    pub max_tokens: Option<i32>,
    /// `inferenceConfig.temperature`.
    pub temperature: Option<f32>,
    /// `inferenceConfig.topP`.
    pub top_p: Option<f32>,
    /// `inferenceConfig.stopSequences`.
    pub stop_sequences: Vec<String>,
    /// `additionalModelRequestFields` (e.g. `{"thinking": {...}}`); dropped when a tool is forced.
    pub additional_request_fields: Option<Value>,
    /// Guardrail settings.
    pub guardrail: Option<Guardrail>,
    /// `true` (default): ConverseStream; `false`: Converse, replayed as stream events.
    pub streaming: bool,
    /// Send `status` on tool results; `None` (default) sends it for Claude models only.
    pub include_tool_result_status: Option<bool>,
}

/// Amazon Bedrock as a Strands [`Model`].
///
/// Bedrock's errors become typed [`ModelError`]s that say what to do: throttling (retried by
/// the agent), context overflow, a raw model id that needs an inference profile, model access not
/// granted, rejected credentials, validation errors with Bedrock's text.
#[derive(Clone)]
pub struct BedrockModel {
    client: Client,
    config: BedrockConfig,
    region: String,
    on_credentials_rejected: Option<Arc<dyn Fn() + Send + Sync>>,
}

impl fmt::Debug for BedrockModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BedrockModel")
            .field("config", &self.config)
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

impl BedrockModel {
    /// Starts configuring a model (Python's default model id unless set).
    pub fn builder() -> BedrockModelBuilder {
        BedrockModelBuilder::default()
    }

    /// A builder with the model id from `MODEL_ID` (Python's default when unset).
    pub fn from_env() -> BedrockModelBuilder {
        let builder = Self::builder();
        match std::env::var("MODEL_ID") {
            Ok(id) if !id.trim().is_empty() => builder.model_id(id.trim()),
            _ => builder,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &BedrockConfig {
        &self.config
    }

    /// The region calls go to.
    pub fn region(&self) -> &str {
        &self.region
    }

    fn site(&self) -> CallSite<'_> {
        CallSite {
            model_id: &self.config.model_id,
            region: &self.region,
        }
    }

    fn redaction_events(&self) -> Vec<StreamEvent> {
        let Some(guardrail) = &self.config.guardrail else {
            return Vec::new();
        };
        let mut events = Vec::new();
        if let Some(text) = &guardrail.redact_input {
            events.push(StreamEvent::RedactContent(RedactContentEvent::new(
                Some(text.clone()),
                None,
            )));
        }
        if let Some(text) = &guardrail.redact_output {
            events.push(StreamEvent::RedactContent(RedactContentEvent::new(
                None,
                Some(text.clone()),
            )));
        }
        events
    }

    /// Runs `call`; when Bedrock rejects the credentials and a refresh hook is set, refreshes
    /// them and runs it once more (rotated keys are picked up without a restart).
    async fn retry_on_rejected_credentials<T, F, Fut>(&self, call: F) -> Result<T, ModelError>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<T, ModelError>>,
    {
        match call().await {
            Err(ModelError::Credentials { message }) if self.on_credentials_rejected.is_some() => {
                tracing::warn!(
                    model_id = %self.config.model_id,
                    "Bedrock rejected the credentials; refreshing them and retrying once"
                );
                if let Some(refresh) = &self.on_credentials_rejected {
                    refresh();
                }
                call().await.map_err(|error| match error {
                    ModelError::Credentials { .. } => ModelError::credentials(format!(
                        "{message} (still rejected after refreshing the credentials)"
                    )),
                    other => other,
                })
            }
            other => other,
        }
    }

    async fn send_stream(
        &self,
        parts: request::Parts,
    ) -> Result<aws_sdk_bedrockruntime::operation::converse_stream::ConverseStreamOutput, ModelError>
    {
        with_request!(
            self.client.converse_stream(),
            self,
            parts,
            bedrock::GuardrailStreamConfiguration
        )
        .send()
        .await
        .map_err(|e| errors::operation_error(e, self.site()))
    }

    async fn send_converse(
        &self,
        parts: request::Parts,
    ) -> Result<aws_sdk_bedrockruntime::operation::converse::ConverseOutput, ModelError> {
        with_request!(
            self.client.converse(),
            self,
            parts,
            bedrock::GuardrailConfiguration
        )
        .send()
        .await
        .map_err(|e| errors::operation_error(e, self.site()))
    }

    fn stream_impl<'a>(
        &'a self,
        request: ModelRequest<'a>,
    ) -> impl Stream<Item = Result<StreamEvent, ModelError>> + Send + 'a {
        async_stream::try_stream! {
            let parts = request::Parts::new(&self.config, &request)
                .map_err(|e| ModelError::invalid_request(format!("could not build the Bedrock request: {e}")))?;
            tracing::debug!(model_id = %self.config.model_id, streaming = self.config.streaming, "calling Bedrock");
            if self.config.streaming {
                let mut output = self
                    .retry_on_rejected_credentials(|| self.send_stream(parts.clone()))
                    .await?;
                let mut stop_reason = None;
                let mut blocked = None;
                while let Some(event) = output
                    .stream
                    .recv()
                    .await
                    .map_err(|e| errors::stream_error(e, self.site()))?
                {
                    if let Some(b) = response::guardrail_blocked(&event) {
                        blocked = Some(b);
                    }
                    if let bedrock::ConverseStreamOutput::MessageStop(stop) = &event {
                        stop_reason = Some(stop.stop_reason.clone());
                    }
                    if let Some(event) = response::stream_event(event) {
                        yield event;
                    }
                }
                if stop_reason.is_none() {
                    // A clean end without messageStop is a cut answer, not a finished one.
                    Err(ModelError::stream(
                        "the Bedrock stream ended before messageStop; the answer is incomplete",
                        None,
                    ))?;
                }
                if should_redact(blocked, stop_reason.as_ref()) {
                    for event in self.redaction_events() {
                        yield event;
                    }
                }
            } else {
                let output = self
                    .retry_on_rejected_credentials(|| self.send_converse(parts.clone()))
                    .await?;
                let blocked = output.trace.as_ref().and_then(|t| t.guardrail.as_ref()).map(response::trace_blocked);
                let stop_reason = output.stop_reason.clone();
                for event in response::converse_events(output) {
                    yield event;
                }
                if should_redact(blocked, Some(&stop_reason)) {
                    for event in self.redaction_events() {
                        yield event;
                    }
                }
            }
        }
    }
}

/// Python's `_should_redact_guardrail_content`: trust the trace when there is one (only blocked
/// content is redacted; masked content is already replaced), else the stop reason.
fn should_redact(blocked: Option<bool>, stop_reason: Option<&bedrock::StopReason>) -> bool {
    blocked.unwrap_or(matches!(
        stop_reason,
        Some(bedrock::StopReason::GuardrailIntervened)
    ))
}

fn trace_setting(enabled: bool) -> bedrock::GuardrailTrace {
    if enabled {
        bedrock::GuardrailTrace::Enabled
    } else {
        bedrock::GuardrailTrace::Disabled
    }
}

impl Model for BedrockModel {
    fn model_id(&self) -> &str {
        &self.config.model_id
    }

    fn stream<'a>(&'a self, request: ModelRequest<'a>) -> ModelStream<'a> {
        Box::pin(self.stream_impl(request))
    }
}

/// Configures a [`BedrockModel`].
#[derive(Default)]
#[must_use]
pub struct BedrockModelBuilder {
    model_id: Option<String>,
    region: Option<String>,
    endpoint_url: Option<String>,
    sdk_config: Option<SdkConfig>,
    credentials: Option<SharedCredentialsProvider>,
    on_credentials_rejected: Option<Arc<dyn Fn() + Send + Sync>>,
    max_tokens: Option<i32>,
    temperature: Option<f32>,
    top_p: Option<f32>,
    stop_sequences: Vec<String>,
    additional_request_fields: Option<Value>,
    guardrail: Option<Guardrail>,
    streaming: Option<bool>,
    include_tool_result_status: Option<bool>,
}

impl fmt::Debug for BedrockModelBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BedrockModelBuilder")
            .field("model_id", &self.model_id)
            .field("region", &self.region)
            .field("endpoint_url", &self.endpoint_url)
            .field(
                "credentials",
                &self.credentials.as_ref().map(|_| "(set, hidden)"),
            )
            .finish_non_exhaustive()
    }
}

impl BedrockModelBuilder {
    /// The model or inference profile id, e.g. `us.anthropic.claude-sonnet-4-20250514-v1:0`.
    pub fn model_id(mut self, model_id: impl Into<String>) -> Self {
        self.model_id = Some(model_id.into());
        self
    }

    /// The model id this builder will use (Python's default unless set).
    pub fn configured_model_id(&self) -> &str {
        self.model_id.as_deref().unwrap_or(DEFAULT_MODEL_ID)
    }

    /// The region (else the SDK config's, else `AWS_REGION`/`AWS_DEFAULT_REGION`/profile, else
    /// `us-west-2` as in Python).
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// A custom endpoint (VPC endpoint, proxy, or a test double).
    pub fn endpoint_url(mut self, url: impl Into<String>) -> Self {
        self.endpoint_url = Some(url.into());
        self
    }

    /// Use this SDK configuration instead of loading the default one.
    pub fn sdk_config(mut self, config: SdkConfig) -> Self {
        self.sdk_config = Some(config);
        self
    }

    /// Sign calls with these credentials instead of the configuration's.
    pub fn credentials_provider(mut self, provider: impl ProvideCredentials + 'static) -> Self {
        self.credentials = Some(SharedCredentialsProvider::new(provider));
        self
    }

    /// Called when Bedrock rejects the credentials (expired, rotated); the call is then retried
    /// once. Use it to make a credentials source re-read its keys, e.g.
    /// `SecretsManagerCredentials::invalidate` from `strands-aws`.
    pub fn on_credentials_rejected(mut self, refresh: impl Fn() + Send + Sync + 'static) -> Self {
        self.on_credentials_rejected = Some(Arc::new(refresh));
        self
    }

    /// `inferenceConfig.maxTokens`.
    pub fn max_tokens(mut self, max_tokens: i32) -> Self {
        self.max_tokens = Some(max_tokens);
        self
    }

    /// `inferenceConfig.temperature`.
    pub fn temperature(mut self, temperature: f32) -> Self {
        self.temperature = Some(temperature);
        self
    }

    /// `inferenceConfig.topP`.
    pub fn top_p(mut self, top_p: f32) -> Self {
        self.top_p = Some(top_p);
        self
    }

    /// `inferenceConfig.stopSequences`.
    pub fn stop_sequences(
        mut self,
        stop_sequences: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        self.stop_sequences = stop_sequences.into_iter().map(Into::into).collect();
        self
    }

    /// `additionalModelRequestFields`, e.g. `json!({"thinking": {"type": "enabled", "budget_tokens": 1024}})`.
    pub fn additional_request_fields(mut self, fields: Value) -> Self {
        self.additional_request_fields = Some(fields);
        self
    }

    /// Applies a guardrail to every call.
    pub fn guardrail(mut self, guardrail: Guardrail) -> Self {
        self.guardrail = Some(guardrail);
        self
    }

    /// `false` uses Converse instead of ConverseStream.
    pub fn streaming(mut self, streaming: bool) -> Self {
        self.streaming = Some(streaming);
        self
    }

    /// Whether tool results carry `status` (default: Claude models only, as in Python).
    pub fn include_tool_result_status(mut self, include: bool) -> Self {
        self.include_tool_result_status = Some(include);
        self
    }

    /// Builds the model. Without an [SDK config](Self::sdk_config), the default AWS
    /// configuration is loaded (environment, profile, container and instance credentials);
    /// credentials are resolved at the first call, not here.
    ///
    /// Unlike the other providers' `build()`, this one is `async`, because loading the AWS
    /// configuration is: it reads the profile files and may ask the instance metadata service
    /// for the region, and the SDK offers no blocking way to do so. Given an SDK config, it does
    /// no I/O. It cannot fail, so it returns the model rather than a `Result`: every setting is
    /// checked by Bedrock at the first call, and the SDK config loader itself falls back to
    /// defaults instead of failing.
    pub async fn build(self) -> BedrockModel {
        let sdk_config = match self.sdk_config {
            Some(config) => config,
            None => {
                let mut loader = aws_config::defaults(BehaviorVersion::latest());
                if let Some(region) = &self.region {
                    loader = loader.region(aws_config::Region::new(region.clone()));
                }
                if let Some(credentials) = &self.credentials {
                    loader = loader.credentials_provider(credentials.clone());
                }
                loader.load().await
            }
        };
        let region = self
            .region
            .or_else(|| sdk_config.region().map(ToString::to_string))
            .unwrap_or_else(|| DEFAULT_REGION.to_owned());
        let mut client_config = aws_sdk_bedrockruntime::config::Builder::from(&sdk_config)
            .region(aws_config::Region::new(region.clone()));
        if let Some(credentials) = self.credentials {
            client_config = client_config.credentials_provider(credentials);
        }
        if let Some(url) = self.endpoint_url {
            client_config = client_config.endpoint_url(url);
        }
        if self.on_credentials_rejected.is_some() {
            // The credentials source decides when to re-read keys; the SDK's cache would keep
            // serving rejected ones.
            client_config = client_config
                .identity_cache(aws_sdk_bedrockruntime::config::IdentityCache::no_cache());
        }
        BedrockModel {
            client: Client::from_conf(client_config.build()),
            config: BedrockConfig {
                model_id: self.model_id.unwrap_or_else(|| DEFAULT_MODEL_ID.to_owned()),
                max_tokens: self.max_tokens,
                temperature: self.temperature,
                top_p: self.top_p,
                stop_sequences: self.stop_sequences,
                additional_request_fields: self.additional_request_fields,
                guardrail: self.guardrail,
                streaming: self.streaming.unwrap_or(true),
                include_tool_result_status: self.include_tool_result_status,
            },
            region,
            on_credentials_rejected: self.on_credentials_rejected,
        }
    }
}
