//! The Responses API end to end against the fake server: every real recording replayed (whole
//! and re-chunked), the fault list of Chat Completions on this endpoint, multi-turn request
//! shapes on both endpoints, and the provider's model listing cached on disk.

mod common;

use common::*;
use grokpair::api::{Api, ChatParams, ErrorKind, Message, Role, StreamEvent};
use grokpair::config::Config;
use grokpair::session::{cost_of, Conversation, CostSource, TurnState};
use grokpair::testing::{
    responses_wire, synth_responses_sse, synth_sse, synth_tool_calls, FakeServer, Part, Reply,
    SynthUsage,
};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn shared(sub: &str) -> PathBuf {
    // The Chat recordings' folder (GROKPAIR_FIXTURES) sits beside the Responses ones.
    fixtures_dir().parent().unwrap().join(sub)
}

fn responses_config(base_url: &str) -> Config {
    config_for(base_url, "xai", "api = \"responses\"")
}

/// What a Responses recording says, read naively from its events (not through our decoder).
#[derive(Debug, Default, PartialEq)]
struct Reference {
    model: Option<String>,
    reasoning: String,
    content: String,
    citations: Vec<String>,
    calls: Vec<(String, String, String)>,
    usage: Option<Value>,
    server_tools: usize,
    encrypted: usize,
}

fn reference_events(events: &[Value]) -> Reference {
    let mut r = Reference::default();
    let mut tools = std::collections::BTreeSet::new();
    let mut part = None;
    for e in events {
        match e["type"].as_str().unwrap_or("") {
            "response.created" => r.model = e["response"]["model"].as_str().map(String::from),
            "response.reasoning_summary_text.delta" => {
                // Each summary part, of one reasoning item or the next, is a paragraph.
                let this = (e["item_id"].clone(), e["summary_index"].clone());
                if part.as_ref().is_some_and(|p: &(Value, Value)| *p != this) {
                    r.reasoning.push_str("\n\n");
                }
                part = Some(this);
                r.reasoning.push_str(e["delta"].as_str().unwrap())
            }
            "response.output_text.delta" => r.content.push_str(e["delta"].as_str().unwrap()),
            "response.output_text.annotation.added" => {
                let url = e["annotation"]["url"].as_str().unwrap().to_string();
                if !r.citations.contains(&url) {
                    r.citations.push(url);
                }
            }
            "response.output_item.done" => {
                let item = &e["item"];
                let t = item["type"].as_str().unwrap();
                if t == "function_call" {
                    r.calls.push((
                        item["call_id"].as_str().unwrap().into(),
                        item["name"].as_str().unwrap().into(),
                        item["arguments"].as_str().unwrap().into(),
                    ));
                } else if t.ends_with("_call") {
                    tools.insert(item["id"].as_str().unwrap().to_string());
                } else if t == "reasoning" && item["encrypted_content"].is_string() {
                    r.encrypted += 1;
                }
            }
            "response.completed" => r.usage = Some(e["response"]["usage"].clone()),
            _ => {}
        }
    }
    r.server_tools = tools.len();
    r
}

/// The same from a whole response object (a non-streaming body).
fn reference_object(v: &Value) -> Reference {
    let mut r = Reference {
        model: v["model"].as_str().map(String::from),
        usage: Some(v["usage"].clone()),
        ..Default::default()
    };
    for item in v["output"].as_array().unwrap() {
        match item["type"].as_str().unwrap() {
            "message" => {
                for part in item["content"].as_array().unwrap() {
                    r.content.push_str(part["text"].as_str().unwrap_or(""));
                    for a in part["annotations"].as_array().into_iter().flatten() {
                        let url = a["url"].as_str().unwrap_or("").to_string();
                        if a["type"] == "url_citation" && !r.citations.contains(&url) {
                            r.citations.push(url);
                        }
                    }
                }
            }
            "reasoning" => {
                let parts: Vec<&str> = item["summary"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter_map(|p| p["text"].as_str())
                    .collect();
                if !r.reasoning.is_empty() && !parts.is_empty() {
                    r.reasoning.push_str("\n\n");
                }
                r.reasoning.push_str(&parts.join("\n\n"));
                if item["encrypted_content"].is_string() {
                    r.encrypted += 1;
                }
            }
            "function_call" => r.calls.push((
                item["call_id"].as_str().unwrap().into(),
                item["name"].as_str().unwrap().into(),
                item["arguments"].as_str().unwrap().into(),
            )),
            t if t.ends_with("_call") => r.server_tools += 1,
            other => panic!("unexpected item {other}"),
        }
    }
    r
}

fn sse_payloads(body: &str) -> Vec<Value> {
    body.lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter(|d| *d != "[DONE]")
        .map(|d| serde_json::from_str(d).unwrap())
        .collect()
}

/// `216 / 192 / 863 ⊃ 237` from the fixtures README: (input, cached, output, reasoning).
fn readme_usage(file: &str) -> Option<(u64, u64, u64, u64)> {
    let text = std::fs::read_to_string(shared("xai-responses").join("README.md")).unwrap();
    let row = text
        .lines()
        .find(|l| l.starts_with(&format!("| `{file}`")))?;
    let cell = row.trim_matches('|').split('|').nth(3)?.trim();
    let nums: Vec<u64> = cell
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .filter_map(|s| s.parse().ok())
        .collect();
    (nums.len() >= 4).then(|| (nums[0], nums[1], nums[2], nums[3]))
}

type Outcome = (grokpair::session::Turn, Vec<grokpair::api::TimedEvent>);

fn check(r: &Reference, (turn, events): &Outcome, ctx: &str, failures: &mut Vec<String>) {
    let mut ok = |cond: bool, what: String| {
        if !cond {
            failures.push(format!("{ctx}: {what}"));
        }
    };
    ok(
        turn.state == TurnState::Done,
        format!("state {:?} {:?}", turn.state, turn.error),
    );
    ok(
        turn.content == r.content,
        format!("content {:?}", turn.content),
    );
    ok(turn.reasoning == r.reasoning, "reasoning differs".into());
    ok(
        turn.served_model == r.model,
        format!("served {:?}", turn.served_model),
    );
    let urls: Vec<String> = turn.citations.iter().map(|c| c.url.clone()).collect();
    ok(urls == r.citations, format!("citations {urls:?}"));
    let calls: Vec<(String, String, String)> = turn
        .tool_calls
        .iter()
        .map(|c| {
            (
                c.id.clone(),
                c.function.name.clone(),
                c.function.arguments.clone(),
            )
        })
        .collect();
    ok(calls == r.calls, format!("calls {calls:?}"));
    ok(
        turn.server_tools.len() == r.server_tools
            && turn.server_tools.iter().all(|t| t.status == "completed"),
        format!("server tools {:?}", turn.server_tools),
    );
    let encrypted = turn
        .reasoning_items
        .iter()
        .filter(|i| i["encrypted_content"].is_string())
        .count();
    ok(
        encrypted == r.encrypted,
        format!("encrypted items {encrypted}"),
    );
    ok(
        count(events, |e| matches!(e, StreamEvent::Started { .. })) == 1,
        "exactly one Started".into(),
    );
    ok(
        count(events, StreamEvent::is_terminal) == 1,
        "exactly one terminal event".into(),
    );
    ok(
        count(events, |e| matches!(e, StreamEvent::Notice(_))) == 0,
        format!(
            "no notices on a clean recording: {:?}",
            turn.notices.first()
        ),
    );
    let u = turn.usage.as_ref().expect("usage");
    let ru = r.usage.as_ref().unwrap();
    ok(
        Some(u.prompt_tokens) == ru["input_tokens"].as_u64()
            && Some(u.completion_tokens) == ru["output_tokens"].as_u64()
            && u.cached_tokens == ru["input_tokens_details"]["cached_tokens"].as_u64()
            && u.reasoning_tokens == ru["output_tokens_details"]["reasoning_tokens"].as_u64(),
        format!("usage {u:?}"),
    );
}

async fn replay(cfg: &Config, server: &FakeServer, reply: Reply, model: &str) -> Outcome {
    server.push(reply);
    let mut conv = Conversation::new(None);
    conv.push_user("replay");
    run_turn(cfg, model, &conv, &ChatParams::default()).await
}

/// The recording-era price of a grok model: the catalog with the recordings' prices pinned.
fn cost_ticks(cfg: &Config, turn: &grokpair::session::Turn) -> Option<i64> {
    let info = cfg
        .catalog
        .for_turn(turn.served_model.as_deref(), &turn.asked_model);
    cost_of(turn.usage.as_ref()?, info, false, false).total_ticks
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn xai_responses_recordings_replay_exactly() {
    let dir = shared("xai-responses");
    let server = FakeServer::start().await;
    let cfg = responses_config(&server.base_url());
    let mut failures = Vec::new();
    let mut streams = 0;
    let mut bodies = 0;
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.ends_with(".chunks.txt") {
            streams += 1;
            let text = std::fs::read_to_string(&path).unwrap();
            let events: Vec<Value> = text
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(|l| serde_json::from_str(l).unwrap())
                .collect();
            let r = reference_events(&events);
            let wire = responses_wire(text.lines());
            let (input, cached, output, reasoning) =
                readme_usage(&name).unwrap_or_else(|| panic!("{name} not in the README"));
            assert_eq!(
                r.usage.as_ref().unwrap()["output_tokens"].as_u64(),
                Some(output)
            );
            for (how, reply) in [
                ("whole", Reply::sse(&wire)),
                ("1-byte chunks", Reply::sse_split(&wire, 1)),
                ("7-byte chunks", Reply::sse_split(&wire, 7)),
            ] {
                let out = replay(&cfg, &server, reply, "grok-code-fast-1").await;
                check(&r, &out, &format!("{name} ({how})"), &mut failures);
                let u = out.0.usage.clone().unwrap();
                if (
                    u.prompt_tokens,
                    u.cached(),
                    u.completion_tokens,
                    u.reasoning(),
                ) != (input, cached, output, reasoning)
                {
                    failures.push(format!("{name}: usage {u:?} differs from the README"));
                }
                // Output includes reasoning: billed once. At the recording's prices
                // (grok-code-fast-1 0.20/0.02/1.50, grok-4-fast-reasoning 0.20/0.05/0.50).
                let p = if name.contains("search") {
                    (2_000_000_000u64, 500_000_000u64, 5_000_000_000u64)
                } else {
                    (2_000_000_000, 200_000_000, 15_000_000_000)
                };
                // Rounded half up to the tick, once.
                let expected =
                    ((input - cached) * p.0 + cached * p.1 + output * p.2 + 500_000) / 1_000_000;
                let got = cost_ticks(&cfg, &out.0);
                if got != Some(expected as i64) {
                    failures.push(format!("{name}: cost {got:?} != {expected}"));
                }
                if name.contains("store-false") && got != Some(12_551_400) {
                    failures.push(format!("{name}: README says $0.00125514, got {got:?}"));
                }
            }
        } else if name.ends_with(".json") {
            bodies += 1;
            let body = std::fs::read_to_string(&path).unwrap();
            let r = reference_object(&serde_json::from_str(&body).unwrap());
            let out = replay(&cfg, &server, Reply::json(200, &body), "grok-4-fast").await;
            check(&r, &out, &format!("{name} (json body)"), &mut failures);
        }
    }
    assert_eq!(
        (streams, bodies),
        (5, 4),
        "the README lists 5 streams and 4 bodies"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn function_call_recordings_replay_exactly() {
    let dir = shared("responses-recorded");
    let server = FakeServer::start().await;
    let cfg = responses_config(&server.base_url());
    let mut failures = Vec::new();
    let mut n = 0;
    let mut folders: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    folders.sort();
    for f in folders {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        let model = serde_json::from_str::<Value>(
            &std::fs::read_to_string(f.join("request.json")).unwrap(),
        )
        .unwrap()["model"]
            .as_str()
            .unwrap()
            .to_string();
        n += 1;
        if f.join("response.sse").exists() {
            let body = std::fs::read_to_string(f.join("response.sse")).unwrap();
            let events = sse_payloads(&body);
            let r = reference_events(&events);
            // The final response object says the same as the events.
            let last = events.last().unwrap();
            let whole = reference_object(&last["response"]);
            assert_eq!(
                (&whole.content, &whole.calls, &whole.reasoning),
                (&r.content, &r.calls, &r.reasoning),
                "{name}"
            );
            for (how, reply) in [
                ("whole", Reply::sse(&body)),
                ("1-byte chunks", Reply::sse_split(&body, 1)),
                ("7-byte chunks", Reply::sse_split(&body, 7)),
            ] {
                let out = replay(&cfg, &server, reply, &model).await;
                check(&r, &out, &format!("{name} ({how})"), &mut failures);
                if out.0.finish_reason.as_deref()
                    != Some(if r.calls.is_empty() {
                        "stop"
                    } else {
                        "tool_calls"
                    })
                {
                    failures.push(format!("{name}: finish {:?}", out.0.finish_reason));
                }
            }
        } else {
            let body = std::fs::read_to_string(f.join("response.json")).unwrap();
            let r = reference_object(&serde_json::from_str(&body).unwrap());
            let out = replay(&cfg, &server, Reply::json(200, &body), &model).await;
            check(&r, &out, &format!("{name} (json body)"), &mut failures);
        }
        // Unknown models: no price, and no made-up cost.
        assert_eq!(
            cost_of(
                &grokpair::api::Usage::default(),
                cfg.catalog.lookup(&model),
                false,
                false
            )
            .source,
            CostSource::Unknown
        );
    }
    assert_eq!(n, 24);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Turn 2 of the recorded tool conversations: the history we would send carries the
/// function call and its output exactly as the recorded request does.
#[test]
fn turn_two_requests_match_the_recorded_function_call_items() {
    let dir = shared("responses-recorded");
    let mut checked = 0;
    for case in [
        "tool",
        "tool_streaming",
        "multi_tool",
        "multi_tool_streaming",
    ] {
        for model in ["openai-gpt-5", "openai-gpt-4o-mini"] {
            let req: Value = serde_json::from_str(
                &std::fs::read_to_string(dir.join(format!("{model}-{case}-turn2/request.json")))
                    .unwrap(),
            )
            .unwrap();
            let input = req["input"].as_array().unwrap();
            let calls: Vec<&Value> = input
                .iter()
                .filter(|i| i["type"] == "function_call")
                .collect();
            let outputs: Vec<&Value> = input
                .iter()
                .filter(|i| i["type"] == "function_call_output")
                .collect();
            let mut reply = Message::assistant("");
            reply.tool_calls = calls
                .iter()
                .map(|c| grokpair::api::ToolCall {
                    id: c["call_id"].as_str().unwrap().into(),
                    kind: "function".into(),
                    function: grokpair::api::types::FunctionCall {
                        name: c["name"].as_str().unwrap().into(),
                        arguments: c["arguments"].as_str().unwrap().into(),
                    },
                })
                .collect();
            let mut history = vec![Message::user("q"), reply];
            for o in &outputs {
                let mut m = Message::new(Role::Tool, o["output"].as_str().unwrap());
                m.tool_call_id = Some(o["call_id"].as_str().unwrap().into());
                history.push(m);
            }
            let built = grokpair::api::build_responses_body(
                "m",
                &history,
                &ChatParams::default(),
                &Default::default(),
                None,
            );
            let ours: Value = serde_json::from_slice(&built.body).unwrap();
            let ours = ours["input"].as_array().unwrap();
            let pick = |items: &[Value], t: &str, keys: &[&str]| -> Vec<Vec<Value>> {
                items
                    .iter()
                    .filter(|i| i["type"] == t)
                    .map(|i| keys.iter().map(|k| i[*k].clone()).collect())
                    .collect()
            };
            let owned: Vec<Value> = input.to_vec();
            for (t, keys) in [
                ("function_call", &["call_id", "name", "arguments"][..]),
                ("function_call_output", &["call_id", "output"][..]),
            ] {
                assert_eq!(
                    pick(ours, t, keys),
                    pick(&owned, t, keys),
                    "{model}-{case}: {t}"
                );
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 8);
}

// ---- the fault list, on the Responses endpoint ------------------------------------------

fn ev(v: Value) -> String {
    format!("event: {}\ndata: {v}\n\n", v["type"].as_str().unwrap())
}

fn created() -> String {
    ev(
        serde_json::json!({"type":"response.created","response":{"id":"r1","model":"grok-4.3","output":[]}}),
    )
}

fn reasoning() -> String {
    ev(
        serde_json::json!({"type":"response.reasoning_summary_text.delta","item_id":"rs_1","summary_index":0,"delta":"Thinking about it"}),
    )
}

fn content(text: &str) -> String {
    ev(serde_json::json!({"type":"response.output_text.delta","item_id":"m1","delta":text}))
}

fn completed() -> String {
    ev(
        serde_json::json!({"type":"response.completed","response":{"id":"r1","model":"grok-4.3","usage":{"input_tokens":10,"output_tokens":6,"output_tokens_details":{"reasoning_tokens":4}}}}),
    )
}

fn ok_stream() -> String {
    format!(
        "{}{}{}{}",
        created(),
        reasoning(),
        content("Partial answer"),
        completed()
    )
}

fn conv() -> Conversation {
    hello()
}

async fn run(server: &FakeServer) -> Outcome {
    let cfg = responses_config(&server.base_url());
    run_turn(&cfg, "grok-4.3", &conv(), &ChatParams::default()).await
}

#[tokio::test]
async fn http_errors_on_responses_are_classified_like_chat() {
    let s = FakeServer::start().await;
    s.push(Reply::json(400, r#"{"code":"Client specified an invalid argument","error":"Incorrect API key provided: gp***cd. You can obtain an API key from https://console.x.ai."}"#));
    let (turn, ev) = run(&s).await;
    let e = turn.error.unwrap();
    assert_eq!((e.kind, e.status), (ErrorKind::Auth, Some(400)));
    assert!(e.to_string().contains("Incorrect API key provided"));
    assert!(!e.to_string().contains("gp-test-key-1234567890abcd"));
    assert_eq!(retries(&ev), 0);
    assert_eq!(s.requests()[0].path, "/v1/responses");
    s.push(Reply::json(403, r#"{"code":"The caller does not have permission to execute the specified operation","error":"Your newly created teams doesn't have any credits yet."}"#));
    assert_eq!(run(&s).await.0.error.unwrap().kind, ErrorKind::NoCredits);
    s.push(Reply::json(404, r#"{"code":"Some requested entity was not found","error":"The model grok-9 does not exist or your team does not have access to it."}"#));
    assert_eq!(
        run(&s).await.0.error.unwrap().kind,
        ErrorKind::ModelNotFound
    );
    assert_eq!(s.requests().len(), 3);
}

/// xAI's real rate-limit body: the same gRPC status text in `code` as for spent credits, a
/// wait in the message and no header. It is retried after that wait.
#[tokio::test]
async fn xai_rate_limit_429_is_retried_after_the_wait_it_names() {
    let s = FakeServer::start().await;
    s.push(Reply::json(429, r#"{"code":"Some resource has been exhausted","error":"Too many requests: rate limit of 60 requests per minute exceeded. Please retry after 1 second."}"#));
    s.push(Reply::sse(ok_stream()));
    let (turn, ev) = run(&s).await;
    assert_eq!(turn.state, TurnState::Done, "{:?}", turn.error);
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
        .expect("a retry");
    assert_eq!(delay, Duration::from_secs(1));
}

#[tokio::test]
async fn xai_spent_credits_429_is_final() {
    let s = FakeServer::start().await;
    s.push(Reply::json(429, r#"{"code":"Some resource has been exhausted","error":"Your team has either used all available credits or reached its monthly spending limit."}"#));
    s.push(Reply::sse(ok_stream()));
    let (turn, ev) = run(&s).await;
    assert_eq!(turn.error.unwrap().kind, ErrorKind::QuotaExhausted);
    assert_eq!((s.requests().len(), retries(&ev)), (1, 0));
}

#[tokio::test]
async fn json_error_on_200_then_500_then_success() {
    let s = FakeServer::start().await;
    s.push(Reply::json(
        200,
        r#"{"code":"The service is currently unavailable","error":"Timed out waiting for first token"}"#,
    ));
    s.push(Reply::json(500, r#"{"error":{"message":"internal"}}"#));
    s.push(Reply::sse(ok_stream()));
    let (turn, ev) = run(&s).await;
    assert_eq!(turn.state, TurnState::Done, "{:?}", turn.error);
    assert_eq!((s.requests().len(), retries(&ev)), (3, 2));
}

#[tokio::test]
async fn reset_and_stall_mid_stream_keep_the_partial_answer() {
    let s = FakeServer::start().await;
    let head = format!("{}{}{}", created(), reasoning(), content("Partial answer"));
    s.push(
        Reply::new(200, "text/event-stream")
            .part(Part::Bytes(head.clone().into_bytes()))
            .part(Part::Sleep(Duration::from_millis(50)))
            .part(Part::Reset),
    );
    let (turn, ev) = run(&s).await;
    assert_eq!(turn.state, TurnState::Failed);
    assert_eq!(turn.content, "Partial answer");
    assert_eq!(turn.reasoning, "Thinking about it");
    assert!(turn.error.unwrap().message.contains("connection lost"));
    assert_eq!(retries(&ev), 0, "output arrived: never resent");
    s.push(
        Reply::new(200, "text/event-stream")
            .part(Part::Bytes(head.into_bytes()))
            .part(Part::Stall),
    );
    let (turn, _) = run(&s).await;
    assert_eq!(turn.error.unwrap().kind, ErrorKind::Stalled);
    assert_eq!(turn.content, "Partial answer");
    assert_eq!(s.requests().len(), 2);
}

#[tokio::test]
async fn mid_stream_error_and_failed_response_keep_output() {
    let s = FakeServer::start().await;
    let head = format!("{}{}", created(), content("Partial answer"));
    s.push(Reply::sse(format!(
        "{head}{}",
        ev(serde_json::json!({"type":"error","code":"server_error","message":"The model crashed"}))
    )));
    let (turn, ev1) = run(&s).await;
    let e = turn.error.unwrap();
    assert_eq!(e.kind, ErrorKind::Server);
    assert_eq!(e.message, "The model crashed (server_error)");
    assert_eq!(turn.content, "Partial answer");
    assert_eq!(retries(&ev1), 0);
    s.push(Reply::sse(format!(
        "{head}{}",
        ev(
            serde_json::json!({"type":"response.failed","response":{"id":"r1","status":"failed",
            "error":{"code":"rate_limit_exceeded","message":"Upstream overloaded"},
            "usage":{"input_tokens":10,"output_tokens":2}}})
        )
    )));
    let (turn, ev2) = run(&s).await;
    let e = turn.error.unwrap();
    assert_eq!(e.message, "Upstream overloaded (rate_limit_exceeded)");
    assert_eq!(e.kind, ErrorKind::RateLimited);
    assert_eq!(retries(&ev2), 0, "output had arrived: never resent");
    assert_eq!(turn.content, "Partial answer");
    assert_eq!(
        turn.usage.unwrap().completion_tokens,
        2,
        "what was billed is kept"
    );
    assert_eq!(s.requests().len(), 2);
    // Before any output, a failed response that names a rate limit is retried.
    s.push(Reply::sse(format!(
        "{}{}",
        created(),
        ev(serde_json::json!({"type":"response.failed","response":{"status":"failed",
            "error":{"code":"rate_limit_exceeded","message":"Slow down. Please retry after 0.1 seconds"}}}))
    )));
    s.push(Reply::sse(ok_stream()));
    let (turn, ev3) = run(&s).await;
    assert_eq!(turn.state, TurnState::Done, "{:?}", turn.error);
    assert_eq!(retries(&ev3), 1);
    assert_eq!(s.requests().len(), 4);
}

#[tokio::test]
async fn incomplete_response_says_why_and_keeps_the_answer() {
    let s = FakeServer::start().await;
    s.push(Reply::sse(format!(
        "{}{}{}",
        created(),
        content("Cut short"),
        ev(serde_json::json!({"type":"response.incomplete","response":{"id":"r1","status":"incomplete",
            "incomplete_details":{"reason":"max_output_tokens"},
            "usage":{"input_tokens":10,"output_tokens":50}}}))
    )));
    let (turn, _) = run(&s).await;
    assert_eq!(turn.state, TurnState::Done);
    assert_eq!(turn.content, "Cut short");
    assert_eq!(turn.finish_reason.as_deref(), Some("max_output_tokens"));
    assert!(
        turn.notices[0].contains("incomplete: it reached max_output_tokens"),
        "{:?}",
        turn.notices
    );
}

#[tokio::test]
async fn malformed_and_unknown_events_are_skipped_with_one_notice_each() {
    let s = FakeServer::start().await;
    s.push(Reply::sse(format!(
        "{}data: {{\"type\":\"response.output_text.delta\",\"delta\n\n{}{}{}{}",
        created(),
        ev(serde_json::json!({"type":"response.future_thing","x":1})),
        ev(serde_json::json!({"type":"response.future_thing","x":2})),
        content("Still here"),
        completed()
    )));
    let (turn, _) = run(&s).await;
    assert_eq!(turn.state, TurnState::Done);
    assert_eq!(turn.content, "Still here");
    assert_eq!(turn.notices.len(), 2, "{:?}", turn.notices);
    assert!(turn.notices[0].contains("malformed"));
    assert!(turn.notices[1].contains("response.future_thing"));
}

#[tokio::test]
async fn split_utf8_keepalives_and_truncation() {
    let s = FakeServer::start().await;
    let body = format!("{}{}{}", created(), content("Olá – 日本語 🦀"), completed());
    s.push(Reply::sse_split(&body, 1));
    let (turn, _) = run(&s).await;
    assert_eq!(turn.content, "Olá – 日本語 🦀");
    // Keep-alive comments mid-answer keep the stream alive (idle timeout 0.5 s)…
    let keepalives = |r: Reply| {
        (0..4).fold(r, |r, _| {
            r.part(Part::Sleep(Duration::from_millis(300)))
                .part(Part::Bytes(b": keep-alive\n\n".to_vec()))
        })
    };
    let r = Reply::new(200, "text/event-stream").part(Part::Bytes(
        format!("{}{}", created(), content("Early ")).into_bytes(),
    ));
    s.push(keepalives(r).part(Part::Bytes(
        format!("{}{}", content("late"), completed()).into_bytes(),
    )));
    let (turn, _) = run(&s).await;
    assert_eq!(
        (turn.state, turn.content.as_str()),
        (TurnState::Done, "Early late")
    );
    // …but before the first output they are not tokens: the first-token timeout (0.5 s)
    // still runs, and the request is not sent again.
    let r = Reply::new(200, "text/event-stream").part(Part::Bytes(created().into_bytes()));
    s.push(keepalives(r).part(Part::Bytes(
        format!("{}{}", content("Late"), completed()).into_bytes(),
    )));
    let (turn, ev) = run(&s).await;
    let e = turn.error.unwrap();
    assert_eq!(
        (e.kind, e.message.as_str()),
        (ErrorKind::Stalled, "no output within 0.5s")
    );
    assert_eq!(retries(&ev), 0);
    // The connection closes before response.completed: cut off, what arrived kept.
    s.push(Reply::sse(format!("{}{}", created(), content("Half"))));
    let (turn, _) = run(&s).await;
    assert_eq!(turn.error.unwrap().kind, ErrorKind::Truncated);
    assert_eq!(turn.content, "Half");
}

// ---- multi-turn request shapes on both endpoints -----------------------------------------

/// Three turns: every body extends the previous one byte for byte (up to its closing
/// brackets), with one conversation id; on Responses the reasoning items come back with their
/// `encrypted_content`, on Chat the reasoning text.
#[tokio::test]
async fn three_turns_extend_the_previous_body_on_both_endpoints() {
    for api in [Api::Responses, Api::Chat] {
        let s = FakeServer::start().await;
        let extra = format!("api = \"{}\"", api.name());
        let cfg = config_for(&s.base_url(), "xai", &extra);
        let usage = SynthUsage {
            prompt: 100,
            cached: 90,
            completion: 5,
            reasoning: 7,
            ticks: None,
        };
        for i in 0..3 {
            let (r, a) = (format!("Thought {i}."), format!("Answer {i}."));
            s.push(Reply::sse(match api {
                Api::Responses => synth_responses_sse("grok-4.3", &r, &a, usage),
                Api::Chat => synth_sse("grok-4.3", &r, &a, usage),
            }));
        }
        let mut conv = Conversation::new(Some("Be brief."));
        for i in 0..3 {
            conv.push_user(format!("Question {i}"));
            let (turn, _) = run_turn(&cfg, "grok-code-fast-1", &conv, &ChatParams::default()).await;
            assert_eq!(turn.content, format!("Answer {i}."), "{api:?}");
            conv.push_turn(&turn);
        }
        let reqs = s.requests();
        assert_eq!(reqs.len(), 3);
        let path = match api {
            Api::Responses => "/v1/responses",
            Api::Chat => "/v1/chat/completions",
        };
        for w in reqs.windows(2) {
            let (a, b) = (&w[0].body, &w[1].body);
            assert!(
                b.starts_with(&a[..a.len() - 2]),
                "{api:?}: a follow-up body does not extend the previous one"
            );
        }
        let ids: Vec<&str> = reqs
            .iter()
            .map(|r| r.header("x-grok-conv-id").unwrap())
            .collect();
        assert!(ids.iter().all(|i| *i == conv.id), "{api:?}: {ids:?}");
        assert!(reqs.iter().all(|r| r.path == path));
        let last = reqs[2].json();
        match api {
            Api::Responses => {
                assert!(reqs
                    .iter()
                    .all(|r| r.json()["prompt_cache_key"] == conv.id.as_str()));
                assert_eq!(last["instructions"], "Be brief.");
                assert_eq!(last["store"], false);
                let reasoning: Vec<&Value> = last["input"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|i| i["type"] == "reasoning")
                    .collect();
                assert_eq!(reasoning.len(), 2);
                assert_eq!(reasoning[0]["encrypted_content"], "enc:10");
                assert_eq!(reasoning[1]["summary"][0]["text"], "Thought 1.");
            }
            Api::Chat => {
                assert_eq!(last["messages"][2]["reasoning_content"], "Thought 0.");
            }
        }
    }
}

/// Scripted tool-call trajectories come back as the same tool calls on both endpoints, and
/// the results go out in each endpoint's shape.
#[tokio::test]
async fn scripted_parallel_tool_calls_on_both_endpoints() {
    let calls = [
        ("call_1", "grep", r#"{"pattern":"fn main","path":"src"}"#),
        ("call_2", "read_file", r#"{"path":"src/main.rs"}"#),
    ];
    for api in [Api::Responses, Api::Chat] {
        let s = FakeServer::start().await;
        let cfg = config_for(&s.base_url(), "xai", &format!("api = \"{}\"", api.name()));
        let usage = SynthUsage {
            prompt: 50,
            cached: 0,
            completion: 20,
            reasoning: 0,
            ticks: None,
        };
        s.push(Reply::sse_split(
            synth_tool_calls(api, "grok-4.3", &calls, usage),
            3,
        ));
        s.push(Reply::sse(match api {
            Api::Responses => synth_responses_sse("grok-4.3", "", "Found it.", usage),
            Api::Chat => synth_sse("grok-4.3", "", "Found it.", usage),
        }));
        let mut conv = conv();
        let (turn, _) = run_turn(&cfg, "grok-4.3", &conv, &ChatParams::default()).await;
        let got: Vec<(&str, &str, &str)> = turn
            .tool_calls
            .iter()
            .map(|c| {
                (
                    c.id.as_str(),
                    c.function.name.as_str(),
                    c.function.arguments.as_str(),
                )
            })
            .collect();
        assert_eq!(got, calls, "{api:?}");
        assert_eq!(turn.finish_reason.as_deref(), Some("tool_calls"));
        conv.push_turn(&turn);
        let mut history = conv.messages().to_vec();
        for (id, _, _) in calls {
            let mut m = Message::new(Role::Tool, format!("result of {id}"));
            m.tool_call_id = Some(id.into());
            history.push(m);
        }
        let conv = Conversation::from_messages(conv.id.clone(), history);
        let (turn, _) = run_turn(&cfg, "grok-4.3", &conv, &ChatParams::default()).await;
        assert_eq!(turn.content, "Found it.");
        let body = s.requests()[1].json();
        match api {
            Api::Responses => {
                let input = body["input"].as_array().unwrap();
                let kinds: Vec<&str> = input.iter().map(|i| i["type"].as_str().unwrap()).collect();
                assert_eq!(
                    kinds,
                    [
                        "message",
                        "function_call",
                        "function_call",
                        "function_call_output",
                        "function_call_output"
                    ]
                );
                assert_eq!(input[3]["call_id"], "call_1");
                assert_eq!(input[4]["output"], "result of call_2");
            }
            Api::Chat => {
                let m = body["messages"].as_array().unwrap();
                assert_eq!(m[1]["tool_calls"][1]["function"]["name"], "read_file");
                assert_eq!(m[2]["role"], "tool");
                assert_eq!(m[3]["tool_call_id"], "call_2");
            }
        }
    }
}

// ---- the provider's model listing, cached on disk ----------------------------------------

struct Cli {
    dir: tempfile::TempDir,
    config: PathBuf,
}

const LISTING: &str = r#"{"models":[{"id":"grok-4.3","aliases":["grok-4.3-latest"],"prompt_text_token_price":20000,"cached_prompt_text_token_price":4000,"completion_text_token_price":40000}]}"#;
const MODELS: &str = r#"{"object":"list","data":[{"id":"grok-4.3"}]}"#;

fn cli(base_url: &str) -> Cli {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "provider = \"fake\"\n[sessions]\nautosave = false\n[network]\nidle_timeout_secs = 5\n\
             max_retries = 0\n[providers.fake]\nbase_url = \"{base_url}\"\napi_key_env = \"GP_RESP_KEY\"\n\
             model = \"grok-4.3\"\ndialect = \"xai\"\napi = \"responses\"\nlive_catalog = true\n"
        ),
    )
    .unwrap();
    Cli { dir, config }
}

impl Cli {
    fn cache(&self) -> PathBuf {
        self.dir.path().join("cache/grokpair/models-fake.json")
    }

    async fn ask(&self) -> (i32, Value, String) {
        let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_grokpair"))
            .args(["--config"])
            .arg(&self.config)
            .args(["ask", "--json", "hi"])
            .env("GP_RESP_KEY", "gp-resp-key-1234567890")
            .env("XDG_CACHE_HOME", self.dir.path().join("cache"))
            .env("HOME", self.dir.path())
            .env_remove("GROKPAIR_CONFIG")
            .stdin(std::process::Stdio::null())
            .output()
            .await
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let summary = stdout
            .lines()
            .last()
            .and_then(|l| serde_json::from_str(l).ok())
            .unwrap_or(Value::Null);
        (
            out.status.code().unwrap_or(-1),
            summary,
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}

fn answer() -> Reply {
    Reply::sse(synth_responses_sse(
        "grok-4.3",
        "",
        "Hi.",
        SynthUsage {
            prompt: 1_000_000,
            cached: 0,
            completion: 1_000_000,
            reasoning: 0,
            ticks: None,
        },
    ))
}

fn paths(s: &FakeServer) -> Vec<String> {
    let mut p: Vec<String> = s.requests().iter().map(|r| r.path.clone()).collect();
    // The two listings are asked for at once: their order is the network's.
    let n = 2.min(p.len());
    p[..n].sort();
    p
}

#[tokio::test]
async fn model_listing_is_fetched_cached_used_offline_and_refreshed_when_stale() {
    let s = FakeServer::start().await;
    s.route(|r| {
        Some(if r.path.ends_with("/language-models") {
            Reply::json(200, LISTING)
        } else if r.path.ends_with("/models") {
            Reply::json(200, MODELS)
        } else {
            answer()
        })
    });
    let c = cli(&s.base_url());
    // No cache: fetched, saved, and its prices used ($2 + $4 per 1M in and out, not the
    // built-in $1.25 / $2.50).
    let (code, sum, err) = c.ask().await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(sum["cost"]["total_ticks"], 60_000_000_000i64, "{sum}");
    assert_eq!(
        paths(&s),
        ["/v1/language-models", "/v1/models", "/v1/responses"]
    );
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(c.cache()).unwrap()).unwrap();
    assert_eq!(saved["base_url"], s.base_url());
    // Fresh cache: no listing asked for, the cached prices still apply.
    let (_, sum, _) = c.ask().await;
    assert_eq!(sum["cost"]["total_ticks"], 60_000_000_000i64);
    assert_eq!(s.requests().len(), 4);
    // A day old: asked for again.
    let mut stale = saved.clone();
    stale["fetched_at"] = (saved["fetched_at"].as_u64().unwrap() - 2 * 86_400).into();
    std::fs::write(c.cache(), stale.to_string()).unwrap();
    let (_, _, _) = c.ask().await;
    assert_eq!(s.requests().len(), 7);
    let refreshed: Value =
        serde_json::from_str(&std::fs::read_to_string(c.cache()).unwrap()).unwrap();
    assert!(refreshed["fetched_at"].as_u64() > stale["fetched_at"].as_u64());
}

#[tokio::test]
async fn stale_cache_is_used_offline_and_a_broken_one_is_ignored_with_a_notice() {
    let s = FakeServer::start().await;
    s.route(|r| {
        Some(if r.path.contains("models") {
            Reply::json(503, r#"{"error":{"message":"listing down"}}"#)
        } else {
            answer()
        })
    });
    let c = cli(&s.base_url());
    std::fs::create_dir_all(c.cache().parent().unwrap()).unwrap();
    let old = serde_json::json!({"fetched_at": 1_000, "base_url": s.base_url(), "models": [
        {"id": "grok-4.3", "prices": {"input": 30_000_000_000u64, "cached": 0, "output": 0}}]});
    std::fs::write(c.cache(), old.to_string()).unwrap();
    let (code, sum, err) = c.ask().await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        sum["cost"]["total_ticks"], 30_000_000_000i64,
        "the stale listing applies"
    );
    assert_eq!(err, "", "offline is not worth a word");
    std::fs::write(c.cache(), "{ broken").unwrap();
    let (code, sum, err) = c.ask().await;
    assert_eq!(code, 0);
    assert!(
        err.contains("model listing cache") && err.contains("ignored"),
        "{err}"
    );
    // The built-in grok-4.3 price: $1.25 + $2.50.
    assert_eq!(sum["cost"]["total_ticks"], 37_500_000_000i64);
}

#[test]
fn xai_preset_speaks_responses_and_defaults_to_grok_4_3() {
    let cfg = Config::parse("", None).unwrap();
    let x = cfg.provider("xai").unwrap();
    assert_eq!(
        (x.api, x.model.as_deref()),
        (Api::Responses, Some("grok-4.3"))
    );
    assert!(x.live_catalog);
    for other in ["aimlapi", "openrouter", "local"] {
        let p = cfg.provider(other).unwrap();
        assert_eq!((p.api, p.live_catalog), (Api::Chat, false), "{other}");
    }
    let cfg = Config::parse("[providers.xai]\napi = \"chat\"\n", None).unwrap();
    assert_eq!(cfg.provider("xai").unwrap().api, Api::Chat);
    let e = Config::parse(
        "[providers.xai]\napi = \"soap\"\n",
        Some(Path::new("c.toml")),
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.starts_with("config error in c.toml:2: key `providers.xai.api`"),
        "{e}"
    );
}

/// A saved Responses conversation continued later (`ask --session`): the reasoning item of
/// the first answer, with its `encrypted_content`, is echoed from the session file.
#[tokio::test]
async fn a_continued_session_echoes_the_saved_reasoning_items() {
    let s = FakeServer::start().await;
    let usage = SynthUsage {
        prompt: 20,
        cached: 0,
        completion: 3,
        reasoning: 9,
        ticks: None,
    };
    s.push(Reply::sse(synth_responses_sse(
        "grok-4.3",
        "Weighing it up.",
        "Yes.",
        usage,
    )));
    s.push(Reply::sse(synth_responses_sse(
        "grok-4.3", "", "No.", usage,
    )));
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("c.toml");
    std::fs::write(
        &config,
        format!(
            "provider = \"fake\"\n[sessions]\ndir = \"{}\"\n[providers.fake]\nbase_url = \"{}\"\n\
             api_key_env = \"GP_RESP_KEY\"\nmodel = \"grok-4.3\"\ndialect = \"xai\"\napi = \"responses\"\n",
            dir.path().join("sessions").display(),
            s.base_url()
        ),
    )
    .unwrap();
    for q in ["First?", "Second?"] {
        let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_grokpair"))
            .arg("--config")
            .arg(&config)
            .args(["ask", "-q", "--session", "resp", q])
            .env("GP_RESP_KEY", "gp-resp-key-1234567890")
            .env("XDG_CACHE_HOME", dir.path().join("cache"))
            .env_remove("GROKPAIR_CONFIG")
            .stdin(std::process::Stdio::null())
            .output()
            .await
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let reqs = s.requests();
    assert_eq!(reqs.len(), 2);
    let (a, b) = (&reqs[0].body, &reqs[1].body);
    assert!(
        b.starts_with(&a[..a.len() - 2]),
        "the follow-up extends the first body"
    );
    let input = reqs[1].json()["input"].clone();
    let kinds: Vec<&str> = input
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["message", "reasoning", "message", "message"]);
    assert_eq!(input[1]["encrypted_content"], "enc:15");
    assert_eq!(input[2]["content"], "Yes.");
    assert_eq!(
        reqs[0].json()["prompt_cache_key"],
        reqs[1].json()["prompt_cache_key"]
    );
}
