//! [`LongTermMemory`]: what long-term memory holds about the user, put in front of each prompt.
//!
//! Python: the retrieval half of bedrock-agentcore's `AgentCoreMemorySessionManager`
//! (`retrieval_config`, `context_tag`). When a user message starting with text joins the
//! history, every configured namespace is searched with that text (concurrently), records below
//! the namespace's relevance score are dropped, and the texts, joined by newlines, are inserted
//! as the first content block of the message: `<user_context>...</user_context>`. The session
//! stores the message as it was before (the context is fetched again for each prompt, never
//! stored), as in Python. A failed search is logged and skipped.

use std::fmt;
use std::sync::Arc;

use strands_core::ContentBlock;
use strands_core::Role;
use strands_core::memory::MemoryRetriever;

use crate::hooks::{HookProvider, HookRegistry, MessageAddedEvent};

/// One namespace to search (Python's `RetrievalConfig`).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Retrieval {
    /// The namespace; `{actorId}`, `{sessionId}` and `{memoryStrategyId}` are filled in.
    pub namespace: String,
    /// How many records to ask for (default 10).
    pub top_k: usize,
    /// Records scoring below this are dropped (default 0.2; 0 keeps all).
    pub relevance_score: f64,
    /// Fills `{memoryStrategyId}` (default empty).
    pub strategy_id: Option<String>,
}

impl Retrieval {
    /// `namespace` with Python's defaults: top 10, relevance at least 0.2.
    pub fn new(namespace: impl Into<String>) -> Self {
        Self {
            namespace: namespace.into(),
            top_k: 10,
            relevance_score: 0.2,
            strategy_id: None,
        }
    }

    /// Sets how many records to ask for.
    #[must_use]
    pub fn top_k(mut self, top_k: usize) -> Self {
        self.top_k = top_k.max(1);
        self
    }

    /// Sets the lowest score kept.
    #[must_use]
    pub fn relevance_score(mut self, score: f64) -> Self {
        self.relevance_score = score;
        self
    }

    /// Sets the strategy id that fills `{memoryStrategyId}`.
    #[must_use]
    pub fn strategy_id(mut self, strategy_id: impl Into<String>) -> Self {
        self.strategy_id = Some(strategy_id.into());
        self
    }

    /// The trimmed, non-empty texts of the records scoring at least `relevance_score` (a record
    /// without a score counts as 0, as in Python).
    fn relevant(
        &self,
        records: Vec<strands_core::memory::MemoryRecord>,
    ) -> impl Iterator<Item = String> + '_ {
        records
            .into_iter()
            .filter(|r| r.score.unwrap_or(0.0) >= self.relevance_score)
            .map(|r| r.text.trim().to_owned())
            .filter(|text| !text.is_empty())
    }

    /// The namespace with the placeholders filled.
    fn resolve(&self, actor_id: &str, session_id: &str) -> String {
        self.namespace
            .replace("{actorId}", actor_id)
            .replace("{sessionId}", session_id)
            .replace(
                "{memoryStrategyId}",
                self.strategy_id.as_deref().unwrap_or(""),
            )
    }
}

/// Puts long-term memory in front of each prompt; register it with
/// [`AgentBuilder::hooks`](crate::AgentBuilder::hooks).
///
/// ```
/// use std::sync::Arc;
/// use strands_agent::memory::{LongTermMemory, Retrieval};
/// use strands_core::memory::{MemoryRecord, MemoryRetriever};
/// use strands_core::session::SessionError;
///
/// struct Facts;
/// impl MemoryRetriever for Facts {
///     fn retrieve<'a>(&'a self, _: &'a str, _: &'a str, _: usize)
///         -> strands_core::BoxFuture<'a, Result<Vec<MemoryRecord>, SessionError>> {
///         Box::pin(async { Ok(vec![MemoryRecord::new("Prefers window seats", Some(0.9))]) })
///     }
/// }
///
/// let memory = LongTermMemory::new(Arc::new(Facts), "user-42", "session-1")
///     .retrieval(Retrieval::new("/users/{actorId}/preferences").top_k(5));
/// # let model = strands_testkit::ScriptedModel::builder().build();
/// let agent = strands_agent::Agent::builder().model(model).hooks(memory).build()?;
/// # drop(agent);
/// # Ok::<(), strands_agent::BuildError>(())
/// ```
#[derive(Clone)]
pub struct LongTermMemory {
    retriever: Arc<dyn MemoryRetriever>,
    actor_id: Arc<str>,
    session_id: Arc<str>,
    retrievals: Arc<[Retrieval]>,
    context_tag: Arc<str>,
}

impl fmt::Debug for LongTermMemory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LongTermMemory")
            .field("actor_id", &self.actor_id)
            .field("session_id", &self.session_id)
            .field("retrievals", &self.retrievals)
            .field("context_tag", &self.context_tag)
            .finish_non_exhaustive()
    }
}

impl LongTermMemory {
    /// Memory searched through `retriever` for `actor_id` in `session_id`, with no namespace
    /// yet and Python's tag, `user_context`.
    pub fn new(
        retriever: Arc<dyn MemoryRetriever>,
        actor_id: impl Into<Arc<str>>,
        session_id: impl Into<Arc<str>>,
    ) -> Self {
        Self {
            retriever,
            actor_id: actor_id.into(),
            session_id: session_id.into(),
            retrievals: Arc::from(Vec::new()),
            context_tag: Arc::from("user_context"),
        }
    }

    /// Adds a namespace to search.
    #[must_use]
    pub fn retrieval(mut self, retrieval: Retrieval) -> Self {
        let mut all = self.retrievals.to_vec();
        all.push(retrieval);
        self.retrievals = all.into();
        self
    }

    /// Sets the XML tag around the context (Python's `context_tag`).
    #[must_use]
    pub fn context_tag(mut self, tag: impl Into<Arc<str>>) -> Self {
        self.context_tag = tag.into();
        self
    }

    /// The texts every namespace holds for `query`, in namespace order.
    async fn recall(&self, query: &str) -> Vec<String> {
        let searches = self.retrievals.iter().map(|retrieval| async move {
            let namespace = retrieval.resolve(&self.actor_id, &self.session_id);
            match self
                .retriever
                .retrieve(&namespace, query, retrieval.top_k)
                .await
            {
                Ok(records) => retrieval.relevant(records).collect(),
                Err(error) => {
                    tracing::warn!(namespace, %error, "long-term memory search failed; going on without it");
                    Vec::new()
                }
            }
        });
        futures_util::future::join_all(searches)
            .await
            .into_iter()
            .flatten()
            .collect()
    }

    /// Inserts the context before a user message's text.
    async fn on_message(&self, event: &mut MessageAddedEvent) {
        let message = &mut event.message;
        if message.role != Role::User || self.retrievals.is_empty() {
            return;
        }
        let Some(ContentBlock::Text(query)) = message.content.first() else {
            return;
        };
        let context = self.recall(&query.clone()).await;
        if context.is_empty() {
            return;
        }
        let tag = &self.context_tag;
        let text = format!("<{tag}>{}</{tag}>", context.join("\n"));
        message.content.insert(0, ContentBlock::Text(text));
    }
}

/// The `search_memory` tool's input.
#[derive(serde::Deserialize, schemars::JsonSchema)]
struct SearchInput {
    /// What to look for, in the user's words.
    query: String,
    /// How many records to return from each namespace (default: the namespace's `top_k`).
    top_k: Option<usize>,
}

impl LongTermMemory {
    /// A `search_memory` tool: the model searches the same namespaces with its own query (records
    /// below each namespace's relevance score are left out) and reads the texts, one per line, or
    /// `No memories found.`; a failed search is the tool's error.
    pub fn search_tool(&self) -> crate::tools::FunctionTool {
        let memory = self.clone();
        crate::tools::FunctionTool::new(
            "search_memory",
            "Search long-term memory about the user (facts, preferences, earlier conversations) by meaning.",
            move |input: SearchInput| {
                let memory = memory.clone();
                async move { memory.search(&input.query, input.top_k).await }
            },
        )
    }

    async fn search(&self, query: &str, top_k: Option<usize>) -> Result<String, String> {
        let mut found = Vec::new();
        for retrieval in self.retrievals.iter() {
            let namespace = retrieval.resolve(&self.actor_id, &self.session_id);
            let limit = top_k.unwrap_or(retrieval.top_k).clamp(1, 100);
            let records = self
                .retriever
                .retrieve(&namespace, query, limit)
                .await
                .map_err(|error| format!("memory search failed: {error}"))?;
            found.extend(retrieval.relevant(records));
        }
        if found.is_empty() {
            return Ok("No memories found.".to_owned());
        }
        Ok(found.join("\n"))
    }
}

impl HookProvider for LongTermMemory {
    fn register_hooks(&self, registry: &mut HookRegistry) {
        let memory = self.clone();
        registry.add_async_callback(move |event: &mut MessageAddedEvent| {
            let memory = memory.clone();
            Box::pin(async move { memory.on_message(event).await })
        });
    }
}
