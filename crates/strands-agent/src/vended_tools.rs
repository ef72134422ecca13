//! Ready-made tools, under the names Python's `strands_tools` and `strands.vended_tools` give
//! them, so agents and agent files move between the two stacks unchanged.
//!
//! | Tool | Python | Notes |
//! |---|---|---|
//! | [`calculator`] | `strands_tools.calculator` | numeric evaluation only (no SymPy modes) |
//! | [`current_time`] | `strands_tools.current_time` | IANA zones from the bundled database |
//! | [`FileRead`] | `strands.vended_tools.file_read` | confined to one directory |
//! | [`FileEditor`] | `strands.vended_tools.file_editor` | confined to one directory; view, create, str_replace, insert |
//! | [`Shell`] | `strands.vended_tools.shell` | `sh -c` in one directory, with only the environment it is given |
//! | `HttpRequest` | `strands.vended_tools.http_request` | feature `http-request-tool`; allowed hosts only, no private addresses unless named |
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
#[cfg(feature = "http-request-tool")]
mod http;
mod shell;

pub use arithmetic::calculator;
pub use clock::current_time;
pub use files::{FileEditor, FileRead};
#[cfg(feature = "http-request-tool")]
pub use http::{HttpRequest, HttpRequestError};
pub use shell::Shell;
