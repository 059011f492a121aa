//! Saved sessions: stream → file → load round trips, crash-truncated files, partial turns,
//! export golden files, and replay determinism against the live screen.

mod common;

use common::{config_for, engine};
use grokpair::api::{ChatParams, Message, StreamEvent, TimedEvent};
use grokpair::app::App;
use grokpair::runner::Runner;
use grokpair::session::exchange::RoundId;
use grokpair::session::store::{self, End, Header, Recorder, SavedTurn, Session, Settings};
use grokpair::session::{Conversation, Turn, TurnState};
use grokpair::testing::{demo_sse, synth_sse, FakeServer, Part, Reply, SynthUsage};
use ratatui::backend::TestBackend;
use std::path::Path;
use std::time::Duration;

/// Streams one turn through the runner into its session file, as every front end does;
/// `cancel_after` cancels after that many content events.
async fn record_turn(
    cfg: &grokpair::config::Config,
    runner: &mut Runner,
    conv: &mut Conversation,
    k: usize,
    prompt: &str,
    cancel_after: Option<usize>,
) -> (Turn, Vec<TimedEvent>) {
    conv.push_user(prompt);
    let settings = Settings::default();
    let eng = engine(cfg);
    let mut round = runner.start(
        &eng,
        cfg,
        conv,
        "grok-code-fast-1",
        &settings,
        RoundId::first(k),
    );
    let mut events = Vec::new();
    let mut contents = 0;
    loop {
        let ev = tokio::time::timeout(Duration::from_secs(10), runner.next(&mut round))
            .await
            .expect("the turn ends");
        let Some(ev) = ev else { break };
        contents += matches!(ev.event, StreamEvent::Content(_)) as usize;
        let at = ev.at;
        events.push(ev);
        if cancel_after == Some(contents) {
            runner.cancel(&mut round, Some(at));
            break;
        }
    }
    runner.close(&mut round, conv, &cfg.catalog);
    (round.turn, events)
}

/// `events` with consecutive answer or reasoning deltas merged (at the time of the first), as
/// the session file keeps them; merging again what a flush boundary split gives the same.
fn merged(events: &[TimedEvent]) -> Vec<TimedEvent> {
    let mut out: Vec<TimedEvent> = Vec::new();
    for e in ms(events) {
        if let Some(last) = out.last_mut() {
            match (&mut last.event, &e.event) {
                (StreamEvent::Content(a), StreamEvent::Content(b))
                | (StreamEvent::Reasoning(a), StreamEvent::Reasoning(b)) => {
                    a.push_str(b);
                    continue;
                }
                _ => {}
            }
        }
        out.push(e);
    }
    out
}

fn ms(events: &[TimedEvent]) -> Vec<TimedEvent> {
    events
        .iter()
        .map(|e| TimedEvent {
            at: Duration::from_millis(e.at.as_millis() as u64),
            event: e.event.clone(),
        })
        .collect()
}

#[tokio::test]
async fn stream_to_file_to_session_round_trips() {
    let s = FakeServer::start().await;
    s.push(Reply::sse_paced(demo_sse(), Duration::from_millis(1)));
    let body = synth_sse(
        "grok-code-fast-1",
        "Second thoughts.",
        "Second answer.",
        SynthUsage {
            prompt: 1500,
            cached: 1400,
            completion: 3,
            reasoning: 3,
            ticks: Some(99),
        },
    );
    s.push(Reply::sse(body));
    let cfg = config_for(&s.base_url(), "xai", "");
    let dir = tempfile::tempdir().unwrap();
    let mut rec = Runner::new(Recorder::new(dir.path(), true));
    let mut conv = Conversation::new(Some("be brief"));
    let (t1, e1) = record_turn(&cfg, &mut rec, &mut conv, 0, "How do I read a file?", None).await;
    let (t2, e2) = record_turn(&cfg, &mut rec, &mut conv, 1, "And a test?", None).await;
    let path = rec.rec.path().unwrap().to_path_buf();
    assert!(rec.rec.take_error().is_none());

    let saved = store::load(&path).unwrap();
    assert_eq!(saved.skipped, 0);
    assert_eq!(saved.header.conv_id, conv.id);
    assert_eq!(saved.header.settings, Settings::default());
    assert_eq!(saved.messages, conv.messages());
    assert_eq!(saved.conversation().messages(), conv.messages());
    assert_eq!(saved.turns.len(), 2);
    for (st, (t, evs)) in saved.turns.iter().zip([(&t1, &e1), (&t2, &e2)]) {
        assert_eq!(
            merged(&st.events),
            merged(evs),
            "every event, in order, at ms resolution (text deltas merged)"
        );
        assert!(
            evs.len() < 20 || st.events.len() < evs.len() / 2,
            "deltas are merged per flush: {} of {}",
            st.events.len(),
            evs.len()
        );
        let back = st.to_turn();
        assert_eq!(back.content, t.content);
        assert_eq!(back.reasoning, t.reasoning);
        assert_eq!(back.usage, t.usage);
        assert_eq!(back.state, TurnState::Done);
        assert_eq!(back.served_model, t.served_model);
        assert_eq!(st.end.as_ref().unwrap().state, TurnState::Done);
    }
    // The second request sent the system prompt, the first exchange and the new question.
    assert_eq!(saved.turns[1].request.len(), 4);
    assert_eq!(saved.turns[1].request[..3], conv.messages()[..3]);
    // No key in the file.
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(!text.contains("gp-test-key"), "{text}");
}

#[tokio::test]
async fn truncated_file_loads_and_continues_on_a_new_line() {
    let s = FakeServer::start().await;
    s.push(Reply::sse(demo_sse()));
    s.push(Reply::sse(demo_sse()));
    let cfg = config_for(&s.base_url(), "xai", "");
    let dir = tempfile::tempdir().unwrap();
    let mut rec = Runner::new(Recorder::named(dir.path(), "cut", true));
    let mut conv = Conversation::new(None);
    record_turn(&cfg, &mut rec, &mut conv, 0, "first", None).await;
    let path = dir.path().join("cut.jsonl");
    // A crash in the middle of writing the last line.
    let full = std::fs::read(&path).unwrap();
    let last_start = full[..full.len() - 1]
        .iter()
        .rposition(|b| *b == b'\n')
        .unwrap()
        + 1;
    let cut = last_start + (full.len() - last_start) / 2;
    std::fs::write(&path, &full[..cut]).unwrap();
    let saved = store::load(&path).unwrap();
    assert_eq!(saved.skipped, 1);
    assert_eq!(saved.turns.len(), 1);
    let c = saved.turns[0].to_turn().content;
    assert!(c.starts_with("Here is a **small"), "{c:?}");
    // The reply whose history line was cut is rebuilt from the events.
    assert_eq!(saved.messages.len(), 2);
    assert_eq!(saved.messages[1].content, c);

    // Continuing (the crashed writer, and its hold on the file, gone) appends after the
    // broken line, which stays isolated.
    drop(rec);
    let mut rec = Runner::new(Recorder::continue_session(&saved, true));
    let mut conv = saved.conversation();
    record_turn(&cfg, &mut rec, &mut conv, 1, "second", None).await;
    let again = store::load(&path).unwrap();
    assert_eq!(again.skipped, 1);
    assert_eq!(again.turns.len(), 2);
    assert_eq!(again.turns[1].prompt(), "second");
    assert_eq!(again.header.conv_id, saved.header.conv_id);
}

#[tokio::test]
async fn cancelled_and_failed_turns_keep_their_partial_content() {
    let s = FakeServer::start().await;
    s.push(Reply::sse_paced(demo_sse(), Duration::from_millis(2)));
    // Reset after the reasoning and a few answer tokens.
    let body = demo_sse();
    let cut = body.find("\"content\"").unwrap();
    let cut = cut + body[cut..].find("\n\n").unwrap() + 2;
    s.push(Reply::sse(&body[..cut]).part(Part::Reset));
    let cfg = config_for(&s.base_url(), "xai", "");
    let dir = tempfile::tempdir().unwrap();
    let mut rec = Runner::new(Recorder::new(dir.path(), true));
    let mut conv = Conversation::new(None);
    let (t1, _) = record_turn(&cfg, &mut rec, &mut conv, 0, "one", Some(5)).await;
    let (t2, _) = record_turn(&cfg, &mut rec, &mut conv, 1, "two", None).await;
    assert_eq!(t1.state, TurnState::Cancelled);
    assert_eq!(t2.state, TurnState::Failed);
    let saved = store::load(rec.rec.path().unwrap()).unwrap();
    let (a, b) = (saved.turns[0].to_turn(), saved.turns[1].to_turn());
    assert_eq!(a.state, TurnState::Cancelled);
    assert_eq!(a.content, t1.content);
    assert!(!a.content.is_empty() && !a.reasoning.is_empty());
    assert_eq!(b.state, TurnState::Failed);
    assert_eq!(b.content, t2.content);
    assert!(!b.content.is_empty());
    assert!(b.error.is_some());
    assert_eq!(saved.messages, conv.messages());
}

// ---- a fixed session for goldens and replays ---------------------------------------------

fn fixed_session() -> Session {
    let q1 = "How do I read a file in Rust?";
    let q2 = "Shorter, please.";
    let e1 = grokpair::testing::timed_events(&demo_sse(), 300, 10);
    let a2 = synth_sse(
        "grok-code-fast-1",
        "They want it short. One line with read_to_string.",
        "Use `std::fs::read_to_string(path)?` and you are done.\n\n```rust\nlet text = std::fs::read_to_string(\"app.toml\")?;\n```\n",
        SynthUsage {
            prompt: 1560,
            cached: 1472,
            completion: 24,
            reasoning: 12,
            ticks: Some(1_066_400),
        },
    );
    let e2 = grokpair::testing::timed_events(&a2, 250, 12);
    let mut t1 = Turn::new("grok-code-fast-1");
    e1.iter().for_each(|e| t1.apply(e));
    let mut conv = Conversation::with_id("11111111-2222-4333-8444-555555555555".into(), None);
    conv.push_user(q1);
    let req1 = conv.messages().to_vec();
    conv.push_turn(&t1);
    conv.push_user(q2);
    let req2 = conv.messages().to_vec();
    let mut t2 = Turn::new("grok-code-fast-1");
    e2.iter().for_each(|e| t2.apply(e));
    conv.push_turn(&t2);
    let turn = |k: usize, request: Vec<Message>, events: Vec<TimedEvent>, t: &Turn| SavedTurn {
        turn: k,
        at: format!("2026-11-22T10:0{k}:00Z"),
        provider: "xai".into(),
        model: "grok-code-fast-1".into(),
        request: request.into(),
        end: Some(End {
            state: TurnState::Done,
            at: events.last().unwrap().at,
            usage: t.usage.clone(),
            cost: None,
            error: None,
        }),
        events,
        compare: None,
        params: Default::default(),
        exchange: k,
        round: 0,
    };
    Session {
        path: "fixed.jsonl".into(),
        header: Header {
            version: 1,
            id: "20261122-100000-abcd".into(),
            name: None,
            created: "2026-11-22T10:00:00Z".into(),
            provider: "xai".into(),
            model: "grok-code-fast-1".into(),
            conv_id: conv.id.clone(),
            settings: Settings::default(),
            kind: "chat".into(),
        },
        messages: conv.messages().to_vec(),
        turns: vec![turn(0, req1, e1, &t1), turn(1, req2, e2, &t2)],
        skipped: 0,
        adopted_turns: Vec::new(),
        tools: Vec::new(),
        recorded: usize::MAX,
    }
}

fn golden(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("GOLDEN_UPDATE").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("{} missing: run with GOLDEN_UPDATE=1", path.display()));
    assert!(
        expected == actual,
        "{name} differs from the golden file (GOLDEN_UPDATE=1 rewrites it)"
    );
}

#[test]
fn exports_match_golden_files() {
    let s = fixed_session();
    let cat = grokpair::testing::recording_catalog();
    let md = grokpair::export::markdown(&s, &cat);
    let html = grokpair::export::html(&s, &cat);
    let json = grokpair::export::json(&s, &cat);
    golden("export.md", &md);
    golden("export.html", &html);
    golden("export.json", &json);
    // What the goldens must contain, independently of their exact bytes.
    assert!(
        md.contains("<details>\n<summary>Reasoning · 61 tokens"),
        "{md}"
    );
    assert!(md.contains("cache saved"), "{md}");
    assert!(
        html.contains("<span style=\"color:"),
        "syntect colours code"
    );
    assert!(!html.contains("<script"), "self-contained, no scripts");
    assert!(
        html.contains("time to first token</td><td>0.31 s"),
        "{html}"
    );
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["turns"].as_array().unwrap().len(), 2);
    assert_eq!(v["turns"][1]["usage"]["cached_tokens"], 1472);
    assert_eq!(v["turns"][0]["events"][0]["ms"], 300);
    // Round trip: the JSONL written for this session loads back equal.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fixed.jsonl");
    let mut lines = vec![serde_json::to_string(&store::Record::Header(s.header.clone())).unwrap()];
    for t in &s.turns {
        lines.push(
            serde_json::to_string(&store::Record::History {
                base: 0,
                messages: t.request.to_vec(),
            })
            .unwrap(),
        );
        lines.push(
            serde_json::to_string(&store::Record::Request {
                turn: t.turn,
                at: t.at.clone(),
                provider: t.provider.clone(),
                model: t.model.clone(),
                messages: t.request.len(),
                compare: t.compare.clone(),
                params: None,
                exchange: Some(t.exchange),
                round: t.round,
            })
            .unwrap(),
        );
        lines.push(
            serde_json::to_string(&store::Record::Events {
                turn: t.turn,
                events: t
                    .events
                    .iter()
                    .map(|e| store::SavedEvent {
                        ms: e.at.as_millis() as u64,
                        event: e.event.clone(),
                    })
                    .collect(),
            })
            .unwrap(),
        );
        let end = t.end.as_ref().unwrap();
        lines.push(
            serde_json::to_string(&store::Record::End {
                turn: t.turn,
                state: end.state,
                ms: end.at.as_millis() as u64,
                usage: end.usage.clone(),
                cost: None,
                error: None,
            })
            .unwrap(),
        );
    }
    lines.push(
        serde_json::to_string(&store::Record::History {
            base: 0,
            messages: s.messages.clone(),
        })
        .unwrap(),
    );
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let back = store::load(&path).unwrap();
    assert_eq!(back.turns, s.turns);
    assert_eq!(back.messages, s.messages);
    assert_eq!(grokpair::export::markdown(&back, &cat), md);
}

// ---- replay ---------------------------------------------------------------------------------

fn app() -> App {
    App::new(grokpair::testing::app_init(false))
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

/// The live run: the same turns sent and streamed, stopped after event `upto` of turn `k`.
fn live(s: &Session, k: usize, upto: usize) -> App {
    let mut a = app();
    for (i, t) in s.turns.iter().enumerate().take(k + 1) {
        a.send(t.prompt().to_string());
        let n = if i == k { upto + 1 } else { t.events.len() };
        for ev in &t.events[..n] {
            a.on_stream(i, ev.clone());
        }
    }
    a
}

/// All but the 3 rows of the message box / replay bar above the status line.
fn panes_and_status(screen: &str) -> Vec<String> {
    let rows: Vec<&str> = screen.lines().collect();
    let n = rows.len();
    rows[..n - 4]
        .iter()
        .chain(&rows[n - 1..])
        .map(|r| r.to_string())
        .collect()
}

#[test]
fn replay_at_a_seek_point_is_deterministic_and_equals_the_live_screen() {
    let s = fixed_session();
    let (w, h) = (120u16, 40u16);
    // Points: mid-reasoning and mid-answer of turn 1, mid-answer of turn 2.
    let reasoning_end = s.turns[0]
        .events
        .iter()
        .position(|e| matches!(e.event, StreamEvent::Content(_)))
        .unwrap();
    let points = [
        (0usize, reasoning_end / 2),
        (0, reasoning_end + 40),
        (1, 20),
    ];
    for (k, i) in points {
        let mut r = app();
        r.start_replay(&s, Some(1.0), false, true);
        let starts = r.replay.as_ref().unwrap().turn_starts.clone();
        let at = starts[k] + s.turns[k].events[i].at;
        // Reach the point by playing forward in uneven steps...
        while r.replay.as_ref().unwrap().clock < at {
            let left = at - r.replay.as_ref().unwrap().clock;
            r.replay_advance(left.min(Duration::from_millis(37)));
        }
        let played = screen(&mut r, w, h);
        // ...and by seeking there, from the end (a rebuild from the start).
        let mut r2 = app();
        r2.start_replay(&s, Some(1.0), false, true);
        r2.replay_seek(Duration::from_secs(600));
        r2.replay_seek(at);
        let sought = screen(&mut r2, w, h);
        assert_eq!(played, sought, "turn {k} event {i}");
        insta::assert_snapshot!(format!("replay_turn{}_event{i}", k + 1), sought);
        let mut l = live(&s, k, i);
        // The same pane focused (a replay starts in the conversation): the focused pane's
        // marker and key hint are part of the screen.
        l.focus = r2.focus;
        let live_screen = screen(&mut l, w, h);
        assert_eq!(
            panes_and_status(&sought),
            panes_and_status(&live_screen),
            "replay differs from the live run at turn {k} event {i}"
        );
    }
}

#[test]
fn search_spans_answers_and_reasoning_and_turn_jumps_follow() {
    use crossterm::event::{KeyCode, KeyEvent};
    use grokpair::app::search::Hit;
    let s = fixed_session();
    let mut a = app();
    a.load_session(&s);
    assert_eq!(
        a.conv.id, s.header.conv_id,
        "resumed with the same conversation id"
    );
    assert_eq!(a.conv.messages(), &s.messages[..]);
    let (w, h) = (120u16, 40u16);
    screen(&mut a, w, h);
    let key = |a: &mut App, c: KeyCode| {
        a.on_key(KeyEvent::from(c));
    };
    key(&mut a, KeyCode::Tab);
    key(&mut a, KeyCode::Char('/'));
    for c in "read_to_string".chars() {
        key(&mut a, KeyCode::Char(c));
    }
    key(&mut a, KeyCode::Enter);
    // The renderer finds the matches in what it draws: with the next frame.
    assert!(a.search.as_ref().unwrap().pending);
    screen(&mut a, w, h);
    let hits: Vec<Hit> = a
        .search
        .as_ref()
        .unwrap()
        .hits
        .iter()
        .map(|m| m.hit)
        .collect();
    // Both turns' reasoning and answers mention it.
    assert!(hits
        .iter()
        .any(|h| matches!(h, Hit::Reasoning { turn: 0, .. })));
    assert!(hits
        .iter()
        .any(|h| matches!(h, Hit::Conversation { turn: Some(0), .. })));
    assert!(hits
        .iter()
        .any(|h| matches!(h, Hit::Reasoning { turn: 1, .. })));
    assert!(hits
        .iter()
        .any(|h| matches!(h, Hit::Conversation { turn: Some(1), .. })));
    let order: Vec<usize> = hits
        .iter()
        .map(|h| match h {
            Hit::Conversation { turn, .. } => turn.unwrap(),
            Hit::Reasoning { turn, .. } => *turn,
            Hit::Column { .. } => unreachable!("this session has no comparison"),
        })
        .collect();
    assert!(order.windows(2).all(|w| w[0] <= w[1]), "by turn: {order:?}");
    // Step to the reasoning hit: the reasoning pane shows turn 2 with the match.
    let ri = hits
        .iter()
        .position(|h| matches!(h, Hit::Reasoning { turn: 1, .. }))
        .unwrap();
    for _ in 0..ri {
        key(&mut a, KeyCode::Char('n'));
    }
    // The steps add up until the next frame finds the matches again and takes them.
    let scr = screen(&mut a, w, h);
    assert_eq!(a.reasoning_turn, Some(1));
    assert!(scr.contains("Reasoning · turn 2/2"), "{scr}");
    assert!(scr.contains("One line with"), "{scr}");
    assert!(a
        .flash
        .as_deref()
        .unwrap()
        .contains(&format!("match {}/", ri + 1)));
    // N wraps backwards; Esc clears.
    key(&mut a, KeyCode::Esc);
    assert!(a.search.is_none());
    // Turn jumps: to the top, then `}` goes to turn 2's question and its reasoning.
    key(&mut a, KeyCode::Tab);
    while a.focus != grokpair::app::Pane::Conversation {
        key(&mut a, KeyCode::Tab);
    }
    key(&mut a, KeyCode::Home);
    screen(&mut a, w, h);
    key(&mut a, KeyCode::Char('}'));
    assert_eq!(a.reasoning_turn, Some(1));
    let scr = screen(&mut a, w, h);
    assert!(scr.contains("Shorter, please."), "{scr}");
    assert!(scr.contains("Reasoning · turn 2/2"), "{scr}");
    key(&mut a, KeyCode::Char('{'));
    assert_eq!(a.reasoning_turn, Some(0));
}

#[test]
fn sessions_picker_opens_the_chosen_session() {
    use crossterm::event::{KeyCode, KeyEvent};
    use grokpair::app::Effect;
    let mut a = app();
    a.input.insert_str("/sessions");
    let fx = a.on_key(KeyEvent::from(KeyCode::Enter));
    assert_eq!(fx, vec![Effect::ListSessions]);
    // The listing comes back from the background.
    grokpair::app::commands::sessions_listed(
        &mut a,
        vec![
            ("a.jsonl".into(), "first".into()),
            ("b.jsonl".into(), "second".into()),
        ],
    );
    let scr = screen(&mut a, 100, 30);
    assert!(
        scr.contains("Saved sessions") && scr.contains("second"),
        "{scr}"
    );
    a.on_key(KeyEvent::from(KeyCode::Down));
    let fx = a.on_key(KeyEvent::from(KeyCode::Enter));
    assert_eq!(fx, vec![Effect::OpenSession("b.jsonl".into())]);
    assert!(a.picker().is_none());
}

/// `/set` mid-session: each request records what it was sent with when that differs from the
/// header, and a resumed session goes on with its last turn's settings.
#[test]
fn changed_settings_are_recorded_per_request_and_resumed() {
    let dir = tempfile::tempdir().unwrap();
    let mut rec = Recorder::new(dir.path(), true);
    let mut conv = Conversation::new(None);
    let first = ChatParams {
        temperature: Some(0.7),
        max_tokens: Some(512),
        ..Default::default()
    };
    let mut second = first.clone();
    second.set("temperature", "0.2").unwrap();
    second.set("seed", "7").unwrap();
    for (k, params) in [&first, &first, &second].into_iter().enumerate() {
        conv.push_user(format!("q{k}"));
        let settings = Settings {
            system: None,
            params: params.clone(),
        };
        rec.begin(k, &conv, "fake", "grok-code-fast-1", &settings);
        let mut t = Turn::new("grok-code-fast-1");
        for ev in [
            StreamEvent::Content(format!("a{k}")),
            StreamEvent::Finished {
                reason: Some("stop".into()),
            },
        ] {
            let ev = TimedEvent {
                at: Duration::from_millis(5),
                event: ev,
            };
            t.apply(&ev);
            rec.event(k, &ev);
        }
        rec.end(k, &t, None, &conv);
        conv.push_turn(&t);
    }
    let path = store::list(dir.path())[0].clone();
    let text = std::fs::read_to_string(&path).unwrap();
    let requests: Vec<&str> = text.lines().filter(|l| l.contains("\"request\"")).collect();
    assert_eq!(requests.len(), 3);
    assert!(!requests[0].contains("\"params\""), "the header has them");
    assert!(!requests[1].contains("\"params\""), "unchanged");
    assert!(
        requests[2].contains("\"params\""),
        "changed: {}",
        requests[2]
    );
    let s = store::load(&path).unwrap();
    assert_eq!(s.header.settings.params, first);
    let params: Vec<&ChatParams> = s.turns.iter().map(|t| &t.params).collect();
    assert_eq!(params, [&first, &first, &second]);
    assert_eq!(s.current_params(), Some(&second));
    let md = grokpair::export::markdown(&s, &grokpair::testing::recording_catalog());
    assert!(
        md.contains("· temperature 0.2 · max_tokens 512 · seed 7*\n"),
        "{md}"
    );
    let mut a = app();
    a.load_session(&s);
    assert_eq!(a.params, second, "resumed with the last turn's settings");
}

/// A session file with absurd times (an event at 10^15 ms, turns near the end of time)
/// loads, resumes and replays without a panic or a huge allocation: times are bounded to a
/// day when read.
#[test]
fn absurd_times_in_a_session_file_are_bounded() {
    let header = Header {
        version: 1,
        id: "20261201-000000-time".into(),
        name: None,
        created: "2026-12-01T00:00:00Z".into(),
        provider: "xai".into(),
        model: "grok-code-fast-1".into(),
        conv_id: "c0ffee00-0000-4000-8000-000000000001".into(),
        settings: Settings::default(),
        kind: "chat".into(),
    };
    let mut lines = vec![serde_json::to_string(&store::Record::Header(header)).unwrap()];
    for k in 0..300 {
        lines.push(format!(
            r#"{{"type":"history","base":{},"messages":[{{"role":"user","content":"q{k}"}}]}}"#,
            2 * k
        ));
        lines.push(format!(
            r#"{{"type":"request","turn":{k},"at":"","provider":"xai","model":"m","messages":{}}}"#,
            2 * k + 1
        ));
        lines.push(format!(
            r#"{{"type":"events","turn":{k},"events":[{{"ms":1000000000000000,"content":"a{k}"}},{{"ms":18446744073709551615,"finished":{{"reason":"stop"}}}}]}}"#
        ));
        lines.push(format!(
            r#"{{"type":"end","turn":{k},"state":"done","ms":18446744073709551615}}"#
        ));
        lines.push(format!(
            r#"{{"type":"history","base":{},"messages":[{{"role":"assistant","content":"a{k}"}}]}}"#,
            2 * k + 1
        ));
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("times.jsonl");
    std::fs::write(&path, lines.join("\n")).unwrap();
    let s = store::load(&path).unwrap();
    assert_eq!(s.turns.len(), 300);
    let day = Duration::from_millis(store::MAX_SAVED_MS);
    assert_eq!(s.skipped, 0);
    assert!(s
        .turns
        .iter()
        .all(|t| t.events.len() == 2 && t.events.iter().all(|e| e.at == day)));
    assert_eq!(s.turns[0].end.as_ref().unwrap().at, day);
    let mut a = app();
    a.load_session(&s);
    let mut r = app();
    r.start_replay(&s, Some(0.01), false, false);
    r.replay_advance(Duration::from_secs(3600));
    let mut t = grokpair::tui::Screen::new(TestBackend::new(100, 30)).unwrap();
    grokpair::tui::frame(&mut t, &mut r, &mut grokpair::ui::view::View::new()).unwrap();
}

/// A session file cut right after its header (a crash) has no turns: replaying it and
/// pressing every replay key does nothing harmful (`p` used to panic).
#[test]
fn replaying_a_session_with_no_turns() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.jsonl");
    std::fs::write(
        &path,
        r#"{"type":"header","version":1,"id":"20261201-000000-none","created":"2026-12-01T00:00:00Z","provider":"xai","model":"m","conv_id":"c"}"#,
    )
    .unwrap();
    let s = store::load(&path).unwrap();
    assert!(s.turns.is_empty());
    let mut a = app();
    a.start_replay(&s, Some(1.0), false, false);
    for c in ['p', 'n', ' ', '+', '-', 'p'] {
        a.on_key(crossterm::event::KeyEvent::from(
            crossterm::event::KeyCode::Char(c),
        ));
    }
    for k in [
        crossterm::event::KeyCode::Left,
        crossterm::event::KeyCode::Right,
    ] {
        a.on_key(crossterm::event::KeyEvent::from(k));
    }
    let mut t = grokpair::tui::Screen::new(TestBackend::new(100, 30)).unwrap();
    grokpair::tui::frame(&mut t, &mut a, &mut grokpair::ui::view::View::new()).unwrap();
}

/// Leaving the demo goes back to the provider and model in use before it (each replayed turn
/// set its own); a message sent with no key says so once, not again under the same note.
#[test]
fn leaving_the_demo_restores_the_model_and_says_no_key_once() {
    use crossterm::event::{KeyCode, KeyEvent};
    let mut a = App::new(grokpair::app::AppInit {
        has_key: false,
        key_help: "No API key: export XAI_API_KEY=…".into(),
        ..grokpair::testing::app_init(false)
    });
    a.provider = "xai".into();
    a.model = "grok-4.3".into();
    let demo = &grokpair::demo::sessions()[0];
    a.start_replay(demo, None, true, false);
    a.replay_advance(Duration::from_secs(3600));
    assert_ne!(a.model, "grok-4.3", "the demo's turns set their model");
    a.on_key(KeyEvent::from(KeyCode::Char('q')));
    assert!(a.replay.is_none());
    assert_eq!((a.provider.as_str(), a.model.as_str()), ("xai", "grok-4.3"));
    let notes = |a: &App| {
        a.entries
            .iter()
            .filter(|e| e.text.starts_with("No API key"))
            .count()
    };
    assert_eq!(notes(&a), 1);
    a.input.insert_str("hello");
    a.on_key(KeyEvent::from(KeyCode::Enter));
    assert_eq!(notes(&a), 1, "said once");
    assert!(a.flash.as_deref().unwrap().starts_with("no API key"));
    assert_eq!(a.input_text(), "hello");
}
