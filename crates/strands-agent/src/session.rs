//! Session persistence: an agent's conversation, state and internal state saved as it runs, so a
//! later agent (in this process, another one, or Python Strands) continues where it left off.
//!
//! The data model, the [`SessionRepository`] trait and Python's storage layout live in
//! [`strands_core::session`] (re-exported here), so storage backends depend on `strands-core`
//! only. This module adds what needs the agent: the [`SessionManager`] that persists one agent as
//! it runs, and [`FileSessionRepository`], which writes the same files as Python's
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

mod file;
pub(crate) mod manager;

pub use file::FileSessionRepository;
pub use manager::SessionManager;
#[doc(no_inline)]
pub use strands_core::session::{
    ObjectStore, Session, SessionAgent, SessionError, SessionMessage, SessionRepository,
    SessionResult, SessionType, validate_id,
};
