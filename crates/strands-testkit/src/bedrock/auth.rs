//! Which credentials the fake accepts, and the check it runs on every request.

use std::fmt;
use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    PayloadChecksumKind, SignableBody, SignableRequest, SigningSettings, sign,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format;

/// The signing name Bedrock Runtime requests must be scoped to (not `bedrock-runtime`).
const SIGNING_NAME: &str = "bedrock";

const UNRECOGNIZED_CLIENT: &str = "The security token included in the request is invalid.";
const INVALID_SIGNATURE: &str = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";
const MISSING_TOKEN: &str = "Missing Authentication Token";

/// The credentials [`FakeBedrock`](super::FakeBedrock) expects, checked on every request before a
/// scripted [`Reply`](super::Reply) is consumed.
///
/// A rejected request is answered the way AWS answers it (HTTP 403 with
/// `UnrecognizedClientException`, `InvalidSignatureException` or
/// `MissingAuthenticationTokenException`), is recorded with its [`AuthOutcome`], and leaves the
/// script untouched. `Debug` never prints a secret.
///
/// Python: no equivalent.
///
/// # Examples
///
/// ```
/// use strands_testkit::bedrock::FakeAuth;
///
/// let auth = FakeAuth::sigv4("AKIDEXAMPLE", "wJalrXUtnFEMI").with_session_token("session");
/// assert!(!format!("{auth:?}").contains("wJalrXUtnFEMI"));
///
/// let api_key = FakeAuth::Bearer("bedrock-api-key-123".to_owned());
/// # let _ = (api_key, FakeAuth::Any);
/// ```
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FakeAuth {
    /// AWS Signature Version 4 with these credentials. The fake recomputes the signature from the
    /// received method, path, signed headers and body, and requires the credential scope's
    /// signing name to be `bedrock`.
    SigV4 {
        /// The access key id the request must be signed with.
        access_key_id: String,
        /// The secret the signature is recomputed with.
        secret_access_key: String,
        /// When set, the request must carry exactly this `x-amz-security-token`; when unset, it
        /// must carry none.
        session_token: Option<String>,
    },
    /// A Bedrock API key: accepts only `Authorization: Bearer <token>` with this token.
    Bearer(String),
    /// Accepts every request, signed or not.
    Any,
}

impl FakeAuth {
    /// Expects SigV4 signatures made with these long-term credentials (no session token).
    ///
    /// # Examples
    ///
    /// ```
    /// use strands_testkit::bedrock::FakeAuth;
    ///
    /// let auth = FakeAuth::sigv4("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
    /// assert!(matches!(auth, FakeAuth::SigV4 { session_token: None, .. }));
    /// ```
    pub fn sigv4(access_key_id: &str, secret_access_key: &str) -> Self {
        Self::SigV4 {
            access_key_id: access_key_id.to_owned(),
            secret_access_key: secret_access_key.to_owned(),
            session_token: None,
        }
    }

    /// Also requires `x-amz-security-token: <token>` (temporary credentials). Has no effect on
    /// [`FakeAuth::Bearer`] and [`FakeAuth::Any`].
    ///
    /// # Examples
    ///
    /// ```
    /// use strands_testkit::bedrock::FakeAuth;
    ///
    /// let auth = FakeAuth::sigv4("ASIAEXAMPLE", "secret").with_session_token("token");
    /// assert!(matches!(auth, FakeAuth::SigV4 { session_token: Some(_), .. }));
    /// ```
    #[must_use]
    pub fn with_session_token(self, token: &str) -> Self {
        match self {
            Self::SigV4 {
                access_key_id,
                secret_access_key,
                ..
            } => Self::SigV4 {
                access_key_id,
                secret_access_key,
                session_token: Some(token.to_owned()),
            },
            other @ (Self::Bearer(_) | Self::Any) => other,
        }
    }
}

impl fmt::Debug for FakeAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const HIDDEN: &str = "(set, hidden)";
        match self {
            Self::SigV4 {
                access_key_id,
                session_token,
                ..
            } => f
                .debug_struct("SigV4")
                .field("access_key_id", access_key_id)
                .field("secret_access_key", &HIDDEN)
                .field("session_token", &session_token.as_ref().map(|_| HIDDEN))
                .finish(),
            Self::Bearer(_) => f.debug_tuple("Bearer").field(&HIDDEN).finish(),
            Self::Any => f.write_str("Any"),
        }
    }
}

/// What the fake decided about a request's credentials.
///
/// # Examples
///
/// ```
/// use strands_testkit::bedrock::{AuthOutcome, BedrockRequest};
///
/// fn all_accepted(requests: &[BedrockRequest]) -> bool {
///     requests.iter().all(|r| r.auth == AuthOutcome::Accepted)
/// }
/// # assert!(all_accepted(&[]));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuthOutcome {
    /// The credentials matched (or the fake runs with [`FakeAuth::Any`]).
    Accepted,
    /// Unknown access key or bearer token: 403 `UnrecognizedClientException`.
    UnrecognizedClient,
    /// Right access key, wrong signature (wrong secret, wrong signing name, tampered request, or
    /// a malformed `Authorization` header): 403 `InvalidSignatureException` (or
    /// `IncompleteSignatureException` when malformed).
    InvalidSignature,
    /// A session token was expected but missing or different (or sent when none was expected):
    /// 403 `UnrecognizedClientException`.
    MissingSessionToken,
    /// No `Authorization` header: 403 `MissingAuthenticationTokenException`.
    Missing,
}

/// A rejected request: the outcome to record and the AWS error to answer with (always 403).
#[derive(Debug)]
pub(crate) struct Rejection {
    pub(crate) outcome: AuthOutcome,
    pub(crate) error_type: &'static str,
    pub(crate) message: String,
}

impl Rejection {
    fn new(outcome: AuthOutcome, error_type: &'static str, message: impl Into<String>) -> Self {
        Self {
            outcome,
            error_type,
            message: message.into(),
        }
    }

    fn unrecognized(outcome: AuthOutcome) -> Self {
        Self::new(outcome, "UnrecognizedClientException", UNRECOGNIZED_CLIENT)
    }

    fn incomplete(message: &str) -> Self {
        Self::new(
            AuthOutcome::InvalidSignature,
            "IncompleteSignatureException",
            message,
        )
    }
}

/// The parts of a received request that authentication looks at.
#[derive(Debug)]
pub(crate) struct Signed<'a> {
    pub(crate) method: &'a str,
    /// The raw request target, still percent-encoded.
    pub(crate) target: &'a str,
    /// Names lower-cased.
    pub(crate) headers: &'a [(String, String)],
    pub(crate) body: &'a [u8],
}

impl Signed<'_> {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

/// Checks `request` against `auth` (SigV4 scoped to Bedrock's signing name).
pub(crate) fn check(auth: &FakeAuth, request: &Signed<'_>) -> Result<(), Rejection> {
    check_for(auth, request, SIGNING_NAME)
}

/// Checks `request` against `auth`, with SigV4 scoped to `signing_name`.
pub(crate) fn check_for(
    auth: &FakeAuth,
    request: &Signed<'_>,
    signing_name: &str,
) -> Result<(), Rejection> {
    match auth {
        FakeAuth::Any => Ok(()),
        FakeAuth::Bearer(token) => check_bearer(token, request),
        FakeAuth::SigV4 {
            access_key_id,
            secret_access_key,
            session_token,
        } => {
            let credentials = Credentials::new(
                access_key_id.as_str(),
                secret_access_key.as_str(),
                session_token.clone(),
                None,
                "strands-testkit-fake-bedrock",
            );
            check_sigv4(&credentials, request, signing_name)
        }
    }
}

fn missing() -> Rejection {
    Rejection::new(
        AuthOutcome::Missing,
        "MissingAuthenticationTokenException",
        MISSING_TOKEN,
    )
}

fn check_bearer(expected: &str, request: &Signed<'_>) -> Result<(), Rejection> {
    let header = request.header("authorization").ok_or_else(missing)?;
    match header.strip_prefix("Bearer ") {
        Some(token) if token.trim() == expected => Ok(()),
        _ => Err(Rejection::unrecognized(AuthOutcome::UnrecognizedClient)),
    }
}

/// The fields of an `AWS4-HMAC-SHA256` `Authorization` header.
#[derive(Debug, PartialEq)]
struct AuthorizationHeader<'a> {
    credential: &'a str,
    signed_headers: &'a str,
    signature: &'a str,
}

fn parse_authorization(header: &str) -> Result<AuthorizationHeader<'_>, Rejection> {
    let Some(fields) = header.strip_prefix("AWS4-HMAC-SHA256 ") else {
        return Err(Rejection::incomplete(
            "Authorization header must use the AWS4-HMAC-SHA256 algorithm or the Bearer scheme.",
        ));
    };
    let field = |name: &str| {
        fields.split(',').find_map(|part| {
            part.trim()
                .split_once('=')
                .filter(|(key, _)| *key == name)
                .map(|(_, value)| value.trim())
        })
    };
    let require = |name: &'static str| {
        field(name).ok_or_else(|| {
            Rejection::incomplete(&format!(
                "Authorization header requires '{name}' parameter."
            ))
        })
    };
    Ok(AuthorizationHeader {
        credential: require("Credential")?,
        signed_headers: require("SignedHeaders")?,
        signature: require("Signature")?,
    })
}

/// Turns an `x-amz-date` value (`20261124T194417Z`) into a time.
fn parse_amz_date(value: &str) -> Option<SystemTime> {
    let bytes = value.as_bytes();
    let well_formed = bytes.len() == 16
        && bytes.get(8) == Some(&b'T')
        && bytes.get(15) == Some(&b'Z')
        && bytes
            .iter()
            .enumerate()
            .all(|(i, b)| i == 8 || i == 15 || b.is_ascii_digit());
    if !well_formed {
        return None;
    }
    let iso = format!(
        "{}-{}-{}T{}:{}:{}Z",
        value.get(0..4)?,
        value.get(4..6)?,
        value.get(6..8)?,
        value.get(9..11)?,
        value.get(11..13)?,
        value.get(13..15)?,
    );
    let time = DateTime::from_str(&iso, Format::DateTime).ok()?;
    SystemTime::try_from(time).ok()
}

fn check_sigv4(
    credentials: &Credentials,
    request: &Signed<'_>,
    signing_name: &str,
) -> Result<(), Rejection> {
    let header = request.header("authorization").ok_or_else(missing)?;
    if header.starts_with("Bearer ") {
        return Err(Rejection::unrecognized(AuthOutcome::UnrecognizedClient));
    }
    let parsed = parse_authorization(header)?;

    // Credential=AKID/20261124/us-east-1/bedrock/aws4_request
    let mut scope_parts = parsed.credential.splitn(5, '/');
    let (Some(access_key_id), Some(_date), Some(region), Some(service), Some("aws4_request")) = (
        scope_parts.next(),
        scope_parts.next(),
        scope_parts.next(),
        scope_parts.next(),
        scope_parts.next(),
    ) else {
        return Err(Rejection::incomplete(
            "Authorization header's Credential must be <access key>/<date>/<region>/<service>/aws4_request.",
        ));
    };
    if access_key_id != credentials.access_key_id() {
        return Err(Rejection::unrecognized(AuthOutcome::UnrecognizedClient));
    }
    if request.header("x-amz-security-token") != credentials.session_token() {
        return Err(Rejection::unrecognized(AuthOutcome::MissingSessionToken));
    }
    if service != signing_name {
        let scope = parsed
            .credential
            .split_once('/')
            .map_or("", |(_, scope)| scope);
        return Err(Rejection::new(
            AuthOutcome::InvalidSignature,
            "InvalidSignatureException",
            format!(
                "Credential should be scoped to correct service: '{signing_name}'. The request was scoped to '{scope}'."
            ),
        ));
    }
    let time = request
        .header("x-amz-date")
        .and_then(parse_amz_date)
        .ok_or_else(|| {
            Rejection::incomplete(
                "Authorization header requires existence of a valid 'X-Amz-Date' header (yyyyMMddTHHmmssZ).",
            )
        })?;

    let expected = expected_signature(credentials, request, &parsed, region, service, time)
        .ok_or_else(|| {
            Rejection::new(
                AuthOutcome::InvalidSignature,
                "InvalidSignatureException",
                INVALID_SIGNATURE,
            )
        })?;
    if expected == parsed.signature {
        Ok(())
    } else {
        Err(Rejection::new(
            AuthOutcome::InvalidSignature,
            "InvalidSignatureException",
            INVALID_SIGNATURE,
        ))
    }
}

/// Recomputes the signature the client should have sent, or `None` if the request cannot be
/// signed at all (e.g. an unparsable target or header).
fn expected_signature(
    credentials: &Credentials,
    request: &Signed<'_>,
    parsed: &AuthorizationHeader<'_>,
    region: &str,
    service: &str,
    time: SystemTime,
) -> Option<String> {
    let signed: Vec<&str> = parsed.signed_headers.split(';').collect();
    let headers = request
        .headers
        .iter()
        .filter(|(name, _)| signed.contains(&name.as_str()))
        .map(|(name, value)| (name.as_str(), value.as_str()));
    let host = request.header("host").unwrap_or("127.0.0.1");
    // Bedrock clients do not send x-amz-content-sha256, but when one is signed it is part of the
    // canonical request: recompute it from the body (or keep UNSIGNED-PAYLOAD), so a hash that
    // does not match the body fails the signature check.
    let mut settings = SigningSettings::default();
    let mut body = SignableBody::Bytes(request.body);
    if signed.contains(&"x-amz-content-sha256") {
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
        if request.header("x-amz-content-sha256") == Some("UNSIGNED-PAYLOAD") {
            body = SignableBody::UnsignedPayload;
        }
    }
    let identity = Identity::from(credentials.clone());
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(service)
        .time(time)
        .settings(settings)
        .build()
        .ok()?
        .into();
    let signable = SignableRequest::new(
        request.method,
        format!("http://{host}{}", request.target),
        headers,
        body,
    )
    .ok()?;
    let output = sign(signable, &params).ok()?;
    Some(output.signature().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    /// Signs like the SDK does, so the check can be exercised without a client.
    fn signed_headers(
        credentials: &Credentials,
        service: &str,
        body: &[u8],
    ) -> Vec<(String, String)> {
        sign_with(
            credentials,
            service,
            SigningSettings::default(),
            SignableBody::Bytes(body),
        )
    }

    fn sign_with(
        credentials: &Credentials,
        service: &str,
        settings: SigningSettings,
        body: SignableBody<'_>,
    ) -> Vec<(String, String)> {
        let mut headers = headers(&[
            ("content-type", "application/json"),
            ("host", "127.0.0.1:1234"),
        ]);
        let identity = Identity::from(credentials.clone());
        let time = parse_amz_date("20261124T194417Z").unwrap();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region("us-east-1")
            .name(service)
            .time(time)
            .settings(settings)
            .build()
            .unwrap()
            .into();
        let signable = SignableRequest::new(
            "POST",
            "http://127.0.0.1:1234/model/m%3A0/converse",
            headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            body,
        )
        .unwrap();
        let (instructions, _) = sign(signable, &params).unwrap().into_parts();
        for (name, value) in instructions.headers() {
            headers.push((name.to_owned(), value.to_owned()));
        }
        headers
    }

    fn content_sha256_settings() -> SigningSettings {
        let mut settings = SigningSettings::default();
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
        settings
    }

    #[test]
    fn signed_content_sha256_must_match_the_body() {
        let creds = Credentials::new("AKID", "secret", None, None, "test");
        let auth = FakeAuth::sigv4("AKID", "secret");
        let headers = sign_with(
            &creds,
            "bedrock",
            content_sha256_settings(),
            SignableBody::Bytes(b"{}"),
        );
        assert!(check(&auth, &request(&headers, b"{}")).is_ok());
        let rejection = check(&auth, &request(&headers, b"[]")).unwrap_err();
        assert_eq!(rejection.outcome, AuthOutcome::InvalidSignature);
    }

    #[test]
    fn unsigned_payload_is_accepted_whatever_the_body() {
        let creds = Credentials::new("AKID", "secret", None, None, "test");
        let auth = FakeAuth::sigv4("AKID", "secret");
        let headers = sign_with(
            &creds,
            "bedrock",
            content_sha256_settings(),
            SignableBody::UnsignedPayload,
        );
        assert!(check(&auth, &request(&headers, b"anything")).is_ok());
    }

    fn request<'a>(headers: &'a [(String, String)], body: &'a [u8]) -> Signed<'a> {
        Signed {
            method: "POST",
            target: "/model/m%3A0/converse",
            headers,
            body,
        }
    }

    #[test]
    fn signature_made_with_the_expected_credentials_is_accepted() {
        let creds = Credentials::new("AKID", "secret", None, None, "test");
        let headers = signed_headers(&creds, "bedrock", b"{}");
        let auth = FakeAuth::sigv4("AKID", "secret");
        assert!(check(&auth, &request(&headers, b"{}")).is_ok());
    }

    #[test]
    fn tampered_body_is_an_invalid_signature() {
        let creds = Credentials::new("AKID", "secret", None, None, "test");
        let headers = signed_headers(&creds, "bedrock", b"{}");
        let auth = FakeAuth::sigv4("AKID", "secret");
        let rejection = check(&auth, &request(&headers, b"{\"x\":1}")).unwrap_err();
        assert_eq!(rejection.outcome, AuthOutcome::InvalidSignature);
        assert_eq!(rejection.error_type, "InvalidSignatureException");
    }

    #[test]
    fn wrong_signing_name_is_rejected_with_the_scope_in_the_message() {
        let creds = Credentials::new("AKID", "secret", None, None, "test");
        let headers = signed_headers(&creds, "bedrock-runtime", b"{}");
        let auth = FakeAuth::sigv4("AKID", "secret");
        let rejection = check(&auth, &request(&headers, b"{}")).unwrap_err();
        assert_eq!(rejection.outcome, AuthOutcome::InvalidSignature);
        assert!(
            rejection.message.contains("bedrock-runtime"),
            "{}",
            rejection.message
        );
        assert!(!rejection.message.contains("AKID"), "{}", rejection.message);
    }

    #[test]
    fn unexpected_session_token_is_unrecognized() {
        let creds = Credentials::new("AKID", "secret", Some("tok".to_owned()), None, "test");
        let headers = signed_headers(&creds, "bedrock", b"{}");
        let auth = FakeAuth::sigv4("AKID", "secret");
        let rejection = check(&auth, &request(&headers, b"{}")).unwrap_err();
        assert_eq!(rejection.outcome, AuthOutcome::MissingSessionToken);
        assert_eq!(rejection.error_type, "UnrecognizedClientException");
    }

    #[test]
    fn malformed_authorization_header_is_incomplete() {
        let headers = headers(&[("authorization", "AWS4-HMAC-SHA256 Credential=AKID/x")]);
        let rejection = check(&FakeAuth::sigv4("AKID", "s"), &request(&headers, b"")).unwrap_err();
        assert_eq!(rejection.error_type, "IncompleteSignatureException");
    }

    #[test]
    fn bearer_mode_rejects_sigv4_and_accepts_its_token() {
        let auth = FakeAuth::Bearer("k".to_owned());
        let good = headers(&[("authorization", "Bearer k")]);
        assert!(check(&auth, &request(&good, b"")).is_ok());
        let bad = headers(&[(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=a/b/c/d/aws4_request",
        )]);
        let rejection = check(&auth, &request(&bad, b"")).unwrap_err();
        assert_eq!(rejection.outcome, AuthOutcome::UnrecognizedClient);
        let rejection = check(&auth, &request(&[], b"")).unwrap_err();
        assert_eq!(rejection.outcome, AuthOutcome::Missing);
    }

    #[test]
    fn amz_date_must_be_compact_iso8601() {
        assert!(parse_amz_date("20261124T194417Z").is_some());
        assert!(parse_amz_date("2026-11-24T19:44:17Z").is_none());
        assert!(parse_amz_date("20261124T19441xZ").is_none());
    }

    #[test]
    fn debug_hides_secrets() {
        let auth = FakeAuth::sigv4("AKID", "s3cr3t").with_session_token("t0k3n");
        let text = format!("{auth:?}");
        assert!(
            !text.contains("s3cr3t") && !text.contains("t0k3n"),
            "{text}"
        );
        let text = format!("{:?}", FakeAuth::Bearer("k3y".to_owned()));
        assert!(!text.contains("k3y"), "{text}");
    }
}
