//! `strands-runtime deploy`, `status`, `invoke` and `destroy` against MiniStack (SigV4 and IAM
//! checked; the control plane authorized per action by tests/ministack/launch.py): a runtime
//! created from a pushed image and READY, deployed again as version 2, invoked by name through
//! InvokeAgentRuntime (MiniStack answers with what it received), destroyed; `--dry-run` calling
//! nothing; a user without the control plane told what to allow; `invoke` of a local server,
//! JSON and streamed. Skipped without MiniStack unless `STRANDS_REQUIRE_MINISTACK=1`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod ministack;

use std::path::Path;
use std::process::{Command, Output};

use ministack::{MiniStack, ministack};
use strands_testkit::bedrock::{FakeAuth, FakeBedrock, Reply, frames};

const ROLE: &str = "arn:aws:iam::000000000000:role/AgentRuntime";

fn project(dir: &Path, name: &str) {
    std::fs::write(dir.join("server"), common::static_elf(0xB7, b"")).unwrap();
    std::fs::write(dir.join("ca.pem"), b"pem").unwrap();
    let project = serde_json::json!({
        "name": name,
        "role_arn": ROLE,
        "binary": "server",
        "environment": {"MODEL_ID": "us.amazon.nova-lite-v1:0"},
        "idle_timeout": 600,
        "request_headers": ["X-Amzn-Bedrock-AgentCore-Runtime-Custom-Tenant"],
    });
    std::fs::write(dir.join("strands-deploy.json"), project.to_string()).unwrap();
}

fn cli(dir: &Path, ms: &MiniStack, key: &(String, String), args: &[&str]) -> Output {
    cli_at(dir, &ms.endpoint, key, args)
}

fn cli_at(dir: &Path, endpoint: &str, key: &(String, String), args: &[&str]) -> Output {
    let output = Command::new(env!("CARGO_BIN_EXE_strands-runtime"))
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", dir)
        .env("AWS_ACCESS_KEY_ID", &key.0)
        .env("AWS_SECRET_ACCESS_KEY", &key.1)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("STRANDS_REGISTRY_ENDPOINT", endpoint)
        .env("LOG_LEVEL", "TRACE")
        .output()
        .unwrap();
    // The ECR token MiniStack hands out (base64 of `AWS:ministack-auth-token`) must not be logged.
    common::trace_logs::secret("QVdTOm1pbmlzdGFjay1hdXRoLXRva2Vu");
    common::trace_logs::keep("deploy_ministack", &String::from_utf8_lossy(&output.stderr));
    output
}

fn ok(out: &Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn failure(out: &Output) -> String {
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    stderr.lines().last().unwrap_or_default().to_owned()
}

#[test]
fn a_runtime_is_created_ready_updated_invoked_and_destroyed() {
    let Some(ms) = ministack("deploy_ministack") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let name = format!("strands_deploy_{}", std::process::id());
    project(dir.path(), &name);
    let key = ms.deployer.clone();
    let deploy = ["deploy", "--ca-certificates", "ca.pem"];

    let first = ok(&cli(dir.path(), &ms, &key, &deploy));
    assert!(
        first.contains(&format!("creating agent runtime {name}")),
        "{first}"
    );
    let repository = format!(
        "000000000000.dkr.ecr.us-east-1.amazonaws.com/strands/{}",
        name.replace('_', "-")
    );
    assert!(
        first.contains(&format!("for {repository}@sha256:")),
        "{first}"
    );
    assert!(first.contains("READY in"), "{first}");
    let arn = first
        .split_whitespace()
        .skip_while(|w| *w != "--arn")
        .nth(1)
        .expect("the invoke command")
        .to_owned();
    assert!(
        arn.starts_with("arn:aws:bedrock-agentcore:us-east-1:000000000000:runtime/"),
        "{arn}"
    );

    let second = ok(&cli(
        dir.path(),
        &ms,
        &key,
        &[&deploy[..], &["--env", "LOG_LEVEL=DEBUG"]].concat(),
    ));
    assert!(
        second.contains(&format!("updating agent runtime {name}")),
        "{second}"
    );
    assert!(
        second.contains("4 already there") || second.contains("already there"),
        "{second}"
    );
    assert!(second.contains("version 2"), "{second}");

    let status = ok(&cli(dir.path(), &ms, &key, &["status"]));
    assert!(status.starts_with(&format!("{name}: READY")), "{status}");
    assert!(
        status.contains("version: 2") && status.contains(&format!("image: {repository}@sha256:")),
        "{status}"
    );

    // MiniStack has no container to run: it answers with the runtime and the payload it got,
    // which shows the call reached the runtime, signed, with the payload intact.
    let invoked = cli(
        dir.path(),
        &ms,
        &key,
        &["invoke", "--name", &name, "What is the weather?"],
    );
    let answer = ok(&invoked);
    let echoed: serde_json::Value = serde_json::from_str(answer.trim()).unwrap();
    assert_eq!(echoed["agentRuntimeArn"], arn.as_str());
    assert_eq!(
        echoed["input"],
        serde_json::json!({"prompt": "What is the weather?"})
    );
    assert!(String::from_utf8_lossy(&invoked.stderr).contains("session strands-"));
    let bad = cli(
        dir.path(),
        &ms,
        &key,
        &["invoke", "--arn", &arn, "--session", "short", "{}"],
    );
    assert!(failure(&bad).contains("session ids are 33 to 256 characters"));

    let destroyed = ok(&cli(dir.path(), &ms, &key, &["destroy"]));
    assert!(
        destroyed.contains(&format!("deleted {name}")),
        "{destroyed}"
    );
    let gone = failure(&cli(dir.path(), &ms, &key, &["status"]));
    assert!(
        gone.contains(&format!("no agent runtime is named \"{name}\"")),
        "{gone}"
    );
}

#[test]
fn a_dry_run_prints_the_calls_and_makes_none() {
    let Some(ms) = ministack("deploy_ministack") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let name = format!("strands_dry_{}", std::process::id());
    project(dir.path(), &name);
    let plan = ok(&cli(
        dir.path(),
        &ms,
        &ms.deployer,
        &[
            "deploy",
            "--ca-certificates",
            "ca.pem",
            "--dry-run",
            "--subnet",
            "subnet-0123456789abcdef0",
            "--security-group",
            "sg-0123456789abcdef0",
        ],
    ));
    for call in [
        "ECR DescribeRepositories",
        "GetAuthorizationToken",
        "ListAgentRuntimes",
        "\"agentRuntimeName\": \"",
        "\"serverProtocol\": \"HTTP\"",
        "\"idleRuntimeSessionTimeout\": 600",
        "X-Amzn-Bedrock-AgentCore-Runtime-Custom-Tenant",
        "\"networkMode\": \"VPC\"",
        "sg-0123456789abcdef0",
    ] {
        assert!(plan.contains(call), "{call} missing from:\n{plan}");
    }
    assert!(
        !plan.contains("us.amazon.nova-lite-v1:0") && plan.contains("\"MODEL_ID\": \"(set)\""),
        "environment values are not shown:\n{plan}"
    );
    let none = failure(&cli(dir.path(), &ms, &ms.deployer, &["status"]));
    assert!(none.contains("no agent runtime is named"), "{none}");
    let plan = ok(&cli(
        dir.path(),
        &ms,
        &ms.deployer,
        &["destroy", "--dry-run"],
    ));
    assert!(plan.contains("DeleteAgentRuntime"), "{plan}");
}

#[test]
fn a_user_without_the_control_plane_is_told_what_to_allow() {
    let Some(ms) = ministack("deploy_ministack") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    project(
        dir.path(),
        &format!("strands_denied_{}", std::process::id()),
    );
    let out = cli(
        dir.path(),
        &ms,
        &ms.pusher,
        &["deploy", "--ca-certificates", "ca.pem"],
    );
    let last = failure(&out);
    assert!(
        last.contains("AgentCore ListAgentRuntimes failed: AccessDeniedException")
            && last.contains("allow bedrock-agentcore:ListAgentRuntimes"),
        "{last}"
    );
    assert!(!String::from_utf8_lossy(&out.stderr).contains(ms.pusher.1.as_str()));
    let bad = failure(&cli(
        dir.path(),
        &ms,
        &ms.deployer,
        &[
            "deploy",
            "--ca-certificates",
            "ca.pem",
            "--name",
            "has-dash",
        ],
    ));
    assert!(bad.contains("no -"), "{bad}");
}

/// Deployed with `MINISTACK_FORWARD_TO` in its environment, the runtime's invocations reach the
/// binary serving here (tests/ministack/launch.py), so the answer streams back through
/// InvokeAgentRuntime as it would from AgentCore.
#[tokio::test]
async fn a_deployed_runtime_streams_its_answer_through_invoke_agent_runtime() {
    let Some(ms) = ministack("deploy_ministack") else {
        return;
    };
    const AKID: &str = "AKIDDEPLOYSTREAM0001";
    const SECRET: &str = "deploy-stream-secret";
    let fake = FakeBedrock::start(FakeAuth::sigv4(AKID, SECRET))
        .await
        .unwrap();
    fake.push(Reply::Stream(frames::text_turn(
        &["Rain ", "at ", "noon."],
        "end_turn",
    )));
    let dir = tempfile::tempdir().unwrap();
    let served =
        common::serve_on_fake_bedrock(&fake, dir.path(), (AKID, SECRET), &[], "deploy_ministack")
            .await;

    let name = format!("strands_stream_{}", std::process::id());
    project(dir.path(), &name);
    let forward = format!("MINISTACK_FORWARD_TO={}", served.url("/invocations"));
    let key = ms.deployer.clone();
    let run = |args: Vec<String>| {
        let (dir, ms, key) = (dir.path().to_owned(), ms.endpoint.clone(), key.clone());
        tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            cli_at(&dir, &ms, &key, &args)
        })
    };
    let deployed = run(vec![
        "deploy".into(),
        "--ca-certificates".into(),
        "ca.pem".into(),
        "--env".into(),
        forward,
    ])
    .await
    .unwrap();
    ok(&deployed);
    let invoked = run(vec![
        "invoke".into(),
        "--name".into(),
        name.clone(),
        "--stream".into(),
        "Will it rain?".into(),
    ])
    .await
    .unwrap();
    assert_eq!(ok(&invoked), "Rain at noon.\n");
    let requests = fake.requests();
    assert!(requests[0].body.to_string().contains("Will it rain?"));
    ok(&run(vec!["destroy".into()]).await.unwrap());
}
