//! Start-up diagnostics: which credential variables are set (never their values).

/// Variables that decide where AWS credentials come from, in the order they are reported.
pub const CREDENTIAL_ENV_VARS: [&str; 14] = [
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_EC2_METADATA_DISABLED",
    "AWS_EC2_METADATA_SERVICE_ENDPOINT",
    "AWS_BEARER_TOKEN_BEDROCK",
    "BEDROCK_CREDENTIALS_SECRET",
];

/// `(set, hidden)` or `(not set)`: the only thing ever logged about a variable's value.
pub fn presence(name: &str) -> &'static str {
    match std::env::var_os(name) {
        Some(value) if !value.is_empty() => "(set, hidden)",
        _ => "(not set)",
    }
}

/// Logs one `Credential env check` line per variable, as the seed runtime did:
/// `Credential env check env_var=AWS_ACCESS_KEY_ID value=(not set)`.
pub fn log_credential_env() {
    for name in CREDENTIAL_ENV_VARS {
        tracing::info!(
            env_var = name,
            value = presence(name),
            "Credential env check"
        );
    }
}
