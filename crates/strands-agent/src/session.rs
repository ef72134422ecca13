//! Session persistence: an agent's conversation, state and internal state saved as it runs, so a
//! later agent (in this process, another one, or Python Strands) continues where it left off.
//!
//! The data model and the storage layout are Python Strands' (`strands.session`): a
//! [`SessionRepository`] stores a [`Session`], one [`SessionAgent`] per agent id and one
//! [`SessionMessage`] per message. [`FileSessionRepository`] writes the same files as Python's
//! `FileSessionManager`, so a session directory can move between the two stacks;
//! `strands_aws::S3SessionRepository` writes the same keys to S3.
//!
//! ```
//! use strands_agent::session::{FileSessionRepository, SessionManager};
//! use strands_agent::Agent;
//! use strands_testkit::ScriptedModel;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = std::env::temp_dir().join(format!("strands-doc-{}", std::process::id()));
//! let repository = FileSessionRepository::new(&dir);
//!
//! let mut agent = Agent::builder()
//!     .model(ScriptedModel::builder().text("Hello!").build())
//!     .session_manager(SessionManager::new("user-42", repository.clone())?)
//!     .build()?;
//! agent.invoke("hi").await?;
//!
//! // A new agent on the same session starts from the saved conversation.
//! let mut restored = Agent::builder()
//!     .model(ScriptedModel::builder().text("Welcome back").build())
//!     .session_manager(SessionManager::new("user-42", repository)?)
//!     .build()?;
//! restored.load_session().await?;
//! assert_eq!(restored.messages().len(), 2);
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok(())
//! # }
//! ```

mod error;
mod file;
pub(crate) mod manager;
mod repository;
mod time;
mod types;

pub use error::SessionError;
pub use file::FileSessionRepository;
pub use manager::SessionManager;
pub use repository::{SessionRepository, SessionResult};
pub use time::now_iso8601;
pub use types::{Session, SessionAgent, SessionMessage, SessionType, validate_id};
