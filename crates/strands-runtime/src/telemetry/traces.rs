//! The span exporter: OTLP/HTTP protobuf, as `opentelemetry-otlp`'s HTTP exporter sends it and
//! with its retry policy, but encoding the SDK's spans directly ([`super::otlp_proto`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Request, StatusCode};
use opentelemetry::context::FutureExt as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{SpanData, SpanExporter};

use super::client::OtlpClient;
use super::otlp_proto::{EncodedResource, trace_request};

/// Retries after the first attempt (the OTLP exporters' recommended policy).
const MAX_RETRIES: u32 = 3;
const FIRST_DELAY: Duration = Duration::from_millis(100);
const MAX_DELAY: Duration = Duration::from_millis(1600);
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
    /// them); a header that is not valid HTTP is an error naming the header, not its value.
    pub(super) fn new(
        url: String,
        headers: &[(String, String)],
        client: OtlpClient,
    ) -> Result<Self, String> {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            let decoded = percent_decode(value).unwrap_or_else(|| value.clone());
            let name = HeaderName::try_from(name.as_str())
                .map_err(|_| format!("the header name {name:?} is not valid"))?;
            let value = HeaderValue::try_from(decoded)
                .map_err(|_| format!("the value of header {name} is not valid"))?;
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

    /// One export, retried on network errors, 429, 502, 503 and 504 with a doubling delay
    /// (or the `Retry-After` the endpoint asks for), all within the client's time bound.
    async fn send(&self, body: Bytes) -> OTelSdkResult {
        let timeout = self.client.timeout;
        tokio::time::timeout(timeout, self.send_with_retries(body))
            .await
            .unwrap_or(Err(OTelSdkError::Timeout(timeout)))
    }

    async fn send_with_retries(&self, body: Bytes) -> OTelSdkResult {
        let mut delay = FIRST_DELAY;
        let mut attempt = 0;
        loop {
            let outcome = self
                .client
                .clone()
                .exchange(self.request(body.clone())?)
                .await;
            let (message, retry_after) = match outcome {
                Ok(response) if response.status().is_success() => return Ok(()),
                Ok(response) => {
                    let status = response.status().as_u16();
                    let message = format!("HTTP export failed with status code: {status}");
                    if !retryable(response.status()) {
                        return Err(OTelSdkError::InternalFailure(message));
                    }
                    (message, retry_after(response.headers()))
                }
                Err(_) => ("HTTP export failed: network error".to_owned(), None),
            };
            if attempt >= MAX_RETRIES {
                return Err(OTelSdkError::InternalFailure(message));
            }
            tokio::time::sleep(retry_after.unwrap_or(delay)).await;
            attempt += 1;
            delay = (delay * 2).min(MAX_DELAY);
        }
    }
}

/// The request body for `batch`, unless it is over `max` bytes. The spans are freed here,
/// before the request waits on the network.
fn encode(
    resource: &EncodedResource,
    batch: Vec<SpanData>,
    max: usize,
) -> Result<Bytes, OTelSdkError> {
    let body = trace_request(resource, &batch);
    let spans = batch.len();
    drop(batch);
    if body.len() > max {
        return Err(OTelSdkError::InternalFailure(format!(
            "{spans} spans were dropped: their export request would be {} bytes, over the {max} allowed",
            body.len()
        )));
    }
    Ok(Bytes::from(body))
}

fn retryable(status: StatusCode) -> bool {
    matches!(status.as_u16(), 429 | 502 | 503 | 504)
}

/// `Retry-After` in seconds (the HTTP-date form is not used by OTLP endpoints).
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(http::header::RETRY_AFTER)?.to_str().ok()?;
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
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
        // On the server's runtime (the batch processor's thread has none), with telemetry
        // suppressed so that the export's own log lines are not exported in turn.
        let endpoint = self.endpoint.clone();
        let suppressed = opentelemetry::Context::new().with_telemetry_suppressed();
        self.endpoint
            .client
            .runtime
            .spawn(async move { endpoint.send(body).await }.with_context(suppressed))
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
    }
}
