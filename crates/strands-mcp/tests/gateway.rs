//! strands-mcp against a fake AgentCore Gateway (strands-testkit): streamable HTTP signed with
//! SigV4 for `bedrock-agentcore`, or a bearer token; paginated listing; the semantic search
//! tool; rotated credentials; and the faults a Gateway can answer with (5xx, 4xx, a body that
//! is not JSON-RPC, no answer), each a tool error the model sees, after which calls work again.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_credential_types::Credentials;
use aws_credential_types::provider::{ProvideCredentials, future};
use serde_json::{Value, json};
use strands_core::{CancellationToken, Tool};
use strands_mcp::{McpClient, McpError, McpTransport, SigV4Signer};
use strands_testkit::bedrock::{AuthOutcome, FakeAuth};
use strands_testkit::gateway::{FakeGateway, Fault, SEARCH_TOOL};

mod common;

use common::{call, find};

const AKID: &str = "AKIDGATEWAYTEST00001";
const SECRET: &str = "gateway-test-secret-0000000000000000000";

/// Credentials a test can rotate.
#[derive(Debug, Clone)]
struct Rotating(Arc<Mutex<Credentials>>);

impl ProvideCredentials for Rotating {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::ready(Ok(self.0.lock().unwrap().clone()))
    }
}

fn credentials(akid: &str, secret: &str) -> Credentials {
    Credentials::new(akid, secret, None, None, "test")
}

fn signed_client(gateway: &FakeGateway, provider: impl ProvideCredentials + 'static) -> McpClient {
    McpClient::builder("gateway", McpTransport::http(gateway.url()))
        .sigv4(SigV4Signer::agentcore(provider, "us-east-1"))
        .call_timeout(Duration::from_secs(2))
        .start()
}

async fn answer(tools: &[Arc<dyn Tool>], name: &str, input: Value) -> Value {
    call(&*find(tools, name), input, CancellationToken::new())
        .await
        .1
}

/// Calls until the client has reconnected and the call succeeds (at most 10 s).
async fn answer_once_back(client: &McpClient, name: &str, input: Value) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let result = answer(&client.tools(), name, input.clone()).await;
        if result["status"] == "success" || Instant::now() > deadline {
            return result;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn sigv4_signed_requests_list_every_page_and_call_tools() {
    let gateway = FakeGateway::start(FakeAuth::sigv4(AKID, SECRET))
        .await
        .unwrap();
    let client = signed_client(&gateway, credentials(AKID, SECRET));
    let tools = client.load_tools().await.unwrap();
    let names: Vec<&str> = tools.iter().map(|t| t.name()).collect();
    // Four tools over two pages: nextCursor was followed.
    assert_eq!(
        names,
        [
            "weather___get_forecast",
            "weather___get_alerts",
            "orders___lookup_order",
            SEARCH_TOOL
        ]
    );
    assert_eq!(
        answer(&tools, "weather___get_forecast", json!({"city": "Paris"})).await,
        json!({"toolUseId": "m1", "status": "success", "content": [{"text": "Forecast for Paris: sunny, 21 C"}]})
    );
    // The semantic search tool answers like the Gateway's: the matching tools' definitions.
    let found = answer(&tools, SEARCH_TOOL, json!({"query": "weather in Tokyo"})).await;
    let listed: Value =
        serde_json::from_str(found["content"][0]["text"].as_str().unwrap()).unwrap();
    let matched: Vec<&str> = listed["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(matched, ["weather___get_forecast", "weather___get_alerts"]);

    let requests = gateway.requests();
    assert!(
        requests.iter().all(|r| r.auth == AuthOutcome::Accepted),
        "{requests:?}"
    );
    let methods: Vec<&str> = requests.iter().map(|r| r.method.as_str()).collect();
    assert_eq!(
        methods,
        [
            "initialize",
            "notifications/initialized",
            "tools/list",
            "tools/list",
            "tools/call",
            "tools/call"
        ]
    );
    client.stop().await;
}

#[tokio::test]
async fn a_wrong_signature_is_refused_and_rotated_credentials_are_picked_up() {
    let gateway = FakeGateway::start(FakeAuth::sigv4(AKID, SECRET))
        .await
        .unwrap();
    let wrong = signed_client(
        &gateway,
        credentials(AKID, "not-the-secret-000000000000000000000000"),
    );
    let error = wrong.ready().await.unwrap_err();
    assert!(
        matches!(&error, McpError::Unavailable { reason, .. } if reason.contains("403")),
        "{error}"
    );
    assert!(!error.to_string().contains("not-the-secret"), "{error}");
    assert!(
        gateway
            .requests()
            .iter()
            .all(|r| r.auth == AuthOutcome::InvalidSignature)
    );
    wrong.stop().await;

    // Keys rotated on both sides: the refused call makes the client resolve them again.
    let keys = Arc::new(Mutex::new(credentials(AKID, SECRET)));
    let client = signed_client(&gateway, Rotating(keys.clone()));
    client.ready().await.unwrap();
    *keys.lock().unwrap() = credentials(
        "AKIDGATEWAYTEST00002",
        "rotated-secret-000000000000000000000000",
    );
    gateway.set_auth(FakeAuth::sigv4(
        "AKIDGATEWAYTEST00002",
        "rotated-secret-000000000000000000000000",
    ));
    let refused = answer(
        &client.tools(),
        "orders___lookup_order",
        json!({"order_id": "7"}),
    )
    .await;
    assert_eq!(refused["status"], "error", "{refused}");
    let result = answer_once_back(&client, "orders___lookup_order", json!({"order_id": "7"})).await;
    assert_eq!(
        result["content"],
        json!([{"text": "Order 7: shipped"}]),
        "{result}"
    );
    client.stop().await;
}

#[tokio::test]
async fn a_bearer_token_in_the_headers_is_accepted() {
    let gateway = FakeGateway::start(FakeAuth::Bearer("gateway-jwt-token".to_owned()))
        .await
        .unwrap();
    let client = McpClient::builder(
        "gateway",
        McpTransport::http(gateway.url()).header("Authorization", "Bearer gateway-jwt-token"),
    )
    .start();
    let tools = client.load_tools().await.unwrap();
    let result = answer(&tools, "weather___get_alerts", json!({"area": "Alps"})).await;
    assert_eq!(
        result["content"],
        json!([{"text": "No weather alerts for Alps"}])
    );
    client.stop().await;
}

#[tokio::test]
async fn gateway_faults_become_tool_errors_and_calls_work_again() {
    let gateway = FakeGateway::start(FakeAuth::sigv4(AKID, SECRET))
        .await
        .unwrap();
    let client = signed_client(&gateway, credentials(AKID, SECRET));
    client.ready().await.unwrap();
    for fault in [
        Fault::Status(500),
        Fault::Status(429),
        Fault::Status(400),
        Fault::Malformed,
        Fault::Hang,
    ] {
        gateway.fault(fault.clone());
        let started = Instant::now();
        let failed = answer(
            &client.tools(),
            "weather___get_forecast",
            json!({"city": "Oslo"}),
        )
        .await;
        assert_eq!(failed["status"], "error", "{fault:?}: {failed}");
        let text = failed["content"][0]["text"].as_str().unwrap();
        assert!(
            text.starts_with("Tool execution failed: "),
            "{fault:?}: {text}"
        );
        // A server that never answers costs the call timeout (2 s), no more.
        assert!(
            started.elapsed() < Duration::from_secs(4),
            "{fault:?}: {:?}",
            started.elapsed()
        );
        let result =
            answer_once_back(&client, "weather___get_forecast", json!({"city": "Oslo"})).await;
        assert_eq!(
            result["content"],
            json!([{"text": "Forecast for Oslo: sunny, 21 C"}]),
            "after {fault:?}"
        );
    }
    client.stop().await;
}
