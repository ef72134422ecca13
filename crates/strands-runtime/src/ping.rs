//! `/ping` health status: `Healthy`, or `HealthyBusy` while work is in flight.
//!
//! Python: `BedrockAgentCoreApp.get_current_ping_status` and its async-task tracking.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

/// The health status AgentCore polls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[non_exhaustive]
pub enum PingStatus {
    /// Idle: AgentCore may stop the session after 15 idle minutes.
    Healthy,
    /// Working: the session is kept alive.
    HealthyBusy,
}

impl PingStatus {
    /// `"Healthy"` or `"HealthyBusy"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Healthy => "Healthy",
            Self::HealthyBusy => "HealthyBusy",
        }
    }
}

type PingHandler = dyn Fn() -> Option<PingStatus> + Send + Sync;

/// Shared busy tracking: in-flight invocations, registered background tasks, a forced status,
/// and the time of the last status change.
#[derive(Clone, Default)]
pub struct HealthTracker {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    invocations: AtomicUsize,
    tasks: AtomicUsize,
    forced: Mutex<Option<PingStatus>>,
    custom: Option<Box<PingHandler>>,
    last: Mutex<Option<(PingStatus, u64)>>,
}

impl fmt::Debug for HealthTracker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HealthTracker")
            .field(
                "invocations",
                &self.inner.invocations.load(Ordering::Relaxed),
            )
            .field("tasks", &self.inner.tasks.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

/// Marks work in flight until dropped.
#[must_use = "the work counts as in flight until the guard is dropped"]
pub struct BusyGuard {
    inner: Arc<Inner>,
    task: bool,
}

impl fmt::Debug for BusyGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BusyGuard")
            .field("task", &self.task)
            .finish_non_exhaustive()
    }
}

impl Drop for BusyGuard {
    fn drop(&mut self) {
        let counter = if self.task {
            &self.inner.tasks
        } else {
            &self.inner.invocations
        };
        counter.fetch_sub(1, Ordering::AcqRel);
    }
}

impl HealthTracker {
    /// A tracker whose status a custom function decides when it returns `Some` (Python's
    /// `@app.ping`); `None` falls back to the automatic status.
    pub fn with_custom(handler: impl Fn() -> Option<PingStatus> + Send + Sync + 'static) -> Self {
        Self {
            inner: Arc::new(Inner {
                custom: Some(Box::new(handler)),
                ..Inner::default()
            }),
        }
    }

    /// Counts a background task as running until the guard is dropped (Python's
    /// `add_async_task` / `complete_async_task`, or `@app.async_task`).
    pub fn start_task(&self, name: &str) -> BusyGuard {
        tracing::info!(target: "bedrock_agentcore.app", "Async task started: {name}");
        self.inner.tasks.fetch_add(1, Ordering::AcqRel);
        BusyGuard {
            inner: self.inner.clone(),
            task: true,
        }
    }

    pub(crate) fn start_invocation(&self) -> BusyGuard {
        self.inner.invocations.fetch_add(1, Ordering::AcqRel);
        BusyGuard {
            inner: self.inner.clone(),
            task: false,
        }
    }

    /// Invocations (requests, streams, WebSocket connections) in flight.
    pub(crate) fn invocations_in_flight(&self) -> usize {
        self.inner.invocations.load(Ordering::Acquire)
    }

    /// Forces the status until [`HealthTracker::clear_forced_status`] (Python's
    /// `force_ping_status`).
    pub fn force_status(&self, status: PingStatus) {
        *self
            .inner
            .forced
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(status);
    }

    /// Returns to the automatic status.
    pub fn clear_forced_status(&self) {
        *self
            .inner
            .forced
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = None;
    }

    /// The current status and the Unix second it last changed. The time is stamped when a change
    /// is first observed, and repeats until the status changes again, as in Python.
    pub fn status(&self) -> (PingStatus, u64) {
        let forced = *self
            .inner
            .forced
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let status = forced
            .or_else(|| self.inner.custom.as_ref().and_then(|f| f()))
            .unwrap_or_else(|| {
                let busy = self.inner.invocations.load(Ordering::Acquire) > 0
                    || self.inner.tasks.load(Ordering::Acquire) > 0;
                if busy {
                    PingStatus::HealthyBusy
                } else {
                    PingStatus::Healthy
                }
            });
        let mut last = self
            .inner
            .last
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        match *last {
            Some((known, at)) if known == status => (status, at),
            _ => {
                let now = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs());
                *last = Some((status, now));
                (status, now)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_while_work_is_in_flight_and_timestamp_moves_only_on_change() {
        let tracker = HealthTracker::default();
        let (status, first) = tracker.status();
        assert_eq!(status, PingStatus::Healthy);
        assert_eq!(tracker.status().1, first);
        let guard = tracker.start_invocation();
        assert_eq!(tracker.status().0, PingStatus::HealthyBusy);
        drop(guard);
        let task = tracker.start_task("job");
        assert_eq!(tracker.status().0, PingStatus::HealthyBusy);
        drop(task);
        assert_eq!(tracker.status().0, PingStatus::Healthy);
    }

    #[test]
    fn forced_beats_custom_beats_automatic() {
        let tracker = HealthTracker::with_custom(|| Some(PingStatus::HealthyBusy));
        assert_eq!(tracker.status().0, PingStatus::HealthyBusy);
        tracker.force_status(PingStatus::Healthy);
        assert_eq!(tracker.status().0, PingStatus::Healthy);
        tracker.clear_forced_status();
        assert_eq!(tracker.status().0, PingStatus::HealthyBusy);
        let fallback = HealthTracker::with_custom(|| None);
        assert_eq!(fallback.status().0, PingStatus::Healthy);
    }
}
