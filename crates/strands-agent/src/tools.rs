//! Tools: the registry an agent looks tools up in, the concurrent executor, and tools built from
//! closures.
//!
//! Python: `strands.tools`.

pub(crate) mod executor;
pub mod function;
mod output;
pub(crate) mod registry;
pub(crate) mod schema;

#[doc(inline)]
pub use function::FunctionTool;
#[doc(inline)]
pub use output::{IntoToolOutput, Json};
