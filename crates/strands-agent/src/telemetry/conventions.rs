//! Which GenAI semantic conventions the spans follow, and which content they redact: Python's
//! reading of `OTEL_SEMCONV_STABILITY_OPT_IN`.

/// What Python writes in place of a redacted attribute.
pub(crate) const REDACTED: &str = "[REDACTED]";

/// The GenAI conventions of the spans, as Python Strands reads them from
/// `OTEL_SEMCONV_STABILITY_OPT_IN` (a comma-separated list of tokens).
///
/// ```
/// use strands_agent::telemetry::Conventions;
///
/// let latest = Conventions::parse("gen_ai_latest_experimental, gen_ai_tool_definitions", false);
/// assert!(latest.latest() && latest.tool_definitions());
/// assert!(!Conventions::parse("", false).latest());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Conventions {
    latest: bool,
    tool_definitions: bool,
    latest_invocation_tokens: bool,
    attributes_only: bool,
    /// `Some` when `gen_ai_unredacted_attributes=` is given: content attributes not listed are
    /// replaced by `[REDACTED]`.
    unredacted: Option<Unredacted>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Unredacted {
    exact: Vec<String>,
    prefixes: Vec<String>,
}

impl Conventions {
    /// Reads `OTEL_SEMCONV_STABILITY_OPT_IN`; content goes into span attributes instead of
    /// events for Langfuse endpoints (`OTEL_EXPORTER_OTLP_ENDPOINT`,
    /// `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or `LANGFUSE_BASE_URL` containing `langfuse`), as in
    /// Python.
    pub fn from_env() -> Self {
        let opt_in = std::env::var("OTEL_SEMCONV_STABILITY_OPT_IN").unwrap_or_default();
        let langfuse = [
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            "LANGFUSE_BASE_URL",
        ]
        .iter()
        .any(|name| std::env::var(name).is_ok_and(|v| v.contains("langfuse")));
        Self::parse(&opt_in, langfuse)
    }

    /// Parses an `OTEL_SEMCONV_STABILITY_OPT_IN` value; `langfuse` forces content into span
    /// attributes.
    pub fn parse(opt_in: &str, langfuse: bool) -> Self {
        let tokens: Vec<&str> = opt_in.split(',').map(str::trim).collect();
        let has = |token: &str| tokens.contains(&token);
        let unredacted = tokens
            .iter()
            .find_map(|t| t.strip_prefix("gen_ai_unredacted_attributes="))
            .map(|list| {
                let mut parsed = Unredacted::default();
                for entry in list.split(';').map(str::trim).filter(|e| !e.is_empty()) {
                    match entry.strip_suffix('*') {
                        Some(prefix) => parsed.prefixes.push(prefix.to_owned()),
                        None => parsed.exact.push(entry.to_owned()),
                    }
                }
                parsed
            });
        Self {
            latest: has("gen_ai_latest_experimental"),
            tool_definitions: has("gen_ai_tool_definitions"),
            latest_invocation_tokens: has("gen_ai_use_latest_invocation_tokens"),
            attributes_only: langfuse || has("gen_ai_span_attributes_only"),
            unredacted,
        }
    }

    /// The latest experimental GenAI conventions (`gen_ai_latest_experimental`): content in
    /// `gen_ai.client.inference.operation.details` events, `gen_ai.provider.name`.
    pub fn latest(&self) -> bool {
        self.latest
    }

    /// Tool definitions on the agent span (`gen_ai_tool_definitions`).
    pub fn tool_definitions(&self) -> bool {
        self.tool_definitions
    }

    /// The agent span's usage is this invocation's, not the agent's lifetime total
    /// (`gen_ai_use_latest_invocation_tokens`).
    pub fn latest_invocation_tokens(&self) -> bool {
        self.latest_invocation_tokens
    }

    /// Content recorded as span attributes instead of events (`gen_ai_span_attributes_only`, or
    /// a Langfuse endpoint).
    pub fn attributes_only(&self) -> bool {
        self.attributes_only
    }

    /// `value` for the content attribute `canonical` (one of `gen_ai.input.messages`,
    /// `gen_ai.output.messages`, `gen_ai.system_instructions`, `gen_ai.tool.call.arguments`,
    /// `gen_ai.tool.call.result`), or `[REDACTED]` when redaction is on and the name is not
    /// allowed.
    pub(crate) fn redact(&self, canonical: &str, value: String) -> String {
        match &self.unredacted {
            None => value,
            Some(allowed)
                if allowed.exact.iter().any(|e| e == canonical)
                    || allowed
                        .prefixes
                        .iter()
                        .any(|p| canonical.starts_with(p.as_str())) =>
            {
                value
            }
            Some(_) => REDACTED.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_is_an_allow_list_with_trailing_globs() {
        let c = Conventions::parse(
            "gen_ai_unredacted_attributes=gen_ai.output.*;gen_ai.system_instructions",
            false,
        );
        assert_eq!(c.redact("gen_ai.output.messages", "x".into()), "x");
        assert_eq!(c.redact("gen_ai.system_instructions", "x".into()), "x");
        assert_eq!(c.redact("gen_ai.input.messages", "x".into()), REDACTED);
        let everything = Conventions::parse("gen_ai_unredacted_attributes=", false);
        assert_eq!(
            everything.redact("gen_ai.output.messages", "x".into()),
            REDACTED
        );
        assert_eq!(
            Conventions::parse("", false).redact("gen_ai.input.messages", "x".into()),
            "x"
        );
    }

    #[test]
    fn langfuse_forces_attributes_only() {
        assert!(Conventions::parse("", true).attributes_only());
        assert!(Conventions::parse("gen_ai_span_attributes_only", false).attributes_only());
        assert!(!Conventions::parse("gen_ai_latest_experimental", false).attributes_only());
    }
}
