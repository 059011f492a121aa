//! Whole-app TestBackend snapshots at 80x24, 160x48 and 250x70: empty, mid-stream, finished, help,
//! no key. Events carry fixed arrival times, so every figure on screen is deterministic.

mod common;

use grokpair::api::client::decode_body;
use grokpair::api::Api;
use grokpair::api::{StreamEvent, TimedEvent};
use grokpair::app::{App, AppInit, Effect};
use grokpair::testing::demo_sse;
use ratatui::backend::TestBackend;
use std::time::Duration;

fn app(has_key: bool) -> App {
    App::new(AppInit {
        providers: vec!["xai".into(), "local".into()],
        has_key,
        key_help: "No API key for provider `xai`. Quit (Ctrl+C twice), then `export XAI_API_KEY=…` and start again.".into(),
        ..grokpair::testing::app_init(false)
    })
}

/// The synthesized answer as timed events: 10 ms apart, the first after 300 ms.
fn events() -> Vec<TimedEvent> {
    grokpair::testing::timed_events(&demo_sse(), 300, 10)
}

fn send(app: &mut App, text: &str) -> usize {
    app.input.insert_str(text);
    let fx = app.on_key(crossterm::event::KeyEvent::from(
        crossterm::event::KeyCode::Enter,
    ));
    match fx.as_slice() {
        [Effect::Start { turn }] => *turn,
        other => panic!("expected a start, got {other:?}"),
    }
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

#[test]
fn empty_80x24() {
    insta::assert_snapshot!(screen(&mut app(true), 80, 24));
}

#[test]
fn no_key_160x48() {
    insta::assert_snapshot!(screen(&mut app(false), 160, 48));
}

#[test]
fn mid_stream_and_finished() {
    for (w, h) in [(80u16, 24u16), (160, 48), (250, 70)] {
        let mut a = app(true);
        let turn = send(&mut a, "How do I read a file in Rust?");
        let evs = events();
        let half = evs.len() * 2 / 3;
        for ev in &evs[..half] {
            a.on_stream(turn, ev.clone());
        }
        insta::assert_snapshot!(format!("mid_stream_{w}x{h}"), screen(&mut a, w, h));
        for ev in &evs[half..] {
            a.on_stream(turn, ev.clone());
        }
        insta::assert_snapshot!(format!("finished_{w}x{h}"), screen(&mut a, w, h));
    }
}

/// Issue 15 (15): a long message soft-wraps in the box (up to 6 rows, the cursor's in view)
/// instead of showing only its end; the text itself keeps no added line breaks.
#[test]
fn a_long_message_soft_wraps_80x24() {
    let mut a = app(true);
    let words: Vec<String> = (1..=40).map(|i| format!("word{i}")).collect();
    a.input.insert_str(words.join(" "));
    let s = screen(&mut a, 80, 24);
    let rows: Vec<&str> = s.lines().collect();
    // The box grew to hold the text: its first words and its last are both on screen.
    assert!(s.contains("word1 word2 word3"), "{s}");
    assert!(s.contains("word40"), "{s}");
    assert!(
        rows.iter().filter(|r| r.contains("word")).count() >= 4,
        "{s}"
    );
    assert_eq!(a.input.lines().len(), 1);
    insta::assert_snapshot!(s);
}

/// Issue 15 (Missing): typing `/` lists the commands with what they do, filtered as you type.
#[test]
fn command_palette_80x24() {
    let mut a = app(true);
    a.input.insert_str("/s");
    a.on_key(crossterm::event::KeyEvent::from(
        crossterm::event::KeyCode::Down,
    ));
    let s = screen(&mut a, 80, 24);
    assert!(s.contains("/search TEXT"), "{s}");
    insta::assert_snapshot!(s);
}

#[test]
fn help_overlay() {
    for (w, h) in [(80u16, 24u16), (160, 48), (250, 70)] {
        let mut a = app(true);
        a.on_key(crossterm::event::KeyEvent::from(
            crossterm::event::KeyCode::F(1),
        ));
        insta::assert_snapshot!(format!("help_{w}x{h}"), screen(&mut a, w, h));
        if h < 40 {
            for _ in 0..160 {
                a.on_key(crossterm::event::KeyEvent::from(
                    crossterm::event::KeyCode::Down,
                ));
            }
            let s = screen(&mut a, w, h);
            assert!(s.contains("/quit"), "scrolling reaches the end:\n{s}");
            insta::assert_snapshot!(format!("help_{w}x{h}_scrolled"), s);
        }
    }
}

/// The help is made from the keymap that dispatches the keys: the focused pane's first, every
/// binding listed.
#[test]
fn help_is_generated_from_the_keymap_focused_pane_first() {
    use crossterm::event::{KeyCode, KeyEvent};
    let mut a = app(true);
    a.focus = grokpair::app::Pane::Code;
    a.on_key(KeyEvent::from(KeyCode::Char('?')));
    assert!(a.help_open());
    let s = screen(&mut a, 120, 60);
    let first = s.lines().nth(1).unwrap();
    assert!(first.contains("Code pane"), "{s}");
    assert!(
        s.contains("copy the block (OSC 52 and the system clipboard)"),
        "{s}"
    );
    // The modal takes the keys: `s` (save, in the code pane) does nothing while it is open.
    a.on_key(KeyEvent::from(KeyCode::Char('s')));
    assert!(a.save_prompt().is_none());
    a.on_key(KeyEvent::from(KeyCode::Esc));
    assert!(!a.help_open());
    for b in grokpair::app::keymap::KEYMAP
        .iter()
        .filter(|b| !b.help.is_empty())
    {
        let sections = grokpair::app::keymap::help(&[]);
        assert!(sections
            .iter()
            .any(|(t, rows)| *t == b.scope.title() && rows.contains(&(b.label, b.help))));
    }
}

#[test]
fn panes_resize_and_zoom() {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    let mut a = app(true);
    // The side column opens once there is something to show (here reasoning).
    let turn = send(&mut a, "q");
    for ev in events() {
        a.on_stream(turn, ev);
    }
    let alt = |c| KeyEvent::new(c, KeyModifiers::ALT);
    for _ in 0..3 {
        a.on_key(alt(KeyCode::Right));
    }
    let wide = screen(&mut a, 160, 48);
    let first = wide.lines().next().unwrap();
    // The conversation's top-right corner moved right: 73% of 160 columns.
    assert_eq!(first.chars().position(|c| c == '┐'), Some(117), "{first}");
    for _ in 0..20 {
        a.on_key(alt(KeyCode::Left));
    }
    assert_eq!(a.split, 25);
    a.on_key(KeyEvent::from(KeyCode::Tab));
    a.on_key(KeyEvent::from(KeyCode::Tab));
    a.on_key(KeyEvent::from(KeyCode::F(11)));
    let zoomed = screen(&mut a, 80, 24);
    assert!(
        zoomed.lines().next().unwrap().contains("Reasoning"),
        "{zoomed}"
    );
    assert!(!zoomed.contains("Conversation"), "{zoomed}");
}

#[test]
fn hidden_reasoning_is_explained() {
    let mut a = app(true);
    a.model = "grok-4-fast".into();
    let turn = send(&mut a, "hi");
    let body = std::fs::read_to_string(
        common::fixtures_dir().join("xai-grok-4-fast-simple_streaming/response.sse"),
    )
    .unwrap();
    let (mut evs, _) = decode_body(Api::Chat, body.as_bytes());
    evs.push(StreamEvent::Finished {
        reason: Some("stop".into()),
    });
    for (i, e) in evs.into_iter().enumerate() {
        a.on_stream(
            turn,
            TimedEvent {
                at: Duration::from_millis(900 + i as u64),
                event: e,
            },
        );
    }
    let s = screen(&mut a, 160, 48);
    // The pane waits under the conversation with one row: the short form fits it.
    assert!(
        s.contains("129 tokens of hidden reasoning (0.9s), billed as output"),
        "{s}"
    );
    assert!(
        s.contains("grok-4-fast-reasoning (asked grok-4-fast)"),
        "{s}"
    );
    insta::assert_snapshot!(s);
    // Focused, the pane opens and says it whole.
    a.focus = grokpair::app::Pane::Reasoning;
    let s = screen(&mut a, 160, 48);
    assert!(
        s.contains("grok-4-fast-reasoning reasoned for 129 tokens (0.9s) but does"),
        "{s}"
    );
}

/// Column of the first line's top-right corner: where the conversation pane ends.
fn conversation_right(s: &str) -> usize {
    let first = s.lines().next().unwrap();
    first.chars().position(|c| c == '┐').unwrap()
}

/// Issue 15 (17): wide, the empty side panes wait in one row under the conversation, which
/// gets the full width. Reasoning opens the side column at once; code from an answer opens it
/// when the next message is sent, so an answer never reflows while it streams or is read.
#[test]
fn the_wide_side_column_opens_when_it_has_something_to_show() {
    let full = 160; // the test backend quotes each line: column 159 is at 160
    let mut a = app(true);
    let s = screen(&mut a, 160, 48);
    assert_eq!(conversation_right(&s), full, "{s}");
    assert!(s.contains("│ The model's reasoning streams here."), "{s}");

    // An answer with code and no reasoning: the width stays while it streams and after.
    let turn = send(&mut a, "code please");
    let at = |ms| Duration::from_millis(ms);
    let ev = |ms, event| TimedEvent { at: at(ms), event };
    a.on_stream(
        turn,
        ev(
            100,
            StreamEvent::Started {
                model: None,
                id: None,
            },
        ),
    );
    a.on_stream(
        turn,
        ev(
            110,
            StreamEvent::Content("Here:\n\n```rust\nfn main() {}\n".into()),
        ),
    );
    let s = screen(&mut a, 160, 48);
    assert_eq!(conversation_right(&s), full, "{s}");
    a.on_stream(turn, ev(120, StreamEvent::Content("```\nDone.\n".into())));
    a.on_stream(
        turn,
        ev(
            130,
            StreamEvent::Finished {
                reason: Some("stop".into()),
            },
        ),
    );
    let s = screen(&mut a, 160, 48);
    assert_eq!(conversation_right(&s), full, "{s}");
    assert!(s.contains("┌ Code [1/1] rust · 1 line "), "{s}");

    // The next message opens the column for the code of the one before.
    let turn = send(&mut a, "thanks");
    let s = screen(&mut a, 160, 48);
    assert!(conversation_right(&s) < 120, "{s}");
    a.on_stream(
        turn,
        ev(
            100,
            StreamEvent::Finished {
                reason: Some("stop".into()),
            },
        ),
    );

    // Reasoning opens it as soon as it streams; narrow, the panes just get their rows.
    let mut a = app(true);
    let turn = send(&mut a, "think");
    a.on_stream(turn, ev(100, StreamEvent::Reasoning("Let me see.".into())));
    let s = screen(&mut a, 160, 48);
    assert!(conversation_right(&s) < 120, "{s}");
    let s = screen(&mut a, 80, 24);
    assert_eq!(conversation_right(&s), 80, "{s}");
    assert!(
        s.lines().filter(|l| l.contains("│ Let me see.")).count() == 1,
        "{s}"
    );
}

#[test]
fn cancel_keeps_partial_and_gives_question_back_when_empty() {
    let mut a = app(true);
    let turn = send(&mut a, "first question");
    // Cancelled before any output: the question returns to the input, history untouched.
    let fx = a.on_key(crossterm::event::KeyEvent::from(
        crossterm::event::KeyCode::Esc,
    ));
    assert_eq!(fx, vec![Effect::Cancel]);
    assert_eq!(a.input_text(), "first question");
    assert!(a.conv.messages().is_empty());
    assert_eq!(
        a.turns[turn].turn.state,
        grokpair::session::TurnState::Cancelled
    );
    // Cancelled mid-answer: the partial answer stays and joins the history.
    a.input = grokpair::app::new_input(&a.theme);
    let turn = send(&mut a, "second");
    for ev in events().into_iter().take(60) {
        a.on_stream(turn, ev);
    }
    a.on_key(crossterm::event::KeyEvent::from(
        crossterm::event::KeyCode::Esc,
    ));
    let t = &a.turns[turn].turn;
    assert!(!t.content.is_empty() && !t.reasoning.is_empty());
    assert_eq!(a.conv.messages().last().unwrap().content, t.content);
    let s = screen(&mut a, 160, 48);
    assert!(
        s.contains("cancelled — partial answer and reasoning kept"),
        "{s}"
    );
}

/// Whatever control characters a model sends — in prose, in a Go block's tabs, in the
/// reasoning, in the served model's name, in a notice — no cell of the frame holds one.
#[test]
fn no_control_character_reaches_a_cell() {
    let mut a = app(true);
    let turn = send(&mut a, "hi");
    let hostile = [
        StreamEvent::Started {
            model: Some("grok\x1b]2;evil\x07".into()),
            id: None,
        },
        StreamEvent::Reasoning("think \x1b]0;t\x07 \u{202e}reversed\n".into()),
        StreamEvent::Content("Sure \x1b]52;c;aGk=\x07 \x1b[?1049l\r\n\n```go\nfunc main() {\n\tfmt.Println(\"\x07\")\n}\n```\n".into()),
        StreamEvent::Notice("note \x1b[2J".into()),
        StreamEvent::Finished {
            reason: Some("stop".into()),
        },
    ];
    for (i, e) in hostile.into_iter().enumerate() {
        a.on_stream(
            turn,
            TimedEvent {
                at: Duration::from_millis(10 * i as u64),
                event: e,
            },
        );
    }
    let mut t = grokpair::tui::Screen::new(TestBackend::new(160, 48)).unwrap();
    grokpair::tui::frame(&mut t, &mut a, &mut grokpair::ui::view::View::new()).unwrap();
    let buf = t.backend().buffer();
    for cell in buf.content() {
        assert!(
            !cell.symbol().chars().any(|c| c.is_control()
                || ('\u{202a}'..='\u{202e}').contains(&c)
                || ('\u{2066}'..='\u{2069}').contains(&c)),
            "{:?}",
            cell.symbol()
        );
    }
    let shown = t.backend().to_string();
    assert!(shown.contains("Sure ␛]52;c;aGk=␇"), "{shown}");
    assert!(shown.contains("grok␛]2;evil␇"), "{shown}");
}

/// Saving a code block over anything already there asks first — a broken symlink too (which
/// `exists()` calls absent, and a write would follow to wherever it points).
#[cfg(unix)]
#[test]
fn saving_over_a_broken_symlink_asks_first() {
    let mut a = app(true);
    let turn = send(&mut a, "code please");
    for e in events() {
        a.on_stream(turn, e);
    }
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("out.rs");
    std::os::unix::fs::symlink(dir.path().join("elsewhere/target.rs"), &link).unwrap();
    a.input.insert_str(format!("/save 1 {}", link.display()));
    let enter = || crossterm::event::KeyEvent::from(crossterm::event::KeyCode::Enter);
    // `/save N PATH` saves at once (issue 15, item 7): the runtime looks at the path first.
    let fx = a.on_key(enter());
    assert!(
        matches!(fx.as_slice(), [Effect::CheckSave { .. }]),
        "{fx:?}"
    );
    let answer = grokpair::tui::local_io(fx.into_iter().next().unwrap()).unwrap();
    assert!(
        a.update(answer).is_empty(),
        "the overwrite question, not a save"
    );
    assert!(a.save_prompt().is_some_and(|p| p.confirm));
    match a.on_key(enter()).as_slice() {
        [Effect::Save { path, .. }] => assert_eq!(path, &link),
        other => panic!("confirmed: {other:?}"),
    }
}

/// A message sent while its `/file` is still being read waits (it would go without the
/// file); once the file is attached, it goes with it.
#[test]
fn a_message_waits_for_its_file() {
    let mut a = app(true);
    a.input.insert_str("/file notes.txt");
    let enter = || crossterm::event::KeyEvent::from(crossterm::event::KeyCode::Enter);
    assert!(matches!(
        a.on_key(enter()).as_slice(),
        [Effect::ReadFile { path, .. }] if path == "notes.txt"
    ));
    a.input.insert_str("summarise it");
    assert!(a.on_key(enter()).is_empty());
    assert!(a.flash.as_deref().unwrap().contains("still being read"));
    grokpair::app::commands::attach_file(&mut a, "notes.txt".into(), Ok("one\ntwo\n".into()));
    let s = screen(&mut a, 80, 24);
    assert!(s.contains("Message · 1 file attached · Enter send"), "{s}");
    assert!(s.contains("attached notes.txt (2 lines)"), "{s}");
    assert!(matches!(
        a.on_key(enter()).as_slice(),
        [Effect::Start { .. }]
    ));
    let sent = &a.conv.messages().last().unwrap().content;
    assert!(
        sent.starts_with("File `notes.txt`:") && sent.ends_with("summarise it"),
        "{sent}"
    );
}

/// A finished turn's figures are drawn from a cache (a long transcript does not rebuild them
/// every frame), and still follow new prices when the provider's listing arrives.
#[test]
fn cached_turn_figures_follow_new_prices() {
    let mut a = app(true);
    let turn = send(&mut a, "hi");
    let sse = grokpair::testing::synth_sse(
        "grok-3-mini",
        "",
        "Hello.\n",
        grokpair::testing::SynthUsage {
            prompt: 1_000_000,
            cached: 0,
            completion: 0,
            reasoning: 0,
            ticks: None,
        },
    );
    for e in grokpair::testing::timed_events(&sse, 100, 5) {
        a.on_stream(turn, e);
    }
    let figures = |s: String| {
        s.lines()
            .find(|l| l.contains("· ttft"))
            .unwrap_or_else(|| panic!("no figures line:\n{s}"))
            .to_string()
    };
    // The recording-era price: $0.30 per 1M input tokens.
    assert!(figures(screen(&mut a, 160, 48)).contains("$0.3000"));
    assert!(
        figures(screen(&mut a, 160, 48)).contains("$0.3000"),
        "drawn again from the cache"
    );
    let cfg = grokpair::config::Config::parse(
        "[models.\"grok-3-mini\"]\ninput = 2.0\ncached_input = 0.5\noutput = 2.0\n",
        None,
    )
    .unwrap();
    a.set_catalog(cfg.catalog);
    let after = figures(screen(&mut a, 160, 48));
    assert!(after.contains("$2.0000"), "{after}");
}

/// `n` counts lines as they are now, not as they were when the search ran: a match stays in
/// view while the transcript grows; and an `n` typed before the matches arrive steps.
#[test]
fn search_steps_follow_a_growing_transcript() {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    let mut a = app(true);
    let answer = |word: &str, lines: usize| {
        let mut s = format!("The {word} is here.\n\n");
        for i in 0..lines {
            s.push_str(&format!("filler line {i}\n\n"));
        }
        s
    };
    // A question and its whole answer.
    let answered = |a: &mut App, q: &str, text: String| {
        let turn = send(a, q);
        for event in [
            StreamEvent::Content(text),
            StreamEvent::Finished {
                reason: Some("stop".into()),
            },
        ] {
            let at = std::time::Duration::from_millis(5);
            a.on_stream(turn, TimedEvent { at, event });
        }
    };
    answered(&mut a, "first", answer("zebra", 60));
    screen(&mut a, 100, 30);
    a.on_key(KeyEvent::new(KeyCode::Char('f'), KeyModifiers::CONTROL));
    for c in "zebra".chars() {
        a.on_key(KeyEvent::from(KeyCode::Char(c)));
    }
    a.on_key(KeyEvent::from(KeyCode::Enter));
    // Before any frame: `n` is a step, not a letter in the message box.
    a.on_key(KeyEvent::from(KeyCode::Char('n')));
    assert_eq!(a.input_text(), "");
    let s = screen(&mut a, 100, 30);
    assert!(s.contains("The zebra is here."), "{s}");
    // The transcript grows by a long second answer; `n` (one match: it wraps to itself) still
    // shows it.
    a.focus = grokpair::app::Pane::Input;
    answered(&mut a, "second", answer("giraffe", 200));
    screen(&mut a, 100, 30);
    a.focus = grokpair::app::Pane::Conversation;
    a.on_key(KeyEvent::from(KeyCode::Char('n')));
    let s = screen(&mut a, 100, 30);
    assert!(s.contains("The zebra is here."), "{s}");
}

/// Agent mode: a user turn of two rounds with a tool call between them — the call's cell,
/// the reasoning pane carrying on across the rounds, the status bar's mode and instructions.
#[test]
fn agent_rounds_tool_cell_and_reasoning_across_rounds() {
    use grokpair::agent::Step;
    use grokpair::app::agent::AgentView;
    use grokpair::app::Event;
    use grokpair::session::approval::Mode;
    use grokpair::session::store::{ToolRecord, ToolStatus};
    let mut a = app(true);
    a.agent = Some(AgentView::new(
        Mode::AutoEdit,
        vec!["AGENTS.md".into()],
        None,
    ));
    let ev = |ms: u64, e: StreamEvent| TimedEvent {
        at: Duration::from_millis(ms),
        event: e,
    };
    let t0 = send(&mut a, "fix add in calc.py");
    for e in [
        ev(100, StreamEvent::Reasoning("First I read the file.".into())),
        ev(
            200,
            StreamEvent::Finished {
                reason: Some("tool_calls".into()),
            },
        ),
    ] {
        a.on_stream(t0, e);
    }
    assert!(a.agent_busy());
    a.update(Event::Agent(Step::Started {
        call_id: "c1".into(),
        name: "edit_file".into(),
        title: "edit src/calc.py".into(),
        by: "mode auto-edit".into(),
    }));
    a.update(Event::Agent(Step::Ended(ToolRecord {
        turn: 0,
        call_id: "c1".into(),
        name: "edit_file".into(),
        title: "edit src/calc.py".into(),
        by: Some("mode auto-edit".into()),
        status: ToolStatus::Ok,
        ms: 3,
        exit: None,
        summary: "+1 −1".into(),
        output: "edited".into(),
        diff: Some("--- a/src/calc.py\n+++ b/src/calc.py\n@@ -1 +1 @@\n-    return a - b\n+    return a + b\n".into()),
        changed: vec!["src/calc.py".into()],
    })));
    let fx = a.update(Event::Agent(Step::Send));
    let [Effect::Start { turn: t1 }] = fx.as_slice() else {
        panic!("{fx:?}")
    };
    let t1 = *t1;
    assert_eq!(
        (a.turns[t1].exchange, a.turns[t1].round),
        (a.turns[t0].exchange, 1)
    );
    for e in [
        ev(100, StreamEvent::Reasoning("Now the tests pass.".into())),
        ev(150, StreamEvent::Content("Fixed: `add` subtracted.".into())),
    ] {
        a.on_stream(t1, e);
    }
    insta::assert_snapshot!("agent_rounds_120x30", screen(&mut a, 120, 30));
    a.on_stream(
        t1,
        ev(
            200,
            StreamEvent::Finished {
                reason: Some("stop".into()),
            },
        ),
    );
    a.update(Event::Agent(Step::Done(
        grokpair::session::agent::Outcome::Done,
    )));
    assert!(!a.agent_busy());
    // Ctrl+O opens the cell: the diff, coloured as a diff.
    a.on_key(crossterm::event::KeyEvent::new(
        crossterm::event::KeyCode::Char('o'),
        crossterm::event::KeyModifiers::CONTROL,
    ));
    let s = screen(&mut a, 120, 30);
    assert!(s.contains("│ +    return a + b"), "{s}");
}

/// Issue 15 (1): a question shows as typed — its line breaks, `__init__` and `a*b*c` as they
/// are — and a long paste folds to its first lines; Ctrl+O opens it.
#[test]
fn questions_show_as_typed_and_long_ones_fold() {
    let mut a = app(true);
    let mut text = String::from("line one\nline two\n    indented __init__ and a*b*c\n");
    for i in 0..200 {
        text.push_str(&format!("pasted line {i}\n"));
    }
    a.send(text);
    let s = screen(&mut a, 100, 40);
    let lines: Vec<&str> = s.lines().collect();
    let at = |t: &str| {
        lines
            .iter()
            .position(|l| l.contains(t))
            .unwrap_or_else(|| panic!("{t:?} not on screen:\n{s}"))
    };
    assert_eq!(at("line two"), at("line one") + 1, "{s}");
    assert!(
        lines[at("indented")].contains("│     indented __init__ and a*b*c"),
        "{s}"
    );
    assert!(s.contains("pasted line 4"), "{s}");
    assert!(!s.contains("pasted line 5"), "{s}");
    assert!(s.contains("… 195 more lines (Ctrl+O shows them)"), "{s}");
    a.on_key(crossterm::event::KeyEvent::new(
        crossterm::event::KeyCode::Char('o'),
        crossterm::event::KeyModifiers::CONTROL,
    ));
    let s = screen(&mut a, 100, 40);
    assert!(!s.contains("more lines"), "{s}");

    // A long line wraps after a space, as in the message box: no word is cut.
    let mut a = app(true);
    let words: Vec<String> = (1..=60).map(|i| format!("word{i}")).collect();
    a.send(words.join(" "));
    for (w, h) in [(100, 30), (160, 48), (250, 70)] {
        let s = screen(&mut a, w, h);
        let shown: Vec<&str> = s
            .lines()
            .skip(2)
            .take_while(|l| l.contains("word"))
            .map(|l| l.trim_matches(['"', '│', ' ']).trim_end_matches(['│', ' ']))
            .collect();
        assert!(shown.len() >= 2, "{s}");
        let again: Vec<&str> = shown.iter().flat_map(|l| l.split(' ')).collect();
        assert_eq!(again, words, "{s}");
    }
}

/// Issue 15 (7): the suggested name is typed over, `n` at the question goes back to the path
/// and `y` writes (neither is typed into it), a path outside the working directory asks with
/// its absolute path, and missing directories are made.
#[test]
fn the_save_prompt_types_over_asks_outside_and_makes_directories() {
    use crossterm::event::{KeyCode, KeyEvent};
    let mut a = app(true);
    let turn = send(&mut a, "code please");
    for e in events() {
        a.on_stream(turn, e);
    }
    a.start_save(0, None);
    assert!(a.save_prompt().unwrap().path.starts_with("block1."));
    for c in "x.rs".chars() {
        a.on_key(KeyEvent::from(KeyCode::Char(c)));
    }
    assert_eq!(
        a.save_prompt().unwrap().path,
        "x.rs",
        "typed over the suggestion"
    );
    // Outside the working directory: asked, with the absolute path.
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("new/dir/out.rs");
    a.close_modal();
    a.input.insert_str(format!("/save 1 {}", target.display()));
    let fx = a.on_key(KeyEvent::from(KeyCode::Enter));
    let answer = grokpair::tui::local_io(fx.into_iter().next().unwrap()).unwrap();
    assert!(a.update(answer).is_empty());
    let p = a.save_prompt().unwrap();
    assert!(p.confirm);
    assert!(
        p.why
            .as_deref()
            .unwrap()
            .contains("is outside the working directory"),
        "{:?}",
        p.why
    );
    // At 80 columns the keys stay whole in the title; the question has the row.
    let s = screen(&mut a, 80, 24);
    assert!(
        s.contains("Save block 1 · y or Enter writes · n edits the path · Esc cancels"),
        "{s}"
    );
    assert!(s.contains("│ /"), "{s}");
    a.on_key(KeyEvent::from(KeyCode::Char('n')));
    let p = a.save_prompt().unwrap();
    assert!(
        !p.confirm && p.path == target.display().to_string(),
        "n is not typed"
    );
    let fx = a.on_key(KeyEvent::from(KeyCode::Enter));
    let answer = grokpair::tui::local_io(fx.into_iter().next().unwrap()).unwrap();
    a.update(answer);
    let fx = a.on_key(KeyEvent::from(KeyCode::Char('y')));
    let [Effect::Save { path, .. }] = fx.as_slice() else {
        panic!("y writes: {fx:?}")
    };
    assert_eq!(path, &target);
    let saved = grokpair::tui::local_io(fx.into_iter().next().unwrap()).unwrap();
    a.update(saved);
    assert!(target.is_file(), "the directories were made");
    assert!(
        a.flash.as_deref().unwrap().starts_with("saved "),
        "{:?}",
        a.flash
    );
}

/// Issue 15 (12): a model with no known price says `cost ?` in one way everywhere: the turn's
/// line, the status bar's turn and session figures (not `—`, `cost unknown` or `≥$0.00`).
#[test]
fn an_unpriced_model_says_cost_unknown_one_way() {
    let mut a = app(true);
    a.model = "mystery-model".into();
    let turn = send(&mut a, "hi");
    let evs = grokpair::testing::timed_events(
        &grokpair::testing::synth_sse(
            "mystery-model",
            "",
            "Hello.",
            grokpair::testing::SynthUsage::SMALL,
        ),
        100,
        10,
    );
    let half = evs.len() / 2;
    for ev in &evs[..half] {
        a.on_stream(turn, ev.clone());
    }
    let s = screen(&mut a, 160, 48);
    let status = s.lines().last().unwrap();
    assert!(status.contains("│ cost ? │ session cost ?"), "{status}");
    assert!(
        !status.contains("reasoning"),
        "no reasoning, none named: {status}"
    );
    for ev in &evs[half..] {
        a.on_stream(turn, ev.clone());
    }
    let s = screen(&mut a, 160, 48);
    let status = s.lines().last().unwrap();
    assert!(status.contains("│ cost ? │ session cost ?"), "{status}");
    assert!(s.contains("· cost ?"), "{s}");
    for wrong in ["cost unknown", "≥$0.00", "│ — │"] {
        assert!(!s.contains(wrong), "{wrong}: {s}");
    }
}

/// Issue 15 (17): at 40x12 the notes and the message box's hint end at a whole word (with
/// `…` where a note goes on), never mid-word.
#[test]
fn small_terminals_cut_nothing_mid_word() {
    let mut a = app(true);
    let s = screen(&mut a, 40, 12);
    let hint = s
        .lines()
        .find(|l| l.contains("Ask anything"))
        .unwrap_or_else(|| panic!("{s}"));
    assert!(hint.contains("│  Ask anything · / for commands "), "{s}");
    assert!(!hint.contains("F1 h"), "{s}");
    let turn = send(&mut a, "q");
    for ev in grokpair::testing::timed_events(
        &grokpair::testing::synth_sse(
            "grok-code-fast-1",
            "",
            "Plain answer.",
            grokpair::testing::SynthUsage::SMALL,
        ),
        100,
        10,
    ) {
        a.on_stream(turn, ev);
    }
    let s = screen(&mut a, 40, 12);
    assert!(s.contains("│ No reasoning …"), "{s}");
}
