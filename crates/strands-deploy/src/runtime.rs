//! AgentCore agent runtimes through the control plane (`bedrock-agentcore-control`): found by
//! name, created or updated from a [`RuntimeSpec`], watched until `READY`, deleted. The spec is
//! checked against the API's limits before any call, and is shown as the request's JSON for
//! `--dry-run`.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use aws_sdk_bedrockagentcorecontrol as control;
use aws_types::SdkConfig;
use control::types::{
    AgentRuntimeArtifact, ContainerConfiguration, LifecycleConfiguration, NetworkConfiguration,
    NetworkMode, ProtocolConfiguration, RequestHeaderConfiguration, ServerProtocol, VpcConfig,
};
use serde_json::json;

use crate::aws_error;

/// At most this many pages of ListAgentRuntimes are read looking for a name (100 per page).
const MAX_LIST_PAGES: usize = 50;

/// Why a deployment step failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DeployError {
    /// The spec breaks one of the API's rules (checked before any call).
    #[error("{0}")]
    Invalid(String),
    /// AgentCore refused a call.
    #[error("{0}")]
    Refused(String),
    /// The runtime ended in a failed state.
    #[error("the agent runtime is {status}: {reason}")]
    Failed {
        /// `CREATE_FAILED`, `UPDATE_FAILED` or `DELETE_FAILED`.
        status: String,
        /// AgentCore's `failureReason`.
        reason: String,
    },
    /// The runtime did not reach the state in time.
    #[error(
        "the agent runtime is still {status} after {waited:?}; check it with `strands-runtime status`"
    )]
    TimedOut {
        /// The last status seen.
        status: String,
        /// How long was waited.
        waited: Duration,
    },
    /// No runtime has the name.
    #[error("no agent runtime is named {0:?} in this account and region")]
    NotFound(String),
}

/// The protocol the container serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Protocol {
    /// `/invocations` and `/ws` on 8080.
    #[default]
    Http,
    /// MCP at `/mcp` on 8000.
    Mcp,
    /// A2A at `/` on 9000.
    A2a,
}

impl Protocol {
    /// The API's name (`HTTP`, `MCP`, `A2A`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Http => "HTTP",
            Self::Mcp => "MCP",
            Self::A2a => "A2A",
        }
    }

    fn server_protocol(self) -> ServerProtocol {
        match self {
            Self::Http => ServerProtocol::Http,
            Self::Mcp => ServerProtocol::Mcp,
            Self::A2a => ServerProtocol::A2A,
        }
    }
}

impl std::str::FromStr for Protocol {
    type Err = DeployError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.to_ascii_lowercase().as_str() {
            "http" => Ok(Self::Http),
            "mcp" => Ok(Self::Mcp),
            "a2a" => Ok(Self::A2a),
            _ => Err(DeployError::Invalid(format!(
                "unknown protocol {text:?}: http, mcp or a2a"
            ))),
        }
    }
}

/// The runtime's network: the public internet, or subnets of the account's VPC.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Network {
    /// AgentCore's managed network with internet access.
    #[default]
    Public,
    /// These subnets and security groups (1 to 16 of each).
    Vpc {
        /// Subnet ids (`subnet-…`).
        subnets: Vec<String>,
        /// Security group ids (`sg-…`).
        security_groups: Vec<String>,
    },
}

impl Network {
    fn validate(&self) -> Result<(), DeployError> {
        let Self::Vpc {
            subnets,
            security_groups,
        } = self
        else {
            return Ok(());
        };
        for (what, prefix, ids) in [
            ("subnet", "subnet-", subnets),
            ("security group", "sg-", security_groups),
        ] {
            if !(1..=16).contains(&ids.len()) {
                return Err(DeployError::Invalid(format!(
                    "a VPC runtime takes 1 to 16 {what} ids, not {}",
                    ids.len()
                )));
            }
            for id in ids {
                let rest = id.strip_prefix(prefix).unwrap_or_default();
                if !(8..=17).contains(&rest.len())
                    || !rest.bytes().all(|b| b.is_ascii_alphanumeric())
                {
                    return Err(DeployError::Invalid(format!(
                        "{id:?} is not a {what} id ({prefix} and 8 to 17 letters or digits)"
                    )));
                }
            }
        }
        Ok(())
    }

    fn to_json(&self) -> serde_json::Value {
        match self {
            Self::Public => json!({"networkMode": "PUBLIC"}),
            Self::Vpc {
                subnets,
                security_groups,
            } => json!({
                "networkMode": "VPC",
                "networkModeConfig": {"subnets": subnets, "securityGroups": security_groups},
            }),
        }
    }

    fn to_api(&self) -> Result<NetworkConfiguration, DeployError> {
        let builder = match self {
            Self::Public => NetworkConfiguration::builder().network_mode(NetworkMode::Public),
            Self::Vpc {
                subnets,
                security_groups,
            } => {
                let vpc = VpcConfig::builder()
                    .set_subnets(Some(subnets.clone()))
                    .set_security_groups(Some(security_groups.clone()))
                    .build()
                    .map_err(|e| DeployError::Invalid(e.to_string()))?;
                NetworkConfiguration::builder()
                    .network_mode(NetworkMode::Vpc)
                    .network_mode_config(vpc)
            }
        };
        builder
            .build()
            .map_err(|e| DeployError::Invalid(e.to_string()))
    }
}

/// What an agent runtime is made of.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RuntimeSpec {
    /// `[a-zA-Z][a-zA-Z0-9_]{0,47}`.
    pub name: String,
    /// The image: `<account>.dkr.ecr.<region>.amazonaws.com/<repository>@sha256:…` (or `:tag`).
    pub container_uri: String,
    /// The execution role the container runs as.
    pub role_arn: String,
    /// The protocol served.
    pub protocol: Protocol,
    /// Where the runtime's network traffic goes.
    pub network: Network,
    /// The container's environment (at most 50 variables).
    pub environment: BTreeMap<String, String>,
    /// Seconds a session may stay idle (60 to 1,209,600; AgentCore's default 900).
    pub idle_timeout: Option<u32>,
    /// Seconds a session may live (60 to 1,209,600; AgentCore's default 28,800).
    pub max_lifetime: Option<u32>,
    /// Request headers passed to the container (1 to 20 names).
    pub request_headers: Vec<String>,
    /// A description.
    pub description: Option<String>,
}

impl RuntimeSpec {
    /// Checks the spec against the API's limits (botocore's `bedrock-agentcore-control` model).
    pub fn validate(&self) -> Result<(), DeployError> {
        let invalid = |m: String| Err(DeployError::Invalid(m));
        let name = self.name.as_bytes();
        let name_ok = (1..=48).contains(&name.len())
            && name[0].is_ascii_alphabetic()
            && name.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_');
        if !name_ok {
            return invalid(format!(
                "the runtime name {:?} must be 1 to 48 letters, digits and _, starting with a letter (no -)",
                self.name
            ));
        }
        if !self.role_arn.starts_with("arn:aws") || !self.role_arn.contains(":role/") {
            return invalid(format!(
                "the execution role {:?} is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)",
                self.role_arn
            ));
        }
        self.network.validate()?;
        if self.environment.len() > 50 {
            return invalid("at most 50 environment variables".to_owned());
        }
        for (key, value) in &self.environment {
            if key.is_empty() || key.len() > 100 || value.len() > 5000 {
                return invalid(format!(
                    "environment variable {key:?}: names are 1 to 100 characters, values at most 5,000"
                ));
            }
        }
        for (what, seconds) in [
            ("idle timeout", self.idle_timeout),
            ("max lifetime", self.max_lifetime),
        ] {
            if let Some(s) = seconds
                && !(60..=1_209_600).contains(&s)
            {
                return invalid(format!(
                    "the {what} must be 60 to 1,209,600 seconds, not {s}"
                ));
            }
        }
        if self.request_headers.len() > 20 {
            return invalid("at most 20 request headers".to_owned());
        }
        for header in &self.request_headers {
            let b = header.as_bytes();
            let ok = (1..=256).contains(&b.len())
                && b[0].is_ascii_alphabetic()
                && b.iter()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-'));
            if !ok {
                return invalid(format!(
                    "request header {header:?}: [A-Za-z][A-Za-z0-9_-]{{0,255}}"
                ));
            }
        }
        Ok(())
    }

    /// The Create/UpdateAgentRuntime request body as the API names its fields (what
    /// `--dry-run` prints).
    pub fn request_json(&self) -> serde_json::Value {
        let mut body = json!({
            "agentRuntimeName": self.name,
            "agentRuntimeArtifact": {"containerConfiguration": {"containerUri": self.container_uri}},
            "roleArn": self.role_arn,
            "networkConfiguration": self.network.to_json(),
            "protocolConfiguration": {"serverProtocol": self.protocol.as_str()},
        });
        if !self.environment.is_empty() {
            body["environmentVariables"] = json!(self.environment);
        }
        let mut lifecycle = serde_json::Map::new();
        if let Some(seconds) = self.idle_timeout {
            lifecycle.insert("idleRuntimeSessionTimeout".to_owned(), json!(seconds));
        }
        if let Some(seconds) = self.max_lifetime {
            lifecycle.insert("maxLifetime".to_owned(), json!(seconds));
        }
        if !lifecycle.is_empty() {
            body["lifecycleConfiguration"] = serde_json::Value::Object(lifecycle);
        }
        if !self.request_headers.is_empty() {
            body["requestHeaderConfiguration"] =
                json!({"requestHeaderAllowlist": self.request_headers});
        }
        if let Some(description) = &self.description {
            body["description"] = json!(description);
        }
        body
    }

    fn artifact(&self) -> Result<AgentRuntimeArtifact, DeployError> {
        let container = ContainerConfiguration::builder()
            .container_uri(&self.container_uri)
            .build()
            .map_err(|e| DeployError::Invalid(e.to_string()))?;
        Ok(AgentRuntimeArtifact::ContainerConfiguration(container))
    }
}

/// Sets every field of `spec` on a Create or Update request builder (the two take the same).
macro_rules! with_spec {
    ($request:expr, $spec:expr) => {{
        let spec: &RuntimeSpec = $spec;
        $request
            .agent_runtime_artifact(spec.artifact()?)
            .role_arn(&spec.role_arn)
            .network_configuration(spec.network.to_api()?)
            .set_protocol_configuration(protocol(spec))
            .set_environment_variables(environment(spec))
            .set_lifecycle_configuration(lifecycle(spec))
            .set_request_header_configuration(headers(spec))
            .set_description(spec.description.clone())
    }};
}

/// A runtime as AgentCore reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RuntimeState {
    /// Its id (`<name>-<suffix>`).
    pub id: String,
    /// Its ARN.
    pub arn: String,
    /// Its current version.
    pub version: String,
    /// `CREATING`, `READY`, `UPDATING`, …
    pub status: String,
    /// Why it failed, for the `*_FAILED` states.
    pub failure_reason: Option<String>,
    /// The image it runs, when reported.
    pub container_uri: Option<String>,
}

/// The state an SDK output reports (every output has the same four getters).
macro_rules! state_of {
    ($out:expr) => {{
        let out = &$out;
        RuntimeState {
            id: out.agent_runtime_id().to_owned(),
            arn: out.agent_runtime_arn().to_owned(),
            version: out.agent_runtime_version().to_owned(),
            status: out.status().as_str().to_owned(),
            failure_reason: None,
            container_uri: None,
        }
    }};
}

/// The control plane's agent runtimes, for one account and region.
#[derive(Debug, Clone)]
pub struct AgentRuntimes {
    client: control::Client,
}

impl AgentRuntimes {
    /// A client from `conf` (region, credentials, `AWS_ENDPOINT_URL_BEDROCK_AGENTCORE_CONTROL`).
    pub fn new(conf: &SdkConfig) -> Self {
        Self {
            client: control::Client::new(conf),
        }
    }

    fn refused<E: aws_error::ProvideErrorMetadata, R>(
        action: &str,
        error: &aws_error::SdkError<E, R>,
    ) -> DeployError {
        let line = aws_error::describe("AgentCore", "bedrock-agentcore", action, error);
        // AgentCore checks the image with the execution role, not the caller's credentials.
        let fix = if line.contains("validating ECR URI") {
            "; the execution role needs ecr:GetAuthorizationToken, ecr:BatchGetImage and ecr:GetDownloadUrlForLayer on the repository"
        } else if line.contains("ConflictException") {
            "; another change to this runtime is under way: wait for it (`strands-runtime status`)"
        } else {
            ""
        };
        DeployError::Refused(format!("{line}{fix}"))
    }

    /// The runtime named `name`, if any (ListAgentRuntimes, page by page).
    pub async fn find(&self, name: &str) -> Result<Option<RuntimeState>, DeployError> {
        let mut token: Option<String> = None;
        for _ in 0..MAX_LIST_PAGES {
            let page = self
                .client
                .list_agent_runtimes()
                .max_results(100)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| Self::refused("ListAgentRuntimes", &e))?;
            if let Some(found) = page
                .agent_runtimes()
                .iter()
                .find(|r| r.agent_runtime_name() == name)
            {
                return Ok(Some(state_of!(found)));
            }
            match page.next_token() {
                Some(next) => token = Some(next.to_owned()),
                None => return Ok(None),
            }
        }
        Err(DeployError::Refused(format!(
            "looked through {} runtimes without reaching the end of ListAgentRuntimes; name the runtime by ARN",
            MAX_LIST_PAGES * 100
        )))
    }

    /// Creates the runtime `spec` describes.
    pub async fn create(&self, spec: &RuntimeSpec) -> Result<RuntimeState, DeployError> {
        spec.validate()?;
        let request = self
            .client
            .create_agent_runtime()
            .agent_runtime_name(&spec.name);
        let out = with_spec!(request, spec)
            .send()
            .await
            .map_err(|e| Self::refused("CreateAgentRuntime", &e))?;
        Ok(RuntimeState {
            container_uri: Some(spec.container_uri.clone()),
            ..state_of!(out)
        })
    }

    /// Updates runtime `id` to `spec` (a new version).
    pub async fn update(&self, id: &str, spec: &RuntimeSpec) -> Result<RuntimeState, DeployError> {
        spec.validate()?;
        let request = self.client.update_agent_runtime().agent_runtime_id(id);
        let out = with_spec!(request, spec)
            .send()
            .await
            .map_err(|e| Self::refused("UpdateAgentRuntime", &e))?;
        Ok(RuntimeState {
            container_uri: Some(spec.container_uri.clone()),
            ..state_of!(out)
        })
    }

    /// Runtime `id` as it is now.
    pub async fn get(&self, id: &str) -> Result<RuntimeState, DeployError> {
        let out = self
            .client
            .get_agent_runtime()
            .agent_runtime_id(id)
            .send()
            .await
            .map_err(|e| match aws_error::code(&e) {
                Some("ResourceNotFoundException") => DeployError::NotFound(id.to_owned()),
                _ => Self::refused("GetAgentRuntime", &e),
            })?;
        Ok(RuntimeState {
            failure_reason: out.failure_reason().map(ToOwned::to_owned),
            container_uri: out
                .agent_runtime_artifact()
                .and_then(|a| a.as_container_configuration().ok())
                .map(|c| c.container_uri().to_owned()),
            ..state_of!(out)
        })
    }

    /// Deletes runtime `id`.
    pub async fn delete(&self, id: &str) -> Result<(), DeployError> {
        self.client
            .delete_agent_runtime()
            .agent_runtime_id(id)
            .send()
            .await
            .map_err(|e| Self::refused("DeleteAgentRuntime", &e))?;
        Ok(())
    }

    /// Polls runtime `id` every `every` until `version` (after an update; any when `None`) is
    /// `READY` (calling `progress` with each new status and the time waited), failed, or
    /// `timeout` passed.
    pub async fn wait_ready(
        &self,
        id: &str,
        version: Option<&str>,
        every: Duration,
        timeout: Duration,
        mut progress: impl FnMut(&str, Duration),
    ) -> Result<RuntimeState, DeployError> {
        let started = Instant::now();
        let mut last = String::new();
        loop {
            let state = self.get(id).await?;
            if state.status != last {
                progress(&state.status, started.elapsed());
                last.clone_from(&state.status);
            }
            let current = version.is_none_or(|v| v == state.version);
            if state.status == "READY" && current {
                return Ok(state);
            }
            keep_waiting(state, started, every, timeout)?;
            tokio::time::sleep(every).await;
        }
    }

    /// Polls runtime `id` every `every` until it is gone, failed to delete, or `timeout` passed.
    pub async fn wait_deleted(
        &self,
        id: &str,
        every: Duration,
        timeout: Duration,
    ) -> Result<(), DeployError> {
        let started = Instant::now();
        loop {
            let state = match self.get(id).await {
                Err(DeployError::NotFound(_)) => return Ok(()),
                other => other?,
            };
            keep_waiting(state, started, every, timeout)?;
            tokio::time::sleep(every).await;
        }
    }
}

/// Whether a wait goes on after reading `state`: not when the runtime failed (`*_FAILED`, with
/// AgentCore's reason) or the next poll would pass `timeout`.
fn keep_waiting(
    state: RuntimeState,
    started: Instant,
    every: Duration,
    timeout: Duration,
) -> Result<(), DeployError> {
    if state.status.ends_with("_FAILED") {
        return Err(DeployError::Failed {
            status: state.status,
            reason: state
                .failure_reason
                .unwrap_or_else(|| "no reason given".to_owned()),
        });
    }
    if started.elapsed() + every > timeout {
        return Err(DeployError::TimedOut {
            status: state.status,
            waited: started.elapsed(),
        });
    }
    Ok(())
}

fn protocol(spec: &RuntimeSpec) -> Option<ProtocolConfiguration> {
    ProtocolConfiguration::builder()
        .server_protocol(spec.protocol.server_protocol())
        .build()
        .ok()
}

fn environment(spec: &RuntimeSpec) -> Option<std::collections::HashMap<String, String>> {
    (!spec.environment.is_empty()).then(|| spec.environment.clone().into_iter().collect())
}

fn lifecycle(spec: &RuntimeSpec) -> Option<LifecycleConfiguration> {
    let seconds = |s: Option<u32>| s.and_then(|s| i32::try_from(s).ok());
    (spec.idle_timeout.is_some() || spec.max_lifetime.is_some()).then(|| {
        LifecycleConfiguration::builder()
            .set_idle_runtime_session_timeout(seconds(spec.idle_timeout))
            .set_max_lifetime(seconds(spec.max_lifetime))
            .build()
    })
}

fn headers(spec: &RuntimeSpec) -> Option<RequestHeaderConfiguration> {
    (!spec.request_headers.is_empty())
        .then(|| RequestHeaderConfiguration::RequestHeaderAllowlist(spec.request_headers.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> RuntimeSpec {
        RuntimeSpec {
            name: "weather_agent".to_owned(),
            container_uri: "123456789012.dkr.ecr.us-west-2.amazonaws.com/agents/weather@sha256:00"
                .to_owned(),
            role_arn: "arn:aws:iam::123456789012:role/AgentRuntime".to_owned(),
            ..RuntimeSpec::default()
        }
    }

    #[test]
    fn specs_outside_the_api_limits_are_refused_before_any_call() {
        assert!(spec().validate().is_ok());
        type Change = Box<dyn Fn(&mut RuntimeSpec)>;
        let cases: Vec<(Change, &str)> = vec![
            (Box::new(|s| s.name = "weather-agent".to_owned()), "no -"),
            (
                Box::new(|s| s.name = "1agent".to_owned()),
                "starting with a letter",
            ),
            (Box::new(|s| s.name = "a".repeat(49)), "1 to 48"),
            (
                Box::new(|s| s.role_arn = "AgentRuntime".to_owned()),
                "not an IAM role ARN",
            ),
            (Box::new(|s| s.idle_timeout = Some(59)), "60 to 1,209,600"),
            (
                Box::new(|s| s.max_lifetime = Some(1_209_601)),
                "max lifetime",
            ),
            (
                Box::new(|s| {
                    s.environment = (0..51).map(|i| (format!("K{i}"), String::new())).collect();
                }),
                "at most 50",
            ),
            (
                Box::new(|s| s.request_headers = vec!["X Bad".to_owned()]),
                "request header",
            ),
        ];
        for (change, fragment) in cases {
            let mut s = spec();
            change(&mut s);
            let error = s.validate().unwrap_err().to_string();
            assert!(error.contains(fragment), "{error}");
        }
    }

    #[test]
    fn the_request_json_names_fields_as_the_api_does() {
        let mut s = spec();
        s.protocol = Protocol::Mcp;
        s.environment.insert("MODEL_ID".to_owned(), "m".to_owned());
        s.idle_timeout = Some(600);
        let body = s.request_json();
        assert_eq!(body["protocolConfiguration"]["serverProtocol"], "MCP");
        assert_eq!(body["networkConfiguration"]["networkMode"], "PUBLIC");
        assert_eq!(body["environmentVariables"]["MODEL_ID"], "m");
        assert_eq!(
            body["lifecycleConfiguration"]["idleRuntimeSessionTimeout"],
            600
        );
        assert!(body.get("requestHeaderConfiguration").is_none());
        s.network = Network::Vpc {
            subnets: vec!["subnet-0123456789abcdef0".to_owned()],
            security_groups: vec!["sg-0123456789abcdef0".to_owned()],
        };
        assert!(s.validate().is_ok());
        let body = s.request_json();
        assert_eq!(body["networkConfiguration"]["networkMode"], "VPC");
        assert_eq!(
            body["networkConfiguration"]["networkModeConfig"]["securityGroups"][0],
            "sg-0123456789abcdef0"
        );
    }
}
