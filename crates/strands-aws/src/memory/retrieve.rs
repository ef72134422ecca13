//! Long-term memory search: `RetrieveMemoryRecords` as Python's `MemoryClient.retrieve_memories`
//! sends it (`namespacePath`, `searchCriteria{searchQuery, topK}`).

use aws_sdk_bedrockagentcore::types::{MemoryContent, SearchCriteria};
use strands_core::BoxFuture;
use strands_core::memory::{MemoryRecord, MemoryRetriever};
use strands_core::session::SessionError;

use super::errors::Call;
use super::repository::AgentCoreMemory;

/// The most records one search asks for (the API's `topK` bound).
const MAX_TOP_K: usize = 100;

impl AgentCoreMemory {
    /// At most `top_k` records under the namespace path `namespace`, closest to `query` first.
    ///
    /// # Errors
    ///
    /// A [`SessionError::Backend`] saying what failed and what fixes it.
    pub async fn retrieve(
        &self,
        namespace: &str,
        query: &str,
        top_k: usize,
    ) -> Result<Vec<MemoryRecord>, SessionError> {
        let top_k = i32::try_from(top_k.clamp(1, MAX_TOP_K)).unwrap_or(10);
        let criteria = SearchCriteria::builder()
            .search_query(query)
            .top_k(top_k)
            .build()
            .map_err(|error| SessionError::Backend {
                message: format!("building a memory search failed: {error}"),
                source: Some(Box::new(error)),
            })?;
        let output = self
            .client()
            .retrieve_memory_records()
            .memory_id(self.memory_id())
            .namespace_path(namespace)
            .search_criteria(criteria)
            .send()
            .await
            .map_err(|error| {
                Call {
                    operation: "RetrieveMemoryRecords",
                    memory_id: self.memory_id(),
                    session: None,
                }
                .error(error)
            })?;
        Ok(output
            .memory_record_summaries()
            .iter()
            .filter_map(|summary| match summary.content()? {
                MemoryContent::Text(text) => Some(MemoryRecord::new(text, summary.score())),
                _ => None,
            })
            .collect())
    }
}

impl MemoryRetriever for AgentCoreMemory {
    fn retrieve<'a>(
        &'a self,
        namespace: &'a str,
        query: &'a str,
        top_k: usize,
    ) -> BoxFuture<'a, Result<Vec<MemoryRecord>, SessionError>> {
        Box::pin(AgentCoreMemory::retrieve(self, namespace, query, top_k))
    }
}
