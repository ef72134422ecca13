//! What the fake recorded about one request, and how a request path maps to an operation.

use super::auth::AuthOutcome;

/// The Bedrock Runtime operation a request addressed, taken from its method and path.
///
/// # Examples
///
/// ```
/// use strands_testkit::bedrock::Operation;
///
/// assert_ne!(Operation::Converse, Operation::ConverseStream);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Operation {
    /// `POST /model/{modelId}/converse`.
    Converse,
    /// `POST /model/{modelId}/converse-stream`.
    ConverseStream,
    /// Anything else; the fake answered 404 `UnknownOperationException`.
    Other,
}

/// One HTTP request the fake received, as recorded by
/// [`FakeBedrock::requests`](super::FakeBedrock::requests).
///
/// Python: no equivalent (the Python SDK's tests patch `boto3` instead of running a server).
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// use strands_testkit::bedrock::{FakeBedrock, FakeAuth};
///
/// let fake = FakeBedrock::start(FakeAuth::Any).await?;
/// // ... drive a Bedrock Runtime client against `fake.endpoint_url()` ...
/// for request in fake.requests() {
///     assert_eq!(request.method, "POST");
///     println!("{} {:?} attempt {:?}", request.model_id, request.operation,
///              request.header("amz-sdk-request"));
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct BedrockRequest {
    /// The HTTP method, e.g. `POST`.
    pub method: String,
    /// The raw request target as sent, still percent-encoded, e.g.
    /// `/model/us.anthropic.claude-sonnet-4-20250514-v1%3A0/converse-stream`.
    pub path: String,
    /// The model id from the path, percent-decoded (`us.anthropic.claude-sonnet-4-20250514-v1:0`);
    /// empty when the path is not a `/model/{modelId}/...` path.
    pub model_id: String,
    /// The operation the path addressed.
    pub operation: Operation,
    /// Every header in the order received; names are lower-cased.
    pub headers: Vec<(String, String)>,
    /// The body parsed as JSON; [`serde_json::Value::Null`] when empty or not JSON.
    pub body: serde_json::Value,
    /// What the fake decided about the request's credentials.
    pub auth: AuthOutcome,
}

impl BedrockRequest {
    /// The value of the first header called `name` (compared case-insensitively).
    ///
    /// # Examples
    ///
    /// ```
    /// use strands_testkit::bedrock::BedrockRequest;
    ///
    /// /// The SDK's retry bookkeeping, e.g. `attempt=2; max=3`.
    /// fn attempt(request: &BedrockRequest) -> Option<&str> {
    ///     request.header("Amz-Sdk-Request")
    /// }
    /// # let _ = attempt;
    /// ```
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// The operation and the percent-decoded model id for a method and raw request target.
pub(super) fn route(method: &str, target: &str) -> (Operation, String) {
    let path = target.split_once('?').map_or(target, |(path, _)| path);
    let Some((raw_id, action)) = path
        .strip_prefix("/model/")
        .and_then(|rest| rest.rsplit_once('/'))
    else {
        return (Operation::Other, String::new());
    };
    if raw_id.is_empty() || raw_id.contains('/') {
        return (Operation::Other, String::new());
    }
    let model_id = percent_decode(raw_id);
    let operation = match (method, action) {
        ("POST", "converse") => Operation::Converse,
        ("POST", "converse-stream") => Operation::ConverseStream,
        _ => Operation::Other,
    };
    (operation, model_id)
}

/// Decodes `%XX` escapes; malformed escapes are kept as written, invalid UTF-8 is replaced.
fn percent_decode(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        if byte == b'%' {
            let high = bytes.get(i + 1).and_then(|b| char::from(*b).to_digit(16));
            let low = bytes.get(i + 2).and_then(|b| char::from(*b).to_digit(16));
            if let (Some(high), Some(low)) = (high, low) {
                // Two hex digits always fit in a byte.
                out.push(u8::try_from(high * 16 + low).unwrap_or(b'?'));
                i += 3;
                continue;
            }
        }
        out.push(byte);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converse_stream_path_with_encoded_colon_is_decoded() {
        let (operation, model_id) = route(
            "POST",
            "/model/us.anthropic.claude-sonnet-4-20250514-v1%3A0/converse-stream",
        );
        assert_eq!(operation, Operation::ConverseStream);
        assert_eq!(model_id, "us.anthropic.claude-sonnet-4-20250514-v1:0");
    }

    #[test]
    fn arn_model_id_with_encoded_slashes_is_one_segment() {
        let (operation, model_id) = route(
            "POST",
            "/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A1%3Ainference-profile%2Fx/converse",
        );
        assert_eq!(operation, Operation::Converse);
        assert_eq!(model_id, "arn:aws:bedrock:us-east-1:1:inference-profile/x");
    }

    #[test]
    fn other_methods_and_paths_are_unknown_operations() {
        assert_eq!(route("GET", "/model/m/converse").0, Operation::Other);
        assert_eq!(route("POST", "/model/m/invoke").0, Operation::Other);
        assert_eq!(route("POST", "/model//converse").0, Operation::Other);
        assert_eq!(route("POST", "/model/a/b/converse").0, Operation::Other);
        assert_eq!(route("POST", "/").0, Operation::Other);
    }

    #[test]
    fn malformed_percent_escapes_are_kept() {
        assert_eq!(percent_decode("a%2"), "a%2");
        assert_eq!(percent_decode("a%zz"), "a%zz");
        assert_eq!(percent_decode("%41%3a"), "A:");
    }
}
