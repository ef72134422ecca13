//! `strands-runtime doctor`: checks what the runtime needs from its environment and explains the
//! traps the first AgentCore deployment hit.

use std::fmt::Write as _;
use std::time::{Duration, SystemTime};

use aws_credential_types::provider::ProvideCredentials;
use strands_agent::{Agent, ModelRetryStrategy};

use crate::provider::{Provider, ProviderConfig};

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Check {
    /// What was checked.
    name: &'static str,
    /// The outcome.
    status: CheckStatus,
    /// What was found.
    detail: String,
    /// What to do, when something is wrong.
    fix: Option<String>,
}

/// How a check went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CheckStatus {
    /// Fine.
    Ok,
    /// Works, but likely not as intended.
    Warn,
    /// Will fail.
    Fail,
}

/// Everything the doctor found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Report {
    /// The findings, in order.
    checks: Vec<Check>,
}

impl Report {
    fn push(
        &mut self,
        name: &'static str,
        status: CheckStatus,
        detail: impl Into<String>,
        fix: Option<&str>,
    ) {
        self.checks.push(Check {
            name,
            status,
            detail: detail.into(),
            fix: fix.map(str::to_owned),
        });
    }

    /// Whether any check failed.
    pub(crate) fn has_failures(&self) -> bool {
        self.checks.iter().any(|c| c.status == CheckStatus::Fail)
    }

    /// The report as text, one check per line with its fix below.
    pub(crate) fn render(&self) -> String {
        let mut out = String::from("strands-runtime doctor\n");
        for check in &self.checks {
            let mark = match check.status {
                CheckStatus::Ok => "[ ok ]",
                CheckStatus::Warn => "[warn]",
                CheckStatus::Fail => "[FAIL]",
            };
            let _ = writeln!(out, "{mark} {}: {}", check.name, check.detail);
            if let Some(fix) = &check.fix {
                let _ = writeln!(out, "       fix: {fix}");
            }
        }
        out
    }
}

/// Whether `model_id` is a raw foundation-model id that on-demand Bedrock refuses for models
/// served through inference profiles (Claude and most newer models).
fn is_raw_model_id(model_id: &str) -> bool {
    const GEO: [&str; 6] = ["us.", "eu.", "apac.", "us-gov.", "global.", "jp."];
    !model_id.starts_with("arn:")
        && !GEO.iter().any(|g| model_id.starts_with(g))
        && model_id.contains('.')
}

/// Runs the checks of the selected provider. With `call_model`, also makes one small call.
pub(crate) async fn run(config: &ProviderConfig, call_model: bool) -> Report {
    let mut report = Report::default();
    report.push(
        "provider",
        CheckStatus::Ok,
        config.provider.to_string(),
        None,
    );
    match config.provider {
        Provider::Bedrock => bedrock(&mut report, config.model_id(), call_model).await,
        _ => other_provider(&mut report, config, call_model).await,
    }
    #[cfg(feature = "otel")]
    telemetry(&mut report);
    report.push(
        "note",
        CheckStatus::Ok,
        "if AgentCore answers 400 and nothing reaches this container: session ids must be 33-256 characters, and the caller's auth (SigV4 or OAuth) must match the runtime's configuration",
        None,
    );
    report
}

/// Where spans and metrics go (`OTEL_*`, `AGENT_OBSERVABILITY_ENABLED`), and what keeps a
/// signal that was asked for from being sent.
#[cfg(feature = "otel")]
fn telemetry(report: &mut Report) {
    use strands_runtime::telemetry::{Signal, TelemetryConfig};
    let config = TelemetryConfig::from_env();
    for (name, signal) in [("traces", config.traces()), ("metrics", config.metrics())] {
        let detail = signal.describe();
        let status = match signal {
            Signal::Off(reason)
                if reason.starts_with("no endpoint")
                    || reason.starts_with("OTEL_SDK_DISABLED")
                    || reason.ends_with("=none") =>
            {
                CheckStatus::Ok
            }
            Signal::Off(_) => CheckStatus::Warn,
            _ => CheckStatus::Ok,
        };
        report.push(name, status, detail, None);
    }
    if let Some(logs) = config.describe().last() {
        report.push(
            "logs",
            CheckStatus::Ok,
            logs.trim_start_matches("logs: "),
            None,
        );
    }
}

/// Anthropic, OpenAI-compatible and local models: no AWS checks; the model is configured (its
/// key and model id set, its weights found), and answers when asked to.
async fn other_provider(report: &mut Report, config: &ProviderConfig, call_model: bool) {
    match config.build().await {
        Ok(model) => {
            report.push(
                "model",
                CheckStatus::Ok,
                format!("`{}` configured", model.model_id()),
                None,
            );
            if call_model {
                call(report, Agent::builder().shared_model(model)).await;
            }
        }
        Err(error) => report.push("model", CheckStatus::Fail, error.to_string(), None),
    }
}

/// Bedrock: region, credential sources, the credentials secret, the model id.
async fn bedrock(report: &mut Report, model_id: Option<&str>, call_model: bool) {
    // Region.
    let region_var = ["AWS_REGION", "AWS_DEFAULT_REGION"]
        .into_iter()
        .find_map(|v| {
            std::env::var(v)
                .ok()
                .filter(|r| !r.is_empty())
                .map(|r| (v, r))
        });
    let config = strands_aws::sdk_config().await;
    match (region_var, config.region()) {
        (Some((var, region)), _) => report.push(
            "region",
            CheckStatus::Ok,
            format!("{region} (from {var})"),
            None,
        ),
        (None, Some(region)) => report.push(
            "region",
            CheckStatus::Ok,
            format!("{region} (from the AWS profile)"),
            None,
        ),
        (None, None) => report.push(
            "region",
            CheckStatus::Warn,
            "not set; Bedrock calls go to us-west-2 (Python's fallback)",
            Some("set AWS_REGION to the region where the model is enabled"),
        ),
    }

    // Credential variables, never values.
    let set: Vec<&str> = strands_aws::CREDENTIAL_ENV_VARS
        .into_iter()
        .filter(|v| strands_aws::presence(v) == "(set, hidden)")
        .collect();
    report.push(
        "credential variables",
        CheckStatus::Ok,
        if set.is_empty() {
            "none set (normal inside AgentCore, which injects none)".to_owned()
        } else {
            format!("set (values hidden): {}", set.join(", "))
        },
        None,
    );

    // Which source resolves.
    let provider = config.credentials_provider();
    let resolved = match provider {
        Some(provider) => {
            tokio::time::timeout(Duration::from_secs(10), provider.provide_credentials()).await
        }
        None => Ok(Err(
            aws_credential_types::provider::error::CredentialsError::not_loaded("no provider"),
        )),
    };
    match resolved {
        Ok(Ok(credentials)) => {
            let expiry = credentials.expiry().map_or_else(
                || "no expiry (long-term keys)".to_owned(),
                |e| {
                    let left = e.duration_since(SystemTime::now()).unwrap_or_default();
                    format!("expires in {} min", left.as_secs() / 60)
                },
            );
            report.push("credentials", CheckStatus::Ok, format!("resolved ({expiry}); see the log line \"AWS credentials resolved\" for the source"), None);
        }
        Ok(Err(error)) => report.push(
            "credentials",
            CheckStatus::Fail,
            format!("no source produced credentials: {}", strands_core::error_chain(&error)),
            Some("inside AgentCore the execution role comes from the microVM metadata service (supported, with the IMDSv1 fallback its 405 answer needs); elsewhere set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or BEDROCK_CREDENTIALS_SECRET"),
        ),
        Err(_) => report.push(
            "credentials",
            CheckStatus::Fail,
            "resolving credentials took more than 10 s",
            Some("a metadata endpoint is not answering; set AWS_EC2_METADATA_DISABLED=true outside AWS, or fix AWS_EC2_METADATA_SERVICE_ENDPOINT"),
        ),
    }

    // The Bedrock credentials secret.
    if let Some(secret) = strands_aws::SecretsManagerCredentials::from_env(&config) {
        let secret_id = secret.secret_id();
        match tokio::time::timeout(Duration::from_secs(10), secret.current()).await {
            Ok(Ok(keys)) => report.push(
                "credentials secret",
                CheckStatus::Ok,
                format!(
                    "`{}` readable; holds keys{}",
                    secret_id,
                    if keys.session_token.is_some() {
                        " and a session token"
                    } else {
                        ""
                    }
                ),
                None,
            ),
            Ok(Err(error)) => report.push(
                "credentials secret",
                CheckStatus::Fail,
                error.to_string(),
                Some("fix the secret or its permissions; invocations fail until it is readable"),
            ),
            Err(_) => report.push(
                "credentials secret",
                CheckStatus::Fail,
                format!("reading `{secret_id}` took more than 10 s"),
                Some("check network access to Secrets Manager"),
            ),
        }
    }

    // The model id.
    match model_id {
        None => report.push(
            "model id",
            CheckStatus::Warn,
            format!("MODEL_ID not set; using {}", strands_models::bedrock::DEFAULT_MODEL_ID),
            Some("set MODEL_ID to an inference profile such as us.anthropic.claude-sonnet-4-20250514-v1:0"),
        ),
        Some(id) if is_raw_model_id(id) => report.push(
            "model id",
            CheckStatus::Warn,
            format!("`{id}` is a raw model id; Bedrock refuses on-demand calls for models served through inference profiles"),
            Some(&format!("use an inference profile such as us.{id} (or eu., apac., global. for your region)")),
        ),
        Some(id) => report.push("model id", CheckStatus::Ok, format!("`{id}`"), None),
    }

    if call_model {
        let mut builder = strands_models::bedrock::BedrockModel::from_env()
            .sdk_config(config.clone())
            .max_tokens(16);
        if let Some(id) = model_id {
            builder = builder.model_id(id);
        }
        let model = builder.build().await;
        call(report, Agent::builder().model(model)).await;
    }
}

/// One small call through an agent, without retries.
async fn call(report: &mut Report, builder: strands_agent::AgentBuilder) {
    let mut agent = match builder.retry_strategy(ModelRetryStrategy::none()).build() {
        Ok(agent) => agent,
        Err(error) => {
            report.push("model call", CheckStatus::Fail, error.to_string(), None);
            return;
        }
    };
    match tokio::time::timeout(
        Duration::from_secs(60),
        agent.invoke("Reply with the word ok."),
    )
    .await
    {
        Ok(Ok(result)) => report.push(
            "model call",
            CheckStatus::Ok,
            format!("answered ({} output tokens)", result.usage.output_tokens),
            None,
        ),
        Ok(Err(error)) => {
            let detail = error
                .model_error()
                .map_or_else(|| error.to_string(), ToString::to_string);
            report.push("model call", CheckStatus::Fail, detail, None);
        }
        Err(_) => report.push(
            "model call",
            CheckStatus::Fail,
            "no answer within 60 s",
            Some("check network access to the model"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_report_has_a_line_per_check_with_its_fix_below() {
        let mut report = Report::default();
        report.push(
            "region",
            CheckStatus::Ok,
            "us-east-1 (from AWS_REGION)",
            None,
        );
        report.push(
            "model id",
            CheckStatus::Warn,
            "not set",
            Some("set MODEL_ID"),
        );
        assert!(!report.has_failures());
        report.push("credentials", CheckStatus::Fail, "none", Some("set some"));
        assert!(report.has_failures());
        assert_eq!(
            report.render(),
            "strands-runtime doctor\n\
             [ ok ] region: us-east-1 (from AWS_REGION)\n\
             [warn] model id: not set\n       fix: set MODEL_ID\n\
             [FAIL] credentials: none\n       fix: set some\n"
        );
    }

    #[test]
    fn raw_model_ids_are_told_apart_from_inference_profiles() {
        assert!(is_raw_model_id("anthropic.claude-sonnet-4-20250514-v1:0"));
        assert!(!is_raw_model_id(
            "us.anthropic.claude-sonnet-4-20250514-v1:0"
        ));
        assert!(!is_raw_model_id("global.anthropic.claude-sonnet-4-6"));
        assert!(!is_raw_model_id(
            "arn:aws:bedrock:us-east-1:123456789012:inference-profile/x"
        ));
    }
}
