//! Side-by-side comparison: the columns against the fake server (isolation, the concurrency
//! cap, cancelling one column), the summary's winners, the compare layout as snapshots, the
//! headless `grokpair compare` output, and saving and replaying a comparison.

use std::collections::BTreeMap;
use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent};
use grokpair::api::{ApiError, ChatParams, ErrorKind, StreamEvent, TimedEvent};
use grokpair::app::compare::ProviderInfo;
use grokpair::app::{App, AppInit, Effect, Pane};
use grokpair::config::Config;
use grokpair::engine::{ColumnPlan, Engine};
use grokpair::runner::{ColumnStep, Runner};
use grokpair::session::compare::{self, ColumnReport};
use grokpair::session::store::Recorder;
use grokpair::session::{Conversation, TurnState};
use grokpair::testing::{
    compare_router, demo_sse, synth_sse, timed_events, FakeServer, Reply, SynthUsage,
    COMPARE_ANSWER_B,
};
use ratatui::backend::TestBackend;

const ANSWER_A: &str = include_str!("data/answer.md");

fn info(max_concurrent: usize) -> BTreeMap<String, ProviderInfo> {
    let mut m = BTreeMap::new();
    for name in ["xai", "local"] {
        m.insert(
            name.to_string(),
            ProviderInfo {
                model: (name == "xai").then(|| "grok-code-fast-1".to_string()),
                has_key: true,
                free: name == "local",
                includes_reasoning: name == "local",
                max_concurrent,
            },
        );
    }
    m
}

fn app() -> App {
    App::new(AppInit {
        providers: vec!["xai".into(), "local".into()],
        provider_info: info(4),
        ..grokpair::testing::app_init(false)
    })
}

fn key(c: KeyCode) -> KeyEvent {
    KeyEvent::from(c)
}

fn screen(app: &mut App, w: u16, h: u16) -> String {
    let mut t = grokpair::tui::Screen::new(TestBackend::new(w, h)).unwrap();
    // As the runtime does: another frame while the last one is out of date (a search's
    // matches arrived with it).
    let mut view = grokpair::ui::view::View::new();
    for _ in 0..3 {
        if !grokpair::tui::frame(&mut t, app, &mut view).unwrap() {
            break;
        }
    }
    t.backend().to_string()
}

/// The three scripted columns of the layout tests: a fast answer with streamed reasoning, a
/// slower one with other code, and one that breaks mid-answer.
fn scripted() -> Vec<Vec<TimedEvent>> {
    let a = timed_events(&demo_sse(), 300, 10);
    let b = timed_events(
        &synth_sse(
            "grok-3-mini",
            "Keep lines exact: trimming can hide mistakes in values.\n",
            COMPARE_ANSWER_B,
            SynthUsage {
                prompt: 1200,
                cached: 0,
                completion: 60,
                reasoning: 41,
                ticks: None,
            },
        ),
        500,
        45,
    );
    let mut c: Vec<TimedEvent> = timed_events(
        &synth_sse(
            "broken-model",
            "Starting.\n",
            "This answer will not finish",
            SynthUsage {
                prompt: 10,
                cached: 0,
                completion: 10,
                reasoning: 0,
                ticks: None,
            },
        ),
        200,
        20,
    )
    .into_iter()
    .take(5)
    .collect();
    c.push(TimedEvent {
        at: Duration::from_millis(300),
        event: StreamEvent::Error(ApiError::new(
            ErrorKind::Network,
            "connection lost mid-stream: Connection reset by peer",
        )),
    });
    vec![a, b, c]
}

/// Starts `/compare grok-code-fast-1 grok-3-mini broken-model` with a question, all three
/// sent at once.
fn start(app: &mut App) -> usize {
    let cmp = ask_compare(
        app,
        "grok-code-fast-1 grok-3-mini broken-model",
        "How do I read a config file in Rust?",
    );
    for col in 0..3 {
        app.compare_sent(cmp, col, Duration::ZERO);
    }
    cmp
}

/// Types `/compare MODELS`, Enter, then the question, Enter: the comparison it starts.
fn ask_compare(app: &mut App, models: &str, question: &str) -> usize {
    app.input.insert_str(format!("/compare {models}"));
    assert!(
        app.on_key(key(KeyCode::Enter)).is_empty(),
        "arming sends nothing"
    );
    assert!(app.compare_armed.is_some());
    app.input.insert_str(question);
    match app.on_key(key(KeyCode::Enter)).as_slice() {
        [Effect::StartCompare { cmp }] => *cmp,
        other => panic!("expected a comparison, got {other:?}"),
    }
}

/// Applies every scripted event due by `until` (ms), in time order across the columns.
fn play(app: &mut App, cmp: usize, cols: &[Vec<TimedEvent>], from: u64, until: u64) {
    let mut all: Vec<(usize, &TimedEvent)> = cols
        .iter()
        .enumerate()
        .flat_map(|(i, evs)| evs.iter().map(move |e| (i, e)))
        .filter(|(_, e)| {
            let ms = e.at.as_millis() as u64;
            ms > from && ms <= until || (from == 0 && ms == 0)
        })
        .collect();
    all.sort_by_key(|(_, e)| e.at);
    for (col, ev) in all {
        app.on_compare_event(cmp, col, ev.clone());
    }
    app.comparisons[cmp].now = app.comparisons[cmp].now.max(Duration::from_millis(until));
}

#[test]
fn compare_layout_mid_stream_and_finished() {
    for (w, h) in [(120u16, 40u16), (200, 50)] {
        let mut a = app();
        let cmp = start(&mut a);
        let cols = scripted();
        play(&mut a, cmp, &cols, 0, 900);
        let mid = screen(&mut a, w, h);
        assert!(mid.contains("comparing 3 models · 2 running"), "{mid}");
        assert!(mid.contains("C broken-model failed"), "{mid}");
        insta::assert_snapshot!(format!("compare_mid_stream_{w}x{h}"), mid);
        play(&mut a, cmp, &cols, 900, 10_000);
        let done = screen(&mut a, w, h);
        assert!(!a.comparisons[cmp].running());
        insta::assert_snapshot!(format!("compare_finished_{w}x{h}"), done);
    }
}

#[test]
fn columns_keep_their_own_content_metrics_and_failure() {
    let mut a = app();
    let cmp = start(&mut a);
    let cols = scripted();
    play(&mut a, cmp, &cols, 0, 10_000);
    let cv = &a.comparisons[cmp];
    assert_eq!(cv.cols[0].col.turn.content, ANSWER_A);
    assert_eq!(cv.cols[0].col.turn.state, TurnState::Done);
    assert_eq!(cv.cols[1].col.turn.content, COMPARE_ANSWER_B);
    assert_eq!(cv.cols[1].col.turn.state, TurnState::Done);
    // The failure stays in its column, with what it had.
    let c = &cv.cols[2].col.turn;
    assert_eq!(c.state, TurnState::Failed);
    assert_eq!(c.content, "This answer");
    assert_eq!(c.reasoning, "Starting.\n");
    assert_eq!(c.error.as_ref().unwrap().kind, ErrorKind::Network);
    let r: Vec<ColumnReport> = cv.reports(&a.catalog);
    let first = |i: usize| {
        cols[i]
            .iter()
            .find(|e| e.event.is_output())
            .map(|e| e.at.as_millis() as u64)
    };
    assert_eq!(r[0].report.ttft_ms, first(0));
    assert_eq!(r[1].report.ttft_ms, first(1));
    assert_eq!(r[0].report.reasoning_tokens, 61);
    assert_eq!(
        r[0].report.cost.as_ref().unwrap().total_ticks,
        Some(4_921_800)
    );
    // grok-3-mini at catalog prices: 1200 × $0.30 + (60 + 41) × $0.50 per 1M tokens.
    assert_eq!(
        r[1].report.cost.as_ref().unwrap().total_ticks,
        Some(4_105_000)
    );
    let n_a = cols[0].len() as u64;
    assert_eq!(r[0].duration_ms, Some(300 + 10 * (n_a - 1)));
    let w = compare::winners(&r);
    assert_eq!(w.first_token.unwrap().column, 0);
    assert_eq!(w.fastest.unwrap().column, 0);
    assert_eq!(w.cheapest.unwrap().column, 1);
    assert_eq!(w.most_reasoning.unwrap().column, 0);
    // Every column was billed: the session cost counts both complete answers.
    assert_eq!(a.session_cost, 4_921_800 + 4_105_000);
    // The transcript sums it up; nothing joined the history yet.
    assert!(a.conv.messages().is_empty());
    let shown = screen(&mut a, 120, 40);
    assert!(
        shown.contains("first token A 0.31s │ fastest A 2.45s │ cheapest B $0.000411"),
        "{shown}"
    );
}

#[test]
fn keys_diff_adopt_and_go_back() {
    let mut a = app();
    let cmp = start(&mut a);
    play(&mut a, cmp, &scripted(), 0, 10_000);
    assert_eq!(a.focus, Pane::Compare);
    // Adopting the failed column is refused; the focus moves with ←/→.
    a.on_key(key(KeyCode::Left));
    assert_eq!(a.comparisons[cmp].focus, 2);
    a.on_key(key(KeyCode::Char('a')));
    assert!(a.flash.as_deref().unwrap().contains("did not finish"));
    assert!(a.conv.messages().is_empty());
    a.on_key(key(KeyCode::Char('1')));
    a.on_key(key(KeyCode::Char('d')));
    let d = a.comparisons[cmp].diff.as_ref().expect("diff open");
    assert_eq!((d.a, d.b), (0, 1));
    assert!(d
        .text
        .starts_with("--- A grok-code-fast-1\n+++ B grok-3-mini\n"));
    assert!(d
        .text
        .contains("-    Ok(text.lines().map(|l| l.trim().to_string()).collect())\n+    Ok(text.lines().map(str::to_string).collect())\n"));
    insta::assert_snapshot!("compare_diff_120x40", screen(&mut a, 120, 40));
    // → picks the other column: C has no code.
    a.on_key(key(KeyCode::Right));
    let d = a.comparisons[cmp].diff.as_ref().unwrap();
    assert_eq!(d.b, 2);
    a.on_key(key(KeyCode::Esc));
    assert!(a.comparisons[cmp].diff.is_none());
    // Adopt B: the question and B's answer join the history, B's model becomes current.
    a.on_key(key(KeyCode::Char('2')));
    let fx = a.on_key(key(KeyCode::Char('a')));
    assert_eq!(
        fx,
        vec![Effect::Adopted {
            provider: "xai".into(),
            model: "grok-3-mini".into(),
            rec: 1,
        }]
    );
    let m = a.conv.messages();
    assert_eq!(m.len(), 2);
    assert_eq!(m[0].content, "How do I read a config file in Rust?");
    assert_eq!(m[1].content, COMPARE_ANSWER_B);
    assert_eq!(
        m[1].reasoning_content.as_deref(),
        Some("Keep lines exact: trimming can hide mistakes in values.\n")
    );
    assert_eq!(a.model, "grok-3-mini");
    assert_eq!(a.comparisons[cmp].adopted, Some(1));
    assert!(a.compare_shown.is_none(), "back to the panes");
    assert_eq!(
        a.code.len(),
        1,
        "the adopted answer's code is in the code pane"
    );
    // Adopting twice is refused; /compare shows the comparison again.
    a.input.insert_str("/compare");
    a.on_key(key(KeyCode::Enter));
    assert_eq!(a.compare_shown, Some(cmp));
    assert!(a.on_key(key(KeyCode::Char('a'))).is_empty());
    assert!(a.flash.as_deref().unwrap().contains("adopted already"));
    a.on_key(key(KeyCode::Esc));
    assert!(a.compare_shown.is_none());
    insta::assert_snapshot!("compare_adopted_120x40", screen(&mut a, 120, 40));
}

#[test]
fn cancel_one_column_or_all() {
    let mut a = app();
    let cmp = start(&mut a);
    play(&mut a, cmp, &scripted(), 0, 400);
    // x cancels the focused column only.
    a.on_key(key(KeyCode::Char('2')));
    let fx = a.on_key(key(KeyCode::Char('x')));
    assert_eq!(fx, vec![Effect::CancelColumn { cmp, col: 1 }]);
    let cv = &a.comparisons[cmp];
    assert_eq!(cv.cols[1].col.turn.state, TurnState::Cancelled);
    assert!(!cv.cols[0].col.turn.is_finished());
    // Esc cancels what still runs; partial answers stay.
    let fx = a.on_key(key(KeyCode::Esc));
    assert_eq!(fx, vec![Effect::CancelColumn { cmp, col: 0 }]);
    let cv = &a.comparisons[cmp];
    assert_eq!(cv.cols[0].col.turn.state, TurnState::Cancelled);
    assert!(!cv.cols[0].col.turn.reasoning.is_empty());
    assert!(!cv.running());
    // A late event of a cancelled column changes nothing.
    let before = a.comparisons[cmp].cols[0].col.turn.content.clone();
    a.on_compare_event(
        cmp,
        0,
        TimedEvent {
            at: Duration::from_millis(5000),
            event: StreamEvent::Content("late".into()),
        },
    );
    assert_eq!(a.comparisons[cmp].cols[0].col.turn.content, before);
}

#[test]
fn compare_command_errors_name_the_problem() {
    let mut a = app();
    a.input.insert_str("/compare grok-code-fast-1");
    a.on_key(key(KeyCode::Enter));
    assert!(a.compare_armed.is_none());
    let last = a.entries.last().unwrap().text.clone();
    assert!(last.contains("2 to 4 models"), "{last}");
    a.input.insert_str("/compare local: grok-3-mini");
    a.on_key(key(KeyCode::Enter));
    let last = a.entries.last().unwrap().text.clone();
    assert!(last.contains("`local:` has no default model"), "{last}");
    // Models with a colon stay whole; provider:model picks the provider.
    a.input.insert_str("/compare llama3:8b local:qwen2.5");
    a.on_key(key(KeyCode::Enter));
    let t = a.compare_armed.clone().unwrap();
    assert_eq!(
        (t[0].provider.as_str(), t[0].model.as_deref()),
        ("xai", Some("llama3:8b"))
    );
    assert_eq!(
        (t[1].provider.as_str(), t[1].model.as_deref()),
        ("local", Some("qwen2.5"))
    );
    // Esc in the message box turns the armed comparison off.
    a.on_key(key(KeyCode::Esc));
    assert!(a.compare_armed.is_none());
}

// ---- against the fake server -------------------------------------------------------------

fn config(base_url: &str, max_concurrent: usize) -> Config {
    let dir = std::env::temp_dir().join(format!("gp-cmp-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("c{max_concurrent}.toml"));
    std::fs::write(
        &path,
        format!(
            "provider = \"fake\"\n[network]\nidle_timeout_secs = 30\nmax_retries = 0\n\
             [providers.fake]\nbase_url = \"{base_url}\"\napi_key = \"k-test\"\ndialect = \"xai\"\n\
             completion_includes_reasoning = false\nmax_concurrent = {max_concurrent}\n{}",
            grokpair::testing::RECORDING_PRICES_TOML
        ),
    )
    .unwrap();
    Config::load(Some(&path)).unwrap()
}

/// Runs a comparison of `models` through the runner into an App, as the TUI does, until
/// every column ended. Returns the app and the order of the steps seen.
async fn run_compare(
    server: &FakeServer,
    models: &[&str],
    max_concurrent: usize,
    mut on_step: impl FnMut(&mut App, usize, &ColumnStep) -> Option<usize>,
) -> (App, Vec<(usize, &'static str)>) {
    let cfg = config(&server.base_url(), max_concurrent);
    let mut a = app();
    a.provider = "fake".into();
    a.provider_info = ProviderInfo::from_config(&cfg);
    let cmp = ask_compare(&mut a, &models.join(" "), "Read a config file");
    let engine = Engine::new(&cfg, cfg.provider("fake").unwrap()).unwrap();
    let columns = a.comparisons[cmp]
        .cols
        .iter()
        .zip(models)
        .map(|(c, m)| {
            let plan = ColumnPlan {
                engine: engine.clone(),
                model: m.to_string(),
                params: a.params.clone(),
            };
            (c.col.clone(), Ok(plan))
        })
        .collect();
    let asked = a.compare_request(cmp);
    let mut runner = Runner::new(Recorder::new(std::path::Path::new("/nonexistent"), false));
    let ids = (0..models.len()).collect();
    let mut run = runner.start_compare(&cfg, &asked, &a.settings(), columns, ids);
    let mut order = Vec::new();
    loop {
        let step = tokio::time::timeout(Duration::from_secs(20), runner.next_column(&mut run))
            .await
            .expect("a column step in time");
        let Some((col, step)) = step else { break };
        a.comparisons[cmp].now = run.elapsed();
        if let Some(cancel) = on_step(&mut a, col, &step) {
            for fx in a.cancel_column(cmp, cancel) {
                if let Effect::CancelColumn { col, .. } = fx {
                    runner.cancel_column(&mut run, col);
                }
            }
        }
        match step {
            ColumnStep::Sent(at) => {
                order.push((col, "sent"));
                a.compare_sent(cmp, col, at);
            }
            ColumnStep::Event(ev) => a.on_compare_event(cmp, col, ev),
            ColumnStep::Ended(_) => order.push((col, "ended")),
        }
    }
    assert!(!a.comparisons[cmp].running());
    (a, order)
}

#[tokio::test]
async fn four_models_at_once_one_failing_one_hidden() {
    let server = FakeServer::start().await;
    server.route(compare_router(Duration::from_millis(10)));
    let models = [
        "grok-code-fast-1",
        "grok-3-mini",
        "broken-model",
        "grok-4-fast-reasoning",
    ];
    let (a, order) = run_compare(&server, &models, 4, |_, _, _| None).await;
    // All four went out at once, before any finished.
    assert!(
        order[..4].iter().all(|(_, what)| *what == "sent"),
        "{order:?}"
    );
    let cv = &a.comparisons[0];
    assert_eq!(cv.cols[0].col.turn.content, ANSWER_A);
    assert_eq!(cv.cols[1].col.turn.content, COMPARE_ANSWER_B);
    let broken = &cv.cols[2].col.turn;
    assert_eq!(broken.state, TurnState::Failed);
    assert!(!broken.content.is_empty());
    assert!(
        "This answer will not finish: the connection drops here".starts_with(&broken.content),
        "{:?}",
        broken.content
    );
    assert_eq!(broken.error.as_ref().unwrap().kind, ErrorKind::Network);
    let hidden = &cv.cols[3].col.turn;
    assert_eq!(hidden.state, TurnState::Done);
    assert!(hidden.reasoning.is_empty());
    for i in [0, 1, 3] {
        assert_eq!(cv.cols[i].col.turn.state, TurnState::Done, "column {i}");
    }
    let r = cv.reports(&a.catalog);
    // The hidden reasoner was silent for 40 gaps before its first token.
    assert!(
        r[3].report.ttft_ms.unwrap() >= 400,
        "{:?}",
        r[3].report.ttft_ms
    );
    assert!(r[0].report.ttft_ms.unwrap() < r[3].report.ttft_ms.unwrap());
    assert_eq!(r[3].report.reasoning_tokens, 350);
    // Costs: reported ticks for A; catalog prices for B and D (cached prompt at its price).
    let ticks = |i: usize| r[i].report.cost.as_ref().unwrap().total_ticks.unwrap();
    assert_eq!(ticks(0), 4_921_800);
    assert_eq!(ticks(1), 4_105_000);
    assert_eq!(ticks(3), 2_600_000);
    let w = compare::winners(&r);
    // (Two columns may tie on the millisecond: then no column wins that one.)
    if let Some(f) = w.first_token {
        assert_ne!(f.column, 2, "a failed column wins nothing");
    }
    assert_eq!(w.fastest.unwrap().column, 3);
    assert_eq!(w.cheapest.unwrap().column, 3);
    assert_eq!(w.most_reasoning.unwrap().column, 3);
    // Every column sent the same conversation (only the model differs), under one conv id.
    let reqs: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/chat/completions"))
        .collect();
    assert_eq!(reqs.len(), 4);
    let conv = reqs[0].header("x-grok-conv-id").unwrap().to_string();
    for q in &reqs {
        assert_eq!(q.header("x-grok-conv-id"), Some(conv.as_str()));
        let mut v = q.json();
        assert_eq!(v["messages"][0]["content"], "Read a config file");
        v["model"] = "-".into();
        let mut w0 = reqs[0].json();
        w0["model"] = "-".into();
        assert_eq!(v, w0);
    }
}

#[tokio::test]
async fn concurrency_cap_queues_columns_of_one_provider() {
    let server = FakeServer::start().await;
    server.route(compare_router(Duration::from_millis(2)));
    let (a, order) = run_compare(
        &server,
        &["grok-4-fast-reasoning", "grok-3-mini"],
        1,
        |a, col, m| {
            if col == 1 && matches!(m, ColumnStep::Sent(_)) {
                assert!(a.comparisons[0].cols[0].col.turn.is_finished());
            }
            None
        },
    )
    .await;
    // The second request went out only once the first had ended.
    assert_eq!(order[..3], [(0, "sent"), (0, "ended"), (1, "sent")]);
    let cv = &a.comparisons[0];
    assert!(cv.cols.iter().all(|c| c.col.turn.state == TurnState::Done));
    // The queued column's time counts from when it was sent, not from the start.
    let r = cv.reports(&a.catalog);
    let started_b = cv.cols[1].col.sent_at.unwrap();
    assert!(started_b >= Duration::from_millis(80), "{started_b:?}");
    assert!(r[1].duration_ms.unwrap() < cv.now.as_millis() as u64);
}

#[tokio::test]
async fn cancelling_a_stalled_column_leaves_the_others_running() {
    let server = FakeServer::start().await;
    server.route(compare_router(Duration::from_millis(5)));
    let mut cancelled = false;
    let (a, _) = run_compare(
        &server,
        &["stall-model", "grok-code-fast-1"],
        4,
        |a, col, m| {
            // Once the stalled column has shown some answer, cancel it (x on that column).
            let stalled = &a.comparisons[0].cols[0].col.turn;
            if !cancelled
                && col == 1
                && matches!(m, ColumnStep::Event(_))
                && !stalled.content.is_empty()
            {
                cancelled = true;
                return Some(0);
            }
            None
        },
    )
    .await;
    assert!(cancelled);
    let cv = &a.comparisons[0];
    assert_eq!(cv.cols[0].col.turn.state, TurnState::Cancelled);
    let partial = &cv.cols[0].col.turn.content;
    assert!(!partial.is_empty());
    assert!("This answer will not finish: the connection drops here".starts_with(partial.as_str()));
    assert_eq!(cv.cols[1].col.turn.state, TurnState::Done);
    assert_eq!(cv.cols[1].col.turn.content, ANSWER_A);
}

#[test]
fn every_column_sends_the_history_it_was_asked_on() {
    let mut a = app();
    a.input.insert_str("/system Be brief.");
    a.on_key(key(KeyCode::Enter));
    let cmp = start(&mut a);
    let asked = a.compare_request(cmp);
    assert_eq!(
        asked.id, a.conv.id,
        "one conversation id: the cache keeps hitting"
    );
    let m = asked.messages();
    assert_eq!(m.len(), 2);
    assert_eq!(m[0].content, "Be brief.");
    assert_eq!(m[1].role, grokpair::api::Role::User);
    assert_eq!(m[1].content, "How do I read a config file in Rust?");
    // The conversation itself is untouched until an answer is adopted, and what a (queued)
    // column sends later is what it was asked with, whatever happens in between.
    assert_eq!(a.conv.messages().len(), 1);
    a.conv = Conversation::new(Some("changed"));
    assert_eq!(a.compare_request(cmp).messages(), m);
}

// ---- headless `grokpair compare` ----------------------------------------------------------

struct Cli {
    _dir: tempfile::TempDir,
    config: std::path::PathBuf,
    sessions: std::path::PathBuf,
}

fn cli_config(base_url: &str) -> Cli {
    let dir = tempfile::tempdir().unwrap();
    let sessions = dir.path().join("sessions");
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "provider = \"fake\"\n[sessions]\ndir = \"{}\"\n[network]\nidle_timeout_secs = 5\n\
             max_retries = 0\n[providers.fake]\nbase_url = \"{base_url}\"\n\
             api_key_env = \"GP_CMP_KEY\"\nmodel = \"grok-code-fast-1\"\ndialect = \"xai\"\n\
             completion_includes_reasoning = false\n{}",
            sessions.display(),
            grokpair::testing::RECORDING_PRICES_TOML
        ),
    )
    .unwrap();
    Cli {
        _dir: dir,
        config,
        sessions,
    }
}

async fn grokpair(cli: &Cli, args: &[&str]) -> (i32, String, String) {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_grokpair"))
        .arg("--config")
        .arg(&cli.config)
        .args(args)
        .env("GP_CMP_KEY", "k-cmp-test")
        .env("NO_COLOR", "1")
        .env_remove("GROKPAIR_CONFIG")
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output();
    let o = tokio::time::timeout(Duration::from_secs(30), out)
        .await
        .expect("finished in time")
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Timings vary run to run: `1.23s` becomes `T`, and the table's ttft, tok/s and time cells.
fn mask_times(md: &str) -> String {
    let mut out = String::new();
    for line in md.lines() {
        let line =
            if line.starts_with("| A ") || line.starts_with("| B ") || line.starts_with("| C ") {
                let mut cells: Vec<String> = line.split('|').map(str::to_string).collect();
                for i in [4, 5, 6] {
                    cells[i] = " T ".into();
                }
                cells.join("|")
            } else {
                line.to_string()
            };
        let chars: Vec<char> = line.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            let time = i > start
                && chars.get(i) == Some(&'.')
                && chars.get(i + 1).is_some_and(char::is_ascii_digit)
                && chars.get(i + 2).is_some_and(char::is_ascii_digit)
                && chars.get(i + 3) == Some(&'s');
            if time {
                out.push('T');
                i += 4;
            } else if i > start {
                out.extend(&chars[start..i]);
            } else {
                out.push(chars[i]);
                i += 1;
            }
        }
        out.push('\n');
    }
    out
}

const MODELS: [&str; 6] = [
    "-m",
    "grok-code-fast-1",
    "-m",
    "grok-4-fast-reasoning",
    "-m",
    "broken-model",
];

#[tokio::test]
async fn headless_markdown_report_exactly() {
    let server = FakeServer::start().await;
    server.route(compare_router(Duration::from_millis(5)));
    let cli = cli_config(&server.base_url());
    let mut args = vec!["--no-save", "compare", "-r"];
    args.extend(MODELS);
    args.push("Read a config file");
    let (code, out, err) = grokpair(&cli, &args).await;
    assert_eq!(code, 1, "a failed column makes the exit code 1\n{err}");
    let expected = format!(
        "# Comparison

> Read a config file

| | model | status | ttft | tok/s | time | prompt (cached) | output | reasoning | cost | cache saved |
|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|
| A | grok-code-fast-1 | done | T | T | T | 1200 (1024) | 230 | 61 | $0.000492 | $0.000184 (27%) |
| B | grok-4-fast-reasoning | done | T | T | T | 1200 (1100) | 20 | 350 | $0.00026 | $0.000165 (39%) |
| C | broken-model | failed | T | T | T | — | ~5 | ~3 | — | — |

**First token:** A · grok-code-fast-1 (T) · **Fastest:** B · grok-4-fast-reasoning (T) · **Cheapest:** B · grok-4-fast-reasoning ($0.00026) · **Most reasoning:** B · grok-4-fast-reasoning (350 tok)

## A · grok-code-fast-1

<details><summary>reasoning (61 tokens)</summary>

{}

</details>

{}

## B · grok-4-fast-reasoning

Use `std::fs::read_to_string` and `lines()`; propagate errors with `?`.

## C · broken-model

<details><summary>reasoning (3 tokens)</summary>

Starting.

</details>

This answer will not

> **error** (fake): network error: connection lost mid-stream: Connection reset by peer (os error 104) — the stream broke off mid-answer; send again to retry (partial answer above)
",
        include_str!("data/reasoning.txt").trim(),
        ANSWER_A.trim_end(),
    );
    assert_eq!(mask_times(&out), expected, "stderr:\n{err}");
    // Progress on stderr: each column's first token and end, the failure named.
    assert!(err.contains("A grok-code-fast-1: first token "), "{err}");
    assert!(err.contains("C broken-model: failed after "), "{err}");
    assert!(err.contains("B: grok-4-fast-reasoning · ttft "), "{err}");
    assert!(!cli.sessions.exists(), "--no-save writes nothing");
}

#[tokio::test]
async fn headless_json_events_and_summary_exactly() {
    let server = FakeServer::start().await;
    server.route(compare_router(Duration::from_millis(5)));
    let cli = cli_config(&server.base_url());
    let mut args = vec!["compare", "--json"];
    args.extend(MODELS);
    args.push("Read a config file");
    let (code, out, err) = grokpair(&cli, &args).await;
    assert_eq!(code, 1, "{err}");
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("NDJSON"))
        .collect();
    // Each column's events, in order, with runs of deltas counted.
    for (col, want) in [
        (0, "sent started reasoning*42 content*171 usage finished"),
        (1, "sent started content*9 usage finished"),
        (2, "sent started reasoning*2 content*4 error"),
    ] {
        let mut seq: Vec<(String, usize)> = Vec::new();
        for v in lines.iter().filter(|v| v["column"] == col) {
            let t = v["type"].as_str().unwrap().to_string();
            assert_eq!(v["model"], MODELS[col * 2 + 1]);
            match seq.last_mut() {
                Some((last, n)) if *last == t => *n += 1,
                _ => seq.push((t, 1)),
            }
        }
        let got: Vec<String> = seq
            .iter()
            .map(|(t, n)| {
                if t == "reasoning" || t == "content" {
                    format!("{t}*{n}")
                } else {
                    t.clone()
                }
            })
            .collect();
        assert_eq!(got.join(" "), want, "column {col}");
    }
    let mut sum = lines.last().unwrap().clone();
    assert_eq!(sum["type"], "summary");
    let session = sum["session"].as_str().unwrap().to_string();
    for c in sum["columns"].as_array_mut().unwrap() {
        for k in [
            "ttft_ms",
            "reasoning_ms",
            "answer_ms",
            "tokens_per_sec",
            "duration_ms",
        ] {
            assert!(c[k].is_number(), "{k} in {c}");
            c[k] = "T".into();
        }
    }
    for k in ["first_token_ms", "fastest_ms"] {
        sum["winners"][k]["value"] = "T".into();
    }
    sum["conversation_id"] = "ID".into();
    sum["session"] = "S".into();
    let expected = serde_json::json!({
        "type": "summary", "prompt": "Read a config file", "conversation_id": "ID", "session": "S",
        "columns": [
            {"column": 0, "label": "A", "duration_ms": "T", "provider": "fake",
             "asked_model": "grok-code-fast-1", "served_model": "grok-code-fast-1", "state": "done",
             "finish_reason": "stop", "ttft_ms": "T", "reasoning_ms": "T", "answer_ms": "T",
             "tokens_per_sec": "T", "prompt_tokens": 1200, "cached_tokens": 1024,
             "completion_tokens": 230, "reasoning_tokens": 61, "output_tokens": 291,
             "tokens_estimated": false,
             "cost": {"total_ticks": 4921800, "source": "reported", "computed_ticks": 4921800,
                      "savings_ticks": 1843200},
             "cost_usd": 0.00049218, "savings_usd": 0.00018432,
             "context_window": 256000, "context_used_pct": 0.582421875, "retries": 0,
             "error": null},
            {"column": 1, "label": "B", "duration_ms": "T", "provider": "fake",
             "asked_model": "grok-4-fast-reasoning", "served_model": "grok-4-fast-reasoning",
             "state": "done", "finish_reason": "stop", "ttft_ms": "T", "reasoning_ms": "T",
             "answer_ms": "T", "tokens_per_sec": "T", "prompt_tokens": 1200,
             "cached_tokens": 1100, "completion_tokens": 20, "reasoning_tokens": 350,
             "output_tokens": 370, "tokens_estimated": false,
             "cost": {"total_ticks": 2600000, "source": "catalog", "computed_ticks": 2600000,
                      "savings_ticks": 1650000},
             "cost_usd": 0.00026, "savings_usd": 0.000165,
             "context_window": 2000000, "context_used_pct": 0.0785, "retries": 0,
             "error": null},
            {"column": 2, "label": "C", "duration_ms": "T", "provider": "fake",
             "asked_model": "broken-model", "served_model": "broken-model", "state": "failed",
             "finish_reason": null, "ttft_ms": "T", "reasoning_ms": "T", "answer_ms": "T",
             "tokens_per_sec": "T", "prompt_tokens": null, "cached_tokens": null,
             "completion_tokens": null, "reasoning_tokens": 3, "output_tokens": 8,
             "tokens_estimated": true, "cost": null,
             "context_window": 128000, "context_used_pct": null, "retries": 0,
             "error": format!("network error: connection lost mid-stream: Connection reset by peer (os error 104) — the stream broke off mid-answer; send again to retry")},
        ],
        "winners": {
            "first_token_ms": {"column": 0, "label": "A", "model": "grok-code-fast-1", "value": "T"},
            "fastest_ms": {"column": 1, "label": "B", "model": "grok-4-fast-reasoning", "value": "T"},
            "cheapest_ticks": {"column": 1, "label": "B", "model": "grok-4-fast-reasoning", "value": 2600000},
            "most_reasoning_tokens": {"column": 1, "label": "B", "model": "grok-4-fast-reasoning", "value": 350},
        },
    });
    assert_eq!(sum, expected);

    // Saved: one session with the three columns as one comparison, in column order.
    let path = cli.sessions.join(format!("{session}.jsonl"));
    let s = grokpair::session::store::load(&path).unwrap();
    assert_eq!(s.turns.len(), 3);
    for (i, t) in s.turns.iter().enumerate() {
        let tag = t.compare.as_ref().expect("a comparison column");
        assert_eq!((tag.group, tag.column, tag.of), (0, i, 3));
        assert_eq!(t.prompt(), "Read a config file");
        assert_eq!(t.model, MODELS[i * 2 + 1]);
    }
    assert!(
        s.messages.is_empty(),
        "nothing adopted: the history is as before"
    );
    assert_eq!(s.turns[0].to_turn().content, ANSWER_A);
    assert_eq!(s.turns[2].to_turn().state, TurnState::Failed);
    // It replays like any other turn: one comparison of three columns, same answers.
    let mut a = app();
    a.start_replay(&s, None, false, false);
    a.replay_advance(Duration::from_secs(3600));
    assert!(a.replay.as_ref().unwrap().finished());
    assert_eq!(a.comparisons.len(), 1);
    let cv = &a.comparisons[0];
    assert_eq!(cv.cols[0].col.turn.content, ANSWER_A);
    assert_eq!(cv.cols[1].col.turn.state, TurnState::Done);
    assert_eq!(cv.cols[2].col.turn.state, TurnState::Failed);
    let live: Vec<u64> = sum["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["output_tokens"].as_u64().unwrap())
        .collect();
    let replayed: Vec<u64> = cv
        .reports(&a.catalog)
        .iter()
        .map(|r| r.report.output_tokens)
        .collect();
    assert_eq!(live, replayed);
    let shown = screen(&mut a, 120, 40);
    assert!(shown.contains("C broken-model failed"), "{shown}");
    assert!(shown.contains("fastest B"), "{shown}");
    // Resumed: the comparison is in the transcript, not on screen, and can still be adopted.
    let mut r = app();
    r.load_session(&s);
    assert_eq!(r.comparisons.len(), 1);
    assert!(r.compare_shown.is_none());
    assert!(r.conv.messages().is_empty());
    r.input.insert_str("/compare");
    r.on_key(key(KeyCode::Enter));
    assert_eq!(r.compare_shown, Some(0));
    let fx = r.on_key(key(KeyCode::Char('a')));
    assert_eq!(
        fx,
        vec![Effect::Adopted {
            provider: "fake".into(),
            model: "grok-code-fast-1".into(),
            rec: 0,
        }]
    );
    assert_eq!(r.conv.messages().len(), 2);
    assert_eq!(r.conv.messages()[1].content, ANSWER_A);
    assert_eq!(
        r.conv.id, s.header.conv_id,
        "same conversation id: the cache keeps hitting"
    );
    assert_eq!(
        r.next_rec, 3,
        "the next request is recorded after the three columns"
    );
    // The listing and the Markdown export know it.
    let (code, list, _) = grokpair(&cli, &["sessions"]).await;
    assert_eq!(code, 0);
    assert!(list.contains("Read a config file"), "{list}");
    let (code, md, _) = grokpair(&cli, &["export", &session, "--format", "md"]).await;
    assert_eq!(code, 0);
    assert!(md.contains("## 1 · Comparison of 3 models"), "{md}");
    assert!(md.contains("### 1A · grok-code-fast-1"), "{md}");
    assert!(
        md.contains("*\n\n### 1B · grok-4-fast-reasoning\n\n"),
        "{md}"
    );
    assert!(md.contains("### 1C · broken-model"), "{md}");
    assert_eq!(md.matches("## 1 · You").count(), 1, "{md}");
}

/// One model against itself at two settings: each column sends its own, shows them in its
/// name, saves them, and an adopted column's settings carry on.
#[tokio::test]
async fn one_model_at_two_settings() {
    use grokpair::session::store;
    let server = FakeServer::start().await;
    server.route(compare_router(Duration::from_millis(2)));
    let cli = cli_config(&server.base_url());
    let cols = [
        "-m",
        "grok-code-fast-1@temperature=0",
        "-m",
        "grok-code-fast-1@seed=3, temperature=1.5",
    ];
    let mut args = vec![
        "compare",
        "--json",
        "--temperature",
        "0.7",
        "--max-tokens",
        "300",
    ];
    args.extend(cols);
    args.push("Read a config file");
    let (code, out, err) = grokpair(&cli, &args).await;
    assert_eq!(code, 0, "{err}");
    let mut bodies: Vec<_> = server
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/chat/completions"))
        .map(|r| r.json())
        .collect();
    bodies.sort_by(|a, b| {
        a["temperature"]
            .as_f64()
            .partial_cmp(&b["temperature"].as_f64())
            .unwrap()
    });
    assert_eq!(bodies.len(), 2);
    assert_eq!(bodies[0]["temperature"], 0.0);
    assert!(bodies[0].get("seed").is_none());
    assert_eq!(bodies[1]["temperature"], 1.5);
    assert_eq!(bodies[1]["seed"], 3);
    assert!(
        bodies.iter().all(|b| b["max_completion_tokens"] == 300),
        "the shared settings stay"
    );
    let sum: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    assert_eq!(sum["columns"][0]["settings"], "temperature=0");
    assert_eq!(sum["columns"][1]["settings"], "temperature=1.5,seed=3");

    // Markdown: the table and the headings tell the columns apart.
    let mut args = vec!["--no-save", "compare"];
    args.extend(cols);
    args.push("Read a config file");
    let (code, md, err) = grokpair(&cli, &args).await;
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("B grok-code-fast-1 @temperature=1.5,seed=3: first token"),
        "{err}"
    );
    assert!(
        md.contains("| A | grok-code-fast-1 @temperature=0 | done |"),
        "{md}"
    );
    assert!(
        md.contains("\n## B · grok-code-fast-1 @temperature=1.5,seed=3\n"),
        "{md}"
    );

    // Saved with each column's settings; exported and resumed with them.
    let path = store::list(&cli.sessions)[0].clone();
    let s = store::load(&path).unwrap();
    let tags: Vec<_> = s
        .turns
        .iter()
        .map(|t| t.compare.clone().unwrap().settings)
        .collect();
    assert_eq!(tags, ["temperature=0", "temperature=1.5,seed=3"]);
    assert_eq!(
        s.header.settings.params.temperature,
        Some(0.7),
        "the header has the shared settings, not a column's"
    );
    assert_eq!(s.turns[0].params.temperature, Some(0.0));
    let id = s.id().to_string();
    let (code, md, _) = grokpair(&cli, &["export", &id, "--format", "md"]).await;
    assert_eq!(code, 0);
    assert!(
        md.contains("### 1B · grok-code-fast-1 @temperature=1.5,seed=3"),
        "{md}"
    );
    let mut r = app();
    r.params.top_p = Some(0.9);
    r.load_session(&s);
    assert_eq!(
        s.current_params(),
        None,
        "nothing adopted, and no column was asked with the shared settings alone"
    );
    r.input.insert_str("/compare");
    r.on_key(key(KeyCode::Enter));
    let shown = screen(&mut r, 160, 40);
    assert!(
        shown.contains("B grok-code-fast-1 @temperature=1.5,seed=3 done"),
        "{shown}"
    );
    r.flash = None;
    let status = screen(&mut r, 160, 40);
    assert!(
        status.lines().last().unwrap().contains(
            "compare · A grok-code-fast-1 @temperature=0 · B grok-code-fast-1 @temperature=1.5,seed=3"
        ),
        "the status bar tells the columns apart: {status}"
    );
    r.on_key(key(KeyCode::Char('2')));
    let fx = r.on_key(key(KeyCode::Char('a')));
    assert!(matches!(fx.as_slice(), [Effect::Adopted { .. }]), "{fx:?}");
    assert_eq!(
        r.flash.as_deref(),
        Some(
            "adopted B grok-code-fast-1 @temperature=1.5,seed=3: it is now the conversation's \
             model, with temperature=1.5,seed=3 (/set changes it)"
        )
    );
    // Exactly what B was sent with: the shared settings of the run (not this app's) and B's.
    assert_eq!(
        r.params,
        ChatParams {
            temperature: Some(1.5),
            seed: Some(3),
            max_tokens: Some(300),
            ..Default::default()
        }
    );

    // In the TUI, a spec with a space after its comma is one target too.
    let mut t = app();
    let cmp = ask_compare(
        &mut t,
        "grok-code-fast-1@seed=3, temperature=1.5 grok-3-mini",
        "hi",
    );
    let names: Vec<String> = t.comparisons[cmp]
        .cols
        .iter()
        .enumerate()
        .map(|(i, c)| c.col.name(i))
        .collect();
    assert_eq!(
        names,
        [
            "A grok-code-fast-1 @temperature=1.5,seed=3",
            "B grok-3-mini"
        ]
    );
    assert_eq!(t.comparisons[cmp].cols[0].params.seed, Some(3));

    // A bad setting is a usage error that names the column.
    let (code, _, err) =
        grokpair(&cli, &["compare", "-m", "a@temperature=5", "-m", "b", "hi"]).await;
    assert_eq!(code, 2);
    assert!(
        err.contains("a@temperature=5: temperature must be 0 to 2, got 5"),
        "{err}"
    );
}

#[tokio::test]
async fn headless_usage_errors() {
    let server = FakeServer::start().await;
    let cli = cli_config(&server.base_url());
    let (code, _, err) = grokpair(&cli, &["compare", "-m", "only-one", "hi"]).await;
    assert_eq!(code, 2);
    assert!(err.contains("compare takes 2 to 4 models, got 1"), "{err}");
    let (code, _, err) = grokpair(&cli, &["-m", "a", "-m", "b", "ask", "hi"]).await;
    assert_eq!(code, 2);
    assert!(
        err.contains("only `grokpair compare` asks several models"),
        "{err}"
    );
}

#[test]
fn four_columns_fit_small_terminals_and_follow_theme_changes() {
    let mut a = app();
    let cmp = ask_compare(
        &mut a,
        "grok-code-fast-1 grok-3-mini broken-model grok-4-fast-reasoning",
        "How do I read a config file in Rust?",
    );
    let mut cols = scripted();
    cols.push(timed_events(&demo_sse(), 100, 5));
    for col in 0..4 {
        a.compare_sent(cmp, col, Duration::ZERO);
    }
    play(&mut a, cmp, &cols, 0, 10_000);
    // Two rows of two below 120 columns; nothing panics down to a tiny terminal.
    let s = screen(&mut a, 80, 24);
    let top = s.lines().next().unwrap();
    assert!(
        top.contains("A grok-code-fast-1") && top.contains("B grok-3-mini"),
        "{s}"
    );
    assert!(!top.contains("C broken-model"), "{s}");
    insta::assert_snapshot!("compare_four_80x24", s);
    // Issue 15 (19): narrower, the summary drops whole figures and whole keys, none cut.
    let s = screen(&mut a, 60, 24);
    let lines: Vec<&str> = s.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.starts_with("\" first token"))
        .unwrap_or_else(|| panic!("no summary in\n{s}"));
    let figures = lines[at].trim_matches(['"', ' ']);
    let keys = lines[at + 1].trim_matches(['"', ' ']);
    assert!(figures.starts_with("first token D 0.10s │ "), "{s}");
    for item in figures.split(" │ ") {
        assert!(
            item.ends_with(|c: char| c.is_ascii_digit() || c == 's'),
            "{item:?} in\n{s}"
        );
    }
    let all = "a adopt · d diff code · ←/→ column · ↑/↓ scroll (together) · r reasoning · s sync · Esc back";
    assert!(
        all.starts_with(keys) && all[keys.len()..].starts_with(" · "),
        "{keys:?}"
    );
    for (w, h) in [(40u16, 12u16), (20, 8), (12, 5)] {
        screen(&mut a, w, h);
    }
    // A theme change re-renders the columns (code highlighting included) from their text.
    a.on_key(key(KeyCode::Tab));
    assert_eq!(a.focus, Pane::Input);
    a.input.insert_str("/theme light");
    for fx in a.on_key(key(KeyCode::Enter)) {
        // The runtime loads it.
        let loaded = grokpair::tui::local_io(fx).expect("a theme to load");
        a.update(loaded);
    }
    assert_eq!(a.theme.name, "light");
    let mut view = grokpair::ui::view::View::new();
    view.sync(&a);
    let code = view.column_code(cmp, 0);
    assert_eq!(code.len(), 2);
    assert!(code.iter().all(|b| b.complete));
    a.on_key(key(KeyCode::Esc));
    screen(&mut a, 120, 40);
}

#[test]
fn esc_closes_the_diff_and_adopting_waits_for_every_column() {
    let mut a = app();
    let cmp = start(&mut a);
    let cols = scripted();
    play(&mut a, cmp, &cols, 0, 2_600);
    // A is done, B still answering: the diff opens, and Esc closes it without cancelling.
    a.on_key(key(KeyCode::Char('d')));
    assert!(a.comparisons[cmp].diff.is_some());
    assert!(a.on_key(key(KeyCode::Esc)).is_empty());
    assert!(a.comparisons[cmp].diff.is_none());
    assert!(
        a.comparisons[cmp].running(),
        "Esc on the diff cancels nothing"
    );
    // Adopting A while B runs is refused: B's request is still going out on this history.
    assert!(a.on_key(key(KeyCode::Char('a'))).is_empty());
    assert!(a.flash.as_deref().unwrap().contains("still answering"));
    assert!(a.conv.messages().is_empty());
    // `/compare … ` typed while it runs stays in the box.
    a.on_key(key(KeyCode::Tab));
    a.input.insert_str("/compare grok-3-mini grok-code-fast-1");
    a.on_key(key(KeyCode::Enter));
    assert_eq!(a.input_text(), "/compare grok-3-mini grok-code-fast-1");
    play(&mut a, cmp, &cols, 2_600, 10_000);
    a.on_key(key(KeyCode::BackTab));
    assert_eq!(a.focus, Pane::Compare);
    assert_eq!(
        a.on_key(key(KeyCode::Char('a'))),
        vec![Effect::Adopted {
            provider: "xai".into(),
            model: "grok-code-fast-1".into(),
            rec: 0,
        }]
    );
}

/// A headless comparison of grok-code-fast-1 and grok-3-mini, saved in `cli.sessions`.
async fn saved_comparison() -> (FakeServer, Cli) {
    let server = FakeServer::start().await;
    server.route(compare_router(Duration::from_millis(2)));
    let cli = cli_config(&server.base_url());
    let args = [
        "compare",
        "-q",
        "-m",
        "grok-code-fast-1",
        "-m",
        "grok-3-mini",
        "Read a config file",
    ];
    let (code, _, err) = grokpair(&cli, &args).await;
    assert_eq!(code, 0, "{err}");
    (server, cli)
}

#[tokio::test]
async fn adoption_after_resume_is_saved_and_replays_as_adopted() {
    use grokpair::session::store::{self, Recorder};
    let (server, cli) = saved_comparison().await;
    let path = store::list(&cli.sessions)[0].clone();
    let s = store::load(&path).unwrap();
    assert!(s.messages.is_empty());
    assert_eq!(s.current_model(), None, "nothing adopted yet");
    assert_eq!(
        s.current_params(),
        Some(&ChatParams::default()),
        "but asked with the shared settings, which a resume goes on with"
    );
    // Resume, adopt B, and record it as the runtime does on Effect::Adopted.
    let mut r = app();
    r.load_session(&s);
    r.input.insert_str("/compare");
    r.on_key(key(KeyCode::Enter));
    r.on_key(key(KeyCode::Char('2')));
    let fx = r.on_key(key(KeyCode::Char('a')));
    let [Effect::Adopted { rec: id, .. }] = fx.as_slice() else {
        panic!("{fx:?}")
    };
    assert_eq!(*id, s.turns[1].turn, "the column's own record number");
    let mut rec = Recorder::continue_session(&s, true);
    rec.adopted(*id, &r.conv);
    let s2 = store::load(&path).unwrap();
    assert_eq!(s2.messages.len(), 2, "the adoption is in the file");
    assert_eq!(s2.messages[1].content, COMPARE_ANSWER_B);
    assert_eq!(s2.current_model(), Some(("fake", "grok-3-mini")));
    assert_eq!(s2.turn_count(), 1);
    // Loaded again, the transcript is the one the adoption left on screen: the question, the
    // comparison (B marked) and B's answer as a turn of its own.
    let mut q = app();
    q.load_session(&s2);
    let kinds: Vec<_> = q.entries.iter().map(|e| e.kind).collect();
    use grokpair::app::EntryKind;
    assert_eq!(
        kinds,
        [
            EntryKind::User,
            EntryKind::Compare(0),
            EntryKind::Assistant(0)
        ]
    );
    assert_eq!(q.turns[0].turn.content, COMPARE_ANSWER_B);
    assert_eq!(q.model, "grok-3-mini");
    r.flash = None;
    let panes = |s: String| s.lines().take(36).collect::<Vec<_>>().join("\n");
    assert_eq!(
        panes(screen(&mut q, 120, 40)),
        panes(screen(&mut r, 120, 40))
    );
    // Replayed: shown as adopted, and neither Enter nor a adopts again.
    let mut p = app();
    p.start_replay(&s2, None, false, false);
    p.replay_advance(Duration::from_secs(3600));
    assert_eq!(p.comparisons[0].adopted, Some(1));
    p.focus = Pane::Compare;
    assert!(p.on_key(key(KeyCode::Enter)).is_empty());
    assert!(
        p.flash.as_deref().unwrap().contains("a replay"),
        "refused as a replay: {:?}",
        p.flash
    );
    assert_eq!(s2.adopted_turns, vec![s2.turns[1].turn]);
    // Continued headless, once the TUI's recorder (and its hold on the file) is gone: the
    // follow-up goes to the adopted model with the adopted history.
    drop(rec);
    let (code, out, err) = grokpair(&cli, &["ask", "-q", "--continue", "Shorter"]).await;
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("Read it whole and split it"),
        "grok-3-mini answered: {out}"
    );
    let last = server.requests().pop().unwrap().json();
    assert_eq!(last["model"], "grok-3-mini");
    assert_eq!(last["messages"][1]["content"], COMPARE_ANSWER_B);
    assert_eq!(last["messages"][2]["content"], "Shorter");
}

#[tokio::test]
async fn an_old_comparison_cannot_be_adopted_once_the_conversation_moved_on() {
    let (_server, cli) = saved_comparison().await;
    let (code, _, err) = grokpair(&cli, &["ask", "-q", "--continue", "Another question"]).await;
    assert_eq!(code, 0, "{err}");
    let path = grokpair::session::store::list(&cli.sessions)[0].clone();
    let s = grokpair::session::store::load(&path).unwrap();
    assert_eq!(s.turn_count(), 2);
    assert_eq!(s.messages.len(), 2, "only the plain turn is history");
    assert_eq!(s.messages[0].content, "Another question");
    let mut r = app();
    r.load_session(&s);
    r.input.insert_str("/compare");
    r.on_key(key(KeyCode::Enter));
    assert!(r.on_key(key(KeyCode::Char('a'))).is_empty());
    assert!(r.flash.as_deref().unwrap().contains("moved on"));
    assert_eq!(r.conv.messages().len(), 2);
}

#[test]
fn search_finds_matches_in_comparison_columns() {
    use grokpair::app::search::Hit;
    let mut a = app();
    let cmp = start(&mut a);
    play(&mut a, cmp, &scripted(), 0, 10_000);
    screen(&mut a, 120, 40);
    // From the columns: / opens the search, Enter runs it.
    a.on_key(key(KeyCode::Char('/')));
    for c in "TRIMMING".chars() {
        a.on_key(key(KeyCode::Char(c)));
    }
    a.on_key(key(KeyCode::Enter));
    // Found in what is drawn, with the next frame.
    screen(&mut a, 120, 40);
    let hits: Vec<Hit> = a
        .search
        .as_ref()
        .unwrap()
        .hits
        .iter()
        .map(|m| m.hit)
        .collect();
    // B's reasoning ("trimming can hide") and B's answer ("No trimming"): nothing else.
    assert_eq!(hits.len(), 2, "{hits:?}");
    assert!(hits
        .iter()
        .all(|h| matches!(h, Hit::Column { cmp: 0, col: 1, .. })));
    assert_eq!(a.compare_shown, Some(cmp));
    assert_eq!(a.focus, Pane::Compare);
    assert_eq!(a.comparisons[cmp].focus, 1);
    let s = screen(&mut a, 120, 40);
    assert!(s.contains("match 1/2"), "{s}");
    // n steps to the answer's match, which is scrolled into view.
    a.on_key(key(KeyCode::Char('n')));
    let s = screen(&mut a, 120, 40);
    assert!(s.contains("No trimming"), "{s}");
    assert!(a.flash.as_deref().unwrap().contains("match 2/2"));
}

#[test]
fn search_results_do_not_outlive_the_transcript_and_the_picker_shows_over_columns() {
    let mut a = app();
    let cmp = start(&mut a);
    play(&mut a, cmp, &scripted(), 0, 10_000);
    screen(&mut a, 120, 40);
    a.search = Some(Default::default());
    a.search.as_mut().unwrap().query = "trimming".into();
    a.run_search();
    screen(&mut a, 120, 40);
    assert_eq!(a.search.as_ref().unwrap().hits.len(), 2);
    // Esc back to the panes, /new, then n from a pane: the old matches are gone, no panic.
    a.on_key(key(KeyCode::Esc));
    a.input.insert_str("/new");
    a.on_key(key(KeyCode::Enter));
    assert!(a.search.is_none());
    a.on_key(key(KeyCode::Tab));
    a.on_key(key(KeyCode::Char('n')));
    screen(&mut a, 120, 40);
    // The session picker is drawn over a comparison on screen.
    a.input = grokpair::app::new_input(&a.theme);
    a.focus = Pane::Input;
    let cmp = start(&mut a);
    play(&mut a, cmp, &scripted(), 0, 10_000);
    a.open_modal(grokpair::app::modal::Modal::Picker(grokpair::app::Picker {
        items: vec![("x.jsonl".into(), "2026-11-25 10:00  grok-3-mini".into())],
        selected: 0,
    }));
    let s = screen(&mut a, 120, 40);
    assert!(s.contains("Saved sessions"), "{s}");
}

#[test]
fn adopting_another_providers_answer_leaves_the_switch_to_the_runtime() {
    let mut a = app();
    let cmp = ask_compare(&mut a, "grok-code-fast-1 local:qwen2.5", "Hi");
    let evs = |model: &str| {
        let sse = synth_sse(
            model,
            "",
            &format!("Hello from {model}.\n"),
            SynthUsage {
                prompt: 5,
                cached: 0,
                completion: 4,
                reasoning: 0,
                ticks: None,
            },
        );
        timed_events(&sse, 100, 10)
    };
    for col in 0..2 {
        a.compare_sent(cmp, col, Duration::ZERO);
    }
    play(
        &mut a,
        cmp,
        &[evs("grok-code-fast-1"), evs("qwen2.5")],
        0,
        10_000,
    );
    assert_eq!(a.comparisons[cmp].cols[1].col.provider, "local");
    assert!(a.comparisons[cmp].cols[1].col.free);
    a.on_key(key(KeyCode::Char('2')));
    let fx = a.on_key(key(KeyCode::Char('a')));
    assert_eq!(
        fx,
        vec![Effect::Adopted {
            provider: "local".into(),
            model: "qwen2.5".into(),
            rec: 1,
        }]
    );
    // Still on xai until the runtime has switched: no xai request can ask for qwen2.5.
    assert_eq!(
        (a.provider.as_str(), a.model.as_str()),
        ("xai", "grok-code-fast-1")
    );
    assert_eq!(a.conv.messages()[1].content, "Hello from qwen2.5.\n");
}

/// Issue 15 (16): two columns that tie on every figure name no winner, and the summary says
/// it is a tie (not that nothing finished).
#[test]
fn a_tie_names_no_winner_and_says_so() {
    let mut a = app();
    let cmp = ask_compare(&mut a, "grok-code-fast-1 grok-code-fast-1", "same?");
    for col in 0..2 {
        a.compare_sent(cmp, col, Duration::ZERO);
    }
    let same = timed_events(&demo_sse(), 300, 10);
    play(&mut a, cmp, &[same.clone(), same], 0, 10_000);
    assert!(!a.comparisons[cmp].running());
    let s = screen(&mut a, 120, 40);
    assert!(
        s.contains("a tie: no figure tells the answers apart"),
        "{s}"
    );
    assert!(!s.contains("fastest"), "{s}");
}

/// A column at full speed brings many events in one millisecond: its first token is told once.
#[tokio::test]
async fn headless_progress_tells_each_first_token_once() {
    let server = FakeServer::start().await;
    for _ in 0..2 {
        // The whole stream in one write: its events are read at the same moment.
        server.push(Reply::sse(synth_sse(
            "grok-code-fast-1",
            "",
            &"word ".repeat(200),
            SynthUsage::SMALL,
        )));
    }
    let cli = cli_config(&server.base_url());
    let args = [
        "--no-save",
        "compare",
        "-m",
        "grok-code-fast-1",
        "-m",
        "grok-3-mini",
        "Read a config file",
    ];
    let (code, _, err) = grokpair(&cli, &args).await;
    assert_eq!(code, 0, "{err}");
    for name in ["A grok-code-fast-1", "B grok-code-fast-1"] {
        let told = format!("{name}: first token ");
        assert_eq!(err.matches(&told).count(), 1, "{err}");
    }
}
