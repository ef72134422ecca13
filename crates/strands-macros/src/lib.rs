//! The `#[tool]` attribute of the (unofficial) Rust port of [Strands Agents]: it turns a
//! function into a tool an agent can call, with its name, description and JSON input schema
//! taken from the function itself, like Python's `@tool` decorator.
//!
//! Use it through `strands-agent`, which re-exports it as `strands_agent::tool`; the generated
//! code refers to `strands-agent` (found under any name it was given in `Cargo.toml`) and to
//! nothing else, so the calling crate needs neither `serde` nor `schemars`.
//!
//! | Attribute argument | Effect | Default |
//! |---|---|---|
//! | `name = "..."` | The tool name the model sees. | The function name. |
//! | `description = "..."` | The tool description the model sees. | The doc comment without its arguments section; the function name if there is none. |
//! | `blocking` | Runs a synchronous function on tokio's blocking pool (`spawn_blocking`). Not allowed on `async fn`. | Synchronous functions run inline on the agent's task. |
//!
//! On a parameter, `#[tool(default = expr)]` or `#[tool(default)]` lets the model omit the
//! argument, and `#[serde(...)]`/`#[schemars(...)]` pass on to the generated arguments struct.
//!
//! See [`macro@tool`] for the full rules and an example.
//!
//! [Strands Agents]: https://strandsagents.com
#![cfg_attr(docsrs, feature(doc_cfg))]
#![doc(test(attr(deny(warnings))))]

use proc_macro::TokenStream;

mod args;
mod crate_path;
mod doc_comment;
mod expand;
mod signature;

#[doc = include_str!("docs/tool.md")]
#[proc_macro_attribute]
pub fn tool(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand::tool(attr.into(), &item.into()).into()
}
