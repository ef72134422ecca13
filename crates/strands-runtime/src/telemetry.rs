//! Traces of the requests the server answers: the parent context AgentCore sends (W3C
//! `traceparent`/`tracestate`, X-Ray's `X-Amzn-Trace-Id`, and `baggage`), a `SERVER` span per invocation (`POST
//! /invocations`, `GET /ws`) carrying the request id, `session.id` in the baggage so every span
//! of the invocation gets it, and the trace and span ids of log lines.
//!
//! All of it runs only once a process-wide [`Telemetry`] is set (the binary sets one when an
//! exporter is configured, see [`TelemetryConfig`]); otherwise a request costs one atomic load.
//!
//! [`Telemetry`]: strands_agent::telemetry::Telemetry

#[cfg(feature = "otel")]
mod client;
#[cfg(feature = "otel")]
mod export;
#[cfg(feature = "otel")]
mod otlp_proto;
#[cfg(feature = "otel")]
mod traces;
#[cfg(feature = "otel")]
mod xray;

use std::sync::OnceLock;

use http::HeaderMap;
use opentelemetry::baggage::BaggageExt as _;
use opentelemetry::global::BoxedTracer;
use opentelemetry::propagation::Extractor;
use opentelemetry::trace::{
    SpanKind, Status, TraceContextExt as _, Tracer as _, TracerProvider as _,
};
use opentelemetry::{Context, KeyValue};
use strands_agent::telemetry::Telemetry;

#[cfg(feature = "otel")]
#[cfg_attr(docsrs, doc(cfg(feature = "otel")))]
pub use export::{Signal, TelemetryConfig, TelemetryError, TelemetryGuard};

use crate::context::RequestContext;

/// The baggage key (and span attribute) of the AgentCore session.
pub const SESSION_ID: &str = "session.id";
/// The span attribute of the AgentCore request id on the server span.
pub const REQUEST_ID: &str = "aws.request_id";
/// The instrumentation scope of the server spans.
pub const SCOPE: &str = "strands-runtime";

/// Whether requests are traced: a process-wide [`Telemetry`] is set.
pub(crate) fn enabled() -> bool {
    Telemetry::default_is_set()
}

struct Headers<'a>(&'a HeaderMap);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(http::HeaderName::as_str).collect()
    }
}

/// The parent context of a request: the trace context and baggage its headers carry (read by
/// the installed propagator). `session.id` is AgentCore's session header (checked, at most 256
/// characters) when there is one, whatever the baggage says; the baggage's otherwise.
pub(crate) fn parent_context(headers: &HeaderMap, session_id: Option<&str>) -> Context {
    let cx = opentelemetry::global::get_text_map_propagator(|p| p.extract(&Headers(headers)));
    match session_id.filter(|s| !s.is_empty()) {
        Some(session) => cx.with_baggage([KeyValue::new(SESSION_ID, session.to_owned())]),
        None => cx,
    }
}

fn tracer() -> &'static BoxedTracer {
    static TRACER: OnceLock<BoxedTracer> = OnceLock::new();
    TRACER.get_or_init(|| opentelemetry::global::tracer_provider().tracer(SCOPE))
}

/// The `SERVER` span of one request; ends when dropped if not ended before (the client went
/// away).
pub(crate) struct ServerSpan {
    cx: Context,
    ended: bool,
}

impl ServerSpan {
    /// Starts `{method} {route}` under the request's parent context.
    pub(crate) fn start(
        method: &'static str,
        route: &'static str,
        headers: &HeaderMap,
        context: &RequestContext,
    ) -> Self {
        let parent = parent_context(headers, context.session_id.as_deref());
        let tracer = tracer();
        // Room for the attributes added later (the session, the status): the SDK keeps this
        // vector.
        let mut attributes = Vec::with_capacity(8);
        attributes.extend([
            KeyValue::new("http.request.method", method),
            KeyValue::new("http.route", route),
            KeyValue::new("url.path", route),
            KeyValue::new(REQUEST_ID, context.request_id.clone()),
        ]);
        let span = tracer
            .span_builder(format!("{method} {route}"))
            .with_kind(SpanKind::Server)
            .with_attributes(attributes)
            .start_with_context(tracer, &parent);
        Self {
            cx: parent.with_span(span),
            ended: false,
        }
    }

    /// The context invocations run in.
    pub(crate) fn context(&self) -> &Context {
        &self.cx
    }

    /// Ends the span with the response status (5xx is an error, as for HTTP servers).
    pub(crate) fn end(mut self, status: u16) {
        self.finish(status);
    }

    /// Ends a span whose response had started (status 200) but failed: an error frame ended
    /// the stream.
    pub(crate) fn fail(mut self, message: &str) {
        self.cx
            .span()
            .set_status(Status::error(message.chars().take(256).collect::<String>()));
        self.finish(200);
    }

    fn finish(&mut self, status: u16) {
        if self.ended {
            return;
        }
        self.ended = true;
        let span = self.cx.span();
        span.set_attribute(KeyValue::new(
            "http.response.status_code",
            i64::from(status),
        ));
        if status >= 500 {
            span.set_status(Status::error(""));
        }
        span.end();
    }
}

impl Drop for ServerSpan {
    fn drop(&mut self) {
        if !self.ended {
            self.ended = true;
            let span = self.cx.span();
            span.set_attribute(KeyValue::new(
                "strands.cancellation.type",
                "ClientDisconnected",
            ));
            span.end();
        }
    }
}

/// Sends a log line as an OpenTelemetry log record when logs are exported (the SDK adds the
/// current trace and span ids); nothing otherwise.
#[cfg_attr(
    not(feature = "otel"),
    allow(unused_variables, clippy::missing_const_for_fn)
)]
pub(crate) fn export_log(
    level: tracing::Level,
    target: &str,
    message: &str,
    context: Option<&RequestContext>,
) {
    #[cfg(feature = "otel")]
    export::emit_log(level, target, message, context);
}

/// The trace and span ids of the current span, hex, for a log line; `None` when untraced.
pub(crate) fn current_ids() -> Option<(String, String)> {
    if !enabled() {
        return None;
    }
    let cx = Context::current();
    let span = cx.span();
    let span_context = span.span_context();
    span_context.is_valid().then(|| {
        (
            span_context.trace_id().to_string(),
            span_context.span_id().to_string(),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_header_joins_the_baggage() {
        let cx = parent_context(&HeaderMap::new(), Some("s-1"));
        assert_eq!(
            cx.baggage().get(SESSION_ID).map(ToString::to_string),
            Some("s-1".to_owned())
        );
        let cx = parent_context(&HeaderMap::new(), Some(""));
        assert!(cx.baggage().get(SESSION_ID).is_none());
    }
}
