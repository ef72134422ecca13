//! Session persistence, the part every backend shares: the records Python Strands stores
//! (`strands.types.session`), the [`SessionRepository`] the agent writes through, the id rule
//! that keeps a record inside its namespace, and Python's storage layout written once over the
//! small [`ObjectStore`] seam.
//!
//! A backend that stores documents under keys implements [`ObjectStore`] (get, put atomically,
//! list, delete) and is then a [`SessionRepository`] in Python's exact layout:
//! `strands_agent::session::FileSessionRepository` (the files of Python's `FileSessionManager`)
//! and `strands_aws::S3SessionRepository` (the keys of Python's `S3SessionManager`) are such
//! stores, so a session moves between the two stacks unchanged. Storage that is not a key-value
//! store implements [`SessionRepository`] directly.
//!
//! No I/O happens here: the stores do it.

mod error;
mod layout;
mod records;
mod repository;
mod store;

#[doc(inline)]
pub use error::SessionError;
#[doc(inline)]
pub use records::{Session, SessionAgent, SessionMessage, SessionType, validate_id};
#[doc(inline)]
pub use repository::{SessionRepository, SessionResult};
#[doc(inline)]
pub use store::ObjectStore;
