//! Every failure the engine must survive, against the fake server: the message shown, the
//! partial output kept, the retries made or not made.

mod common;

use common::*;
use grokpair::api::{ChatParams, ErrorKind, StreamEvent};
use grokpair::session::{Conversation, TurnState};
use grokpair::testing::{FakeServer, Part, Reply};
use std::time::Duration;

const REASONING: &str = "data: {\"id\":\"r\",\"model\":\"grok-code-fast-1\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"reasoning_content\":\"Thinking about it\"}}]}\n\n";
const CONTENT: &str = "data: {\"id\":\"r\",\"model\":\"grok-code-fast-1\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Partial answer\"}}]}\n\n";
const FINISH: &str = "data: {\"id\":\"r\",\"model\":\"grok-code-fast-1\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: {\"id\":\"r\",\"model\":\"grok-code-fast-1\",\"choices\":[],\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":2,\"total_tokens\":12}}\n\ndata: [DONE]\n\n";

fn ok_stream() -> String {
    format!("{REASONING}{CONTENT}{FINISH}")
}

fn conv() -> Conversation {
    hello()
}

async fn run(server: &FakeServer) -> (grokpair::session::Turn, Vec<grokpair::api::TimedEvent>) {
    let cfg = config_for(&server.base_url(), "xai", "");
    run_turn(&cfg, "grok-code-fast-1", &conv(), &ChatParams::default()).await
}

#[tokio::test]
async fn xai_bad_key_400_is_not_retried_and_shows_provider_message() {
    let s = FakeServer::start().await;
    s.push(Reply::json(400, r#"{"code":"Client specified an invalid argument","error":"Incorrect API key provided: gp***cd. You can obtain an API key from https://console.x.ai."}"#));
    let (turn, ev) = run(&s).await;
    let e = turn.error.unwrap();
    assert_eq!(e.kind, ErrorKind::Auth);
    assert_eq!(e.status, Some(400));
    let shown = e.to_string();
    assert!(
        shown.contains("Incorrect API key provided: gp***cd."),
        "{shown}"
    );
    assert!(
        shown.contains("check GROKPAIR_TEST_KEY (the key in use is gp-t…abcd)"),
        "{shown}"
    );
    assert!(!shown.contains("gp-test-key-1234567890abcd"));
    assert_eq!((s.requests().len(), retries(&ev)), (1, 0));
}

#[tokio::test]
async fn no_credits_403_and_unknown_model_404() {
    let s = FakeServer::start().await;
    s.push(Reply::json(403, r#"{"code":"The caller does not have permission to execute the specified operation","error":"Your newly created teams doesn't have any credits yet. You can purchase credits on https://console.x.ai."}"#));
    let (turn, _) = run(&s).await;
    let e = turn.error.unwrap();
    assert_eq!(e.kind, ErrorKind::NoCredits);
    assert!(e.to_string().contains("doesn't have any credits yet"));
    s.push(Reply::json(404, r#"{"code":"Some requested entity was not found","error":"The model grok-9 does not exist or your team does not have access to it."}"#));
    let (turn, _) = run(&s).await;
    let e = turn.error.unwrap();
    assert_eq!(e.kind, ErrorKind::ModelNotFound);
    assert!(e.to_string().contains("grokpair models --provider fake"));
    assert_eq!(s.requests().len(), 2);
}

#[tokio::test]
async fn rate_limit_429_is_retried_honouring_retry_after() {
    let s = FakeServer::start().await;
    s.push(
        Reply::json(
            429,
            r#"{"error":{"message":"Rate limit exceeded: 60 requests per minute","code":429}}"#,
        )
        .header("Retry-After", "0.2"),
    );
    s.push(Reply::sse(ok_stream()));
    let (turn, ev) = run(&s).await;
    assert_eq!(turn.state, TurnState::Done);
    assert_eq!(turn.content, "Partial answer");
    assert_eq!(s.requests().len(), 2);
    let delay = ev
        .iter()
        .find_map(|e| match &e.event {
            StreamEvent::Retrying { delay, error, .. } => {
                assert_eq!(error.kind, ErrorKind::RateLimited);
                Some(*delay)
            }
            _ => None,
        })
        .unwrap();
    assert_eq!(delay, Duration::from_millis(200));
}

#[tokio::test]
async fn spent_credits_429_is_never_retried() {
    let s = FakeServer::start().await;
    s.push(Reply::json(429, r#"{"code":"Some resource has been exhausted","error":"Your team has either used all available credits or reached its monthly spending limit."}"#));
    s.push(Reply::sse(ok_stream()));
    let (turn, ev) = run(&s).await;
    let e = turn.error.unwrap();
    assert_eq!(e.kind, ErrorKind::QuotaExhausted);
    assert!(e.to_string().contains("not retried"));
    assert_eq!((s.requests().len(), retries(&ev)), (1, 0));
}

#[tokio::test]
async fn json_error_on_http_200_is_retried_then_reported() {
    let s = FakeServer::start().await;
    let body = r#"{"code":"The service is currently unavailable","error":"Timed out waiting for first token"}"#;
    for _ in 0..3 {
        s.push(Reply::json(200, body));
    }
    let (turn, ev) = run(&s).await;
    let e = turn.error.unwrap();
    assert_eq!(e.kind, ErrorKind::Unavailable);
    assert!(e.message.contains("Timed out waiting for first token"));
    assert!(
        e.message.contains("gave up after 3 attempts"),
        "{}",
        e.message
    );
    // max_retries = 2 in the test config: 3 attempts in all.
    assert_eq!((s.requests().len(), retries(&ev)), (3, 2));
}

#[tokio::test]
async fn server_500_then_success() {
    let s = FakeServer::start().await;
    s.push(Reply::json(
        500,
        r#"{"error":{"message":"internal error"}}"#,
    ));
    s.push(Reply::sse(ok_stream()));
    let (turn, ev) = run(&s).await;
    assert_eq!(turn.state, TurnState::Done);
    assert_eq!(turn.reasoning, "Thinking about it");
    assert_eq!((s.requests().len(), retries(&ev), turn.retries), (2, 1, 1));
}

#[tokio::test]
async fn mid_stream_error_event_keeps_output_and_is_not_retried() {
    let s = FakeServer::start().await;
    let err = "data: {\"id\":\"e1\",\"error\":{\"code\":502,\"message\":\"upstream provider error\"},\"choices\":[{\"index\":0,\"delta\":{\"content\":\"\"},\"finish_reason\":\"error\"}]}\n\n";
    s.push(Reply::sse(format!(
        ": OPENROUTER PROCESSING\n\n{REASONING}{CONTENT}{err}"
    )));
    let (turn, ev) = run(&s).await;
    let e = turn.error.clone().unwrap();
    assert_eq!(e.kind, ErrorKind::StreamError);
    assert!(e.to_string().contains("upstream provider error (code 502)"));
    assert_eq!(turn.reasoning, "Thinking about it");
    assert_eq!(turn.content, "Partial answer");
    assert_eq!((s.requests().len(), retries(&ev)), (1, 0));
}

#[tokio::test]
async fn connection_reset_mid_stream_keeps_partial() {
    let s = FakeServer::start().await;
    s.push(
        Reply::sse(format!("{REASONING}{CONTENT}"))
            .part(Part::Sleep(Duration::from_millis(50)))
            .part(Part::Reset),
    );
    let (turn, ev) = run(&s).await;
    assert_eq!(turn.state, TurnState::Failed);
    let e = turn.error.unwrap();
    assert!(
        matches!(e.kind, ErrorKind::Network | ErrorKind::Truncated),
        "{e:?}"
    );
    assert_eq!(turn.content, "Partial answer");
    assert_eq!(turn.reasoning, "Thinking about it");
    // Issue 15 (11): it was streaming, so the server was reachable: the hint says what broke.
    if e.kind == ErrorKind::Network {
        assert_eq!(
            e.hint.as_deref(),
            Some("the stream broke off mid-answer; send again to retry")
        );
    }
    assert!(!e.to_string().contains("reachable"), "{e}");
    // Output had arrived: a retry would duplicate it.
    assert_eq!((s.requests().len(), retries(&ev)), (1, 0));
}

#[tokio::test]
async fn reset_before_any_output_is_retried() {
    let s = FakeServer::start().await;
    s.push(Reply::new(200, "text/event-stream").part(Part::Reset));
    s.push(Reply::sse(ok_stream()));
    let (turn, ev) = run(&s).await;
    assert_eq!(turn.state, TurnState::Done);
    assert_eq!((s.requests().len(), retries(&ev)), (2, 1));
}

#[tokio::test]
async fn stall_mid_stream_ends_with_what_arrived() {
    let s = FakeServer::start().await;
    s.push(Reply::sse(format!("{REASONING}{CONTENT}")).part(Part::Stall));
    let (turn, ev) = run(&s).await;
    let e = turn.error.unwrap();
    assert_eq!(e.kind, ErrorKind::Stalled);
    assert_eq!(e.to_string(), "stream stalled: no data for 0.5s");
    assert_eq!(turn.content, "Partial answer");
    assert_eq!((s.requests().len(), retries(&ev)), (1, 0));
}

#[tokio::test]
async fn keepalive_comments_prevent_a_stall() {
    let s = FakeServer::start().await;
    let mut r = Reply::sse(REASONING);
    // 1.2 s of silence in answer tokens, broken by keep-alives every 0.3 s (idle limit 0.5 s).
    for _ in 0..4 {
        r = r
            .part(Part::Sleep(Duration::from_millis(300)))
            .part(Part::Bytes(b": keep-alive\n\n".to_vec()));
    }
    r = r.part(Part::Bytes(format!("{CONTENT}{FINISH}").into_bytes()));
    s.push(r);
    let (turn, _) = run(&s).await;
    assert_eq!(turn.state, TurnState::Done, "{:?}", turn.error);
    assert_eq!(turn.content, "Partial answer");
}

/// A server that accepted the request and never answers is not sent it again (it may bill
/// it, as the README says): one request, a stall at the first-token timeout.
#[tokio::test]
async fn no_response_headers_is_a_stall_and_not_resent() {
    let s = FakeServer::start().await;
    s.push(Reply::silent());
    s.push(Reply::sse(ok_stream()));
    let (turn, ev) = run(&s).await;
    let e = turn.error.unwrap();
    assert_eq!(e.kind, ErrorKind::Stalled);
    assert!(e.message.contains("not sent again"), "{e}");
    assert_eq!((s.requests().len(), retries(&ev)), (1, 0));
}

/// Keep-alive comments are not tokens: a stream of nothing else ends at the first-token
/// timeout (0.5 s here), not never.
#[tokio::test]
async fn keepalives_alone_do_not_hold_off_the_first_token_timeout() {
    let s = FakeServer::start().await;
    let mut r = Reply::new(200, "text/event-stream");
    for _ in 0..40 {
        r = r
            .part(Part::Bytes(b": keep-alive\n\n".to_vec()))
            .part(Part::Sleep(Duration::from_millis(100)));
    }
    s.push(r);
    // Four seconds of keep-alives: the turn ends long before (run_turn gives it 30 s).
    let (turn, ev) = run(&s).await;
    let e = turn.error.unwrap();
    assert_eq!(e.kind, ErrorKind::Stalled);
    assert_eq!(e.message, "no output within 0.5s");
    assert_eq!((s.requests().len(), retries(&ev)), (1, 0));
}

#[tokio::test]
async fn malformed_chunk_is_skipped_with_a_notice() {
    let s = FakeServer::start().await;
    s.push(Reply::sse(format!(
        "{REASONING}data: {{\"choices\":[{{\"delta\":{{\"content\":\"bro\n\n{CONTENT}{FINISH}"
    )));
    let (turn, ev) = run(&s).await;
    assert_eq!(turn.state, TurnState::Done);
    assert_eq!(turn.content, "Partial answer");
    assert_eq!(turn.notices.len(), 1);
    assert!(turn.notices[0].contains("skipped a malformed chunk"));
    assert_eq!(count(&ev, |e| matches!(e, StreamEvent::Notice(_))), 1);
}

#[tokio::test]
async fn eof_without_done_or_finish_is_truncation() {
    let s = FakeServer::start().await;
    s.push(Reply::sse(format!("{REASONING}{CONTENT}")));
    let (turn, _) = run(&s).await;
    let e = turn.error.unwrap();
    assert_eq!(e.kind, ErrorKind::Truncated);
    assert_eq!(turn.content, "Partial answer");
}

#[tokio::test]
async fn retry_after_beyond_limit_is_not_waited_for() {
    let s = FakeServer::start().await;
    s.push(Reply::json(429, r#"{"error":{"message":"slow down"}}"#).header("Retry-After", "3600"));
    let (turn, ev) = run(&s).await;
    let e = turn.error.unwrap();
    assert_eq!(e.kind, ErrorKind::RateLimited);
    assert!(
        e.message.contains("provider asks to wait 3600s"),
        "{}",
        e.message
    );
    assert_eq!((s.requests().len(), retries(&ev)), (1, 0));
}

#[tokio::test]
async fn cancelling_keeps_what_arrived() {
    let s = FakeServer::start().await;
    s.push(Reply::sse(format!("{REASONING}{CONTENT}")).part(Part::Stall));
    let cfg = config_for(&s.base_url(), "xai", "");
    let eng = engine(&cfg);
    let mut started = eng.start(&cfg, "grok-code-fast-1", &conv(), &ChatParams::default());
    let mut turn = grokpair::session::Turn::new("grok-code-fast-1");
    while turn.content.is_empty() {
        let ev = started.stream.next().await.unwrap();
        turn.apply(&ev);
    }
    started.stream.cancel();
    turn.cancel(Duration::from_millis(1));
    // After cancel nothing more arrives, and the channel closes.
    let rest = tokio::time::timeout(Duration::from_secs(2), async {
        let mut n = 0;
        while started.stream.next().await.is_some() {
            n += 1;
        }
        n
    })
    .await
    .expect("stream closes after cancel");
    assert_eq!(rest, 0);
    assert_eq!(turn.state, TurnState::Cancelled);
    assert_eq!(turn.content, "Partial answer");
    assert_eq!(turn.reasoning, "Thinking about it");
}

#[tokio::test]
async fn request_shape_for_xai() {
    let s = FakeServer::start().await;
    s.push(Reply::sse(ok_stream()));
    let cfg = config_for(&s.base_url(), "xai", "headers = { \"X-Team\" = \"core\" }");
    let c = conv();
    let params = ChatParams {
        stop: vec!["END".into()],
        max_tokens: Some(64),
        temperature: Some(0.3),
        ..Default::default()
    };
    let (turn, ev) = run_turn(&cfg, "grok-code-fast-1", &c, &params).await;
    assert_eq!(turn.state, TurnState::Done);
    let req = &s.requests()[0];
    assert_eq!(
        (req.method.as_str(), req.path.as_str()),
        ("POST", "/v1/chat/completions")
    );
    assert_eq!(
        req.header("authorization"),
        Some("Bearer gp-test-key-1234567890abcd")
    );
    assert_eq!(req.header("x-grok-conv-id"), Some(c.id.as_str()));
    assert_eq!(req.header("x-team"), Some("core"));
    let body = req.json();
    assert_eq!(body["stream"], true);
    assert_eq!(body["stream_options"]["include_usage"], true);
    assert_eq!(body["max_completion_tokens"], 64);
    assert!(body.get("stop").is_none(), "grok-code-fast-1 rejects stop");
    assert_eq!(body["messages"][0]["content"], "hello");
    // The dropped parameter is not an error; the engine reports it through StartedTurn::notice.
    assert_eq!(count(&ev, |e| matches!(e, StreamEvent::Error(_))), 0);
    let eng = engine(&cfg);
    s.push(Reply::sse(ok_stream()));
    let started = eng.start(&cfg, "grok-code-fast-1", &c, &params);
    assert_eq!(
        started.notice.as_deref(),
        Some("grok-code-fast-1 does not accept stop; not sent")
    );
}

#[tokio::test]
async fn generic_provider_gets_no_conv_id_header() {
    let s = FakeServer::start().await;
    s.push(Reply::sse(ok_stream()));
    let cfg = config_for(&s.base_url(), "generic", "");
    let (turn, _) = run_turn(
        &cfg,
        "some-model",
        &conv(),
        &ChatParams {
            max_tokens: Some(5),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(turn.state, TurnState::Done);
    let req = &s.requests()[0];
    assert!(req.header("x-grok-conv-id").is_none());
    assert_eq!(req.json()["max_tokens"], 5);
}

#[tokio::test]
async fn event_times_are_arrival_times() {
    let s = FakeServer::start().await;
    s.push(Reply::sse_paced(ok_stream(), Duration::from_millis(60)));
    let (turn, ev) = run(&s).await;
    assert_eq!(turn.state, TurnState::Done);
    let r = ev
        .iter()
        .find(|e| matches!(e.event, StreamEvent::Reasoning(_)))
        .unwrap()
        .at;
    let c = ev
        .iter()
        .find(|e| matches!(e.event, StreamEvent::Content(_)))
        .unwrap()
        .at;
    // One 60 ms gap separates the reasoning chunk from the content chunk.
    assert!(c >= r + Duration::from_millis(50), "{r:?} {c:?}");
    let m = turn.metrics(Duration::ZERO, false);
    assert_eq!(m.ttft, Some(r));
    assert_eq!(m.reasoning_time, Some(c - r));
}

#[tokio::test]
async fn absurd_retry_after_does_not_crash() {
    let s = FakeServer::start().await;
    s.push(Reply::json(429, r#"{"error":{"message":"slow down"}}"#).header("Retry-After", "1e400"));
    s.push(Reply::sse(ok_stream()));
    let (turn, ev) = run(&s).await;
    // An unreadable Retry-After is ignored: ordinary backoff applies.
    assert_eq!(turn.state, TurnState::Done);
    assert_eq!(retries(&ev), 1);
}

#[tokio::test]
async fn silence_before_first_chunk_is_a_stall_and_not_resent() {
    let s = FakeServer::start().await;
    s.push(Reply::new(200, "text/event-stream").part(Part::Stall));
    s.push(Reply::sse(ok_stream()));
    let (turn, ev) = run(&s).await;
    let e = turn.error.unwrap();
    assert_eq!(e.kind, ErrorKind::Stalled);
    // The server accepted the request and may bill it: not sent again.
    assert_eq!((s.requests().len(), retries(&ev)), (1, 0));
}

#[tokio::test]
async fn status_code_inside_a_200_json_error_decides() {
    let s = FakeServer::start().await;
    s.push(Reply::json(
        200,
        r#"{"error":{"message":"Model not found: grok-9","code":404}}"#,
    ));
    let (turn, ev) = run(&s).await;
    let e = turn.error.unwrap();
    assert_eq!(e.kind, ErrorKind::ModelNotFound);
    assert_eq!(retries(&ev), 0);
}

#[tokio::test]
async fn served_model_from_first_chunk_that_names_it() {
    let s = FakeServer::start().await;
    s.push(Reply::sse(format!(
        "data: {{\"choices\":[{{\"index\":0,\"delta\":{{\"role\":\"assistant\"}}}}]}}\n\n{CONTENT}{FINISH}"
    )));
    let (turn, _) = run(&s).await;
    assert_eq!(turn.served_model.as_deref(), Some("grok-code-fast-1"));
}

/// A redirect to another origin is not followed: the request carries the key, custom
/// credential headers and the whole conversation. The error says where it tried to go.
#[tokio::test]
async fn cross_origin_redirect_is_not_followed() {
    let s = FakeServer::start().await;
    let elsewhere = FakeServer::start().await;
    s.push(Reply::new(307, "text/plain").header(
        "Location",
        &format!("{}/chat/completions", elsewhere.base_url()),
    ));
    let cfg = config_for(
        &s.base_url(),
        "xai",
        "headers = { \"x-api-key\" = \"gp-secret-header-value\" }",
    );
    let (turn, ev) = run_turn(&cfg, "grok-code-fast-1", &conv(), &ChatParams::default()).await;
    let e = turn.error.unwrap();
    assert_eq!(e.kind, ErrorKind::Redirected);
    assert!(
        e.message.contains(&elsewhere.base_url()) && e.message.contains("not followed"),
        "{e}"
    );
    assert!(
        elsewhere.requests().is_empty(),
        "nothing reached the other host"
    );
    assert_eq!((s.requests().len(), retries(&ev)), (1, 0));
}

/// A flood of malformed chunks: a few notices, then one that counts the rest; the answer
/// around them is kept.
#[tokio::test]
async fn malformed_chunks_are_counted_not_listed() {
    let s = FakeServer::start().await;
    let garbage = "data: {\"choices\":[{\"delta\"\n\n".repeat(500);
    s.push(Reply::sse(format!("{REASONING}{garbage}{CONTENT}{FINISH}")));
    let (turn, _) = run(&s).await;
    assert_eq!(turn.state, TurnState::Done, "{:?}", turn.error);
    assert_eq!(turn.content, "Partial answer");
    assert_eq!(turn.notices.len(), 4, "{:?}", turn.notices);
    assert_eq!(turn.notices[3], "… 497 more malformed chunks skipped");
}

/// A stream that is nearly all garbage is given up on, with what arrived kept.
#[tokio::test]
async fn a_stream_of_garbage_is_given_up() {
    let s = FakeServer::start().await;
    let garbage = "data: not json at all\n\n".repeat(20_000);
    s.push(Reply::sse(format!("{REASONING}{garbage}{CONTENT}{FINISH}")));
    let (turn, _) = run(&s).await;
    let e = turn.error.unwrap();
    assert_eq!(e.kind, ErrorKind::Protocol);
    assert!(e.message.contains("mostly unreadable"), "{e}");
    assert_eq!(turn.reasoning, "Thinking about it");
    assert!(turn.notices.len() <= 4, "{:?}", turn.notices.len());
}

/// A base URL with a password never shows it: not in the error, not in the hint.
#[tokio::test]
async fn a_password_in_the_base_url_is_masked_in_errors() {
    // A port nothing listens on: connection refused.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut cfg = config_for(
        &format!("http://me:hunter2-pass@127.0.0.1:{port}/v1"),
        "xai",
        "",
    );
    cfg.net.max_retries = 0;
    let (turn, _) = run_turn(&cfg, "grok-code-fast-1", &conv(), &ChatParams::default()).await;
    let shown = turn.error.unwrap().to_string();
    assert!(!shown.contains("hunter2-pass"), "{shown}");
    assert!(shown.contains("me:****@127.0.0.1"), "{shown}");
}

/// A server flooding tiny deltas is slowed to the consumer's pace: while the consumer is
/// busy, only a bounded number of events waits for it (before, all of them piled up in
/// memory: 6.5 GB for 28 MB of text). Nothing is lost once it reads on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_deltas_waits_for_the_consumer() {
    let s = FakeServer::start().await;
    let n = 200_000;
    let delta = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\"}}]}\n\n";
    let mut r = Reply::new(200, "text/event-stream");
    let chunk = delta.repeat(10_000);
    for _ in 0..n / 10_000 {
        r = r.part(Part::Bytes(chunk.clone().into_bytes()));
    }
    s.push(r.part(Part::Bytes(FINISH.as_bytes().to_vec())));
    let cfg = config_for(&s.base_url(), "xai", "");
    let eng = engine(&cfg);
    let mut started = eng.start(&cfg, "grok-code-fast-1", &conv(), &ChatParams::default());
    let first = started.stream.next().await.unwrap();
    assert!(matches!(first.event, StreamEvent::Started { .. }));
    // A busy consumer: the request task runs on meanwhile.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mut waiting = 0;
    while let Some(Some(_)) = started.stream.poll_now() {
        waiting += 1;
    }
    assert!(waiting < 10_000, "{waiting} events were waiting");
    let mut content = waiting;
    while let Some(ev) = started.stream.next().await {
        match ev.event {
            StreamEvent::Content(_) => content += 1,
            StreamEvent::Finished { .. } => break,
            StreamEvent::Error(e) => panic!("{e}"),
            _ => {}
        }
    }
    assert!(content >= n, "all {n} deltas arrived: {content}");
}

/// A key the server echoes back — in a malformed chunk the notice quotes, in the answer — is
/// masked before anything sees it: the turn, the session file, `--json`.
#[tokio::test]
async fn an_echoed_key_is_masked_wherever_it_goes() {
    let s = FakeServer::start().await;
    let key = "gp-test-key-1234567890abcd";
    let echo = format!("data: {{\"oops\": \"{key}\"\n\n");
    let content = CONTENT.replace("Partial answer", &format!("your key is {key}"));
    s.push(Reply::sse(format!("{REASONING}{echo}{content}{FINISH}")));
    let (turn, events) = run(&s).await;
    assert_eq!(turn.state, TurnState::Done, "{:?}", turn.error);
    let all = format!("{:?}", events);
    assert!(!all.contains(key), "{all}");
    assert_eq!(turn.content, "your key is gp-t…abcd");
    assert!(turn.notices[0].contains("gp-t…abcd"), "{:?}", turn.notices);
}

/// Bodies are read up to a cap: one endless SSE line, a huge JSON answer, a huge error body.
#[tokio::test]
async fn oversized_bodies_are_capped_with_a_clear_error() {
    let s = FakeServer::start().await;
    // 20 MB in one event that never ends.
    let mut r = Reply::new(200, "text/event-stream")
        .part(Part::Bytes(REASONING.as_bytes().to_vec()))
        .part(Part::Bytes(b"data: {\"x\":\"".to_vec()));
    let mb = vec![b'a'; 1 << 20];
    for _ in 0..20 {
        r = r.part(Part::Bytes(mb.clone()));
    }
    s.push(r);
    let (turn, _) = run(&s).await;
    let e = turn.error.unwrap();
    assert_eq!(e.kind, ErrorKind::Protocol);
    assert_eq!(
        e.message,
        "one event of the stream is larger than 16 MB: not read further"
    );
    assert_eq!(turn.reasoning, "Thinking about it");
    // 20 MB of JSON instead of a stream.
    let mut r = Reply::new(200, "application/json").part(Part::Bytes(b"{\"x\":\"".to_vec()));
    for _ in 0..20 {
        r = r.part(Part::Bytes(mb.clone()));
    }
    s.push(r);
    let (turn, _) = run(&s).await;
    assert!(turn
        .error
        .unwrap()
        .message
        .starts_with("the response body is larger than 16 MB"),);
    // An error body that never ends: its first megabyte is read and its start shown (before,
    // the whole body was awaited and the message lost).
    let r = Reply::new(500, "text/plain")
        .part(Part::Bytes(mb.clone()))
        .part(Part::Bytes(mb.clone()))
        .part(Part::Stall);
    for _ in 0..3 {
        s.push(r.clone());
    }
    let (turn, _) = run(&s).await;
    let e = turn.error.unwrap();
    assert_eq!(e.kind, ErrorKind::Server);
    assert!(e.message.starts_with(&"a".repeat(300)), "{}", e.message);
}

/// A real-length xAI key (84 characters) quoted by a server: masked before the notice cuts
/// its quote to 80 characters, and in an error body before its message is cut short.
#[tokio::test]
async fn a_long_key_is_masked_before_any_quote_is_cut() {
    let key = format!("xai-{}", "Q7".repeat(40));
    let s = FakeServer::start().await;
    let text = format!(
        "provider = \"fake\"\n[network]\nidle_timeout_secs = 0.5\nfirst_token_timeout_secs = 0.5\nmax_retries = 0\n[providers.fake]\nbase_url = \"{}\"\napi_key = \"{key}\"\nmodel = \"grok-code-fast-1\"\n",
        s.base_url()
    );
    let cfg = grokpair::config::Config::parse(&text, None).unwrap();
    s.push(Reply::sse(format!(
        "{REASONING}data: {key} is not JSON\n\n{CONTENT}{FINISH}"
    )));
    let (turn, _) = run_turn(&cfg, "grok-code-fast-1", &conv(), &ChatParams::default()).await;
    let piece = &key[10..40];
    assert!(
        !turn.notices.iter().any(|n| n.contains(piece)),
        "{:?}",
        turn.notices
    );
    assert!(turn.notices[0].contains("xai-…Q7Q7"), "{:?}", turn.notices);
    s.push(Reply::json(
        500,
        &format!(
            r#"{{"error":{{"message":"{} bad key {key}"}}}}"#,
            "x".repeat(250)
        ),
    ));
    let (turn, _) = run_turn(&cfg, "grok-code-fast-1", &conv(), &ChatParams::default()).await;
    let shown = turn.error.unwrap().to_string();
    assert!(!shown.contains(piece), "{shown}");
}
