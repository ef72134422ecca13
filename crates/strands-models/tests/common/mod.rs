//! Helpers shared by the providers' agent tests.
#![allow(dead_code, reason = "each test file uses a subset")]

use std::time::Duration;

use strands_agent::ModelRetryStrategy;
use strands_agent::tools::FunctionTool;

/// Throttling retries with millisecond delays, so retry tests run fast.
pub(crate) fn quick_retries() -> ModelRetryStrategy {
    ModelRetryStrategy::new(4, Duration::from_millis(1), Duration::from_millis(4))
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
pub(crate) struct AddArgs {
    /// first addend
    a: i64,
    /// second addend
    b: i64,
}

/// The `add` tool the Python parity fixtures use.
pub(crate) fn add() -> FunctionTool {
    FunctionTool::new("add", "Add two integers.", |args: AddArgs| async move {
        args.a + args.b
    })
}
