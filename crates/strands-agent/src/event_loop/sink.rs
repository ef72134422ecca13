//! Where the loop's steps send their events: a plain `async fn` emits into an [`EventSink`], and
//! [`EventStream`] turns the invocation's future into the stream `Agent::stream` returns.
//!
//! The stream behaves like a generator: `emit` parks the event in a one-event, per-thread slot
//! and suspends the loop; the stream takes it in the same poll, hands it out and resumes the loop
//! only when asked for the next one. Dropping the stream drops the loop where it stands. `Agent::invoke` runs the same future
//! with a discarding sink: the per-chunk events are not even built, and nothing is parked.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;

use crate::error::AgentError;
use crate::events::AgentEvent;
use crate::result::AgentResult;

thread_local! {
    /// The event parked by the loop being polled on this thread. An event is parked and taken
    /// within one poll of its [`EventStream`], on one thread; a stream polled inside another's
    /// poll (an agent used as a tool) sets the outer one's event aside while it runs. No lock, no
    /// allocation: the hot path of a streamed turn.
    static PARKED: Cell<Option<AgentEvent>> = const { Cell::new(None) };
}

/// The receiving end of an invocation's events.
#[derive(Debug, Clone, Copy)]
pub(crate) struct EventSink {
    live: bool,
}

impl EventSink {
    /// A sink that drops every event (`invoke`, `structured_output`).
    pub(crate) fn discard() -> Self {
        Self { live: false }
    }

    /// Whether anybody receives the events: callers skip building the per-chunk ones otherwise.
    pub(crate) fn is_live(self) -> bool {
        self.live
    }

    /// Hands `event` to the stream's consumer; returns when the consumer asks for the next one.
    ///
    /// Must be awaited by the loop's own chain of futures, on the task that polls the stream
    /// (never from a spawned task, and not inside a combinator that polls only woken futures):
    /// the event is parked on the polling thread and the stream resumes the loop by polling it
    /// again.
    pub(crate) async fn emit(self, event: AgentEvent) {
        if self.live {
            Emit { event: Some(event) }.await;
        }
    }
}

/// The future of one [`EventSink::emit`]: parks the event, then waits one poll.
struct Emit {
    event: Option<AgentEvent>,
}

impl Future for Emit {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let Some(event) = self.event.take() else {
            // Polled again: the consumer took the event and asked for the next one.
            return Poll::Ready(());
        };
        PARKED.with(|parked| match parked.take() {
            None => parked.set(Some(event)),
            Some(earlier) => {
                // Another branch of the loop parked an event in this same poll: wait for a turn.
                parked.set(Some(earlier));
                self.event = Some(event);
                cx.waker().wake_by_ref();
            }
        });
        Poll::Pending
    }
}

pin_project_lite::pin_project! {
    /// The events of an invocation's future, ending with its result (or error).
    pub(crate) struct EventStream<F> {
        #[pin]
        run: Option<F>,
        // The loop's outcome when it finished in the poll that also parked an event.
        finished: Option<Result<Box<AgentResult>, AgentError>>,
    }
}

impl<F> EventStream<F>
where
    F: Future<Output = Result<Box<AgentResult>, AgentError>>,
{
    /// The stream of the future `start` builds around a live sink.
    pub(crate) fn new(start: impl FnOnce(EventSink) -> F) -> Self {
        Self {
            run: Some(start(EventSink { live: true })),
            finished: None,
        }
    }
}

impl<F> Stream for EventStream<F>
where
    F: Future<Output = Result<Box<AgentResult>, AgentError>>,
{
    type Item = Result<AgentEvent, AgentError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut this = self.project();
        if let Some(result) = this.finished.take() {
            return Poll::Ready(Some(result.map(AgentEvent::Result)));
        }
        let Some(run) = this.run.as_mut().as_pin_mut() else {
            return Poll::Ready(None);
        };
        let aside = SetAside::new();
        let polled = run.poll(cx);
        let parked = aside.restore();
        let finished = match polled {
            Poll::Pending => None,
            Poll::Ready(result) => {
                this.run.set(None);
                Some(result)
            }
        };
        match (parked, finished) {
            (Some(event), finished) => {
                *this.finished = finished;
                Poll::Ready(Some(Ok(event)))
            }
            (None, Some(result)) => Poll::Ready(Some(result.map(AgentEvent::Result))),
            (None, None) => Poll::Pending,
        }
    }
}

/// An enclosing stream's parked event (this stream is polled inside its poll), set aside while
/// this stream's loop runs and put back afterwards, also when the loop panics.
struct SetAside {
    outer: Option<Option<AgentEvent>>,
}

impl SetAside {
    fn new() -> Self {
        Self {
            outer: Some(PARKED.take()),
        }
    }

    /// Puts the enclosing event back; returns the event this stream's loop parked.
    fn restore(mut self) -> Option<AgentEvent> {
        PARKED.replace(self.outer.take().flatten())
    }
}

impl Drop for SetAside {
    fn drop(&mut self) {
        if let Some(outer) = self.outer.take() {
            PARKED.set(outer);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic, reason = "tests")]

    use super::*;
    use futures_util::StreamExt;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn result() -> Box<AgentResult> {
        Box::new(AgentResult {
            stop_reason: strands_core::StopReason::EndTurn,
            message: strands_core::Message::assistant("done"),
            usage: strands_core::Usage::default(),
            cycle_count: 1,
            interrupts: Vec::new(),
            structured_output: None,
        })
    }

    #[tokio::test]
    async fn events_arrive_in_order_and_the_loop_waits_for_each_to_be_taken() {
        let progress = Arc::new(AtomicUsize::new(0));
        let seen = Arc::clone(&progress);
        let stream = EventStream::new(|sink| async move {
            for _ in 0..3 {
                sink.emit(AgentEvent::StartEventLoop).await;
                seen.fetch_add(1, Ordering::SeqCst);
            }
            Ok(result())
        });
        let mut stream = std::pin::pin!(stream);
        for taken in 0..3 {
            let event = stream.next().await.unwrap().unwrap();
            assert!(matches!(event, AgentEvent::StartEventLoop));
            // Like a generator: the loop has not run past the event just handed out.
            assert_eq!(progress.load(Ordering::SeqCst), taken);
        }
        assert!(matches!(
            stream.next().await,
            Some(Ok(AgentEvent::Result(_)))
        ));
        assert!(stream.next().await.is_none());
        assert!(stream.next().await.is_none());
    }

    #[tokio::test]
    async fn an_error_ends_the_stream_after_the_events_before_it() {
        let stream = EventStream::new(|sink| async move {
            sink.emit(AgentEvent::InitEventLoop).await;
            Err(AgentError::EmptyConversation)
        });
        let items: Vec<_> = stream.collect().await;
        assert!(matches!(items[0], Ok(AgentEvent::InitEventLoop)));
        assert!(matches!(items[1], Err(AgentError::EmptyConversation)));
        assert_eq!(items.len(), 2);
    }

    #[tokio::test]
    async fn two_branches_emitting_in_one_poll_both_get_through() {
        let stream = EventStream::new(|sink| async move {
            let one = sink.emit(AgentEvent::InitEventLoop);
            let two = sink.emit(AgentEvent::StartEventLoop);
            futures_util::future::join(one, two).await;
            Ok(result())
        });
        let items: Vec<_> = stream.collect().await;
        assert_eq!(items.len(), 3);
        assert!(matches!(items[0], Ok(AgentEvent::InitEventLoop)));
        assert!(matches!(items[1], Ok(AgentEvent::StartEventLoop)));
    }

    #[tokio::test]
    async fn a_stream_polled_inside_another_keeps_their_events_apart() {
        // As when an agent runs as another agent's tool: the inner stream is polled while the
        // outer loop has an event parked.
        let outer = EventStream::new(|sink| async move {
            let inner = EventStream::new(|inner_sink| async move {
                inner_sink.emit(AgentEvent::StartEventLoop).await;
                Ok(result())
            });
            let inner_items = async { inner.collect::<Vec<_>>().await };
            let (_, inner_items) =
                futures_util::future::join(sink.emit(AgentEvent::InitEventLoop), inner_items).await;
            assert_eq!(inner_items.len(), 2);
            assert!(matches!(inner_items[0], Ok(AgentEvent::StartEventLoop)));
            Ok(result())
        });
        let items: Vec<_> = outer.collect().await;
        assert_eq!(items.len(), 2);
        assert!(matches!(items[0], Ok(AgentEvent::InitEventLoop)));
        assert!(matches!(items[1], Ok(AgentEvent::Result(_))));
    }

    #[tokio::test]
    async fn a_loop_that_finishes_in_the_poll_that_parked_an_event_loses_neither() {
        let stream = EventStream::new(|sink| async move {
            // The emit parks its event, then the other branch completes the select at once.
            let emit = std::pin::pin!(sink.emit(AgentEvent::InitEventLoop));
            futures_util::future::select(emit, std::future::ready(())).await;
            Ok(result())
        });
        let items: Vec<_> = stream.collect().await;
        assert_eq!(items.len(), 2);
        assert!(matches!(items[0], Ok(AgentEvent::InitEventLoop)));
        assert!(matches!(items[1], Ok(AgentEvent::Result(_))));
    }

    #[tokio::test]
    async fn a_discarding_sink_never_suspends() {
        let sink = EventSink::discard();
        assert!(!sink.is_live());
        // Completes in one poll: nothing is parked.
        let mut emit = std::pin::pin!(sink.emit(AgentEvent::InitEventLoop));
        let waker = std::task::Waker::noop();
        let polled = emit.as_mut().poll(&mut Context::from_waker(waker));
        assert!(polled.is_ready());
    }
}
