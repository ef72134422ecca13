//! The generated tokens → Strands [`StreamEvent`]s: the generation thread processes the prompt,
//! samples the answer and streams its pieces back.

use std::num::NonZeroU32;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, PoisonError};
use std::time::{Duration, Instant};

use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::LlamaToken;
use serde_json::{Value, json};
use strands_core::streaming::MessageStopEvent;
use strands_core::{Metrics, ModelError, StopReason, StreamEvent, Usage};
use tokio::sync::mpsc;

use super::{BATCH_SIZE, Inner, LocalConfig, backend, errors};

/// Events buffered between the generation thread and the consumer; generation pauses when
/// the consumer falls this far behind.
const CHANNEL_CAPACITY: usize = 64;

/// llama.cpp rounds context sizes up to a multiple of this.
const CONTEXT_PADDING: u32 = 256;

type Events = mpsc::Receiver<Result<StreamEvent, ModelError>>;
type Sink = mpsc::Sender<Result<StreamEvent, ModelError>>;

/// Starts generating the answer to `prompt` on a new thread; the receiver yields the stream
/// events. Dropping the receiver stops the thread at its next step.
pub(super) fn spawn(
    inner: Arc<Inner>,
    prompt: String,
    started: Instant,
) -> Result<Events, ModelError> {
    let (sink, events) = mpsc::channel(CHANNEL_CAPACITY);
    std::thread::Builder::new()
        .name("strands-local-model".to_owned())
        .spawn(move || run(&inner, &prompt, &sink, started))
        .map_err(|error| {
            ModelError::provider(
                "could not start the local model's generation thread",
                Some(Box::new(error)),
            )
        })?;
    Ok(events)
}

fn run(inner: &Inner, prompt: &str, sink: &Sink, started: Instant) {
    let outcome = catch_unwind(AssertUnwindSafe(|| generate(inner, prompt, sink, started)));
    let error = match outcome {
        Ok(Ok(())) => return,
        Ok(Err(error)) => error,
        Err(_) => ModelError::provider("llama.cpp generation panicked", None),
    };
    // The consumer may be gone; then nobody needs the error.
    let _ = sink.blocking_send(Err(error));
}

/// Timings of one call, logged at debug and sent as the message stop's
/// `additionalModelResponseFields.timings`.
#[derive(Debug, Default)]
struct Timings {
    prompt_tokens: usize,
    prompt: Duration,
    generated: usize,
    generation: Duration,
}

impl Timings {
    /// `{"timings": {...}}` with the field names of llama.cpp's server: `prompt_n`,
    /// `prompt_ms`, `prompt_per_second`, `predicted_n`, `predicted_ms`, `predicted_per_second`.
    fn to_json(&self) -> Value {
        json!({"timings": {
            "prompt_n": self.prompt_tokens,
            "prompt_ms": millis(self.prompt),
            "prompt_per_second": per_second(self.prompt_tokens, self.prompt),
            "predicted_n": self.generated,
            "predicted_ms": millis(self.generation),
            "predicted_per_second": per_second(self.generated, self.generation),
        }})
    }
}

fn millis(elapsed: Duration) -> f64 {
    elapsed.as_secs_f64() * 1000.0
}

fn per_second(tokens: usize, elapsed: Duration) -> f64 {
    let seconds = elapsed.as_secs_f64();
    if seconds > 0.0 {
        tokens as f64 / seconds
    } else {
        0.0
    }
}

fn generate(inner: &Inner, prompt: &str, sink: &Sink, started: Instant) -> Result<(), ModelError> {
    let config = &inner.config;
    let vocab = inner.model.vocab();
    let tokens = prompt_tokens(&vocab.tokenize(prompt.as_bytes(), true, true), vocab.bos());
    let n_prompt = tokens.len();
    let n_ctx = config.context_size as usize;
    if n_prompt == 0 {
        return Err(ModelError::invalid_request("the prompt is empty"));
    }
    if n_prompt >= n_ctx {
        return Err(ModelError::context_window_overflow(format!(
            "the prompt has {n_prompt} tokens and the context holds {n_ctx} (prompt plus answer)"
        )));
    }
    let mut ctx = new_context(inner, context_tokens(config, n_prompt))?;
    let n_ctx = ctx.n_ctx() as usize;
    let mut timings = Timings {
        prompt_tokens: n_prompt,
        ..Timings::default()
    };

    // Prompt processing, one batch at a time so that a dropped stream is noticed.
    let prompt_started = Instant::now();
    let batch_size = BATCH_SIZE as usize;
    let mut batch = LlamaBatch::new(batch_size, 1);
    for (index, chunk) in tokens.chunks(batch_size).enumerate() {
        if sink.is_closed() {
            return Ok(());
        }
        batch.clear();
        for (offset, token) in chunk.iter().enumerate() {
            let position = index * batch_size + offset;
            add(&mut batch, *token, position, position + 1 == n_prompt)?;
        }
        decode(&mut ctx, &mut batch)?;
    }
    timings.prompt = prompt_started.elapsed();

    if !send(sink, StreamEvent::message_start()) || !send(sink, StreamEvent::block_start()) {
        return Ok(());
    }

    let generation_started = Instant::now();
    let mut sampler = sampler(config, inner.model.n_vocab());
    let mut text = Utf8Pieces::default();
    let mut piece = Vec::with_capacity(16);
    let mut position = n_prompt;
    let stop_reason = loop {
        if config
            .max_tokens
            .is_some_and(|max| timings.generated >= max as usize)
        {
            break StopReason::MaxTokens;
        }
        if position >= n_ctx {
            // The context is full: the answer was cut short, as with an output limit.
            break StopReason::MaxTokens;
        }
        let token = sampler.sample(&ctx, batch.n_tokens() - 1);
        if vocab.is_eog(token) {
            break StopReason::EndTurn;
        }
        timings.generated += 1;
        piece.clear();
        vocab.token_to_piece_into(token, &mut piece, false, None);
        if let Some(delta) = text.push(&piece)
            && !send(sink, StreamEvent::text_delta(delta))
        {
            return Ok(());
        }
        if config
            .max_tokens
            .is_some_and(|max| timings.generated >= max as usize)
        {
            // No need to evaluate a token nothing will follow.
            break StopReason::MaxTokens;
        }
        batch.clear();
        add(&mut batch, token, position, true)?;
        position += 1;
        decode(&mut ctx, &mut batch)?;
        if sink.is_closed() {
            return Ok(());
        }
    };
    timings.generation = generation_started.elapsed();
    if let Some(rest) = text.finish()
        && !send(sink, StreamEvent::text_delta(rest))
    {
        return Ok(());
    }
    log_timings(&inner.model_id, &timings);

    let usage = Usage::new(n_prompt as u64, timings.generated as u64);
    let latency = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let stop = MessageStopEvent::new(stop_reason, Some(timings.to_json()));
    let _ = send(sink, StreamEvent::block_stop())
        && send(sink, StreamEvent::MessageStop(stop))
        && send(sink, StreamEvent::metadata(usage, Metrics::new(latency)));
    Ok(())
}

/// Removes a doubled BOS: chat templates often spell it out and the tokenizer adds one too.
fn prompt_tokens(tokens: &[LlamaToken], bos: LlamaToken) -> Vec<LlamaToken> {
    match tokens {
        [first, second, rest @ ..] if *first == bos && *second == bos => {
            let mut deduplicated = Vec::with_capacity(rest.len() + 1);
            deduplicated.push(bos);
            deduplicated.extend_from_slice(rest);
            deduplicated
        }
        _ => tokens.to_vec(),
    }
}

/// The context a call needs: the prompt plus the answer limit, rounded up to llama.cpp's
/// padding, at most the configured size. Short calls then allocate a small KV cache.
fn context_tokens(config: &LocalConfig, n_prompt: usize) -> u32 {
    let answer = config.max_tokens.unwrap_or(config.context_size);
    let needed = u32::try_from(n_prompt)
        .unwrap_or(u32::MAX)
        .saturating_add(answer)
        .saturating_add(1);
    let padded = needed
        .div_ceil(CONTEXT_PADDING)
        .saturating_mul(CONTEXT_PADDING);
    padded.min(config.context_size)
}

fn new_context(inner: &Inner, n_ctx: u32) -> Result<LlamaContext<'_>, ModelError> {
    let backend = backend::backend().map_err(|error| errors::backend_error(&error))?;
    let threads = i32::try_from(inner.config.threads).unwrap_or(i32::MAX);
    let params = LlamaContextParams::default()
        .with_n_ctx(NonZeroU32::new(n_ctx))
        .with_n_batch(BATCH_SIZE)
        .with_n_ubatch(BATCH_SIZE)
        .with_n_threads(threads)
        .with_n_threads_batch(threads);
    let _serialised = inner
        .new_context
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    inner
        .model
        .new_context(backend, params)
        .map_err(|error| errors::context_error(error, n_ctx))
}

/// How many of the last generated tokens the repetition penalty looks at.
const PENALTY_LAST_N: i32 = 64;

fn sampler(config: &LocalConfig, n_vocab: i32) -> LlamaSampler {
    let mut chain = Vec::with_capacity(4);
    if config.repeat_penalty > 1.0 {
        // Small models loop on a phrase until the token limit; llama.cpp's repetition penalty
        // (its CLI's `--repeat-penalty`) breaks the loop.
        chain.push(LlamaSampler::penalties(
            n_vocab,
            PENALTY_LAST_N,
            config.repeat_penalty,
            0.0,
            0.0,
        ));
    }
    let Some(temperature) = config.temperature else {
        chain.push(LlamaSampler::greedy());
        return LlamaSampler::chain_simple(chain);
    };
    if let Some(top_p) = config.top_p {
        chain.push(LlamaSampler::top_p(top_p, 1));
    }
    chain.push(LlamaSampler::temp(temperature));
    // llama.cpp's LLAMA_DEFAULT_SEED: a random seed.
    chain.push(LlamaSampler::dist(config.seed.unwrap_or(u32::MAX)));
    LlamaSampler::chain_simple(chain)
}

fn add(
    batch: &mut LlamaBatch<'_>,
    token: LlamaToken,
    position: usize,
    logits: bool,
) -> Result<(), ModelError> {
    let position = i32::try_from(position).map_err(|_| errors::position_error())?;
    batch
        .add(token, position, &[0], logits)
        .map_err(errors::batch_error)
}

fn decode(ctx: &mut LlamaContext<'_>, batch: &mut LlamaBatch<'_>) -> Result<(), ModelError> {
    ctx.decode(batch).map_err(errors::decode_error)
}

/// Sends an event; `false` when the consumer dropped the stream.
fn send(sink: &Sink, event: StreamEvent) -> bool {
    sink.blocking_send(Ok(event)).is_ok()
}

fn log_timings(model_id: &str, timings: &Timings) {
    tracing::debug!(
        model_id,
        prompt_tokens = timings.prompt_tokens,
        prompt_ms = millis(timings.prompt),
        prompt_tokens_per_second = per_second(timings.prompt_tokens, timings.prompt),
        generated_tokens = timings.generated,
        generation_ms = millis(timings.generation),
        generation_tokens_per_second = per_second(timings.generated, timings.generation),
        "local model call finished"
    );
}

/// Turns token pieces (bytes) into text: a UTF-8 character split across tokens is held back
/// until its last byte arrives; bytes that can never be valid become U+FFFD.
#[derive(Debug, Default)]
struct Utf8Pieces {
    pending: Vec<u8>,
}

impl Utf8Pieces {
    /// The text that is complete after `bytes`, if any.
    fn push(&mut self, bytes: &[u8]) -> Option<String> {
        self.pending.extend_from_slice(bytes);
        let mut out = String::new();
        loop {
            match std::str::from_utf8(&self.pending) {
                Ok(text) => {
                    out.push_str(text);
                    self.pending.clear();
                    break;
                }
                Err(error) => {
                    let valid = error.valid_up_to();
                    out.push_str(&String::from_utf8_lossy(&self.pending[..valid]));
                    match error.error_len() {
                        // Invalid bytes: replace them and go on after them.
                        Some(invalid) => {
                            out.push(char::REPLACEMENT_CHARACTER);
                            self.pending.drain(..valid + invalid);
                        }
                        // An incomplete character at the end: keep it for the next piece.
                        None => {
                            self.pending.drain(..valid);
                            break;
                        }
                    }
                }
            }
        }
        (!out.is_empty()).then_some(out)
    }

    /// Whatever is still held back (an incomplete character at the end of the answer).
    fn finish(&mut self) -> Option<String> {
        let rest = std::mem::take(&mut self.pending);
        (!rest.is_empty()).then(|| String::from_utf8_lossy(&rest).into_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_split_across_pieces_is_held_until_complete() {
        let mut pieces = Utf8Pieces::default();
        let euro = "€".as_bytes(); // three bytes
        assert_eq!(pieces.push(b"price: "), Some("price: ".to_owned()));
        assert_eq!(pieces.push(&euro[..1]), None);
        assert_eq!(pieces.push(&euro[1..2]), None);
        assert_eq!(pieces.push(&[euro[2], b'5']), Some("€5".to_owned()));
        assert_eq!(pieces.finish(), None);
    }

    #[test]
    fn utf8_emoji_split_over_four_pieces_arrives_whole() {
        let mut pieces = Utf8Pieces::default();
        let mut out = String::new();
        for byte in "a🦀b".as_bytes() {
            if let Some(text) = pieces.push(&[*byte]) {
                out.push_str(&text);
            }
        }
        assert_eq!(out, "a🦀b");
    }

    #[test]
    fn invalid_utf8_becomes_replacement_characters() {
        let mut pieces = Utf8Pieces::default();
        assert_eq!(
            pieces.push(&[b'x', 0xff, b'y']),
            Some("x\u{fffd}y".to_owned())
        );
        assert_eq!(pieces.push(&[0xe2, 0x82]), None);
        assert_eq!(pieces.finish(), Some("\u{fffd}".to_owned()));
    }

    #[test]
    fn a_doubled_bos_is_removed_once() {
        let bos = LlamaToken::new(1);
        let t = LlamaToken::new;
        assert_eq!(prompt_tokens(&[bos, bos, t(5)], bos), vec![bos, t(5)]);
        assert_eq!(prompt_tokens(&[bos, t(5)], bos), vec![bos, t(5)]);
        assert_eq!(prompt_tokens(&[t(5), t(6)], bos), vec![t(5), t(6)]);
    }

    #[test]
    fn short_calls_get_a_small_padded_context() {
        let mut config = LocalConfig {
            model_path: "m.gguf".into(),
            context_size: 4096,
            threads: 2,
            max_tokens: Some(64),
            temperature: None,
            top_p: None,
            seed: None,
            repeat_penalty: 1.1,
        };
        assert_eq!(context_tokens(&config, 20), 256);
        assert_eq!(context_tokens(&config, 300), 512);
        config.max_tokens = None;
        assert_eq!(context_tokens(&config, 20), 4096);
        config.max_tokens = Some(10_000);
        assert_eq!(context_tokens(&config, 20), 4096);
    }
}
