//! Reading request bodies: bounded in size, in time, and in the bytes all requests may hold at
//! once.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::response::Response;
use bytes::{Bytes, BytesMut};
use http::{HeaderValue, StatusCode, header};
use http_body_util::BodyExt as _;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use crate::wire;

/// Bytes are reserved from the budget in units of this size.
const UNIT: usize = 1024;

/// The bytes of request bodies held at once, across requests.
#[derive(Debug, Clone)]
pub(crate) struct BodyBudget {
    units: Arc<Semaphore>,
    bytes: usize,
}

impl BodyBudget {
    pub(crate) fn new(bytes: usize) -> Self {
        let units = bytes.div_ceil(UNIT).clamp(1, Semaphore::MAX_PERMITS);
        Self {
            units: Arc::new(Semaphore::new(units)),
            bytes,
        }
    }

    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }
}

/// The limits one body is read under.
#[derive(Debug, Clone)]
pub(crate) struct BodyLimits {
    /// The largest body (clamped to the budget).
    pub(crate) max_bytes: usize,
    /// Time from the end of the headers to the end of the body.
    pub(crate) timeout: Duration,
    pub(crate) budget: BodyBudget,
}

/// A body read whole, holding its share of the budget until dropped.
pub(crate) struct ReadBody {
    pub(crate) bytes: Bytes,
    _reserved: Option<OwnedSemaphorePermit>,
}

/// Why a body could not be read; each is a client-facing JSON answer.
#[derive(Debug)]
pub(crate) enum BodyError {
    TooLarge { limit: usize },
    Malformed(String),
    TimedOut(Duration),
    Busy { budget: usize },
}

impl BodyError {
    pub(crate) fn status(&self) -> StatusCode {
        match self {
            Self::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Malformed(_) => StatusCode::BAD_REQUEST,
            Self::TimedOut(_) => StatusCode::REQUEST_TIMEOUT,
            Self::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    pub(crate) fn into_response(self) -> Response {
        let status = self.status();
        let (error, details) = match self {
            Self::TooLarge { limit } => (
                "Payload too large",
                format!("the request body exceeds the limit of {limit} bytes"),
            ),
            Self::Malformed(reason) => (
                "Invalid request body",
                format!("the request body could not be read: {reason}"),
            ),
            Self::TimedOut(timeout) => (
                "Request timeout",
                format!(
                    "the request body did not arrive within {:.3}s",
                    timeout.as_secs_f64()
                ),
            ),
            Self::Busy { budget } => (
                "Server busy",
                format!("request bodies in flight would exceed {budget} bytes; retry shortly"),
            ),
        };
        let mut response = wire::error_with_details(status, error, &details);
        let headers = response.headers_mut();
        match status {
            StatusCode::SERVICE_UNAVAILABLE => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            // What is left of the body is unread; the connection cannot carry another request.
            _ => {
                headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
        }
        response
    }
}

/// Reads `body` whole within `limits`; `declared` is its `Content-Length`, if any.
pub(crate) async fn read(
    mut body: Body,
    declared: Option<usize>,
    limits: &BodyLimits,
) -> Result<ReadBody, BodyError> {
    let started = Instant::now();
    let deadline = started + limits.timeout;
    // Room in the budget is waited for a quarter of that at most: a busy server says so soon.
    let room_by = started + limits.timeout / 4;
    let limit = limits.max_bytes.min(limits.budget.bytes);
    if declared.is_some_and(|n| n > limit) {
        return Err(BodyError::TooLarge { limit });
    }
    let mut reservation = Reservation::default();
    reservation
        .grow(&limits.budget, declared.unwrap_or(0), room_by)
        .await?;
    // One frame is the common case: kept as it came, without a copy.
    let mut first: Option<Bytes> = None;
    let mut rest = BytesMut::new();
    loop {
        let frame = match tokio::time::timeout_at(deadline, body.frame()).await {
            Err(_) => return Err(BodyError::TimedOut(limits.timeout)),
            Ok(None) => break,
            Ok(Some(Err(error))) => return Err(BodyError::Malformed(error_chain(&error))),
            Ok(Some(Ok(frame))) => frame,
        };
        let Ok(data) = frame.into_data() else {
            continue; // trailers
        };
        let len = first.as_ref().map_or(0, Bytes::len) + rest.len() + data.len();
        if len > limit {
            return Err(BodyError::TooLarge { limit });
        }
        reservation.grow(&limits.budget, len, room_by).await?;
        match first.take() {
            None if rest.is_empty() => first = Some(data),
            None => rest.extend_from_slice(&data),
            Some(bytes) => {
                rest.reserve(declared.unwrap_or(len).min(limit));
                rest.extend_from_slice(&bytes);
                rest.extend_from_slice(&data);
            }
        }
    }
    let bytes = first.unwrap_or_else(|| rest.freeze());
    Ok(ReadBody {
        bytes,
        _reserved: reservation.permit,
    })
}

/// The share of the budget one body holds.
#[derive(Default)]
struct Reservation {
    permit: Option<OwnedSemaphorePermit>,
    units: usize,
}

impl Reservation {
    /// Holds enough for `bytes`, waiting for other requests' bodies until `deadline` (once it
    /// has passed, only room already free is taken).
    async fn grow(
        &mut self,
        budget: &BodyBudget,
        bytes: usize,
        deadline: Instant,
    ) -> Result<(), BodyError> {
        let wanted = bytes.div_ceil(UNIT);
        if wanted <= self.units {
            return Ok(());
        }
        let more = u32::try_from(wanted - self.units).unwrap_or(u32::MAX);
        let acquire = budget.units.clone().acquire_many_owned(more);
        let Ok(Ok(permit)) = tokio::time::timeout_at(deadline, acquire).await else {
            return Err(BodyError::Busy {
                budget: budget.bytes,
            });
        };
        self.units = wanted;
        match self.permit.as_mut() {
            Some(held) => held.merge(permit),
            None => self.permit = Some(permit),
        }
        Ok(())
    }
}

/// `error` and its sources, `: `-separated.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.ends_with(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
