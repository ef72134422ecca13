use strands_agent::tool;
use strands_core::ToolContext;

#[tool]
fn add(#[tool(defualt = 5)] a: i64, #[tool(default, default = 1)] b: i64) -> i64 {
    a + b
}

#[tool]
fn with_context(#[tool(default)] context: ToolContext) -> String {
    let _ = context;
    String::new()
}

fn main() {}
