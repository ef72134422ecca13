//! A model built at its first call, for configuration that needs the network (e.g. a region read
//! from a secret) without delaying start-up or `/ping`.

use std::fmt;
use std::sync::Arc;

use futures_util::StreamExt;
use strands_core::{BoxFuture, Model, ModelError, ModelRequest, ModelStream};
use tokio::sync::OnceCell;

type Init = dyn Fn() -> BoxFuture<'static, Result<Arc<dyn Model>, ModelError>> + Send + Sync;

/// Builds the real model on the first call; a failed build is retried at the next call.
pub struct LazyModel {
    model_id: String,
    cell: OnceCell<Arc<dyn Model>>,
    init: Box<Init>,
}

impl fmt::Debug for LazyModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LazyModel")
            .field("model_id", &self.model_id)
            .field("built", &self.cell.initialized())
            .finish_non_exhaustive()
    }
}

impl LazyModel {
    /// A model with id `model_id` that `init` builds when first needed.
    pub fn new(
        model_id: impl Into<String>,
        init: impl Fn() -> BoxFuture<'static, Result<Arc<dyn Model>, ModelError>>
        + Send
        + Sync
        + 'static,
    ) -> Self {
        Self {
            model_id: model_id.into(),
            cell: OnceCell::new(),
            init: Box::new(init),
        }
    }
}

impl Model for LazyModel {
    fn model_id(&self) -> &str {
        &self.model_id
    }

    fn stream<'a>(&'a self, request: ModelRequest<'a>) -> ModelStream<'a> {
        Box::pin(async_stream::try_stream! {
            let model = self.cell.get_or_try_init(|| (self.init)()).await?;
            let mut events = model.stream(request);
            while let Some(event) = events.next().await {
                yield event?;
            }
        })
    }
}
