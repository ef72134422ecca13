//! Ready-made tools, under the names Python's `strands_tools` and `strands.vended_tools` give
//! them, so agents and agent files move between the two stacks unchanged.
//!
//! | Tool | Python | Notes |
//! |---|---|---|
//! | [`calculator`] | `strands_tools.calculator` | numeric evaluation only (no SymPy modes) |
//! | [`current_time`] | `strands_tools.current_time` | IANA zones from the bundled database |
//! | [`FileRead`] | `strands.vended_tools.file_read` | confined to one directory |
//! | [`FileEditor`] | `strands.vended_tools.file_editor` | confined to one directory; view, create, str_replace, insert |
//! | [`Shell`] | `strands.vended_tools.shell` | `sh -c` in one directory, with only the environment it is given |
//! | `HttpRequest` | `strands.vended_tools.http_request` | feature `http-request-tool`; allowed hosts only, no private addresses unless named |
//!
//! ```
//! use strands_agent::vended_tools::{calculator, current_time};
//!
//! # let model = strands_testkit::ScriptedModel::builder().build();
//! let agent = strands_agent::Agent::builder()
//!     .model(model)
//!     .tool(calculator)
//!     .tool(current_time)
//!     .build()?;
//! # drop(agent);
//! # Ok::<(), strands_agent::BuildError>(())
//! ```

mod arithmetic;
mod clock;
mod files;
#[cfg(feature = "http-request-tool")]
mod http;
mod shell;

pub use arithmetic::calculator;
pub use clock::current_time;
pub use files::{FileEditor, FileRead};
#[cfg(feature = "http-request-tool")]
pub use http::{HttpRequest, HttpRequestError};
pub use shell::Shell;

/// The answer of a tool whose arguments are `I` and whose output is Python's `json.dumps` of
/// `O`: the arguments parsed, `call` run until it ends or the agent cancels, and any failure
/// answered `Error: {error_prefix}{error}` (the prefix names Python's exception class). Dropping
/// the stream drops `call` (for a command, that kills it).
fn json_answer<'a, I, O, F>(
    tool_use: strands_core::ToolUse,
    context: strands_core::ToolContext,
    error_prefix: &'static str,
    call: impl FnOnce(I) -> F + Send + 'a,
) -> strands_core::ToolStream<'a>
where
    I: serde::de::DeserializeOwned + Send + 'a,
    O: serde::Serialize,
    F: std::future::Future<Output = Result<O, String>> + Send + 'a,
{
    use strands_core::ToolResult;
    strands_core::tool_result_stream(async move {
        let id = tool_use.tool_use_id;
        let outcome = match serde_json::from_value::<I>(tool_use.input) {
            Ok(input) => tokio::select! {
                outcome = call(input) => outcome,
                () = context.cancellation_token().cancelled() => Err("cancelled".to_owned()),
            },
            Err(error) => Err(format!("invalid arguments: {error}")),
        };
        match outcome.and_then(|output| {
            strands_core::json::to_python_string(&output).map_err(|e| e.to_string())
        }) {
            Ok(text) => ToolResult::success(id, text),
            Err(error) => ToolResult::error(id, format!("Error: {error_prefix}{error}")),
        }
    })
}
