//! Bedrock failures → [`ModelError`], each with the fix in its message. Bedrock has no build
//! error: building a model cannot fail (see `BedrockModelBuilder::build`).
//!
//! Python: the `except ClientError` block of `BedrockModel._stream`.

use std::error::Error as StdError;
use std::fmt::Debug;

use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_bedrockruntime::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_bedrockruntime::types::error::ConverseStreamOutputError;
use strands_core::ModelError;

/// Substrings of Bedrock's context-window overflow messages (Python's
/// `BEDROCK_CONTEXT_WINDOW_OVERFLOW_MESSAGES`).
const OVERFLOW_MESSAGES: [&str; 5] = [
    "Input is too long for requested model",
    "input length and `max_tokens` exceed context limit",
    "too many total text bytes",
    "prompt is too long",
    "This model's maximum context length is",
];

/// Error codes AWS uses for credentials it cannot accept.
const CREDENTIAL_CODES: [&str; 6] = [
    "ExpiredTokenException",
    "ExpiredToken",
    "UnrecognizedClientException",
    "InvalidSignatureException",
    "MissingAuthenticationTokenException",
    "IncompleteSignatureException",
];

/// Where the failing call went, for messages.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CallSite<'a> {
    pub(crate) model_id: &'a str,
    pub(crate) region: &'a str,
}

/// Maps an operation error (Converse or ConverseStream before the stream starts).
pub(crate) fn operation_error<E, R>(error: SdkError<E, R>, site: CallSite<'_>) -> ModelError
where
    E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
    R: Debug + Send + Sync + 'static,
{
    match &error {
        SdkError::ServiceError(service) => {
            let err = service.err();
            classify(
                err.code().unwrap_or("Unknown"),
                err.message().unwrap_or(""),
                site,
            )
        }
        _ => transport_error(error, site),
    }
}

/// Maps an error raised inside an open ConverseStream (an exception frame, or a broken stream).
/// In-stream exceptions carry no error code, so the typed variant decides.
pub(crate) fn stream_error<R>(
    error: SdkError<ConverseStreamOutputError, R>,
    site: CallSite<'_>,
) -> ModelError
where
    R: Debug + Send + Sync + 'static,
{
    match &error {
        SdkError::ServiceError(service) => {
            let err = service.err();
            let code = match err {
                ConverseStreamOutputError::ThrottlingException(_) => "ThrottlingException",
                ConverseStreamOutputError::ValidationException(_) => "ValidationException",
                ConverseStreamOutputError::ModelStreamErrorException(_) => {
                    "ModelStreamErrorException"
                }
                ConverseStreamOutputError::ServiceUnavailableException(_) => {
                    "ServiceUnavailableException"
                }
                ConverseStreamOutputError::InternalServerException(_) => "InternalServerException",
                _ => err.code().unwrap_or("Unknown"),
            };
            let message = err.message().unwrap_or("");
            if code == "ModelStreamErrorException" {
                return ModelError::stream(format!("Bedrock stopped the stream: {message}"), None);
            }
            classify(code, message, site)
        }
        _ => {
            let message = DisplayErrorContext(&error).to_string();
            ModelError::stream(
                format!("the Bedrock response stream broke before it ended: {message}"),
                Some(Box::new(error)),
            )
        }
    }
}

fn classify(code: &str, message: &str, site: CallSite<'_>) -> ModelError {
    if code.eq_ignore_ascii_case("ThrottlingException") {
        return ModelError::throttled(message);
    }
    if OVERFLOW_MESSAGES.iter().any(|m| message.contains(m)) {
        return ModelError::context_window_overflow(message);
    }
    if CREDENTIAL_CODES.contains(&code)
        || message.contains("security token included in the request is expired")
    {
        return ModelError::credentials(format!("{code}: {message}"));
    }
    match code {
        // "Invocation of model ID x with on-demand throughput isn’t supported." (curly apostrophe)
        "ValidationException" if message.contains("on-demand throughput isn") => {
            ModelError::InferenceProfileRequired {
                model_id: site.model_id.to_owned(),
                suggestion: inference_profile_for(site.model_id, site.region),
            }
        }
        "ValidationException" if message.contains("model identifier is invalid") => {
            ModelError::invalid_request(format!(
                "{message} (model id `{}` in region `{}`; check the id, and that the model is offered in this region)",
                site.model_id, site.region
            ))
        }
        "ValidationException" => ModelError::invalid_request(message),
        "AccessDeniedException" => ModelError::access_denied(message),
        _ => ModelError::provider(
            format!(
                "Bedrock answered {code}: {message} (model `{}`, region `{}`)",
                site.model_id, site.region
            ),
            None,
        ),
    }
}

/// Failures before any answer: credentials that could not be resolved, unreachable endpoint,
/// timeouts, undecodable responses.
fn transport_error<E, R>(error: SdkError<E, R>, site: CallSite<'_>) -> ModelError
where
    E: StdError + Send + Sync + 'static,
    R: Debug + Send + Sync + 'static,
{
    if let Some(credentials) = find_in_chain::<CredentialsError>(&error) {
        return ModelError::credentials(format!(
            "no usable AWS credentials for Bedrock: {}",
            strands_core::error_chain(credentials)
        ));
    }
    let detail = DisplayErrorContext(&error).to_string();
    let what = match &error {
        SdkError::TimeoutError(_) => "the request to Bedrock timed out",
        SdkError::DispatchFailure(_) => "could not send the request to Bedrock",
        SdkError::ResponseError(_) => "could not read Bedrock's response",
        _ => "could not build the Bedrock request",
    };
    ModelError::provider(
        format!(
            "{what} (model `{}`, region `{}`): {detail}",
            site.model_id, site.region
        ),
        Some(Box::new(error)),
    )
}

fn find_in_chain<'a, T: StdError + 'static>(error: &'a (dyn StdError + 'static)) -> Option<&'a T> {
    let mut current = Some(error);
    while let Some(e) = current {
        if let Some(found) = e.downcast_ref::<T>() {
            return Some(found);
        }
        current = e.source();
    }
    None
}

/// The inference profile for a raw model id: the geography prefix of the region (`us.`, `eu.`,
/// `apac.`, `us-gov.`), or `global.` elsewhere.
pub(crate) fn inference_profile_for(model_id: &str, region: &str) -> String {
    let prefix = if region.starts_with("us-gov-") {
        "us-gov"
    } else if region.starts_with("us-") {
        "us"
    } else if region.starts_with("eu-") {
        "eu"
    } else if region.starts_with("ap-") {
        "apac"
    } else {
        "global"
    };
    format!("{prefix}.{model_id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const SITE: CallSite<'static> = CallSite {
        model_id: "anthropic.claude-sonnet-4-20250514-v1:0",
        region: "us-east-1",
    };

    #[test]
    fn raw_model_id_suggests_an_inference_profile() {
        let error = classify(
            "ValidationException",
            "Invocation of model ID anthropic.claude-sonnet-4-20250514-v1:0 with on-demand throughput isn’t supported. Retry your request with the ID or ARN of an inference profile that contains this model.",
            SITE,
        );
        assert!(
            error.to_string().contains(
                "use an inference profile such as `us.anthropic.claude-sonnet-4-20250514-v1:0`"
            ),
            "{error}"
        );
        assert_eq!(inference_profile_for("m", "eu-west-1"), "eu.m");
        assert_eq!(inference_profile_for("m", "ap-northeast-1"), "apac.m");
        assert_eq!(inference_profile_for("m", "us-gov-west-1"), "us-gov.m");
    }

    #[test]
    fn overflow_and_throttling_are_recognised() {
        assert!(
            classify(
                "ValidationException",
                "Input is too long for requested model.",
                SITE
            )
            .is_context_window_overflow()
        );
        assert!(classify("ThrottlingException", "Too many requests", SITE).is_retryable());
        assert!(matches!(
            classify(
                "ExpiredTokenException",
                "The security token included in the request is expired",
                SITE
            ),
            ModelError::Credentials { .. }
        ));
    }
}
