//! The configuration of the AgentCore data-plane client shared by Memory and Identity.

use std::time::Duration;

use aws_smithy_types::timeout::TimeoutConfig;

/// Each attempt of an AgentCore call gives up after this long.
pub(crate) const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
/// A whole AgentCore call, retries included, gives up after this long.
pub(crate) const OPERATION_TIMEOUT: Duration = Duration::from_secs(30);

/// The configuration's timeouts, with AgentCore's attempt and operation bounds where it sets
/// none, so no call waits forever on a silent endpoint.
pub(crate) fn timeouts(config: &aws_config::SdkConfig) -> TimeoutConfig {
    let bounded = TimeoutConfig::builder()
        .operation_attempt_timeout(ATTEMPT_TIMEOUT)
        .operation_timeout(OPERATION_TIMEOUT);
    match config.timeout_config() {
        Some(set) => set.to_builder().take_unset_from(bounded).build(),
        None => bounded.build(),
    }
}

/// The data-plane client configuration: the SDK configuration, bounded timeouts and the app
/// name `strands-agents` (unless one is set).
pub(crate) fn data_plane_config(
    config: &aws_config::SdkConfig,
) -> aws_sdk_bedrockagentcore::config::Builder {
    let mut builder =
        aws_sdk_bedrockagentcore::config::Builder::from(config).timeout_config(timeouts(config));
    if config.app_name().is_none()
        && let Ok(name) = aws_sdk_bedrockagentcore::config::AppName::new("strands-agents")
    {
        builder = builder.app_name(name);
    }
    builder
}
