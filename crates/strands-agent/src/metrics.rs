//! Counters the agent keeps across invocations.

use std::time::Duration;

use serde::{Serialize, Serializer};
use strands_core::Usage;

/// Lifetime metrics of an agent: cycles, token usage, model latency and per-tool counters.
///
/// Unlike Python's `EventLoopMetrics`, per-invocation figures are on
/// [`AgentResult`](crate::AgentResult) and no per-invocation history is kept, so memory stays
/// flat for long-lived agents.
///
/// Python: `strands.telemetry.metrics.EventLoopMetrics`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct EventLoopMetrics {
    /// Event-loop cycles run (one model call plus its tools).
    pub cycle_count: u64,
    /// Tokens used by all model calls.
    pub accumulated_usage: Usage,
    /// Sum of the latencies the model reported, in milliseconds.
    pub accumulated_latency_ms: u64,
    /// Per-tool counters, in the order tools first completed.
    pub tool_metrics: Vec<ToolMetrics>,
}

impl EventLoopMetrics {
    /// The counters of the tool named `name`.
    pub fn tool(&self, name: &str) -> Option<&ToolMetrics> {
        self.tool_metrics.iter().find(|m| m.name == name)
    }

    pub(crate) fn record_tool(&mut self, name: &str, success: bool, elapsed: Duration) {
        let index = match self.tool_metrics.iter().position(|m| m.name == name) {
            Some(index) => index,
            None => {
                self.tool_metrics.push(ToolMetrics::new(name));
                self.tool_metrics.len() - 1
            }
        };
        if let Some(metrics) = self.tool_metrics.get_mut(index) {
            metrics.call_count += 1;
            if success {
                metrics.success_count += 1;
            } else {
                metrics.error_count += 1;
            }
            metrics.total_time += elapsed;
        }
    }
}

/// Counters of one tool.
///
/// Python: `strands.telemetry.metrics.ToolMetrics`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ToolMetrics {
    /// The tool name.
    pub name: String,
    /// Times the tool was called (unknown tools included).
    pub call_count: u64,
    /// Calls that returned a success result.
    pub success_count: u64,
    /// Calls that returned an error result.
    pub error_count: u64,
    /// Time spent in the tool (serialized as seconds, like Python's `total_time`).
    #[serde(serialize_with = "as_seconds")]
    pub total_time: Duration,
}

impl ToolMetrics {
    fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            ..Self::default()
        }
    }
}

fn as_seconds<S: Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_f64(duration.as_secs_f64())
}
