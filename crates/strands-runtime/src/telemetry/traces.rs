//! The span exporter: OTLP/HTTP protobuf, as `opentelemetry-otlp`'s HTTP exporter sends it and
//! with its retry policy, but encoding the SDK's spans directly ([`super::otlp_proto`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Request, StatusCode};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{SpanData, SpanExporter};

use super::client::OtlpClient;
use super::otlp_proto::{EncodedResource, trace_request};

/// Retries after the first attempt (the OTLP exporters' recommended policy).
const MAX_RETRIES: u32 = 3;
const FIRST_DELAY: Duration = Duration::from_millis(100);
const MAX_DELAY: Duration = Duration::from_millis(1600);
/// The longest `Retry-After` honoured.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);
/// Sent with every request, unless the configured headers name another.
const USER_AGENT: &str = concat!(
    "OTel-OTLP-Exporter-Rust strands-runtime/",
    env!("CARGO_PKG_VERSION")
);
/// The largest request sent (opentelemetry-otlp's default): a bigger batch is dropped, not
/// sent, as the endpoints would refuse it.
const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

pub(super) struct TraceExporter {
    endpoint: Arc<Endpoint>,
    resource: EncodedResource,
    shut_down: AtomicBool,
}

/// Where requests go, shared with the task that sends them.
struct Endpoint {
    url: String,
    headers: HeaderMap,
    client: OtlpClient,
}

impl std::fmt::Debug for TraceExporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TraceExporter")
            .field("client", &self.endpoint.client)
            .finish_non_exhaustive()
    }
}

impl TraceExporter {
    /// Sends to `url` with `headers` (values percent-decoded as the OTLP exporters decode
    /// them; a header that is still not valid HTTP is left out with a warning that does not
    /// show it).
    ///
    /// # Errors
    ///
    /// `url` is not a URL (the message shows it without credentials or query).
    pub(super) fn new(
        url: String,
        headers: &[(String, String)],
        client: OtlpClient,
    ) -> Result<Self, String> {
        if http::Uri::try_from(url.as_str()).is_err() {
            return Err(format!(
                "the traces endpoint {} is not a valid URL",
                super::export::shown(&url)
            ));
        }
        let mut map = HeaderMap::new();
        map.insert(
            http::header::USER_AGENT,
            HeaderValue::from_static(USER_AGENT),
        );
        for (position, (name, value)) in headers.iter().enumerate() {
            let decoded = percent_decode(value).unwrap_or_else(|| value.clone());
            let header = HeaderName::try_from(name.as_str())
                .ok()
                .zip(HeaderValue::try_from(decoded).ok());
            let Some((name, mut value)) = header else {
                tracing::warn!(
                    "traces export header {} is not a valid HTTP header and is left out",
                    position + 1
                );
                continue;
            };
            value.set_sensitive(true);
            map.insert(name, value);
        }
        Ok(Self {
            endpoint: Arc::new(Endpoint {
                url,
                headers: map,
                client,
            }),
            resource: EncodedResource::default(),
            shut_down: AtomicBool::new(false),
        })
    }
}

impl Endpoint {
    fn request(&self, body: Bytes) -> Result<Request<Bytes>, OTelSdkError> {
        let mut request = Request::post(self.url.as_str())
            .header(http::header::CONTENT_TYPE, "application/x-protobuf")
            .body(body)
            .map_err(|e| OTelSdkError::InternalFailure(format!("bad export request: {e}")))?;
        request.headers_mut().extend(self.headers.clone());
        Ok(request)
    }

    /// One export, retried on network errors, 429, 502, 503 and 504, all within the client's
    /// time bound.
    async fn send(&self, body: Bytes) -> OTelSdkResult {
        let timeout = self.client.timeout;
        let deadline = Instant::now() + timeout;
        tokio::time::timeout(timeout, self.send_with_retries(body, deadline))
            .await
            .unwrap_or(Err(OTelSdkError::Timeout(timeout)))
    }

    /// The wait before each retry doubles from 100 ms (at most 1.6 s) with up to 100 ms of
    /// jitter, or is the throttling endpoint's `Retry-After` when longer (at most 30 s); a
    /// retry that could not finish before `deadline` is not tried.
    async fn send_with_retries(&self, body: Bytes, deadline: Instant) -> OTelSdkResult {
        let mut delay = FIRST_DELAY;
        let mut attempt = 0;
        loop {
            let outcome = self
                .client
                .clone()
                .exchange(self.request(body.clone())?)
                .await;
            let (message, asked) = match attempt_outcome(outcome) {
                Attempt::Sent => return Ok(()),
                Attempt::Failed(message) => return Err(OTelSdkError::InternalFailure(message)),
                Attempt::Retry { message, asked } => (message, asked),
            };
            let wait =
                asked.map_or(delay, |asked| delay.max(asked.min(MAX_RETRY_AFTER))) + jitter();
            if attempt >= MAX_RETRIES || Instant::now() + wait >= deadline {
                return Err(OTelSdkError::InternalFailure(message));
            }
            tokio::time::sleep(wait).await;
            attempt += 1;
            delay = (delay * 2).min(MAX_DELAY);
        }
    }
}

/// What one attempt came to.
enum Attempt {
    Sent,
    /// Not to be retried.
    Failed(String),
    /// Worth retrying, after `asked` if the endpoint said how long to wait.
    Retry {
        message: String,
        asked: Option<Duration>,
    },
}

/// Network errors, 429, 502, 503 and 504 are retried; 429 and 503 may say when.
fn attempt_outcome(
    outcome: Result<http::Response<Bytes>, opentelemetry_http::HttpError>,
) -> Attempt {
    let response = match outcome {
        Ok(response) => response,
        Err(error) => {
            tracing::debug!(
                "a traces export request failed: {}",
                network_failure(&*error)
            );
            return Attempt::Retry {
                message: "HTTP export failed: network error".to_owned(),
                asked: None,
            };
        }
    };
    let status = response.status();
    if status.is_success() {
        return Attempt::Sent;
    }
    let message = format!("HTTP export failed with status code: {}", status.as_u16());
    if !retryable(status) {
        return Attempt::Failed(message);
    }
    let throttled = matches!(status.as_u16(), 429 | 503);
    Attempt::Retry {
        message,
        asked: throttled.then(|| retry_after(response.headers())).flatten(),
    }
}

/// What kind of network failure `error` is, without its text (which holds the URL).
fn network_failure(error: &(dyn std::error::Error + 'static)) -> &'static str {
    match error.downcast_ref::<reqwest::Error>() {
        Some(e) if e.is_timeout() => "timed out",
        Some(e) if e.is_connect() => "could not connect",
        Some(e) if e.is_request() || e.is_body() => "the request could not be sent",
        Some(_) => "the response could not be read",
        None => "the request could not be signed or sent",
    }
}

/// Up to 100 ms, as the OTLP exporters spread retries.
fn jitter() -> Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    Duration::from_millis(u64::from(nanos % 101))
}

/// The request body for `batch`, unless it would be over `max` bytes. The spans are freed
/// here, before the request waits on the network.
fn encode(
    resource: &EncodedResource,
    batch: Vec<SpanData>,
    max: usize,
) -> Result<Bytes, OTelSdkError> {
    let body = trace_request(resource, &batch, max);
    let spans = batch.len();
    drop(batch);
    body.map(Bytes::from).map_err(|len| {
        OTelSdkError::InternalFailure(format!(
            "{spans} spans were dropped: their export request would be {len} bytes, over the {max} allowed"
        ))
    })
}

fn retryable(status: StatusCode) -> bool {
    matches!(status.as_u16(), 429 | 502 | 503 | 504)
}

/// `Retry-After`: seconds, or an HTTP date.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers
        .get(http::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(
        date.duration_since(std::time::SystemTime::now())
            .unwrap_or_default(),
    )
}

/// `%XX` sequences decoded; `None` when one is malformed or the result is not UTF-8.
fn percent_decode(value: &str) -> Option<String> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

impl SpanExporter for TraceExporter {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        if self.shut_down.load(Ordering::Acquire) {
            return Err(OTelSdkError::AlreadyShutdown);
        }
        if batch.is_empty() {
            return Ok(());
        }
        let body = encode(&self.resource, batch, MAX_BODY_BYTES)?;
        let endpoint = self.endpoint.clone();
        self.endpoint
            .client
            .on_runtime(async move { endpoint.send(body).await })
            .await
            .unwrap_or_else(|e| Err(OTelSdkError::InternalFailure(e.to_string())))
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        if self.shut_down.swap(true, Ordering::AcqRel) {
            return Err(OTelSdkError::AlreadyShutdown);
        }
        Ok(())
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.resource = EncodedResource::new(resource);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_values_are_percent_decoded_once() {
        assert_eq!(
            percent_decode("Bearer%20a%2Bb").as_deref(),
            Some("Bearer a+b")
        );
        assert_eq!(percent_decode("100%"), None);
        assert_eq!(percent_decode("plain").as_deref(), Some("plain"));
    }

    #[test]
    fn a_batch_over_the_size_limit_is_dropped() {
        let span = opentelemetry_sdk::trace::SpanData {
            span_context: opentelemetry::trace::SpanContext::empty_context(),
            parent_span_id: opentelemetry::trace::SpanId::INVALID,
            parent_span_is_remote: false,
            span_kind: opentelemetry::trace::SpanKind::Internal,
            name: "chat".into(),
            start_time: std::time::SystemTime::now(),
            end_time: std::time::SystemTime::now(),
            attributes: vec![opentelemetry::KeyValue::new("content", "x".repeat(1000))],
            dropped_attributes_count: 0,
            events: opentelemetry_sdk::trace::SpanEvents::default(),
            links: opentelemetry_sdk::trace::SpanLinks::default(),
            status: opentelemetry::trace::Status::Unset,
            instrumentation_scope: opentelemetry::InstrumentationScope::builder("s").build(),
        };
        let resource = EncodedResource::default();
        let body = encode(&resource, vec![span.clone()], 2000).unwrap();
        assert!(body.len() > 1000);
        let error = encode(&resource, vec![span.clone(), span], 2000).unwrap_err();
        assert!(
            error.to_string().contains("2 spans were dropped"),
            "{error}"
        );
    }

    #[test]
    fn only_throttling_and_gateway_errors_are_retried() {
        assert!(retryable(StatusCode::TOO_MANY_REQUESTS));
        assert!(retryable(StatusCode::SERVICE_UNAVAILABLE));
        assert!(!retryable(StatusCode::FORBIDDEN));
        assert!(!retryable(StatusCode::BAD_REQUEST));
        let mut headers = HeaderMap::new();
        headers.insert(http::header::RETRY_AFTER, HeaderValue::from_static("2"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(2)));
        let soon = std::time::SystemTime::now() + Duration::from_secs(90);
        let date = HeaderValue::try_from(httpdate::fmt_http_date(soon)).unwrap();
        headers.insert(http::header::RETRY_AFTER, date);
        let wait = retry_after(&headers).unwrap();
        assert!(
            wait > Duration::from_secs(85) && wait <= Duration::from_secs(90),
            "{wait:?}"
        );
        headers.insert(http::header::RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&headers), None);
    }
}
