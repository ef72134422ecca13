//! `strands-runtime image` end to end: a two-platform image with an agent file, pushed to
//! MiniStack's ECR (the repository created, signed in with `GetAuthorizationToken` over SigV4,
//! blobs and manifests through the registry API), read back blob by blob and unpacked; pushed
//! again with nothing to upload and the same digest; refused with the permission to fix for a
//! user without ECR rights. Skipped without MiniStack unless `STRANDS_REQUIRE_MINISTACK=1`.
//! The binaries are minimal static ELF files: what runs from an image is checked by
//! `scripts/image-smoke` with the real arm64 build under qemu.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod ministack;

use std::io::Read as _;
use std::path::Path;
use std::process::{Command, Output};

use ministack::ministack;
use strands_deploy::{Reference, Registry};

const REGISTRY: &str = "000000000000.dkr.ecr.us-east-1.amazonaws.com";

fn image(dir: &Path, args: &[&str], key: (&str, &str), endpoint: &str) -> Output {
    let output = Command::new(env!("CARGO_BIN_EXE_strands-runtime"))
        .arg("image")
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", dir)
        .env("AWS_ACCESS_KEY_ID", key.0)
        .env("AWS_SECRET_ACCESS_KEY", key.1)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ENDPOINT_URL_ECR", endpoint)
        .env("STRANDS_REGISTRY_ENDPOINT", endpoint)
        .env("LOG_LEVEL", "TRACE")
        .output()
        .unwrap();
    // The ECR token MiniStack hands out (base64 of `AWS:ministack-auth-token`) must not be logged.
    common::trace_logs::secret("QVdTOm1pbmlzdGFjay1hdXRoLXRva2Vu");
    common::trace_logs::keep("image_ministack", &String::from_utf8_lossy(&output.stderr));
    output
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The files of a gzipped layer, by path.
fn layer_files(gzipped: &[u8]) -> std::collections::BTreeMap<String, (u32, u64, Vec<u8>)> {
    let mut tar = Vec::new();
    flate2::read::GzDecoder::new(gzipped)
        .read_to_end(&mut tar)
        .unwrap();
    let mut files = std::collections::BTreeMap::new();
    for entry in tar::Archive::new(tar.as_slice()).entries().unwrap() {
        let mut entry = entry.unwrap();
        let path = entry.path().unwrap().display().to_string();
        let (mode, uid) = (
            entry.header().mode().unwrap(),
            entry.header().uid().unwrap(),
        );
        let mut contents = Vec::new();
        entry.read_to_end(&mut contents).unwrap();
        files.insert(path, (mode, uid, contents));
    }
    files
}

fn json(bytes: &[u8]) -> serde_json::Value {
    serde_json::from_slice(bytes).unwrap()
}

#[tokio::test]
async fn a_two_platform_image_is_pushed_to_ecr_read_back_and_pushed_again_for_free() {
    let Some(ms) = ministack("image_ministack") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let arm = common::static_elf(0xB7, b"arm64 server");
    let amd = common::static_elf(0x3E, b"amd64 server");
    std::fs::write(dir.path().join("arm64"), &arm).unwrap();
    std::fs::write(dir.path().join("amd64"), &amd).unwrap();
    let agent = br#"{"name": "weather", "prompt": "You forecast."}"#;
    std::fs::write(dir.path().join("agent.json"), agent).unwrap();
    std::fs::write(dir.path().join("ca.pem"), b"-----BEGIN CERTIFICATE-----\n").unwrap();
    let repository = format!("strands/image-test-{}", std::process::id());
    let target = format!("{REGISTRY}/{repository}:v1");
    let args = [
        "--binary",
        "arm64",
        "--binary",
        "amd64",
        "--agent",
        "agent.json",
        "--ca-certificates",
        "ca.pem",
        "--output",
        "image.tar",
        "--push",
        &target,
    ];
    let root = ("test", "test");
    let first = image(dir.path(), &args, root, &ms.endpoint);
    assert!(first.status.success(), "{}", text(&first.stderr));
    let report = text(&first.stdout);
    let digest = report
        .split_whitespace()
        .nth(1)
        .expect("the digest")
        .to_owned();
    assert!(report.contains("(linux/arm64, linux/amd64)"), "{report}");
    assert!(report.contains("4 blobs uploaded"), "{report}");
    assert!(
        report.contains(&format!("container URI: {REGISTRY}/{repository}@{digest}")),
        "{report}"
    );
    assert!(dir.path().join("image.tar").is_file());

    // Read back as a client would, every blob checked against its digest.
    let reference: Reference = target.parse().unwrap();
    let registry = Registry::new(&reference)
        .with_endpoint(&ms.endpoint, &reference)
        .unwrap();
    let index = registry.manifest(&repository, "v1").await.unwrap();
    assert_eq!(index.digest, digest);
    assert_eq!(index.media_type, "application/vnd.oci.image.index.v1+json");
    let index = json(&index.bytes);
    let platforms = index["manifests"].as_array().unwrap();
    assert_eq!(platforms.len(), 2);
    for (platform, binary) in platforms.iter().zip([&arm, &amd]) {
        let manifest = registry
            .manifest(&repository, platform["digest"].as_str().unwrap())
            .await
            .unwrap();
        let manifest = json(&manifest.bytes);
        let config = registry
            .blob(&repository, manifest["config"]["digest"].as_str().unwrap())
            .await
            .unwrap();
        let config = json(&config);
        assert_eq!(config["architecture"], platform["platform"]["architecture"]);
        assert_eq!(config["config"]["User"], "65532:65532");
        assert_eq!(
            config["config"]["ExposedPorts"],
            serde_json::json!({"8080/tcp": {}})
        );
        let env: Vec<&str> = config["config"]["Env"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert!(
            env.contains(&"STRANDS_AGENT_FILE=/app/agent.json"),
            "{env:?}"
        );
        let layer = registry
            .blob(
                &repository,
                manifest["layers"][0]["digest"].as_str().unwrap(),
            )
            .await
            .unwrap();
        let files = layer_files(&layer);
        assert_eq!(
            files["usr/local/bin/strands-runtime"],
            (0o755, 0, binary.clone())
        );
        assert_eq!(files["app/agent.json"].2, agent);
        assert_eq!(files["home/nonroot/"].1, 65532);
        assert!(files.contains_key("etc/ssl/certs/ca-certificates.crt"));
    }

    // The same inputs again: the same digest, and every blob already there.
    let again = image(dir.path(), &args, root, &ms.endpoint);
    assert!(again.status.success(), "{}", text(&again.stderr));
    let report = text(&again.stdout);
    assert!(report.contains(&digest), "{report}");
    assert!(report.contains("0 blobs uploaded ("), "{report}");
    assert!(report.contains("4 already there"), "{report}");
}

#[test]
fn a_user_without_ecr_rights_is_told_which_permission_to_add() {
    let Some(ms) = ministack("image_ministack") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("arm64"), common::static_elf(0xB7, b"x")).unwrap();
    std::fs::write(dir.path().join("ca.pem"), b"pem").unwrap();
    let (key, secret) = (&ms.no_access.0, &ms.no_access.1);
    let target = format!("{REGISTRY}/strands/denied:v1");
    let out = image(
        dir.path(),
        &[
            "--binary",
            "arm64",
            "--ca-certificates",
            "ca.pem",
            "--push",
            &target,
        ],
        (key, secret),
        &ms.endpoint,
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    let last = stderr.lines().last().unwrap_or_default();
    assert!(
        last.contains("ECR DescribeRepositories failed: AccessDeniedException")
            && last.contains("allow ecr:DescribeRepositories"),
        "{last}"
    );
    assert!(!stderr.contains(secret.as_str()), "the secret key leaked");
}

#[test]
fn a_dynamic_binary_and_a_missing_destination_are_refused_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    // The test build of strands-runtime is linked against glibc.
    let me = env!("CARGO_BIN_EXE_strands-runtime");
    let out = image(
        dir.path(),
        &["--binary", me, "--output", "x"],
        ("a", "b"),
        "http://127.0.0.1:9",
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("dynamically linked") && stderr.contains("scripts/build-static"),
        "{stderr}"
    );
    let out = image(
        dir.path(),
        &["--binary", me],
        ("a", "b"),
        "http://127.0.0.1:9",
    );
    assert!(text(&out.stderr).contains("say where the image goes"));
    let out = image(
        dir.path(),
        &["--output", "x", "--push", "agent:v1"],
        ("a", "b"),
        "http://127.0.0.1:9",
    );
    assert!(
        text(&out.stderr).contains("name the registry"),
        "{}",
        text(&out.stderr)
    );
}
