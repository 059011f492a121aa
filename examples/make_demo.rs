//! Records the bundled demo sessions (`assets/demo/*.jsonl`) through the real engine and
//! session recorder, against the in-process fake server streaming at realistic speeds.
//!
//! `cargo run --example make_demo [NAME…]` rewrites the files (or the named ones) from
//! `examples/demo_src/*.txt`: a
//! `model:` line, then `=== prompt`, `=== reasoning`, `=== answer` sections per turn (an empty
//! reasoning section means the model reasons without sending the text, as grok-4-fast does).
//! A file that starts with `compare: A B C` is one comparison: `=== prompt`, then per model
//! `=== model NAME`, `=== reasoning`, `=== answer`; it is recorded through `spawn_compare`.

use grokpair::api::{ChatParams, Usage};
use grokpair::config::Config;
use grokpair::engine::{ColumnPlan, Engine};
use grokpair::runner::{ColumnStep, Runner};
use grokpair::session::compare::Column;
use grokpair::session::exchange::RoundId;
use grokpair::session::store::{Recorder, Settings};
use grokpair::session::{cost_of, Catalog, Conversation};
use grokpair::testing::{synth_sse, token_pieces, FakeServer, Part, Reply, SynthUsage};
use std::path::Path;
use std::time::Duration;

struct Step {
    prompt: String,
    reasoning: String,
    answer: String,
}

fn parse(text: &str) -> (String, Vec<Step>) {
    let mut lines = text.lines();
    let model = lines
        .next()
        .and_then(|l| l.strip_prefix("model: "))
        .expect("first line: model: NAME")
        .to_string();
    let mut steps: Vec<Step> = Vec::new();
    let mut section = "";
    for l in lines {
        if let Some(name) = l.strip_prefix("=== ") {
            section = match name {
                "prompt" => {
                    steps.push(Step {
                        prompt: String::new(),
                        reasoning: String::new(),
                        answer: String::new(),
                    });
                    "prompt"
                }
                "reasoning" => "reasoning",
                "answer" => "answer",
                other => panic!("unknown section {other}"),
            };
            continue;
        }
        let s = steps.last_mut().expect("a prompt first");
        let buf = match section {
            "prompt" => &mut s.prompt,
            "reasoning" => &mut s.reasoning,
            _ => &mut s.answer,
        };
        buf.push_str(l);
        buf.push('\n');
    }
    for s in &mut steps {
        s.prompt = s.prompt.trim_end().to_string();
        s.reasoning = s.reasoning.trim_end().to_string();
    }
    (model, steps)
}

/// The stream as a paced reply: a pause before the first token (longer when the model thinks
/// in silence), then reasoning faster than the answer, as Grok streams them.
fn paced(sse: &str, ttft: Duration) -> Reply {
    let mut r = Reply::new(200, "text/event-stream");
    r.parts.push(Part::Sleep(ttft));
    for ev in sse.split_inclusive("\n\n") {
        r.parts.push(Part::Bytes(ev.as_bytes().to_vec()));
        let gap = if ev.contains("reasoning_content") {
            3 + fastrand::u64(0..3)
        } else {
            5 + fastrand::u64(0..4)
        };
        r.parts.push(Part::Sleep(Duration::from_millis(gap)));
    }
    r
}

/// A usage block for a synthesized answer: prompt tokens from the text's length, reasoning
/// from its pieces (or `hidden` tokens for a model that does not send its reasoning).
fn usage_for(
    prompt_chars: usize,
    cached: u64,
    reasoning: &str,
    answer: &str,
    hidden: u64,
) -> Usage {
    let prompt = prompt_chars as u64 / 4 + 12;
    let reasoning = if reasoning.is_empty() {
        hidden
    } else {
        token_pieces(reasoning).len() as u64
    };
    let completion = token_pieces(answer).len() as u64;
    Usage {
        prompt_tokens: prompt,
        completion_tokens: completion,
        total_tokens: Some(prompt + completion + reasoning),
        cached_tokens: Some(cached),
        reasoning_tokens: Some(reasoning),
        reported_cost_ticks: None,
    }
}

/// The `xai` provider pointed at the fake server, with the demo's throwaway key.
fn demo_config(server: &FakeServer) -> Config {
    std::env::set_var("GROKPAIR_DEMO_KEY", "demo-key-not-secret-000");
    Config::parse(
        &format!(
            "provider = \"xai\"\n[providers.xai]\nbase_url = \"{}\"\napi_key_env = \"GROKPAIR_DEMO_KEY\"\n",
            server.base_url()
        ),
        None,
    )
    .unwrap()
}

/// Records one comparison (a `compare:` source) as the TUI would: all columns at once.
async fn record_compare(name: &str, text: &str, out_dir: &Path) {
    let mut lines = text.lines();
    let models: Vec<String> = lines
        .next()
        .and_then(|l| l.strip_prefix("compare: "))
        .expect("compare: A B …")
        .split_whitespace()
        .map(str::to_string)
        .collect();
    let (mut prompt, mut cols) = (String::new(), Vec::<(String, String, String)>::new());
    let mut section = "";
    for l in lines {
        if let Some(m) = l.strip_prefix("=== model ") {
            cols.push((m.to_string(), String::new(), String::new()));
            continue;
        }
        if let Some(sec) = l.strip_prefix("=== ") {
            section = match sec {
                "prompt" => "prompt",
                "reasoning" => "reasoning",
                "answer" => "answer",
                other => panic!("unknown section {other}"),
            };
            continue;
        }
        let buf = match (section, cols.last_mut()) {
            ("prompt", _) => &mut prompt,
            ("reasoning", Some(c)) => &mut c.1,
            (_, Some(c)) => &mut c.2,
            _ => panic!("a model first"),
        };
        buf.push_str(l);
        buf.push('\n');
    }
    let prompt = prompt.trim_end().to_string();
    assert_eq!(models, cols.iter().map(|c| c.0.clone()).collect::<Vec<_>>());
    let catalog = Catalog::default();
    let server = FakeServer::start().await;
    let mut replies = std::collections::HashMap::new();
    for (k, (model, reasoning, answer)) in cols.iter().enumerate() {
        let reasoning = reasoning.trim_end();
        let usage = usage_for(prompt.len(), 0, reasoning, answer, 420);
        let sse = synth_sse(
            model,
            reasoning,
            answer,
            SynthUsage {
                prompt: usage.prompt_tokens,
                cached: 0,
                completion: usage.completion_tokens,
                reasoning: usage.reasoning_tokens.unwrap_or(0),
                ticks: cost_of(&usage, catalog.lookup(model), false, false).total_ticks,
            },
        );
        // Each model at its own pace: a silent thinker, a quick one, a slower one.
        let ttft = if reasoning.is_empty() {
            Duration::from_millis(1700)
        } else {
            Duration::from_millis(230 + 160 * k as u64)
        };
        let mut reply = paced(&sse, ttft);
        if k == 1 {
            for p in reply.parts.iter_mut() {
                if let Part::Sleep(d) = p {
                    *d *= 2;
                }
            }
        }
        replies.insert(model.clone(), reply);
    }
    server.route(move |req| {
        let model = req.json()["model"].as_str().unwrap_or("").to_string();
        replies.get(&model).cloned()
    });
    let cfg = demo_config(&server);
    let engine = Engine::new(&cfg, cfg.provider("xai").unwrap()).unwrap();
    let path = out_dir.join(format!("{name}.jsonl"));
    let _ = std::fs::remove_file(&path);
    let mut rec = Recorder::named(out_dir, name, true);
    rec.set_kind("demo");
    let conv = Conversation::new(None);
    let mut asked = conv.clone();
    asked.push_user(prompt.clone());
    let settings = Settings {
        system: None,
        params: ChatParams::default(),
    };
    let columns = models
        .iter()
        .map(|m| {
            let plan = ColumnPlan {
                engine: engine.clone(),
                model: m.clone(),
                params: ChatParams::default(),
            };
            (Column::new("xai", m, false, false), Ok(plan))
        })
        .collect();
    let mut runner = Runner::new(rec);
    let ids = (0..models.len()).collect();
    let mut run = runner.start_compare(&cfg, &asked, &settings, columns, ids);
    while let Some((i, step)) = runner.next_column(&mut run).await {
        if let ColumnStep::Ended(_) = step {
            println!("{name} column {i}: {:?}", run.cols[i].turn.state);
        }
    }
    let mut rec = runner.rec;
    assert!(rec.take_error().is_none());
    println!("wrote {}", path.display());
}

#[tokio::main]
async fn main() {
    fastrand::seed(7);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out_dir = root.join("assets/demo");
    std::fs::create_dir_all(&out_dir).unwrap();
    let server = FakeServer::start().await;
    let cfg = demo_config(&server);
    let provider = cfg.provider("xai").unwrap().clone();
    let engine = Engine::new(&cfg, &provider).unwrap();
    let catalog = Catalog::default();
    // Names on the command line re-record just those demos.
    let only: Vec<String> = std::env::args().skip(1).collect();
    let wanted = |name: &str| only.is_empty() || only.iter().any(|o| o == name);
    for name in ["rust-config", "python-async", "sql-index"] {
        if !wanted(name) {
            continue;
        }
        let text =
            std::fs::read_to_string(root.join(format!("examples/demo_src/{name}.txt"))).unwrap();
        let (model, steps) = parse(&text);
        let path = out_dir.join(format!("{name}.jsonl"));
        let _ = std::fs::remove_file(&path);
        let mut rec = Recorder::named(&out_dir, name, true);
        rec.set_kind("demo");
        let mut runner = Runner::new(rec);
        let mut conv = Conversation::new(None);
        let info = catalog.lookup(&model);
        let mut prev_total = 0u64;
        for (k, s) in steps.iter().enumerate() {
            conv.push_user(s.prompt.clone());
            let chars: usize = conv
                .messages()
                .iter()
                .map(|m| m.content.len() + m.reasoning_content.as_ref().map_or(0, |r| r.len()))
                .sum();
            // The provider caches the previous request's prefix, in 64-token blocks.
            let cached = if k == 0 { 0 } else { prev_total / 64 * 64 };
            let hidden = s.reasoning.is_empty();
            let usage = usage_for(chars, cached, &s.reasoning, &s.answer, 180 + 60 * k as u64);
            let (prompt, completion) = (usage.prompt_tokens, usage.completion_tokens);
            let reasoning = usage.reasoning_tokens.unwrap_or(0);
            let ticks = cost_of(&usage, info, false, false).total_ticks;
            let served = if model == "grok-4-fast-reasoning" {
                "grok-4-fast-reasoning".to_string()
            } else {
                model.clone()
            };
            let sse = synth_sse(
                &served,
                &s.reasoning,
                &s.answer,
                SynthUsage {
                    prompt,
                    cached,
                    completion,
                    reasoning,
                    ticks,
                },
            );
            let ttft = if hidden {
                Duration::from_millis(1400 + 300 * k as u64)
            } else {
                Duration::from_millis(220 + 40 * k as u64)
            };
            server.push(paced(&sse, ttft));
            let settings = Settings {
                system: None,
                params: ChatParams::default(),
            };
            let mut round =
                runner.start(&engine, &cfg, &conv, &model, &settings, RoundId::first(k));
            while runner.next(&mut round).await.is_some() {}
            runner.close(&mut round, &mut conv, &catalog);
            let turn = &round.turn;
            prev_total = prompt + completion;
            println!(
                "{name} turn {}: {} content chars, {:?}",
                k + 1,
                turn.content.len(),
                turn.state
            );
        }
        assert!(runner.rec.take_error().is_none());
        println!("wrote {}", path.display());
    }
    for name in ["compare-dedupe"] {
        if !wanted(name) {
            continue;
        }
        let text =
            std::fs::read_to_string(root.join(format!("examples/demo_src/{name}.txt"))).unwrap();
        record_compare(name, &text, &out_dir).await;
    }
}
