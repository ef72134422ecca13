use strands_agent::tool;
use strands_core::ToolContext;

#[tool]
async fn twice(first: ToolContext, a: i64, second: ToolContext) -> i64 {
    let _ = (first, second);
    a
}

fn main() {}
