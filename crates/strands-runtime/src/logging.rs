//! JSON logs in the format of the Python app's `RequestContextFormatter`: one object per line on
//! stderr with `timestamp`, `level`, `message`, `logger`, and `requestId`/`sessionId` inside an
//! invocation.
//!
//! ```text
//! {"timestamp": "2026-11-24T19:19:43.506Z", "level": "INFO", "message": "Invocation completed successfully (0.001s)", "logger": "bedrock_agentcore.app", "requestId": "2b4e…", "sessionId": "…"}
//! ```

use std::fmt::{self, Write as _};
use std::io::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::Layer;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;

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

/// A filter from a `LOG_LEVEL` value; Python's level names (`WARNING`, `CRITICAL`) are accepted.
pub fn filter(level: &str) -> EnvFilter {
    let level = level.trim();
    let normalized = match level.to_ascii_uppercase().as_str() {
        "" => "info".to_owned(),
        "WARNING" => "warn".to_owned(),
        "CRITICAL" | "FATAL" => "error".to_owned(),
        _ => level.to_ascii_lowercase(),
    };
    EnvFilter::try_new(&normalized).unwrap_or_else(|_| EnvFilter::new("info"))
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

/// Request and session ids recorded on a span.
#[derive(Debug, Default, Clone)]
struct Ids {
    request_id: Option<String>,
    session_id: Option<String>,
}

impl Visit for Ids {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "requestId" if !value.is_empty() => self.request_id = Some(value.to_owned()),
            "sessionId" if !value.is_empty() => self.session_id = Some(value.to_owned()),
            _ => {}
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let text = format!("{value:?}");
        self.record_str(field, text.trim_matches('"'));
    }
}

struct Fields {
    message: String,
    extra: Map<String, Value>,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = value.to_owned();
        } else {
            self.extra
                .insert(field.name().to_owned(), Value::String(value.to_owned()));
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.extra
            .insert(field.name().to_owned(), Value::from(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.extra
            .insert(field.name().to_owned(), Value::from(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.extra
            .insert(field.name().to_owned(), Value::Bool(value));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            self.message = format!("{value:?}");
        } else {
            self.extra
                .insert(field.name().to_owned(), Value::String(format!("{value:?}")));
        }
    }
}

impl<S, W> Layer<S> for JsonLogLayer<W>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'a> MakeWriter<'a> + 'static,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut ids = Ids::default();
        attrs.record(&mut ids);
        if (ids.request_id.is_some() || ids.session_id.is_some())
            && let Some(span) = ctx.span(id)
        {
            span.extensions_mut().insert(ids);
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id) {
            let mut extensions = span.extensions_mut();
            let mut ids = extensions.get_mut::<Ids>().cloned().unwrap_or_default();
            values.record(&mut ids);
            extensions.replace(ids);
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut fields = Fields {
            message: String::new(),
            extra: Map::new(),
        };
        event.record(&mut fields);
        let mut ids = Ids::default();
        if let Some(scope) = ctx.event_scope(event) {
            for span in scope {
                if let Some(found) = span.extensions().get::<Ids>() {
                    ids.request_id = ids.request_id.or_else(|| found.request_id.clone());
                    ids.session_id = ids.session_id.or_else(|| found.session_id.clone());
                }
            }
        }
        let metadata = event.metadata();
        let mut line = Map::new();
        line.insert(
            "timestamp".to_owned(),
            Value::String(timestamp(SystemTime::now())),
        );
        line.insert(
            "level".to_owned(),
            Value::String(level_name(*metadata.level()).to_owned()),
        );
        line.insert("message".to_owned(), Value::String(fields.message));
        line.insert(
            "logger".to_owned(),
            Value::String(metadata.target().to_owned()),
        );
        if let Some(id) = ids.request_id {
            line.insert("requestId".to_owned(), Value::String(id));
        }
        if let Some(id) = ids.session_id {
            line.insert("sessionId".to_owned(), Value::String(id));
        }
        for (key, value) in fields.extra {
            line.entry(key).or_insert(value);
        }
        let Ok(mut text) = strands_core::json::to_python_string(&line) else {
            return;
        };
        text.push('\n');
        // A log line that cannot be written is dropped; logging must never fail a request.
        let _ = self.make_writer.make_writer().write_all(text.as_bytes());
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
    let since = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(i64::try_from(days).unwrap_or(0));
    let mut out = String::with_capacity(24);
    // Writing to a String cannot fail.
    let _ = write!(
        out,
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60,
        since.subsec_millis()
    );
    out
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar
/// (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = u32::try_from(doy - (153 * mp + 2) / 5 + 1).unwrap_or(1);
    let month = u32::try_from(if mp < 10 { mp + 3 } else { mp - 9 }).unwrap_or(1);
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn timestamps_match_python_format() {
        let t = UNIX_EPOCH + Duration::from_millis(1_795_547_983_506);
        assert_eq!(timestamp(t), "2026-11-24T19:19:43.506Z");
        assert_eq!(timestamp(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }

    #[test]
    fn python_level_names_are_accepted() {
        assert_eq!(filter("WARNING").to_string(), "warn");
        assert_eq!(filter("").to_string(), "info");
    }
}
