//! Where spans and metrics go, read from the environment as the OpenTelemetry SDKs and AWS's
//! distribution (ADOT) read it, and the SDK pipeline that sends them there.

use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

use opentelemetry::baggage::BaggageExt as _;
use opentelemetry::logs::{AnyValue, LogRecord as _, Logger as _, LoggerProvider as _, Severity};
use opentelemetry::propagation::TextMapCompositePropagator;
use opentelemetry::trace::Span as _;
use opentelemetry::{Context, KeyValue};
use opentelemetry_otlp::{LogExporter, MetricExporter, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::logs::{SdkLogger, SdkLoggerProvider};
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::propagation::{BaggagePropagator, TraceContextPropagator};
use opentelemetry_sdk::trace::{
    BatchSpanProcessor, SdkTracerProvider, Span, SpanData, SpanProcessor,
};
use strands_agent::telemetry::Telemetry;

use super::SESSION_ID;
use super::client::OtlpClient;
use crate::context::RequestContext;

/// The default time bound of one export request (`OTEL_EXPORTER_OTLP_TIMEOUT`, ms).
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest export time bound accepted.
const MAX_TIMEOUT: Duration = Duration::from_secs(60);

/// Where one signal goes.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Signal {
    /// Not exported, and why.
    Off(String),
    /// OTLP over HTTP/protobuf.
    Otlp {
        /// The full URL (`…/v1/traces`).
        url: String,
        /// Extra headers (values are never shown).
        headers: Vec<(String, String)>,
        /// `Some((service, region))` when requests are signed with SigV4.
        signing: Option<(&'static str, String)>,
    },
}

impl fmt::Debug for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

impl Signal {
    /// One line for `doctor`: the URL, the header names, the signing; never a header value.
    pub fn describe(&self) -> String {
        match self {
            Self::Off(reason) => format!("off ({reason})"),
            Self::Otlp {
                url,
                headers,
                signing,
            } => {
                let mut line = format!("OTLP http/protobuf to {}", shown(url));
                if !headers.is_empty() {
                    let names: Vec<&str> = headers.iter().map(|(k, _)| k.as_str()).collect();
                    line.push_str(&format!(" with headers {}", names.join(", ")));
                }
                if let Some((service, region)) = signing {
                    line.push_str(&format!(", signed with SigV4 ({service}, {region})"));
                }
                line
            }
        }
    }

    fn is_on(&self) -> bool {
        matches!(self, Self::Otlp { .. })
    }
}

/// A URL as logs may show it: no user information, no query (either may hold a key).
pub(super) fn shown(url: &str) -> String {
    let url = url.split(['?', '#']).next().unwrap_or_default();
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
            let host = authority
                .rsplit_once('@')
                .map_or(authority, |(_, host)| host);
            format!("{scheme}://{host}{path}")
        }
        None => url.to_owned(),
    }
}

/// The telemetry configuration of the process, from the environment:
///
/// | Variable | Effect |
/// |---|---|
/// | `OTEL_EXPORTER_OTLP_ENDPOINT` | base URL of a collector (`/v1/traces`, `/v1/metrics`, `/v1/logs` appended) |
/// | `OTEL_EXPORTER_OTLP_{TRACES,METRICS,LOGS}_ENDPOINT` | a signal's full URL |
/// | `OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_EXPORTER_OTLP_{TRACES,METRICS,LOGS}_HEADERS` | `k=v,k=v` headers |
/// | `OTEL_EXPORTER_OTLP_PROTOCOL` (and per signal) | only `http/protobuf` is spoken |
/// | `OTEL_EXPORTER_OTLP_TIMEOUT` | ms per export request (default 10 000, at most 60 000) |
/// | `OTEL_TRACES_EXPORTER`, `OTEL_METRICS_EXPORTER`, `OTEL_LOGS_EXPORTER` | `otlp` (default) or `none` |
/// | `OTEL_SDK_DISABLED=true` | everything off |
/// | `AGENT_OBSERVABILITY_ENABLED=true` | AgentCore, when no endpoint is set: traces go to the region's X-Ray OTLP endpoint (signed for `xray`), log lines to CloudWatch Logs' (signed for `logs`, into the group and stream `OTEL_EXPORTER_OTLP_LOGS_HEADERS` names), with the runtime's credentials |
/// | `DISABLE_ADOT_OBSERVABILITY=true` | ignores `AGENT_OBSERVABILITY_ENABLED` |
/// | `AWS_ENDPOINT_URL_XRAY`, `AWS_ENDPOINT_URL_CLOUDWATCH_LOGS` | other AWS endpoints (test doubles) |
/// | `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES` | the resource (service name `strands-agents` by default) |
/// | `OTEL_SEMCONV_STABILITY_OPT_IN` | the GenAI conventions (read by the agent) |
///
/// ```
/// use strands_runtime::telemetry::TelemetryConfig;
///
/// let vars = [("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318")];
/// let config = TelemetryConfig::from_vars(|k| {
///     vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
/// });
/// assert_eq!(config.traces().describe(), "OTLP http/protobuf to http://collector:4318/v1/traces");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TelemetryConfig {
    traces: Signal,
    metrics: Signal,
    logs: Signal,
    timeout: Duration,
    service_name: Option<String>,
}

/// What goes wrong installing the pipeline.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TelemetryError {
    /// The HTTP client or an exporter could not be built.
    #[error("the telemetry exporter could not be built: {0}")]
    Exporter(String),
}

impl TelemetryConfig {
    /// Reads the process environment.
    pub fn from_env() -> Self {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// Reads variables through `var` (blank values count as unset).
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Self {
        let get = |name: &str| {
            var(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let timeout = get("OTEL_EXPORTER_OTLP_TIMEOUT")
            .and_then(|ms| ms.parse::<u64>().ok())
            .map_or(DEFAULT_TIMEOUT, |ms| {
                Duration::from_millis(ms).min(MAX_TIMEOUT)
            });
        let service_name = get("OTEL_SERVICE_NAME");
        if get("OTEL_SDK_DISABLED").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
            let off = Signal::Off("OTEL_SDK_DISABLED=true".to_owned());
            return Self {
                traces: off.clone(),
                metrics: off.clone(),
                logs: off,
                timeout,
                service_name,
            };
        }
        let observability = get("AGENT_OBSERVABILITY_ENABLED")
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
            && !get("DISABLE_ADOT_OBSERVABILITY").is_some_and(|v| v.eq_ignore_ascii_case("true"));
        let region = get("AWS_REGION").or_else(|| get("AWS_DEFAULT_REGION"));
        let traces = signal(&get, &TRACES, observability, region.as_deref());
        let metrics = signal(&get, &METRICS, observability, region.as_deref());
        let logs = signal(&get, &LOGS, observability, region.as_deref());
        Self {
            traces,
            metrics,
            logs,
            timeout,
            service_name,
        }
    }

    /// Where spans go.
    pub fn traces(&self) -> &Signal {
        &self.traces
    }

    /// Where metrics go.
    pub fn metrics(&self) -> &Signal {
        &self.metrics
    }

    /// Where log lines go (besides stderr).
    pub fn logs(&self) -> &Signal {
        &self.logs
    }

    /// Whether anything is exported.
    pub fn is_on(&self) -> bool {
        self.traces.is_on() || self.metrics.is_on() || self.logs.is_on()
    }

    /// Lines for `doctor`.
    pub fn describe(&self) -> Vec<String> {
        vec![
            format!("traces: {}", self.traces.describe()),
            format!("metrics: {}", self.metrics.describe()),
            format!(
                "logs: {}; on stderr as JSON lines with otelTraceID/otelSpanID",
                self.logs.describe()
            ),
        ]
    }

    /// Builds the exporters, makes them the global providers and the agents' default
    /// [`Telemetry`], and installs the X-Ray, W3C trace-context and baggage propagators. `credentials`
    /// sign requests to AWS endpoints. `None` when nothing is exported. Call inside the tokio
    /// runtime that serves: exports run on it.
    ///
    /// # Errors
    ///
    /// [`TelemetryError::Exporter`] when the HTTP client or an exporter cannot be built.
    pub fn install(
        &self,
        credentials: Option<&aws_credential_types::provider::SharedCredentialsProvider>,
    ) -> Result<Option<TelemetryGuard>, TelemetryError> {
        if !self.is_on() {
            return Ok(None);
        }
        // No redirects: headers (keys, the SigV4 token) must not follow to another host.
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(exporter_error)?;
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| {
            TelemetryError::Exporter("install telemetry inside a tokio runtime".to_owned())
        })?;
        let target = |signal: &Signal| {
            let Signal::Otlp {
                url,
                headers,
                signing,
            } = signal
            else {
                return None;
            };
            let signer =
                match (signing, credentials) {
                    (Some((service, region)), Some(provider)) => Some(
                        strands_mcp::SigV4Signer::new(provider.clone(), region.clone(), *service),
                    ),
                    (Some((service, _)), None) => {
                        // Unsigned, AWS would refuse every export: the signal stays off.
                        tracing::warn!(
                            "telemetry for {service} is not exported: no AWS credentials to sign it"
                        );
                        return None;
                    }
                    (None, _) => None,
                };
            let client = OtlpClient {
                http: http.clone(),
                signer,
                runtime: runtime.clone(),
                timeout: self.timeout,
            };
            Some(Target {
                url: url.clone(),
                headers: headers.iter().cloned().collect(),
                client,
                timeout: self.timeout,
            })
        };
        let resource = self.resource();
        let mut telemetry = Telemetry::builder();
        let mut guard = TelemetryGuard {
            tracer_provider: None,
            meter_provider: None,
            logger_provider: None,
        };
        if let Some(target) = target(&self.traces) {
            let exporter = super::traces::TraceExporter::new(
                target.url,
                &target.headers.into_iter().collect::<Vec<_>>(),
                target.client,
            )
            .map_err(TelemetryError::Exporter)?;
            let provider = SdkTracerProvider::builder()
                .with_span_processor(SessionFromBaggage(
                    BatchSpanProcessor::builder(exporter).build(),
                ))
                .with_resource(resource.clone())
                .build();
            opentelemetry::global::set_tracer_provider(provider.clone());
            telemetry = telemetry.tracer_provider(&provider);
            guard.tracer_provider = Some(provider);
        }
        if let Some(target) = target(&self.metrics) {
            let exporter = target
                .configure(MetricExporter::builder().with_http())
                .build()
                .map_err(exporter_error)?;
            let provider = SdkMeterProvider::builder()
                .with_reader(PeriodicReader::builder(exporter).build())
                .with_resource(resource.clone())
                .build();
            opentelemetry::global::set_meter_provider(provider.clone());
            telemetry = telemetry.meter_provider(&provider);
            guard.meter_provider = Some(provider);
        }
        if let Some(target) = target(&self.logs) {
            let exporter = target
                .configure(LogExporter::builder().with_http())
                .build()
                .map_err(exporter_error)?;
            let provider = SdkLoggerProvider::builder()
                .with_batch_exporter(exporter)
                .with_resource(resource)
                .build();
            // Set once per process: a second pipeline keeps exporting to the first.
            let _ = LOGGER.set(provider.logger(super::SCOPE));
            guard.logger_provider = Some(provider);
        }
        // ADOT's set: X-Ray's header, W3C's (which wins when both are sent), and baggage.
        opentelemetry::global::set_text_map_propagator(TextMapCompositePropagator::new(vec![
            Box::new(super::xray::XrayPropagator::new()),
            Box::new(TraceContextPropagator::new()),
            Box::new(BaggagePropagator::new()),
        ]));
        Telemetry::set_default(Some(telemetry.build()));
        Ok(Some(guard))
    }

    /// The SDK's resource (`OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`), named
    /// `strands-agents` when neither names the service, as Python's `StrandsTelemetry` does.
    fn resource(&self) -> Resource {
        let builder = Resource::builder();
        let named = self.service_name.is_some()
            || std::env::var("OTEL_RESOURCE_ATTRIBUTES").is_ok_and(|v| {
                v.split(',')
                    .any(|kv| kv.trim().starts_with("service.name="))
            });
        if named {
            builder.build()
        } else {
            builder.with_service_name("strands-agents").build()
        }
    }
}

/// Where one signal's exporter sends, and with which client.
struct Target {
    url: String,
    headers: HashMap<String, String>,
    client: OtlpClient,
    timeout: Duration,
}

impl Target {
    /// An OTLP/HTTP exporter builder (spans, metrics or logs) aimed at this target.
    fn configure<B: WithExportConfig + WithHttpConfig>(self, builder: B) -> B {
        builder
            .with_http_client(self.client)
            .with_endpoint(self.url)
            .with_headers(self.headers)
            .with_timeout(self.timeout)
    }
}

fn exporter_error(error: impl fmt::Display) -> TelemetryError {
    TelemetryError::Exporter(error.to_string())
}

/// The variables of one signal.
struct SignalVars {
    name: &'static str,
    exporter: &'static str,
    endpoint: &'static str,
    headers: &'static str,
    protocol: &'static str,
    path: &'static str,
    /// The AWS service that takes this signal over OTLP on AgentCore, its endpoint override.
    aws: Option<(&'static str, &'static str)>,
}

const TRACES: SignalVars = SignalVars {
    name: "traces",
    exporter: "OTEL_TRACES_EXPORTER",
    endpoint: "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    headers: "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
    protocol: "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
    path: "/v1/traces",
    aws: Some(("xray", "AWS_ENDPOINT_URL_XRAY")),
};

const LOGS: SignalVars = SignalVars {
    name: "logs",
    exporter: "OTEL_LOGS_EXPORTER",
    endpoint: "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
    headers: "OTEL_EXPORTER_OTLP_LOGS_HEADERS",
    protocol: "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL",
    path: "/v1/logs",
    aws: Some(("logs", "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS")),
};

const METRICS: SignalVars = SignalVars {
    name: "metrics",
    exporter: "OTEL_METRICS_EXPORTER",
    endpoint: "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
    headers: "OTEL_EXPORTER_OTLP_METRICS_HEADERS",
    protocol: "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL",
    path: "/v1/metrics",
    aws: None,
};

fn signal(
    get: &impl Fn(&str) -> Option<String>,
    vars: &SignalVars,
    observability: bool,
    region: Option<&str>,
) -> Signal {
    match get(vars.exporter).as_deref() {
        None | Some("otlp") => {}
        Some("none") => return Signal::Off(format!("{}=none", vars.exporter)),
        Some(other) => {
            return Signal::Off(format!(
                "{}={other} is not supported; use otlp or none",
                vars.exporter
            ));
        }
    }
    let protocol = get(vars.protocol)
        .or_else(|| get("OTEL_EXPORTER_OTLP_PROTOCOL"))
        .unwrap_or_else(|| "http/protobuf".to_owned());
    if protocol != "http/protobuf" {
        return Signal::Off(format!(
            "protocol {protocol} is not supported; use http/protobuf"
        ));
    }
    let mut headers = parse_headers(
        "OTEL_EXPORTER_OTLP_HEADERS",
        get("OTEL_EXPORTER_OTLP_HEADERS").as_deref(),
    );
    headers.extend(parse_headers(vars.headers, get(vars.headers).as_deref()));
    let explicit = get(vars.endpoint).or_else(|| {
        get("OTEL_EXPORTER_OTLP_ENDPOINT")
            .map(|base| format!("{}{}", base.trim_end_matches('/'), vars.path))
    });
    if let Some(url) = explicit {
        // An AWS OTLP endpoint set by hand is signed too, as ADOT does.
        let signing = match (vars.aws, region) {
            (Some((service, _)), Some(region))
                if url.contains(&format!("://{service}.{region}.amazonaws.com")) =>
            {
                Some((service, region.to_owned()))
            }
            _ => None,
        };
        return Signal::Otlp {
            url,
            headers,
            signing,
        };
    }
    if !observability {
        return Signal::Off(
            "no endpoint: set OTEL_EXPORTER_OTLP_ENDPOINT, or AGENT_OBSERVABILITY_ENABLED=true on AgentCore"
                .to_owned(),
        );
    }
    let Some((service, override_var)) = vars.aws else {
        return Signal::Off(format!(
            "on AgentCore, ADOT sends {} as CloudWatch EMF logs, which this runtime does not; set OTEL_EXPORTER_OTLP_{}_ENDPOINT to send them to a collector",
            vars.name,
            vars.name.to_uppercase()
        ));
    };
    let Some(region) = region else {
        return Signal::Off(
            "AGENT_OBSERVABILITY_ENABLED=true needs AWS_REGION to find the endpoint".to_owned(),
        );
    };
    // CloudWatch Logs takes OTLP into the log group and stream these headers name.
    if service == "logs" && !headers.iter().any(|(k, _)| k == "x-aws-log-group") {
        return Signal::Off(format!(
            "on AgentCore, logs need x-aws-log-group (and x-aws-log-stream) in {}",
            vars.headers
        ));
    }
    let base =
        get(override_var).unwrap_or_else(|| format!("https://{service}.{region}.amazonaws.com"));
    Signal::Otlp {
        url: format!("{}{}", base.trim_end_matches('/'), vars.path),
        headers,
        signing: Some((service, region.to_owned())),
    }
}

/// `k=v,k=v`, as the OTLP exporters read their header variables; values stay percent-encoded
/// (the exporter decodes them once). A pair whose name is not an HTTP header name (say
/// `Authorization: Basic …=`, written as a header line) is left out with a warning that names
/// the variable and the pair's position, never its text: it may hold a credential.
fn parse_headers(variable: &str, value: Option<&str>) -> Vec<(String, String)> {
    let mut headers = Vec::new();
    let pairs = value.unwrap_or_default().split(',');
    for (position, (k, v)) in pairs.filter_map(|pair| pair.split_once('=')).enumerate() {
        let name = k.trim();
        if http::HeaderName::from_bytes(name.as_bytes()).is_err() {
            tracing::warn!(
                "{variable}: header {} is not a valid HTTP header name and is left out",
                position + 1
            );
            continue;
        }
        headers.push((name.to_owned(), v.trim().to_owned()));
    }
    headers
}

/// Stamps `session.id` from the baggage on every span, as ADOT's baggage span processor does
/// inside AgentCore, then hands ended spans to the batch processor it wraps. One processor, not
/// two: the SDK clones every ended span once per registered processor.
#[derive(Debug)]
struct SessionFromBaggage<P>(P);

impl<P: SpanProcessor> SpanProcessor for SessionFromBaggage<P> {
    fn on_start(&self, span: &mut Span, cx: &Context) {
        if let Some(session) = cx.baggage().get(SESSION_ID) {
            span.set_attribute(KeyValue::new(SESSION_ID, session.to_string()));
        }
        self.0.on_start(span, cx);
    }

    fn on_end(&self, span: SpanData) {
        self.0.on_end(span);
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.0.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.0.shutdown_with_timeout(timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.0.set_resource(resource);
    }
}

/// The logger log lines go to when logs are exported.
static LOGGER: std::sync::OnceLock<SdkLogger> = std::sync::OnceLock::new();

/// A log line as an OpenTelemetry log record (the SDK adds the current trace context).
pub(super) fn emit_log(
    level: tracing::Level,
    target: &str,
    message: &str,
    context: Option<&RequestContext>,
) {
    let Some(logger) = LOGGER.get() else {
        return;
    };
    let (number, text) = match level {
        tracing::Level::ERROR => (Severity::Error, "ERROR"),
        tracing::Level::WARN => (Severity::Warn, "WARNING"),
        tracing::Level::INFO => (Severity::Info, "INFO"),
        tracing::Level::DEBUG => (Severity::Debug, "DEBUG"),
        tracing::Level::TRACE => (Severity::Trace, "TRACE"),
    };
    let mut record = logger.create_log_record();
    record.set_timestamp(std::time::SystemTime::now());
    record.set_severity_number(number);
    record.set_severity_text(text);
    record.set_target(target.to_owned());
    record.set_body(AnyValue::from(message.to_owned()));
    if let Some(context) = context {
        record.add_attribute("requestId", context.request_id.clone());
        if let Some(session) = context.session_id.as_deref().filter(|s| !s.is_empty()) {
            record.add_attribute(SESSION_ID, session.to_owned());
        }
    }
    logger.emit(record);
}

/// The installed pipeline; [`TelemetryGuard::shutdown`] flushes it.
#[derive(Debug)]
pub struct TelemetryGuard {
    tracer_provider: Option<SdkTracerProvider>,
    meter_provider: Option<SdkMeterProvider>,
    logger_provider: Option<SdkLoggerProvider>,
}

impl TelemetryGuard {
    /// Exports what is buffered and stops the exporters, within `timeout` per signal (off the
    /// async workers: the SDK blocks while it flushes).
    pub async fn shutdown(self, timeout: Duration) {
        let Self {
            tracer_provider,
            meter_provider,
            logger_provider,
        } = self;
        let flushed = tokio::task::spawn_blocking(move || {
            let mut failures = Vec::new();
            if let Some(provider) = tracer_provider
                && let Err(error) = provider.shutdown_with_timeout(timeout)
            {
                failures.push(format!("traces: {error}"));
            }
            if let Some(provider) = meter_provider
                && let Err(error) = provider.shutdown_with_timeout(timeout)
            {
                failures.push(format!("metrics: {error}"));
            }
            if let Some(provider) = logger_provider
                && let Err(error) = provider.shutdown_with_timeout(timeout)
            {
                failures.push(format!("logs: {error}"));
            }
            failures
        })
        .await
        .unwrap_or_default();
        Telemetry::set_default(None);
        for failure in flushed {
            tracing::warn!("telemetry was not fully exported at shutdown: {failure}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(vars: &[(&str, &str)]) -> TelemetryConfig {
        TelemetryConfig::from_vars(|k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn urls_are_shown_without_credentials_or_query() {
        assert_eq!(
            shown("https://user:pw@collector:4318/v1/traces?api_key=k"),
            "https://collector:4318/v1/traces"
        );
        assert_eq!(shown("http://c:4318"), "http://c:4318");
    }

    #[test]
    fn nothing_is_exported_without_an_endpoint() {
        let config = config(&[]);
        assert!(!config.is_on());
        assert!(config.traces().describe().starts_with("off (no endpoint"));
    }

    #[test]
    fn agentcore_observability_signs_traces_to_xray_and_explains_metrics() {
        let config = config(&[
            ("AGENT_OBSERVABILITY_ENABLED", "true"),
            ("AWS_REGION", "eu-west-1"),
            (
                "OTEL_EXPORTER_OTLP_LOGS_HEADERS",
                "x-aws-log-group=g,x-aws-log-stream=s",
            ),
        ]);
        assert_eq!(
            config.traces(),
            &Signal::Otlp {
                url: "https://xray.eu-west-1.amazonaws.com/v1/traces".to_owned(),
                headers: Vec::new(),
                signing: Some(("xray", "eu-west-1".to_owned())),
            }
        );
        assert!(config.metrics().describe().contains("EMF"));
    }

    #[test]
    fn agentcore_logs_go_to_cloudwatch_with_the_log_group_headers() {
        let config = config(&[
            ("AGENT_OBSERVABILITY_ENABLED", "true"),
            ("AWS_REGION", "eu-west-1"),
            (
                "OTEL_EXPORTER_OTLP_LOGS_HEADERS",
                "x-aws-log-group=/aws/bedrock-agentcore/runtimes/a-DEFAULT,x-aws-log-stream=otel-rt-logs",
            ),
        ]);
        let Signal::Otlp {
            url,
            headers,
            signing,
        } = config.logs()
        else {
            panic!("logs are on");
        };
        assert_eq!(url, "https://logs.eu-west-1.amazonaws.com/v1/logs");
        assert_eq!(headers.len(), 2);
        assert_eq!(signing, &Some(("logs", "eu-west-1".to_owned())));
        let without_group = config_without_group();
        assert!(without_group.logs().describe().contains("x-aws-log-group"));
    }

    fn config_without_group() -> TelemetryConfig {
        config(&[
            ("AGENT_OBSERVABILITY_ENABLED", "true"),
            ("AWS_REGION", "eu-west-1"),
        ])
    }

    #[test]
    fn a_disabled_sdk_or_adot_turns_it_off() {
        let disabled = config(&[
            ("OTEL_SDK_DISABLED", "true"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"),
        ]);
        assert!(!disabled.is_on());
        let no_adot = config(&[
            ("AGENT_OBSERVABILITY_ENABLED", "true"),
            ("DISABLE_ADOT_OBSERVABILITY", "true"),
            ("AWS_REGION", "us-east-1"),
        ]);
        assert!(!no_adot.is_on());
    }

    #[tokio::test]
    async fn a_traces_endpoint_that_is_not_a_url_stops_install_without_showing_credentials() {
        let config = config(&[
            (
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                "http://user:sekrit@bad host:4318/v1/traces",
            ),
            ("OTEL_METRICS_EXPORTER", "none"),
            ("OTEL_LOGS_EXPORTER", "none"),
        ]);
        let error = config.install(None).unwrap_err().to_string();
        assert!(error.contains("is not a valid URL"), "{error}");
        assert!(!error.contains("sekrit"), "{error}");
    }

    #[test]
    fn a_header_with_an_invalid_name_is_left_out_without_showing_it() {
        let config = config(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"),
            (
                "OTEL_EXPORTER_OTLP_HEADERS",
                "Authorization: Basic dXNlcjpwYXNz==,x-ok=1",
            ),
        ]);
        let Signal::Otlp { headers, .. } = config.traces() else {
            panic!("traces are on");
        };
        assert_eq!(headers, &[("x-ok".to_owned(), "1".to_owned())]);
        assert!(!config.describe().join("\n").contains("dXNlcjpwYXNz"));
    }

    #[test]
    fn signal_variables_win_and_headers_are_never_shown() {
        let config = config(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318/"),
            (
                "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
                "http://m:9000/ingest",
            ),
            (
                "OTEL_EXPORTER_OTLP_HEADERS",
                "authorization=Bearer%20sekrit",
            ),
            ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "grpc"),
        ]);
        assert!(config.traces().describe().contains("grpc is not supported"));
        let Signal::Otlp { url, headers, .. } = config.metrics() else {
            panic!("metrics are on");
        };
        assert_eq!(url, "http://m:9000/ingest");
        assert_eq!(
            headers[0],
            ("authorization".to_owned(), "Bearer%20sekrit".to_owned())
        );
        let described = config.describe().join("\n");
        assert!(described.contains("with headers authorization"));
        assert!(!described.contains("sekrit"));
    }
}
