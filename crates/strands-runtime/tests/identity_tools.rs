//! Tools acting for the caller through `strands_runtime::identity`, served by the AgentCore
//! contract against the testkit's SigV4-checking fake AgentCore Identity: the invocation's
//! workload access token reaches Identity, user consent comes back to the caller as an
//! interrupt (JSON and streamed) and the tool resumes once the caller answers it, API keys and
//! M2M tokens reach the tool, and a refused request is a tool error without credentials in it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers fail loudly"
)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use base64::Engine as _;
use common::{Server, post, raw, trace_logs};
use serde_json::{Value, json};
use strands_agent::Agent;
use strands_agent::tools::FunctionTool;
use strands_core::{ToolContext, ToolSpec};
use strands_runtime::identity::{
    AgentCoreIdentity, IdentityError, OAuth2Request, RequiresAccessToken, RequiresApiKey,
    UserIdentifier,
};
use strands_runtime::{AgentCoreApp, AgentEntrypoint};
use strands_testkit::ScriptedModel;
use strands_testkit::bedrock::FakeAuth;
use strands_testkit::identity::FakeIdentity;

const KEY_ID: &str = "AKIDRUNTIME";
const SECRET: &str = "runtime-secret";
const CALLBACK: &str = "http://localhost:8081/oauth2/callback";

struct Fixture {
    fake: FakeIdentity,
    identity: AgentCoreIdentity,
}

async fn fixture() -> Fixture {
    let fake = FakeIdentity::start(FakeAuth::sigv4(KEY_ID, SECRET))
        .await
        .unwrap();
    fake.oauth2_provider("github", Duration::from_secs(3600));
    fake.oauth2_provider("crm", Duration::from_secs(3600));
    fake.api_key_provider("weather", "weather-key-42");
    let config = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            KEY_ID, SECRET, None, None, "test",
        )))
        .build();
    let identity =
        AgentCoreIdentity::from_conf_with_endpoints(&config, Some(fake.url()), Some(fake.url()));
    Fixture { fake, identity }
}

impl Drop for Fixture {
    /// Every credential of the test is one no log may hold (scripts/secrets-in-logs).
    fn drop(&mut self) {
        trace_logs::secret(SECRET);
        for credential in self.fake.issued() {
            trace_logs::secret(&credential);
        }
    }
}

impl Fixture {
    fn wat(&self, user: &str) -> String {
        self.fake.workload_access_token("support-agent", Some(user))
    }

    fn requests(&self, operation: &str) -> Vec<Value> {
        self.fake
            .requests_for(operation)
            .into_iter()
            .map(|r| r.body)
            .collect()
    }

    /// The agent's tools, written as an application would with `RequiresAccessToken` and
    /// `RequiresApiKey`.
    fn entrypoint(&self, model: Arc<ScriptedModel>) -> AgentEntrypoint {
        let github = Arc::new(
            RequiresAccessToken::new(OAuth2Request::user_federation("github", ["repo"]))
                .identity(self.identity.clone()),
        );
        let crm = Arc::new(
            RequiresAccessToken::new(OAuth2Request::m2m("crm", ["read"]))
                .identity(self.identity.clone()),
        );
        let weather = Arc::new(RequiresApiKey::new("weather").identity(self.identity.clone()));
        AgentEntrypoint::new(move || {
            let github = github.clone();
            let list_repos = FunctionTool::from_spec(
                ToolSpec::new(
                    "list_repos",
                    "List the caller's repositories.",
                    json!({"type": "object"}),
                ),
                move |_input: Value, context: ToolContext| {
                    let github = github.clone();
                    async move {
                        let token = github.get(&context).await?;
                        Ok::<_, IdentityError>(format!(
                            "repositories of {}",
                            subject(token.expose())
                        ))
                    }
                },
            );
            let (crm, weather) = (crm.clone(), weather.clone());
            let customer_weather = FunctionTool::from_spec(
                ToolSpec::new(
                    "customer_weather",
                    "Look up a customer and the weather at their place.",
                    json!({"type": "object", "properties": {"customer": {"type": "string"}}}),
                ),
                move |input: Value, context: ToolContext| {
                    let (crm, weather) = (crm.clone(), weather.clone());
                    async move {
                        let token = crm.get(&context).await?;
                        let key = weather.get().await?;
                        Ok::<_, IdentityError>(format!(
                            "{}: crm token for {}, weather key of {} bytes",
                            input["customer"].as_str().unwrap_or_default(),
                            subject(token.expose()),
                            key.expose().len()
                        ))
                    }
                },
            );
            Agent::builder()
                .shared_model(model.clone())
                .tool(list_repos)
                .tool(customer_weather)
                .build()
        })
    }

    /// The user's browser at the authorization URL, then the application's callback
    /// completing the session for the signed-in user.
    async fn consent(&self, url: &str, user: &str) {
        let browser = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let page = browser.get(url).send().await.unwrap();
        let location = page.headers()["location"].to_str().unwrap().to_owned();
        let session = location
            .strip_prefix(&format!("{CALLBACK}?session_id="))
            .unwrap()
            .replace("%3A", ":");
        self.identity
            .complete_resource_token_auth(&session, &UserIdentifier::UserId(user.to_owned()))
            .await
            .unwrap();
    }
}

fn subject(token: &str) -> String {
    let payload = token.split('.').nth(1).unwrap_or_default();
    let claims: Value = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default();
    claims["sub"].as_str().unwrap_or_default().to_owned()
}

fn headers(session: &str, user: &str, token: &str) -> String {
    format!(
        "X-Amzn-Bedrock-AgentCore-Runtime-Session-Id: {session}\r\n\
         X-Amzn-Bedrock-AgentCore-Runtime-User-Id: {user}\r\n\
         WorkloadAccessToken: {token}\r\n\
         OAuth2CallbackUrl: {CALLBACK}\r\n"
    )
}

fn tool_result_text(model: &ScriptedModel, request: usize) -> String {
    let requests = model.requests();
    let last = requests[request].messages.last().unwrap();
    let result = last.content[0].as_tool_result().unwrap();
    result.content[0].as_text().unwrap().to_owned()
}

#[tokio::test]
async fn user_consent_reaches_the_caller_as_an_interrupt_and_the_tool_resumes_when_answered() {
    let model = Arc::new(
        ScriptedModel::builder()
            .tool_use("t1", "list_repos", "{}")
            .text("You have repositories.")
            .build(),
    );
    let fixture = fixture().await;
    let server = Server::start(
        fixture
            .entrypoint(model.clone())
            .install(AgentCoreApp::new()),
    )
    .await;
    let token = fixture.wat("alice");
    let session = "consent-session-00000000000000000000001";
    let head = headers(session, "alice", &token);

    let first = raw(
        server.addr,
        &post(
            "/invocations",
            &head,
            br#"{"prompt": "list my repositories"}"#,
        ),
    )
    .await;
    assert_eq!(first.status, 200, "{}", first.text());
    let reply: Value = serde_json::from_str(&first.text()).unwrap();
    let interrupt = &reply["interrupts"][0];
    assert_eq!(interrupt["name"], "agentcore_identity_oauth2:github");
    assert_eq!(interrupt["reason"]["provider"], "github");
    let url = interrupt["reason"]["authorizationUrl"].as_str().unwrap();
    assert!(url.starts_with(fixture.fake.url()), "{url}");
    let asked = fixture.requests("GetResourceOauth2Token");
    let asked = asked
        .iter()
        .find(|body| body["workloadIdentityToken"] == token.as_str())
        .expect("Identity was asked with the invocation's workload access token");
    assert_eq!(asked["resourceOauth2ReturnUrl"], CALLBACK);
    assert_eq!(asked["oauth2Flow"], "USER_FEDERATION");

    // A new prompt is refused while the agent waits for the answer.
    let early = raw(
        server.addr,
        &post("/invocations", &head, br#"{"prompt": "hello?"}"#),
    )
    .await;
    assert_eq!(early.status, 400, "{}", early.text());
    assert!(
        early.text().contains("waiting for answers"),
        "{}",
        early.text()
    );
    let streamed = raw(
        server.addr,
        &post(
            "/invocations",
            &head,
            br#"{"prompt": "hello?", "stream": true}"#,
        ),
    )
    .await;
    assert_eq!(
        streamed.status,
        400,
        "refused before streaming: {}",
        streamed.text()
    );

    // The resuming request brings a new workload access token for alice, as each invocation
    // may: the consent session is found by conversation and interrupt.
    let head = headers(session, "alice", &fixture.wat("alice"));

    fixture.consent(url, "alice").await;
    let answer = json!({"prompt": [{"interruptResponse": {"interruptId": interrupt["id"], "response": "done"}}]});
    let second = raw(
        server.addr,
        &post("/invocations", &head, answer.to_string().as_bytes()),
    )
    .await;
    assert_eq!(second.text(), r#"{"result": "You have repositories.\n"}"#);
    assert_eq!(tool_result_text(&model, 1), "repositories of alice");
    let polled = fixture.requests("GetResourceOauth2Token");
    let polled = polled.last().unwrap();
    assert_eq!(polled["sessionUri"], interrupt["reason"]["sessionUri"]);
    assert_ne!(
        polled["workloadIdentityToken"],
        token.as_str(),
        "the new token"
    );
}

#[tokio::test]
async fn a_streamed_invocation_ends_with_the_interrupts() {
    let model = Arc::new(
        ScriptedModel::builder()
            .tool_use("t1", "list_repos", "{}")
            .build(),
    );
    let fixture = fixture().await;
    let server = Server::start(fixture.entrypoint(model).install(AgentCoreApp::new())).await;
    let head = headers(
        "stream-session-000000000000000000000001",
        "bob",
        &fixture.wat("bob"),
    );
    let reply = raw(
        server.addr,
        &post(
            "/invocations",
            &head,
            br#"{"prompt": "repos", "stream": true}"#,
        ),
    )
    .await;
    let text = reply.text();
    let last = text
        .lines()
        .filter_map(|line| line.strip_prefix("data: "))
        .next_back()
        .unwrap();
    let event: Value = serde_json::from_str(last).unwrap();
    assert_eq!(
        event["interrupts"][0]["name"], "agentcore_identity_oauth2:github",
        "{text}"
    );
    assert!(event["interrupts"][0]["reason"]["authorizationUrl"].is_string());
}

#[tokio::test]
async fn m2m_tokens_and_api_keys_reach_the_tool_and_refusals_are_tool_errors() {
    let model = Arc::new(
        ScriptedModel::builder()
            .tool_use("t1", "customer_weather", r#"{"customer": "ACME"}"#)
            .text("Sunny at ACME.")
            .tool_use("t2", "customer_weather", r#"{"customer": "Initech"}"#)
            .text("Could not look it up.")
            .build(),
    );
    let fixture = fixture().await;
    let server = Server::start(
        fixture
            .entrypoint(model.clone())
            .install(AgentCoreApp::new()),
    )
    .await;
    let token = fixture.wat("carol");
    let reply = raw(
        server.addr,
        &post(
            "/invocations",
            &headers("m2m-session-0000000000000000000000000001", "carol", &token),
            br#"{"prompt": "weather at ACME"}"#,
        ),
    )
    .await;
    assert_eq!(reply.text(), r#"{"result": "Sunny at ACME.\n"}"#);
    assert_eq!(
        tool_result_text(&model, 1),
        "ACME: crm token for support-agent, weather key of 14 bytes"
    );
    assert!(
        fixture
            .requests("GetResourceApiKey")
            .iter()
            .any(|body| body["workloadIdentityToken"] == token.as_str())
    );

    // The same user with a workload token Identity did not issue: carol's cached token is not
    // served to it, and the tool reports the refusal, not the token.
    let forged = "forged-workload-token";
    let reply = raw(
        server.addr,
        &post(
            "/invocations",
            &headers("m2m-session-0000000000000000000000000002", "carol", forged),
            br#"{"prompt": "weather at Initech"}"#,
        ),
    )
    .await;
    assert_eq!(reply.text(), r#"{"result": "Could not look it up.\n"}"#);
    let error = tool_result_text(&model, 3);
    assert!(error.contains("was denied"), "{error}");
    assert!(!error.contains(forged), "{error}");
}
