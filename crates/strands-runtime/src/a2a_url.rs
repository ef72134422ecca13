//! The URL an A2A agent card publishes: where AgentCore clients reach the runtime.

/// The invocation URL of the AgentCore runtime `agent_arn` (bedrock-agentcore's
/// `build_runtime_url`): `https://bedrock-agentcore.<region>.<dns suffix>/runtimes/<ARN,
/// percent-encoded>/invocations`, the region taken from the ARN.
///
/// ```
/// let url = strands_runtime::runtime_url(
///     "arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/my-agent-abc123",
/// );
/// assert_eq!(
///     url.as_deref(),
///     Ok("https://bedrock-agentcore.us-east-1.amazonaws.com/runtimes/arn%3Aaws%3Abedrock-agentcore%3Aus-east-1%3A123456789012%3Aruntime%2Fmy-agent-abc123/invocations")
/// );
/// ```
///
/// # Errors
///
/// A message naming the problem when the ARN has no valid region.
pub fn runtime_url(agent_arn: &str) -> Result<String, String> {
    let region = agent_arn
        .split(':')
        .nth(3)
        .ok_or_else(|| format!("Cannot extract region from ARN: {agent_arn}"))?;
    if !valid_region(region) {
        return Err(format!(
            "Invalid AWS region: '{region}'. Region must match pattern like 'us-east-1', 'eu-west-2', 'cn-north-1'."
        ));
    }
    Ok(format!(
        "https://bedrock-agentcore.{region}.{}/runtimes/{}/invocations",
        dns_suffix(region),
        strands_core::url::quote(agent_arn)
    ))
}

/// The card URL for a server on `host:port`: `AGENTCORE_RUNTIME_URL` when set (as
/// bedrock-agentcore reads it); else, inside AgentCore, the runtime's invocation URL from its
/// ARN (`cloud.resource_id` in `OTEL_RESOURCE_ATTRIBUTES`, which AgentCore sets); else the
/// server's own address (localhost for a wildcard host).
pub fn a2a_card_url(var: impl Fn(&str) -> Option<String>, host: &str, port: u16) -> String {
    let set = |name: &str| var(name).filter(|v| !v.trim().is_empty());
    if let Some(url) = set("AGENTCORE_RUNTIME_URL") {
        return url;
    }
    if let Some(arn) = set("OTEL_RESOURCE_ATTRIBUTES").and_then(|a| runtime_arn(&a)) {
        match runtime_url(&arn) {
            Ok(url) => return url,
            Err(error) => tracing::warn!("the A2A card cannot use the runtime ARN: {error}"),
        }
    }
    let host = if host == "0.0.0.0" || host == "::" {
        "localhost"
    } else {
        host
    };
    format!("http://{host}:{port}/")
}

/// The runtime ARN in resource attributes (`cloud.resource_id=<arn>/runtime-endpoint/...`).
fn runtime_arn(attributes: &str) -> Option<String> {
    let id = attributes
        .split(',')
        .find_map(|pair| pair.trim().strip_prefix("cloud.resource_id="))?;
    let arn = id.split("/runtime-endpoint/").next()?;
    arn.starts_with("arn:").then(|| arn.to_owned())
}

/// Python's `^[a-z]{2}(-[a-z]+)+-\d+$`.
fn valid_region(region: &str) -> bool {
    let parts: Vec<&str> = region.split('-').collect();
    let [first, middle @ .., last] = parts.as_slice() else {
        return false;
    };
    first.len() == 2
        && first.bytes().all(|b| b.is_ascii_lowercase())
        && !middle.is_empty()
        && middle
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && !last.is_empty()
        && last.bytes().all(|b| b.is_ascii_digit())
}

/// The partition's DNS suffix (botocore's partitions).
fn dns_suffix(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "amazonaws.com.cn"
    } else if region.starts_with("us-isob-") {
        "sc2s.sgov.gov"
    } else if region.starts_with("us-iso-") {
        "c2s.ic.gov"
    } else if region.starts_with("eusc-") {
        "amazonaws.eu"
    } else {
        "amazonaws.com"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Expected values from bedrock-agentcore 1.25's `build_runtime_url`.
    #[test]
    fn runtime_urls_are_bedrock_agentcores() {
        let cases = [
            (
                "arn:aws-cn:bedrock-agentcore:cn-north-1:123456789012:runtime/a_b-1",
                "https://bedrock-agentcore.cn-north-1.amazonaws.com.cn/runtimes/arn%3Aaws-cn%3Abedrock-agentcore%3Acn-north-1%3A123456789012%3Aruntime%2Fa_b-1/invocations",
            ),
            (
                "arn:aws-us-gov:bedrock-agentcore:us-gov-west-1:123456789012:runtime/x",
                "https://bedrock-agentcore.us-gov-west-1.amazonaws.com/runtimes/arn%3Aaws-us-gov%3Abedrock-agentcore%3Aus-gov-west-1%3A123456789012%3Aruntime%2Fx/invocations",
            ),
        ];
        for (arn, url) in cases {
            assert_eq!(runtime_url(arn).as_deref(), Ok(url));
        }
        assert_eq!(
            runtime_url("arn:aws:bedrock-agentcore:Not_A_Region:1:runtime/x"),
            Err("Invalid AWS region: 'Not_A_Region'. Region must match pattern like 'us-east-1', 'eu-west-2', 'cn-north-1'.".to_owned())
        );
    }

    #[test]
    fn the_card_url_comes_from_the_environment_then_the_runtime_arn_then_the_address() {
        let vars = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        const ATTRIBUTES: &str = "service.name=a.DEFAULT,cloud.resource_id=arn:aws:bedrock-agentcore:eu-central-1:1:runtime/x/runtime-endpoint/DEFAULT:DEFAULT,cloud.provider=aws";
        assert_eq!(
            a2a_card_url(
                vars(&[
                    ("AGENTCORE_RUNTIME_URL", "https://example.com/a2a/"),
                    (
                        "OTEL_RESOURCE_ATTRIBUTES",
                        "cloud.resource_id=arn:aws:x:us-east-1:1:runtime/y"
                    ),
                ]),
                "0.0.0.0",
                9000
            ),
            "https://example.com/a2a/"
        );
        assert_eq!(
            a2a_card_url(
                vars(&[("OTEL_RESOURCE_ATTRIBUTES", ATTRIBUTES)]),
                "0.0.0.0",
                9000
            ),
            "https://bedrock-agentcore.eu-central-1.amazonaws.com/runtimes/arn%3Aaws%3Abedrock-agentcore%3Aeu-central-1%3A1%3Aruntime%2Fx/invocations"
        );
        assert_eq!(
            a2a_card_url(
                vars(&[("OTEL_RESOURCE_ATTRIBUTES", "service.name=a")]),
                "0.0.0.0",
                9000
            ),
            "http://localhost:9000/"
        );
        assert_eq!(
            a2a_card_url(vars(&[]), "127.0.0.1", 9100),
            "http://127.0.0.1:9100/"
        );
    }
}
