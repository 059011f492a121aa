//! A scripted OpenAI-compatible server for trying the TUI by hand:
//! `cargo run --example fake_server -- 8199 [GAP_MS]` serves a synthesized grok-code-fast-1
//! answer (reasoning, markdown, two code blocks) to every chat request.

use grokpair::testing::{demo_sse, FakeServer, Reply};
use std::time::Duration;

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let port: u16 = args.next().and_then(|p| p.parse().ok()).unwrap_or(8199);
    let gap: u64 = args.next().and_then(|g| g.parse().ok()).unwrap_or(15);
    let server = FakeServer::start_on(&format!("127.0.0.1:{port}")).await;
    let body = demo_sse();
    server.route(move |req| {
        Some(if req.path.ends_with("/models") {
            Reply::json(
                200,
                r#"{"object":"list","data":[{"id":"grok-code-fast-1"}]}"#,
            )
        } else {
            Reply::sse_paced(&body, Duration::from_millis(gap))
        })
    });
    println!("fake server on {}", server.base_url());
    std::future::pending::<()>().await;
}
