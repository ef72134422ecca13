//! Python's `MetricsClient`: the `strands.*` instruments, their names and units.
//!
//! Python also keys the cycle instruments by `event_loop_cycle_id` and the tool instruments by
//! `tool_use_id`, fresh ids each time: every cycle and every tool call becomes a time series of
//! its own (until the SDK's cardinality limit folds the rest into an overflow series), which
//! costs every backend one series per call and the process a new attribute set per record.
//! Here those two attributes are left out; the counts, sums and units are Python's.

use std::time::Duration;

use opentelemetry::KeyValue;
use opentelemetry::metrics::{Counter, Histogram, Meter};
use strands_core::{Metrics, Usage};

pub(crate) struct Instruments {
    cycle_count: Counter<u64>,
    start_cycle: Counter<u64>,
    end_cycle: Counter<u64>,
    cycle_duration: Histogram<f64>,
    latency: Histogram<u64>,
    tool_call_count: Counter<u64>,
    tool_success_count: Counter<u64>,
    tool_error_count: Counter<u64>,
    tool_duration: Histogram<f64>,
    input_tokens: Histogram<u64>,
    output_tokens: Histogram<u64>,
    cache_read_input_tokens: Histogram<u64>,
    cache_write_input_tokens: Histogram<u64>,
    time_to_first_token: Histogram<u64>,
}

fn counter(meter: &Meter, name: &'static str) -> Counter<u64> {
    meter.u64_counter(name).with_unit("Count").build()
}

fn histogram(meter: &Meter, name: &'static str, unit: &'static str) -> Histogram<u64> {
    meter.u64_histogram(name).with_unit(unit).build()
}

fn seconds(meter: &Meter, name: &'static str) -> Histogram<f64> {
    meter.f64_histogram(name).with_unit("s").build()
}

impl Instruments {
    pub(crate) fn new(meter: &Meter) -> Self {
        Self {
            cycle_count: counter(meter, "strands.event_loop.cycle_count"),
            start_cycle: counter(meter, "strands.event_loop.start_cycle"),
            end_cycle: counter(meter, "strands.event_loop.end_cycle"),
            cycle_duration: seconds(meter, "strands.event_loop.cycle_duration"),
            latency: histogram(meter, "strands.event_loop.latency", "ms"),
            tool_call_count: counter(meter, "strands.tool.call_count"),
            tool_success_count: counter(meter, "strands.tool.success_count"),
            tool_error_count: counter(meter, "strands.tool.error_count"),
            tool_duration: seconds(meter, "strands.tool.duration"),
            input_tokens: histogram(meter, "strands.event_loop.input.tokens", "token"),
            output_tokens: histogram(meter, "strands.event_loop.output.tokens", "token"),
            cache_read_input_tokens: histogram(
                meter,
                "strands.event_loop.cache_read.input.tokens",
                "token",
            ),
            cache_write_input_tokens: histogram(
                meter,
                "strands.event_loop.cache_write.input.tokens",
                "token",
            ),
            time_to_first_token: histogram(meter, "strands.model.time_to_first_token", "ms"),
        }
    }

    /// A cycle starts (Python's `start_cycle`, without its per-cycle `event_loop_cycle_id`
    /// attribute: see the module's documentation).
    pub(crate) fn start_cycle(&self) {
        self.cycle_count.add(1, &[]);
        self.start_cycle.add(1, &[]);
    }

    /// A cycle ends (Python's `end_cycle`).
    pub(crate) fn end_cycle(&self, elapsed: Duration) {
        self.end_cycle.add(1, &[]);
        self.cycle_duration.record(elapsed.as_secs_f64(), &[]);
    }

    /// A model answer's usage (Python's `update_usage`).
    pub(crate) fn usage(&self, usage: &Usage) {
        self.input_tokens.record(usage.input_tokens, &[]);
        self.output_tokens.record(usage.output_tokens, &[]);
        if let Some(tokens) = usage.cache_read_input_tokens {
            self.cache_read_input_tokens.record(tokens, &[]);
        }
        if let Some(tokens) = usage.cache_write_input_tokens {
            self.cache_write_input_tokens.record(tokens, &[]);
        }
    }

    /// A model answer's timings (Python's `update_metrics`).
    pub(crate) fn model_metrics(&self, metrics: &Metrics) {
        self.latency.record(metrics.latency_ms, &[]);
        if let Some(ttfb) = metrics.time_to_first_byte_ms {
            self.time_to_first_token.record(ttfb, &[]);
        }
    }

    /// One tool call (Python's `ToolMetrics.add_call`, keyed by `tool_name` only).
    pub(crate) fn tool_call(&self, name: &str, success: bool, elapsed: Duration) {
        let attributes = [KeyValue::new("tool_name", name.to_owned())];
        self.tool_call_count.add(1, &attributes);
        self.tool_duration
            .record(elapsed.as_secs_f64(), &attributes);
        if success {
            self.tool_success_count.add(1, &attributes);
        } else {
            self.tool_error_count.add(1, &attributes);
        }
    }
}
