//! The TUI as a person uses it: the real binary in tmux (send-keys, capture-pane) against the
//! fake server. Needs tmux; without it these tests say so and pass, unless
//! GROKPAIR_REQUIRE_TMUX=1 (as in CI).

mod common;

use grokpair::testing::{demo_sse, synth_sse, FakeServer, Part, Reply, SynthUsage};
use std::process::Command;
use std::time::{Duration, Instant};

struct Tmux {
    socket: String,
    session: String,
    _dir: tempfile::TempDir,
}

impl Tmux {
    fn available() -> bool {
        let ok = Command::new("tmux")
            .arg("-V")
            .output()
            .is_ok_and(|o| o.status.success());
        if !ok {
            assert!(
                std::env::var("GROKPAIR_REQUIRE_TMUX").as_deref() != Ok("1"),
                "tmux is required (GROKPAIR_REQUIRE_TMUX=1) but not installed"
            );
            eprintln!("skipping: tmux not installed");
        }
        ok
    }

    /// Starts grokpair against `base_url` in a w×h tmux pane. After grokpair exits, the pane
    /// prints its exit code and the terminal's line discipline, then waits.
    fn start(name: &str, base_url: &str, w: u16, h: u16, key: &str) -> Tmux {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("c.toml");
        std::fs::write(
            &cfg,
            format!(
                "provider = \"fake\"\n[sessions]\ndir = \"{}\"\n[network]\nidle_timeout_secs = 30\n[providers.fake]\nbase_url = \"{base_url}\"\napi_key_env = \"FAKE_KEY\"\nmodel = \"grok-code-fast-1\"\ndialect = \"xai\"\n",
                dir.path().join("sessions").display()
            ),
        )
        .unwrap();
        let socket = format!("gp-test-{}-{name}", std::process::id());
        let session = "t".to_string();
        let bin = env!("CARGO_BIN_EXE_grokpair");
        let cmd = format!(
            "env -u NO_COLOR FAKE_KEY={key} {bin} --config {}; echo EXIT=$?; stty -a | grep -o -- '-\\?icanon'; echo STTY-DONE; sleep 120",
            cfg.display()
        );
        let st = Command::new("tmux")
            .args([
                "-L",
                &socket,
                "-f",
                "/dev/null",
                "new-session",
                "-d",
                "-s",
                &session,
            ])
            .args(["-x", &w.to_string(), "-y", &h.to_string(), &cmd])
            .status()
            .unwrap();
        assert!(st.success());
        Tmux {
            socket,
            session,
            _dir: dir,
        }
    }

    fn tmux(&self, args: &[&str]) -> String {
        let o = Command::new("tmux")
            .args(["-L", &self.socket])
            .args(args)
            .output()
            .unwrap();
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    fn send(&self, keys: &[&str]) {
        let mut a = vec!["send-keys", "-t", &self.session];
        a.extend_from_slice(keys);
        self.tmux(&a);
    }

    fn type_text(&self, text: &str) {
        self.tmux(&["send-keys", "-t", &self.session, "-l", text]);
    }

    fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-t", &self.session])
    }

    fn screen_escapes(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-e", "-t", &self.session])
    }

    async fn wait_for(&self, what: &str, f: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let s = self.screen();
            if f(&s) {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; screen:\n{s}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .status();
    }
}

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
        "in 213 (192 cached)",
        "out 2 + 198 reasoning",
        "$0.000308",
        "cache saved $0.0000346 (10%)",
    ] {
        assert!(status.contains(want), "status bar lacks {want:?}: {status}");
    }
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
    t.send(&["Tab", "Tab", "Tab", "Left"]);
    t.wait_for("block 1 selected", |s| {
        s.contains("Code [1/2] rust · 8 lines")
    })
    .await;
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
    let screen = t
        .wait_for("the key notice", |s| s.contains("No API key"))
        .await;
    assert!(!screen.contains("DEMO"), "{screen}");
    assert!(
        screen.lines().last().unwrap().contains("no API key"),
        "{screen}"
    );
    t.send(&["C-c"]);
    t.send(&["C-c"]);
    let screen = t.wait_for("exit", |s| s.contains("STTY-DONE")).await;
    assert!(screen.contains("EXIT=0"), "{screen}");
}
