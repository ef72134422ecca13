//! Async, sync, blocking and context-taking tools compile, using only `strands_agent` paths.
#![deny(warnings, missing_docs)]

use strands_agent::tool;
use strands_core::{Tool, ToolContext};

/// Add two integers.
///
/// # Arguments
/// * `a` - first addend
/// * `b` - second addend
#[tool]
pub async fn add(a: i64, b: i64) -> i64 {
    a + b
}

/// Shout.
///
/// Args:
///     text: what to shout
#[tool(name = "shout_tool", description = "Upper-cases text.")]
pub fn shout(mut text: String) -> String {
    text.make_ascii_uppercase();
    text
}

/// Hash on the blocking pool.
#[tool(blocking)]
pub fn hash(r#type: String, seed: Option<u64>) -> Result<u64, String> {
    Ok(r#type.len() as u64 + seed.unwrap_or(0))
}

#[tool]
#[allow(clippy::unused_async, reason = "tools may be async without awaiting")]
pub(crate) async fn wait(context: ToolContext, millis: u64) -> bool {
    let _ = millis;
    context.is_cancelled()
}

mod nested {
    /// A tool in a module that imports nothing.
    #[super::tool]
    pub fn nothing() {}
}

/// Compiled out entirely: the `#[cfg]` reaches the struct and the `Tool` impl too.
#[tool]
#[cfg(any())]
pub fn gone() -> i64 {
    0
}

/// Kept.
#[tool]
#[cfg(all())]
pub fn kept() -> i64 {
    1
}

#[allow(
    dead_code,
    non_camel_case_types,
    reason = "proves the tool `gone` was compiled out: no clash"
)]
struct gone;

fn main() {
    let tools: [&dyn Tool; 6] = [&add, &shout, &hash, &wait, &nested::nothing, &kept];
    let names: Vec<&str> = tools.iter().map(|t| t.name()).collect();
    assert_eq!(
        names,
        ["add", "shout_tool", "hash", "wait", "nothing", "kept"]
    );
    assert_eq!(hash.spec().input_schema.json["required"][0], "type");
    assert_eq!(shout::call("hi".to_owned()), "HI");
    let _ = add::call(1, 2);
}
