//! Replays every recorded real provider response through the fake server and the real client,
//! whole and re-chunked at every byte boundary, and checks what was assembled against an
//! independent reading of the recording and against the fixtures README's expected figures.

mod common;

use common::*;
use grokpair::api::{ChatParams, StreamEvent};
use grokpair::session::{cost_of, Conversation, CostSource, TurnState};
use grokpair::testing::{FakeServer, Reply};
use serde_json::Value;
use std::collections::BTreeMap;

/// What a recording says, read naively with serde_json::Value (a different code path from the
/// client's typed, incremental decoder).
#[derive(Debug, Default, PartialEq)]
struct Reference {
    model: Option<String>,
    reasoning: String,
    content: String,
    tool_calls: BTreeMap<usize, (String, String, String)>,
    usage: Option<Value>,
}

fn absorb(r: &mut Reference, v: &Value, key: &str) {
    if r.model.is_none() {
        r.model = v["model"].as_str().map(String::from);
    }
    for ch in v["choices"].as_array().into_iter().flatten() {
        let d = &ch[key];
        let reasoning = d["reasoning_content"].as_str().or(d["reasoning"].as_str());
        r.reasoning.push_str(reasoning.unwrap_or(""));
        r.content.push_str(d["content"].as_str().unwrap_or(""));
        for (pos, tc) in d["tool_calls"].as_array().into_iter().flatten().enumerate() {
            let idx = tc["index"].as_u64().map(|i| i as usize).unwrap_or(pos);
            let e = r.tool_calls.entry(idx).or_default();
            if let Some(id) = tc["id"].as_str() {
                e.0 = id.to_string();
            }
            e.1.push_str(tc["function"]["name"].as_str().unwrap_or(""));
            e.2.push_str(tc["function"]["arguments"].as_str().unwrap_or(""));
        }
    }
    if v.get("usage").is_some_and(|u| !u.is_null()) {
        r.usage = Some(v["usage"].clone());
    }
}

fn reference_sse(body: &str) -> Reference {
    let mut r = Reference::default();
    for block in body.split("\n\n") {
        for line in block.lines() {
            let Some(data) = line.strip_prefix("data: ") else {
                continue;
            };
            if data == "[DONE]" {
                continue;
            }
            let v: Value = serde_json::from_str(data).unwrap();
            absorb(&mut r, &v, "delta");
        }
    }
    r
}

fn reference_json(body: &str) -> Reference {
    let mut r = Reference::default();
    let v: Value = serde_json::from_str(body.trim()).unwrap();
    absorb(&mut r, &v, "message");
    r
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_recorded_response_replays_exactly() {
    let dir = fixtures_dir();
    let table = expected_table();
    assert_eq!(table.len(), 54, "fixtures README lists 54 interactions");
    let server = FakeServer::start().await;
    let mut failures = Vec::new();
    let mut replays = 0;
    let mut streamed = 0;
    for exp in &table {
        let fdir = dir.join(&exp.folder);
        let meta: Value =
            serde_json::from_str(&std::fs::read_to_string(fdir.join("meta.json")).unwrap())
                .unwrap();
        if meta["status_code"] != 200 {
            continue;
        }
        let (body, reference, variants): (String, Reference, Vec<(&str, Reply)>) = if exp.stream {
            streamed += 1;
            let body = std::fs::read_to_string(fdir.join("response.sse")).unwrap();
            let r = reference_sse(&body);
            let v = vec![
                ("whole", Reply::sse(&body)),
                ("1-byte chunks", Reply::sse_split(&body, 1)),
                ("7-byte chunks", Reply::sse_split(&body, 7)),
            ];
            (body, r, v)
        } else {
            let body = std::fs::read_to_string(fdir.join("response.json")).unwrap();
            let r = reference_json(&body);
            let v = vec![("json body", Reply::json(200, &body))];
            (body, r, v)
        };
        let _ = body;
        let dialect = match exp.provider.as_str() {
            "xai" => "xai",
            "openrouter" => "openrouter",
            _ => "generic",
        };
        let free = if exp.provider == "llamacpp" {
            "free = true"
        } else {
            ""
        };
        let cfg = config_for(&server.base_url(), dialect, free);
        let provider = cfg.provider("fake").unwrap();
        let mut conv = Conversation::new(None);
        conv.push_user("replay");
        for (how, reply) in variants {
            replays += 1;
            server.push(reply);
            let (turn, events) =
                run_turn(&cfg, &exp.model_requested, &conv, &ChatParams::default()).await;
            let ctx = format!("{} ({how})", exp.folder);
            let mut check = |ok: bool, what: String| {
                if !ok {
                    failures.push(format!("{ctx}: {what}"));
                }
            };
            check(
                turn.state == TurnState::Done,
                format!("state {:?} {:?}", turn.state, turn.error),
            );
            check(
                turn.reasoning == reference.reasoning,
                "reasoning differs".into(),
            );
            check(
                turn.content == reference.content,
                format!("content {:?}", turn.content),
            );
            let calls: BTreeMap<usize, (String, String, String)> = turn
                .tool_calls
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    (
                        i,
                        (
                            c.id.clone(),
                            c.function.name.clone(),
                            c.function.arguments.clone(),
                        ),
                    )
                })
                .collect();
            check(
                calls == reference.tool_calls,
                format!("tool calls {calls:?}"),
            );
            check(
                turn.served_model == reference.model && turn.served_model == exp.model_served,
                format!("served model {:?}", turn.served_model),
            );
            check(
                count(&events, |e| matches!(e, StreamEvent::Started { .. })) == 1,
                "exactly one Started".into(),
            );
            check(
                count(&events, StreamEvent::is_terminal) == 1,
                "exactly one terminal event".into(),
            );
            check(
                count(&events, |e| matches!(e, StreamEvent::Notice(_))) == 0,
                "no notices on a clean recording".into(),
            );
            let Some(u) = &turn.usage else {
                check(reference.usage.is_none(), "usage missing".into());
                continue;
            };
            check(
                Some(u.prompt_tokens) == exp.prompt,
                format!("prompt {}", u.prompt_tokens),
            );
            check(
                Some(u.completion_tokens) == exp.completion,
                format!("completion {}", u.completion_tokens),
            );
            check(
                u.cached_tokens == exp.cached || exp.provider == "llamacpp",
                format!("cached {:?}", u.cached_tokens),
            );
            check(
                u.reasoning_tokens == exp.reasoning,
                format!("reasoning {:?}", u.reasoning_tokens),
            );
            let info = cfg
                .catalog
                .for_turn(turn.served_model.as_deref(), &turn.asked_model);
            let cost = cost_of(
                u,
                info,
                provider.completion_includes_reasoning,
                provider.free,
            );
            match (exp.recorded_ticks, exp.computed_ticks) {
                (Some(rec), Some(comp)) => {
                    check(
                        cost.source == CostSource::Reported,
                        format!("source {:?}", cost.source),
                    );
                    check(
                        cost.total_ticks == Some(rec),
                        format!("billed {:?} != {rec}", cost.total_ticks),
                    );
                    check(
                        cost.computed_ticks == Some(comp),
                        format!("computed {:?} != {comp}", cost.computed_ticks),
                    );
                    check(comp == rec, "README says computed = recorded".into());
                }
                _ => {
                    check(
                        cost.source == CostSource::Free,
                        format!("llama.cpp is free, got {:?}", cost.source),
                    );
                }
            }
        }
    }
    assert_eq!(streamed, 26, "26 streaming fixtures");
    assert!(replays >= 26 * 3 + 26, "replayed {replays}");
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The llama.cpp recordings carry prompt-cache reuse only as `timings.cache_n`.
#[tokio::test]
async fn llamacpp_cache_n_becomes_cached_tokens() {
    let body = std::fs::read_to_string(
        fixtures_dir().join("llamacpp-openai_gpt-oss-20b-tool_streaming-turn1/response.sse"),
    )
    .unwrap();
    let server = FakeServer::start().await;
    server.push(Reply::sse(&body));
    let cfg = config_for(&server.base_url(), "generic", "free = true");
    let mut conv = Conversation::new(None);
    conv.push_user("x");
    let (turn, _) = run_turn(&cfg, "openai/gpt-oss-20b", &conv, &ChatParams::default()).await;
    let u = turn.usage.unwrap();
    assert_eq!((u.prompt_tokens, u.cached_tokens), (139, Some(138)));
    assert_eq!(
        turn.tool_calls[0].function.arguments,
        "{\"location\":\"Florence, Italy\"}"
    );
}

#[test]
fn readme_decimal_parser() {
    assert_eq!(usd_str_to_ticks("0.000191825"), Some(1_918_250));
    assert_eq!(usd_str_to_ticks("0.00030804"), Some(3_080_400));
    assert_eq!(usd_str_to_ticks("—"), None);
}
