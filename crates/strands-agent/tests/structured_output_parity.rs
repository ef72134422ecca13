//! Structured output compared with Python Strands 1.62 (`fixtures/parity/structured_output_*.json`):
//! the output tool spec the model receives for Rust types equivalent to the pydantic models of
//! `generate.py`, the validated value and result text, validation error texts, and the recorded
//! structured-output scenarios replayed.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    dead_code,
    reason = "test helpers fail loudly; the output types are only deserialized"
)]

mod common;

use std::sync::{Arc, Mutex};

use pretty_assertions::assert_eq;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use strands_agent::hooks::AfterInvocationEvent;
use strands_agent::{Agent, AgentError, AgentResult};
use strands_core::{ContentBlock, StreamEvent};
use strands_testkit::{ScriptedModel, Step};

use common::Weather;

// ---------------------------------------------------------------------------------------------
// The pydantic models of generate.py, in Rust. Python's spelling on the right.

#[derive(Deserialize, JsonSchema)]
struct Scalars {
    name: String,
    count: i64,
    ratio: f64,
    flag: bool,
}

/// Optional fields.
#[derive(Deserialize, JsonSchema)]
struct WithOptional {
    note: Option<String>,           // Optional[str] = None
    amount: Option<f64>,            // Optional[float] = None
    required_nullable: Option<i64>, // Optional[int], required: see `required_nullable_...`
}

/// Fields with defaults.
#[derive(Deserialize, Serialize, JsonSchema)]
#[serde(default)]
struct WithDefaults {
    a: i64,         // int = 5
    b: String,      // str = "x"
    c: f64,         // float = 2.5
    d: bool,        // bool = False
    e: Vec<String>, // list[str] = Field(default_factory=list)
}

impl Default for WithDefaults {
    fn default() -> Self {
        Self {
            a: 5,
            b: "x".to_owned(),
            c: 2.5,
            d: false,
            e: Vec::new(),
        }
    }
}

/// Field descriptions.
#[derive(Deserialize, JsonSchema)]
struct WithDescriptions {
    /// The title
    title: String,
    /// Number of pages
    #[serde(default = "one")]
    pages: i64,
    /// Short summary
    summary: Option<String>,
}

fn one() -> i64 {
    1
}

/// A postal address.
#[derive(Deserialize, Serialize, JsonSchema)]
struct Address {
    street: String,
    /// City name
    city: String,
    zip: Option<String>,
}

/// Has a nested model.
#[derive(Deserialize, JsonSchema)]
struct Nested {
    name: String,
    address: Address,
}

/// Has a list of nested models.
#[derive(Deserialize, JsonSchema)]
struct NestedList {
    addresses: Vec<Address>,
    tags: Vec<String>,
}

/// Has an optional nested model.
#[derive(Deserialize, JsonSchema)]
struct OptionalNested {
    address: Option<Address>,
}

// `Literal["happy", "sad"]`: an enum shown inline (a doc comment would become its description).
#[derive(Deserialize, Serialize, JsonSchema, Default)]
#[serde(rename_all = "lowercase")]
#[schemars(inline)]
enum Mood {
    #[default]
    Happy,
    Sad,
}

// `class Color(str, Enum)`: an enum shown as a definition.
#[derive(Deserialize, Serialize, JsonSchema, Default)]
#[serde(rename_all = "lowercase")]
enum Color {
    #[default]
    Red,
    Green,
}

/// Literal fields.
#[derive(Deserialize, JsonSchema)]
struct WithLiteral {
    mood: Mood,
    // `Literal[1, 2, 3] = 1`
    #[serde(default = "one")]
    #[schemars(extend("enum" = [1, 2, 3]))]
    level: i64,
    maybe_mood: Option<Mood>,
}

/// Enum fields.
#[derive(Deserialize, JsonSchema)]
struct WithEnum {
    color: Color,
    maybe_color: Option<Color>,
}

/// Multi-line docstring.
///
/// The second paragraph is kept too.
#[derive(Deserialize, JsonSchema)]
struct Documented {
    value: i64,
}

/// A person with everything.
#[derive(Deserialize, JsonSchema)]
struct Person {
    /// Full name
    name: String,
    age: i64,
    height: f64,
    active: bool,
    nickname: Option<String>,
    #[serde(default = "one_and_a_half")]
    score: f64,
    address: Address,
    /// Where they lived before
    #[serde(default)]
    previous_addresses: Vec<Address>,
    #[serde(default)]
    mood: Mood,
    #[serde(default)]
    color: Color,
}

fn one_and_a_half() -> f64 {
    1.5
}

// ---------------------------------------------------------------------------------------------
// Helpers

fn load(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/parity/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap()
}

fn schema_fixture() -> Value {
    load("structured_output_schema")
}

/// What one structured-output invocation produced: the result (from the after-invocation hook,
/// as Python's `AgentResult`), the value or error, every request and the history.
struct Run {
    result: Option<AgentResult>,
    error: Option<AgentError>,
    specs: Vec<Value>,
    tool_results: Vec<Value>,
}

/// A `ToolUse` step for the output tool.
fn tool_use(id: &str, name: &str, input: &Value) -> Step {
    Step::Events(strands_testkit::tool_use_stream(&[(
        id,
        name,
        &input.to_string(),
    )]))
}

async fn run<T: JsonSchema + for<'de> Deserialize<'de> + 'static>(
    steps: Vec<Step>,
    agent_tools: bool,
) -> Run {
    let model = Arc::new(ScriptedModel::new(steps));
    let captured: Arc<Mutex<Option<AgentResult>>> = Arc::default();
    let sink = captured.clone();
    let mut builder =
        Agent::builder()
            .shared_model(model.clone())
            .hook(move |e: &mut AfterInvocationEvent| {
                *sink.lock().unwrap() = e.result.clone();
            });
    if agent_tools {
        builder = builder.tool(common::add).tool(common::fail);
    }
    let mut agent = builder.build().unwrap();
    let error = agent.structured_output::<T>("go").await.err();
    let specs = model.requests()[0]
        .tool_specs
        .clone()
        .unwrap()
        .iter()
        .map(|s| serde_json::to_value(s).unwrap())
        .collect();
    let tool_results = agent
        .messages()
        .iter()
        .flat_map(|m| m.content.iter())
        .filter(|block| matches!(block, ContentBlock::ToolResult(_)))
        .map(|block| serde_json::to_value(block).unwrap())
        .collect();
    let result = captured.lock().unwrap().take();
    Run {
        result,
        error,
        specs,
        tool_results,
    }
}

/// The output tool spec the model received for `T`, and the run with the fixture's valid input.
async fn sent_and_run<T: JsonSchema + for<'de> Deserialize<'de> + 'static>(
    name: &str,
) -> (Value, Run) {
    let fixture = schema_fixture();
    let input = &fixture["models"][name]["run"]["input"];
    let run = run::<T>(vec![tool_use("so1", name, input)], false).await;
    assert_eq!(run.specs.len(), 1);
    (run.specs[0].clone(), run)
}

/// Compares the spec byte for byte (key order included), then the run: stop reason, value and
/// Python's `str(result)`.
async fn assert_model_matches_python<T: JsonSchema + for<'de> Deserialize<'de> + 'static>(
    name: &str,
    adjust: impl FnOnce(&mut Value),
) {
    let fixture = schema_fixture();
    let python = &fixture["models"][name];
    let (mut sent, run) = sent_and_run::<T>(name).await;
    adjust(&mut sent);
    assert_eq!(
        serde_json::to_string_pretty(&sent).unwrap(),
        serde_json::to_string_pretty(&python["sent"]).unwrap(),
        "{name}: the spec the model receives"
    );
    let result = run.result.expect("a result");
    assert_eq!(
        serde_json::to_value(result.stop_reason).unwrap(),
        python["run"]["stop_reason"]
    );
    assert_eq!(
        serde_json::to_string(result.structured_output.as_ref().unwrap()).unwrap(),
        serde_json::to_string(&python["run"]["structured_output"]).unwrap(),
        "{name}: value"
    );
    assert_eq!(
        result.to_string(),
        python["run"]["result_text"].as_str().unwrap(),
        "{name}: str(result)"
    );
}

fn no_change(_: &mut Value) {}

/// Removes `"default"` from `property` of the spec's schema: Python's
/// `Field(default_factory=list)` shows no default, a Rust `#[serde(default)]` always does.
fn drop_factory_default(property: &'static str) -> impl FnOnce(&mut Value) {
    move |spec| {
        let removed = spec["inputSchema"]["json"]["properties"][property]
            .as_object_mut()
            .unwrap()
            .shift_remove("default");
        assert_eq!(removed, Some(json!([])), "{property} shows its default");
    }
}

// ---------------------------------------------------------------------------------------------
// The spec the model receives, and one valid run, per model

#[tokio::test]
async fn scalars_spec_and_value_equal_python() {
    assert_model_matches_python::<Scalars>("Scalars", no_change).await;
}

#[tokio::test]
async fn optional_fields_are_nullable_without_title_or_default_as_in_python() {
    assert_model_matches_python::<WithOptional>("WithOptional", no_change).await;
}

#[tokio::test]
async fn defaulted_fields_are_nullable_with_their_defaults_as_in_python() {
    assert_model_matches_python::<WithDefaults>("WithDefaults", drop_factory_default("e")).await;
}

#[tokio::test]
async fn doc_comments_are_descriptions_as_field_descriptions_are_in_python() {
    assert_model_matches_python::<WithDescriptions>("WithDescriptions", no_change).await;
}

#[tokio::test]
async fn nested_struct_is_inlined_and_left_out_of_required_as_in_python() {
    // Python's `_flatten_schema` reuses `is_required` while walking the nested model, so
    // `address` ends as not required (its last field `zip` is optional). Mirrored on purpose:
    // it only changes what the model is shown; validation still requires `address`.
    assert_model_matches_python::<Nested>("Nested", no_change).await;
}

#[tokio::test]
async fn list_of_structs_is_resolved_as_in_python() {
    assert_model_matches_python::<NestedList>("NestedList", no_change).await;
}

#[tokio::test]
async fn optional_struct_is_resolved_as_in_python() {
    assert_model_matches_python::<OptionalNested>("OptionalNested", no_change).await;
}

#[tokio::test]
async fn inline_enums_are_literals_as_in_python() {
    assert_model_matches_python::<WithLiteral>("WithLiteral", no_change).await;
}

#[tokio::test]
async fn referenced_enums_are_enum_classes_as_in_python() {
    assert_model_matches_python::<WithEnum>("WithEnum", no_change).await;
}

#[tokio::test]
async fn multi_paragraph_doc_comment_differs_only_by_python_source_indentation() {
    // Python's tool description is the raw `__doc__`, indentation included; a doc comment has
    // none. The schema's description (pydantic cleans the docstring) is the same.
    assert_model_matches_python::<Documented>("Documented", |spec| {
        let description = spec["description"].as_str().unwrap().to_owned();
        assert!(description.contains("docstring.\n\nThe second"));
        spec["description"] = Value::String(description.replace("\n\nThe", "\n\n    The"));
    })
    .await;
}

#[tokio::test]
async fn weather_spec_and_value_equal_python() {
    assert_model_matches_python::<Weather>("Weather", no_change).await;
}

#[tokio::test]
async fn person_spec_and_value_equal_python() {
    assert_model_matches_python::<Person>("Person", drop_factory_default("previous_addresses"))
        .await;
}

// ---------------------------------------------------------------------------------------------
// Validation: Python's `StructuredOutputTool.stream` on each recorded input

async fn validation_case<T: JsonSchema + for<'de> Deserialize<'de> + 'static>(case: &Value) {
    let name = case["model"].as_str().unwrap();
    let valid_again = schema_fixture()["models"][name]["run"]["input"].clone();
    // An invalid input is answered with an error result; the model then sends a valid one.
    let steps = vec![
        tool_use("so1", name, &case["input"]),
        tool_use("so2", name, &valid_again),
    ];
    let run = run::<T>(steps, false).await;
    let first = &run.tool_results[0];
    assert_eq!(
        first["toolResult"]["status"], case["tool_result"]["status"],
        "{case}"
    );
    assert_eq!(
        first["toolResult"]["content"], case["tool_result"]["content"],
        "{case}"
    );
    if !case["model_dump_json"].is_null() {
        let result = run.result.unwrap();
        assert_eq!(
            result.to_string(),
            case["model_dump_json"].as_str().unwrap(),
            "{case}"
        );
        assert_eq!(result.structured_output.as_ref().unwrap(), &case["value"]);
    }
}

#[tokio::test]
async fn every_recorded_validation_case_gives_pythons_result_and_value() {
    let fixture = schema_fixture();
    let cases = fixture["validation_cases"].as_array().unwrap();
    assert_eq!(cases.len(), 17);
    for case in cases {
        match case["model"].as_str().unwrap() {
            "Weather" => validation_case::<Weather>(case).await,
            "Scalars" => validation_case::<Scalars>(case).await,
            "Nested" => validation_case::<Nested>(case).await,
            "NestedList" => validation_case::<NestedList>(case).await,
            "WithEnum" => validation_case::<WithEnum>(case).await,
            "Person" => validation_case::<Person>(case).await,
            other => panic!("no Rust type for {other}"),
        }
    }
}

#[tokio::test]
async fn required_nullable_field_is_not_required_in_rust() {
    // Python's `required_nullable: Optional[int]` (no default) must be given, possibly null;
    // a Rust `Option<i64>` may be omitted. The spec the model sees is the same either way.
    let run = run::<WithOptional>(vec![tool_use("so1", "WithOptional", &json!({}))], false).await;
    assert_eq!(
        run.result.unwrap().to_string(),
        r#"{"note":null,"amount":null,"required_nullable":null}"#
    );
}

// ---------------------------------------------------------------------------------------------
// The recorded structured-output scenarios, replayed with `Weather`

fn script(fixture: &Value) -> Vec<Step> {
    fixture["model_script"]
        .as_array()
        .unwrap()
        .iter()
        .map(|step| {
            Step::Events(
                serde_json::from_value::<Vec<StreamEvent>>(step["events"].clone()).unwrap(),
            )
        })
        .collect()
}

async fn replay(name: &str) {
    let fixture = load(name);
    assert_eq!(
        fixture["invoke_kwargs"][0]["structured_output_model"],
        "Weather"
    );
    let tools = fixture["agent"]["tools"].as_array().map_or(3, Vec::len);
    assert!(tools >= 2, "{name}: the agent has tools");
    let run = run::<Weather>(script(&fixture), true).await;
    let expected = &fixture["expected"]["invocations"][0];

    // The output tool comes after the agent's tools, exactly as Python sends it.
    let python_specs = fixture["expected"]["model_calls"][0]["tool_specs"]
        .as_array()
        .unwrap();
    assert_eq!(
        serde_json::to_string(run.specs.last().unwrap()).unwrap(),
        serde_json::to_string(python_specs.last().unwrap()).unwrap(),
        "{name}: output tool spec"
    );

    let python_results: Vec<&Value> = fixture["expected"]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|m| m["content"].as_array().unwrap())
        .filter(|block| block.get("toolResult").is_some())
        .collect();
    let rust_results: Vec<&Value> = run.tool_results.iter().collect();
    assert_eq!(rust_results, python_results, "{name}: tool results");

    match (&run.error, expected["error"].is_null()) {
        (None, true) => {
            let result = run.result.unwrap();
            assert_eq!(
                serde_json::to_value(result.stop_reason).unwrap(),
                expected["stop_reason"],
                "{name}"
            );
            assert_eq!(
                result.structured_output.as_ref(),
                Some(&expected["structured_output"]),
                "{name}"
            );
            assert_eq!(
                result.to_string(),
                expected["result_text"].as_str().unwrap(),
                "{name}"
            );
        }
        (Some(AgentError::StructuredOutput { tool_name, .. }), false) => {
            assert_eq!(expected["error"]["type"], "StructuredOutputException");
            assert_eq!(tool_name, "Weather");
        }
        (error, _) => panic!("{name}: {error:?} where Python had {}", expected["error"]),
    }
}

#[tokio::test]
async fn omitted_defaults_are_filled_in_the_value() {
    replay("structured_output_defaults_omitted").await;
}

#[tokio::test]
async fn integer_for_a_float_field_becomes_a_float() {
    replay("structured_output_int_for_float").await;
}

#[tokio::test]
async fn numeric_string_for_a_float_field_is_accepted() {
    replay("structured_output_string_for_float").await;
}

#[tokio::test]
async fn invalid_output_lists_every_field_error_and_the_model_retries() {
    replay("structured_output_invalid_then_valid").await;
}

#[tokio::test]
async fn output_tool_call_ends_the_invocation() {
    replay("structured_output_tool_call").await;
}

#[tokio::test]
async fn output_after_another_tool_is_validated() {
    replay("structured_output_after_tool").await;
}

#[tokio::test]
async fn output_beside_another_tool_in_one_message_is_validated() {
    replay("structured_output_with_tool_in_same_message").await;
}

#[tokio::test]
async fn forced_retry_answered_with_json_text_is_validated() {
    replay("structured_output_forced_json_text").await;
}

#[tokio::test]
async fn forced_retry_with_invalid_then_valid_output_is_validated() {
    replay("structured_output_forced_invalid_then_valid").await;
}

#[tokio::test]
async fn text_answer_gets_a_forced_retry() {
    replay("structured_output_text_then_forced").await;
}

#[tokio::test]
async fn forced_retry_answered_with_plain_text_fails() {
    replay("structured_output_forced_text_fails").await;
}

#[tokio::test]
async fn forced_retry_answered_with_an_invalid_json_object_fails() {
    replay("structured_output_forced_invalid_json_text").await;
}
