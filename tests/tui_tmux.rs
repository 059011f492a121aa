//! The TUI as a person uses it: the real binary in tmux (send-keys, capture-pane) against the
//! fake server. Needs tmux; without it these tests say so and pass, unless
//! GROKPAIR_REQUIRE_TMUX=1 (as in CI).

mod common;

use common::tmux::Tmux;

use grokpair::testing::{
    compare_router, demo_sse, synth_sse, FakeServer, Part, Reply, SynthUsage, COMPARE_ANSWER_B,
};
use std::process::Command;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fixture_turn_fills_panes_and_status_exactly() {
    if !Tmux::available() {
        return;
    }
    let s = FakeServer::start().await;
    let body = std::fs::read_to_string(
        common::fixtures_dir().join("xai-grok-code-fast-1-simple_streaming/response.sse"),
    )
    .unwrap();
    s.push(Reply::sse_split(&body, 64));
    let t = Tmux::start("fixture", &s.base_url(), 160, 48, "test-key");
    t.wait_for("the TUI", |s| s.contains("Conversation")).await;
    t.type_text("Say hi in Portuguese");
    t.send(&["Enter"]);
    let screen = t
        .wait_for("the finished turn", |s| s.contains("$0.000308"))
        .await;
    let lines: Vec<&str> = screen.lines().collect();
    // The answer is in the conversation (left), the reasoning in the reasoning pane (right).
    let answer = lines
        .iter()
        .find(|l| l.contains("Olá!"))
        .expect("answer shown");
    assert!(answer.find("Olá!").unwrap() < 90, "{answer}");
    let reasoning = lines
        .iter()
        .find(|l| l.contains("First, the user said"))
        .expect("reasoning shown");
    assert!(
        reasoning.find("First, the user said").unwrap() > 90,
        "{reasoning}"
    );
    let status = lines.last().unwrap();
    for want in [
        "fake · grok-code-fast-1",
        "idle",
        "out 2 + 198 reasoning",
        "$0.000308",
        // Issue 15 (17): the session's cost stays at 160 columns (the prompt's tokens are
        // under the answer).
        "session $0.000308",
        "cache saved $0.0000346 (10%)",
    ] {
        assert!(status.contains(want), "status bar lacks {want:?}: {status}");
    }
    assert!(screen.contains("prompt 213 (192 cached)"), "{screen}");
    let req = &s.requests()[0];
    assert_eq!(req.json()["messages"][0]["content"], "Say hi in Portuguese");
    assert!(req.header("x-grok-conv-id").is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn code_blocks_are_highlighted_in_the_code_pane() {
    if !Tmux::available() {
        return;
    }
    let s = FakeServer::start().await;
    let body = demo_sse();
    s.push(Reply::sse_paced(&body, Duration::from_millis(2)));
    let t = Tmux::start("code", &s.base_url(), 160, 48, "test-key");
    t.wait_for("the TUI", |s| s.contains("Conversation")).await;
    t.type_text("read a file");
    t.send(&["Enter"]);
    t.wait_for("both code blocks", |s| {
        s.contains("Code [2/2] python") && s.contains("idle")
    })
    .await;
    let esc = t.screen_escapes();
    let line = esc
        .lines()
        .find(|l| l.contains("read_lines") && l.contains("def"))
        .expect("python block in view");
    // syntect colours: 24-bit foreground escapes on the code line.
    assert!(
        line.matches("\x1b[38;2;").count() >= 2,
        "not highlighted: {line:?}"
    );
    // Select the first block and check the tabs follow.
    t.send(&["Tab", "Tab", "Tab", "["]);
    t.wait_for("block 1 selected", |s| {
        s.contains("Code [1/2] rust · 8 lines")
    })
    .await;
    // Issue 15 (2): inside a stock tmux (no passthrough) the copy goes through tmux itself,
    // and the status says so.
    t.send(&["y"]);
    t.wait_for("the copy's route", |s| {
        s.contains("copied 8 lines (tmux buffer")
    })
    .await;
    let buffer = t.tmux(&["show-buffer"]);
    assert!(buffer.contains("fn read_lines"), "{buffer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_mid_stream_restores_the_terminal() {
    if !Tmux::available() {
        return;
    }
    let s = FakeServer::start().await;
    let body = synth_sse(
        "grok-code-fast-1",
        "thinking hard",
        "Partial answer that never ends",
        SynthUsage {
            prompt: 10,
            cached: 0,
            completion: 5,
            reasoning: 2,
            ticks: None,
        },
    );
    let cut = body.find("never").unwrap();
    let cut = cut + body[cut..].find("\n\n").unwrap() + 2;
    s.push(Reply::sse(&body[..cut]).part(Part::Stall));
    let t = Tmux::start("sigterm", &s.base_url(), 100, 30, "test-key");
    t.wait_for("the TUI", |s| s.contains("Conversation")).await;
    assert_eq!(
        t.tmux(&["display", "-p", "-t", "t", "#{alternate_on}"])
            .trim(),
        "1"
    );
    t.type_text("go");
    t.send(&["Enter"]);
    t.wait_for("the partial answer", |s| {
        s.contains("never") && s.contains("answering")
    })
    .await;
    let shell = t.tmux(&["display", "-p", "-t", "t", "#{pane_pid}"]);
    let pid = Command::new("pgrep")
        .args(["-P", shell.trim(), "-f", "grokpair"])
        .output()
        .unwrap();
    let pid = String::from_utf8_lossy(&pid.stdout)
        .trim()
        .lines()
        .next()
        .unwrap_or("")
        .to_string();
    assert!(!pid.is_empty(), "grokpair process found");
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let screen = t.wait_for("exit", |s| s.contains("STTY-DONE")).await;
    assert!(screen.contains("EXIT=143"), "{screen}");
    // Raw mode is off (canonical input is back), the alternate screen and mouse mode are left.
    assert!(screen.lines().any(|l| l.trim() == "icanon"), "{screen}");
    assert_eq!(
        t.tmux(&["display", "-p", "-t", "t", "#{alternate_on}"])
            .trim(),
        "0"
    );
    assert_eq!(
        t.tmux(&["display", "-p", "-t", "t", "#{mouse_any_flag}"])
            .trim(),
        "0"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_key_plays_the_demo_then_explains_at_80x24() {
    if !Tmux::available() {
        return;
    }
    // An empty variable counts as no key: the bundled demo plays, labelled as a replay.
    let t = Tmux::start("nokey", "http://127.0.0.1:9/v1", 80, 24, "");
    let screen = t
        .wait_for("the demo banner", |s| {
            s.contains("DEMO · a recorded session")
        })
        .await;
    assert!(screen.contains("export FAKE_KEY=…"), "{screen}");
    // At 80 columns the way to chat for real wraps at its words, whole; the keys that do not
    // fit are left out, none cut.
    assert!(
        screen.contains("│ server needs no key: grokpair -p local)."),
        "{screen}"
    );
    assert!(
        screen.contains("│ Space pauses · q leaves the demo ·"),
        "{screen}"
    );
    // The panes fill as the recording plays: reasoning, the answer, a highlighted code block.
    let screen = t
        .wait_for("the demo's first answer", |s| {
            s.contains("Code [1/1] rust") && s.contains("deny_unknown_fields")
        })
        .await;
    assert!(screen.contains("Reasoning · turn 1/1"), "{screen}");
    assert!(screen.contains("serde"), "{screen}");
    // q leaves the demo for an empty conversation that says how to set a key.
    t.send(&["q"]);
    // (Waited for whole: a capture may fall between two writes of one frame.)
    let screen = t
        .wait_for("the key notice", |s| {
            s.contains("No API key") && !s.contains("DEMO")
        })
        .await;
    assert!(
        screen.lines().last().unwrap().contains("no API key"),
        "{screen}"
    );
    t.send(&["C-c"]);
    t.send(&["C-c"]);
    let screen = t.wait_for("exit", |s| s.contains("STTY-DONE")).await;
    assert!(screen.contains("EXIT=0"), "{screen}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compare_three_models_diff_adopt_and_continue() {
    if !Tmux::available() {
        return;
    }
    let s = FakeServer::start().await;
    s.route(compare_router(Duration::from_millis(5)));
    let t = Tmux::start("compare", &s.base_url(), 150, 42, "test-key");
    t.wait_for("the TUI", |s| s.contains("Conversation")).await;
    t.type_text("/compare grok-code-fast-1 grok-3-mini broken-model");
    t.send(&["Enter"]);
    t.wait_for("the armed message box", |s| {
        s.contains("Compare: Enter sends to A grok-code-fast-1 · B grok-3-mini · C broken-model")
    })
    .await;
    t.type_text("Read a config file");
    t.send(&["Enter"]);
    let done = t
        // (All ended: the winners line is up — " all $…" — whichever categories tie.)
        .wait_for("all three columns", |s| {
            s.contains("C broken-model failed")
                && s.matches(" done").count() >= 2
                && s.contains(" all $")
        })
        .await;
    for want in [
        "A grok-code-fast-1 done",
        "B grok-3-mini done",
        "C broken-model failed",
        "connection lost",
        // (Which of A and B is faster is up to the machine; cost and reasoning are not.)
        "cheapest B $0.000411",
        "most reasoning A 61 tok",
    ] {
        assert!(done.contains(want), "lacks {want:?}:\n{done}");
    }
    // Three columns side by side: the failure is in the rightmost one only.
    let failed_line = done
        .lines()
        .find(|l| l.contains("connection lost"))
        .unwrap();
    assert!(
        failed_line.find("connection lost").unwrap() > 100,
        "{failed_line}"
    );
    t.send(&["d"]);
    let diff = t
        .wait_for("the code diff", |s| {
            s.contains("Code diff A grok-code-fast-1 → B grok-3-mini")
        })
        .await;
    assert!(
        diff.contains("+    Ok(text.lines().map(str::to_string).collect())"),
        "{diff}"
    );
    t.send(&["Escape"]);
    t.send(&["l"]);
    t.send(&["a"]);
    // (The status bar's "adopted B …" shows for 6 s; the transcript's turn stays.)
    t.wait_for("the adopted answer", |s| {
        (s.contains("adopted B grok-3-mini") || s.contains("▌ grok-3-mini"))
            && s.contains("Conversation")
    })
    .await;
    t.type_text("Now without the std::fs import");
    t.send(&["Enter"]);
    t.wait_for("the follow-up", |s| s.matches("▌ grok-3-mini").count() >= 2)
        .await;
    let reqs: Vec<_> = s
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/chat/completions"))
        .collect();
    assert_eq!(reqs.len(), 4);
    let follow = reqs[3].json();
    assert_eq!(follow["model"], "grok-3-mini");
    let msgs = follow["messages"].as_array().unwrap();
    assert_eq!(msgs.len(), 3, "{follow}");
    assert_eq!(msgs[0]["content"], "Read a config file");
    assert_eq!(msgs[1]["content"], COMPARE_ANSWER_B);
    assert_eq!(msgs[2]["content"], "Now without the std::fs import");
    // The same conversation id throughout, so the provider's cache keeps hitting.
    let id = reqs[0].header("x-grok-conv-id").unwrap();
    assert!(reqs.iter().all(|r| r.header("x-grok-conv-id") == Some(id)));
    t.quit().await;
    // Saved: the three columns as one comparison, then the follow-up.
    let saved = t.saved_session();
    assert_eq!(saved.turns.len(), 4);
    assert!(saved.turns[..3].iter().all(|t| t.compare.is_some()));
    assert_eq!(saved.turns[3].model, "grok-3-mini");
    assert_eq!(saved.messages[1].content, COMPARE_ANSWER_B);
    assert_eq!(
        saved.adopted_turns,
        vec![saved.turns[1].turn],
        "B's adoption is on record"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn esc_cancels_a_stalled_column_and_keeps_the_rest() {
    if !Tmux::available() {
        return;
    }
    let s = FakeServer::start().await;
    s.route(compare_router(Duration::from_millis(5)));
    let t = Tmux::start("compare-esc", &s.base_url(), 120, 40, "test-key");
    t.wait_for("the TUI", |s| s.contains("Conversation")).await;
    t.type_text("/compare grok-code-fast-1 stall-model");
    t.send(&["Enter"]);
    t.type_text("Read a config file");
    t.send(&["Enter"]);
    t.wait_for("A done while B hangs", |s| {
        s.contains("A grok-code-fast-1 done") && s.contains("B stall-model answering")
    })
    .await;
    t.send(&["Escape"]);
    let s2 = t
        .wait_for("the cancelled column", |s| {
            s.contains("B stall-model cancelled")
        })
        .await;
    assert!(s2.contains("partial answer kept"), "{s2}");
    assert!(s2.contains("This answer"), "{s2}");
    assert!(s2.contains("A grok-code-fast-1 done"), "{s2}");
    t.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_changes_sampling_for_the_next_requests() {
    if !Tmux::available() {
        return;
    }
    let s = FakeServer::start().await;
    for _ in 0..2 {
        s.push(Reply::sse(demo_sse()));
    }
    let config = format!(
        "provider = \"fake\"\ntemperature = 0.7\nmax_tokens = 512\n[providers.fake]\nbase_url = \"{}\"\napi_key_env = \"FAKE_KEY\"\nmodel = \"grok-code-fast-1\"\ndialect = \"xai\"\n{}",
        s.base_url(),
        grokpair::testing::RECORDING_PRICES_TOML
    );
    let t = Tmux::start_with("set", &config, 160, 40, "test-key");
    t.wait_for("the TUI", |s| s.contains("Conversation")).await;
    t.type_text("/set");
    t.send(&["Enter"]);
    t.wait_for("the settings from the config", |s| {
        s.contains("sampling: temperature 0.7 · max_tokens 512.")
    })
    .await;
    t.type_text("/set top_p 2");
    t.send(&["Enter"]);
    t.wait_for("the refusal", |s| {
        s.contains("/set: top_p must be above 0, at most 1, got 2")
    })
    .await;
    t.type_text("/set temperature 0.2");
    t.send(&["Enter"]);
    t.wait_for("the change", |s| {
        s.contains("temperature: 0.2 (from the next message)")
    })
    .await;
    t.type_text("/set seed 7");
    t.send(&["Enter"]);
    t.wait_for("the seed", |s| {
        s.contains("seed: 7 (from the next message)")
    })
    .await;
    t.type_text("read a file");
    t.send(&["Enter"]);
    t.wait_for("the first answer", |s| {
        s.contains("Code [2/2]") && s.contains("idle")
    })
    .await;
    t.type_text("/set max_tokens off");
    t.send(&["Enter"]);
    t.wait_for("max_tokens cleared", |s| {
        s.contains("max_tokens: the provider's default (from the next message)")
    })
    .await;
    t.type_text("again");
    t.send(&["Enter"]);
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while s.requests().len() < 2 {
        assert!(std::time::Instant::now() < deadline, "{}", t.screen());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let reqs = s.requests();
    assert_eq!(reqs.len(), 2);
    let (a, b) = (reqs[0].json(), reqs[1].json());
    assert_eq!(a["temperature"], 0.2);
    assert_eq!(a["seed"], 7);
    assert_eq!(a["max_completion_tokens"], 512, "the config's value stays");
    assert!(a.get("top_p").is_none(), "a refused value is not sent");
    assert_eq!(b["temperature"], 0.2);
    assert!(b.get("max_completion_tokens").is_none(), "{b}");
    assert_eq!(
        reqs[0].header("x-grok-conv-id"),
        reqs[1].header("x-grok-conv-id"),
        "sampling changes keep the conversation (and its cache)"
    );
    t.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compare_the_current_model_at_two_temperatures_and_adopt_one() {
    if !Tmux::available() {
        return;
    }
    let s = FakeServer::start().await;
    s.route(compare_router(Duration::from_millis(2)));
    let config = format!(
        "provider = \"fake\"\nmax_tokens = 300\n[providers.fake]\nbase_url = \"{}\"\napi_key_env = \"FAKE_KEY\"\nmodel = \"grok-code-fast-1\"\ndialect = \"xai\"\n{}",
        s.base_url(),
        grokpair::testing::RECORDING_PRICES_TOML
    );
    let t = Tmux::start_with("compare-settings", &config, 160, 42, "test-key");
    t.wait_for("the TUI", |s| s.contains("Conversation")).await;
    t.type_text("/compare @temperature=0 @temperature=1.2,seed=3");
    t.send(&["Enter"]);
    t.wait_for("the armed message box", |s| {
        s.contains(
            "Enter sends to A grok-code-fast-1 @temperature=0 · B grok-code-fast-1 @temperature=1.2,seed=3",
        )
    })
    .await;
    t.type_text("Read a config file");
    t.send(&["Enter"]);
    let done = t
        .wait_for("both columns", |s| {
            s.matches(" done").count() >= 2 && s.contains(" all $")
        })
        .await;
    assert!(
        done.contains("A grok-code-fast-1 @temperature=0 done"),
        "{done}"
    );
    assert!(
        done.contains("B grok-code-fast-1 @temperature=1.2,seed=3 done"),
        "{done}"
    );
    t.send(&["l"]);
    t.send(&["a"]);
    t.wait_for("the adopted answer", |s| {
        s.contains("with temperature=1.2,seed=3 (/set changes it)")
    })
    .await;
    t.type_text("Shorter");
    t.send(&["Enter"]);
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let chats = || {
        s.requests()
            .into_iter()
            .filter(|r| r.path.ends_with("/chat/completions"))
            .map(|r| r.json())
            .collect::<Vec<_>>()
    };
    while chats().len() < 3 {
        assert!(std::time::Instant::now() < deadline, "{}", t.screen());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let reqs = chats();
    let mut temps: Vec<f64> = reqs[..2]
        .iter()
        .map(|r| r["temperature"].as_f64().unwrap())
        .collect();
    temps.sort_by(f64::total_cmp);
    assert_eq!(temps, [0.0, 1.2]);
    assert!(reqs
        .iter()
        .all(|r| r["max_completion_tokens"] == 300 && r["model"] == "grok-code-fast-1"));
    // The follow-up asks the way the adopted answer was asked.
    assert_eq!(reqs[2]["temperature"], 1.2);
    assert_eq!(reqs[2]["seed"], 3);
    // (After the agent's system prompt: this config leaves agent mode on.)
    let msgs = reqs[2]["messages"].as_array().unwrap();
    assert_eq!(msgs[0]["role"], "system");
    assert_eq!(msgs.last().unwrap()["content"], "Shorter");
    // The adopted answer is turn 1 of the conversation; the follow-up, turn 2.
    t.wait_for("the follow-up's answer", |s| {
        s.contains("Reasoning · turn 2/2 · 61 tok")
    })
    .await;
    t.quit().await;
    let saved = t.saved_session();
    let tags: Vec<String> = saved.turns[..2]
        .iter()
        .map(|t| t.compare.clone().unwrap().settings)
        .collect();
    assert_eq!(tags, ["temperature=0", "temperature=1.2,seed=3"]);
}

/// A Responses provider in the real TUI: a recorded xAI web search streams in, its server-side
/// tool and numbered sources show under the answer, the cost is billed once (output includes
/// reasoning), and `/model` lists what the server serves with prices.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn responses_web_search_sources_and_model_list() {
    if !Tmux::available() {
        return;
    }
    let chunks = std::fs::read_to_string(
        common::fixtures_dir()
            .parent()
            .unwrap()
            .join("xai-responses/xai-web-search-tool.1.chunks.txt"),
    )
    .unwrap();
    let wire = grokpair::testing::responses_wire(chunks.lines());
    let s = FakeServer::start().await;
    s.route(move |r| {
        Some(if r.path.ends_with("/models") {
            Reply::json(
                200,
                r#"{"object":"list","data":[{"id":"grok-4-fast-reasoning"},{"id":"grok-9-preview"}]}"#,
            )
        } else {
            Reply::sse_split(&wire, 512)
        })
    });
    let config = format!(
        "provider = \"fake\"\n[network]\nidle_timeout_secs = 30\n[providers.fake]\nbase_url = \"{}\"\napi_key_env = \"FAKE_KEY\"\nmodel = \"grok-4-fast\"\ndialect = \"xai\"\napi = \"responses\"\n{}",
        s.base_url(),
        grokpair::testing::RECORDING_PRICES_TOML
    );
    let t = Tmux::start_with("responses", &config, 160, 48, "test-key");
    t.wait_for("the TUI", |s| s.contains("Conversation")).await;
    t.type_text("What is xAI?");
    t.send(&["Enter"]);
    let screen = t
        .wait_for("the sources", |s| s.contains("[5] https://x.ai/"))
        .await;
    for want in [
        "⚙ web_search \"what is xAI\" · completed",
        "[1] https://en.wikipedia.org/wiki/XAI_%28company%29",
        "[2] https://x.ai/company",
    ] {
        assert!(screen.contains(want), "lacks {want:?}:\n{screen}");
    }
    let status = screen.lines().last().unwrap();
    // 297 × $0.20 + 1578 × $0.05 + 695 × $0.50 per 1M: the 397 reasoning tokens once.
    for want in ["397 reasoning", "$0.000486"] {
        assert!(status.contains(want), "status lacks {want:?}: {status}");
    }
    let req = &s.requests()[0];
    assert_eq!(req.path, "/v1/responses");
    let body = req.json();
    assert_eq!(body["store"], false);
    assert_eq!(
        body["prompt_cache_key"].as_str(),
        req.header("x-grok-conv-id")
    );
    assert_eq!(body["input"][0]["content"], "What is xAI?");
    t.type_text("/model");
    t.send(&["Enter"]);
    let screen = t
        .wait_for("the model list", |s| s.contains("fake serves:"))
        .await;
    for want in [
        "grok-4-fast-reasoning  $0.20 / $0.05 / $0.50",
        "grok-9-preview  (price unknown)",
    ] {
        assert!(screen.contains(want), "lacks {want:?}:\n{screen}");
    }
}

/// A hostile server's escape sequences — OSC 52 (clipboard), OSC 0/2 (title), leaving the
/// alternate screen, turning the mouse off — in the answer, the reasoning, a code block, the
/// served model's name and an HTTP error message: none reaches the terminal as a sequence;
/// each shows as visible text.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn escape_sequences_from_the_server_never_reach_the_terminal() {
    if !Tmux::available() {
        return;
    }
    let s = FakeServer::start().await;
    let answer = "Sure.\x1b]52;c;aGFja2Vk\x07 Then \x1b[?1049l\x1b[?1000l more\n\n```sh\necho \x1b]0;pwned\x07\n```\n";
    let usage = SynthUsage {
        prompt: 10,
        cached: 0,
        completion: 20,
        reasoning: 5,
        ticks: None,
    };
    s.push(Reply::sse(synth_sse(
        "grok\x1b]2;evil\x07",
        "Thinking \x1b]0;pwned-title\x07 hard\n",
        answer,
        usage,
    )));
    s.push(Reply::json(
        400,
        r#"{"error":{"message":"bad \u001b]52;c;aGFja2Vk\u0007 request"}}"#,
    ));
    let t = Tmux::start("hostile", &s.base_url(), 150, 40, "test-key");
    t.tmux(&["set", "-g", "set-clipboard", "on"]);
    t.wait_for("the TUI", |s| s.contains("Conversation")).await;
    let title = t.tmux(&["display", "-p", "#{pane_title}"]);
    t.type_text("hi");
    t.send(&["Enter"]);
    let screen = t.wait_for("the answer", |s| s.contains("more")).await;
    assert!(screen.contains("Sure.␛]52;c;aGFja2Vk␇ Then"), "{screen}");
    assert!(
        screen.contains("Thinking ␛]0;pwned-title␇ hard"),
        "{screen}"
    );
    assert!(screen.contains("grok␛]2;evil␇"), "{screen}");
    t.type_text("again");
    t.send(&["Enter"]);
    let screen = t.wait_for("the error", |s| s.contains("bad ␛]52")).await;
    assert!(screen.contains("request"), "{screen}");
    assert_eq!(t.tmux(&["list-buffers"]), "", "no clipboard write");
    assert_eq!(t.tmux(&["display", "-p", "#{alternate_on}"]).trim(), "1");
    assert_eq!(t.tmux(&["display", "-p", "#{pane_title}"]), title);
    t.quit().await;
}

/// The same for `ask` on a terminal: the answer, the reasoning (`-r`) and the summary's model
/// name are shown safely.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ask_on_a_terminal_shows_escapes_as_text() {
    if !Tmux::available() {
        return;
    }
    let s = FakeServer::start().await;
    let mut r = Reply::sse(synth_sse(
        "grok\x1b]2;evil\x07",
        "Thinking \x1b]0;pwned\x07\n",
        "Answer \x1b]52;c;aGFja2Vk\x07 and \x1b[2J done\n",
        SynthUsage {
            prompt: 10,
            cached: 0,
            completion: 5,
            reasoning: 3,
            ticks: None,
        },
    ));
    // Time to set the clipboard option before anything is printed.
    r.delay_headers = Some(Duration::from_millis(700));
    s.push(r);
    let config = format!(
        "provider = \"fake\"\n[providers.fake]\nbase_url = \"{}\"\napi_key_env = \"FAKE_KEY\"\nmodel = \"grok-code-fast-1\"\n",
        s.base_url()
    );
    let t = Tmux::start_args("ask-tty", &config, 120, 30, "test-key", "ask -r hi");
    t.tmux(&["set", "-g", "set-clipboard", "on"]);
    let title = t.tmux(&["display", "-p", "#{pane_title}"]);
    let screen = t.wait_for("the end", |s| s.contains("EXIT=")).await;
    assert!(screen.contains("EXIT=0"), "{screen}");
    assert!(
        screen.contains("Answer ␛]52;c;aGFja2Vk␇ and ␛[2J done"),
        "{screen}"
    );
    assert!(screen.contains("Thinking ␛]0;pwned␇"), "{screen}");
    assert!(screen.contains("grok␛]2;evil␇"), "{screen}");
    assert_eq!(t.tmux(&["list-buffers"]), "");
    assert_eq!(t.tmux(&["display", "-p", "#{pane_title}"]), title);
}

/// `/file` of a device or a FIFO is refused at once and the TUI stays responsive; a regular
/// file is attached.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_attach_refuses_devices_and_fifos() {
    if !Tmux::available() {
        return;
    }
    let s = FakeServer::start().await;
    let t = Tmux::start("attach", &s.base_url(), 140, 36, "test-key");
    t.wait_for("the TUI", |s| s.contains("Conversation")).await;
    t.type_text("/file /dev/zero");
    t.send(&["Enter"]);
    t.wait_for("the refusal", |s| {
        s.contains("/file /dev/zero: not a regular file")
    })
    .await;
    let fifo = t.dir.path().join("pipe");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    t.type_text(&format!("/file {}", fifo.display()));
    t.send(&["Enter"]);
    t.wait_for("the FIFO refusal", |s| {
        s.matches("not a regular file").count() == 2
    })
    .await;
    let ok = t.dir.path().join("notes.txt");
    std::fs::write(&ok, "one\ntwo\n").unwrap();
    t.type_text(&format!("/file {}", ok.display()));
    t.send(&["Enter"]);
    t.wait_for("the attachment", |s| {
        s.contains("(2 lines) to the next message")
    })
    .await;
    t.quit().await;
}

/// SIGTSTP (a job-control stop) gives the terminal back before stopping — cooked mode, the
/// normal screen — and SIGCONT takes it again and redraws.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_and_continue_give_the_terminal_back_and_redraw() {
    if !Tmux::available() {
        return;
    }
    let s = FakeServer::start().await;
    let t = Tmux::start("tstp", &s.base_url(), 120, 30, "test-key");
    t.wait_for("the TUI", |s| s.contains("Conversation")).await;
    let shell = t.tmux(&["display", "-p", "#{pane_pid}"]).trim().to_string();
    // The pane's shell runs `env …`, which becomes grokpair: the shell's one child.
    let children = std::fs::read_to_string(format!("/proc/{shell}/task/{shell}/children")).unwrap();
    let pid: i32 = children.split_whitespace().next().unwrap().parse().unwrap();
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap();
    assert_eq!(comm.trim(), "grokpair");
    let signal = |sig| assert_eq!(unsafe { libc::kill(pid, sig) }, 0);
    let alternate = || {
        t.tmux(&["display", "-p", "#{alternate_on}"])
            .trim()
            .to_string()
    };
    assert_eq!(alternate(), "1");
    signal(libc::SIGTSTP);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while alternate() != "0" {
        assert!(
            std::time::Instant::now() < deadline,
            "the normal screen is back"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    assert!(state.contains(") T "), "stopped: {state}");
    signal(libc::SIGCONT);
    while alternate() != "1" {
        assert!(
            std::time::Instant::now() < deadline,
            "the TUI takes the screen again"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    t.wait_for("the redrawn TUI", |s| s.contains("Conversation"))
        .await;
    t.type_text("/help");
    t.send(&["Enter"]);
    t.wait_for("keys answered after fg", |s| s.contains("Ctrl+C"))
        .await;
    t.quit().await;
}

/// `sessions` and `export --format md` on a terminal show a saved session's escape
/// sequences (a hostile model name and answer) as text: none is obeyed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listings_and_exports_on_a_terminal_show_escapes_as_text() {
    if !Tmux::available() {
        return;
    }
    let s = FakeServer::start().await;
    s.push(Reply::sse(synth_sse(
        "grok\x1b]2;evil\x07",
        "",
        "Answer \x1b]52;c;aGFja2Vk\x07 done\n",
        SynthUsage {
            prompt: 10,
            cached: 0,
            completion: 3,
            reasoning: 0,
            ticks: None,
        },
    )));
    let config = format!(
        "provider = \"fake\"\n[providers.fake]\nbase_url = \"{}\"\napi_key_env = \"FAKE_KEY\"\nmodel = \"grok-code-fast-1\"\n",
        s.base_url()
    );
    // Saved through a pipe (bytes as they came), then listed and exported on a terminal.
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("c.toml");
    std::fs::write(
        &cfg,
        format!(
            "{config}[sessions]\ndir = \"{}\"\n",
            dir.path().join("s").display()
        ),
    )
    .unwrap();
    let bin = env!("CARGO_BIN_EXE_grokpair");
    let out = Command::new(bin)
        .args([
            "--config",
            cfg.to_str().unwrap(),
            "ask",
            "--session",
            "evil",
            "hi",
        ])
        .env("FAKE_KEY", "test-key")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("\x1b]52"),
        "a pipe gets the bytes as they are"
    );
    let t = Tmux::start_shell(
        "listing",
        150,
        30,
        &format!(
            "sleep 0.7; {bin} --config {c} sessions; {bin} --config {c} export evil; echo EXIT=$?; sleep 60",
            c = cfg.display()
        ),
    );
    t.tmux(&["set", "-g", "set-clipboard", "on"]);
    let screen = t.wait_for("both commands", |s| s.contains("EXIT=")).await;
    assert!(screen.contains("grok␛]2;evil␇"), "{screen}");
    assert!(screen.contains("Answer ␛]52;c;aGFja2Vk␇ done"), "{screen}");
    assert_eq!(t.tmux(&["list-buffers"]), "");
}

/// A server flooding one-character deltas as fast as it can: the TUI keeps reading its keys
/// (Esc cancels, keeping what arrived; Ctrl+C twice quits) instead of freezing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_deltas_leaves_the_keys_working() {
    if !Tmux::available() {
        return;
    }
    let s = FakeServer::start().await;
    let delta = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\"}}]}\n\n";
    let mb = delta.repeat((1 << 20) / delta.len()).into_bytes();
    let mut r = Reply::new(200, "text/event-stream");
    for _ in 0..150 {
        r = r.part(Part::Bytes(mb.clone()));
    }
    s.push(r.clone());
    s.push(r);
    let t = Tmux::start("flood", &s.base_url(), 120, 30, "test-key");
    t.wait_for("the TUI", |s| s.contains("Conversation")).await;
    t.type_text("go");
    t.send(&["Enter"]);
    t.wait_for("the flood", |s| s.contains("xxxxxxxxxx")).await;
    t.send(&["Escape"]);
    t.wait_for("the cancel", |s| s.contains("cancelled")).await;
    // A second flood, ended by SIGTERM: answered, the terminal restored, exit 143.
    t.type_text("again");
    t.send(&["Enter"]);
    t.wait_for("the second flood", |s| {
        s.lines().last().is_some_and(|l| l.contains("answering"))
    })
    .await;
    let shell = t.tmux(&["display", "-p", "#{pane_pid}"]).trim().to_string();
    let children = std::fs::read_to_string(format!("/proc/{shell}/task/{shell}/children")).unwrap();
    let pid: i32 = children.split_whitespace().next().unwrap().parse().unwrap();
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    t.wait_for("the exit", |s| s.contains("EXIT=143")).await;
    assert_eq!(t.tmux(&["display", "-p", "#{alternate_on}"]).trim(), "0");
}

/// While the TUI writes a session, `ask --continue` (which picks the newest session: that
/// one) is refused instead of forking its history; once the TUI quits it goes through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tuis_session_has_one_writer() {
    if !Tmux::available() {
        return;
    }
    let s = FakeServer::start().await;
    s.push(Reply::sse(demo_sse()));
    s.push(Reply::sse(demo_sse()));
    let t = Tmux::start("lock", &s.base_url(), 140, 36, "test-key");
    t.wait_for("the TUI", |s| s.contains("Conversation")).await;
    t.type_text("first");
    t.send(&["Enter"]);
    t.wait_for("the answer", |s| s.contains("$0.000492")).await;
    let ask = || {
        Command::new(env!("CARGO_BIN_EXE_grokpair"))
            .arg("--config")
            .arg(t.dir.path().join("c.toml"))
            .args(["ask", "--continue", "second"])
            .env("FAKE_KEY", "test-key")
            .output()
            .unwrap()
    };
    let o = ask();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("is in use by another grokpair"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    t.quit().await;
    let o = ask();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(t.saved_session().turns.len(), 2);
}

/// A local server with no model set is asked which model it serves in the background: the
/// screen is there at once, a message waits for the answer, then goes with that model.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_screen_comes_before_the_servers_model_list() {
    if !Tmux::available() {
        return;
    }
    let s = FakeServer::start().await;
    s.route(|r| {
        Some(if r.path.ends_with("/models") {
            let mut list = Reply::json(200, r#"{"object":"list","data":[{"id":"srv-model"}]}"#);
            list.delay_headers = Some(Duration::from_secs(4));
            list
        } else {
            Reply::sse(demo_sse())
        })
    });
    let config = format!(
        "provider = \"fake\"\n[network]\nidle_timeout_secs = 30\n[providers.fake]\nbase_url = \"{}\"\nfree = true\n",
        s.base_url()
    );
    let t = Tmux::start_with("slow-models", &config, 140, 36, "test-key");
    t.wait_for("the screen, while the server thinks", |s| {
        s.contains("Conversation") && s.contains("asking fake which model it serves")
    })
    .await;
    t.type_text("hi");
    t.send(&["Enter"]);
    t.wait_for("the message waiting", |s| s.contains("has not said yet"))
        .await;
    t.wait_for("the model", |s| s.contains("fake · srv-model"))
        .await;
    t.send(&["Enter"]);
    t.wait_for("the answer", |s| s.contains("Key points")).await;
    let chat = s
        .requests()
        .into_iter()
        .find(|r| r.path.ends_with("/chat/completions"))
        .unwrap();
    assert_eq!(chat.json()["model"], "srv-model");
    t.quit().await;
}

/// Issue 15 (Missing): a message sent while a reply streams is queued (the message box says
/// so) and goes by itself once the reply has ended.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_sent_while_streaming_is_queued_then_sent() {
    if !Tmux::available() {
        return;
    }
    let s = FakeServer::start().await;
    let usage = SynthUsage::SMALL;
    // The first reply takes a while (its events 150 ms apart); the second is at once.
    s.push(Reply::sse_paced(
        synth_sse(
            "grok-code-fast-1",
            "",
            "one two three four five six seven eight nine ten eleven twelve",
            usage,
        ),
        Duration::from_millis(150),
    ));
    s.push(Reply::sse(synth_sse(
        "grok-code-fast-1",
        "",
        "Second answer.",
        usage,
    )));
    let t = Tmux::start("queue", &s.base_url(), 120, 30, "test-key");
    t.wait_for("the TUI", |s| s.contains("Conversation")).await;
    t.type_text("first question");
    t.send(&["Enter"]);
    t.wait_for("the reply streaming", |s| s.contains("answering"))
        .await;
    t.type_text("second question");
    t.send(&["Enter"]);
    let screen = t
        .wait_for("the queued message", |s| {
            s.contains("Queued: “second question”")
        })
        .await;
    assert!(!screen.contains("Second answer."), "{screen}");
    t.wait_for("the second answer", |s| s.contains("Second answer."))
        .await;
    let reqs = s.requests();
    assert_eq!(reqs.len(), 2);
    let msgs = reqs[1].json()["messages"].clone();
    let last = msgs.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["content"], "second question");
    // The first reply was whole when the second question went.
    assert!(
        msgs.as_array()
            .unwrap()
            .iter()
            .any(|m| m["content"].as_str().is_some_and(|c| c.ends_with("twelve"))),
        "{msgs}"
    );
}

/// Issue 15 (14): `/provider NAME` reads the config file again: a provider added to it while
/// the TUI runs is there; a file broken meanwhile is named, and the one read at start stays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_switch_reads_the_config_again() {
    if !Tmux::available() {
        return;
    }
    let s = FakeServer::start().await;
    s.push(Reply::sse(synth_sse(
        "grok-3-mini",
        "",
        "From the added provider.",
        SynthUsage::SMALL,
    )));
    let t = Tmux::start("reread", "http://127.0.0.1:9/v1", 120, 30, "test-key");
    t.wait_for("the TUI", |s| s.contains("Conversation")).await;
    let cfg = t.dir.path().join("c.toml");
    let before = std::fs::read_to_string(&cfg).unwrap();
    // Broken first: said with its line, nothing switched.
    std::fs::write(&cfg, format!("{before}\n[providers.added\n")).unwrap();
    t.type_text("/provider fake");
    t.send(&["Enter"]);
    t.wait_for("the config error", |s| {
        s.contains("the config file was not read again")
    })
    .await;
    std::fs::write(
        &cfg,
        format!(
            "{before}\n[providers.added]\nbase_url = \"{}\"\napi_key = \"k2\"\nmodel = \"grok-3-mini\"\n",
            s.base_url()
        ),
    )
    .unwrap();
    t.type_text("/provider added");
    t.send(&["Enter"]);
    t.wait_for("the switch", |s| s.contains("added · grok-3-mini"))
        .await;
    t.type_text("hello");
    t.send(&["Enter"]);
    t.wait_for("the answer", |s| s.contains("From the added provider."))
        .await;
    assert_eq!(s.requests()[0].header("authorization"), Some("Bearer k2"));
}

/// Issue 15 (6): from the conversation, a word that starts with a pane key arrives whole
/// (`just`, not `j` scrolling and `ust`); `j`, a pause, then `u`: the scroll stays a scroll
/// and `u` alone is typed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_word_typed_in_a_pane_arrives_whole() {
    if !Tmux::available() {
        return;
    }
    let s = FakeServer::start().await;
    s.push(Reply::sse(synth_sse(
        "grok-code-fast-1",
        "",
        "An answer.",
        SynthUsage::SMALL,
    )));
    let t = Tmux::start("typethrough", &s.base_url(), 100, 24, "test-key");
    t.wait_for("the TUI", |s| s.contains("Conversation")).await;
    t.type_text("q");
    t.send(&["Enter"]);
    t.wait_for("the answer", |s| s.contains("An answer.")).await;
    // Tab from the empty box: the conversation has the focus.
    t.send(&["Tab"]);
    t.wait_for("the focus", |s| s.contains("▸ Conversation"))
        .await;
    t.type_text("just");
    t.wait_for("the word in the box", |s| {
        s.contains("▸ Message") && s.contains("│ just")
    })
    .await;
    t.send(&["C-u", "Tab"]);
    t.wait_for("the focus", |s| s.contains("▸ Conversation"))
        .await;
    t.type_text("j");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    t.type_text("u");
    let screen = t
        .wait_for("the letter in the box", |s| s.contains("▸ Message"))
        .await;
    assert!(screen.contains("│ u "), "{screen}");
    assert!(!screen.contains("│ ju"), "{screen}");
    t.quit().await;
}
