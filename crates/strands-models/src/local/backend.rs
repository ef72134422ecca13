//! The process-wide llama.cpp backend and its logging.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use llama_cpp_2::LogOptions;
use llama_cpp_2::llama_backend::LlamaBackend;

use super::LocalBuildError;

/// llama.cpp's backend can be initialised once per process (`LlamaBackend::init` fails the
/// second time), so every model shares this one.
static BACKEND: OnceLock<Result<LlamaBackend, String>> = OnceLock::new();

/// Whether llama.cpp's log lines go to `tracing` instead of nowhere.
static LOGS_TO_TRACING: AtomicBool = AtomicBool::new(false);

/// The shared backend, initialised on first use with llama.cpp's own logging silenced (it
/// prints hundreds of lines to stderr while loading a model).
pub(super) fn backend() -> Result<&'static LlamaBackend, LocalBuildError> {
    BACKEND
        .get_or_init(|| {
            let mut backend = LlamaBackend::init().map_err(|error| error.to_string())?;
            if LOGS_TO_TRACING.load(Ordering::Acquire) {
                llama_cpp_2::send_logs_to_tracing(LogOptions::default());
            } else {
                backend.void_logs();
            }
            Ok(backend)
        })
        .as_ref()
        .map_err(|message| LocalBuildError::Backend {
            message: message.clone(),
        })
}

/// Sends llama.cpp's and ggml's log lines to `tracing` (target `llama-cpp-2`, at llama.cpp's
/// own levels: model loading logs at `info`) instead of discarding them, which is the default.
/// Call it before building the first model to see the loading messages; filter them with
/// `llama-cpp-2=warn` in an `EnvFilter`.
///
/// ```
/// strands_models::local::log_llama_cpp_to_tracing();
/// ```
pub fn log_llama_cpp_to_tracing() {
    LOGS_TO_TRACING.store(true, Ordering::Release);
    if BACKEND.get().is_some() {
        llama_cpp_2::send_logs_to_tracing(LogOptions::default());
    }
}
