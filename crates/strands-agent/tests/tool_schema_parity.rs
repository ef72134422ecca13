//! `#[tool]` compared with Python's `@tool` (`fixtures/parity/tool_schemas.json` and
//! `tool_schema_arguments.json`): the spec the model receives for Rust functions equivalent to
//! the ones in `generate.py`, and what the functions receive (defaults, conversions) or the
//! validation error the model gets.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::needless_pass_by_value,
    reason = "test helpers fail loudly; tool functions take owned arguments"
)]

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use pretty_assertions::assert_eq;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use strands_agent::{Agent, tool};
use strands_core::{ContentBlock, StreamEvent, Tool};
use strands_testkit::{ScriptedModel, Step};

// ---------------------------------------------------------------------------------------------
// The `@tool` functions of generate.py, in Rust. Each echoes the arguments it received.

fn echo(args: Value) -> String {
    json!({ "args": args }).to_string()
}

/// Echo arguments that have defaults.
///
/// Args:
///     a: required integer
///     b: integer with a default
///     c: string with a default
///     d: optional string
#[tool]
fn with_defaults(
    a: i64,
    #[tool(default = 5)] b: i64,
    #[tool(default = "x")] c: String,
    d: Option<String>,
) -> String {
    echo(json!({"a": a, "b": b, "c": c, "d": d}))
}

// `Literal["a", "b"]`: an inline enum.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[schemars(inline)]
enum Mode {
    A,
    B,
}

/// Pick a mode.
///
/// Args:
///     mode: which mode
#[tool]
fn literal_arg(mode: Mode) -> String {
    echo(json!({ "mode": mode }))
}

// `class Color(str, Enum)`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
enum Color {
    Red,
    Green,
}

/// Pick a color.
///
/// Args:
///     color: the color
#[tool]
fn enum_arg(color: Color) -> String {
    echo(json!({ "color": color }))
}

/// Take lists.
///
/// Args:
///     values: integers
///     names: optional names
#[tool]
fn list_arg(values: Vec<i64>, names: Option<Vec<String>>) -> String {
    echo(json!({"values": values, "names": names}))
}

/// A postal address.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
struct Address {
    street: String,
    /// City name
    city: String,
    zip: Option<String>,
}

/// Take a pydantic model.
///
/// Args:
///     address: where to go
///     backup: optional fallback address
#[tool]
fn nested_model_arg(address: Address, backup: Option<Address>) -> String {
    echo(json!({"address": address, "backup": backup}))
}

// A `TypedDict`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
struct Point {
    x: i64,
    y: i64,
}

/// Take a TypedDict.
///
/// Args:
///     point: a point
#[tool]
fn typed_dict_arg(point: Point) -> String {
    echo(json!({ "point": point }))
}

// `int | str`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(untagged)]
#[schemars(inline)]
enum IntOrStr {
    Int(i64),
    Str(String),
}

/// Take a dict, a union and a required nullable.
///
/// Args:
///     data: a mapping
///     either: an int or a string
///     maybe: required but nullable
#[tool]
fn dict_and_union_arg(data: BTreeMap<String, i64>, either: IntOrStr, maybe: Option<i64>) -> String {
    echo(json!({"data": data, "either": either, "maybe": maybe}))
}

/// Annotated and Field descriptions.
///
/// Args:
///     x: x from Annotated
///     y: y from Field
///     z: a float with a default
#[tool]
fn annotated_and_field(
    x: i64,
    #[tool(default = 3)]
    #[schemars(range(min = 0))]
    y: i64,
    #[tool(default = 1.5)] z: f64,
) -> String {
    echo(json!({"x": x, "y": y, "z": z}))
}

#[tool]
fn no_docstring(x: i64, y: String) -> String {
    echo(json!({"x": x, "y": y}))
}

/// Search for something.
///
/// Longer explanation on a second paragraph.
///
/// Args:
///     q: the query
///         continued on the next line
///
/// Returns:
///     The matches.
///
/// Raises:
///     ValueError: never
#[tool]
fn docstring_sections(q: String) -> String {
    echo(json!({ "q": q }))
}

/// Original docstring.
///
/// Args:
///     v: a value
#[tool(name = "renamed_tool", description = "Custom description")]
fn custom_name_and_description(v: i64) -> String {
    echo(json!({ "v": v }))
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

/// The spec as the model receives it, byte for byte (key order included).
fn sent(tool: &dyn Tool) -> String {
    serde_json::to_string_pretty(tool.spec()).unwrap()
}

fn python(name: &str) -> Value {
    load("tool_schemas")["tools"][name].clone()
}

fn assert_same_spec(tool: &dyn Tool, name: &str) {
    assert_eq!(
        sent(tool),
        serde_json::to_string_pretty(&python(name)).unwrap(),
        "{name}"
    );
}

// ---------------------------------------------------------------------------------------------
// Specs

#[test]
fn fixture_tools_specs_equal_python() {
    assert_same_spec(&common::add, "add");
    assert_same_spec(&common::fail, "fail");
}

#[test]
fn tool_without_arguments_has_python_empty_schema() {
    // `stop_now` in Python takes only the tool context.
    /// Cancels the agent, then returns.
    #[tool]
    fn stop_now(_context: strands_core::ToolContext) -> &'static str {
        "stopping"
    }
    assert_same_spec(&stop_now, "stop_now");
}

#[test]
fn defaults_appear_as_python_defaults_and_are_not_required() {
    assert_same_spec(&with_defaults, "with_defaults");
}

#[test]
fn inline_enum_is_a_literal_list() {
    assert_same_spec(&literal_arg, "literal_arg");
}

#[test]
fn referenced_enum_is_inlined_where_python_refers_to_defs() {
    // Python shows an `Enum` class as `{"$ref": "#/$defs/Color"}` beside `$defs`; a Rust enum
    // argument is always shown inline, as Python shows a `Literal`.
    let mut expected = python("enum_arg");
    expected["inputSchema"]["json"] = json!({
        "properties": {
            "color": {"description": "the color", "enum": ["red", "green"], "type": "string"}
        },
        "required": ["color"],
        "type": "object"
    });
    assert_eq!(
        sent(&enum_arg),
        serde_json::to_string_pretty(&expected).unwrap()
    );
}

#[test]
fn lists_and_optional_lists_equal_python() {
    assert_same_spec(&list_arg, "list_arg");
}

#[test]
fn struct_arguments_are_pydantic_definitions() {
    assert_same_spec(&nested_model_arg, "nested_model_arg");
    assert_same_spec(&typed_dict_arg, "typed_dict_arg");
}

#[test]
fn map_and_union_equal_python_but_option_is_never_required() {
    // Python's `maybe: Optional[int]` without a default is required and nullable; a Rust
    // `Option<i64>` may be omitted, like Python's `Optional[int] = None`.
    let mut expected = python("dict_and_union_arg");
    let schema = &mut expected["inputSchema"]["json"];
    schema["properties"]["maybe"] =
        json!({"default": null, "description": "required but nullable", "type": "integer"});
    schema["required"] = json!(["data", "either"]);
    assert_eq!(
        sent(&dict_and_union_arg),
        serde_json::to_string_pretty(&expected).unwrap()
    );
}

#[test]
fn schemars_attributes_add_constraints_like_pydantic_field() {
    assert_same_spec(&annotated_and_field, "annotated_and_field");
}

#[test]
fn undocumented_tool_is_described_by_its_name() {
    assert_same_spec(&no_docstring, "no_docstring");
}

#[test]
fn returns_and_raises_stay_in_the_description_and_continuations_keep_line_breaks() {
    assert_same_spec(&docstring_sections, "docstring_sections");
}

#[test]
fn name_and_description_arguments_equal_python() {
    assert_same_spec(&custom_name_and_description, "renamed_tool");
}

// ---------------------------------------------------------------------------------------------
// The recorded calls: what each function received, or the error the model got

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

#[tokio::test]
async fn recorded_calls_receive_pythons_arguments_or_pythons_errors() {
    let fixture = load("tool_schema_arguments");
    let model = Arc::new(ScriptedModel::new(script(&fixture)));
    let mut agent = Agent::builder()
        .shared_model(model.clone())
        .tool(common::add)
        .tool(common::fail)
        .tool(with_defaults)
        .tool(literal_arg)
        .tool(enum_arg)
        .tool(list_arg)
        .tool(nested_model_arg)
        .tool(typed_dict_arg)
        .tool(dict_and_union_arg)
        .tool(annotated_and_field)
        .tool(no_docstring)
        .tool(docstring_sections)
        .tool(custom_name_and_description)
        .build()
        .unwrap();
    agent.invoke("go").await.unwrap();

    let results = |messages: &[Value]| -> Vec<Value> {
        messages
            .iter()
            .flat_map(|m| m["content"].as_array().unwrap().clone())
            .filter_map(|block| block.get("toolResult").cloned())
            .collect()
    };
    let python = results(fixture["expected"]["messages"].as_array().unwrap());
    let rust: Vec<Value> = agent
        .messages()
        .iter()
        .flat_map(|m| m.content.iter())
        .filter_map(|block| match block {
            ContentBlock::ToolResult(r) => Some(serde_json::to_value(r).unwrap()),
            _ => None,
        })
        .collect();
    assert_eq!(rust.len(), python.len());
    for (rust, python) in rust.iter().zip(&python) {
        let id = &python["toolUseId"];
        assert_eq!(rust["toolUseId"], *id);
        assert_eq!(rust["status"], python["status"], "{id}");
        let rust_text = rust["content"][0]["text"].as_str().unwrap();
        let python_text = python["content"][0]["text"].as_str().unwrap();
        if python["status"] == "success" {
            // Python echoes `{"args": ..., "types": ...}`; the arguments must be the same.
            let python_args = &serde_json::from_str::<Value>(python_text).unwrap()["args"];
            let rust_args = &serde_json::from_str::<Value>(rust_text).unwrap()["args"];
            assert_eq!(rust_args, python_args, "{id}");
        } else {
            assert_eq!(rust_text, python_text, "{id}");
        }
    }
}
