//! The model call's time limits, on the real loop with tokio's paused clock: the retry strategy's
//! total budget (`ModelRetryStrategy::with_max_elapsed_time`), the first-event and idle timeouts
//! (`AgentBuilder::model_first_event_timeout`, `model_idle_timeout`), their defaults (off, as in
//! Python) and cancellation, which still wins over both.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail loudly"
)]

use std::collections::VecDeque;
use std::pin::pin;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use futures_util::StreamExt;
use pretty_assertions::assert_eq;
use strands_agent::hooks::AfterModelCallEvent;
use strands_agent::{Agent, AgentBuilder, AgentError, AgentEvent, AgentResult, ModelRetryStrategy};
use strands_core::{
    Model, ModelError, ModelRequest, ModelStream, StopReason, StreamEvent, error_chain,
};
use strands_testkit::{ScriptedModel, Step, text_stream};
use tokio::time::Instant;

const fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// One beat of a [`PacedModel`] call.
#[derive(Debug, Clone)]
enum Beat {
    /// Stay silent this long (tokio time).
    Wait(Duration),
    /// Send this event.
    Event(StreamEvent),
    /// Fail with a throttling error.
    Throttle,
    /// Never send anything again.
    Hang,
}

/// A model whose calls play scripted beats: events separated by silences, throttling after a
/// delay, hangs. Counts its calls; a call beyond the script fails loudly.
#[derive(Debug)]
struct PacedModel {
    calls: Mutex<VecDeque<Vec<Beat>>>,
    count: AtomicU32,
}

impl PacedModel {
    fn new(calls: impl IntoIterator<Item = Vec<Beat>>) -> Arc<Self> {
        Arc::new(Self {
            calls: Mutex::new(calls.into_iter().collect()),
            count: AtomicU32::new(0),
        })
    }

    fn calls(&self) -> u32 {
        self.count.load(Ordering::SeqCst)
    }
}

impl Model for PacedModel {
    fn model_id(&self) -> &str {
        "paced-model"
    }

    fn stream<'a>(&'a self, _request: ModelRequest<'a>) -> ModelStream<'a> {
        self.count.fetch_add(1, Ordering::SeqCst);
        let beats = self.calls.lock().unwrap().pop_front();
        Box::pin(async_stream::stream! {
            let Some(beats) = beats else {
                yield Err(ModelError::provider("the test made more model calls than it scripted", None));
                return;
            };
            for beat in beats {
                match beat {
                    Beat::Wait(silence) => tokio::time::sleep(silence).await,
                    Beat::Event(event) => yield Ok(event),
                    Beat::Throttle => {
                        yield Err(ModelError::throttled("Rate exceeded"));
                        return;
                    }
                    Beat::Hang => std::future::pending::<()>().await,
                }
            }
        })
    }
}

/// A text answer whose events each come after `gap` of silence.
fn paced_answer(text: &str, gap: Duration) -> Vec<Beat> {
    text_stream(&[text], StopReason::EndTurn)
        .into_iter()
        .flat_map(|event| [Beat::Wait(gap), Beat::Event(event)])
        .collect()
}

fn agent(model: Arc<dyn Model>) -> AgentBuilder {
    Agent::builder().shared_model(model)
}

/// What an invocation came to, streamed: the result or error, the throttle delays waited, and
/// the (paused) time it took.
struct Run {
    outcome: Result<Box<AgentResult>, AgentError>,
    throttles: Vec<Duration>,
    model_events: usize,
    took: Duration,
}

/// A run that would hang (a timeout that never fires) fails after a (paused) day instead.
async fn run(agent: &mut Agent, prompt: &str) -> Run {
    let start = Instant::now();
    let mut throttles = Vec::new();
    let mut model_events = 0;
    let mut outcome = None;
    let mut events = pin!(agent.stream(prompt));
    let collect = async {
        while let Some(item) = events.next().await {
            match item {
                Ok(AgentEvent::Throttle { delay }) => throttles.push(delay),
                Ok(AgentEvent::ModelStreamEvent(_)) => model_events += 1,
                Ok(AgentEvent::Result(result)) => outcome = Some(Ok(result)),
                Ok(_) => {}
                Err(error) => outcome = Some(Err(error)),
            }
        }
    };
    tokio::time::timeout(secs(24 * 3600), collect)
        .await
        .expect("the invocation hung: no timeout fired");
    Run {
        outcome: outcome.expect("the stream ended without a result or an error"),
        throttles,
        model_events,
        took: start.elapsed(),
    }
}

/// The model error of a failed run and the number of attempts.
fn model_failure(run: &Run) -> (&ModelError, u32) {
    match &run.outcome {
        Err(AgentError::Model { attempts, source }) => (source, *attempts),
        other => panic!("expected a failed model call, got {other:?}"),
    }
}

fn timeout_of(run: &Run) -> (Duration, String) {
    let (error, attempts) = model_failure(run);
    assert_eq!(attempts, 1, "a timeout is not retried");
    match error {
        ModelError::Timeout { after, .. } => {
            (*after, error_chain(run.outcome.as_ref().unwrap_err()))
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
}

fn throttles(n: usize) -> Vec<Step> {
    (0..n)
        .map(|_| Step::Throttle("Rate exceeded".to_owned()))
        .collect()
}

// --- the retry budget ---

#[tokio::test(start_paused = true)]
async fn the_retry_budget_stops_retrying_before_a_delay_would_end_past_it() {
    let model = Arc::new(ScriptedModel::new(throttles(6)));
    let mut agent = agent(model.clone())
        .retry_strategy(ModelRetryStrategy::default().with_max_elapsed_time(secs(30)))
        .build()
        .unwrap();

    let run = run(&mut agent, "hi").await;

    // Waits of 4, 8 and 16 s fit in 30 s; the next one (32 s) would end at 60 s.
    let (error, attempts) = model_failure(&run);
    assert!(matches!(error, ModelError::Throttled { message, .. } if message == "Rate exceeded"));
    assert_eq!(attempts, 4);
    assert_eq!(model.remaining(), 2);
    assert_eq!(run.throttles, [secs(4), secs(8), secs(16)]);
    assert_eq!(
        run.took,
        secs(28),
        "gave up without waiting the delay that did not fit"
    );
}

#[tokio::test(start_paused = true)]
async fn the_retry_budget_counts_the_time_attempts_take() {
    // Every attempt takes 10 s to be throttled: 10 + 4 fits in 30 s, 24 + 8 does not.
    let slow_throttle = vec![Beat::Wait(secs(10)), Beat::Throttle];
    let model = PacedModel::new(vec![slow_throttle; 6]);
    let mut agent = agent(model.clone())
        .retry_strategy(ModelRetryStrategy::default().with_max_elapsed_time(secs(30)))
        .build()
        .unwrap();

    let run = run(&mut agent, "hi").await;

    let (error, attempts) = model_failure(&run);
    assert!(matches!(error, ModelError::Throttled { .. }), "{error}");
    assert_eq!(attempts, 2);
    assert_eq!(model.calls(), 2);
    assert_eq!(run.throttles, [secs(4)]);
    assert_eq!(run.took, secs(24));
}

#[tokio::test(start_paused = true)]
async fn a_budget_that_is_not_reached_keeps_pythons_schedule() {
    // The budget equals Python's whole schedule (4 + 8 + 16 + 32 + 64 s): nothing is cut.
    let mut steps = throttles(5);
    steps.push(Step::Events(text_stream(&["finally"], StopReason::EndTurn)));
    let model = Arc::new(ScriptedModel::new(steps));
    let mut agent = agent(model.clone())
        .retry_strategy(ModelRetryStrategy::default().with_max_elapsed_time(secs(124)))
        .build()
        .unwrap();

    let run = run(&mut agent, "hi").await;

    assert_eq!(run.outcome.unwrap().text(), "finally\n");
    assert_eq!(model.remaining(), 0);
    assert_eq!(
        run.throttles,
        [secs(4), secs(8), secs(16), secs(32), secs(64)]
    );
    assert_eq!(run.took, secs(124));
}

#[tokio::test(start_paused = true)]
async fn without_a_budget_all_six_attempts_are_made() {
    assert_eq!(ModelRetryStrategy::default().max_elapsed_time(), None);
    let model = Arc::new(ScriptedModel::new(throttles(7)));
    let mut agent = agent(model.clone()).build().unwrap();

    let run = run(&mut agent, "hi").await;

    let (error, attempts) = model_failure(&run);
    assert!(matches!(error, ModelError::Throttled { .. }), "{error}");
    assert_eq!(attempts, 6);
    assert_eq!(model.remaining(), 1);
    assert_eq!(run.took, secs(124));
}

// --- the first-event and idle timeouts ---

#[tokio::test(start_paused = true)]
async fn the_first_event_timeout_fails_a_model_that_never_answers() {
    let model = Arc::new(ScriptedModel::new([
        Step::EventsThenHang(Vec::new()),
        Step::Events(text_stream(&["too late"], StopReason::EndTurn)),
    ]));
    let mut agent = agent(model.clone())
        .model_first_event_timeout(secs(30))
        .build()
        .unwrap();

    let run = run(&mut agent, "hi").await;

    let (after, text) = timeout_of(&run);
    assert_eq!(after, secs(30));
    assert!(text.contains("timed out"), "{text}");
    assert!(text.contains("within 30s"), "{text}");
    assert!(text.contains("first-event timeout"), "{text}");
    assert!(text.contains("model_first_event_timeout"), "{text}");
    assert_eq!(run.took, secs(30));
    assert_eq!(model.remaining(), 1, "the timed-out call was not retried");
}

#[tokio::test(start_paused = true)]
async fn the_first_event_timeout_does_not_bound_the_rest_of_the_stream() {
    // First event at 9 s (under 10 s), then 20 s gaps: no idle timeout is set.
    let mut beats = paced_answer("slow but fine", secs(20));
    beats[0] = Beat::Wait(secs(9));
    let model = PacedModel::new([beats]);
    let mut agent = agent(model.clone())
        .model_first_event_timeout(secs(10))
        .build()
        .unwrap();

    let run = run(&mut agent, "hi").await;

    assert_eq!(run.outcome.unwrap().text(), "slow but fine\n");
    assert_eq!(run.took, secs(9 + 5 * 20));
}

#[tokio::test(start_paused = true)]
async fn the_idle_timeout_fails_a_stream_that_goes_silent_between_events() {
    let events = text_stream(&["half an ans"], StopReason::EndTurn);
    let model = PacedModel::new([vec![
        Beat::Event(events[0].clone()),
        Beat::Event(events[1].clone()),
        Beat::Wait(secs(5)),
        Beat::Event(events[2].clone()),
        Beat::Hang,
    ]]);
    let mut agent = agent(model.clone())
        .model_idle_timeout(secs(10))
        .build()
        .unwrap();

    let run = run(&mut agent, "hi").await;

    let (after, text) = timeout_of(&run);
    assert_eq!(after, secs(10));
    assert!(text.contains("nothing for 10s"), "{text}");
    assert!(text.contains("idle timeout"), "{text}");
    assert!(text.contains("model_idle_timeout"), "{text}");
    assert_eq!(run.model_events, 3);
    assert_eq!(run.took, secs(15), "10 s after the last event");
    assert_eq!(model.calls(), 1);
}

#[tokio::test(start_paused = true)]
async fn every_event_resets_the_idle_timeout() {
    // Six events 8 s apart: 48 s in all, but never 10 s of silence.
    let model = PacedModel::new([paced_answer("steady", secs(8))]);
    let mut agent = agent(model.clone())
        .model_idle_timeout(secs(10))
        .build()
        .unwrap();

    let run = run(&mut agent, "hi").await;

    assert_eq!(run.outcome.unwrap().text(), "steady\n");
    assert_eq!(run.took, secs(48));
}

#[tokio::test(start_paused = true)]
async fn the_idle_timeout_does_not_bound_the_wait_for_the_first_event() {
    let mut beats = vec![Beat::Wait(secs(30))];
    beats.extend(paced_answer("late start", Duration::ZERO));
    let model = PacedModel::new([beats]);
    let mut agent = agent(model.clone())
        .model_idle_timeout(secs(10))
        .build()
        .unwrap();

    let run = run(&mut agent, "hi").await;

    assert_eq!(run.outcome.unwrap().text(), "late start\n");
    assert_eq!(run.took, secs(30));
}

#[tokio::test(start_paused = true)]
async fn after_the_first_event_the_idle_timeout_takes_over() {
    // First event at 20 s (under the 30 s first-event timeout, over the 5 s idle one), then a
    // 6 s silence: the idle timeout fires.
    let events = text_stream(&["x"], StopReason::EndTurn);
    let model = PacedModel::new([vec![
        Beat::Wait(secs(20)),
        Beat::Event(events[0].clone()),
        Beat::Wait(secs(6)),
        Beat::Event(events[1].clone()),
    ]]);
    let mut agent = agent(model.clone())
        .model_first_event_timeout(secs(30))
        .model_idle_timeout(secs(5))
        .build()
        .unwrap();

    let run = run(&mut agent, "hi").await;

    let (after, text) = timeout_of(&run);
    assert_eq!(after, secs(5));
    assert!(text.contains("idle timeout"), "{text}");
    assert_eq!(run.model_events, 1);
    assert_eq!(run.took, secs(25));
}

#[tokio::test(start_paused = true)]
async fn timeouts_are_off_by_default() {
    // An hour before the first event and an hour between events: Python waits, so do we.
    let hour = secs(3600);
    let mut beats = vec![Beat::Wait(hour)];
    beats.extend(paced_answer("patience", hour));
    let model = PacedModel::new([beats]);
    let mut agent = agent(model.clone()).build().unwrap();

    let run = run(&mut agent, "hi").await;

    assert_eq!(run.outcome.unwrap().text(), "patience\n");
    assert_eq!(run.took, hour * 7);
}

#[tokio::test(start_paused = true)]
async fn a_hook_may_retry_a_timed_out_call() {
    let model = Arc::new(ScriptedModel::new([
        Step::EventsThenHang(Vec::new()),
        Step::Events(text_stream(&["second try"], StopReason::EndTurn)),
    ]));
    let mut agent = agent(model.clone())
        .model_first_event_timeout(secs(30))
        .hook(|event: &mut AfterModelCallEvent| {
            if matches!(event.error(), Some(ModelError::Timeout { .. })) {
                event.retry = true;
            }
        })
        .build()
        .unwrap();

    let run = run(&mut agent, "hi").await;

    assert_eq!(run.outcome.unwrap().text(), "second try\n");
    assert_eq!(model.remaining(), 0);
    assert_eq!(run.took, secs(30));
}

// --- cancellation still wins ---

#[tokio::test(start_paused = true)]
async fn cancellation_wins_while_a_timeout_is_pending() {
    let model = Arc::new(ScriptedModel::new([Step::EventsThenHang(Vec::new())]));
    let mut agent = agent(model.clone())
        .model_first_event_timeout(secs(60))
        .model_idle_timeout(secs(60))
        .build()
        .unwrap();
    let handle = agent.cancel_handle();
    tokio::spawn(async move {
        tokio::time::sleep(secs(10)).await;
        handle.cancel();
    });

    let run = run(&mut agent, "hi").await;

    let result = run.outcome.unwrap();
    assert_eq!(result.stop_reason, StopReason::Cancelled);
    assert_eq!(run.took, secs(10));
}

#[tokio::test(start_paused = true)]
async fn cancellation_wins_while_waiting_to_retry_within_the_budget() {
    let model = Arc::new(ScriptedModel::new(throttles(6)));
    let mut agent = agent(model.clone())
        .retry_strategy(ModelRetryStrategy::default().with_max_elapsed_time(secs(1000)))
        .model_first_event_timeout(secs(60))
        .build()
        .unwrap();
    let handle = agent.cancel_handle();
    tokio::spawn(async move {
        // During the 8 s wait after the second attempt (4 s to 12 s).
        tokio::time::sleep(secs(6)).await;
        handle.cancel();
    });

    let run = run(&mut agent, "hi").await;

    let result = run.outcome.unwrap();
    assert_eq!(result.stop_reason, StopReason::Cancelled);
    assert_eq!(run.throttles, [secs(4)]);
    assert_eq!(model.remaining(), 4);
    assert_eq!(run.took, secs(6));
}
