//! Structured output from a JSON schema known only at run time ([`OutputSchema::new`]), compared
//! with Python Strands 1.62: each pydantic model's own `model_json_schema()`, recorded in
//! `fixtures/parity/structured_output_schema.json`, must give the tool spec Python sends, the
//! value and `str(result)` Python returns, and Python's answer to every recorded invalid input.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers fail loudly"
)]

use std::sync::Arc;

use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use strands_agent::{Agent, AgentError, BuildError, OutputSchema};
use strands_core::ContentBlock;
use strands_testkit::{ScriptedModel, Step};

fn fixture() -> Value {
    let path = format!(
        "{}/tests/fixtures/parity/structured_output_schema.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn schema_of(fixture: &Value, model: &str) -> OutputSchema {
    OutputSchema::new(fixture["models"][model]["pydantic_json_schema"].clone())
        .unwrap_or_else(|e| panic!("{model}: {e}"))
}

/// Python's value without the fields a pydantic `Field(default_factory=...)` filled: the JSON
/// schema shows neither a default nor `required` for them, so a run-time schema leaves them out
/// when the model does (a deliberate difference, docs/python-parity.md). Returns the fields
/// removed.
fn without_factory_fields(value: &mut Value, schema: &Value) -> Vec<String> {
    let required = schema["required"].as_array().cloned().unwrap_or_default();
    let factory: Vec<String> = schema["properties"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(key, property)| {
            property.get("default").is_none() && !required.contains(&json!(key))
        })
        .map(|(key, _)| key.clone())
        .collect();
    for key in &factory {
        value.as_object_mut().unwrap().shift_remove(key);
    }
    factory
}

fn tool_use(id: &str, name: &str, input: &Value) -> Step {
    Step::Events(strands_testkit::tool_use_stream(&[(
        id,
        name,
        &input.to_string(),
    )]))
}

/// Runs one invocation with `schema` as the agent's default structured output (Python's
/// `Agent(structured_output_model=...)`), returning the model, the agent and the outcome.
async fn run_default(
    schema: OutputSchema,
    steps: Vec<Step>,
) -> (
    Arc<ScriptedModel>,
    Agent,
    Result<strands_agent::AgentResult, AgentError>,
) {
    let model = Arc::new(ScriptedModel::new(steps));
    let mut agent = Agent::builder()
        .shared_model(model.clone())
        .structured_output(schema)
        .build()
        .unwrap();
    let outcome = agent.invoke("go").await;
    (model, agent, outcome)
}

#[tokio::test]
async fn every_pydantic_schema_gives_pythons_spec_value_and_text() {
    let fixture = fixture();
    let models = fixture["models"].as_object().unwrap();
    assert_eq!(models.len(), 12);
    let mut factory_fields = Vec::new();
    for (name, python) in models {
        let schema = schema_of(&fixture, name);
        assert_eq!(schema.name(), name);
        let input = &python["run"]["input"];
        let (model, _, outcome) = run_default(schema, vec![tool_use("so1", name, input)]).await;
        let specs = model.requests()[0].tool_specs.clone().unwrap();
        assert_eq!(specs.len(), 1);
        let mut sent = serde_json::to_value(&specs[0]).unwrap();
        if name == "Documented" {
            // Python's tool description is the raw `__doc__`, source indentation included; the
            // JSON schema carries pydantic's cleaned docstring, which is all a schema can give.
            let description = sent["description"].as_str().unwrap().to_owned();
            assert!(description.contains("docstring.\n\nThe second"));
            sent["description"] = Value::String(description.replace("\n\nThe", "\n\n    The"));
        }
        assert_eq!(
            serde_json::to_string_pretty(&sent).unwrap(),
            serde_json::to_string_pretty(&python["sent"]).unwrap(),
            "{name}: the spec the model receives"
        );
        let result = outcome.unwrap_or_else(|e| panic!("{name}: {e}"));
        let mut expected = python["run"]["structured_output"].clone();
        let removed = without_factory_fields(&mut expected, &python["pydantic_json_schema"]);
        factory_fields.extend(removed.iter().map(|f| format!("{name}.{f}")));
        let expected_text = if removed.is_empty() {
            python["run"]["result_text"].as_str().unwrap().to_owned()
        } else {
            serde_json::to_string(&expected).unwrap()
        };
        assert_eq!(
            serde_json::to_string(result.structured_output.as_ref().unwrap()).unwrap(),
            serde_json::to_string(&expected).unwrap(),
            "{name}: value"
        );
        assert_eq!(result.to_string(), expected_text, "{name}: str(result)");
    }
    assert_eq!(
        factory_fields,
        ["WithDefaults.e", "Person.previous_addresses"]
    );
}

#[tokio::test]
async fn every_recorded_invalid_input_gets_pythons_answer() {
    let fixture = fixture();
    let cases = fixture["validation_cases"].as_array().unwrap();
    assert_eq!(cases.len(), 17);
    for case in cases {
        let name = case["model"].as_str().unwrap();
        let valid = &fixture["models"][name]["run"]["input"];
        let mut agent = Agent::builder()
            .model(ScriptedModel::new(vec![
                tool_use("so1", name, &case["input"]),
                tool_use("so2", name, valid),
            ]))
            .build()
            .unwrap();
        let value = agent
            .structured_output_value("go", &schema_of(&fixture, name))
            .await
            .unwrap_or_else(|e| panic!("{case}: {e}"));
        let first = agent
            .messages()
            .iter()
            .flat_map(|m| m.content.iter())
            .find_map(|block| match block {
                ContentBlock::ToolResult(result) => Some(serde_json::to_value(result).unwrap()),
                _ => None,
            })
            .unwrap();
        assert_eq!(first["status"], case["tool_result"]["status"], "{case}");
        assert_eq!(first["content"], case["tool_result"]["content"], "{case}");
        if !case["model_dump_json"].is_null() {
            let mut expected = case["value"].clone();
            without_factory_fields(
                &mut expected,
                &fixture["models"][name]["pydantic_json_schema"],
            );
            assert_eq!(value, expected, "{case}");
        }
    }
}

#[tokio::test]
async fn a_text_answer_is_forced_once_then_the_default_output_ends_the_invocation() {
    let fixture = fixture();
    let input = &fixture["models"]["Weather"]["run"]["input"];
    let steps = vec![
        Step::Events(strands_testkit::text_stream(
            &["It is mild in Oslo."],
            strands_core::StopReason::EndTurn,
        )),
        tool_use("so1", "Weather", input),
    ];
    let (model, agent, outcome) = run_default(schema_of(&fixture, "Weather"), steps).await;
    let result = outcome.unwrap();
    assert_eq!(
        result.structured_output.unwrap()["city"],
        input["city"],
        "the forced call's value"
    );
    let requests = model.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(
        serde_json::to_value(requests[1].tool_choice.as_ref().unwrap()).unwrap(),
        json!({"tool": {"name": "Weather"}})
    );
    // prompt, text, the structured-output prompt, the tool use and its result
    assert_eq!(agent.messages().len(), 5);
}

#[tokio::test]
async fn the_default_yields_to_the_shape_a_call_asks_for() {
    let fixture = fixture();
    let person = &fixture["models"]["Person"]["run"]["input"];
    let model = Arc::new(ScriptedModel::new(vec![tool_use("so1", "Person", person)]));
    let mut agent = Agent::builder()
        .shared_model(model.clone())
        .structured_output(schema_of(&fixture, "Weather"))
        .build()
        .unwrap();
    let value = agent
        .structured_output_value("go", &schema_of(&fixture, "Person"))
        .await
        .unwrap();
    assert_eq!(value["name"], "Ann");
    let specs = model.requests()[0].tool_specs.clone().unwrap();
    let names: Vec<_> = specs.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["Person"]);
}

#[test]
fn a_tool_named_as_the_output_is_refused_when_the_agent_is_built() {
    #[strands_agent::tool]
    /// Looks the weather up.
    fn weather(city: String) -> String {
        city
    }
    let schema =
        OutputSchema::new(json!({"title": "weather", "type": "object", "properties": {}})).unwrap();
    let error = Agent::builder()
        .model(ScriptedModel::new(Vec::<Step>::new()))
        .tool(weather)
        .structured_output(schema)
        .build()
        .unwrap_err();
    assert!(
        matches!(error, BuildError::DuplicateToolName { ref name, .. } if name == "weather"),
        "{error}"
    );
}

#[test]
fn schemas_that_cannot_describe_an_output_name_the_key_and_the_fix() {
    let cases = [
        (json!([1]), "the schema must be a JSON object"),
        (
            json!({"title": "P", "type": "array"}),
            "type: a structured output is an object",
        ),
        (
            json!({"type": "object", "properties": {}}),
            "title: missing; it names the tool",
        ),
        (
            json!({"title": "P", "type": "object", "properties": {"age": {"type": "int"}}}),
            "properties.age.type: \"int\" is not a JSON schema type; use one of string, number",
        ),
        (
            json!({"title": "P", "type": "object", "properties": {"a": {"$ref": "#/$defs/A"}}}),
            "",
        ),
        (
            json!({"title": "P", "type": "object",
                   "properties": {"a": {"$ref": "#/$defs/A"}},
                   "$defs": {"A": {"type": "object", "properties": {"a": {"$ref": "#/$defs/A"}}}}}),
            "recursive types cannot be structured output",
        ),
    ];
    for (schema, expected) in cases {
        let shown = schema.to_string();
        let error = OutputSchema::new(schema)
            .err()
            .unwrap_or_else(|| panic!("accepted: {shown}"))
            .to_string();
        assert!(error.starts_with(expected), "{shown}\n  got: {error}");
        assert!(!error.contains('\n'), "{error}");
    }
    let mut deep = json!({"type": "string"});
    for _ in 0..40 {
        deep = json!({"type": "object", "properties": {"x": deep}});
    }
    deep["title"] = json!("Deep");
    let error = OutputSchema::new(deep).unwrap_err().to_string();
    assert!(error.contains("deeper than 32 levels"), "{error}");
}
