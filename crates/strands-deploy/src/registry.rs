//! Pushing an [`Image`] with the OCI distribution (registry HTTP API v2) and reading one back:
//! blobs first (skipped when the registry has them), then the manifests, the root under its tag.
//! ECR registries (`<account>.dkr.ecr.<region>.amazonaws.com`) are signed in with a token from
//! `GetAuthorizationToken`, and the repository is created when missing.

mod ecr;
mod reference;

use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HOST, HeaderValue, LOCATION};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde::Deserialize;

use crate::image::{INDEX_MEDIA_TYPE, Image, MANIFEST_MEDIA_TYPE, sha256};

pub use ecr::EcrRegistry;
pub use reference::Reference;

/// How long one registry request may take (a layer of tens of MB on a slow uplink).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(300);
/// How long connecting may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The most of a refusal's body read (its error list).
const MAX_ERROR_BODY: usize = 64 * 1024;
/// The most of a manifest read.
const MAX_MANIFEST: usize = 4 * 1024 * 1024;
/// The most of a blob read back.
const MAX_BLOB: u64 = 512 * 1024 * 1024;

/// Why a push or pull failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// The reference cannot name an image.
    #[error("invalid image reference {reference:?}: {reason}")]
    InvalidReference {
        /// The reference given.
        reference: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The registry answered with an error.
    #[error("the registry refused {operation} ({status}): {code}: {message}{}", hint(.status, .code))]
    Refused {
        /// What was attempted (`upload of sha256:…`, `manifest latest`).
        operation: String,
        /// The HTTP status.
        status: u16,
        /// The distribution error code (`NAME_UNKNOWN`, `DENIED`, …), or `HTTP` when none.
        code: String,
        /// The registry's message.
        message: String,
    },
    /// The registry answered something the protocol does not allow.
    #[error("the registry answered {operation} unexpectedly: {detail}")]
    Protocol {
        /// What was attempted.
        operation: String,
        /// What was wrong.
        detail: String,
    },
    /// The registry could not be reached or the connection broke.
    #[error("could not reach the registry for {operation}: {detail}")]
    Transport {
        /// What was attempted.
        operation: String,
        /// The transport's error, without URLs or headers.
        detail: String,
    },
    /// ECR refused the token or the repository.
    #[error("{0}")]
    Ecr(String),
}

fn hint(status: &u16, code: &str) -> &'static str {
    match (status, code) {
        (401 | 403, _) | (_, "DENIED" | "UNAUTHORIZED") => {
            "; check the credentials can push (for ECR: ecr:GetAuthorizationToken, ecr:BatchCheckLayerAvailability, ecr:InitiateLayerUpload, ecr:UploadLayerPart, ecr:CompleteLayerUpload, ecr:PutImage)"
        }
        (_, "NAME_UNKNOWN") => "; create the repository first",
        _ => "",
    }
}

/// What a push did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Pushed {
    /// The image's digest (its root).
    pub digest: String,
    /// Blobs uploaded.
    pub uploaded: usize,
    /// Blobs the registry already had.
    pub skipped: usize,
    /// Bytes uploaded (blobs and manifests).
    pub bytes: u64,
}

/// A manifest (or index) read from a registry.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Manifest {
    /// Its media type, from `Content-Type`.
    pub media_type: String,
    /// Its digest, computed from the bytes.
    pub digest: String,
    /// Its bytes, as stored.
    pub bytes: Bytes,
}

/// One registry, reached over HTTPS (or plain HTTP for a local endpoint).
#[derive(Clone)]
pub struct Registry {
    http: reqwest::Client,
    endpoint: String,
    host: Option<HeaderValue>,
    authorization: Option<HeaderValue>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("endpoint", &self.endpoint)
            .field("host", &self.host)
            .field(
                "authorization",
                &self.authorization.as_ref().map(|_| "(hidden)"),
            )
            .finish()
    }
}

impl Registry {
    /// The registry `reference` names, without credentials: `https://<registry>`, or
    /// `http://` for `localhost` and `127.0.0.1`.
    pub fn new(reference: &Reference) -> Self {
        let local = ["localhost", "127.0.0.1", "[::1]"]
            .iter()
            .any(|h| reference.host() == *h);
        let scheme = if local { "http" } else { "https" };
        Self::at(format!("{scheme}://{}", reference.registry()), None)
    }

    /// The same registry reached at `endpoint` (`http://127.0.0.1:4566`): requests go there with
    /// the registry's name as their `Host` (an emulator or a proxy in front of it).
    ///
    /// # Errors
    ///
    /// When `endpoint` is not an `http://` or `https://` URL.
    pub fn with_endpoint(
        self,
        endpoint: &str,
        reference: &Reference,
    ) -> Result<Self, RegistryError> {
        let parsed = reqwest::Url::parse(endpoint).ok();
        if !parsed.is_some_and(|u| matches!(u.scheme(), "http" | "https") && u.has_host()) {
            return Err(RegistryError::InvalidReference {
                reference: endpoint.chars().take(300).collect(),
                reason: "a registry endpoint is an http:// or https:// URL",
            });
        }
        let host = HeaderValue::from_str(reference.registry()).ok();
        Ok(Self {
            authorization: self.authorization,
            ..Self::at(endpoint.trim_end_matches('/').to_owned(), host)
        })
    }

    /// Signs in with HTTP Basic: `credentials` is `base64(user:password)` (ECR's token).
    #[must_use]
    pub fn with_basic_auth(mut self, credentials: &str) -> Self {
        let mut value = HeaderValue::from_str(&format!("Basic {credentials}")).ok();
        if let Some(value) = &mut value {
            value.set_sensitive(true);
        }
        self.authorization = value;
        self
    }

    fn at(endpoint: String, host: Option<HeaderValue>) -> Self {
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .build()
            .unwrap_or_default();
        Self {
            http,
            endpoint,
            host,
            authorization: None,
        }
    }

    /// Pushes every blob of `image` to `repository`, then its manifests, the root tagged `tag`.
    pub async fn push(
        &self,
        repository: &str,
        image: &Image,
        tag: &str,
    ) -> Result<Pushed, RegistryError> {
        let mut pushed = Pushed {
            digest: image.digest().to_owned(),
            uploaded: 0,
            skipped: 0,
            bytes: 0,
        };
        let is_manifest = |t: &str| t == MANIFEST_MEDIA_TYPE || t == INDEX_MEDIA_TYPE;
        for (digest, blob) in image.blobs() {
            if is_manifest(blob.media_type) {
                continue;
            }
            if self.has_blob(repository, digest).await? {
                pushed.skipped += 1;
            } else {
                self.upload(repository, digest, blob.bytes.clone()).await?;
                pushed.uploaded += 1;
                pushed.bytes += blob.bytes.len() as u64;
            }
        }
        for (digest, blob) in image.blobs() {
            if is_manifest(blob.media_type) && digest != image.digest() {
                self.put_manifest(repository, digest, blob.media_type, blob.bytes.clone())
                    .await?;
                pushed.bytes += blob.bytes.len() as u64;
            }
        }
        let root = &image.blobs()[image.digest()];
        self.put_manifest(repository, tag, root.media_type, root.bytes.clone())
            .await?;
        pushed.bytes += root.bytes.len() as u64;
        Ok(pushed)
    }

    /// The manifest (or index) `reference` (a tag or a digest) names in `repository`.
    pub async fn manifest(
        &self,
        repository: &str,
        reference: &str,
    ) -> Result<Manifest, RegistryError> {
        let operation = format!("manifest {reference}");
        let accept = format!("{MANIFEST_MEDIA_TYPE}, {INDEX_MEDIA_TYPE}");
        let response = self
            .send(
                self.request(
                    Method::GET,
                    &format!("/v2/{repository}/manifests/{reference}"),
                )
                .header("accept", accept),
                &operation,
            )
            .await?;
        let response = expect(response, StatusCode::OK, &operation).await?;
        let media_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let bytes = read_bounded(response, MAX_MANIFEST as u64, &operation).await?;
        let digest = sha256(&bytes);
        if reference.starts_with("sha256:") && digest != reference {
            return Err(protocol(&operation, format!("its bytes hash to {digest}")));
        }
        Ok(Manifest {
            media_type,
            digest,
            bytes,
        })
    }

    /// The blob `digest` in `repository`, checked against its digest.
    pub async fn blob(&self, repository: &str, digest: &str) -> Result<Bytes, RegistryError> {
        let operation = format!("download of {digest}");
        let response = self
            .send(
                self.request(Method::GET, &format!("/v2/{repository}/blobs/{digest}")),
                &operation,
            )
            .await?;
        let response = expect(response, StatusCode::OK, &operation).await?;
        let bytes = read_bounded(response, MAX_BLOB, &operation).await?;
        if sha256(&bytes) != digest {
            return Err(protocol(
                &operation,
                "its bytes do not match the digest".to_owned(),
            ));
        }
        Ok(bytes)
    }

    async fn has_blob(&self, repository: &str, digest: &str) -> Result<bool, RegistryError> {
        let operation = format!("check of {digest}");
        let path = format!("/v2/{repository}/blobs/{digest}");
        let response = self
            .send(self.request(Method::HEAD, &path), &operation)
            .await?;
        match response.status() {
            StatusCode::OK => Ok(true),
            StatusCode::NOT_FOUND => Ok(false),
            _ => Err(refusal(response, &operation).await),
        }
    }

    /// POST a session, PATCH the bytes, PUT with the digest: the flow every registry takes.
    async fn upload(
        &self,
        repository: &str,
        digest: &str,
        bytes: Bytes,
    ) -> Result<(), RegistryError> {
        let operation = format!("upload of {digest}");
        let start = self.request(Method::POST, &format!("/v2/{repository}/blobs/uploads/"));
        let response = self.send(start, &operation).await?;
        let response = expect(response, StatusCode::ACCEPTED, &operation).await?;
        let session = self.location(&response, &operation)?;
        let patch = self
            .request_to(Method::PATCH, session)
            .header(CONTENT_TYPE, "application/octet-stream")
            .body(bytes);
        let response = self.send(patch, &operation).await?;
        let response = expect(response, StatusCode::ACCEPTED, &operation).await?;
        let mut session = self.location(&response, &operation)?;
        session.query_pairs_mut().append_pair("digest", digest);
        let finish = self
            .request_to(Method::PUT, session)
            .header(CONTENT_TYPE, "application/octet-stream");
        let response = self.send(finish, &operation).await?;
        expect(response, StatusCode::CREATED, &operation).await?;
        Ok(())
    }

    async fn put_manifest(
        &self,
        repository: &str,
        reference: &str,
        media_type: &str,
        bytes: Bytes,
    ) -> Result<(), RegistryError> {
        let operation = format!("manifest {reference}");
        let digest = sha256(&bytes);
        let put = self
            .request(
                Method::PUT,
                &format!("/v2/{repository}/manifests/{reference}"),
            )
            .header(CONTENT_TYPE, media_type)
            .body(bytes);
        let response = self.send(put, &operation).await?;
        let response = expect(response, StatusCode::CREATED, &operation).await?;
        let stored = response
            .headers()
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok());
        if let Some(stored) = stored
            && stored != digest
        {
            return Err(protocol(
                &operation,
                format!("it stored {stored}, not {digest}"),
            ));
        }
        Ok(())
    }

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.endpoint));
        if let Some(host) = &self.host {
            request = request.header(HOST, host.clone());
        }
        if let Some(authorization) = &self.authorization {
            request = request.header(AUTHORIZATION, authorization.clone());
        }
        request
    }

    /// The upload session a response's `Location` names, as a URL of this registry: a path is
    /// taken against the endpoint, the registry's own name is reached through the endpoint, and
    /// any other host is refused, so the credentials never leave for it.
    fn location(
        &self,
        response: &Response,
        operation: &str,
    ) -> Result<reqwest::Url, RegistryError> {
        let text = location(response, operation)?;
        let endpoint = reqwest::Url::parse(&self.endpoint)
            .map_err(|_| protocol(operation, "an unreadable endpoint".to_owned()))?;
        let mut url = response
            .url()
            .join(&text)
            .map_err(|_| protocol(operation, "an unreadable Location".to_owned()))?;
        if url.origin() == endpoint.origin() {
            return Ok(url);
        }
        let named = url.host_str().map(|h| match url.port() {
            Some(port) => format!("{h}:{port}"),
            None => h.to_owned(),
        });
        let is_registry = self
            .host
            .as_ref()
            .and_then(|h| h.to_str().ok())
            .is_some_and(|registry| named.as_deref() == Some(registry));
        if !is_registry {
            return Err(protocol(
                operation,
                format!(
                    "an upload location on another host ({}), where the credentials are not sent",
                    named.unwrap_or_default()
                ),
            ));
        }
        // The registry's name, reached through the endpoint (an emulator or a proxy).
        url.set_scheme(endpoint.scheme())
            .and_then(|()| url.set_host(endpoint.host_str()).map_err(|_| ()))
            .and_then(|()| url.set_port(endpoint.port()))
            .map_err(|()| protocol(operation, "an unreadable Location".to_owned()))?;
        Ok(url)
    }

    /// A request to a URL [`Self::location`] checked.
    fn request_to(&self, method: Method, url: reqwest::Url) -> RequestBuilder {
        let mut request = self.http.request(method, url);
        if let Some(host) = &self.host {
            request = request.header(HOST, host.clone());
        }
        if let Some(authorization) = &self.authorization {
            request = request.header(AUTHORIZATION, authorization.clone());
        }
        request
    }

    async fn send(
        &self,
        request: RequestBuilder,
        operation: &str,
    ) -> Result<Response, RegistryError> {
        request.send().await.map_err(|e| RegistryError::Transport {
            operation: operation.to_owned(),
            detail: transport_detail(&e),
        })
    }
}

/// What went wrong in transport, without the URL (which may carry an upload session).
fn transport_detail(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    let mut detail = kind.to_owned();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        detail.push_str(": ");
        detail.push_str(&cause.to_string());
        source = cause.source();
    }
    detail
}

fn protocol(operation: &str, detail: String) -> RegistryError {
    RegistryError::Protocol {
        operation: operation.to_owned(),
        detail,
    }
}

fn location(response: &Response, operation: &str) -> Result<String, RegistryError> {
    response
        .headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(ToOwned::to_owned)
        .ok_or_else(|| protocol(operation, "no Location header".to_owned()))
}

async fn expect(
    response: Response,
    status: StatusCode,
    operation: &str,
) -> Result<Response, RegistryError> {
    if response.status() == status {
        Ok(response)
    } else if response.status().is_success() {
        Err(protocol(
            operation,
            format!("status {} instead of {status}", response.status()),
        ))
    } else {
        Err(refusal(response, operation).await)
    }
}

/// The distribution error body: `{"errors": [{"code", "message"}]}`.
#[derive(Deserialize)]
struct Errors {
    errors: Vec<ErrorEntry>,
}

#[derive(Deserialize)]
struct ErrorEntry {
    code: String,
    #[serde(default)]
    message: String,
}

async fn refusal(response: Response, operation: &str) -> RegistryError {
    let status = response.status().as_u16();
    let body = read_bounded(response, MAX_ERROR_BODY as u64, operation)
        .await
        .unwrap_or_default();
    let (code, message) = match serde_json::from_slice::<Errors>(&body) {
        Ok(Errors { errors }) if !errors.is_empty() => {
            let first = &errors[0];
            (first.code.clone(), first.message.clone())
        }
        _ => (
            "HTTP".to_owned(),
            String::from_utf8_lossy(&body).chars().take(300).collect(),
        ),
    };
    RegistryError::Refused {
        operation: operation.to_owned(),
        status,
        code,
        message,
    }
}

/// The body, refused past `limit` bytes (a registry cannot make us buffer without bound).
async fn read_bounded(
    mut response: Response,
    limit: u64,
    operation: &str,
) -> Result<Bytes, RegistryError> {
    if response.content_length().is_some_and(|n| n > limit) {
        return Err(protocol(operation, format!("a body over {limit} bytes")));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| RegistryError::Transport {
            operation: operation.to_owned(),
            detail: transport_detail(&e),
        })?
    {
        if (body.len() + chunk.len()) as u64 > limit {
            return Err(protocol(operation, format!("a body over {limit} bytes")));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(body))
}
