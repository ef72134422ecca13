//! `strands-runtime image`: the OCI image of a static `strands-runtime` binary, built without
//! Docker (`strands_deploy::image`), written as an OCI layout or pushed to a registry (ECR signed
//! in with `GetAuthorizationToken`).

use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use strands_deploy::image::{Binary, CA_CERTIFICATES_PATH, ImageBuilder};
use strands_deploy::registry::EcrRegistry;
use strands_deploy::{DeployError, Image, Protocol, Reference, Registry};

use crate::cli::ImageArgs;

/// Builds the image `args` describe, writes and pushes it; returns the report to print.
pub(crate) async fn run(args: &ImageArgs) -> Result<String, String> {
    if args.output.is_none() && args.push.is_none() {
        return Err("say where the image goes: --output DIR|FILE.tar, --push REGISTRY/REPOSITORY[:TAG], or both".to_owned());
    }
    let reference = args
        .push
        .as_deref()
        .map(str::parse::<Reference>)
        .transpose()
        .map_err(|e| e.to_string())?;
    let protocol = match args.protocol.as_deref() {
        Some(name) => name.parse().map_err(|e: DeployError| e.to_string())?,
        None => Protocol::Http,
    };
    let started = Instant::now();
    let image = build_for(args, protocol)?;
    let built = started.elapsed();
    let mut report = String::new();
    let platforms: Vec<_> = image
        .platforms()
        .iter()
        .map(|a| format!("linux/{a}"))
        .collect();
    let _ = writeln!(
        report,
        "image {} ({}), {} bytes ({:.1} MB), built in {} ms",
        image.digest(),
        platforms.join(", "),
        image.size(),
        image.size() as f64 / 1e6,
        built.as_millis()
    );
    if let Some(output) = &args.output {
        let tag = reference.as_ref().map_or(args.tag.as_str(), Reference::tag);
        write(&image, output, tag, created())?;
        let _ = writeln!(report, "wrote {output} (OCI image layout, tag {tag})");
    }
    if let Some(reference) = &reference {
        let started = Instant::now();
        let pushed = push_image(&image, reference, args.registry_endpoint.as_deref()).await?;
        let _ = writeln!(
            report,
            "pushed {reference} in {} ms: {} blobs uploaded ({} bytes), {} already there\ncontainer URI: {}/{}@{}",
            started.elapsed().as_millis(),
            pushed.uploaded,
            pushed.bytes,
            pushed.skipped,
            reference.registry(),
            reference.repository(),
            pushed.digest
        );
    }
    Ok(report)
}

/// The image of `args`' binaries and files, serving `protocol`.
pub(crate) fn build_for(args: &ImageArgs, protocol: Protocol) -> Result<Image, String> {
    let mut builder = ImageBuilder::new().created(created());
    if args.binary.is_empty() {
        let me = std::env::current_exe().map_err(|e| format!("cannot find this binary: {e}"))?;
        builder = builder.binary(read_binary(&me)?);
    }
    for path in &args.binary {
        builder = builder.binary(read_binary(Path::new(path))?);
    }
    let pem_path = args
        .ca_certificates
        .as_deref()
        .unwrap_or(CA_CERTIFICATES_PATH);
    let pem = read_small(pem_path).map_err(|e| {
        format!("cannot read the CA certificates {pem_path}: {e}; give a PEM bundle with --ca-certificates")
    })?;
    builder = builder.ca_certificates(pem);
    if let Some(path) = &args.agent {
        // Checked as `serve` would read it: a broken agent file fails here, not in AgentCore.
        crate::agent_file::load(path)?;
        let contents = read_small(path).map_err(|e| format!("cannot read {path}: {e}"))?;
        builder = builder.agent_file(contents);
    }
    match protocol {
        Protocol::Http => {}
        Protocol::Mcp => builder = builder.port(8000).env("STRANDS_PROTOCOL", "mcp"),
        Protocol::A2a => builder = builder.port(9000).env("STRANDS_PROTOCOL", "a2a"),
        _ => {
            return Err(format!(
                "strands-runtime does not serve {} yet: the image serves http (port 8080), mcp (port 8000) or a2a (port 9000)",
                protocol.as_str()
            ));
        }
    }
    for pair in &args.env {
        let (name, value) = pair
            .split_once('=')
            .filter(|(name, _)| !name.is_empty())
            .ok_or_else(|| format!("--env takes NAME=VALUE, not {pair:?}"))?;
        builder = builder.env(name, value);
    }
    builder.build().map_err(|e| e.to_string())
}

/// A configuration file, refused past 16 MiB (a CA bundle is ~200 KB).
pub(crate) fn read_small(path: &str) -> Result<Vec<u8>, std::io::Error> {
    const MAX: u64 = 16 * 1024 * 1024;
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(
        &mut std::io::Read::take(std::fs::File::open(path)?, MAX + 1),
        &mut bytes,
    )?;
    if bytes.len() as u64 > MAX {
        return Err(std::io::Error::other("larger than 16 MiB"));
    }
    Ok(bytes)
}

fn read_binary(path: &Path) -> Result<Binary, String> {
    Binary::read(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// `SOURCE_DATE_EPOCH` when set (the reproducible-builds convention), else the epoch.
fn created() -> u64 {
    std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0)
}

fn write(image: &Image, output: &str, tag: &str, mtime: u64) -> Result<(), String> {
    let written = if Path::new(output)
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("tar"))
    {
        image.write_archive(output, tag, mtime)
    } else {
        image.write_layout(output, tag)
    };
    written.map_err(|e| format!("{output}: {e}"))
}

/// Pushes `image` to `reference` (signed in to ECR first when the registry is one), through
/// `endpoint` when given, else `STRANDS_REGISTRY_ENDPOINT` when set.
pub(crate) async fn push_image(
    image: &Image,
    reference: &Reference,
    endpoint: Option<&str>,
) -> Result<strands_deploy::registry::Pushed, String> {
    let mut registry = Registry::new(reference);
    let from_env = std::env::var("STRANDS_REGISTRY_ENDPOINT")
        .ok()
        .filter(|e| !e.trim().is_empty());
    if let Some(endpoint) = endpoint.or(from_env.as_deref()) {
        registry = registry
            .with_endpoint(endpoint, reference)
            .map_err(|e| e.to_string())?;
    }
    if let Some(ecr) = EcrRegistry::of(reference) {
        let conf = strands_aws::sdk_config().await;
        registry = ecr
            .sign_in(&conf, registry, reference.repository())
            .await
            .map_err(|e| e.to_string())?;
    }
    registry
        .push(reference.repository(), image, reference.tag())
        .await
        .map_err(|e| e.to_string())
}
