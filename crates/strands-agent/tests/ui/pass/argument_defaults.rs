//! Argument defaults and forwarded `#[serde]`/`#[schemars]` attributes compile, using only
//! `strands_agent` paths, and the function receives the defaults.
#![deny(warnings, missing_docs)]

use strands_agent::tool;
use strands_core::{Tool, ToolContext};

/// Repeat a word.
///
/// Args:
///     word: what to repeat
///     times: how often
///     separator: between the words
///     tags: extra words
#[tool]
pub fn repeat(
    word: String,
    #[tool(default = 2)]
    #[schemars(range(min = 1, max = 10))]
    times: u32,
    #[tool(default = ", ")] separator: String,
    #[tool(default)] tags: Vec<String>,
    #[serde(default)] loud: bool,
    context: ToolContext,
) -> String {
    let _ = context;
    let mut words = vec![word; times as usize];
    words.extend(tags);
    let text = words.join(&separator);
    if loud { text.to_uppercase() } else { text }
}

fn main() {
    let schema = &repeat.spec().input_schema.json;
    assert_eq!(schema["properties"]["times"]["default"], 2);
    assert_eq!(schema["properties"]["times"]["minimum"], 1);
    assert_eq!(schema["properties"]["separator"]["default"], ", ");
    assert_eq!(
        schema["properties"]["tags"]["default"],
        serde_json::json!([])
    );
    assert_eq!(schema["required"], serde_json::json!(["word"]));
    assert_eq!(
        repeat::call(
            "a".into(),
            2,
            "-".into(),
            vec![],
            true,
            ToolContext::default()
        ),
        "A-A"
    );
}
