//! Ready-made tools, under the names Python's `strands_tools` and `strands.vended_tools` give
//! them, so agents and agent files move between the two stacks unchanged.
//!
//! | Tool | Python | Notes |
//! |---|---|---|
//! | [`calculator`] | `strands_tools.calculator` | numeric evaluation only (no SymPy modes) |
//! | [`current_time`] | `strands_tools.current_time` | IANA zones from the bundled database |
//! | [`FileRead`] | `strands.vended_tools.file_read` | confined to one directory |
//! | [`FileEditor`] | `strands.vended_tools.file_editor` | confined to one directory; view, create, str_replace, insert |
//!
//! ```
//! use strands_agent::vended_tools::{calculator, current_time};
//!
//! # let model = strands_testkit::ScriptedModel::builder().build();
//! let agent = strands_agent::Agent::builder()
//!     .model(model)
//!     .tool(calculator)
//!     .tool(current_time)
//!     .build()?;
//! # drop(agent);
//! # Ok::<(), strands_agent::BuildError>(())
//! ```

mod arithmetic;
mod clock;
mod files;

pub use arithmetic::calculator;
pub use clock::current_time;
pub use files::{FileEditor, FileRead};
