//! A scripted OpenAI-compatible server for trying the TUI by hand:
//! `cargo run --example fake_server -- 8199 [GAP_MS]` answers every chat or Responses request
//! per its model, in its endpoint's shape
//! (see `grokpair::testing::compare_reply`): grok-code-fast-1 gets the synthesized demo answer
//! (reasoning, markdown, two code blocks); grok-3-mini and grok-4-fast-reasoning answer
//! differently and slower; a model named `broken…` drops mid-answer. `/compare` against it
//! shows every column state.

use grokpair::testing::{compare_router, FakeServer};
use std::time::Duration;

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let port: u16 = args.next().and_then(|p| p.parse().ok()).unwrap_or(8199);
    let gap: u64 = args.next().and_then(|g| g.parse().ok()).unwrap_or(15);
    let server = FakeServer::start_on(&format!("127.0.0.1:{port}")).await;
    server.route(compare_router(Duration::from_millis(gap)));
    println!("fake server on {}", server.base_url());
    std::future::pending::<()>().await;
}
