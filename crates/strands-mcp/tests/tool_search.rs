//! AgentCore Gateway's semantic tool search as an agent's tool loader, against the fake Gateway
//! (strands-testkit, SigV4 checked): the intent stated by the agent's model as Python's
//! `AgentCoreToolSearchPlugin` states it, the tools found offered to the model and called on the
//! Gateway, replaced at the next invocation, kept when continuing; a failed, hung or empty
//! search loads no tools and the invocation goes on.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_credential_types::Credentials;
use serde_json::{Value, json};
use strands_agent::{Agent, tool};
use strands_core::{ContentBlock, Message, Role};
use strands_mcp::search::{INTENT_SYSTEM_PROMPT, ModelIntent, UserTextIntent};
use strands_mcp::{McpClient, McpTransport, SigV4Signer, ToolFilters, ToolSearch};
use strands_testkit::ScriptedModel;
use strands_testkit::bedrock::FakeAuth;
use strands_testkit::gateway::{FakeGateway, Fault, SEARCH_TOOL};

const AKID: &str = "AKIDGATEWAYSEARCH001";
const SECRET: &str = "gateway-search-secret-00000000000000000";

async fn gateway() -> FakeGateway {
    FakeGateway::start(FakeAuth::sigv4(AKID, SECRET))
        .await
        .unwrap()
}

fn client(gateway: &FakeGateway) -> strands_mcp::McpClientBuilder {
    McpClient::builder("gateway", McpTransport::http(gateway.url()))
        .sigv4(SigV4Signer::agentcore(
            Credentials::new(AKID, SECRET, None, None, "test"),
            "us-east-1",
        ))
        .call_timeout(Duration::from_secs(5))
}

/// The names of the tools offered in each model request.
fn offered(model: &ScriptedModel) -> Vec<Vec<String>> {
    model
        .requests()
        .iter()
        .map(|r| {
            r.tool_specs
                .iter()
                .flatten()
                .map(|s| s.name.clone())
                .collect()
        })
        .collect()
}

/// The queries the Gateway's search tool was called with.
fn queries(gateway: &FakeGateway) -> Vec<String> {
    gateway
        .requests()
        .iter()
        .filter(|r| r.method == "tools/call" && r.params["name"] == SEARCH_TOOL)
        .map(|r| r.params["arguments"]["query"].as_str().unwrap().to_owned())
        .collect()
}

/// The text of the tool results in `messages`.
fn tool_results(messages: &[Message]) -> Vec<Value> {
    messages
        .iter()
        .flat_map(|m| &m.content)
        .filter_map(|block| match block {
            ContentBlock::ToolResult(result) => Some(serde_json::to_value(result).unwrap()),
            _ => None,
        })
        .collect()
}

/// Tells the time (a tool of the agent's own).
#[tool]
async fn clock() -> String {
    "12:00".to_owned()
}

#[tokio::test]
async fn the_model_states_the_intent_and_only_the_tools_found_are_offered_then_replaced() {
    let gateway = gateway().await;
    let client = client(&gateway).start();
    let model = Arc::new(
        ScriptedModel::builder()
            // Invocation 1: the intent, a call of a found tool, the answer.
            .text("Get the weather forecast for a city")
            .tool_use("t1", "weather___get_forecast", r#"{"city": "Paris"}"#)
            .text("Sunny in Paris.")
            // Invocation 2: another intent replaces the tools.
            .text("Look up an order")
            .text("Which order?")
            // Continuing without input: no intent, the tools are kept.
            .text("Still here.")
            .build(),
    );
    let mut agent = Agent::builder()
        .shared_model(model.clone())
        .tool(clock)
        .tool_loader(ToolSearch::new(client.clone()))
        .build()
        .unwrap();

    let result = agent
        .invoke("What's the weather like in Paris today?")
        .await
        .unwrap();
    assert_eq!(result.to_string(), "Sunny in Paris.\n");
    let requests = model.requests();
    // Python's StrandsIntentProvider: its system prompt, no tools, the user's text only.
    assert_eq!(
        requests[0].system_prompt.as_deref(),
        Some(INTENT_SYSTEM_PROMPT)
    );
    assert!(requests[0].tool_specs.is_none());
    assert_eq!(
        requests[0].messages,
        [Message::user("What's the weather like in Paris today?")]
    );
    assert_eq!(queries(&gateway), ["Get the weather forecast for a city"]);
    let offered_now = offered(&model);
    assert_eq!(
        offered_now[1],
        ["clock", "weather___get_forecast", "weather___get_alerts"]
    );
    assert_eq!(offered_now[2], offered_now[1]);
    let results = tool_results(agent.messages());
    assert_eq!(results[0]["status"], "success");
    assert_eq!(
        results[0]["content"][0]["text"],
        "Forecast for Paris: sunny, 21 C"
    );
    let names: Vec<&str> = agent.tools().map(|t| t.name()).collect();
    assert_eq!(
        names,
        ["clock", "weather___get_forecast", "weather___get_alerts"]
    );

    let result = agent.invoke("Where is my order?").await.unwrap();
    assert_eq!(result.to_string(), "Which order?\n");
    // The intent sees the new input only (Python: `BeforeInvocationEvent.messages`).
    assert_eq!(
        model.requests()[3].messages,
        [Message::user("Where is my order?")]
    );
    assert_eq!(offered(&model)[4], ["clock", "orders___lookup_order"]);

    let result = agent.invoke(()).await;
    // The history ends with the assistant: continuing calls the model with the same tools.
    assert_eq!(result.unwrap().to_string(), "Still here.\n");
    assert_eq!(offered(&model)[5], ["clock", "orders___lookup_order"]);
    assert_eq!(queries(&gateway).len(), 2, "continuing searched again");
    client.stop().await;
}

#[tokio::test]
async fn found_tools_take_the_prefix_and_filters_and_never_replace_the_agents_own() {
    let gateway = gateway().await;
    let client = client(&gateway)
        .prefix("gw")
        .filters(
            ToolFilters::new()
                .reject_regex("^weather___get_alerts")
                .unwrap(),
        )
        .start();
    let model = Arc::new(
        ScriptedModel::builder()
            .tool_use("t1", "gw_weather___get_forecast", r#"{"city": "Oslo"}"#)
            .text("Done.")
            .build(),
    );
    /// A tool named like a prefixed Gateway tool: the agent's own wins.
    #[tool(name = "gw_orders___lookup_order")]
    async fn own_lookup(order_id: String) -> String {
        format!("own {order_id}")
    }
    let mut agent = Agent::builder()
        .shared_model(model.clone())
        .tool(own_lookup)
        .tool_loader(ToolSearch::new(client.clone()).intent(UserTextIntent::new()))
        .build()
        .unwrap();
    agent
        .invoke("weather forecast and order status")
        .await
        .unwrap();
    // No model call for the intent: the user's words are the query.
    assert_eq!(queries(&gateway), ["weather forecast and order status"]);
    let offered = offered(&model);
    assert_eq!(
        offered[0],
        ["gw_orders___lookup_order", "gw_weather___get_forecast"]
    );
    let results = tool_results(agent.messages());
    assert_eq!(
        results[0]["content"][0]["text"],
        "Forecast for Oslo: sunny, 21 C"
    );
    let calls: Vec<String> = gateway
        .requests()
        .iter()
        .filter(|r| r.method == "tools/call")
        .map(|r| r.params["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(calls, [SEARCH_TOOL, "weather___get_forecast"]);
    client.stop().await;
}

#[tokio::test]
async fn a_failed_hung_or_empty_search_loads_no_tools_and_the_invocation_goes_on() {
    let gateway = gateway().await;
    let client = client(&gateway).start();
    client.ready().await.unwrap();
    let model = Arc::new(
        ScriptedModel::builder()
            .text("first")
            .text("second")
            .text("third")
            .text("fourth")
            .build(),
    );
    let mut agent = Agent::builder()
        .shared_model(model.clone())
        .tool(clock)
        .tool_loader(
            ToolSearch::new(client.clone())
                .intent(UserTextIntent::new())
                .timeout(Duration::from_millis(500)),
        )
        .build()
        .unwrap();

    // Found tools, then a 500 from the Gateway: Python clears the tools and goes on.
    agent.invoke("weather alerts").await.unwrap();
    gateway.fault(Fault::Status(500));
    agent.invoke("weather alerts again").await.unwrap();
    // A search that never answers costs the timeout, no more.
    gateway.fault(Fault::Hang);
    let started = Instant::now();
    agent.invoke("weather alerts once more").await.unwrap();
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(500), "{waited:?}");
    assert!(waited < Duration::from_secs(3), "{waited:?}");
    // Nothing matches: no tools but the agent's own.
    agent.invoke("zz").await.unwrap();
    let offered = offered(&model);
    assert_eq!(
        offered[0],
        ["clock", "weather___get_forecast", "weather___get_alerts"]
    );
    assert_eq!(offered[1], ["clock"]);
    assert_eq!(offered[2], ["clock"]);
    assert_eq!(offered[3], ["clock"]);
    // History stayed valid: four prompts, four answers.
    let roles: Vec<Role> = agent.messages().iter().map(|m| m.role).collect();
    assert_eq!(roles, [Role::User, Role::Assistant].repeat(4));
    client.stop().await;
}

#[tokio::test]
async fn a_failed_intent_loads_no_tools_and_a_separate_intent_model_may_be_used() {
    let gateway = gateway().await;
    let client = client(&gateway).start();
    let intent_model = Arc::new(
        ScriptedModel::builder()
            .throttle("slow down")
            .text("  Look up an order  \n")
            .build(),
    );
    let model = Arc::new(ScriptedModel::builder().text("one").text("two").build());
    let intent = ModelIntent::new()
        .window(1)
        .system_prompt("State the task.")
        .model(intent_model.clone());
    let mut agent = Agent::builder()
        .shared_model(model.clone())
        .tool_loader(ToolSearch::new(client.clone()).intent(intent))
        .build()
        .unwrap();
    agent.invoke("order 42 please").await.unwrap();
    agent
        .invoke(vec![
            Message::user("ignored: outside the window"),
            Message::assistant("noted"),
            Message::new(
                Role::User,
                vec![
                    ContentBlock::Text("where is".into()),
                    ContentBlock::Text("order 42?".into()),
                ],
            ),
        ])
        .await
        .unwrap();
    // The throttled intent loaded nothing; the second was trimmed before the search.
    assert_eq!(queries(&gateway), ["Look up an order"]);
    let asked = intent_model.requests();
    assert_eq!(asked[1].system_prompt.as_deref(), Some("State the task."));
    assert_eq!(asked[1].messages, [Message::user("where is order 42?")]);
    let offered = offered(&model);
    assert!(offered[0].is_empty());
    assert_eq!(offered[1], ["orders___lookup_order"]);
    assert_eq!(json!(model.requests().len()), json!(2));
    client.stop().await;
}
