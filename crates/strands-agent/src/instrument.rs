//! Tracing spans around streams: the span is entered for each poll, as `tracing::Instrument`
//! does for futures, so events logged inside the stream belong to it. With telemetry on, the
//! OpenTelemetry context of the matching span is current during each poll too, so log lines
//! carry its trace and span ids and spans made inside (an MCP call, a sub-agent) nest under it.

use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;
use opentelemetry::Context as OtelContext;
use tracing::Span;

pin_project_lite::pin_project! {
    /// A stream polled inside a span.
    #[derive(Debug)]
    pub(crate) struct InSpan<S> {
        #[pin]
        inner: S,
        span: Span,
        otel: Option<OtelContext>,
    }
}

impl<S> InSpan<S> {
    pub(crate) fn new(inner: S, span: Span) -> Self {
        Self {
            inner,
            span,
            otel: None,
        }
    }

    /// Makes `otel` the current OpenTelemetry context while polling.
    pub(crate) fn with_otel(mut self, otel: Option<OtelContext>) -> Self {
        self.otel = otel;
        self
    }
}

impl<S: Stream> Stream for InSpan<S> {
    type Item = S::Item;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        let this = self.project();
        let _entered = this.span.enter();
        let _attached = this.otel.as_ref().map(|otel| otel.clone().attach());
        this.inner.poll_next(cx)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}
