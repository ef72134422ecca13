//! OAuth client credentials against the fake Gateway with an OAuth authorizer
//! (strands-testkit): the token endpoint discovered from the 401 challenge as the MCP
//! authorization spec orders it, the grant as Python's `ClientCredentialsOAuthProvider` sends
//! it, a token renewed before it expires, a revoked token replaced within the same call, and
//! refused credentials reported without the secret.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

use std::time::Duration;

use serde_json::json;
use strands_core::CancellationToken;
use strands_mcp::{ClientCredentials, McpClient, McpTransport};
use strands_testkit::bedrock::AuthOutcome;
use strands_testkit::gateway::FakeGateway;

mod common;

use common::{call, find};

const CLIENT_ID: &str = "agent client";
const SECRET: &str = "oauth-test-secret/with:odd+chars";

fn client(gateway: &FakeGateway, secret: &str) -> McpClient {
    McpClient::builder("gateway", McpTransport::http(gateway.url()))
        .oauth(
            ClientCredentials::new(CLIENT_ID, secret)
                .scopes(["ignored:when-the-server-names-some"]),
        )
        .call_timeout(Duration::from_secs(5))
        .startup_timeout(Duration::from_secs(5))
        .start()
}

fn token_requests(gateway: &FakeGateway) -> usize {
    gateway
        .oauth_requests()
        .iter()
        .filter(|r| r.path == "/token")
        .count()
}

async fn forecast(client: &McpClient) -> serde_json::Value {
    let tools = client.tools();
    let tool = find(&tools, "weather___get_forecast");
    call(&*tool, json!({"city": "Lima"}), CancellationToken::new())
        .await
        .1
}

#[tokio::test]
async fn the_token_endpoint_is_discovered_from_the_challenge_and_the_grant_is_pythons() {
    let gateway = FakeGateway::start_oauth(CLIENT_ID, SECRET, Duration::from_secs(3600))
        .await
        .unwrap();
    let client = client(&gateway, SECRET);
    client.ready().await.unwrap();
    assert_eq!(forecast(&client).await["status"], "success");

    let oauth = gateway.oauth_requests();
    let paths: Vec<&str> = oauth.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/.well-known/oauth-protected-resource/mcp",
            "/.well-known/oauth-authorization-server",
            "/token"
        ]
    );
    let grant = &oauth[2];
    // client_secret_basic with the id and secret percent-encoded (RFC 6749 2.3.1), the resource
    // (RFC 8707) and the scope the resource metadata names.
    assert_eq!(
        grant.basic.as_deref(),
        Some(format!("{CLIENT_ID}:{SECRET}").as_str())
    );
    assert_eq!(grant.form["grant_type"], "client_credentials");
    assert_eq!(grant.form["resource"], gateway.url());
    assert_eq!(grant.form["scope"], "gateway:invoke");
    assert!(!grant.form.contains_key("client_secret"));
    // One unauthenticated request drew the challenge; every other one carried the token.
    let refused: Vec<_> = gateway
        .requests()
        .into_iter()
        .filter(|r| r.auth != AuthOutcome::Accepted)
        .collect();
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(refused[0].method, "initialize");
    assert_eq!(refused[0].auth, AuthOutcome::Missing);
    client.stop().await;
}

#[tokio::test]
async fn a_token_is_renewed_before_it_expires_and_a_revoked_one_within_the_call() {
    let gateway = FakeGateway::start_oauth(CLIENT_ID, SECRET, Duration::from_secs(2))
        .await
        .unwrap();
    let client = client(&gateway, SECRET);
    client.ready().await.unwrap();
    assert_eq!(token_requests(&gateway), 1);
    // Renewed halfway through its two seconds, before the server would refuse it.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let refusals_before = gateway
        .requests()
        .iter()
        .filter(|r| r.auth != AuthOutcome::Accepted)
        .count();
    assert_eq!(forecast(&client).await["status"], "success");
    assert_eq!(token_requests(&gateway), 2);
    let refusals = gateway
        .requests()
        .iter()
        .filter(|r| r.auth != AuthOutcome::Accepted)
        .count();
    assert_eq!(refusals, refusals_before, "the expiring token was sent");

    // Revoked on the server: the call is refused once, a new token is fetched, the call is
    // sent again and succeeds; the model never sees the refusal.
    gateway.revoke_tokens();
    assert_eq!(forecast(&client).await["status"], "success");
    assert_eq!(token_requests(&gateway), 3);
    let last_two: Vec<AuthOutcome> = gateway
        .requests()
        .iter()
        .rev()
        .take(2)
        .map(|r| r.auth)
        .collect();
    assert_eq!(
        last_two,
        [AuthOutcome::Accepted, AuthOutcome::UnrecognizedClient]
    );
    client.stop().await;
}

#[tokio::test]
async fn refused_credentials_fail_the_connection_with_the_reason_and_no_secret() {
    let gateway = FakeGateway::start_oauth(CLIENT_ID, SECRET, Duration::from_secs(3600))
        .await
        .unwrap();
    let wrong = "wrong-secret-value-123";
    let client = client(&gateway, wrong);
    let error = client.ready().await.unwrap_err().to_string();
    assert!(
        error.contains("refused the client credentials: HTTP 401 (invalid_client)"),
        "{error}"
    );
    assert!(!error.contains(wrong) && !error.contains(SECRET), "{error}");
    client.stop().await;
}
