//! Which model provider the binary serves, chosen by configuration.
//!
//! `--provider` (or `MODEL_PROVIDER`) selects one of [`Provider`]; Bedrock is the default, as
//! inside AgentCore. The choice is logged at start-up and nothing falls back silently: a
//! provider that is not configured (no API key, no model id) or not compiled into the binary is
//! an error that says what to set.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use strands_core::{Model, ModelError};
use strands_models::LazyModel;
use strands_models::bedrock::BedrockModel;

/// A model provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Provider {
    /// Amazon Bedrock (ConverseStream), with the AgentCore-aware credentials chain.
    #[default]
    Bedrock,
    /// Anthropic's Messages API (`ANTHROPIC_API_KEY`).
    Anthropic,
    /// An OpenAI-compatible chat-completions server (`OPENAI_BASE_URL`, `OPENAI_API_KEY`).
    OpenAi,
    /// The embedded llama.cpp model (Qwen2.5-Coder-0.5B-Instruct by default), fully offline.
    Local,
}

impl Provider {
    /// Every provider, in the order they are documented.
    const ALL: [Self; 4] = [Self::Bedrock, Self::Anthropic, Self::OpenAi, Self::Local];

    /// The name used on the command line and in `MODEL_PROVIDER`.
    fn as_str(self) -> &'static str {
        match self {
            Self::Bedrock => "bedrock",
            Self::Anthropic => "anthropic",
            Self::OpenAi => "openai",
            Self::Local => "local",
        }
    }

    /// The cargo feature that compiles the provider in.
    fn feature(self) -> &'static str {
        match self {
            Self::Local => "llama-cpp",
            other => other.as_str(),
        }
    }

    /// Whether this binary was built with the provider.
    fn is_compiled(self) -> bool {
        match self {
            Self::Bedrock => true,
            Self::Anthropic => cfg!(feature = "anthropic"),
            Self::OpenAi => cfg!(feature = "openai"),
            Self::Local => cfg!(feature = "llama-cpp"),
        }
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Provider {
    type Err = ProviderError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|p| p.as_str() == wanted || (wanted == "ollama" && *p == Self::OpenAi))
            .ok_or_else(|| ProviderError::Unknown(s.to_owned()))
    }
}

/// Why the configured provider cannot be used.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ProviderError {
    /// The name is not a provider.
    #[error("unknown model provider {0:?}; use one of: bedrock, anthropic, openai, local")]
    Unknown(String),
    /// The binary was built without it.
    #[error(
        "this binary was built without the `{0}` provider; rebuild with `cargo build --release -p strands-runtime --features {feature}`", feature = .0.feature()
    )]
    NotCompiled(Provider),
    /// A required setting is missing or invalid.
    #[error("the {provider} provider is not configured: {message}")]
    Config {
        /// The provider.
        provider: Provider,
        /// What to set.
        message: String,
    },
}

/// What to build: the provider, the model id (`--model-id` / `MODEL_ID`) and the settings an
/// agent file may give.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct ProviderConfig {
    /// The provider.
    pub(crate) provider: Provider,
    /// The model id; each provider has its own default or requires one.
    model_id: Option<String>,
    /// Generation settings and endpoints; unset ones keep the provider's defaults.
    pub(crate) settings: ModelSettings,
}

/// Model settings beyond the id, each applied to the providers that have it.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct ModelSettings {
    /// The most tokens an answer may have.
    pub(crate) max_tokens: Option<u32>,
    /// Sampling temperature.
    pub(crate) temperature: Option<f32>,
    /// Nucleus sampling.
    pub(crate) top_p: Option<f32>,
    /// Bedrock's region (wins over `AWS_REGION`).
    pub(crate) region: Option<String>,
    /// Anthropic's or the OpenAI-compatible server's URL (wins over `*_BASE_URL`).
    pub(crate) base_url: Option<String>,
}

impl ModelSettings {
    /// The sampling settings as request fields (`max_tokens`, `temperature`, `top_p`).
    #[cfg_attr(
        not(any(feature = "anthropic", feature = "openai")),
        allow(dead_code, reason = "used by the optional providers")
    )]
    fn params(&self, with_max_tokens: bool) -> serde_json::Map<String, serde_json::Value> {
        let mut params = serde_json::Map::new();
        if let Some(max_tokens) = self.max_tokens.filter(|_| with_max_tokens) {
            params.insert("max_tokens".to_owned(), max_tokens.into());
        }
        if let Some(temperature) = self.temperature {
            params.insert("temperature".to_owned(), f64::from(temperature).into());
        }
        if let Some(top_p) = self.top_p {
            params.insert("top_p".to_owned(), f64::from(top_p).into());
        }
        params
    }
}

impl ProviderConfig {
    /// A configuration for `provider`.
    fn new(provider: Provider) -> Self {
        Self {
            provider,
            model_id: None,
            settings: ModelSettings::default(),
        }
    }

    /// The same configuration with a model id.
    #[must_use]
    pub(crate) fn with_model_id(mut self, model_id: impl Into<String>) -> Self {
        self.model_id = Some(model_id.into()).filter(|m: &String| !m.trim().is_empty());
        self
    }

    /// The model id, when one is set.
    pub(crate) fn model_id(&self) -> Option<&str> {
        self.model_id.as_deref()
    }

    /// Reads `MODEL_PROVIDER` and `MODEL_ID`.
    ///
    /// # Errors
    ///
    /// [`ProviderError::Unknown`] for an unknown `MODEL_PROVIDER`.
    pub(crate) fn from_env() -> Result<Self, ProviderError> {
        let provider = match non_empty_env("MODEL_PROVIDER") {
            Some(name) => name.parse()?,
            None => Provider::default(),
        };
        let mut config = Self::new(provider);
        if let Some(model_id) = non_empty_env("MODEL_ID") {
            config = config.with_model_id(model_id);
        }
        Ok(config)
    }

    /// Checks what [`build`](Self::build) would refuse, without starting anything: the
    /// provider is compiled in, and Anthropic and OpenAI-compatible models have what they need
    /// (a model id, a key).
    ///
    /// # Errors
    ///
    /// As [`build`](Self::build).
    pub(crate) fn check(&self) -> Result<(), ProviderError> {
        if !self.provider.is_compiled() {
            return Err(ProviderError::NotCompiled(self.provider));
        }
        match self.provider {
            Provider::Anthropic => anthropic_model(self).map(drop),
            Provider::OpenAi => openai_model(self).map(drop),
            Provider::Bedrock | Provider::Local => Ok(()),
        }
    }

    /// Builds the model without waiting: Bedrock's AWS configuration and the local model's
    /// weights are prepared in the background from start-up (so `/ping` answers at once) and
    /// awaited by the first invocation; credentials resolve at the first call.
    ///
    /// # Errors
    ///
    /// The provider is not compiled in or not configured.
    pub(crate) async fn build(&self) -> Result<Arc<dyn Model>, ProviderError> {
        if !self.provider.is_compiled() {
            return Err(ProviderError::NotCompiled(self.provider));
        }
        let model_id = self.model_id.clone();
        let settings = self.settings.clone();
        match self.provider {
            Provider::Bedrock => Ok(in_background(
                bedrock_model_id(self.model_id.as_deref()),
                async move { Ok(bedrock_model(model_id, settings).await) },
            )),
            Provider::Anthropic => anthropic_model(self),
            Provider::OpenAi => openai_model(self),
            Provider::Local => local_model(self),
        }
    }
}

fn non_empty_env(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

#[cfg_attr(
    not(any(feature = "anthropic", feature = "openai")),
    allow(dead_code, reason = "used by the optional providers")
)]
fn config_error(provider: Provider, message: impl Into<String>) -> ProviderError {
    ProviderError::Config {
        provider,
        message: message.into(),
    }
}

/// A model whose construction runs on a background task from now on; calls wait for it.
fn in_background(
    model_id: String,
    build: impl std::future::Future<Output = Result<Arc<dyn Model>, ModelError>> + Send + 'static,
) -> Arc<dyn Model> {
    // On a thread of its own: building loads TLS roots and the AWS configuration, milliseconds of
    // CPU that, on a one-core machine, would otherwise hold the only async worker and hold up
    // the first `/ping` until they are done.
    let runtime = tokio::runtime::Handle::current();
    let handle = tokio::task::spawn_blocking(move || runtime.block_on(build));
    let handle = Arc::new(tokio::sync::Mutex::new(Some(handle)));
    Arc::new(LazyModel::new(model_id, move || {
        let handle = handle.clone();
        Box::pin(async move {
            // The handle stays in its slot while awaited: a call dropped meanwhile (a client
            // that went away) leaves it for the next call instead of losing the build.
            let mut slot = handle.lock().await;
            let Some(task) = slot.as_mut() else {
                return Err(ModelError::provider(
                    "building the model failed earlier; see the log and restart",
                    None,
                ));
            };
            let built = task.await;
            *slot = None;
            built.map_err(|e| {
                ModelError::provider(format!("building the model failed: {e}"), None)
            })?
        })
    }))
}

fn bedrock_model_id(model_id: Option<&str>) -> String {
    match model_id {
        Some(id) => id.to_owned(),
        None => BedrockModel::from_env().configured_model_id().to_owned(),
    }
}

#[cfg(feature = "anthropic")]
fn anthropic_model(config: &ProviderConfig) -> Result<Arc<dyn Model>, ProviderError> {
    use strands_models::anthropic::AnthropicModel;
    let model_id = config.model_id.clone().ok_or_else(|| {
        config_error(
            Provider::Anthropic,
            "set MODEL_ID (or --model-id) to an Anthropic model, e.g. claude-sonnet-4-5",
        )
    })?;
    let mut builder = AnthropicModel::builder().model_id(model_id);
    if let Some(url) = config
        .settings
        .base_url
        .clone()
        .or_else(|| non_empty_env("ANTHROPIC_BASE_URL"))
    {
        builder = builder.base_url(url);
    }
    if let Some(max_tokens) = config.settings.max_tokens {
        builder = builder.max_tokens(max_tokens);
    }
    let params = config.settings.params(false);
    if !params.is_empty() {
        builder = builder.params(params.into());
    }
    let model = builder
        .build()
        .map_err(|e| config_error(Provider::Anthropic, e.to_string()))?;
    Ok(Arc::new(model))
}

#[cfg(not(feature = "anthropic"))]
fn anthropic_model(_: &ProviderConfig) -> Result<Arc<dyn Model>, ProviderError> {
    Err(ProviderError::NotCompiled(Provider::Anthropic))
}

#[cfg(feature = "openai")]
fn openai_model(config: &ProviderConfig) -> Result<Arc<dyn Model>, ProviderError> {
    use strands_models::openai::OpenAiModel;
    let model_id = config.model_id.clone().ok_or_else(|| {
        config_error(
            Provider::OpenAi,
            "set MODEL_ID (or --model-id) to the served model, e.g. gpt-4o-mini, or llama3.2 for Ollama",
        )
    })?;
    let mut builder = OpenAiModel::builder().model_id(model_id);
    if let Some(url) = config
        .settings
        .base_url
        .clone()
        .or_else(|| non_empty_env("OPENAI_BASE_URL"))
    {
        builder = builder.base_url(url);
    }
    let params = config.settings.params(true);
    if !params.is_empty() {
        builder = builder.params(params.into());
    }
    let model = builder
        .build()
        .map_err(|e| config_error(Provider::OpenAi, e.to_string()))?;
    Ok(Arc::new(model))
}

#[cfg(not(feature = "openai"))]
fn openai_model(_: &ProviderConfig) -> Result<Arc<dyn Model>, ProviderError> {
    Err(ProviderError::NotCompiled(Provider::OpenAi))
}

/// Answers of the small default model drift after a few hundred tokens; bound them.
#[cfg(feature = "llama-cpp")]
const LOCAL_MAX_TOKENS: u32 = 512;

#[cfg(feature = "llama-cpp")]
fn local_model(config: &ProviderConfig) -> Result<Arc<dyn Model>, ProviderError> {
    use strands_models::local::{LocalModel, ensure_default_model};
    // STRANDS_LOCAL_MODEL_PATH is honoured by ensure_default_model.
    let explicit = config.model_id.clone();
    let model_id = explicit
        .clone()
        .unwrap_or_else(|| "qwen2.5-coder-0.5b-instruct-q4_k_m".to_owned());
    let settings = config.settings.clone();
    // Fetch (once) and load in the background from start-up, so progress shows immediately;
    // the first invocation waits for it.
    Ok(in_background(model_id, async move {
        let path = match explicit {
            Some(path) => std::path::PathBuf::from(path),
            // Progress is logged by the download itself.
            None => ensure_default_model(|_| {})
                .await
                .map_err(|e| ModelError::provider(e.to_string(), None))?,
        };
        // Loading maps ~100 MB of weights: off the async workers.
        let model = tokio::task::spawn_blocking(move || {
            let mut builder = LocalModel::builder()
                .model_path(path)
                .max_tokens(settings.max_tokens.unwrap_or(LOCAL_MAX_TOKENS));
            if let Some(temperature) = settings.temperature {
                builder = builder.temperature(temperature);
            }
            if let Some(top_p) = settings.top_p {
                builder = builder.top_p(top_p);
            }
            builder.build()
        })
        .await
        .map_err(|e| ModelError::provider(format!("loading the local model failed: {e}"), None))?
        .map_err(|e| ModelError::provider(e.to_string(), None))?;
        Ok(Arc::new(model) as Arc<dyn Model>)
    }))
}

#[cfg(not(feature = "llama-cpp"))]
fn local_model(_: &ProviderConfig) -> Result<Arc<dyn Model>, ProviderError> {
    Err(ProviderError::NotCompiled(Provider::Local))
}

/// Bedrock with the project's credentials chain (SDK default chain, then the metadata service
/// with the IMDSv1 fallback AgentCore needs), or with keys from the Secrets Manager secret named by
/// `BEDROCK_CREDENTIALS_SECRET` (read with the chain's credentials, re-read on rotation; a region
/// in the secret is used for Bedrock). Nothing here waits on the network: credentials resolve at
/// the first call, so `/ping` answers whatever their state.
async fn bedrock_model(model_id: Option<String>, settings: ModelSettings) -> Arc<dyn Model> {
    let builder = move || {
        let mut builder = BedrockModel::from_env();
        if let Some(id) = &model_id {
            builder = builder.model_id(id.clone());
        }
        if let Some(max_tokens) = settings.max_tokens {
            builder = builder.max_tokens(i32::try_from(max_tokens).unwrap_or(i32::MAX));
        }
        if let Some(temperature) = settings.temperature {
            builder = builder.temperature(temperature);
        }
        if let Some(top_p) = settings.top_p {
            builder = builder.top_p(top_p);
        }
        if let Some(region) = &settings.region {
            builder = builder.region(region.clone());
        }
        builder
    };
    strands_aws::log_credential_env();
    let base = strands_aws::sdk_config().await;
    let Some(credentials) = strands_aws::SecretsManagerCredentials::from_env(&base) else {
        tracing::info!("Bedrock credentials come from the credentials chain");
        if let Some(provider) = base.credentials_provider() {
            // Resolve once in the background so the log names the source (or the problem).
            tokio::spawn(async move {
                use aws_credential_types::provider::ProvideCredentials as _;
                if let Err(error) = provider.provide_credentials().await {
                    tracing::error!(
                        "no AWS credentials found ({error}); inside AgentCore the execution role comes from the metadata service, elsewhere set AWS credentials, AWS_PROFILE or BEDROCK_CREDENTIALS_SECRET (run `strands-runtime doctor`)"
                    );
                }
            });
        }
        return Arc::new(builder().sdk_config(base).build().await);
    };

    tracing::info!(
        secret_id = %credentials.secret_id(),
        refresh_seconds = credentials.refresh_interval().as_secs(),
        "Bedrock credentials come from a Secrets Manager secret, read with the credentials chain"
    );
    // Read the secret once in the background: problems show up in the log at start-up with
    // their fix, without delaying /ping.
    let check = credentials.clone();
    tokio::spawn(async move {
        if let Err(error) = check.current().await {
            tracing::error!("Bedrock credentials are unavailable: {error}");
        }
    });
    let configured = builder().configured_model_id().to_owned();
    Arc::new(LazyModel::new(configured, move || {
        let (base, credentials, builder) = (base.clone(), credentials.clone(), builder());
        Box::pin(async move {
            // The secret may name the region its keys are for; it wins over AWS_REGION.
            let keys = credentials
                .current()
                .await
                .map_err(|e| ModelError::credentials(e.to_string()))?;
            let mut builder = builder.sdk_config(base);
            if let Some(region) = &keys.region {
                tracing::info!(region = %region, "using the region named by the credentials secret");
                builder = builder.region(region.clone());
            }
            let refresher = credentials.clone();
            let model = builder
                .credentials_provider(credentials)
                .on_credentials_rejected(move || refresher.invalidate())
                .build()
                .await;
            Ok(Arc::new(model) as Arc<dyn Model>)
        })
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_names_parse_and_unknown_names_list_the_choices() {
        for provider in Provider::ALL {
            assert_eq!(provider.as_str().parse::<Provider>().ok(), Some(provider));
        }
        assert_eq!(" Ollama ".parse::<Provider>().ok(), Some(Provider::OpenAi));
        let error = "gemini".parse::<Provider>().err().map(|e| e.to_string());
        assert_eq!(
            error.as_deref(),
            Some(
                "unknown model provider \"gemini\"; use one of: bedrock, anthropic, openai, local"
            )
        );
    }
}
