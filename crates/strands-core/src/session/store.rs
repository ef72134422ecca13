//! The seam between Python's session layout and the storage holding it: documents under keys.

use super::SessionResult;
use crate::BoxFuture;

/// Storage of whole documents under `/`-separated keys: the file system, S3, or anything else
/// that can get, atomically put, list and delete. Every `ObjectStore` is a
/// [`SessionRepository`](super::SessionRepository) writing Python Strands' layout (see
/// [`session`](super)), so a backend implements only these few methods.
///
/// Keys are relative (`session_<id>/agents/agent_<id>/agent.json`); the store decides where they
/// live (a root directory, a bucket and prefix). The layout validates every id before building a
/// key, so a key never holds `..`, `\`, control characters or an empty segment; stores that map
/// keys to paths should still refuse such keys.
///
/// ```
/// use std::collections::BTreeMap;
/// use std::sync::Mutex;
/// use strands_core::BoxFuture;
/// use strands_core::session::{ObjectStore, Session, SessionRepository, SessionResult};
///
/// /// Sessions kept in memory.
/// #[derive(Debug, Default)]
/// struct Memory(Mutex<BTreeMap<String, Vec<u8>>>);
///
/// impl Memory {
///     fn objects(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Vec<u8>>> {
///         self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
///     }
/// }
///
/// impl ObjectStore for Memory {
///     fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, SessionResult<Option<Vec<u8>>>> {
///         Box::pin(async move { Ok(self.objects().get(key).cloned()) })
///     }
///     fn put<'a>(&'a self, key: &'a str, body: Vec<u8>) -> BoxFuture<'a, SessionResult<()>> {
///         Box::pin(async move {
///             self.objects().insert(key.to_owned(), body);
///             Ok(())
///         })
///     }
///     fn list<'a>(&'a self, prefix: &'a str) -> BoxFuture<'a, SessionResult<Vec<String>>> {
///         let keys = self.objects().keys().filter(|k| k.starts_with(prefix)).cloned().collect();
///         Box::pin(async move { Ok(keys) })
///     }
///     fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, SessionResult<()>> {
///         Box::pin(async move {
///             self.objects().remove(key);
///             Ok(())
///         })
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let store = Memory::default();
/// store.create_session(&Session::new("user-42")).await?;
/// assert!(store.objects().contains_key("session_user-42/session.json"));
/// assert_eq!(store.read_session("user-42").await?.map(|s| s.session_id).as_deref(), Some("user-42"));
/// # Ok(())
/// # }
/// ```
pub trait ObjectStore: Send + Sync {
    /// The document at `key`, `None` if there is none.
    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, SessionResult<Option<Vec<u8>>>>;

    /// Writes the document at `key`, replacing any: a reader sees the old document or the new
    /// one, never a torn one.
    fn put<'a>(&'a self, key: &'a str, body: Vec<u8>) -> BoxFuture<'a, SessionResult<()>>;

    /// The keys of the documents under `prefix` (which ends with `/`), in any order: at least
    /// those directly under it (a store may return deeper ones too; the layout ignores them).
    /// A prefix that never held anything may be an error (the file system tells a missing
    /// directory from an empty one, as Python's file manager does) or an empty list (S3).
    fn list<'a>(&'a self, prefix: &'a str) -> BoxFuture<'a, SessionResult<Vec<String>>>;

    /// Removes the document at `key`; nothing to remove is not an error.
    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, SessionResult<()>>;

    /// Writes the document at `key` only if there is none; `Ok(false)` if one exists. The
    /// default reads first, so two concurrent callers may both succeed (as with Python's S3
    /// manager); stores with an atomic create-if-absent should override it.
    fn put_new<'a>(&'a self, key: &'a str, body: Vec<u8>) -> BoxFuture<'a, SessionResult<bool>> {
        Box::pin(async move {
            if self.get(key).await?.is_some() {
                return Ok(false);
            }
            self.put(key, body).await.map(|()| true)
        })
    }

    /// The documents at `keys`, in order (`None` for each one missing). The default reads them
    /// one after another; remote stores may read several at once.
    fn get_many<'a>(
        &'a self,
        keys: &'a [String],
    ) -> BoxFuture<'a, SessionResult<Vec<Option<Vec<u8>>>>> {
        Box::pin(async move {
            let mut documents = Vec::with_capacity(keys.len());
            for key in keys {
                documents.push(self.get(key).await?);
            }
            Ok(documents)
        })
    }

    /// Says that `prefix` (ending in `/`) will hold documents. The file system creates the
    /// directory, so an empty one exists as in Python's layout; stores without directories do
    /// nothing, which is the default.
    fn create_prefix<'a>(&'a self, prefix: &'a str) -> BoxFuture<'a, SessionResult<()>> {
        let _ = prefix;
        Box::pin(async { Ok(()) })
    }

    /// Where `key` lives, for error messages (a path, an `s3://` URL). Defaults to the key.
    fn location(&self, key: &str) -> String {
        key.to_owned()
    }
}
