//! JSON logs in the format of the Python app's `RequestContextFormatter`: one object per line on
//! stderr with `timestamp`, `level`, `message`, `logger`, and `requestId`/`sessionId` inside an
//! invocation.
//!
//! ```text
//! {"timestamp": "2026-11-24T19:19:43.506Z", "level": "INFO", "message": "Invocation completed successfully (0.001s)", "logger": "bedrock_agentcore.app", "requestId": "2b4e…", "sessionId": "…"}
//! ```

use std::cell::RefCell;
use std::fmt::{self, Write as _};
use std::io::Write as _;
use std::time::SystemTime;

use serde::Serialize;
use serde::ser::SerializeMap;
use strands_core::json::PythonFormatter;
use strands_core::time::UtcTime;
use tracing::field::{Field, Visit};
use tracing::level_filters::LevelFilter;
use tracing::subscriber::Interest;
use tracing::{Event, Level, Metadata, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::Layer;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::{self, Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;

use crate::RequestContext;

/// Installs the JSON logger on stderr as the global subscriber, at `level` (a `LOG_LEVEL` value
/// such as `INFO`, `debug`, or a filter like `info,strands_agent=debug`). Binaries call this
/// once; libraries never do.
///
/// # Errors
///
/// When a global subscriber is already installed.
pub fn init(level: &str) -> Result<(), tracing_subscriber::util::TryInitError> {
    tracing_subscriber::registry()
        .with(JsonLogLayer::new(std::io::stderr).with_filter(filter(level)))
        .try_init()
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LogFormat {
    /// One JSON object per line, as the Python app's formatter writes them (for CloudWatch).
    Json,
    /// One human-readable line per event (for a terminal).
    Text,
}

impl LogFormat {
    /// `LOG_FORMAT` (`json` or `text`) when set; otherwise text on a terminal and JSON
    /// elsewhere (AgentCore's log collection, a file, a pipe).
    ///
    /// # Errors
    ///
    /// `LOG_FORMAT` holds something other than `json` or `text`.
    pub fn from_env() -> Result<Self, String> {
        match std::env::var("LOG_FORMAT") {
            Ok(value) if !value.trim().is_empty() => value.parse(),
            _ if std::io::IsTerminal::is_terminal(&std::io::stderr()) => Ok(Self::Text),
            _ => Ok(Self::Json),
        }
    }
}

impl std::str::FromStr for LogFormat {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, String> {
        match value.trim().to_ascii_lowercase().as_str() {
            "json" => Ok(Self::Json),
            "text" => Ok(Self::Text),
            _ => Err(format!(
                "LOG_FORMAT={:?} is not valid: set it to json or text",
                Bounded(value).to_string()
            )),
        }
    }
}

/// Installs the logger on stderr as the global subscriber, at `level` (see [`init`]) and in
/// `format`.
///
/// # Errors
///
/// When a global subscriber is already installed.
pub fn init_with(
    level: &str,
    format: LogFormat,
) -> Result<(), tracing_subscriber::util::TryInitError> {
    match format {
        LogFormat::Json => init(level),
        LogFormat::Text => tracing_subscriber::registry()
            .with(TextLogLayer::new(std::io::stderr).with_filter(filter(level)))
            .try_init(),
    }
}

/// Installs the logger from `LOG_LEVEL` (default `INFO`) and `LOG_FORMAT` (see
/// [`LogFormat::from_env`]), as the binary and [`serve`](crate::serve) do.
///
/// # Errors
///
/// An invalid `LOG_FORMAT` (JSON is then installed), or a global subscriber already installed.
pub fn init_from_env() -> Result<(), String> {
    let level = std::env::var("LOG_LEVEL").unwrap_or_default();
    let (format, invalid) = match LogFormat::from_env() {
        Ok(format) => (format, None),
        Err(error) => (LogFormat::Json, Some(error)),
    };
    init_with(&level, format).map_err(|error| error.to_string())?;
    invalid.map_or(Ok(()), Err)
}

/// The log's filter from a `LOG_LEVEL` value; Python's level names (`WARNING`, `CRITICAL`) are
/// accepted.
///
/// It selects events only. The JSON log takes the request and session ids from the invocation's
/// [`RequestContext`], as Python's formatter reads them from context variables, so it needs no
/// spans; with no other layer interested in spans (such as an OpenTelemetry exporter), the
/// agent's spans are then never built.
pub fn filter(level: &str) -> EventFilter {
    let level = level.trim();
    let normalized = match level.to_ascii_uppercase().as_str() {
        "" => "info".to_owned(),
        "WARNING" => "warn".to_owned(),
        "CRITICAL" | "FATAL" => "error".to_owned(),
        _ => level.to_ascii_lowercase(),
    };
    EventFilter {
        inner: EnvFilter::try_new(&normalized).unwrap_or_else(|_| EnvFilter::new("info")),
    }
}

/// A client-supplied value in a log line: at most [`Bounded::MAX_BYTES`] of it, cut at a
/// character boundary, then how much was left out.
pub(crate) struct Bounded<'a>(pub(crate) &'a str);

impl Bounded<'_> {
    /// The most bytes of a client-supplied value a log line shows.
    pub(crate) const MAX_BYTES: usize = 256;
}

impl fmt::Display for Bounded<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = self.0;
        if text.len() <= Self::MAX_BYTES {
            return f.write_str(text);
        }
        let mut cut = Self::MAX_BYTES;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        write!(f, "{}…(+{} bytes)", &text[..cut], text.len() - cut)
    }
}

/// An [`EnvFilter`] applied to events only; spans are left to other layers. See [`filter`].
#[derive(Debug)]
pub struct EventFilter {
    inner: EnvFilter,
}

impl fmt::Display for EventFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

/// Crates whose debug and trace events carry credentials (the SigV4 canonical request holds the
/// session token, requests hold the `Authorization` header with the access key id, HTTP/2 and
/// TLS traces hold raw headers): held at INFO whatever the filter says.
const CREDENTIAL_BEARING: [&str; 12] = [
    "aws_sigv4",
    "aws_smithy_runtime",
    "aws_smithy_runtime_api",
    "aws_smithy_http_client",
    "aws_smithy_http",
    "aws_config",
    "aws_credential_types",
    "hyper",
    "hyper_util",
    "h2",
    "rustls",
    "reqwest",
];

/// Whether `metadata` is a debug or trace event of a crate that logs credentials.
fn credential_bearing(metadata: &Metadata<'_>) -> bool {
    if *metadata.level() <= Level::INFO {
        return false;
    }
    let target = metadata.target();
    CREDENTIAL_BEARING.iter().any(|krate| {
        target
            .strip_prefix(krate)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with("::"))
    })
}

impl<S> layer::Filter<S> for EventFilter
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn enabled(&self, metadata: &Metadata<'_>, cx: &Context<'_, S>) -> bool {
        !metadata.is_span()
            && !credential_bearing(metadata)
            && layer::Filter::enabled(&self.inner, metadata, cx)
    }

    fn callsite_enabled(&self, metadata: &'static Metadata<'static>) -> Interest {
        if metadata.is_span() || credential_bearing(metadata) {
            Interest::never()
        } else {
            layer::Filter::<S>::callsite_enabled(&self.inner, metadata)
        }
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        layer::Filter::<S>::max_level_hint(&self.inner)
    }
}

/// The layer writing one JSON object per event.
#[derive(Debug)]
pub struct JsonLogLayer<W> {
    make_writer: W,
}

impl<W> JsonLogLayer<W> {
    /// Writes to `make_writer` (e.g. `std::io::stderr`).
    pub fn new(make_writer: W) -> Self {
        Self { make_writer }
    }
}

/// A field's value other than the message.
enum Extra {
    Str(String),
    I64(i64),
    U64(u64),
    F64(f64),
    Bool(bool),
}

impl Serialize for Extra {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Str(value) => serializer.serialize_str(value),
            Self::I64(value) => serializer.serialize_i64(*value),
            Self::U64(value) => serializer.serialize_u64(*value),
            Self::F64(value) => serializer.serialize_f64(*value),
            Self::Bool(value) => serializer.serialize_bool(*value),
        }
    }
}

/// An event's message and other fields, in the order they were recorded.
#[derive(Default)]
struct Fields {
    message: String,
    extra: Vec<(&'static str, Extra)>,
}

impl Fields {
    fn push(&mut self, field: &Field, value: Extra) {
        self.extra.push((field.name(), value));
    }
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            self.push(field, Extra::Str(value.to_owned()));
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.push(field, Extra::I64(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.push(field, Extra::U64(value));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.push(field, Extra::F64(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.push(field, Extra::Bool(value));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            // Writing to a String cannot fail.
            let _ = write!(self.message, "{value:?}");
        } else {
            self.push(field, Extra::Str(format!("{value:?}")));
        }
    }
}

/// Keys the formatter writes itself; fields with these names are not repeated.
const RESERVED: [&str; 8] = [
    "timestamp",
    "level",
    "message",
    "logger",
    "requestId",
    "sessionId",
    "otelTraceID",
    "otelSpanID",
];

/// One log line, written as Python's `json.dumps(log_entry, ensure_ascii=False)`.
struct Line<'a> {
    timestamp: &'a str,
    level: &'static str,
    fields: &'a Fields,
    logger: &'a str,
    context: Option<&'a RequestContext>,
    /// The trace and span ids of the current span, when traced (the names OpenTelemetry's
    /// Python logging instrumentation gives them).
    trace: Option<(String, String)>,
}

impl Serialize for Line<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("timestamp", self.timestamp)?;
        map.serialize_entry("level", self.level)?;
        map.serialize_entry("message", &self.fields.message)?;
        map.serialize_entry("logger", self.logger)?;
        if let Some(context) = self.context {
            if !context.request_id.is_empty() {
                map.serialize_entry("requestId", &context.request_id)?;
            }
            if let Some(session) = context.session_id.as_deref().filter(|s| !s.is_empty()) {
                map.serialize_entry("sessionId", session)?;
            }
        }
        if let Some((trace_id, span_id)) = &self.trace {
            map.serialize_entry("otelTraceID", trace_id)?;
            map.serialize_entry("otelSpanID", span_id)?;
        }
        for (index, (key, value)) in self.fields.extra.iter().enumerate() {
            let repeated = self.fields.extra[..index].iter().any(|(k, _)| k == key);
            if !repeated && !RESERVED.contains(key) {
                map.serialize_entry(key, value)?;
            }
        }
        map.end()
    }
}

thread_local! {
    /// The line being written, reused from event to event on each thread.
    static LINE: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Lines longer than this do not keep their buffer for the next event.
const KEPT_LINE_CAPACITY: usize = 16 * 1024;

impl<S, W> Layer<S> for JsonLogLayer<W>
where
    S: Subscriber,
    W: for<'a> MakeWriter<'a> + 'static,
{
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let metadata = event.metadata();
        let context = RequestContext::current();
        let timestamp = timestamp(SystemTime::now());
        let line = Line {
            timestamp: &timestamp,
            level: level_name(*metadata.level()),
            fields: &fields,
            logger: metadata.target(),
            context: context.as_deref(),
            trace: crate::telemetry::current_ids(),
        };
        crate::telemetry::export_log(
            *metadata.level(),
            metadata.target(),
            &fields.message,
            context.as_deref(),
        );
        let write = |buffer: &mut Vec<u8>| {
            buffer.clear();
            let mut serializer =
                serde_json::Serializer::with_formatter(&mut *buffer, PythonFormatter);
            if line.serialize(&mut serializer).is_ok() {
                buffer.push(b'\n');
                // A log line that cannot be written is dropped; logging must never fail a
                // request.
                let _ = self.make_writer.make_writer().write_all(buffer);
            }
            if buffer.capacity() > KEPT_LINE_CAPACITY {
                *buffer = Vec::new();
            }
        };
        // A writer that logs while writing would find the buffer borrowed: it gets its own.
        let reused = LINE.try_with(|cell| {
            cell.try_borrow_mut()
                .map(|mut buffer| write(&mut buffer))
                .is_ok()
        });
        if !matches!(reused, Ok(true)) {
            write(&mut Vec::new());
        }
    }
}

/// The layer writing one human-readable line per event:
/// `2026-12-03T07:05:01.123Z INFO  bedrock_agentcore.app: Invocation completed successfully (0.001s) session=… request=…`.
#[derive(Debug)]
pub struct TextLogLayer<W> {
    make_writer: W,
}

impl<W> TextLogLayer<W> {
    /// Writes to `make_writer` (e.g. `std::io::stderr`).
    pub fn new(make_writer: W) -> Self {
        Self { make_writer }
    }
}

impl<S, W> Layer<S> for TextLogLayer<W>
where
    S: Subscriber,
    W: for<'a> MakeWriter<'a> + 'static,
{
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let metadata = event.metadata();
        let mut line = timestamp(SystemTime::now());
        // Writing to a String cannot fail.
        let _ = write!(
            line,
            " {:<7} {}: {}",
            level_name(*metadata.level()),
            metadata.target(),
            fields.message
        );
        let context = RequestContext::current();
        if let Some(context) = &context {
            if let Some(session) = context.session_id.as_deref().filter(|s| !s.is_empty()) {
                let _ = write!(line, " session={session}");
            }
            let _ = write!(line, " request={}", context.request_id);
        }
        for (key, value) in &fields.extra {
            let _ = match value {
                Extra::Str(value) => write!(line, " {key}={value:?}"),
                Extra::I64(value) => write!(line, " {key}={value}"),
                Extra::U64(value) => write!(line, " {key}={value}"),
                Extra::F64(value) => write!(line, " {key}={value}"),
                Extra::Bool(value) => write!(line, " {key}={value}"),
            };
        }
        line.push('\n');
        // A log line that cannot be written is dropped; logging must never fail a request.
        let _ = self.make_writer.make_writer().write_all(line.as_bytes());
        crate::telemetry::export_log(
            *metadata.level(),
            metadata.target(),
            &fields.message,
            context.as_deref(),
        );
    }
}

/// Python's level names.
fn level_name(level: Level) -> &'static str {
    match level {
        Level::ERROR => "ERROR",
        Level::WARN => "WARNING",
        Level::INFO => "INFO",
        Level::DEBUG | Level::TRACE => "DEBUG",
    }
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ` in UTC, as Python's formatter writes it.
fn timestamp(now: SystemTime) -> String {
    let t = UtcTime::from_system_time(now);
    let mut out = String::with_capacity(24);
    // Writing to a String cannot fail.
    let _ = write!(
        out,
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year,
        t.month,
        t.day,
        t.hour,
        t.minute,
        t.second,
        t.micros / 1000
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn timestamps_match_python_format() {
        let t = UNIX_EPOCH + Duration::from_millis(1_795_547_983_506);
        assert_eq!(timestamp(t), "2026-11-24T19:19:43.506Z");
        assert_eq!(timestamp(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
    }

    #[test]
    fn log_formats_parse_and_name_the_fix() {
        assert_eq!("JSON".parse(), Ok(LogFormat::Json));
        assert_eq!(" text".parse(), Ok(LogFormat::Text));
        assert_eq!(
            "yaml".parse::<LogFormat>(),
            Err("LOG_FORMAT=\"yaml\" is not valid: set it to json or text".to_owned())
        );
    }

    #[test]
    fn python_level_names_are_accepted() {
        assert_eq!(filter("WARNING").to_string(), "warn");
        assert_eq!(filter("").to_string(), "info");
    }
}
