//! A model built at its first call.

use std::fmt;
use std::sync::Arc;

use strands_core::{BoxFuture, Model, ModelError, ModelRequest, ModelStream};
use tokio::sync::OnceCell;

type Init = dyn Fn() -> BoxFuture<'static, Result<Arc<dyn Model>, ModelError>> + Send + Sync;

/// A [`Model`] that builds the real model on its first call, for configuration that needs the
/// network (e.g. a region read from a secret) without delaying start-up; a failed build is
/// returned as that call's error and retried at the next call.
///
/// Its [`model_id`](Model::model_id) is known up front, so it can be logged before the model
/// exists.
///
/// Python: no equivalent (Python providers build their clients eagerly).
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
///
/// use strands_core::Model;
/// use strands_models::LazyModel;
/// use strands_testkit::ScriptedModel;
///
/// let model = LazyModel::new("scripted-model", || {
///     Box::pin(async {
///         // Read whatever the model needs from the network here.
///         let model = ScriptedModel::builder().text("Hello!").build();
///         Ok(Arc::new(model) as Arc<dyn Model>)
///     })
/// });
/// assert_eq!(model.model_id(), "scripted-model");
/// ```
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
    /// A model with id `model_id` that `init` builds when first needed. `init` runs again at
    /// the next call after it failed, and never again once it succeeded.
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
            while let Some(event) =
                std::future::poll_fn(|cx| events.as_mut().poll_next(cx)).await
            {
                yield event?;
            }
        })
    }
}
