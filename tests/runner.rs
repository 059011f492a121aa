//! The one turn runner: a plain round, a cancelled one, a failed one, comparison columns, the
//! session file's summary record — and the same session file from `ask`, the TUI and the
//! demo recorder for the same scripted stream.

mod common;

use common::tmux::Tmux;
use common::{config_for, engine};
use grokpair::api::{ErrorKind, StreamEvent};
use grokpair::engine::ColumnPlan;
use grokpair::runner::{ColumnStep, Runner};
use grokpair::session::compare::Column;
use grokpair::session::exchange::{Closed, RoundId};
use grokpair::session::store::{self, Recorder, Settings};
use grokpair::session::{Conversation, TurnState};
use grokpair::testing::{synth_sse, FakeServer, Part, Reply, SynthUsage};
use serde_json::Value;
use std::time::Duration;

const REASONING: &str = "The user wants a file read. std::fs::read_to_string does it in one call.";
const ANSWER: &str = "Use `std::fs::read_to_string`:\n\n```rust\nlet text = std::fs::read_to_string(\"a.txt\")?;\n```\n\nIt returns the whole file as a `String`.\n";

fn scripted() -> Reply {
    let sse = synth_sse(
        "grok-code-fast-1",
        REASONING,
        ANSWER,
        SynthUsage {
            prompt: 120,
            cached: 0,
            completion: 40,
            reasoning: 20,
            ticks: Some(123_400),
        },
    );
    Reply::sse_paced(sse, Duration::from_millis(2))
}

fn settings() -> Settings {
    Settings::default()
}

/// Sends `conv` to the fake provider's grok-code-fast-1 as exchange `k`'s first round.
fn start(
    runner: &mut Runner,
    cfg: &grokpair::config::Config,
    conv: &Conversation,
    k: usize,
) -> grokpair::runner::Round {
    let eng = engine(cfg);
    runner.start(
        &eng,
        cfg,
        conv,
        "grok-code-fast-1",
        &settings(),
        RoundId::first(k),
    )
}

fn runner_in(dir: &std::path::Path) -> Runner {
    Runner::new(Recorder::new(dir, true))
}

fn lines(path: &std::path::Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test]
async fn a_plain_round_is_streamed_recorded_and_closed() {
    let s = FakeServer::start().await;
    s.push(scripted());
    let cfg = config_for(&s.base_url(), "xai", "");
    let dir = tempfile::tempdir().unwrap();
    let mut runner = runner_in(dir.path());
    let mut conv = Conversation::new(None);
    conv.push_user("How do I read a file?");
    let mut round = start(&mut runner, &cfg, &conv, 0);
    let mut n = 0;
    while let Some(ev) = runner.next(&mut round).await {
        n += 1;
        if ev.event.is_terminal() {
            assert!(
                runner.next(&mut round).await.is_none(),
                "one terminal event"
            );
        }
    }
    assert!(n > 20, "{n} events");
    let (closed, report) = runner.close(&mut round, &mut conv, &cfg.catalog);
    assert_eq!(closed, Closed::Answered);
    assert_eq!(round.turn.state, TurnState::Done);
    assert_eq!(round.turn.content, ANSWER);
    assert_eq!(conv.messages().len(), 2);
    assert_eq!(conv.messages()[1].content, ANSWER);
    assert_eq!(report.cost.unwrap().total_ticks, Some(123_400));
    let path = runner.rec.path().unwrap().to_path_buf();
    let recs = lines(&path);
    let kinds: Vec<&str> = recs.iter().map(|r| r["type"].as_str().unwrap()).collect();
    assert_eq!(kinds[..3], ["header", "history", "request"]);
    // The answer joins the history by reference: it is in the file once.
    assert_eq!(kinds[kinds.len() - 3..], ["end", "reply", "summary"]);
    // (Its events hold it, merged per flush — where a flush falls is timing — and no other
    // record repeats it.)
    let streamed: String = recs
        .iter()
        .filter(|r| r["type"] == "events")
        .flat_map(|r| r["events"].as_array().unwrap().iter())
        .filter_map(|e| e["content"].as_str())
        .collect();
    assert_eq!(streamed, ANSWER);
    assert!(recs
        .iter()
        .filter(|r| r["type"] != "events")
        .all(|r| !r.to_string().contains("It returns")));
    assert_eq!(recs[0]["version"], 2);
    assert_eq!(recs[2]["exchange"], 0);
    // Text deltas merged per flush: far fewer entries than events.
    let entries: usize = recs
        .iter()
        .filter(|r| r["type"] == "events")
        .map(|r| r["events"].as_array().unwrap().len())
        .sum();
    assert!(entries * 2 < n, "{entries} entries for {n} events");
    let sum = &recs[recs.len() - 1];
    assert_eq!(sum["turns"], 1);
    assert_eq!(sum["tokens"], 180);
    assert_eq!(sum["cost_ticks"], 123_400);
    assert_eq!(sum["first_prompt"], "How do I read a file?");
    // The file loads to the same turn.
    let saved = store::load(&path).unwrap();
    assert_eq!(saved.turns[0].to_turn().content, ANSWER);
    assert_eq!(saved.messages, conv.messages());
}

#[tokio::test]
async fn a_cancelled_round_keeps_its_partial_answer() {
    let s = FakeServer::start().await;
    let mut r = Reply::new(200, "text/event-stream");
    r.parts.push(Part::Bytes(
        b"data: {\"id\":\"x\",\"model\":\"grok-code-fast-1\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Half an \"}}]}\n\n"
            .to_vec(),
    ));
    r.parts.push(Part::Sleep(Duration::from_secs(30)));
    s.push(r);
    let cfg = config_for(&s.base_url(), "xai", "");
    let dir = tempfile::tempdir().unwrap();
    let mut runner = runner_in(dir.path());
    let mut conv = Conversation::new(None);
    conv.push_user("q");
    let mut round = start(&mut runner, &cfg, &conv, 0);
    while round.turn.content.is_empty() {
        runner.next(&mut round).await.unwrap();
    }
    runner.cancel(&mut round, None);
    assert!(
        runner.next(&mut round).await.is_none(),
        "nothing after cancel"
    );
    let (closed, _) = runner.close(&mut round, &mut conv, &cfg.catalog);
    assert_eq!(
        closed,
        Closed::Answered,
        "a partial answer joins the history"
    );
    assert_eq!(round.turn.state, TurnState::Cancelled);
    let saved = store::load(runner.rec.path().unwrap()).unwrap();
    let end = saved.turns[0].end.as_ref().unwrap();
    assert_eq!(end.state, TurnState::Cancelled);
    assert_eq!(saved.turns[0].to_turn().content, "Half an ");
}

#[tokio::test]
async fn a_failed_round_takes_its_question_back() {
    let s = FakeServer::start().await;
    s.push(Reply::json(
        400,
        r#"{"error":{"message":"bad model","type":"invalid_request_error"}}"#,
    ));
    let cfg = config_for(&s.base_url(), "xai", "");
    let dir = tempfile::tempdir().unwrap();
    let mut runner = runner_in(dir.path());
    let mut conv = Conversation::new(None);
    conv.push_user("q");
    let mut round = start(&mut runner, &cfg, &conv, 0);
    let mut last = None;
    while let Some(ev) = runner.next(&mut round).await {
        last = Some(ev);
    }
    assert!(matches!(last.unwrap().event, StreamEvent::Error(_)));
    let (closed, _) = runner.close(&mut round, &mut conv, &cfg.catalog);
    match closed {
        Closed::TakenBack(m) => assert_eq!(m.content, "q"),
        other => panic!("{other:?}"),
    }
    assert!(conv.messages().is_empty());
    let saved = store::load(runner.rec.path().unwrap()).unwrap();
    let end = saved.turns[0].end.as_ref().unwrap();
    assert_eq!(end.state, TurnState::Failed);
    assert_eq!(end.error.as_ref().unwrap().message, "bad model");
    assert!(
        saved.messages.is_empty(),
        "the question left the saved history too"
    );
}

#[tokio::test]
async fn comparison_columns_are_recorded_one_unsent() {
    let s = FakeServer::start().await;
    s.route(|_| Some(scripted()));
    let cfg = config_for(&s.base_url(), "xai", "");
    let dir = tempfile::tempdir().unwrap();
    let mut runner = runner_in(dir.path());
    let mut asked = Conversation::new(None);
    asked.push_user("q");
    let plan = ColumnPlan {
        engine: engine(&cfg),
        model: "grok-code-fast-1".into(),
        params: Default::default(),
    };
    let columns = vec![
        (
            Column::new("fake", "grok-code-fast-1", false, false),
            Ok(plan),
        ),
        (
            Column::new("gone", "grok-3-mini", false, false),
            Err("no provider `gone`".to_string()),
        ),
    ];
    let mut run = runner.start_compare(&cfg, &asked, &settings(), columns, vec![4, 5]);
    let mut ended = Vec::new();
    while let Some((col, step)) = runner.next_column(&mut run).await {
        if let ColumnStep::Ended(r) = step {
            ended.push((col, r.report.state));
        }
    }
    ended.sort_by_key(|e| e.0);
    assert_eq!(
        ended,
        [(0, TurnState::Done), (1, TurnState::Failed)],
        "each column ends once"
    );
    assert_eq!(run.cols[0].turn.content, ANSWER);
    assert_eq!(
        run.cols[1].turn.error.as_ref().unwrap().kind,
        ErrorKind::Network
    );
    let saved = store::load(runner.rec.path().unwrap()).unwrap();
    assert_eq!(saved.turns.len(), 2);
    assert_eq!(saved.turn_count(), 1, "one comparison is one turn");
    let tags: Vec<_> = saved
        .turns
        .iter()
        .map(|t| (t.turn, t.exchange, t.compare.as_ref().unwrap().sent))
        .collect();
    assert_eq!(tags, [(4, 4, true), (5, 4, false)]);
    assert!(
        saved.messages.is_empty(),
        "nothing adopted: the question is not kept"
    );
    // The summary record says what the whole file says.
    let listed = store::listing(runner.rec.path().unwrap()).unwrap();
    let mut full = saved.summary();
    full.last_activity.clone_from(&listed.summary.last_activity);
    assert_eq!(listed.summary, full);
    assert_eq!(listed.summary.model, "compare ×2");
}

/// The records, with what differs run to run (times, ids) blanked and the stream's text
/// deltas merged whatever the flush boundaries were.
fn normalized(path: &std::path::Path) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    for mut r in lines(path) {
        for k in ["at", "created", "id", "conv_id", "last_activity"] {
            if r.get(k).is_some() {
                r[k] = Value::Null;
            }
        }
        if r["type"] == "events" {
            let mut evs: Vec<Value> = r["events"].as_array().unwrap().clone();
            if let Some(prev) = out.last_mut().filter(|p| p["type"] == "events") {
                let mut all = prev["events"].as_array().unwrap().clone();
                all.append(&mut evs);
                evs = all;
                out.pop();
            }
            let mut merged: Vec<Value> = Vec::new();
            for mut e in evs {
                e["ms"] = 0.into();
                if let Some(last) = merged.last_mut() {
                    let mut joined = false;
                    for k in ["content", "reasoning"] {
                        if let (Some(a), Some(b)) = (last[k].as_str(), e[k].as_str()) {
                            last[k] = format!("{a}{b}").into();
                            joined = true;
                        }
                    }
                    if joined {
                        continue;
                    }
                }
                merged.push(e);
            }
            r["events"] = merged.into();
        }
        if r["type"] == "end" {
            r["ms"] = 0.into();
        }
        out.push(r);
    }
    out
}

#[tokio::test]
async fn ask_the_tui_and_the_demo_recorder_write_the_same_records() {
    if !Tmux::available() {
        return;
    }
    let s = FakeServer::start().await;
    s.route(|_| Some(scripted()));
    let prompt = "How do I read a file?";
    let base = format!(
        "provider = \"fake\"\n[agent]\ntools = false\n[network]\nidle_timeout_secs = 30\n[providers.fake]\nbase_url = \"{}\"\napi_key_env = \"FAKE_KEY\"\nmodel = \"grok-code-fast-1\"\ndialect = \"xai\"\n{}",
        s.base_url(),
        grokpair::testing::RECORDING_PRICES_TOML
    );

    // ask, the binary.
    let ask_dir = tempfile::tempdir().unwrap();
    let cfg_path = ask_dir.path().join("c.toml");
    let sessions = ask_dir.path().join("sessions");
    std::fs::write(
        &cfg_path,
        format!("{base}\n[sessions]\ndir = \"{}\"\n", sessions.display()),
    )
    .unwrap();
    let c = cfg_path.clone();
    // Off the runtime's thread: the fake server answers on it.
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_grokpair"))
            .env("FAKE_KEY", "k-test")
            .args(["--config", c.to_str().unwrap(), "ask", "--quiet", prompt])
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ask_file = store::list(&sessions)[0].clone();

    // The TUI, typed into.
    let t = Tmux::start_with("runner-same", &base, 120, 40, "k-test");
    t.wait_for("the TUI", |s| s.contains("Ask anything")).await;
    t.type_text(prompt);
    t.send(&["Enter"]);
    // The whole answer, and the turn over (its figures under it, the status bar idle):
    // quitting earlier would cancel it.
    t.wait_for("the finished turn", |s| {
        s.contains("as a String.")
            && s.contains("│ idle │")
            && s.contains("· grok-code-fast-1 · ttft")
    })
    .await;
    t.quit().await;
    let tui_file = store::list(&t.dir.path().join("sessions"))[0].clone();

    // The demo recorder's way: the runner in-process.
    let cfg = grokpair::config::Config::parse(&base, None).unwrap();
    std::env::set_var("FAKE_KEY", "k-test");
    let demo_dir = tempfile::tempdir().unwrap();
    let mut runner = runner_in(demo_dir.path());
    let mut conv = Conversation::new(None);
    conv.push_user(prompt);
    let eng = grokpair::engine::Engine::new(&cfg, cfg.provider("fake").unwrap()).unwrap();
    let mut round = runner.start(
        &eng,
        &cfg,
        &conv,
        "grok-code-fast-1",
        &settings(),
        RoundId::first(0),
    );
    while runner.next(&mut round).await.is_some() {}
    runner.close(&mut round, &mut conv, &cfg.catalog);
    let demo_file = runner.rec.path().unwrap().to_path_buf();

    let (a, b, c) = (
        normalized(&ask_file),
        normalized(&tui_file),
        normalized(&demo_file),
    );
    assert_eq!(a, b, "ask and the TUI");
    assert_eq!(a, c, "ask and the demo recorder");
    assert!(a.iter().any(|r| r["type"] == "summary"));
}

/// One long answer is a few `events` lines, not one per token, and is not repeated in the
/// history: the file stays within 1.5× the text (it was 10–14× with a line per batch of deltas
/// and a second copy in the history).
#[tokio::test]
async fn a_long_answer_is_recorded_in_about_its_own_size() {
    let unit = "## Step\n\nRead the file with `std::fs::read_to_string` and \"split\" it:\n\n```rust\nlet lines: Vec<&str> = text.lines().collect();\n```\n\n- one\n- two\n\n";
    let answer: String = unit.repeat(2_000);
    let sse = synth_sse(
        "grok-code-fast-1",
        "",
        &answer,
        SynthUsage {
            prompt: 10,
            cached: 0,
            completion: 80_000,
            reasoning: 0,
            ticks: None,
        },
    );
    let s = FakeServer::start().await;
    s.push(Reply::sse(sse));
    let cfg = config_for(&s.base_url(), "xai", "");
    let dir = tempfile::tempdir().unwrap();
    let mut runner = runner_in(dir.path());
    let mut conv = Conversation::new(None);
    conv.push_user("q");
    let mut round = start(&mut runner, &cfg, &conv, 0);
    let mut deltas = 0;
    while let Some(ev) = runner.next(&mut round).await {
        deltas += matches!(ev.event, StreamEvent::Content(_)) as usize;
    }
    runner.close(&mut round, &mut conv, &cfg.catalog);
    assert_eq!(round.turn.content, answer);
    assert!(deltas > 50_000, "{deltas} deltas");
    let path = runner.rec.path().unwrap();
    let size = std::fs::metadata(path).unwrap().len() as f64;
    let text = answer.len() as f64;
    eprintln!(
        "session file: {size} bytes for {text} bytes of text ({:.2}×)",
        size / text
    );
    assert!(
        size <= 1.5 * text,
        "{size} bytes for {text} bytes of text ({:.2}×)",
        size / text
    );
    assert_eq!(
        store::load(path).unwrap().turns[0].to_turn().content,
        answer
    );
}

/// A crash between a round's end and the line that adds its reply to the history: the reply
/// is rebuilt on load, and continuing the session writes it, so a later load has it too.
#[tokio::test]
async fn a_reply_lost_in_a_crash_is_written_when_the_session_goes_on() {
    let s = FakeServer::start().await;
    s.route(|_| Some(scripted()));
    let cfg = config_for(&s.base_url(), "xai", "");
    let dir = tempfile::tempdir().unwrap();
    let mut runner = runner_in(dir.path());
    let mut conv = Conversation::new(None);
    conv.push_user("first");
    let mut round = start(&mut runner, &cfg, &conv, 0);
    while runner.next(&mut round).await.is_some() {}
    runner.close(&mut round, &mut conv, &cfg.catalog);
    let path = runner.rec.path().unwrap().to_path_buf();
    drop(runner);
    // Cut after the end record: the reply and the summary never made it.
    let text = std::fs::read_to_string(&path).unwrap();
    let keep: Vec<&str> = text
        .lines()
        .take_while(|l| !l.contains("\"type\":\"reply\""))
        .collect();
    std::fs::write(&path, keep.join("\n") + "\n").unwrap();
    let saved = store::load(&path).unwrap();
    assert_eq!(saved.messages.len(), 2, "the reply rebuilt from the events");
    let mut runner = Runner::new(Recorder::continue_session(&saved, true));
    let mut conv = saved.conversation();
    conv.push_user("second");
    let mut round = start(&mut runner, &cfg, &conv, 1);
    while runner.next(&mut round).await.is_some() {}
    runner.close(&mut round, &mut conv, &cfg.catalog);
    drop(runner);
    let again = store::load(&path).unwrap();
    assert_eq!(again.messages, conv.messages());
    assert_eq!(again.messages.len(), 4);
    assert_eq!(again.messages[1].content, ANSWER);
}
