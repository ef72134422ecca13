//! MiniStack, started by `scripts/ministack` (which `scripts/test` runs): its endpoint and the
//! keys of its two IAM users. Shared by the tests that need it.
#![allow(
    dead_code,
    clippy::panic,
    clippy::print_stderr,
    reason = "test helper; not every test uses every field"
)]

/// Where MiniStack listens and who may call it.
pub(crate) struct MiniStack {
    pub(crate) endpoint: String,
    /// A user allowed to read the test secrets.
    pub(crate) reader: (String, String),
    /// A user with no permissions.
    pub(crate) no_access: (String, String),
    /// A user allowed the AgentCore Memory data plane.
    pub(crate) memory_user: (String, String),
    /// The AgentCore Memory created for the tests.
    pub(crate) memory_id: String,
    /// A user allowed ECR, the runtime control plane and InvokeAgentRuntime.
    pub(crate) deployer: (String, String),
    /// A user allowed ECR only.
    pub(crate) pusher: (String, String),
}

/// The running MiniStack, or `None` with a note that `test` was skipped. Without MiniStack's
/// variables and with `STRANDS_REQUIRE_MINISTACK=1` (set by `scripts/ministack`), a failure.
pub(crate) fn ministack(test: &str) -> Option<MiniStack> {
    let var = |name: &str| std::env::var(name).ok();
    match (
        var("MINISTACK_ENDPOINT"),
        var("MINISTACK_READER_KEY_ID"),
        var("MINISTACK_READER_SECRET"),
        var("MINISTACK_NO_ACCESS_KEY_ID"),
        var("MINISTACK_NO_ACCESS_SECRET"),
        var("MINISTACK_MEMORY_USER_KEY_ID"),
        var("MINISTACK_MEMORY_USER_SECRET"),
        var("MINISTACK_MEMORY_ID"),
    ) {
        (
            Some(endpoint),
            Some(rk),
            Some(rs),
            Some(nk),
            Some(ns),
            Some(mk),
            Some(ms),
            Some(memory_id),
        ) => {
            // The AWS SDK runs in process here: its events go through the runtime's log filter.
            crate::common::trace_logs::install_in_process(test);
            for value in [&rk, &rs, &nk, &ns, &mk, &ms] {
                crate::common::trace_logs::secret(value);
            }
            let pair = |name: &str| {
                let key = var(&format!("{name}_KEY_ID")).unwrap_or_default();
                let secret = var(&format!("{name}_SECRET")).unwrap_or_default();
                for value in [&key, &secret] {
                    if !value.is_empty() {
                        crate::common::trace_logs::secret(value);
                    }
                }
                (key, secret)
            };
            Some(MiniStack {
                endpoint,
                reader: (rk, rs),
                no_access: (nk, ns),
                memory_user: (mk, ms),
                memory_id,
                deployer: pair("MINISTACK_DEPLOYER"),
                pusher: pair("MINISTACK_PUSHER"),
            })
        }
        _ if var("STRANDS_REQUIRE_MINISTACK").is_some() => {
            panic!("MiniStack variables are missing; run through scripts/ministack")
        }
        _ => {
            eprintln!(
                "skipped: MiniStack is not running (run: scripts/ministack cargo test -p strands-runtime --test {test})"
            );
            None
        }
    }
}
