//! The workload access token outside AgentCore, as Python gets it for local development: a
//! workload identity and a user id kept in `./.agentcore.json`.

use std::path::Path;

use serde_json::{Map, Value};

use super::{AgentCoreIdentity, IdentityError, UserIdentifier, Workload};

/// The file local development keeps its workload identity and user id in (Python's).
pub const LOCAL_CONFIG_FILE: &str = ".agentcore.json";

/// Python's error when a container (`DOCKER_CONTAINER=1`) was invoked without a workload access
/// token.
pub const DOCKER_CONTAINER_MESSAGE: &str = "Workload access token has not been set. If invoking agent runtime via SIGV4 inbound auth, please specify the X-Amzn-Bedrock-AgentCore-Runtime-User-Id header and retry. For details, see - https://docs.aws.amazon.com/bedrock-agentcore/latest/devguide/runtime-oauth.html";

const NAME_KEY: &str = "workload_identity_name";
const USER_KEY: &str = "user_id";

impl AgentCoreIdentity {
    /// The workload when the invocation brought no workload access token (Python's
    /// `_get_workload_access_token`): in a container (`DOCKER_CONTAINER=1`) an error saying what
    /// to send, else local development with `./.agentcore.json`.
    ///
    /// # Errors
    ///
    /// [`IdentityError::NoWorkloadToken`] in a container; as [`AgentCoreIdentity::local_workload`].
    pub async fn workload_without_invocation_token(&self) -> Result<Workload, IdentityError> {
        if std::env::var("DOCKER_CONTAINER").as_deref() == Ok("1") {
            return Err(IdentityError::NoWorkloadToken(
                DOCKER_CONTAINER_MESSAGE.to_owned(),
            ));
        }
        self.local_workload(Path::new(LOCAL_CONFIG_FILE)).await
    }

    /// Local development (Python's `_set_up_local_auth`): the workload identity and user id in
    /// `path`, each created when missing (`CreateWorkloadIdentity` with `workload-<8 hex>`, a
    /// user id of 8 hex digits) and written back, then a workload access token for that user
    /// (`GetWorkloadAccessTokenForUserId`, on every call as in Python). Other keys of the file
    /// are kept.
    ///
    /// # Errors
    ///
    /// The workload identity could not be created, or the token not issued. A file that cannot
    /// be written is only warned about, as in Python.
    pub async fn local_workload(&self, path: &Path) -> Result<Workload, IdentityError> {
        let mut config = read_config(path).await;
        let text = |config: &Map<String, Value>, key: &str| {
            config
                .get(key)
                .and_then(Value::as_str)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        let mut changed = false;
        let name = match text(&config, NAME_KEY) {
            Some(name) => name,
            None => {
                let name = format!("workload-{}", short_hex());
                let name = self.create_workload_identity(&name, &[]).await?;
                tracing::info!(workload = %name, path = %path.display(), "created a workload identity for local development");
                config.insert(NAME_KEY.to_owned(), Value::String(name.clone()));
                changed = true;
                name
            }
        };
        let user = match text(&config, USER_KEY) {
            Some(user) => user,
            None => {
                let user = short_hex();
                config.insert(USER_KEY.to_owned(), Value::String(user.clone()));
                changed = true;
                user
            }
        };
        if changed {
            write_config(path, &config).await;
        }
        let token = self
            .workload_access_token(&name, Some(&UserIdentifier::UserId(user.clone())))
            .await?;
        Ok(Workload::new(token, format!("local:{user}")))
    }
}

/// The first 8 hex digits of a random UUID (Python's `uuid.uuid4().hex[:8]`).
fn short_hex() -> String {
    let mut hex = uuid::Uuid::new_v4().simple().to_string();
    hex.truncate(8);
    hex
}

/// The file's object, or an empty one when it is missing or not a JSON object (Python goes on
/// the same way).
async fn read_config(path: &Path) -> Map<String, Value> {
    match tokio::fs::read(path).await {
        Ok(bytes) => match serde_json::from_slice(&bytes) {
            Ok(Value::Object(map)) => map,
            _ => {
                tracing::warn!(path = %path.display(), "the local workload identity file is not a JSON object; creating a new identity");
                Map::new()
            }
        },
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Map::new(),
        Err(error) => {
            tracing::warn!(path = %path.display(), %error, "could not read the local workload identity file");
            Map::new()
        }
    }
}

/// Writes the file as Python's `json.dump(config, file, indent=2)`.
async fn write_config(path: &Path, config: &Map<String, Value>) {
    let text = serde_json::to_string_pretty(config).unwrap_or_default();
    if let Err(error) = tokio::fs::write(path, text).await {
        tracing::warn!(path = %path.display(), %error, "could not write the created workload identity to the file");
    }
}
