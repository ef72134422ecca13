//! `strands-runtime deploy`, `status` and `destroy`: the image built and pushed
//! (`image_command`), then the AgentCore agent runtime created or updated to it and watched until
//! `READY` (`strands_deploy::runtime`). Defaults come from `strands-deploy.json`; flags win.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;
use strands_deploy::image::Architecture;
use strands_deploy::{AgentRuntimes, DeployError, Network, Protocol, Reference, RuntimeSpec};

use crate::cli::{DeployArgs, ImageArgs, TargetArgs};

/// The project file read from the working directory when `--config` names none.
const PROJECT_FILE: &str = "strands-deploy.json";
/// How often the runtime's status is read while waiting.
const POLL: Duration = Duration::from_secs(2);

/// `strands-deploy.json`: the defaults of `deploy`, `status` and `destroy`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Project {
    name: Option<String>,
    region: Option<String>,
    role_arn: Option<String>,
    repository: Option<String>,
    binary: Option<String>,
    agent: Option<String>,
    protocol: Option<String>,
    #[serde(default)]
    environment: BTreeMap<String, String>,
    idle_timeout: Option<u32>,
    max_lifetime: Option<u32>,
    #[serde(default)]
    request_headers: Vec<String>,
    #[serde(default)]
    subnets: Vec<String>,
    #[serde(default)]
    security_groups: Vec<String>,
    description: Option<String>,
}

impl Project {
    /// The file `path` names, else `strands-deploy.json` if present, else nothing.
    fn load(path: Option<&str>) -> Result<Self, String> {
        let (path, required) = match path {
            Some(path) => (path, true),
            None => (PROJECT_FILE, false),
        };
        if !required && !Path::new(path).exists() {
            return Ok(Self::default());
        }
        let bytes = crate::image_command::read_small(path)
            .map_err(|e| format!("cannot read {path}: {e}"))?;
        let text = String::from_utf8(bytes).map_err(|_| format!("{path} is not UTF-8"))?;
        serde_json::from_str(&text).map_err(|e| format!("{path}: {e}"))
    }
}

/// Prints one progress line now (deploys take minutes; the user sees each step).
fn say(line: &str) {
    #[allow(clippy::print_stdout, reason = "progress is the command's output")]
    {
        println!("{line}");
    }
    let _ = std::io::stdout().flush();
}

/// The AWS configuration, in `region` when one is given.
pub(crate) async fn aws(region: Option<&str>) -> aws_config::SdkConfig {
    let conf = strands_aws::sdk_config().await;
    match region {
        Some(region) => conf
            .into_builder()
            .region(aws_config::Region::new(region.to_owned()))
            .build(),
        None => conf,
    }
}

/// The runtime's name and region from the flags, then the project file.
fn target(args: &TargetArgs) -> Result<(Project, String), String> {
    let project = Project::load(args.config.as_deref())?;
    let name = args
        .name
        .clone()
        .or_else(|| project.name.clone())
        .ok_or("name the agent runtime: --name NAME or \"name\" in strands-deploy.json")?;
    Ok((project, name))
}

/// `strands-runtime deploy`.
pub(crate) async fn deploy(args: &DeployArgs) -> Result<(), String> {
    let (project, name) = target(&args.target)?;
    let region = args.target.region.clone().or(project.region.clone());
    let conf = aws(region.as_deref()).await;
    let region = conf
        .region()
        .map(ToString::to_string)
        .ok_or("no AWS region: --region, \"region\" in strands-deploy.json, or AWS_REGION")?;
    let role_arn =
        args.role_arn.clone().or(project.role_arn.clone()).ok_or(
            "name the execution role: --role-arn ARN or \"role_arn\" in strands-deploy.json",
        )?;
    let repository = match args.repository.clone().or(project.repository.clone()) {
        Some(repository) => repository,
        None => default_repository(&role_arn, &region, &name)?,
    };
    let reference: Reference = repository
        .parse()
        .map_err(|e: strands_deploy::RegistryError| e.to_string())?;
    let image_args = ImageArgs {
        binary: args
            .binary
            .clone()
            .or(project.binary.clone())
            .into_iter()
            .collect(),
        agent: args.agent.clone().or(project.agent.clone()),
        protocol: None,
        env: Vec::new(),
        ca_certificates: args.ca_certificates.clone(),
        output: None,
        tag: reference.tag().to_owned(),
        push: Some(repository.clone()),
        registry_endpoint: args.registry_endpoint.clone(),
    };
    let protocol: Protocol = args
        .protocol
        .clone()
        .or(project.protocol.clone())
        .unwrap_or_else(|| "http".to_owned())
        .parse()
        .map_err(|e: DeployError| e.to_string())?;
    let image = crate::image_command::build_for(&image_args, protocol)?;
    if !image.platforms().contains(&Architecture::Arm64) {
        return Err("AgentCore runs linux/arm64: give the arm64 static build (--binary \"$(scripts/build-arm64 | tail -n 1)\")".to_owned());
    }
    let mut environment = project.environment.clone();
    for pair in &args.env {
        let (k, v) = pair
            .split_once('=')
            .ok_or_else(|| format!("--env takes NAME=VALUE, not {pair:?}"))?;
        environment.insert(k.to_owned(), v.to_owned());
    }
    let mut request_headers = project.request_headers.clone();
    request_headers.extend(args.request_header.iter().cloned());
    let mut spec = RuntimeSpec::default();
    spec.name = name.clone();
    spec.container_uri = format!(
        "{}/{}@{}",
        reference.registry(),
        reference.repository(),
        image.digest()
    );
    spec.role_arn = role_arn;
    spec.protocol = protocol;
    spec.network = network(args, &project);
    spec.environment = environment;
    spec.idle_timeout = args.idle_timeout.or(project.idle_timeout);
    spec.max_lifetime = args.max_lifetime.or(project.max_lifetime);
    spec.request_headers = request_headers;
    spec.description = args.description.clone().or(project.description.clone());
    spec.validate().map_err(|e| e.to_string())?;
    say(&format!(
        "image {} ({} bytes) for {}",
        image.digest(),
        image.size(),
        spec.container_uri
    ));
    if args.dry_run {
        say(&dry_run_plan(&reference, &image, &spec, &region));
        return Ok(());
    }
    let started = std::time::Instant::now();
    let pushed = crate::image_command::push_image(
        &image,
        &reference,
        image_args.registry_endpoint.as_deref(),
    )
    .await?;
    say(&format!(
        "pushed {reference}: {} blobs uploaded ({} bytes), {} already there ({} ms)",
        pushed.uploaded,
        pushed.bytes,
        pushed.skipped,
        started.elapsed().as_millis()
    ));
    let runtimes = AgentRuntimes::new(&conf);
    let started = std::time::Instant::now();
    let state = match runtimes.find(&name).await.map_err(|e| e.to_string())? {
        Some(existing) => {
            say(&format!("updating agent runtime {name} ({})", existing.id));
            runtimes.update(&existing.id, &spec).await
        }
        None => {
            say(&format!("creating agent runtime {name}"));
            runtimes.create(&spec).await
        }
    }
    .map_err(|e| e.to_string())?;
    let timeout = Duration::from_secs(args.wait_timeout);
    let ready = runtimes
        .wait_ready(
            &state.id,
            Some(&state.version),
            POLL,
            timeout,
            |status, waited| {
                say(&format!("  {status} ({} s)", waited.as_secs()));
            },
        )
        .await
        .map_err(|e| e.to_string())?;
    say(&format!(
        "READY in {} ms: {} version {}\ninvoke it: strands-runtime invoke --arn {} '{{\"prompt\": \"Hello\"}}'",
        started.elapsed().as_millis(),
        ready.arn,
        ready.version,
        ready.arn
    ));
    Ok(())
}

/// Public, unless subnets or security groups are given (flags replace the file's).
fn network(args: &DeployArgs, project: &Project) -> Network {
    let pick = |flags: &Vec<String>, file: &Vec<String>| {
        if flags.is_empty() {
            file.clone()
        } else {
            flags.clone()
        }
    };
    let subnets = pick(&args.subnet, &project.subnets);
    let security_groups = pick(&args.security_group, &project.security_groups);
    if subnets.is_empty() && security_groups.is_empty() {
        Network::Public
    } else {
        Network::Vpc {
            subnets,
            security_groups,
        }
    }
}

/// `<account of the role>.dkr.ecr.<region>.amazonaws.com/strands/<name>`.
fn default_repository(role_arn: &str, region: &str, name: &str) -> Result<String, String> {
    let account = role_arn
        .split(':')
        .nth(4)
        .filter(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| {
            format!("cannot read the account from the role ARN {role_arn:?}; give --repository")
        })?;
    let repository = name.to_ascii_lowercase().replace('_', "-");
    Ok(format!(
        "{account}.dkr.ecr.{region}.amazonaws.com/strands/{repository}:latest"
    ))
}

fn dry_run_plan(
    reference: &Reference,
    image: &strands_deploy::Image,
    spec: &RuntimeSpec,
    region: &str,
) -> String {
    let layers: Vec<_> = image
        .blobs()
        .values()
        .filter(|b| {
            !b.media_type.ends_with("manifest.v1+json") && !b.media_type.ends_with("index.v1+json")
        })
        .collect();
    let bytes: usize = layers.iter().map(|b| b.bytes.len()).sum();
    let mut calls = Vec::new();
    if let Some(ecr) = strands_deploy::registry::EcrRegistry::of(reference) {
        calls.push(format!(
            "ECR DescribeRepositories {{\"registryId\": \"{}\", \"repositoryNames\": [\"{}\"]}}, then CreateRepository if it is missing",
            ecr.account,
            reference.repository()
        ));
        calls.push("ECR GetAuthorizationToken {}".to_owned());
    }
    calls.push(format!(
        "registry {}: HEAD, then upload of each of the {} layer and config blobs it lacks ({bytes} bytes in all), then PUT manifest {}",
        reference.registry(),
        layers.len(),
        reference.tag()
    ));
    calls.push(format!(
        "AgentCore ListAgentRuntimes (looking for {:?})",
        spec.name
    ));
    calls.push(format!(
        "AgentCore CreateAgentRuntime with this body (environment values not shown); when the runtime exists, UpdateAgentRuntime on its id with the same body without agentRuntimeName:\n{}",
        serde_json::to_string_pretty(&shown_request(spec)).unwrap_or_default()
    ));
    calls.push(format!(
        "AgentCore GetAgentRuntime every {} s until READY",
        POLL.as_secs()
    ));
    let mut plan = format!("dry run in {region}: nothing is called or pushed. The calls would be:");
    for (number, call) in (1..).zip(calls) {
        plan.push_str(&format!("\n{number}. {call}"));
    }
    plan
}

/// The request as the plan shows it: environment values may be secrets, so only their names.
fn shown_request(spec: &RuntimeSpec) -> serde_json::Value {
    let mut body = spec.request_json();
    if let Some(environment) = body
        .get_mut("environmentVariables")
        .and_then(serde_json::Value::as_object_mut)
    {
        for value in environment.values_mut() {
            *value = serde_json::Value::String("(set)".to_owned());
        }
    }
    body
}

/// `strands-runtime status`.
pub(crate) async fn status(args: &TargetArgs) -> Result<(), String> {
    let (project, name) = target(args)?;
    let conf = aws(args.region.as_deref().or(project.region.as_deref())).await;
    let runtimes = AgentRuntimes::new(&conf);
    let found = runtimes
        .find(&name)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| DeployError::NotFound(name.clone()).to_string())?;
    let state = runtimes.get(&found.id).await.map_err(|e| e.to_string())?;
    let mut report = format!(
        "{name}: {}\narn: {}\nversion: {}",
        state.status, state.arn, state.version
    );
    if let Some(uri) = &state.container_uri {
        report.push_str(&format!("\nimage: {uri}"));
    }
    if let Some(reason) = &state.failure_reason {
        report.push_str(&format!("\nfailure: {reason}"));
    }
    say(&report);
    Ok(())
}

/// `strands-runtime destroy`.
pub(crate) async fn destroy(
    args: &TargetArgs,
    dry_run: bool,
    wait_timeout: u64,
) -> Result<(), String> {
    let (project, name) = target(args)?;
    let conf = aws(args.region.as_deref().or(project.region.as_deref())).await;
    if dry_run {
        say(&format!(
            "dry run: nothing is called. The calls would be:\n1. AgentCore ListAgentRuntimes (looking for {name:?})\n2. AgentCore DeleteAgentRuntime {{\"agentRuntimeId\": <the id found>}}\n3. AgentCore GetAgentRuntime every {} s until it is gone",
            POLL.as_secs()
        ));
        return Ok(());
    }
    let runtimes = AgentRuntimes::new(&conf);
    let found = runtimes
        .find(&name)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| DeployError::NotFound(name.clone()).to_string())?;
    runtimes
        .delete(&found.id)
        .await
        .map_err(|e| e.to_string())?;
    say(&format!("deleting {name} ({})", found.arn));
    runtimes
        .wait_deleted(&found.id, POLL, Duration::from_secs(wait_timeout))
        .await
        .map_err(|e| e.to_string())?;
    say(&format!("deleted {name}; its image stays in the registry"));
    Ok(())
}
