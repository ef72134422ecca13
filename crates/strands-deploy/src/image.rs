//! OCI images of the static `strands-runtime` binary, built in memory without Docker: one layer
//! (the binary, CA certificates, a non-root user, the agent file if any), a config that serves on
//! the AgentCore port as that user, and a manifest per platform (an index above them when there
//! are several). The same inputs give the same digest.
//!
//! ```no_run
//! use strands_deploy::image::{Binary, ImageBuilder};
//!
//! # fn main() -> Result<(), strands_deploy::image::ImageError> {
//! let image = ImageBuilder::new()
//!     .binary(Binary::read("target/arm64/aarch64-unknown-linux-musl/release/strands-runtime")?)
//!     .ca_certificates(std::fs::read("/etc/ssl/certs/ca-certificates.crt").map_err(strands_deploy::image::ImageError::Write)?)
//!     .agent_file(br#"{"model": {"provider": "bedrock"}}"#.to_vec())
//!     .build()?;
//! image.write_layout("image-oci", "latest")?;
//! println!("{} ({} bytes)", image.digest(), image.size());
//! # Ok(())
//! # }
//! ```

mod elf;
mod layer;
mod layout;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, UNIX_EPOCH};

use bytes::Bytes;
use serde::Serialize;
use serde_json::json;
use sha2::{Digest as _, Sha256};
use strands_core::time::UtcTime;

use layer::{Entry, USER_ID};

/// The largest binary read (the server is ~14 MB; this is far past any real one).
const MAX_BINARY: u64 = 512 * 1024 * 1024;

/// An OCI image manifest.
pub const MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
/// An OCI image index (one manifest per platform).
pub const INDEX_MEDIA_TYPE: &str = "application/vnd.oci.image.index.v1+json";
/// An OCI image config.
pub const CONFIG_MEDIA_TYPE: &str = "application/vnd.oci.image.config.v1+json";
/// A gzipped tar layer.
pub const LAYER_MEDIA_TYPE: &str = "application/vnd.oci.image.layer.v1.tar+gzip";

/// Where the binary is in the image (the entrypoint).
pub const BINARY_PATH: &str = "/usr/local/bin/strands-runtime";
/// Where the agent file is in the image (`STRANDS_AGENT_FILE`).
pub const AGENT_FILE_PATH: &str = "/app/agent.json";
/// Where the CA certificates are in the image (`SSL_CERT_FILE`).
pub const CA_CERTIFICATES_PATH: &str = "/etc/ssl/certs/ca-certificates.crt";

/// Why an image could not be built or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImageError {
    /// The file given as the binary is not a Linux executable for arm64 or amd64.
    #[error("the binary is not usable in an image: {0}")]
    NotAnExecutable(String),
    /// The binary needs a dynamic loader, which the image does not have.
    #[error(
        "the {0} binary is dynamically linked and would not start in the image; build the static one with `scripts/build-static{target}`",
        target = if matches!(.0, Architecture::Arm64) { " aarch64-unknown-linux-musl" } else { "" }
    )]
    Dynamic(Architecture),
    /// No binary was given.
    #[error("an image needs a binary")]
    NoBinary,
    /// Two binaries for the same platform.
    #[error("two binaries for linux/{0}")]
    SamePlatform(Architecture),
    /// Reading an input or writing the image failed.
    #[error("could not read or write the image: {0}")]
    Write(#[source] std::io::Error),
}

/// A CPU architecture AgentCore or a laptop runs (AgentCore runs arm64 only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Architecture {
    /// `linux/arm64/v8`: AgentCore's.
    Arm64,
    /// `linux/amd64`.
    Amd64,
}

impl Architecture {
    /// The OCI name (`arm64`, `amd64`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Arm64 => "arm64",
            Self::Amd64 => "amd64",
        }
    }

    fn variant(self) -> Option<&'static str> {
        match self {
            Self::Arm64 => Some("v8"),
            Self::Amd64 => None,
        }
    }
}

impl std::fmt::Display for Architecture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A static Linux executable and the architecture its ELF header names.
#[derive(Clone)]
pub struct Binary {
    bytes: Vec<u8>,
    architecture: Architecture,
}

impl std::fmt::Debug for Binary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Binary")
            .field("architecture", &self.architecture)
            .field("len", &self.bytes.len())
            .finish()
    }
}

impl Binary {
    /// Checks `bytes` is a static arm64 or amd64 Linux executable.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, ImageError> {
        let architecture = elf::inspect(&bytes)?;
        Ok(Self {
            bytes,
            architecture,
        })
    }

    /// Reads and checks the executable at `path` (at most 512 MiB).
    pub fn read(path: impl AsRef<Path>) -> Result<Self, ImageError> {
        let file = std::fs::File::open(path).map_err(ImageError::Write)?;
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut std::io::Read::take(file, MAX_BINARY + 1), &mut bytes)
            .map_err(ImageError::Write)?;
        if bytes.len() as u64 > MAX_BINARY {
            return Err(ImageError::NotAnExecutable(format!(
                "larger than {} MiB",
                MAX_BINARY >> 20
            )));
        }
        Self::from_bytes(bytes)
    }

    /// The architecture it runs on.
    pub fn architecture(&self) -> Architecture {
        self.architecture
    }
}

/// What goes into an image; [`ImageBuilder::build`] makes it.
#[derive(Debug, Default)]
#[must_use]
pub struct ImageBuilder {
    binaries: Vec<Binary>,
    ca_certificates: Option<Vec<u8>>,
    agent_file: Option<Vec<u8>>,
    env: Vec<(String, String)>,
    port: Option<u16>,
    created: u64,
}

impl ImageBuilder {
    /// An image with nothing in it yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The server binary: one per platform (two make a multi-platform image).
    pub fn binary(mut self, binary: Binary) -> Self {
        self.binaries.push(binary);
        self
    }

    /// The CA certificate bundle (PEM) the binary trusts for TLS, at [`CA_CERTIFICATES_PATH`].
    pub fn ca_certificates(mut self, pem: Vec<u8>) -> Self {
        self.ca_certificates = Some(pem);
        self
    }

    /// The agent file served, at [`AGENT_FILE_PATH`].
    pub fn agent_file(mut self, contents: Vec<u8>) -> Self {
        self.agent_file = Some(contents);
        self
    }

    /// An environment variable of the container (after the image's own).
    pub fn env(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((name.into(), value.into()));
        self
    }

    /// The port the server listens on and the image exposes (default 8080, AgentCore's HTTP
    /// protocol; 8000 for MCP, 9000 for A2A).
    pub fn port(mut self, port: u16) -> Self {
        self.port = Some(port);
        self
    }

    /// The creation time recorded, in seconds since the epoch (default 0, so that builds are
    /// reproducible; `SOURCE_DATE_EPOCH` is the convention to pass).
    pub fn created(mut self, seconds: u64) -> Self {
        self.created = seconds;
        self
    }

    /// Builds every blob in memory.
    pub fn build(mut self) -> Result<Image, ImageError> {
        if self.binaries.is_empty() {
            return Err(ImageError::NoBinary);
        }
        self.binaries.sort_by_key(|b| b.architecture);
        for pair in self.binaries.windows(2) {
            if pair[0].architecture == pair[1].architecture {
                return Err(ImageError::SamePlatform(pair[0].architecture));
            }
        }
        let mut blobs = BTreeMap::new();
        let mut manifests = Vec::new();
        for binary in &self.binaries {
            let manifest = self.platform_manifest(binary, &mut blobs)?;
            manifests.push((binary.architecture, manifest));
        }
        let root = if let [(_, only)] = manifests.as_slice() {
            only.clone()
        } else {
            let entries: Vec<_> = manifests
                .iter()
                .map(|(architecture, manifest)| {
                    let mut platform =
                        json!({"architecture": architecture.as_str(), "os": "linux"});
                    if let Some(variant) = architecture.variant() {
                        platform["variant"] = json!(variant);
                    }
                    json!({
                        "mediaType": MANIFEST_MEDIA_TYPE,
                        "digest": manifest.digest,
                        "size": manifest.size,
                        "platform": platform,
                    })
                })
                .collect();
            let index = json!({
                "schemaVersion": 2,
                "mediaType": INDEX_MEDIA_TYPE,
                "manifests": entries,
            });
            add_blob(&mut blobs, INDEX_MEDIA_TYPE, to_json(&index))
        };
        Ok(Image {
            blobs,
            root,
            platforms: manifests.into_iter().map(|(a, _)| a).collect(),
        })
    }

    /// The layer, config and manifest of `binary`'s platform; returns the manifest.
    fn platform_manifest(
        &self,
        binary: &Binary,
        blobs: &mut BTreeMap<String, Blob>,
    ) -> Result<Descriptor, ImageError> {
        let tar = layer::tar(self.entries(binary), self.created)?;
        let diff_id = sha256(&tar);
        let layer = add_blob(blobs, LAYER_MEDIA_TYPE, layer::gzip(&tar));
        let config = add_blob(
            blobs,
            CONFIG_MEDIA_TYPE,
            to_json(&self.config(binary, &diff_id)),
        );
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": MANIFEST_MEDIA_TYPE,
            "config": config,
            "layers": [layer],
        });
        Ok(add_blob(blobs, MANIFEST_MEDIA_TYPE, to_json(&manifest)))
    }

    fn entries(&self, binary: &Binary) -> Vec<Entry> {
        let passwd = format!(
            "root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:{USER_ID}:{USER_ID}:nonroot:/home/nonroot:/sbin/nologin\n"
        );
        let group = format!("root:x:0:\nnonroot:x:{USER_ID}:\n");
        let mut entries = vec![
            Entry::dir("app/", 0o755),
            Entry::dir("etc/", 0o755),
            Entry::file("etc/group", 0o644, group.into_bytes()),
            Entry::file("etc/passwd", 0o644, passwd.into_bytes()),
            Entry::dir("home/", 0o755),
            Entry::dir("home/nonroot/", 0o700).owned_by(USER_ID),
            Entry::dir("tmp/", 0o1777),
            Entry::dir("usr/", 0o755),
            Entry::dir("usr/local/", 0o755),
            Entry::dir("usr/local/bin/", 0o755),
            Entry::file("usr/local/bin/strands-runtime", 0o755, binary.bytes.clone()),
        ];
        if let Some(pem) = &self.ca_certificates {
            entries.push(Entry::dir("etc/ssl/", 0o755));
            entries.push(Entry::dir("etc/ssl/certs/", 0o755));
            entries.push(Entry::file(
                "etc/ssl/certs/ca-certificates.crt",
                0o644,
                pem.clone(),
            ));
        }
        if let Some(agent) = &self.agent_file {
            entries.push(Entry::file("app/agent.json", 0o644, agent.clone()));
        }
        entries
    }

    fn config(&self, binary: &Binary, diff_id: &str) -> serde_json::Value {
        let port = self.port.unwrap_or(8080);
        let mut env = vec!["PATH=/usr/local/bin:/usr/bin:/bin".to_owned()];
        if self.ca_certificates.is_some() {
            env.push(format!("SSL_CERT_FILE={CA_CERTIFICATES_PATH}"));
        }
        if self.agent_file.is_some() {
            env.push(format!("STRANDS_AGENT_FILE={AGENT_FILE_PATH}"));
        }
        if self.port.is_some() {
            env.push(format!("PORT={port}"));
        }
        env.extend(self.env.iter().map(|(k, v)| format!("{k}={v}")));
        let created = rfc3339(self.created);
        let mut config = json!({
            "created": created,
            "architecture": binary.architecture.as_str(),
            "os": "linux",
            "config": {
                "User": format!("{USER_ID}:{USER_ID}"),
                "ExposedPorts": {format!("{port}/tcp"): {}},
                "Env": env,
                "Entrypoint": [BINARY_PATH],
                "Cmd": ["serve"],
                "WorkingDir": "/app",
            },
            "rootfs": {"type": "layers", "diff_ids": [diff_id]},
            "history": [{"created": created, "created_by": "strands-runtime image"}],
        });
        if let Some(variant) = binary.architecture.variant() {
            config["variant"] = json!(variant);
        }
        config
    }
}

/// A content descriptor: what a manifest or index says of a blob.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Descriptor {
    /// The blob's media type.
    #[serde(rename = "mediaType")]
    pub media_type: &'static str,
    /// `sha256:<hex>` of its bytes.
    pub digest: String,
    /// Its length in bytes.
    pub size: u64,
}

/// A blob of the image and its media type.
#[derive(Debug, Clone)]
pub struct Blob {
    /// What it is.
    pub media_type: &'static str,
    /// Its bytes.
    pub bytes: Bytes,
}

/// A built image: every blob by digest, and its root (the manifest, or the index of several).
#[derive(Debug, Clone)]
pub struct Image {
    blobs: BTreeMap<String, Blob>,
    root: Descriptor,
    platforms: Vec<Architecture>,
}

impl Image {
    /// The digest a registry gives the image (`sha256:<hex>` of its root).
    pub fn digest(&self) -> &str {
        &self.root.digest
    }

    /// The root: the manifest, or the index when there are several platforms.
    pub fn root(&self) -> &Descriptor {
        &self.root
    }

    /// The platforms it holds.
    pub fn platforms(&self) -> &[Architecture] {
        &self.platforms
    }

    /// Every blob (layers, configs, manifests, the index), by digest.
    pub fn blobs(&self) -> &BTreeMap<String, Blob> {
        &self.blobs
    }

    /// What pulling it transfers: the sum of its blobs' sizes, in bytes.
    pub fn size(&self) -> u64 {
        self.blobs.values().map(|b| b.bytes.len() as u64).sum()
    }

    /// Writes an OCI image layout directory (`oci-layout`, `index.json`, `blobs/sha256/`), the
    /// image tagged `tag`. The directory may exist; blobs already in it are kept.
    pub fn write_layout(&self, dir: impl AsRef<Path>, tag: &str) -> Result<(), ImageError> {
        layout::write_dir(self, dir.as_ref(), tag)
    }

    /// Writes the same layout as one tar file (what `skopeo copy oci-archive:` reads).
    pub fn write_archive(
        &self,
        path: impl AsRef<Path>,
        tag: &str,
        mtime: u64,
    ) -> Result<(), ImageError> {
        layout::write_archive(self, path.as_ref(), tag, mtime)
    }
}

fn add_blob(
    blobs: &mut BTreeMap<String, Blob>,
    media_type: &'static str,
    bytes: Vec<u8>,
) -> Descriptor {
    let descriptor = Descriptor {
        media_type,
        digest: sha256(&bytes),
        size: bytes.len() as u64,
    };
    blobs.insert(
        descriptor.digest.clone(),
        Blob {
            media_type,
            bytes: Bytes::from(bytes),
        },
    );
    descriptor
}

/// `sha256:<hex>` of `bytes`.
pub fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

fn to_json(value: &impl Serialize) -> Vec<u8> {
    // Serializing a JSON value or a struct of strings and numbers cannot fail.
    serde_json::to_vec(value).unwrap_or_default()
}

/// `seconds` since the epoch as RFC 3339 UTC (`1970-01-01T00:00:00Z`).
fn rfc3339(seconds: u64) -> String {
    UtcTime::from_system_time(UNIX_EPOCH + Duration::from_secs(seconds)).to_rfc3339_seconds()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_rfc3339() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_764_092_784), "2025-11-25T17:46:24Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    }
}
