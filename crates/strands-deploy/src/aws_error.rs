//! An AWS refusal as one line a person can act on: the action, AWS's code and message (never a
//! request or response dump, which could hold credentials), and what to allow when access was
//! denied.

pub(crate) use aws_smithy_runtime_api::client::result::SdkError;
pub(crate) use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// `"<service> <action> failed: <code>: <message>[; hint]"`.
pub(crate) fn describe<E: ProvideErrorMetadata, R>(
    service: &str,
    iam_prefix: &str,
    action: &str,
    error: &SdkError<E, R>,
) -> String {
    let detail = match error {
        SdkError::ServiceError(service_error) => {
            let e = service_error.err();
            let code = e.code().unwrap_or("error");
            let message = e.message().unwrap_or_default();
            let hint = if code.contains("AccessDenied") {
                format!("; allow {iam_prefix}:{action} for these credentials")
            } else if code.contains("UnrecognizedClient") || code.contains("InvalidSignature") {
                "; the AWS credentials are not valid for this account and region".to_owned()
            } else {
                String::new()
            };
            format!("{code}: {message}{hint}")
        }
        SdkError::TimeoutError(_) => "timed out".to_owned(),
        SdkError::DispatchFailure(_) => {
            "could not connect (check the network, the region and any AWS_ENDPOINT_URL_* override)"
                .to_owned()
        }
        SdkError::ConstructionFailure(_) => {
            "could not build the request (are AWS credentials and a region configured?)".to_owned()
        }
        _ => "an unreadable answer".to_owned(),
    };
    format!("{service} {action} failed: {detail}")
}

/// AWS's error code of a service error (`ResourceNotFoundException`), if it is one.
pub(crate) fn code<E: ProvideErrorMetadata, R>(error: &SdkError<E, R>) -> Option<&str> {
    match error {
        SdkError::ServiceError(service_error) => service_error.err().code(),
        _ => None,
    }
}
