//! Agent mode in the TUI, as a person uses it: the real binary in tmux against scripted
//! tool-call trajectories, in a temporary workspace (`--cd`). Needs tmux (see tui_tmux.rs).

mod common;

use common::tmux::Tmux;
use grokpair::api::Api;
use grokpair::testing::{synth_sse, synth_tool_calls, FakeServer, Reply, SynthUsage};

const MODEL: &str = "grok-code-fast-1";
const USAGE: SynthUsage = SynthUsage {
    prompt: 1000,
    cached: 800,
    completion: 100,
    reasoning: 0,
    ticks: None,
};

fn config(base_url: &str) -> String {
    format!(
        "provider = \"fake\"\n[network]\nidle_timeout_secs = 30\n[providers.fake]\nbase_url = \"{base_url}\"\napi_key_env = \"FAKE_KEY\"\nmodel = \"{MODEL}\"\ndialect = \"xai\"\n{}",
        grokpair::testing::RECORDING_PRICES_TOML
    )
}

fn calls(s: &FakeServer, c: &[(&str, &str, &str)]) {
    s.push(Reply::sse(synth_tool_calls(Api::Chat, MODEL, c, USAGE)));
}

/// The tool results a request sent: (call id, output).
fn results(s: &FakeServer, i: usize) -> Vec<(String, String)> {
    s.requests()[i].json()["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == "tool")
        .map(|m| {
            (
                m["tool_call_id"].as_str().unwrap().to_string(),
                m["content"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approve_allow_for_the_session_deny_with_a_note_expand_and_rewind() {
    if !Tmux::available() {
        return;
    }
    let s = FakeServer::start().await;
    let ws = tempfile::tempdir().unwrap();
    std::fs::write(ws.path().join("a.txt"), "one\n").unwrap();
    std::fs::write(ws.path().join("AGENTS.md"), "Run `echo hello` to check.\n").unwrap();
    calls(&s, &[("r1", "read_file", r#"{"path":"a.txt"}"#)]);
    calls(
        &s,
        &[(
            "e1",
            "edit_file",
            r#"{"path":"a.txt","old_string":"one","new_string":"two"}"#,
        )],
    );
    calls(
        &s,
        &[("c1", "run_command", r#"{"argv":["echo","hello","world"]}"#)],
    );
    calls(
        &s,
        &[("c2", "run_command", r#"{"argv":["echo","hello","again"]}"#)],
    );
    calls(
        &s,
        &[(
            "e2",
            "edit_file",
            r#"{"path":"a.txt","old_string":"two","new_string":"three"}"#,
        )],
    );
    s.push(Reply::sse(synth_sse(MODEL, "", "All done.", USAGE)));
    let args = format!("--cd {}", ws.path().display());
    let t = Tmux::start_args("agent", &config(&s.base_url()), 150, 45, "k", &args);
    t.wait_for("the TUI", |s| {
        s.contains("mode ask") && s.contains("AGENTS.md")
    })
    .await;
    t.type_text("change one to two");
    t.send(&["Enter"]);
    // The read ran on its own; the edit asks, showing its diff.
    let screen = t
        .wait_for("the edit's prompt", |s| s.contains("Edit edit_file?"))
        .await;
    assert!(
        screen.contains("-one") && screen.contains("+two"),
        "{screen}"
    );
    assert!(
        screen.contains("allow `edit_file: a.txt` this session"),
        "{screen}"
    );
    assert!(screen.contains("waiting for you"), "{screen}");
    assert_eq!(
        std::fs::read_to_string(ws.path().join("a.txt")).unwrap(),
        "one\n"
    );
    t.send(&["y"]);
    // The command asks; `a` allows its rule for the session.
    let screen = t
        .wait_for("the command's prompt", |s| s.contains("Run run_command?"))
        .await;
    assert!(screen.contains("$ echo hello world"), "{screen}");
    assert_eq!(
        std::fs::read_to_string(ws.path().join("a.txt")).unwrap(),
        "two\n"
    );
    t.send(&["a"]);
    // The second command is covered by the grant; the next edit asks: denied with a note.
    t.wait_for("the second edit's prompt", |s| {
        s.contains("Edit edit_file?") && s.contains("+three")
    })
    .await;
    t.send(&["n"]);
    t.wait_for("the note field", |s| s.contains("Note to the model:"))
        .await;
    t.type_text("keep two");
    t.send(&["Enter"]);
    let screen = t
        .wait_for("the end of the turn", |s| {
            s.contains("All done.") && s.contains("mode ask") && !s.contains("running tools")
        })
        .await;
    assert_eq!(
        std::fs::read_to_string(ws.path().join("a.txt")).unwrap(),
        "two\n"
    );
    // Collapsed cells, one line each, with how they went.
    for want in [
        "⚙ read a.txt 1 line ✓",
        "⚙ edit a.txt +1 −1 ✓ · user",
        "⚙ run echo hello world exit 0",
        "· session grant `run_command: echo hello *`",
        "⚙ edit a.txt denied: denied by the user: keep two",
    ] {
        assert!(screen.contains(want), "{want:?} not on screen:\n{screen}");
    }
    assert_eq!(
        results(&s, 3)[2],
        ("c1".into(), "hello world\n(exit code 0)".into())
    );
    assert_eq!(
        results(&s, 5)[4],
        ("e2".into(), "denied by the user: keep two".into())
    );
    // The project's instructions went with the system prompt.
    let sys = &s.requests()[0].json()["messages"][0];
    assert_eq!(sys["role"], "system");
    assert!(sys["content"]
        .as_str()
        .unwrap()
        .contains("Run `echo hello` to check."));
    // A collapsed cell opens: Ctrl+O opens every one (the edit's diff shows).
    assert!(!screen.contains("│ +two"));
    t.send(&["C-o"]);
    t.wait_for("the open cells", |s| {
        s.contains("│ +two") && s.contains("│ hello world")
    })
    .await;
    t.send(&["C-o"]);
    t.wait_for("the closed cells", |s| !s.contains("│ +two"))
        .await;
    // From the conversation pane: Enter opens the selected (newest) cell, [ selects another.
    t.send(&["Tab"]);
    t.send(&["["]);
    t.send(&["Enter"]);
    t.wait_for("one open cell", |s| {
        s.contains("│ hello again") && !s.contains("│ +two")
    })
    .await;
    t.send(&["Escape"]);
    // /mode switches, and the status bar says so.
    t.type_text("/mode auto-edit");
    t.send(&["Enter"]);
    t.wait_for("the new mode", |s| s.contains("mode auto-edit"))
        .await;
    // /rewind: the files and the conversation as before the turn.
    t.type_text("/rewind");
    t.send(&["Enter"]);
    let screen = t
        .wait_for("the rewind prompt", |s| s.contains("restore a.txt"))
        .await;
    assert!(screen.contains("▸ change one to two"), "{screen}");
    t.send(&["Enter"]);
    t.wait_for("the rewound conversation", |s| {
        s.contains("rewound 1 file: a.txt") && !s.contains("All done.")
    })
    .await;
    assert_eq!(
        std::fs::read_to_string(ws.path().join("a.txt")).unwrap(),
        "one\n"
    );
    // ... and undone.
    t.send(&["C-u"]);
    t.type_text("/rewind");
    t.send(&["Enter"]);
    t.wait_for("the undo item", |s| s.contains("↶ undo the last rewind"))
        .await;
    t.send(&["Enter"]);
    t.wait_for("the conversation back", |s| s.contains("All done."))
        .await;
    assert_eq!(
        std::fs::read_to_string(ws.path().join("a.txt")).unwrap(),
        "two\n"
    );
    t.quit().await;
    // The session has every call, who let it run, and the checkpoints beside it.
    let saved = t.saved_session();
    assert_eq!(saved.tools.len(), 5);
    let by: Vec<Option<&str>> = saved.tools.iter().map(|r| r.by.as_deref()).collect();
    assert_eq!(
        by,
        [
            Some("mode ask"),
            Some("user"),
            Some("user"),
            Some("session grant `run_command: echo hello *`"),
            None
        ]
    );
    assert_eq!(saved.turns.len(), 6);
    assert!(saved
        .path
        .with_extension("agent")
        .join("checkpoints")
        .is_dir());
}

/// A server that refuses tools (llama-server without --jinja): agent mode goes off for the
/// session, the message is back in the box, and Enter sends it as plain chat.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_refuses_tools_turns_agent_mode_off() {
    if !Tmux::available() {
        return;
    }
    let s = FakeServer::start().await;
    // (As Ollama says it; llama-server's 500 "tools param requires --jinja flag" is the same
    // after its retries.)
    s.push(Reply::json(
        400,
        r#"{"error":{"message":"registry.ollama.ai/library/gemma:2b does not support tools"}}"#,
    ));
    s.push(Reply::sse(synth_sse(MODEL, "", "Plain answer.", USAGE)));
    let ws = tempfile::tempdir().unwrap();
    let args = format!("--cd {}", ws.path().display());
    let t = Tmux::start_args("agent-off", &config(&s.base_url()), 150, 40, "k", &args);
    t.wait_for("the TUI", |s| s.contains("mode ask")).await;
    t.type_text("hello there");
    t.send(&["Enter"]);
    let screen = t
        .wait_for("agent mode off", |s| {
            s.contains("agent mode is off for this session")
        })
        .await;
    assert!(screen.contains("fake refused the tools"), "{screen}");
    assert!(!screen.contains("mode ask"), "{screen}");
    t.send(&["Enter"]);
    t.wait_for("the plain answer", |s| {
        s.contains("Plain answer.") && s.contains("idle")
    })
    .await;
    let reqs = s.requests();
    assert_eq!(reqs.len(), 2);
    assert!(reqs[0].json()["tools"].is_array());
    assert!(reqs[1].json().get("tools").is_none(), "{}", reqs[1].json());
    t.quit().await;
}
