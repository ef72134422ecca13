//! The local provider's errors: why a model could not be built ([`LocalBuildError`]), and
//! llama.cpp failures during a call → [`ModelError`], so the agent knows a full context from a
//! broken backend.
//!
//! Downloading the default weights is a separate step with its own error
//! ([`DownloadError`](super::DownloadError)).

use std::path::PathBuf;

use llama_cpp_2::llama_batch::BatchAddError;
use llama_cpp_2::{DecodeError, LlamaContextLoadError};
use strands_core::{BoxError, ModelError};

/// Why a [`LocalModel`](super::LocalModel) could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LocalBuildError {
    /// The builder was given no model file.
    #[error(
        "no model file was set; pass a GGUF path to LocalModelBuilder::model_path (ensure_default_model() downloads the default one)"
    )]
    MissingModelPath,
    /// The model file does not exist.
    #[error(
        "the model file {} does not exist; check the path (or STRANDS_LOCAL_MODEL_PATH), or call ensure_default_model() to download the default model",
        path.display()
    )]
    NotFound {
        /// The missing file.
        path: PathBuf,
    },
    /// llama.cpp could not load the file.
    #[error(
        "llama.cpp could not load {} as a model; is it a complete GGUF file of an architecture this llama.cpp supports?",
        path.display()
    )]
    Load {
        /// The file.
        path: PathBuf,
        /// What llama.cpp reported.
        #[source]
        source: BoxError,
    },
    /// A setting is out of range.
    #[error("invalid local model setting: {message}")]
    InvalidConfig {
        /// What is wrong.
        message: String,
    },
    /// The llama.cpp backend could not be initialised.
    #[error(
        "the llama.cpp backend could not be initialised: {message}; it can be initialised once per process, so another library may have done it already"
    )]
    Backend {
        /// What llama.cpp reported.
        message: String,
    },
}

/// The shared llama.cpp backend is unavailable at call time.
pub(super) fn backend_error(error: &LocalBuildError) -> ModelError {
    ModelError::provider(error.to_string(), None)
}

/// llama.cpp could not create the context of a call.
pub(super) fn context_error(error: LlamaContextLoadError, n_ctx: u32) -> ModelError {
    ModelError::provider(
        format!("llama.cpp could not create a context of {n_ctx} tokens (out of memory?)"),
        Some(Box::new(error)),
    )
}

/// A token position beyond what llama.cpp can address.
pub(super) fn position_error() -> ModelError {
    ModelError::context_window_overflow("the position does not fit llama.cpp")
}

/// A token could not be added to a batch.
pub(super) fn batch_error(error: BatchAddError) -> ModelError {
    ModelError::provider("llama.cpp batch is full", Some(Box::new(error)))
}

/// llama.cpp could not evaluate a batch: a full KV cache is a context overflow, anything else a
/// provider failure.
pub(super) fn decode_error(error: DecodeError) -> ModelError {
    match error {
        DecodeError::NoKvCacheSlot => ModelError::context_window_overflow(
            "llama.cpp found no free slot in the context's KV cache",
        ),
        other => ModelError::provider(
            "llama.cpp failed to evaluate the tokens",
            Some(Box::new(other)),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_kv_cache_is_a_context_overflow_and_other_decode_failures_are_not() {
        assert!(decode_error(DecodeError::NoKvCacheSlot).is_context_window_overflow());
        let other = decode_error(DecodeError::Unknown(-3));
        assert!(matches!(other, ModelError::Provider { .. }), "{other}");
        assert!(!other.is_retryable());
    }

    #[test]
    fn a_context_that_cannot_be_created_names_its_size() {
        let error = context_error(LlamaContextLoadError::NullReturn, 4096);
        assert!(error.to_string().contains("4096 tokens"), "{error}");
    }
}
