//! `AgentCoreIdentity` against the testkit's fake AgentCore Identity, which checks every
//! request's SigV4 signature: M2M tokens cached until they expire, the user-consent flow (an
//! interrupt, the consent page, the application's callback, the token), Python's polling with
//! `on_auth_url`, API keys, refusals, and local development's `.agentcore.json`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers fail loudly"
)]

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use base64::Engine as _;
use serde_json::{Value, json};
use strands_aws::identity::{
    AgentCoreIdentity, Consent, IdentityError, OAuth2Request, Secret, UserIdentifier, Workload,
};
use strands_core::interrupt::InterruptScope;
use strands_core::{Interrupt, ToolContext};
use strands_testkit::bedrock::{AuthOutcome, FakeAuth};
use strands_testkit::identity::FakeIdentity;
use tokio_util::sync::CancellationToken;

const KEY_ID: &str = "AKIDIDENTITY";
const SECRET: &str = "identity-secret";
const CALLBACK: &str = "http://localhost:8081/oauth2/callback";

fn config(key_id: &str, secret: &str) -> aws_config::SdkConfig {
    aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            key_id, secret, None, None, "test",
        )))
        .build()
}

async fn fake() -> (FakeIdentity, AgentCoreIdentity) {
    let fake = FakeIdentity::start(FakeAuth::sigv4(KEY_ID, SECRET))
        .await
        .unwrap();
    let identity = AgentCoreIdentity::from_conf_with_endpoints(
        &config(KEY_ID, SECRET),
        Some(fake.url()),
        Some(fake.url()),
    );
    (fake, identity)
}

fn workload(fake: &FakeIdentity, user: &str) -> Workload {
    let token = fake.workload_access_token("support-agent", Some(user));
    Workload::new(Secret::new(token), format!("user:{user}"))
        .with_callback_url(Some(CALLBACK.into()))
}

/// A tool context of tool use `t1`, resumed with `responses` (interrupt id → answer).
fn context(responses: &[(&str, Value)]) -> ToolContext {
    let responses: HashMap<String, Value> = responses
        .iter()
        .map(|(id, answer)| ((*id).to_owned(), answer.clone()))
        .collect();
    ToolContext::new(CancellationToken::new()).with_interrupts(InterruptScope::new(
        "tool_call",
        "t1",
        Arc::new(responses),
    ))
}

fn claims(token: &Secret) -> Value {
    let payload = token.expose().split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

#[tokio::test]
async fn m2m_tokens_are_cached_per_caller_until_a_minute_before_they_expire() {
    let (fake, identity) = fake().await;
    fake.oauth2_provider("crm", Duration::from_secs(3600));
    let alice = workload(&fake, "alice");
    let request = OAuth2Request::m2m("crm", ["read", "write"]);
    let consent = Consent::default();

    let first = identity
        .access_token(&context(&[]), &alice, &request, &consent)
        .await
        .unwrap();
    let again = identity
        .access_token(&context(&[]), &alice, &request, &consent)
        .await
        .unwrap();
    assert_eq!(first, again);
    let calls = fake.requests_for("GetResourceOauth2Token");
    assert_eq!(calls.len(), 1, "the second call is served from the cache");
    assert_eq!(calls[0].auth, AuthOutcome::Accepted, "SigV4-signed");
    assert_eq!(
        calls[0].body,
        json!({
            "workloadIdentityToken": alice.token.expose(),
            "resourceCredentialProviderName": "crm",
            "scopes": ["read", "write"],
            "oauth2Flow": "M2M",
            "resourceOauth2ReturnUrl": CALLBACK,
        })
    );
    assert_eq!(claims(&first)["sub"], "support-agent");
    assert_eq!(claims(&first)["scope"], "read write");

    let bob = workload(&fake, "bob");
    identity
        .access_token(&context(&[]), &bob, &request, &consent)
        .await
        .unwrap();
    assert_eq!(
        fake.requests_for("GetResourceOauth2Token").len(),
        2,
        "another caller never gets alice's token"
    );
}

#[tokio::test]
async fn an_expiring_token_is_fetched_again() {
    let (fake, identity) = fake().await;
    // Usable for 1 to 2 s: the cache stops a minute before `exp`.
    fake.oauth2_provider("crm", Duration::from_secs(62));
    let alice = workload(&fake, "alice");
    let request = OAuth2Request::m2m("crm", ["read"]);
    let consent = Consent::default();
    let first = identity
        .access_token(&context(&[]), &alice, &request, &consent)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let refreshed = identity
        .access_token(&context(&[]), &alice, &request, &consent)
        .await
        .unwrap();
    assert_ne!(claims(&first)["jti"], claims(&refreshed)["jti"]);
    assert_eq!(fake.requests_for("GetResourceOauth2Token").len(), 2);

    // With no margin, a token is used until its `exp`, not after.
    let short = AgentCoreIdentity::from_conf_with_endpoints(
        &config(KEY_ID, SECRET),
        Some(fake.url()),
        None,
    )
    .with_expiry_margin(Duration::ZERO);
    fake.oauth2_provider("short", Duration::from_secs(1));
    let request = OAuth2Request::m2m("short", ["read"]);
    short
        .access_token(&context(&[]), &alice, &request, &consent)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(2100)).await;
    short
        .access_token(&context(&[]), &alice, &request, &consent)
        .await
        .unwrap();
    assert_eq!(fake.requests_for("GetResourceOauth2Token").len(), 4);
}

/// The user's browser at the authorization URL: the consent page redirects to the callback
/// with the session.
async fn consent_in_browser(url: &str) -> String {
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = browser.get(url).send().await.unwrap();
    assert_eq!(page.status(), 302);
    let location = page.headers()["location"].to_str().unwrap().to_owned();
    let session = location
        .strip_prefix(&format!("{CALLBACK}?session_id="))
        .unwrap_or_else(|| panic!("redirected to the callback, not {location}"));
    session.replace("%3A", ":")
}

#[tokio::test]
async fn user_consent_is_an_interrupt_then_the_callback_completes_it_and_the_tool_resumes() {
    let (fake, identity) = fake().await;
    fake.oauth2_provider("github", Duration::from_secs(3600));
    let alice = workload(&fake, "alice");
    let request = OAuth2Request::user_federation("github", ["repo"]);
    let consent = Consent::default();

    let error = identity
        .access_token(&context(&[]), &alice, &request, &consent)
        .await
        .unwrap_err();
    let raised = error.interrupt().expect("an interrupt").interrupt().clone();
    assert_eq!(raised.name, "agentcore_identity_oauth2:github");
    assert_eq!(
        raised.id,
        Interrupt::id_for("tool_call", "t1", "agentcore_identity_oauth2:github")
    );
    assert_eq!(raised.reason["type"], "oauth2_authorization");
    assert_eq!(raised.reason["provider"], "github");
    let url = raised.reason["authorizationUrl"].as_str().unwrap();
    let session = raised.reason["sessionUri"].as_str().unwrap().to_owned();

    // Answering before the user consented: the tool polls and gives up at the timeout.
    let impatient =
        Consent::default().polling(Duration::from_millis(20), Duration::from_millis(100));
    let early = identity
        .access_token(
            &context(&[(&raised.id, json!("done"))]),
            &alice,
            &request,
            &impatient,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(early, IdentityError::ConsentTimedOut { .. }),
        "{early}"
    );

    assert_eq!(consent_in_browser(url).await, session);
    // The application's callback completes the session for the signed-in user only.
    let mallory = identity
        .complete_resource_token_auth(&session, &UserIdentifier::UserId("mallory".into()))
        .await
        .unwrap_err();
    assert!(
        mallory.to_string().contains("AccessDeniedException"),
        "{mallory}"
    );
    identity
        .complete_resource_token_auth(&session, &UserIdentifier::UserId("alice".into()))
        .await
        .unwrap();

    let token = identity
        .access_token(
            &context(&[(&raised.id, json!("done"))]),
            &alice,
            &request,
            &consent,
        )
        .await
        .unwrap();
    assert_eq!(claims(&token)["sub"], "alice");
    let calls = fake.requests_for("GetResourceOauth2Token");
    let last = &calls.last().unwrap().body;
    assert_eq!(last["oauth2Flow"], "USER_FEDERATION");
    assert_eq!(
        last["sessionUri"],
        session.as_str(),
        "polled with the session"
    );
    assert!(last.get("forceAuthentication").is_none());

    // Cached now, then the vault serves it without consent again.
    let before = fake.requests_for("GetResourceOauth2Token").len();
    identity
        .access_token(&context(&[]), &alice, &request, &consent)
        .await
        .unwrap();
    assert_eq!(fake.requests_for("GetResourceOauth2Token").len(), before);

    // Forcing authentication skips the cache and asks for consent again.
    let forced = request.clone().force_authentication(true);
    let error = identity
        .access_token(&context(&[]), &alice, &forced, &consent)
        .await
        .unwrap_err();
    assert!(error.interrupt().is_some());
    assert_eq!(
        fake.requests_for("GetResourceOauth2Token")
            .last()
            .unwrap()
            .body["forceAuthentication"],
        true
    );
}

#[tokio::test]
async fn the_caller_can_decline() {
    let (fake, identity) = fake().await;
    fake.oauth2_provider("github", Duration::from_secs(3600));
    let alice = workload(&fake, "alice");
    let request = OAuth2Request::user_federation("github", ["repo"]);
    let id = Interrupt::id_for("tool_call", "t1", "agentcore_identity_oauth2:github");
    let error = identity
        .access_token(
            &context(&[(&id, json!(false))]),
            &alice,
            &request,
            &Consent::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "the user declined to authorize access to github"
    );
}

#[tokio::test]
async fn with_on_auth_url_the_tool_waits_for_the_consent_as_in_python() {
    let (fake, identity) = fake().await;
    fake.oauth2_provider("github", Duration::from_secs(3600));
    let alice = workload(&fake, "alice");
    let request = OAuth2Request::user_federation("github", ["repo"]);
    let completer = identity.clone();
    let consent = Consent::default()
        .polling(Duration::from_millis(50), Duration::from_secs(10))
        .on_auth_url(move |url| {
            let url = url.to_owned();
            let identity = completer.clone();
            tokio::spawn(async move {
                let session = consent_in_browser(&url).await;
                identity
                    .complete_resource_token_auth(&session, &UserIdentifier::UserId("alice".into()))
                    .await
                    .unwrap();
            });
        });
    let token = identity
        .access_token(&context(&[]), &alice, &request, &consent)
        .await
        .unwrap();
    assert_eq!(claims(&token)["sub"], "alice");
    let polls = fake.requests_for("GetResourceOauth2Token");
    assert!(polls.len() >= 2);
    assert!(polls[1..].iter().all(|p| p.body["sessionUri"].is_string()));

    // Cancelling the agent stops the wait.
    let cancel = CancellationToken::new();
    let waiting = ToolContext::new(cancel.clone());
    let bob = workload(&fake, "bob");
    let never = Consent::default()
        .polling(Duration::from_millis(50), Duration::from_secs(30))
        .on_auth_url(|_| {});
    let canceller = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(120)).await;
        cancel.cancel();
    });
    let error = identity
        .access_token(&waiting, &bob, &request, &never)
        .await
        .unwrap_err();
    canceller.await.unwrap();
    assert!(matches!(error, IdentityError::Cancelled { .. }), "{error}");
}

#[tokio::test]
async fn api_keys_come_from_their_provider() {
    let (fake, identity) = fake().await;
    fake.api_key_provider("weather", "weather-key-0123456789");
    let alice = workload(&fake, "alice");
    let key = identity.api_key(&alice, "weather").await.unwrap();
    assert_eq!(key.expose(), "weather-key-0123456789");
    assert_eq!(format!("{key:?} {key}"), "Secret(hidden) (hidden)");
    let calls = fake.requests_for("GetResourceApiKey");
    assert_eq!(
        calls[0].body,
        json!({"workloadIdentityToken": alice.token.expose(), "resourceCredentialProviderName": "weather"})
    );

    let missing = identity.api_key(&alice, "nope").await.unwrap_err();
    assert!(
        missing.to_string().starts_with(
            "AgentCore Identity GetResourceApiKey (credential provider nope) failed: not found"
        ),
        "{missing}"
    );
}

#[tokio::test]
async fn refusals_say_what_to_fix_and_never_show_a_credential() {
    let (fake, identity) = fake().await;
    fake.oauth2_provider("crm", Duration::from_secs(3600));
    let alice = workload(&fake, "alice");
    let request = OAuth2Request::m2m("crm", ["read"]);

    let forged = Workload::new(Secret::new("forged-token"), "user:alice");
    let denied = identity
        .access_token(&context(&[]), &forged, &request, &Consent::default())
        .await
        .unwrap_err();
    assert!(denied.to_string().contains("was denied"), "{denied}");
    // The fake quotes the refused token in its message; it is blanked out everywhere.
    let everything = format!(
        "{denied} {denied:?} {}",
        std::error::Error::source(&denied).unwrap()
    );
    assert!(everything.contains("(hidden)"), "{everything}");
    assert!(!everything.contains("forged-token"), "{everything}");

    fake.set_auth(FakeAuth::sigv4("AKIDOTHER", "other"));
    let rejected = identity
        .access_token(&context(&[]), &alice, &request, &Consent::default())
        .await
        .unwrap_err();
    let text = format!("{rejected} {rejected:?}");
    assert!(text.contains("the AWS credentials were rejected"), "{text}");
    assert!(!text.contains(alice.token.expose()) && !text.contains(SECRET));
}

#[tokio::test]
async fn local_development_keeps_its_workload_and_user_in_agentcore_json() {
    let (fake, identity) = fake().await;
    fake.api_key_provider("weather", "k");
    let dir = std::env::temp_dir().join(format!("strands-identity-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(".agentcore.json");
    std::fs::write(&path, r#"{"other": 1}"#).unwrap();

    let first = identity.local_workload(&path).await.unwrap();
    let written: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let name = written["workload_identity_name"]
        .as_str()
        .unwrap()
        .to_owned();
    let user = written["user_id"].as_str().unwrap().to_owned();
    assert!(name.starts_with("workload-") && name.len() == 17, "{name}");
    assert!(
        user.len() == 8 && user.chars().all(|c| c.is_ascii_hexdigit()),
        "{user}"
    );
    assert_eq!(written["other"], 1, "other keys are kept");
    assert_eq!(fake.workloads(), vec![name.clone()]);
    assert_eq!(first.principal, format!("local:{user}"));
    identity.api_key(&first, "weather").await.unwrap();

    let second = identity.local_workload(&path).await.unwrap();
    assert_eq!(second.principal, first.principal);
    assert_eq!(
        fake.requests_for("CreateWorkloadIdentity").len(),
        1,
        "reused"
    );
    let issued = fake.requests_for("GetWorkloadAccessTokenForUserId");
    assert_eq!(issued.len(), 2, "a token per call, as Python");
    assert_eq!(
        issued[1].body,
        json!({"workloadName": name, "userId": user})
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Python's own text for a container invoked without a workload access token, when the Python
/// stack is at hand (scripts/test provides it; a run without it skips this comparison unless
/// STRANDS_REQUIRE_PYTHON is set).
fn pythons_container_message() -> Option<String> {
    let python = match std::env::var("STRANDS_MEMORY_PYTHON") {
        Ok(python) if !python.is_empty() => python,
        _ => {
            assert!(
                std::env::var_os("STRANDS_REQUIRE_PYTHON").is_none(),
                "STRANDS_REQUIRE_PYTHON is set but STRANDS_MEMORY_PYTHON is not; run scripts/memory-python"
            );
            return None;
        }
    };
    let script = "import asyncio\n\
        from bedrock_agentcore.identity.auth import _get_workload_access_token\n\
        try:\n    asyncio.run(_get_workload_access_token(None))\n\
        except ValueError as error:\n    print(error, end='')\n";
    let output = std::process::Command::new(python)
        .args(["-c", script])
        .env("DOCKER_CONTAINER", "1")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    Some(String::from_utf8(output.stdout).unwrap())
}

#[tokio::test]
async fn in_a_container_without_a_workload_token_the_error_is_pythons() {
    // The variable must be set for the whole process: run one test of this binary in a child.
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "container_child", "--ignored"])
        .env("DOCKER_CONTAINER", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    if let Some(python) = pythons_container_message() {
        assert_eq!(python, strands_aws::identity::DOCKER_CONTAINER_MESSAGE);
    }
}

#[tokio::test]
#[ignore = "run by in_a_container_without_a_workload_token_the_error_is_pythons, with DOCKER_CONTAINER=1"]
async fn container_child() {
    if std::env::var("DOCKER_CONTAINER").as_deref() != Ok("1") {
        return;
    }
    let (fake, identity) = fake().await;
    let error = identity
        .workload_without_invocation_token()
        .await
        .unwrap_err();
    assert!(matches!(error, IdentityError::NoWorkloadToken(_)));
    assert_eq!(
        error.to_string(),
        strands_aws::identity::DOCKER_CONTAINER_MESSAGE
    );
    assert!(fake.requests().is_empty(), "nothing was created");
}
