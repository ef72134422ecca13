//! Tracing spans around streams: the span is entered for each poll, as `tracing::Instrument`
//! does for futures, so events logged inside the stream belong to it.

use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;
use tracing::Span;

pin_project_lite::pin_project! {
    /// A stream polled inside a span.
    #[derive(Debug)]
    pub(crate) struct InSpan<S> {
        #[pin]
        inner: S,
        span: Span,
    }
}

impl<S> InSpan<S> {
    pub(crate) fn new(inner: S, span: Span) -> Self {
        Self { inner, span }
    }
}

impl<S: Stream> Stream for InSpan<S> {
    type Item = S::Item;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        let this = self.project();
        let _entered = this.span.enter();
        this.inner.poll_next(cx)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}
