//! Agent mode end to end: `grokpair exec` (the real binary) against scripted tool-call
//! trajectories from the fake server, on both endpoints, in a temporary workspace; and the
//! agent driver directly for what needs a hand on it (Esc mid-tool, rewinds).

mod common;

use grokpair::api::Api;
use grokpair::testing::{
    synth_responses_sse, synth_sse, synth_tool_calls, FakeServer, Reply, SynthUsage,
};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use tokio::process::Command;

const KEY: &str = "gp-agent-SECRET-key-1234";
const MODEL: &str = "grok-code-fast-1";

const USAGE: SynthUsage = SynthUsage {
    prompt: 1000,
    cached: 800,
    completion: 100,
    reasoning: 0,
    ticks: None,
};
/// One round at grok-code-fast-1's recording prices: 200 × 0.20 + 800 × 0.02 + 100 × 1.50
/// USD per million tokens, in ticks of 1e-10 USD.
const ROUND_TICKS: i64 = 2_060_000;

fn api_name(api: Api) -> &'static str {
    match api {
        Api::Chat => "chat",
        Api::Responses => "responses",
    }
}

fn write_config(dir: &Path, base_url: &str, api: Api, extra: &str) -> PathBuf {
    let path = dir.join("config.toml");
    std::fs::write(
        &path,
        format!(
            r#"provider = "fake"
[sessions]
dir = "{sessions}"
[network]
idle_timeout_secs = 5
max_retries = 0
[providers.fake]
base_url = "{base_url}"
api_key_env = "GP_AGENT_KEY"
model = "{MODEL}"
dialect = "xai"
api = "{api}"
completion_includes_reasoning = false
{extra}
{prices}"#,
            sessions = dir.join("sessions").display(),
            api = api_name(api),
            prices = grokpair::testing::RECORDING_PRICES_TOML
        ),
    )
    .unwrap();
    path
}

/// A temporary home for the config and sessions, and a workspace beside it.
struct Env {
    _home: tempfile::TempDir,
    home: PathBuf,
    ws: PathBuf,
    server: FakeServer,
    api: Api,
    config: PathBuf,
}

async fn env(api: Api, extra: &str) -> Env {
    let home = tempfile::tempdir().unwrap();
    let h = home.path().to_path_buf();
    let ws = h.join("ws");
    std::fs::create_dir_all(ws.join("src")).unwrap();
    let server = FakeServer::start().await;
    let config = write_config(&h, &server.base_url(), api, extra);
    Env {
        _home: home,
        home: h,
        ws,
        server,
        api,
        config,
    }
}

impl Env {
    fn calls(&self, calls: &[(&str, &str, &str)]) {
        self.server
            .push(Reply::sse(synth_tool_calls(self.api, MODEL, calls, USAGE)));
    }
    fn answer(&self, text: &str) {
        self.server.push(Reply::sse(match self.api {
            Api::Chat => synth_sse(MODEL, "", text, USAGE),
            Api::Responses => synth_responses_sse(MODEL, "", text, USAGE),
        }));
    }
    async fn exec(&self, args: &[&str]) -> (i32, Vec<Value>, String) {
        let out = Command::new(env!("CARGO_BIN_EXE_grokpair"))
            .arg("--config")
            .arg(&self.config)
            .arg("--cd")
            .arg(&self.ws)
            .arg("exec")
            .arg("--json")
            .args(args)
            .env("GP_AGENT_KEY", KEY)
            .env("NO_COLOR", "1")
            .env_remove("GROKPAIR_CONFIG")
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .output()
            .await
            .unwrap();
        let stdout = String::from_utf8(out.stdout).unwrap();
        let events = stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect();
        (
            out.status.code().unwrap_or(-1),
            events,
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
    /// The tool results each request sent, in order: (call id, output).
    fn results(&self, request: usize) -> Vec<(String, String)> {
        let body = self.server.requests()[request].json();
        match self.api {
            Api::Chat => body["messages"]
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
                .collect(),
            Api::Responses => body["input"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|m| m["type"] == "function_call_output")
                .map(|m| {
                    (
                        m["call_id"].as_str().unwrap().to_string(),
                        m["output"].as_str().unwrap().to_string(),
                    )
                })
                .collect(),
        }
    }
}

fn of_type<'a>(events: &'a [Value], t: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["type"] == t).collect()
}

fn summary(events: &[Value]) -> &Value {
    of_type(events, "summary")
        .last()
        .copied()
        .unwrap_or_else(|| panic!("no summary in {events:?}"))
}

fn history_key(api: Api) -> &'static str {
    match api {
        Api::Chat => "messages",
        Api::Responses => "input",
    }
}

/// grep → read → edit → run the check → answer, every call allowed by the mode and a rule.
async fn the_whole_trajectory(api: Api) {
    let e = env(api, "").await;
    std::fs::write(
        e.ws.join("src/calc.py"),
        "def add(a, b):\r\n    return a - b\r\n\r\ndef sub(a, b):\r\n    return a - b\r\n",
    )
    .unwrap();
    std::fs::write(e.ws.join("src/other.py"), "x = 1\n").unwrap();
    e.calls(&[("c1", "grep", r#"{"pattern":"def add"}"#)]);
    e.calls(&[("c2", "read_file", r#"{"path":"src/calc.py"}"#)]);
    e.calls(&[(
        "c3",
        "edit_file",
        r#"{"path":"src/calc.py","old_string":"def add(a, b):\n    return a - b","new_string":"def add(a, b):\n    return a + b"}"#,
    )]);
    e.calls(&[(
        "c4",
        "run_command",
        r#"{"argv":["grep","-c","return a + b","src/calc.py"]}"#,
    )]);
    e.answer("Fixed `add`: it subtracted.");
    let (code, ev, err) = e
        .exec(&[
            "--mode",
            "auto-edit",
            "--approve",
            "run_command: grep *",
            "fix add in calc.py",
        ])
        .await;
    assert_eq!(code, 0, "{err}\n{ev:?}");
    // The file on disk exactly: one line changed, its CRLF endings kept; the rest untouched.
    assert_eq!(
        std::fs::read_to_string(e.ws.join("src/calc.py")).unwrap(),
        "def add(a, b):\r\n    return a + b\r\n\r\ndef sub(a, b):\r\n    return a - b\r\n"
    );
    assert_eq!(
        std::fs::read_to_string(e.ws.join("src/other.py")).unwrap(),
        "x = 1\n"
    );
    let reqs = e.server.requests();
    assert_eq!(reqs.len(), 5);
    // Each round's results, in order.
    assert_eq!(e.results(1)[0].1, "src/calc.py:1:def add(a, b):\n");
    assert!(e.results(2)[1]
        .1
        .starts_with("1\tdef add(a, b):\n2\t    return a - b\n"));
    assert!(
        e.results(3)[2]
            .1
            .contains("-    return a - b\r\n+    return a + b\r\n"),
        "{}",
        e.results(3)[2].1
    );
    assert_eq!(e.results(4)[3].1, "1\n(exit code 0)");
    // Every round: the same tools (byte for byte), the same conversation id, and a body
    // whose history extends the last one's.
    let key = history_key(api);
    let tools = |i: usize| serde_json::to_string(&reqs[i].json()["tools"]).unwrap();
    assert!(reqs[0].json()["tools"].as_array().unwrap().len() == 7);
    let conv = reqs[0].header("x-grok-conv-id").unwrap().to_string();
    for i in 1..reqs.len() {
        assert_eq!(tools(i), tools(0));
        assert_eq!(reqs[i].header("x-grok-conv-id"), Some(conv.as_str()));
        let (a, b) = (reqs[i - 1].json(), reqs[i].json());
        let (a, b) = (a[key].as_array().unwrap(), b[key].as_array().unwrap());
        assert!(b.len() > a.len());
        assert_eq!(&b[..a.len()], &a[..], "round {i} rewrote the history");
        // Byte for byte: the history comes last, so the earlier body up to the end of its
        // history is where this one starts.
        let prev = reqs[i - 1].body.strip_suffix(b"]}").expect("history last");
        assert!(
            reqs[i].body.starts_with(prev),
            "round {i} is no byte extension"
        );
    }
    if api == Api::Responses {
        assert_eq!(reqs[1].json()["prompt_cache_key"], conv.as_str());
    }
    // The steps as NDJSON, and the cost summed exactly over the rounds.
    let decisions: Vec<&str> = of_type(&ev, "decision")
        .iter()
        .map(|d| d["by"].as_str().unwrap())
        .collect();
    assert_eq!(
        decisions,
        [
            "mode auto-edit",
            "mode auto-edit",
            "mode auto-edit",
            "rule `run_command: grep *`"
        ]
    );
    assert_eq!(of_type(&ev, "diff").len(), 1);
    assert_eq!(of_type(&ev, "round").len(), 5);
    let costs: Vec<f64> = of_type(&ev, "cost")
        .iter()
        .map(|c| c["cost_usd"].as_f64().unwrap())
        .collect();
    assert_eq!(costs, vec![ROUND_TICKS as f64 / 1e10; 5]);
    let s = summary(&ev);
    assert_eq!(
        s["cost_usd"].as_f64().unwrap(),
        (5 * ROUND_TICKS) as f64 / 1e10
    );
    assert_eq!(
        (s["rounds"].as_u64(), s["tool_calls"].as_u64()),
        (Some(5), Some(4))
    );
    assert_eq!(
        of_type(&ev, "answer").last().unwrap()["text"],
        "Fixed `add`: it subtracted."
    );
    // The session file has every run, who let it run, and the diff; it loads.
    let sessions = grokpair::session::store::list(&e.home.join("sessions"));
    assert_eq!(sessions.len(), 1);
    let s = grokpair::session::store::load(&sessions[0]).unwrap();
    assert_eq!(s.turns.len(), 5);
    assert!(s.turns.iter().all(|t| t.exchange == 0));
    assert_eq!(s.tools.len(), 4);
    assert_eq!(s.tools[3].by.as_deref(), Some("rule `run_command: grep *`"));
    assert!(s.tools[2]
        .diff
        .as_deref()
        .unwrap()
        .contains("+    return a + b"));
    assert_eq!(s.tools[2].summary, "+1 −1");
    assert!(!std::fs::read_to_string(&sessions[0]).unwrap().contains(KEY));
    // Checkpoints live beside the session file; a short output leaves no saved copy.
    assert!(sessions[0]
        .with_extension("agent")
        .join("checkpoints")
        .is_dir());
    assert!(!sessions[0].with_extension("agent").join("outputs").exists());
    // Loaded (resume, /sessions): one user turn, its rounds, a cell per call between them.
    let mut app = grokpair::app::App::new(grokpair::testing::app_init(false));
    app.load_session(&s);
    use grokpair::app::EntryKind as K;
    let kinds: Vec<K> = app.entries.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [
            K::User,
            K::Assistant(0),
            K::Tool(0),
            K::Assistant(1),
            K::Tool(1),
            K::Assistant(2),
            K::Tool(2),
            K::Assistant(3),
            K::Tool(3),
            K::Assistant(4)
        ]
    );
    assert_eq!(app.tools[2].summary, "+1 −1");
    assert_eq!(app.conv.messages(), &s.messages[..]);
    assert_eq!(s.turn_count(), 1);
    // A replay plays the rounds one after another, the tools between them.
    let r = grokpair::app::Replay::new(&s, None);
    assert_eq!(r.turn_starts.len(), 1);
    // Exported: each call with how it went and who let it run, the edit's diff.
    let catalog = grokpair::testing::recording_catalog();
    let md = grokpair::export::markdown(&s, &catalog);
    assert!(
        md.contains("- ⚙ `edit src/calc.py` +1 −1 ✓ · mode auto-edit"),
        "{md}"
    );
    assert!(md.contains("```diff\n--- a/src/calc.py"), "{md}");
    assert_eq!(md.matches("· You").count(), 1);
    let json: Value = serde_json::from_str(&grokpair::export::json(&s, &catalog)).unwrap();
    assert_eq!(json["tools"].as_array().unwrap().len(), 4);
    let html = grokpair::export::html(&s, &catalog);
    assert!(
        html.contains("<span class=\"add\">+    return a + b"),
        "{html}"
    );
}

#[tokio::test]
async fn a_whole_trajectory_on_chat_completions() {
    the_whole_trajectory(Api::Chat).await;
}

#[tokio::test]
async fn a_whole_trajectory_on_responses() {
    the_whole_trajectory(Api::Responses).await;
}

/// Unattended, an edit that would ask is denied: the file is unchanged and the model told.
#[tokio::test]
async fn a_denied_edit_leaves_the_file_and_tells_the_model() {
    for api in [Api::Chat, Api::Responses] {
        let e = env(api, "").await;
        std::fs::write(e.ws.join("a.txt"), "one\n").unwrap();
        // Two calls at once: the read runs, the edit after it is denied; both answered in order.
        e.calls(&[
            ("r", "read_file", r#"{"path":"a.txt"}"#),
            (
                "w",
                "edit_file",
                r#"{"path":"a.txt","old_string":"one","new_string":"two"}"#,
            ),
        ]);
        e.answer("I could not edit it.");
        let (code, ev, err) = e.exec(&["edit a.txt"]).await;
        assert_eq!(code, 0, "{err}");
        assert_eq!(
            std::fs::read_to_string(e.ws.join("a.txt")).unwrap(),
            "one\n"
        );
        let r = e.results(1);
        assert_eq!(r[0], ("r".to_string(), "1\tone\n".to_string()));
        assert_eq!(r[1].0, "w");
        assert!(
            r[1].1
                .starts_with("denied by the user: no one to approve it"),
            "{}",
            r[1].1
        );
        let d: Vec<&str> = of_type(&ev, "decision")
            .iter()
            .map(|d| d["decision"].as_str().unwrap())
            .collect();
        assert_eq!(d, ["allow", "deny"]);
    }
}

/// `../x`, an absolute path and a symlink out are refused, and the model told why.
#[tokio::test]
async fn paths_out_of_the_workspace_are_refused() {
    let e = env(Api::Chat, "").await;
    std::fs::write(e.home.join("secret.txt"), "s3cret\n").unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(e.home.join("secret.txt"), e.ws.join("link.txt")).unwrap();
    e.calls(&[
        ("a", "read_file", r#"{"path":"../secret.txt"}"#),
        ("b", "read_file", r#"{"path":"/etc/hostname"}"#),
        ("c", "read_file", r#"{"path":"link.txt"}"#),
        (
            "d",
            "write_file",
            r#"{"path":"../escape.txt","content":"x"}"#,
        ),
    ]);
    e.answer("ok");
    let (code, _, err) = e.exec(&["--mode", "yolo", "look around"]).await;
    assert_eq!(code, 0, "{err}");
    let r = e.results(1);
    assert_eq!(r.len(), 4);
    for (id, out) in &r {
        assert!(out.starts_with("error: "), "{id}: {out}");
        assert!(!out.contains("s3cret"), "{id}: {out}");
    }
    assert!(!e.home.join("escape.txt").exists());
}

/// 5 MB of output: the model gets the head and the tail, the whole is saved for read_file.
#[tokio::test]
async fn a_huge_command_output_is_bounded_and_saved() {
    let e = env(Api::Chat, "").await;
    e.calls(&[(
        "big",
        "run_command",
        r#"{"command":"yes 0123456789abcdef | head -c 5000000; echo; echo LAST"}"#,
    )]);
    e.calls(&[(
        "again",
        "read_file",
        r#"{"path":"@output/big.txt","offset":294000,"limit":1}"#,
    )]);
    e.answer("done");
    let (code, ev, err) = e
        .exec(&["--approve", "run_command: yes *", "print a lot"])
        .await;
    assert_eq!(code, 0, "{err}");
    let out = &e.results(1)[0].1;
    assert!(out.len() < 40 * 1024, "{} bytes sent", out.len());
    assert!(out.contains("bytes left out"));
    assert!(
        out.contains("LAST\n(exit code 0)"),
        "{}",
        &out[out.len() - 200..]
    );
    assert!(out.contains("@output/big.txt"));
    // The saved copy is whole: its line 294000 is there to read.
    let again = &e.results(2)[1].1;
    assert!(again.starts_with("294000\t0123456789abcdef"), "{again}");
    let output_lines = of_type(&ev, "tool_output").len();
    assert!(output_lines > 290_000, "{output_lines} lines streamed");
}

/// The same call with the same result again and again: a note at 3, a stop at 5 (exit 3).
#[tokio::test]
async fn a_model_repeating_one_call_is_stopped() {
    let e = env(Api::Chat, "").await;
    std::fs::write(e.ws.join("a.txt"), "x\n").unwrap();
    for i in 0..6 {
        e.calls(&[(&format!("c{i}"), "read_file", r#"{"path":"a.txt"}"#)]);
    }
    let (code, ev, err) = e.exec(&["read a.txt"]).await;
    assert_eq!(code, 3, "{err}");
    assert!(e.results(3)[2]
        .1
        .contains("same read_file call with the same result 3 times"));
    assert_eq!(e.server.requests().len(), 5);
    assert!(summary(&ev)["reason"]
        .as_str()
        .unwrap()
        .contains("came 5 times in a row"));
}

/// A budget: the next round would start past it, so the run stops (exit 3).
#[tokio::test]
async fn a_budget_stops_the_loop() {
    let e = env(Api::Chat, "").await;
    std::fs::write(e.ws.join("a.txt"), "x\n").unwrap();
    e.calls(&[("c0", "read_file", r#"{"path":"a.txt"}"#)]);
    e.calls(&[("c1", "list_dir", "{}")]);
    e.answer("never sent");
    // One round costs $0.000206: the budget allows one.
    let (code, ev, err) = e.exec(&["--max-cost", "0.0003", "look"]).await;
    assert_eq!(code, 3, "{err}");
    assert_eq!(e.server.requests().len(), 2);
    let reason = summary(&ev)["reason"].as_str().unwrap().to_string();
    assert!(reason.contains("budget is spent"), "{reason}");
    assert!(err.is_empty() || !err.contains("panicked"));
}

/// The step cap: the calls of the round past it are answered "not run", and exit 3.
#[tokio::test]
async fn the_step_cap_stops_the_loop() {
    let e = env(Api::Chat, "").await;
    e.calls(&[("c0", "list_dir", "{}")]);
    e.calls(&[("c1", "glob", r#"{"pattern":"*"}"#)]);
    let (code, ev, _) = e.exec(&["--max-steps", "1", "look"]).await;
    assert_eq!(code, 3);
    let results = of_type(&ev, "tool_result");
    assert_eq!(results.len(), 2);
    assert_eq!(results[1]["status"], "not_run");
}

mod driver {
    //! The driver itself: Esc while a command runs, and rewinds.
    use grokpair::agent::{Agent, Setup, Step};
    use grokpair::api::types::FunctionCall;
    use grokpair::api::ToolCall;
    use grokpair::runner::Runner;
    use grokpair::session::agent::{Limits, Outcome};
    use grokpair::session::approval::{Mode, Policy};
    use grokpair::session::store::{Recorder, ToolStatus};
    use grokpair::session::{Conversation, Turn, TurnState};
    use std::time::{Duration, Instant};

    fn call(id: &str, name: &str, args: &str) -> ToolCall {
        ToolCall {
            id: id.into(),
            kind: "function".into(),
            function: FunctionCall {
                name: name.into(),
                arguments: args.into(),
            },
        }
    }

    /// Runs one round's calls to the end: every step, in order.
    async fn round(
        a: &mut Agent,
        r: &mut Runner,
        conv: &mut Conversation,
        calls: Vec<ToolCall>,
    ) -> Vec<Step> {
        let mut t = Turn::new("m");
        t.tool_calls = calls;
        t.state = TurnState::Done;
        conv.push_turn(&t);
        let mut steps = a.round_ended(r, 0, &t, 0, conv);
        let mut all = steps.clone();
        while a.busy() {
            let m = a.wait().await;
            steps = a.received(r, m, conv);
            all.extend(steps.clone());
        }
        all
    }

    fn setup(ws: &std::path::Path) -> (Agent, Runner, Conversation) {
        let a = Agent::new(Setup {
            workspace: ws.to_path_buf(),
            policy: Policy::new(Mode::Yolo),
            limits: Limits::default(),
            hide_env: vec![],
        })
        .unwrap();
        let mut conv = Conversation::new(None);
        conv.push_user("go");
        (a, Runner::new(Recorder::new(ws, false)), conv)
    }

    #[tokio::test]
    async fn esc_mid_command_stops_it_and_answers_every_call() {
        let d = tempfile::tempdir().unwrap();
        let (mut a, mut r, mut conv) = setup(d.path());
        a.begin(0);
        let mut t = Turn::new("m");
        t.tool_calls = vec![
            call(
                "slow",
                "run_command",
                r#"{"command":"echo started; sleep 30"}"#,
            ),
            call("later", "list_dir", "{}"),
        ];
        t.state = TurnState::Done;
        conv.push_turn(&t);
        let steps = a.round_ended(&mut r, 0, &t, 0, &mut conv);
        assert!(matches!(&steps[0], Step::Started { call_id, .. } if call_id == "slow"));
        // Wait for the command's first line, then stop.
        let t0 = Instant::now();
        loop {
            let m = tokio::time::timeout(Duration::from_secs(10), a.wait())
                .await
                .expect("a report");
            let s = a.received(&mut r, m, &mut conv);
            if s.iter()
                .any(|s| matches!(s, Step::Output { line, .. } if line == "started"))
            {
                break;
            }
        }
        let steps = a.stop(&mut r, &mut conv);
        assert!(t0.elapsed() < Duration::from_secs(10));
        assert!(matches!(steps.last(), Some(Step::Done(Outcome::Stopped))));
        assert!(steps.iter().any(|s| matches!(s, Step::Ended(rec) if rec.call_id == "slow" && rec.status == ToolStatus::Cancelled)));
        assert!(!a.busy());
        // The history is valid: both calls answered, in order.
        let m = conv.messages();
        let results: Vec<(&str, &str)> = m
            .iter()
            .filter(|m| m.role == grokpair::api::Role::Tool)
            .map(|m| (m.tool_call_id.as_deref().unwrap(), m.content.as_str()))
            .collect();
        assert_eq!(results.len(), 2);
        assert_eq!(results[0].0, "slow");
        assert_eq!(results[0].1, "cancelled by the user");
        assert_eq!(results[1].0, "later");
    }

    #[tokio::test]
    async fn rewind_restores_code_after_an_edit_and_after_a_command_and_is_undoable() {
        let d = tempfile::tempdir().unwrap();
        let ws = d.path().join("ws");
        std::fs::create_dir_all(&ws).unwrap();
        std::fs::write(ws.join("a.txt"), "one\n").unwrap();
        let (mut a, mut r, mut conv) = setup(&ws);
        // Turn 0: read and edit.
        a.begin(0);
        round(
            &mut a,
            &mut r,
            &mut conv,
            vec![call("r", "read_file", r#"{"path":"a.txt"}"#)],
        )
        .await;
        let steps = round(
            &mut a,
            &mut r,
            &mut conv,
            vec![call(
                "e",
                "edit_file",
                r#"{"path":"a.txt","old_string":"one","new_string":"two"}"#,
            )],
        )
        .await;
        assert!(steps.iter().any(|s| matches!(s, Step::Ended(rec) if rec.status == ToolStatus::Ok && rec.summary == "+1 −1")), "{steps:?}");
        // Turn 1: a command that writes one file and deletes another.
        a.begin(1);
        round(
            &mut a,
            &mut r,
            &mut conv,
            vec![call(
                "c",
                "run_command",
                r#"{"command":"echo new > b.txt && echo three > a.txt"}"#,
            )],
        )
        .await;
        assert_eq!(
            std::fs::read_to_string(ws.join("a.txt")).unwrap(),
            "three\n"
        );
        assert!(ws.join("b.txt").exists());
        // Rewind to before turn 1: the command's changes go; the edit stays.
        let plan = a.rewind_plan(1).unwrap();
        assert_eq!(plan.len(), 2, "{plan:?}");
        a.rewind(1, 2).unwrap();
        assert_eq!(std::fs::read_to_string(ws.join("a.txt")).unwrap(), "two\n");
        assert!(!ws.join("b.txt").exists());
        // Rewind to before turn 0: the edit goes too.
        a.rewind(0, 3).unwrap();
        assert_eq!(std::fs::read_to_string(ws.join("a.txt")).unwrap(), "one\n");
        // And the rewinds themselves are undone by rewinding to before them.
        a.rewind(2, 4).unwrap();
        assert_eq!(
            std::fs::read_to_string(ws.join("a.txt")).unwrap(),
            "three\n"
        );
        assert!(ws.join("b.txt").exists());
    }
}

/// The recorded tool-call streams (xAI, OpenRouter and llama.cpp on Chat Completions, whole
/// and fragmented; OpenAI and Azure on Responses) through the loop: round 1 asks for tools
/// that are not ours, and each call is answered — in order, with what the tools are — before
/// round 2's recorded answer ends the run.
#[tokio::test]
async fn the_recorded_tool_call_streams_run_through_the_loop() {
    // Beside the recorded Chat fixtures (`GROKPAIR_FIXTURES`, else ../shared): the Responses ones.
    let shared = common::fixtures_dir().parent().unwrap().to_path_buf();
    let mut ran = 0;
    for (dir, api) in [
        ("recorded", Api::Chat),
        ("responses-recorded", Api::Responses),
    ] {
        let mut cases: Vec<PathBuf> = std::fs::read_dir(shared.join(dir))
            .unwrap_or_else(|e| panic!("{dir}: {e}"))
            .map(|e| e.unwrap().path())
            .filter(|p| {
                let n = p.file_name().unwrap().to_string_lossy().into_owned();
                n.ends_with("tool_streaming-turn1")
            })
            .collect();
        cases.sort();
        for turn1 in cases {
            let name = turn1.file_name().unwrap().to_string_lossy().into_owned();
            let turn2 = turn1.with_file_name(name.replace("turn1", "turn2"));
            let e = env(api, "").await;
            let sse = |d: &Path| std::fs::read_to_string(d.join("response.sse")).unwrap();
            e.server.push(Reply::sse(sse(&turn1)));
            e.server.push(Reply::sse(sse(&turn2)));
            let (code, ev, err) = e.exec(&["add and multiply 2 and 3"]).await;
            assert_eq!(code, 0, "{name}: {err}");
            let calls = of_type(&ev, "tool_call");
            assert!(!calls.is_empty(), "{name}: no calls");
            let results = e.results(1);
            let ids: Vec<&str> = calls
                .iter()
                .map(|c| c["call_id"].as_str().unwrap())
                .collect();
            let answered: Vec<&str> = results.iter().map(|(id, _)| id.as_str()).collect();
            assert_eq!(answered, ids, "{name}: every call answered, in order");
            for (_, out) in &results {
                assert!(out.contains("the tools are read_file"), "{name}: {out}");
            }
            let s = summary(&ev);
            assert_eq!(s["rounds"], 2, "{name}");
            assert_eq!(
                s["tool_calls"].as_u64().unwrap() as usize,
                ids.len(),
                "{name}"
            );
            assert!(!of_type(&ev, "answer").is_empty(), "{name}: no answer");
            ran += 1;
        }
    }
    // 7 Chat recordings (xAI, OpenRouter, llama.cpp; single and parallel calls), 4 Responses.
    assert_eq!(ran, 11, "recordings found");
}
