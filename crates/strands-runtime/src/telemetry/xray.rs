//! AWS X-Ray's trace header, `X-Amzn-Trace-Id`, as a propagator: ADOT installs it beside W3C's
//! (`baggage,xray,tracecontext`), and AWS services pass their trace to the container in it.
//!
//! `Root=1-{8 hex: epoch seconds}-{24 hex};Parent={16 hex};Sampled={0|1}` carries the 128-bit
//! trace id (the two hex groups joined), the parent span id and the sampling decision.

use opentelemetry::Context;
use opentelemetry::propagation::text_map_propagator::FieldIter;
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::{
    SpanContext, SpanId, TraceContextExt as _, TraceFlags, TraceId, TraceState,
};

/// The header, lower-cased as HTTP/2 and the extractor see it.
const HEADER: &str = "x-amzn-trace-id";
/// The longest header value read (X-Ray's own are under 100 bytes, plus optional fields).
const MAX_HEADER_BYTES: usize = 1024;

/// Reads (and writes) `X-Amzn-Trace-Id`.
#[derive(Debug)]
pub(super) struct XrayPropagator {
    fields: [String; 1],
}

impl XrayPropagator {
    pub(super) fn new() -> Self {
        Self {
            fields: [HEADER.to_owned()],
        }
    }
}

impl TextMapPropagator for XrayPropagator {
    fn inject_context(&self, cx: &Context, injector: &mut dyn Injector) {
        let span = cx.span();
        let span_context = span.span_context();
        if !span_context.is_valid() {
            return;
        }
        let trace_id = span_context.trace_id().to_string();
        let (epoch, unique) = trace_id.split_at(8);
        injector.set(
            HEADER,
            format!(
                "Root=1-{epoch}-{unique};Parent={};Sampled={}",
                span_context.span_id(),
                u8::from(span_context.is_sampled())
            ),
        );
    }

    fn extract_with_context(&self, cx: &Context, extractor: &dyn Extractor) -> Context {
        match extractor
            .get(HEADER)
            .filter(|h| h.len() <= MAX_HEADER_BYTES)
            .and_then(parse)
        {
            Some(remote) => cx.with_remote_span_context(remote),
            None => cx.clone(),
        }
    }

    fn fields(&self) -> FieldIter<'_> {
        FieldIter::new(&self.fields)
    }
}

/// The remote parent a header names; `None` without a valid root and parent.
fn parse(header: &str) -> Option<SpanContext> {
    let (mut root, mut parent, mut sampled) = (None, None, false);
    for part in header.split(';') {
        let Some((key, value)) = part.trim().split_once('=') else {
            continue;
        };
        match key {
            "Root" => root = Some(value),
            "Parent" => parent = Some(value),
            "Sampled" => sampled = value == "1",
            _ => {}
        }
    }
    let mut pieces = root?.split('-');
    let (version, epoch, unique) = (pieces.next()?, pieces.next()?, pieces.next()?);
    if version != "1" || pieces.next().is_some() || epoch.len() != 8 || unique.len() != 24 {
        return None;
    }
    let trace_id = TraceId::from_hex(&format!("{epoch}{unique}")).ok()?;
    let span_id = SpanId::from_hex(parent?).ok()?;
    if trace_id == TraceId::INVALID || span_id == SpanId::INVALID {
        return None;
    }
    let flags = if sampled {
        TraceFlags::SAMPLED
    } else {
        TraceFlags::default()
    };
    Some(SpanContext::new(
        trace_id,
        span_id,
        flags,
        true,
        TraceState::default(),
    ))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[test]
    fn the_header_names_the_remote_parent() {
        let remote =
            parse("Root=1-4bf92f35-77b34da6a3ce929d0e0e4736;Parent=00f067aa0ba902b7;Sampled=1")
                .expect("a valid header");
        assert_eq!(
            remote.trace_id().to_string(),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
        assert_eq!(remote.span_id().to_string(), "00f067aa0ba902b7");
        assert!(remote.is_sampled() && remote.is_remote());
    }

    #[test]
    fn headers_without_a_root_or_parent_or_of_another_version_are_ignored() {
        for header in [
            "Root=1-4bf92f35-77b34da6a3ce929d0e0e4736",
            "Parent=00f067aa0ba902b7;Sampled=1",
            "Root=2-4bf92f35-77b34da6a3ce929d0e0e4736;Parent=00f067aa0ba902b7",
            "Root=1-4bf92f35-77b34da6;Parent=00f067aa0ba902b7",
            "Root=1-00000000-000000000000000000000000;Parent=00f067aa0ba902b7",
            "garbage",
        ] {
            assert!(parse(header).is_none(), "{header}");
        }
    }

    #[test]
    fn what_is_injected_is_extracted_again() {
        let header = "Root=1-4bf92f35-77b34da6a3ce929d0e0e4736;Parent=00f067aa0ba902b7;Sampled=1";
        let propagator = XrayPropagator::new();
        let carrier = HashMap::from([(HEADER.to_owned(), header.to_owned())]);
        let cx = propagator.extract(&carrier);
        let mut out: HashMap<String, String> = HashMap::new();
        propagator.inject_context(&cx, &mut out);
        assert_eq!(out[HEADER], header);
    }
}
