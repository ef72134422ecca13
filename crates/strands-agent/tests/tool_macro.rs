//! `#[tool]`: the spec it derives from a function (compared with Python's `@tool`), and how the
//! generated tool runs through `Tool::stream`.

use futures_util::StreamExt;
use serde_json::{Value, json};
use strands_agent::tool;
use strands_core::{Tool, ToolContext, ToolEvent, ToolResult, ToolUse};

/// Add two integers.
///
/// # Arguments
/// * `a` - first addend
/// * `b` - second addend
#[tool]
pub async fn add(a: i64, b: i64) -> i64 {
    a + b
}

/// Add two integers.
///
/// Args:
///     a: first addend
///     b (int): second addend
#[tool]
async fn add_google(a: i64, b: i64) -> i64 {
    a + b
}

/// Greet someone.
///
/// Args:
///     name: who to greet
///
/// Returns:
///     The greeting.
#[tool]
fn greet(name: String, title: Option<String>, times: Option<u32>) -> String {
    let who = match title {
        Some(title) => title + " " + &name,
        None => name,
    };
    format!("Hello, {who}!").repeat(times.unwrap_or(1) as usize)
}

/// Always fails.
#[tool]
fn fail() -> Result<String, String> {
    Err("boom".to_owned())
}

/// Multiply on the blocking pool.
#[tool(blocking)]
fn multiply(a: i64, b: i64) -> i64 {
    a * b
}

/// Report whether the agent was cancelled.
///
/// # Arguments
/// * `label` - a prefix
#[tool]
async fn cancelled(label: String, context: ToolContext) -> String {
    format!("{label}: {}", context.is_cancelled())
}

/// This doc comment is not the description.
#[tool(name = "renamed", description = "A tool with another name.")]
fn original() -> &'static str {
    "ok"
}

#[tool]
fn undocumented() {}

fn schema(tool: &dyn Tool) -> &Value {
    &tool.spec().input_schema.json
}

/// Runs `tool` with `input` and returns its last result (an error result if there is none).
async fn run(tool: &dyn Tool, input: Value) -> ToolResult {
    let mut stream = tool.stream(
        ToolUse::new("t1", tool.name(), input),
        ToolContext::default(),
    );
    let mut result = ToolResult::error("none", "the tool stream ended without a result");
    while let Some(event) = stream.next().await {
        if let ToolEvent::Result(r) = event {
            result = r;
        }
    }
    assert_eq!(result.tool_use_id, "t1");
    result
}

/// The text of the result's first block.
fn text(result: &ToolResult) -> &str {
    result
        .content
        .first()
        .and_then(|block| block.as_text())
        .unwrap_or_default()
}

#[test]
fn add_spec_equals_python_tool_spec() {
    let spec = add.spec();
    assert_eq!(spec.name, "add");
    assert_eq!(spec.description, "Add two integers.");
    let expected = json!({
        "properties": {
            "a": {"description": "first addend", "type": "integer"},
            "b": {"description": "second addend", "type": "integer"}
        },
        "required": ["a", "b"],
        "type": "object"
    });
    assert_eq!(schema(&add), &expected);
    let keys: Vec<&str> = schema(&add)
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["properties", "required", "type"]);
    assert_eq!(
        serde_json::to_string(schema(&add)).unwrap(),
        r#"{"properties":{"a":{"description":"first addend","type":"integer"},"b":{"description":"second addend","type":"integer"}},"required":["a","b"],"type":"object"}"#
    );
}

#[test]
fn google_style_args_give_the_same_spec() {
    assert_eq!(add_google.spec().description, "Add two integers.");
    assert_eq!(schema(&add_google), schema(&add));
}

#[test]
fn returns_section_stays_and_undescribed_parameters_get_python_fallback() {
    let spec = greet.spec();
    assert_eq!(
        spec.description,
        "Greet someone.\n\nReturns:\n    The greeting."
    );
    assert_eq!(
        spec.input_schema.json["properties"]["name"]["description"],
        "who to greet"
    );
    assert_eq!(
        spec.input_schema.json["properties"]["title"]["description"],
        "Parameter title"
    );
}

#[test]
fn option_parameters_are_optional_with_null_default() {
    assert_eq!(
        schema(&greet)["properties"]["title"],
        json!({"description": "Parameter title", "type": "string", "default": null})
    );
    assert_eq!(
        schema(&greet)["properties"]["times"],
        json!({"description": "Parameter times", "type": "integer", "minimum": 0, "default": null})
    );
    assert_eq!(schema(&greet)["required"], json!(["name"]));
}

#[test]
fn missing_doc_comment_describes_tool_by_its_name() {
    assert_eq!(undocumented.spec().description, "undocumented");
    assert_eq!(
        schema(&undocumented),
        &json!({"properties": {}, "required": [], "type": "object"})
    );
}

#[test]
fn name_and_description_arguments_override_the_function() {
    assert_eq!(original.name(), "renamed");
    assert_eq!(original.spec().description, "A tool with another name.");
}

#[tokio::test]
async fn good_input_returns_python_text_result() {
    let result = run(&add, json!({"a": 2, "b": 3})).await;
    assert!(!result.is_error());
    assert_eq!(text(&result), "5");
}

#[tokio::test]
async fn wrong_argument_type_returns_validation_error_result() {
    let result = run(&add, json!({"a": "x", "b": 1})).await;
    assert!(result.is_error());
    assert!(
        text(&result).starts_with("Error: Validation failed for input parameters: "),
        "{}",
        text(&result)
    );
}

#[tokio::test]
async fn non_object_input_returns_validation_error_naming_the_tool() {
    let result = run(&add, json!("2 + 3")).await;
    assert!(result.is_error());
    assert_eq!(
        text(&result),
        "Error: Validation failed for input parameters: invalid type: string \"2 + 3\", \
         expected a JSON object with the arguments of tool `add`"
    );
}

#[tokio::test]
async fn numeric_strings_are_coerced_like_pydantic_lax_mode() {
    let result = run(&add, json!({"a": "3", "b": 4})).await;
    assert_eq!(text(&result), "7");
}

#[tokio::test]
async fn err_return_becomes_error_result() {
    let result = run(&fail, json!({})).await;
    assert!(result.is_error());
    assert_eq!(text(&result), "Error: boom");
}

#[tokio::test]
async fn sync_function_runs_inline_with_optional_arguments() {
    let result = run(&greet, json!({"name": "Ada"})).await;
    assert_eq!(text(&result), "Hello, Ada!");
    let result = run(&greet, json!({"name": "Ada", "title": "Dr", "times": 2})).await;
    assert_eq!(text(&result), "Hello, Dr Ada!Hello, Dr Ada!");
}

#[tokio::test]
async fn blocking_function_runs_on_the_blocking_pool() {
    let result = run(&multiply, json!({"a": 6, "b": 7})).await;
    assert_eq!(text(&result), "42");
    assert_eq!(multiply::call(2, 3), 6);
}

#[tokio::test]
async fn tool_context_parameter_is_excluded_from_schema_and_receives_the_context() {
    assert_eq!(
        schema(&cancelled),
        &json!({
            "properties": {"label": {"description": "a prefix", "type": "string"}},
            "required": ["label"],
            "type": "object"
        })
    );
    let cancellation = strands_core::CancellationToken::new();
    cancellation.cancel();
    let tool_use = ToolUse::new("t1", "cancelled", json!({"label": "cancelled"}));
    let mut stream = cancelled.stream(tool_use, ToolContext::new(cancellation));
    let Some(ToolEvent::Result(result)) = stream.next().await else {
        panic!("expected a result");
    };
    assert_eq!(text(&result), "cancelled: true");
    assert_eq!(
        text(&run(&cancelled, json!({"label": "fresh"})).await),
        "fresh: false"
    );
}

#[tokio::test]
async fn call_runs_the_original_function_directly() {
    assert_eq!(add::call(2, 3).await, 5);
    assert_eq!(greet::call("Ada".to_owned(), None, None), "Hello, Ada!");
    assert_eq!(original::call(), "ok");
}

#[test]
fn generated_tools_are_send_sync_copy_values() {
    fn assert_tool<T: Tool + Copy + Default + std::fmt::Debug + 'static>(_: T) {}
    assert_tool(add);
    assert_tool(multiply);
    assert_tool(cancelled);
    let tools: Vec<Box<dyn Tool>> = vec![Box::new(add), Box::new(greet)];
    assert_eq!(tools[1].name(), "greet");
}

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/ui/pass/*.rs");
    cases.compile_fail("tests/ui/fail/*.rs");
}
