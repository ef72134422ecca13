//! A stand-alone fake Bedrock for smoke tests of the runtime binary (e.g. the arm64 build under
//! qemu): verifies SigV4 with the given keys and answers every call with a short streamed text.
//!
//! Run: `cargo run -p strands-testkit --features bedrock --example fake_bedrock -- AKID SECRET`
//! It prints `endpoint=http://127.0.0.1:PORT` on stdout, then serves until killed.
#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "an example binary reports on stdout"
)]

use std::io::Write as _;

use strands_testkit::bedrock::{FakeAuth, FakeBedrock, Reply, frames};

const REPLIES: usize = 10_000;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(akid), Some(secret)) = (args.next(), args.next()) else {
        eprintln!("usage: fake_bedrock ACCESS_KEY_ID SECRET_ACCESS_KEY");
        std::process::exit(2);
    };
    let fake = match FakeBedrock::start(FakeAuth::sigv4(&akid, &secret)).await {
        Ok(fake) => fake,
        Err(error) => {
            eprintln!("fake_bedrock: cannot listen: {error}");
            std::process::exit(1);
        }
    };
    for _ in 0..REPLIES {
        fake.push(Reply::Stream(frames::text_turn(
            &["Hello from ", "the fake Bedrock."],
            "end_turn",
        )));
    }
    println!("endpoint={}", fake.endpoint_url());
    let _ = std::io::stdout().flush();
    std::future::pending::<()>().await;
}
