//! OpenTelemetry spans and metrics shaped as Python Strands 1.62 emits them, so the GenAI
//! observability dashboards (AgentCore's among them) read a Rust agent as they read a Python one.
//!
//! An agent records telemetry only when it has a [`Telemetry`]: given to the builder with
//! [`AgentBuilder::telemetry`](crate::AgentBuilder::telemetry), or installed for the whole process
//! with [`Telemetry::set_default`] before agents are built (the runtime does this when an
//! exporter is configured). Without one, no span, event or metric is built.
//!
//! | Python | Here |
//! |---|---|
//! | span `invoke_agent {name}`, then `execute_event_loop_cycle` per cycle, `chat` per model call and `execute_tool {name}` per tool | the same names, tree, attributes and events |
//! | meter `strands.telemetry.metrics`: `strands.event_loop.*`, `strands.tool.*`, `strands.model.time_to_first_token` | the same instruments, units and attributes |
//! | `OTEL_SEMCONV_STABILITY_OPT_IN` (`gen_ai_latest_experimental`, `gen_ai_tool_definitions`, `gen_ai_use_latest_invocation_tokens`, `gen_ai_span_attributes_only`, `gen_ai_unredacted_attributes=…`) | [`Conventions::from_env`], read when a [`Telemetry`] is built |
//! | `Agent(trace_attributes=...)` | [`AgentBuilder::trace_attributes`](crate::AgentBuilder::trace_attributes) |
//!
//! The deliberate differences (no stack traces on `exception` events, Rust error type names
//! where Python would name a provider's exception) are listed in `docs/python-parity.md`.
//!
//! ```
//! use opentelemetry_sdk::metrics::SdkMeterProvider;
//! use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
//! use strands_agent::Agent;
//! use strands_agent::telemetry::Telemetry;
//! use strands_testkit::ScriptedModel;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let spans = InMemorySpanExporter::default();
//! let tracer_provider = SdkTracerProvider::builder()
//!     .with_simple_exporter(spans.clone())
//!     .build();
//! let telemetry = Telemetry::builder()
//!     .tracer_provider(&tracer_provider)
//!     .meter_provider(&SdkMeterProvider::default())
//!     .build();
//! let mut agent = Agent::builder()
//!     .model(ScriptedModel::builder().text("Hello!").build())
//!     .telemetry(telemetry)
//!     .build()?;
//! agent.invoke("hi").await?;
//! let names: Vec<_> = spans.get_finished_spans()?.into_iter().map(|s| s.name).collect();
//! assert_eq!(names, ["chat", "execute_event_loop_cycle", "invoke_agent Strands Agents"]);
//! # Ok(())
//! # }
//! ```

mod content;
mod conventions;
mod instruments;
mod spans;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use opentelemetry::global::BoxedTracer;
use opentelemetry::metrics::MeterProvider;
use opentelemetry::trace::{Tracer, TracerProvider};

pub use conventions::Conventions;
pub(crate) use spans::{AgentInfo, RunTrace, ToolSpan, ToolTracer};

use instruments::Instruments;

/// The instrumentation scope of Strands' spans (Python's `strands.telemetry.tracer`).
pub const TRACER_SCOPE: &str = "strands.telemetry.tracer";
/// The instrumentation scope of Strands' metrics (Python's `strands.telemetry.metrics`).
pub const METER_SCOPE: &str = "strands.telemetry.metrics";

/// Where an agent's spans and metrics go, and which conventions they follow. Cheap to clone:
/// every agent of a process can share one.
#[derive(Clone)]
pub struct Telemetry {
    inner: Arc<Inner>,
}

struct Inner {
    tracer: BoxedTracer,
    instruments: Instruments,
    conventions: Conventions,
}

impl std::fmt::Debug for Telemetry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Telemetry")
            .field("conventions", &self.inner.conventions)
            .finish_non_exhaustive()
    }
}

/// The process default picked up by agents built without [`AgentBuilder::telemetry`](crate::AgentBuilder::telemetry).
static DEFAULT: RwLock<Option<Telemetry>> = RwLock::new(None);
/// Whether [`DEFAULT`] holds one: read on hot paths (per request, per log line) without a lock.
static DEFAULT_SET: AtomicBool = AtomicBool::new(false);

impl Telemetry {
    /// A builder; providers not given are the `opentelemetry::global` ones.
    pub fn builder() -> TelemetryBuilder {
        TelemetryBuilder::default()
    }

    /// Telemetry through the `opentelemetry::global` tracer and meter providers, with the
    /// conventions of `OTEL_SEMCONV_STABILITY_OPT_IN`: what Python Strands does.
    pub fn global() -> Self {
        Self::builder().build()
    }

    /// Makes `telemetry` the default of agents built from now on without their own
    /// ([`None`] turns the default off). Agents already built keep what they have.
    pub fn set_default(telemetry: Option<Telemetry>) {
        let mut slot = DEFAULT
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        DEFAULT_SET.store(telemetry.is_some(), Ordering::Release);
        *slot = telemetry;
    }

    /// Whether a process default is set: one atomic load, for code that does telemetry work
    /// (extracting trace context, stamping log lines) only when someone records it.
    pub fn default_is_set() -> bool {
        DEFAULT_SET.load(Ordering::Acquire)
    }

    /// The process default, if one was set.
    pub fn default_for_process() -> Option<Telemetry> {
        DEFAULT
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// The conventions the spans follow.
    pub fn conventions(&self) -> &Conventions {
        &self.inner.conventions
    }

    fn tracer(&self) -> &BoxedTracer {
        &self.inner.tracer
    }

    fn instruments(&self) -> &Instruments {
        &self.inner.instruments
    }
}

/// Builds a [`Telemetry`].
#[derive(Default)]
pub struct TelemetryBuilder {
    tracer: Option<BoxedTracer>,
    meter: Option<opentelemetry::metrics::Meter>,
    conventions: Option<Conventions>,
}

impl std::fmt::Debug for TelemetryBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TelemetryBuilder")
            .field("conventions", &self.conventions)
            .finish_non_exhaustive()
    }
}

impl TelemetryBuilder {
    /// Spans go to this provider (scope [`TRACER_SCOPE`]).
    #[must_use]
    pub fn tracer_provider<P>(mut self, provider: &P) -> Self
    where
        P: TracerProvider,
        P::Tracer: Send + Sync + 'static,
        <P::Tracer as Tracer>::Span: Send + Sync + 'static,
    {
        self.tracer = Some(BoxedTracer::new(Box::new(provider.tracer(TRACER_SCOPE))));
        self
    }

    /// Metrics go to this provider (scope [`METER_SCOPE`]).
    #[must_use]
    pub fn meter_provider(mut self, provider: &impl MeterProvider) -> Self {
        self.meter = Some(provider.meter(METER_SCOPE));
        self
    }

    /// The conventions to follow (default: [`Conventions::from_env`]).
    #[must_use]
    pub fn conventions(mut self, conventions: Conventions) -> Self {
        self.conventions = Some(conventions);
        self
    }

    /// Builds the [`Telemetry`].
    pub fn build(self) -> Telemetry {
        let tracer = self
            .tracer
            .unwrap_or_else(|| opentelemetry::global::tracer(TRACER_SCOPE));
        let meter = self
            .meter
            .unwrap_or_else(|| opentelemetry::global::meter(METER_SCOPE));
        Telemetry {
            inner: Arc::new(Inner {
                tracer,
                instruments: Instruments::new(&meter),
                conventions: self.conventions.unwrap_or_else(Conventions::from_env),
            }),
        }
    }
}
