//! Retrying throttled model calls.

use std::time::Duration;

use strands_core::ModelError;

/// Exponential backoff for model calls that fail with a retryable error (throttling).
///
/// The delay before retry `k` (0-based) is `min(initial_delay * 2^k, max_delay)`; after
/// `max_attempts` failed attempts the last error is returned. The defaults match Python: 6
/// attempts, 4 s doubling, capped at 240 s (delays 4, 8, 16, 32, 64 s), so a model that keeps
/// throttling holds the caller for about 124 s before the error arrives.
///
/// [`with_max_elapsed_time`](Self::with_max_elapsed_time) adds a budget for the whole call,
/// measured from the start of its first attempt (attempts count as well as delays): the agent
/// gives up with the last error, without waiting, when the next delay would end past the budget.
/// The default has no budget, as in Python.
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
///
/// // Give up once the next wait would end more than 30 s after the first attempt started:
/// // with instant failures that is after the waits of 4, 8 and 16 s (4 attempts).
/// let bounded = ModelRetryStrategy::default().with_max_elapsed_time(Duration::from_secs(30));
/// assert_eq!(bounded.max_elapsed_time(), Some(Duration::from_secs(30)));
/// assert_eq!(retry.max_elapsed_time(), None);
/// ```
///
/// Python: `strands.ModelRetryStrategy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelRetryStrategy {
    max_attempts: u32,
    initial_delay: Duration,
    max_delay: Duration,
    max_elapsed_time: Option<Duration>,
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
            max_elapsed_time: None,
        }
    }

    /// Bounds the whole model call: once the next delay would end more than `budget` after the
    /// start of the call's first attempt, the agent stops retrying and returns the last error at
    /// once. Time spent in the attempts counts, so the budget is roughly how long a caller waits
    /// for a model that keeps throttling. An attempt under way is never cut short by the budget
    /// (see `AgentBuilder::model_first_event_timeout` and `model_idle_timeout` for that).
    ///
    /// A zero budget means no retries. Without this call there is no budget (Python's behaviour).
    #[must_use]
    pub fn with_max_elapsed_time(mut self, budget: Duration) -> Self {
        self.max_elapsed_time = Some(budget);
        self
    }

    /// The budget set by [`with_max_elapsed_time`](Self::with_max_elapsed_time), if any.
    pub fn max_elapsed_time(&self) -> Option<Duration> {
        self.max_elapsed_time
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

    /// The delay before retry number `retry` (0-based) when `elapsed` has passed since the first
    /// attempt started; `None` when that delay would end past the budget.
    pub(crate) fn delay_within_budget(&self, retry: u32, elapsed: Duration) -> Option<Duration> {
        let delay = self.delay(retry);
        match self.max_elapsed_time {
            Some(budget) if elapsed.saturating_add(delay) > budget => None,
            _ => Some(delay),
        }
    }

    /// Whether `error` is retried; throttling only, as in Python.
    pub fn is_retryable(&self, error: &ModelError) -> bool {
        error.is_retryable()
    }
}

/// The agent's optional limits on how long one attempt's stream may stay silent (set with
/// `AgentBuilder::model_first_event_timeout` and `AgentBuilder::model_idle_timeout`; both off by
/// default, as in Python).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct ModelTimeouts {
    /// From the start of the attempt to its first stream event.
    pub(crate) first_event: Option<Duration>,
    /// Between two stream events, and from the last event to the end of the stream.
    pub(crate) idle: Option<Duration>,
}

impl ModelTimeouts {
    /// Whether either timeout is set (when not, the stream is polled without a timer).
    pub(crate) fn any(&self) -> bool {
        self.first_event.is_some() || self.idle.is_some()
    }

    /// The error of an attempt whose timer fired: the first-event timeout while no event had
    /// arrived yet, the idle timeout after.
    pub(crate) fn error(&self, before_first_event: bool) -> ModelError {
        if before_first_event {
            Self::first_event_error(self.first_event.unwrap_or_default())
        } else {
            Self::idle_error(self.idle.unwrap_or_default())
        }
    }

    /// The error of an attempt that got no event within the first-event timeout.
    fn first_event_error(after: Duration) -> ModelError {
        ModelError::timeout(
            format!(
                "no stream event arrived within {after:?} of the request (the agent's first-event timeout); raise it with AgentBuilder::model_first_event_timeout if the model is slow to start, or check that the model endpoint is reachable"
            ),
            after,
        )
    }

    /// The error of an attempt whose stream stayed silent longer than the idle timeout.
    fn idle_error(after: Duration) -> ModelError {
        ModelError::timeout(
            format!(
                "the stream sent nothing for {after:?} after its last event (the agent's idle timeout); raise it with AgentBuilder::model_idle_timeout if the model pauses that long"
            ),
            after,
        )
    }
}
