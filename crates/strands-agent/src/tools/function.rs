//! Tools built from functions and closures.

use std::fmt;
use std::future::Future;

use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::Value;
use strands_core::{
    BoxFuture, Tool, ToolContext, ToolResult, ToolSpec, ToolStream, ToolUse, tool_result_stream,
};

use super::output::IntoToolOutput;
use super::schema::{ArgsModel, ArgsSchema};

type Handler = dyn Fn(ToolUse, ToolContext) -> BoxFuture<'static, ToolResult> + Send + Sync;

/// A tool built at run time from a closure.
///
/// With [`FunctionTool::new`] the arguments are a type deriving `Deserialize` and `JsonSchema`:
/// its schema (field doc comments become descriptions) is sent to the model, and arguments that
/// do not parse are answered with an error result the model can correct. The `#[tool]` attribute
/// builds on the same machinery.
///
/// ```
/// use schemars::JsonSchema;
/// use serde::Deserialize;
/// use strands_agent::tools::FunctionTool;
/// use strands_core::Tool;
///
/// #[derive(Deserialize, JsonSchema)]
/// struct Args {
///     /// the text to shout
///     text: String,
/// }
///
/// let shout = FunctionTool::new("shout", "Upper-cases text.", |args: Args| async move {
///     args.text.to_uppercase()
/// });
/// assert_eq!(shout.spec().input_schema.json["properties"]["text"]["description"], "the text to shout");
/// ```
///
/// Python: a `@tool`-decorated function, or `PythonAgentTool`.
pub struct FunctionTool {
    spec: ToolSpec,
    handler: Box<Handler>,
}

impl fmt::Debug for FunctionTool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FunctionTool")
            .field("spec", &self.spec)
            .finish_non_exhaustive()
    }
}

impl FunctionTool {
    /// A tool whose typed arguments `A` are parsed from the model's input.
    pub fn new<A, F, Fut, R>(
        name: impl Into<String>,
        description: impl Into<String>,
        function: F,
    ) -> Self
    where
        A: DeserializeOwned + JsonSchema + Send + 'static,
        F: Fn(A) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
        R: IntoToolOutput,
    {
        Self::with_context(name, description, move |args: A, _context| function(args))
    }

    /// Like [`FunctionTool::new`], with the [`ToolContext`] (cancellation) passed too.
    pub fn with_context<A, F, Fut, R>(
        name: impl Into<String>,
        description: impl Into<String>,
        function: F,
    ) -> Self
    where
        A: DeserializeOwned + JsonSchema + Send + 'static,
        F: Fn(A, ToolContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
        R: IntoToolOutput,
    {
        let name = name.into();
        let ArgsSchema { input, args } = ArgsSchema::of::<A>(&name);
        let spec = ToolSpec::new(name, description, input);
        let handler = move |tool_use: ToolUse, context: ToolContext| {
            call_typed(&args, tool_use, context, &function)
        };
        Self {
            spec,
            handler: Box::new(handler),
        }
    }

    /// A tool with a hand-written spec whose function receives the raw JSON input, unvalidated.
    pub fn from_spec<F, Fut, R>(spec: ToolSpec, function: F) -> Self
    where
        F: Fn(Value, ToolContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
        R: IntoToolOutput,
    {
        let handler =
            move |tool_use: ToolUse, context: ToolContext| -> BoxFuture<'static, ToolResult> {
                let future = function(tool_use.input, context);
                let id = tool_use.tool_use_id;
                Box::pin(async move { future.await.into_tool_result(&id) })
            };
        Self {
            spec,
            handler: Box::new(handler),
        }
    }

    /// The spec, for adjusting before registration (e.g. a longer description).
    pub fn spec_mut(&mut self) -> &mut ToolSpec {
        &mut self.spec
    }
}

impl Tool for FunctionTool {
    fn spec(&self) -> &ToolSpec {
        &self.spec
    }

    fn stream(&self, tool_use: ToolUse, context: ToolContext) -> ToolStream<'_> {
        tool_result_stream((self.handler)(tool_use, context))
    }
}

/// Parses typed arguments (lax, like pydantic, against the tool's pydantic-shaped model) and
/// calls `function`; arguments that do not parse become the error result Python
/// sends: `Error: Validation failed for input parameters: ...`.
pub(crate) fn call_typed<A, F, Fut, R>(
    args: &ArgsModel,
    tool_use: ToolUse,
    context: ToolContext,
    function: F,
) -> BoxFuture<'static, ToolResult>
where
    A: DeserializeOwned,
    F: FnOnce(A, ToolContext) -> Fut,
    Fut: Future<Output = R> + Send + 'static,
    R: IntoToolOutput,
{
    let id = tool_use.tool_use_id;
    match args.parse::<A>(&tool_use.input) {
        Ok(args) => {
            let future = function(args, context);
            Box::pin(async move { future.await.into_tool_result(&id) })
        }
        Err(message) => Box::pin(std::future::ready(ToolResult::error(
            id,
            format!("Error: {message}"),
        ))),
    }
}
