//! Long-term memory: what an agent recalls by meaning across sessions (facts, preferences,
//! summaries a memory service extracted), and the seam a backend implements.
//!
//! `strands_aws::AgentCoreMemory` retrieves from AgentCore Memory;
//! `strands_agent::memory::LongTermMemory` puts what it finds in front of the user's message, as
//! Python's `AgentCoreMemorySessionManager` does.

use crate::BoxFuture;
use crate::session::SessionError;

/// One record a search found.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct MemoryRecord {
    /// The record's text.
    pub text: String,
    /// How relevant it is to the query (higher is closer), if the backend says.
    pub score: Option<f64>,
}

impl MemoryRecord {
    /// A record with `text` and `score`.
    pub fn new(text: impl Into<String>, score: Option<f64>) -> Self {
        Self {
            text: text.into(),
            score,
        }
    }
}

/// Searches long-term memory.
pub trait MemoryRetriever: Send + Sync {
    /// At most `top_k` records under `namespace` (a path prefix, e.g. `/users/42/facts`) closest
    /// to `query`, the closest first.
    fn retrieve<'a>(
        &'a self,
        namespace: &'a str,
        query: &'a str,
        top_k: usize,
    ) -> BoxFuture<'a, Result<Vec<MemoryRecord>, SessionError>>;
}
