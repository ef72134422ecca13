use strands_agent::tool;

#[tool]
fn shout(text: &str, (a, b): (i64, i64)) -> String {
    format!("{text}{a}{b}")
}

fn main() {}
