//! Retrying throttled model calls.

use std::time::Duration;

use strands_core::ModelError;

/// Exponential backoff for model calls that fail with a retryable error (throttling).
///
/// The delay before retry `k` (0-based) is `min(initial_delay * 2^k, max_delay)`; after
/// `max_attempts` failed attempts the last error is returned. The defaults match Python: 6
/// attempts, 4 s doubling, capped at 240 s (delays 4, 8, 16, 32, 64 s).
///
/// ```
/// use std::time::Duration;
/// use strands_agent::ModelRetryStrategy;
///
/// let retry = ModelRetryStrategy::default();
/// assert_eq!(retry.max_attempts(), 6);
/// assert_eq!(retry.delay(0), Duration::from_secs(4));
/// assert_eq!(retry.delay(4), Duration::from_secs(64));
/// let quick = ModelRetryStrategy::new(3, Duration::from_millis(1), Duration::from_millis(10));
/// assert_eq!(quick.delay(5), Duration::from_millis(10));
/// ```
///
/// Python: `strands.ModelRetryStrategy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelRetryStrategy {
    max_attempts: u32,
    initial_delay: Duration,
    max_delay: Duration,
}

impl Default for ModelRetryStrategy {
    fn default() -> Self {
        Self::new(6, Duration::from_secs(4), Duration::from_secs(240))
    }
}

impl ModelRetryStrategy {
    /// A strategy with the given attempt count (at least 1) and delays.
    pub fn new(max_attempts: u32, initial_delay: Duration, max_delay: Duration) -> Self {
        Self {
            max_attempts: max_attempts.max(1),
            initial_delay,
            max_delay,
        }
    }

    /// No retries: every failure is final.
    pub fn none() -> Self {
        Self::new(1, Duration::ZERO, Duration::ZERO)
    }

    /// How many attempts a model call gets in total.
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The delay before retry number `retry` (0-based).
    pub fn delay(&self, retry: u32) -> Duration {
        let factor = 2u32.saturating_pow(retry);
        self.initial_delay
            .checked_mul(factor)
            .map_or(self.max_delay, |d| d.min(self.max_delay))
    }

    /// Whether `error` is retried; throttling only, as in Python.
    pub fn is_retryable(&self, error: &ModelError) -> bool {
        error.is_retryable()
    }
}
