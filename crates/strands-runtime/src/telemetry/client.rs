//! The OTLP exporters' HTTP client: reqwest (the stack the other crates use), each request
//! optionally signed with SigV4, run on the server's tokio runtime (the SDK's batch processors
//! export from their own threads, outside any runtime), with a time bound and a bounded
//! response body.

use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use opentelemetry_http::{HttpClient, HttpError};
use strands_mcp::SigV4Signer;
use tokio::runtime::Handle;

/// The most of a response body read (an OTLP response is a small status message).
const MAX_RESPONSE_BYTES: usize = 64 * 1024;

#[derive(Clone)]
pub(super) struct OtlpClient {
    pub(super) http: reqwest::Client,
    pub(super) signer: Option<SigV4Signer>,
    pub(super) runtime: Handle,
    pub(super) timeout: Duration,
}

impl std::fmt::Debug for OtlpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OtlpClient")
            .field("signed", &self.signer.is_some())
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

#[async_trait::async_trait]
impl HttpClient for OtlpClient {
    async fn send_bytes(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        let client = self.clone();
        self.on_runtime(async move { client.send(request).await })
            .await
            .map_err(|error| Box::new(error) as HttpError)?
    }
}

impl OtlpClient {
    /// Runs `export` on the server's runtime (the SDK exports from threads without one), with
    /// telemetry suppressed, so that the export's own log lines are not exported in turn.
    pub(super) async fn on_runtime<T: Send + 'static>(
        &self,
        export: impl Future<Output = T> + Send + 'static,
    ) -> Result<T, tokio::task::JoinError> {
        use opentelemetry::context::FutureExt as _;
        let suppressed = opentelemetry::Context::new().with_telemetry_suppressed();
        self.runtime.spawn(export.with_context(suppressed)).await
    }

    /// Signs (credentials may have to be fetched) and sends, all within the time bound.
    async fn send(self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        let timeout = self.timeout;
        tokio::time::timeout(timeout, self.exchange(request))
            .await
            .map_err(|_| {
                HttpError::from(format!(
                    "the OTLP endpoint did not answer within {timeout:?}"
                ))
            })?
    }

    pub(super) async fn exchange(
        self,
        request: Request<Bytes>,
    ) -> Result<Response<Bytes>, HttpError> {
        let (parts, body) = request.into_parts();
        let uri = parts.uri.to_string();
        let mut builder = self
            .http
            .request(parts.method.clone(), &uri)
            .headers(parts.headers);
        if let Some(signer) = &self.signer {
            let signed = signer
                .signed_headers(parts.method.as_str(), &uri, &body)
                .await
                .map_err(HttpError::from)?;
            for (name, value) in signed {
                builder = builder.header(name, value);
            }
        }
        let mut response = builder.body(body).send().await?;
        let mut out = Response::builder().status(response.status());
        for (name, value) in response.headers() {
            out = out.header(name, value);
        }
        let mut received = Vec::new();
        while let Some(chunk) = response.chunk().await? {
            let room = MAX_RESPONSE_BYTES.saturating_sub(received.len());
            received.extend_from_slice(&chunk[..chunk.len().min(room)]);
            if room <= chunk.len() {
                break;
            }
        }
        Ok(out.body(Bytes::from(received))?)
    }
}
