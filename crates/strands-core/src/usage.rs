//! Token usage and call latency: Python's `strands.types.event_loop` `Usage` and `Metrics`,
//! shared by stream events (`metadata`) and messages (`MessageMetadata`).

use serde::{Deserialize, Serialize};

/// Token usage: `{"inputTokens", "outputTokens", "totalTokens", "cacheReadInputTokens"?,
/// "cacheWriteInputTokens"?}`.
///
/// Python: `strands.types.event_loop.Usage`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Usage {
    /// Tokens read.
    #[serde(default)]
    pub input_tokens: u64,
    /// Tokens generated.
    #[serde(default)]
    pub output_tokens: u64,
    /// Input plus output.
    #[serde(default)]
    pub total_tokens: u64,
    /// Input tokens served from the prompt cache.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_read_input_tokens: Option<u64>,
    /// Input tokens written to the prompt cache.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_write_input_tokens: Option<u64>,
}

impl Usage {
    /// Usage with input and output counts; the total is their sum.
    pub fn new(input_tokens: u64, output_tokens: u64) -> Self {
        Self {
            input_tokens,
            output_tokens,
            total_tokens: input_tokens + output_tokens,
            cache_read_input_tokens: None,
            cache_write_input_tokens: None,
        }
    }

    /// Usage with all counters as the provider reported them.
    pub fn with_counts(
        input_tokens: u64,
        output_tokens: u64,
        total_tokens: u64,
        cache_read_input_tokens: Option<u64>,
        cache_write_input_tokens: Option<u64>,
    ) -> Self {
        Self {
            input_tokens,
            output_tokens,
            total_tokens,
            cache_read_input_tokens,
            cache_write_input_tokens,
        }
    }

    /// Adds another usage to this one, as Python's `EventLoopMetrics.update_usage` does: cache
    /// counters appear once any call reports them.
    pub fn accumulate(&mut self, other: &Self) {
        self.input_tokens += other.input_tokens;
        self.output_tokens += other.output_tokens;
        self.total_tokens += other.total_tokens;
        if let Some(n) = other.cache_read_input_tokens {
            *self.cache_read_input_tokens.get_or_insert(0) += n;
        }
        if let Some(n) = other.cache_write_input_tokens {
            *self.cache_write_input_tokens.get_or_insert(0) += n;
        }
    }
}

/// Latency of a model call: `{"latencyMs", "timeToFirstByteMs"?}`.
///
/// Python: `strands.types.event_loop.Metrics`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Metrics {
    /// Latency the provider reported, in milliseconds.
    #[serde(default)]
    pub latency_ms: u64,
    /// Time from the request to the first content, measured by the agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_to_first_byte_ms: Option<u64>,
}

impl Metrics {
    /// Metrics with a latency.
    pub fn new(latency_ms: u64) -> Self {
        Self {
            latency_ms,
            time_to_first_byte_ms: None,
        }
    }
}
