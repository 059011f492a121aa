//! The real binary, as a script would use it: stdout, stderr, exit codes.

mod common;

use common::fixtures_dir;
use grokpair::session::store;
use grokpair::session::TurnState;
use grokpair::testing::{synth_sse, FakeServer, Part, Reply, SynthUsage};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::process::Command;

const KEY: &str = "gp-cli-SECRET-key-0987654321";

fn write_config(dir: &Path, base_url: &str) -> PathBuf {
    let path = dir.join("config.toml");
    std::fs::write(
        &path,
        format!(
            r#"provider = "fake"
[sessions]
dir = "{sessions}"
[network]
idle_timeout_secs = 2
max_retries = 1
retry_base_ms = 5
[providers.fake]
base_url = "{base_url}"
api_key_env = "GP_CLI_KEY"
model = "grok-code-fast-1"
dialect = "xai"
completion_includes_reasoning = false
{prices}"#,
            sessions = dir.join("sessions").display(),
            prices = grokpair::testing::RECORDING_PRICES_TOML
        ),
    )
    .unwrap();
    path
}

fn cmd(config: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_grokpair"));
    c.arg("--config")
        .arg(config)
        .env("GP_CLI_KEY", KEY)
        .env("NO_COLOR", "1")
        .env_remove("GROKPAIR_CONFIG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    c
}

fn cmd_with(config: &Path, args: &[&str]) -> Command {
    let mut c = cmd(config);
    c.args(args);
    c
}

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

async fn run(mut c: Command) -> Out {
    let o = tokio::time::timeout(Duration::from_secs(30), c.output())
        .await
        .expect("binary finished")
        .unwrap();
    Out {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(fixtures_dir().join(name).join("response.sse")).unwrap()
}

#[tokio::test]
async fn ask_streams_answer_reasoning_and_summary() {
    let s = FakeServer::start().await;
    s.push(Reply::sse_split(
        fixture("xai-grok-code-fast-1-simple_streaming"),
        5,
    ));
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &s.base_url());
    let mut c = cmd(&cfg);
    c.args(["ask", "--show-reasoning", "Say", "hi", "in", "Portuguese"]);
    let o = run(c).await;
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(o.stdout, "Olá!\n");
    assert!(
        o.stderr
            .contains("thinking: First, the user said: \"Say hi in Portuguese.\""),
        "{}",
        o.stderr
    );
    let summary = o.stderr.lines().last().unwrap();
    assert!(summary.starts_with("grok-code-fast-1 · ttft "), "{summary}");
    assert!(summary.contains("prompt 213 (192 cached) · out 2 + 198 reasoning · $0.000308 · cache saved $0.0000346 (10%)"), "{summary}");
    let req = &s.requests()[0];
    assert_eq!(req.json()["messages"][0]["content"], "Say hi in Portuguese");
    assert!(req.header("x-grok-conv-id").is_some());
}

#[tokio::test]
async fn ask_json_is_ndjson_with_summary() {
    let s = FakeServer::start().await;
    s.push(Reply::sse(fixture("xai-grok-4-fast-simple_streaming")));
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &s.base_url());
    let mut c = cmd(&cfg);
    c.args(["--model", "grok-4-fast", "ask", "--json", "hi"]);
    let o = run(c).await;
    assert_eq!(o.code, 0, "{}", o.stderr);
    let lines: Vec<serde_json::Value> = o
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    assert_eq!(lines[0]["type"], "started");
    assert_eq!(lines[0]["model"], "grok-4-fast-reasoning");
    let types: Vec<&str> = lines.iter().map(|l| l["type"].as_str().unwrap()).collect();
    assert!(types.contains(&"content") && types.contains(&"usage"));
    assert_eq!(types[types.len() - 2], "finished");
    let sum = lines.last().unwrap();
    assert_eq!(sum["type"], "summary");
    assert_eq!(sum["asked_model"], "grok-4-fast");
    assert_eq!(sum["served_model"], "grok-4-fast-reasoning");
    assert_eq!(sum["reasoning_tokens"], 129);
    assert_eq!(sum["cost"]["total_ticks"], 739000);
    assert_eq!(sum["cost"]["source"], "reported");
    assert_eq!(sum["cost"]["computed_ticks"], 739000);
    assert!(sum["conversation_id"].as_str().unwrap().len() == 36);
    // Hidden reasoning: billed but no text.
    assert!(!types.contains(&"reasoning"));
    assert_eq!(o.stderr, "");
}

#[tokio::test]
async fn prompt_from_stdin_and_argument_combined() {
    let s = FakeServer::start().await;
    s.push(Reply::sse(fixture("xai-grok-code-fast-1-simple_streaming")));
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &s.base_url());
    let mut c = cmd(&cfg);
    c.args(["ask", "-q", "explain"]).stdin(Stdio::piped());
    let mut child = c.spawn().unwrap();
    use tokio::io::AsyncWriteExt;
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"fn main() {}\n").await.unwrap();
    drop(stdin);
    let o = child.wait_with_output().await.unwrap();
    assert_eq!(o.status.code(), Some(0));
    assert!(o.stderr.is_empty(), "-q prints no summary");
    assert_eq!(
        s.requests()[0].json()["messages"][0]["content"],
        "explain\n\nfn main() {}\n"
    );
}

#[tokio::test]
async fn provider_error_exits_1_with_provider_message() {
    let s = FakeServer::start().await;
    s.push(Reply::json(400, r#"{"code":"Client specified an invalid argument","error":"Incorrect API key provided: gp***21. You can obtain an API key from https://console.x.ai."}"#));
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &s.base_url());
    let mut c = cmd(&cfg);
    c.args(["ask", "hi"]);
    let o = run(c).await;
    assert_eq!(o.code, 1);
    assert!(
        o.stderr.contains(
            "error: fake: invalid API key (HTTP 400): Incorrect API key provided: gp***21."
        ),
        "{}",
        o.stderr
    );
    assert!(o.stderr.contains("gp-c…4321"));
    assert!(!o.stderr.contains(KEY));
}

/// The grok-code-fast-1 recording up to its first answer token ("Olá"), then silence.
fn stalls_after_first_answer_token() -> Reply {
    let body = fixture("xai-grok-code-fast-1-simple_streaming");
    let cut = body.find("\"content\":\"Olá\"").unwrap();
    let cut = cut + body[cut..].find("\n\n").unwrap() + 2;
    Reply::sse(&body[..cut]).part(Part::Stall)
}

#[tokio::test]
async fn stalled_stream_exits_1_and_keeps_partial_answer() {
    let s = FakeServer::start().await;
    s.push(stalls_after_first_answer_token());
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &s.base_url());
    let mut c = cmd(&cfg);
    c.args(["ask", "hi"]);
    let o = run(c).await;
    assert_eq!(o.code, 1);
    assert_eq!(o.stdout, "Olá\n");
    assert!(
        o.stderr
            .contains("stream stalled: no data for 2s (kept 3 chars of answer, 46 of reasoning)"),
        "{}",
        o.stderr
    );
}

#[tokio::test]
async fn missing_key_and_bad_config_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), "http://127.0.0.1:9/v1");
    let mut c = cmd(&cfg);
    c.env_remove("GP_CLI_KEY").args(["ask", "hi"]);
    let o = run(c).await;
    assert_eq!(o.code, 2);
    assert!(
        o.stderr
            .contains("no API key for provider `fake`: export GP_CLI_KEY=…"),
        "{}",
        o.stderr
    );

    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "provider = \"xai\"\n[network]\nidle_timeout = 5\n").unwrap();
    let o = run(cmd_with(&bad, &["ask", "hi"])).await;
    assert_eq!(o.code, 2);
    assert!(
        o.stderr.contains(&format!(
            "config error in {}:3: key `network.idle_timeout`",
            bad.display()
        )),
        "{}",
        o.stderr
    );

    let o = run(cmd_with(&cfg, &["ask"])).await;
    assert_eq!(o.code, 2);
    assert!(o.stderr.contains("no prompt"));
}

#[tokio::test]
async fn config_sampling_is_the_default_under_flags() {
    let s = FakeServer::start().await;
    s.push(Reply::sse(fixture("xai-grok-code-fast-1-simple_streaming")));
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &s.base_url());
    let text = std::fs::read_to_string(&cfg).unwrap();
    std::fs::write(
        &cfg,
        format!("temperature = 0.4\nseed = 11\nmax_tokens = 99\n{text}"),
    )
    .unwrap();
    let o = run(cmd_with(
        &cfg,
        &["--no-save", "ask", "--seed", "5", "-q", "hi"],
    ))
    .await;
    assert_eq!(o.code, 0, "{}", o.stderr);
    let body = s.requests()[0].json();
    assert_eq!(body["temperature"], 0.4);
    assert_eq!(body["seed"], 5, "the flag wins");
    assert_eq!(body["max_completion_tokens"], 99);

    let o = run(cmd_with(&cfg, &["ask", "--temperature", "2.5", "hi"])).await;
    assert_eq!(o.code, 2);
    assert!(
        o.stderr
            .contains("--temperature: temperature must be 0 to 2, got 2.5"),
        "{}",
        o.stderr
    );
    let o = run(cmd_with(
        &cfg,
        &[
            "compare",
            "-m",
            "a",
            "-m",
            "b",
            "--reasoning-effort",
            "max",
            "hi",
        ],
    ))
    .await;
    assert_eq!(o.code, 2);
    assert!(
        o.stderr
            .contains("--reasoning-effort: reasoning_effort must be low, medium, high or xhigh"),
        "{}",
        o.stderr
    );
    assert_eq!(s.requests().len(), 1, "nothing sent for a usage error");
}

#[tokio::test]
async fn sigint_mid_stream_exits_130_keeping_partial() {
    let s = FakeServer::start().await;
    s.push(stalls_after_first_answer_token());
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &s.base_url());
    let mut c = cmd(&cfg);
    c.args(["ask", "hi"]);
    let mut child = c.spawn().unwrap();
    // Wait until the partial answer is on stdout.
    use tokio::io::AsyncReadExt;
    let mut stdout = child.stdout.take().unwrap();
    let mut buf = [0u8; 64];
    let n = tokio::time::timeout(Duration::from_secs(10), stdout.read(&mut buf))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&buf[..n], "Olá".as_bytes());
    let pid = child.id().unwrap().to_string();
    std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap();
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status.code(), Some(130));
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .await
        .unwrap();
    assert!(
        err.contains("interrupted; partial answer kept above"),
        "{err}"
    );
    assert!(err.contains("cancelled"), "{err}");
    // The saved session keeps the partial answer, marked cancelled.
    let files = store::list(&dir.path().join("sessions"));
    assert_eq!(files.len(), 1);
    let saved = store::load(&files[0]).unwrap();
    let t = saved.turns[0].to_turn();
    assert_eq!(t.content, "Olá");
    assert_eq!(t.state, TurnState::Cancelled);
    assert!(!t.reasoning.is_empty());
    assert_eq!(
        saved.turns[0].end.as_ref().unwrap().state,
        TurnState::Cancelled
    );
}

#[tokio::test]
async fn config_init_show_and_masking() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub/config.toml");
    let o = run(cmd_with(&path, &["config", "init"])).await;
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(path.exists());
    // Issue 15 (20): `config path` prints the path alone; a missing file is a note of its own.
    let there = run(cmd_with(&path, &["config", "path"])).await;
    assert_eq!(there.stdout, format!("{}\n", path.display()));
    assert_eq!(there.stderr, "");
    let missing = dir.path().join("none.toml");
    let o = run(cmd_with(&missing, &["config", "path"])).await;
    assert_eq!(o.stdout, format!("{}\n", missing.display()));
    assert!(
        o.stderr.starts_with("grokpair: note: no file there yet"),
        "{}",
        o.stderr
    );
    let again = run(cmd_with(&path, &["config", "init"])).await;
    assert_eq!(again.code, 2);
    assert!(again.stderr.contains("already exists; pass --force"));
    let show = run({
        let mut c = cmd(&path);
        c.env("XAI_API_KEY", "xai-SHOWME-not-1234567890")
            .args(["config", "show"]);
        c
    })
    .await;
    assert_eq!(show.code, 0);
    assert!(show.stdout.contains("[providers.xai]"));
    assert!(
        show.stdout
            .contains("# api key: xai-…7890 (from $XAI_API_KEY)"),
        "{}",
        show.stdout
    );
    assert!(!show.stdout.contains("SHOWME"));
}

#[tokio::test]
async fn models_lists_server_and_catalog() {
    let s = FakeServer::start().await;
    s.push(Reply::json(200, r#"{"object":"list","data":[{"id":"grok-code-fast-1","object":"model","owned_by":"xai"},{"id":"grok-9-preview","object":"model"}]}"#));
    s.push(Reply::json(200, r#"{"models":[{"id":"grok-9-preview","aliases":[],"prompt_text_token_price":5000,"cached_prompt_text_token_price":500,"completion_text_token_price":20000}]}"#));
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &s.base_url());
    let o = run(cmd_with(&cfg, &["models"])).await;
    assert_eq!(o.code, 0, "{}", o.stderr);
    let line = |id: &str| {
        o.stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(id))
            .unwrap_or_else(|| panic!("{id} missing:\n{}", o.stdout))
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert_eq!(
        line("grok-code-fast-1"),
        "grok-code-fast-1 256000 0.200 0.020 1.500 text no server + built-in"
    );
    assert_eq!(
        line("grok-9-preview"),
        "grok-9-preview — 0.500 0.050 2.000 ? ? server (prices)"
    );
    assert_eq!(
        line("grok-3-mini"),
        "grok-3-mini 131072 0.300 0.075 0.500 text low,medium,high built-in"
    );
    let paths: Vec<String> = s.requests().iter().map(|r| r.path.clone()).collect();
    assert_eq!(paths, vec!["/v1/models", "/v1/language-models"]);
}

fn turn_reply(n: u64) -> Reply {
    Reply::sse(synth_sse(
        "grok-code-fast-1",
        &format!("Thinking about question {n}."),
        &format!("Answer {n}.\n\n```rust\nfn f{n}() {{}}\n```\n"),
        SynthUsage {
            prompt: 100 * n,
            cached: 100 * (n - 1),
            completion: 12,
            reasoning: 5,
            ticks: Some(1_000 * n as i64),
        },
    ))
}

#[tokio::test]
async fn named_session_continues_with_prefix_extending_requests() {
    let s = FakeServer::start().await;
    for n in 1..=3 {
        s.push(turn_reply(n));
    }
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &s.base_url());
    let o = run(cmd_with(
        &cfg,
        &["ask", "--session", "work", "first question"],
    ))
    .await;
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(o.stdout, "Answer 1.\n\n```rust\nfn f1() {}\n```\n");
    let o = run(cmd_with(
        &cfg,
        &["ask", "--session", "work", "second question"],
    ))
    .await;
    assert_eq!(o.code, 0, "{}", o.stderr);
    // --continue picks the most recent session: the same one.
    let o = run(cmd_with(
        &cfg,
        &["ask", "--continue", "--json", "third question"],
    ))
    .await;
    assert_eq!(o.code, 0, "{}", o.stderr);
    let summary: serde_json::Value =
        serde_json::from_str(o.stdout.lines().last().unwrap()).unwrap();
    assert_eq!(summary["session"], "work");

    let reqs = s.requests();
    assert_eq!(reqs.len(), 3);
    let conv = reqs[0].header("x-grok-conv-id").unwrap();
    for r in &reqs {
        assert_eq!(r.header("x-grok-conv-id"), Some(conv));
    }
    // Each body is the previous one with messages appended: a byte-prefix extension (up to
    // the closing `]}`), which is what lets the provider's prompt cache hit.
    for w in reqs.windows(2) {
        let (a, b) = (&w[0].body, &w[1].body);
        assert!(a.ends_with(b"]}"), "{}", String::from_utf8_lossy(a));
        assert!(
            b.starts_with(&a[..a.len() - 2]),
            "not a prefix extension:\n{}\n{}",
            String::from_utf8_lossy(a),
            String::from_utf8_lossy(b)
        );
    }
    // grok-code-fast-1 wants its earlier reasoning back.
    let m = &reqs[2].json()["messages"];
    assert_eq!(m[1]["role"], "assistant");
    assert_eq!(m[1]["reasoning_content"], "Thinking about question 1.");
    assert_eq!(m[4]["content"], "third question");

    let saved = store::load(&dir.path().join("sessions/work.jsonl")).unwrap();
    assert_eq!(saved.header.name.as_deref(), Some("work"));
    assert_eq!(saved.header.conv_id, conv);
    assert_eq!(saved.turns.len(), 3);
    assert_eq!(saved.messages.len(), 6);
    assert_eq!(saved.turns[2].request.len(), 5);
    assert_eq!(
        saved.turns[1].to_turn().content,
        "Answer 2.\n\n```rust\nfn f2() {}\n```\n"
    );
    assert_eq!(
        saved.turns[2]
            .end
            .as_ref()
            .unwrap()
            .cost
            .as_ref()
            .unwrap()
            .total_ticks,
        Some(3_000)
    );

    // The listing shows it.
    let o = run(cmd_with(&cfg, &["sessions"])).await;
    assert_eq!(o.code, 0, "{}", o.stderr);
    let row = o.stdout.lines().nth(1).unwrap();
    let cols: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(cols[0], "work");
    assert_eq!(cols[3], "grok-code-fast-1");
    assert_eq!(cols[4], "3");
    // prompt 100+200+300, completion 3×12, reasoning 3×5
    assert_eq!(cols[5], "651");
    assert_eq!(cols[6], "$0.0000006");
    assert!(row.ends_with("first question"), "{row}");
}

#[tokio::test]
async fn no_key_appears_in_sessions_exports_or_output() {
    const MARKER: &str = "gp-MARKER-7f3e9a1c5d2b8e40";
    let s = FakeServer::start().await;
    s.push(turn_reply(1));
    // A provider error that quotes the key back (some do).
    s.push(Reply::json(
        401,
        &format!(r#"{{"error":{{"message":"Incorrect API key provided: {MARKER}","type":"invalid_request_error"}}}}"#),
    ));
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &s.base_url());
    let text = std::fs::read_to_string(&cfg).unwrap().replace(
        "api_key_env = \"GP_CLI_KEY\"",
        &format!("api_key = \"{MARKER}\""),
    );
    std::fs::write(&cfg, text).unwrap();
    let mut outputs = String::new();
    for args in [
        vec!["ask", "--session", "k", "hello"],
        vec!["ask", "--session", "k", "again"],
    ] {
        let o = run(cmd_with(&cfg, &args)).await;
        outputs.push_str(&o.stdout);
        outputs.push_str(&o.stderr);
    }
    assert_eq!(
        s.requests()[0].header("authorization"),
        Some(&*format!("Bearer {MARKER}"))
    );
    for (fmt, file) in [("md", "k.md"), ("html", "k.html"), ("json", "k.json")] {
        let out = dir.path().join(file);
        let o = run(cmd_with(
            &cfg,
            &["export", "k", "--format", fmt, "-o", out.to_str().unwrap()],
        ))
        .await;
        assert_eq!(o.code, 0, "{}", o.stderr);
        outputs.push_str(&o.stdout);
        outputs.push_str(&o.stderr);
    }
    let o = run(cmd_with(&cfg, &["sessions", "--json"])).await;
    outputs.push_str(&o.stdout);
    assert!(!outputs.contains(MARKER), "{outputs}");
    // Every file written during the run, except the config that holds the key.
    let mut checked = 0;
    let mut stack = vec![dir.path().to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p != cfg {
                let bytes = std::fs::read(&p).unwrap();
                assert!(
                    !String::from_utf8_lossy(&bytes).contains(MARKER),
                    "key in {}",
                    p.display()
                );
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 5, "the session, its lock file and three exports");
    // The failed turn is in the session, with the provider's (masked) message.
    let saved = store::load(&dir.path().join("sessions/k.jsonl")).unwrap();
    let failed = saved.turns[1].to_turn();
    assert_eq!(failed.state, TurnState::Failed);
    assert!(failed.error.unwrap().message.contains("Incorrect API key"));
}

/// Sessions hold the user's code and prompts: the directory is the user's alone (700), each
/// file too (600), even when the directory already existed open to others.
#[cfg(unix)]
#[tokio::test]
async fn session_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let s = FakeServer::start().await;
    s.push(Reply::sse(fixture("xai-grok-code-fast-1-simple_streaming")));
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &s.base_url());
    let sessions = dir.path().join("sessions");
    std::fs::create_dir_all(&sessions).unwrap();
    std::fs::set_permissions(&sessions, std::fs::Permissions::from_mode(0o755)).unwrap();
    let o = run(cmd_with(&cfg, &["ask", "hi"])).await;
    assert_eq!(o.code, 0, "{}", o.stderr);
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&sessions), 0o700);
    let files = store::list(&sessions);
    assert_eq!(files.len(), 1);
    assert_eq!(mode(&files[0]), 0o600);
}

/// A replay speed that would divide time by nearly nothing (or by far too much) is a usage
/// error, not a panic; an export never overwrites the session it is made from.
#[tokio::test]
async fn absurd_speeds_and_exporting_onto_the_session_are_refused() {
    let s = FakeServer::start().await;
    s.push(Reply::sse(fixture("xai-grok-code-fast-1-simple_streaming")));
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &s.base_url());
    let o = run(cmd_with(&cfg, &["ask", "--session", "keep", "hi"])).await;
    assert_eq!(o.code, 0, "{}", o.stderr);
    for speed in ["1e-30", "1e300", "0", "-2", "inf", "NaN"] {
        let arg = format!("--speed={speed}");
        let o = run(cmd_with(&cfg, &["replay", "keep", &arg])).await;
        assert_eq!(o.code, 2, "--speed {speed}: {}", o.stderr);
        assert!(
            o.stderr.contains("a speed from 0.01 to 1000"),
            "{}",
            o.stderr
        );
    }
    let file = dir.path().join("sessions/keep.jsonl");
    let before = std::fs::read(&file).unwrap();
    let o = run(cmd_with(
        &cfg,
        &["export", "keep", "-o", file.to_str().unwrap()],
    ))
    .await;
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(
        o.stderr.contains("is the session file itself"),
        "{}",
        o.stderr
    );
    assert_eq!(
        std::fs::read(&file).unwrap(),
        before,
        "the session is intact"
    );
    // By another name: a hard link is the same file.
    let link = dir.path().join("other-name.md");
    std::fs::hard_link(&file, &link).unwrap();
    let o = run(cmd_with(
        &cfg,
        &["export", "keep", "-o", link.to_str().unwrap()],
    ))
    .await;
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert_eq!(std::fs::read(&file).unwrap(), before, "still intact");
}

/// The HTML export runs nothing and loads nothing: `javascript:` links stay text, images
/// become links, and a Content-Security-Policy blocks scripts and remote loads.
#[tokio::test]
async fn html_export_runs_and_loads_nothing() {
    let s = FakeServer::start().await;
    s.push(Reply::sse(synth_sse(
        "grok-code-fast-1",
        "",
        "See [the docs](https://docs.example/x) or [click me](javascript:alert(document.cookie)).\n\n![chart](https://evil.example/p.png?d=secret)\n",
        SynthUsage {
            prompt: 10,
            cached: 0,
            completion: 5,
            reasoning: 0,
            ticks: None,
        },
    )));
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &s.base_url());
    assert_eq!(
        run(cmd_with(&cfg, &["ask", "--session", "h", "hi"]))
            .await
            .code,
        0
    );
    let o = run(cmd_with(&cfg, &["export", "h", "--format", "html"])).await;
    assert_eq!(o.code, 0, "{}", o.stderr);
    let html = o.stdout;
    assert!(html.contains("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"));
    assert!(
        html.contains("<a href=\"https://docs.example/x\">the docs</a>"),
        "{html}"
    );
    assert!(!html.contains("href=\"javascript:"), "{html}");
    assert!(
        html.contains("click me (javascript:alert(document.cookie))"),
        "{html}"
    );
    assert!(!html.contains("<img"), "{html}");
    assert!(
        html.contains("<a href=\"https://evil.example/p.png?d=secret\">chart</a>"),
        "{html}"
    );
}

/// Two runs continuing one session at once would lose a turn: the second is refused while
/// the first holds the session, and goes through once it is done.
#[tokio::test]
async fn one_writer_per_session() {
    let s = FakeServer::start().await;
    let mut slow = Reply::sse(fixture("xai-grok-code-fast-1-simple_streaming"));
    slow.delay_headers = Some(Duration::from_millis(1500));
    s.push(slow);
    s.push(Reply::sse(fixture("xai-grok-code-fast-1-simple_streaming")));
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &s.base_url());
    let mut first = cmd_with(&cfg, &["ask", "--session", "shared", "one"])
        .spawn()
        .unwrap();
    // The first has sent its request (and holds the session) once the server has it.
    while s.requests().is_empty() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let o = run(cmd_with(&cfg, &["ask", "--session", "shared", "two"])).await;
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(
        o.stderr
            .contains("session shared is in use by another grokpair"),
        "{}",
        o.stderr
    );
    assert!(first.wait().await.unwrap().success());
    let o = run(cmd_with(&cfg, &["ask", "--session", "shared", "three"])).await;
    assert_eq!(o.code, 0, "{}", o.stderr);
    let saved = store::load(&dir.path().join("sessions/shared.jsonl")).unwrap();
    assert_eq!(saved.turns.len(), 2);
}

/// `--no-save` (and `autosave = false`) hold for a continued session too: the file is left
/// as it was, and the follow-up still carries the saved history.
#[tokio::test]
async fn no_save_holds_for_a_continued_session() {
    let s = FakeServer::start().await;
    for _ in 0..3 {
        s.push(Reply::sse(fixture("xai-grok-code-fast-1-simple_streaming")));
    }
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &s.base_url());
    assert_eq!(
        run(cmd_with(&cfg, &["ask", "--session", "k", "one"]))
            .await
            .code,
        0
    );
    let file = dir.path().join("sessions/k.jsonl");
    let before = std::fs::read(&file).unwrap();
    let o = run(cmd_with(
        &cfg,
        &["--no-save", "ask", "--session", "k", "two"],
    ))
    .await;
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(
        std::fs::read(&file).unwrap(),
        before,
        "--no-save wrote nothing"
    );
    let off = dir.path().join("off.toml");
    std::fs::write(
        &off,
        std::fs::read_to_string(&cfg)
            .unwrap()
            .replace("[sessions]", "[sessions]\nautosave = false"),
    )
    .unwrap();
    let o = run(cmd_with(&off, &["ask", "--continue", "three"])).await;
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(
        std::fs::read(&file).unwrap(),
        before,
        "autosave = false wrote nothing"
    );
    let reqs = s.requests();
    assert_eq!(reqs[1].json()["messages"].as_array().unwrap().len(), 3);
    assert_eq!(reqs[2].json()["messages"].as_array().unwrap().len(), 3);
}

/// Issue 15 (10): the listing shows when each session was last active, estimates the tokens of
/// a cut-off answer (`~`, cost a lower bound `≥`), and says how many of how many it shows.
#[tokio::test]
async fn sessions_list_estimates_cut_turns_and_counts_what_it_shows() {
    let s = FakeServer::start().await;
    s.push(turn_reply(1));
    s.push(stalls_after_first_answer_token());
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &s.base_url());
    for prompt in ["complete one", "cut one"] {
        let mut c = cmd(&cfg);
        c.args(["ask", prompt]);
        run(c).await;
    }
    let o = run(cmd_with(&cfg, &["sessions"])).await;
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stdout.contains("ACTIVE (UTC)"), "{}", o.stdout);
    let cut = o
        .stdout
        .lines()
        .find(|l| l.contains("cut one"))
        .unwrap_or_else(|| panic!("{}", o.stdout));
    assert!(cut.contains(" ~") && cut.contains("≥$"), "{cut}");
    assert!(o.stdout.contains("\n2 sessions in "), "{}", o.stdout);
    let o = run(cmd_with(&cfg, &["sessions", "-n", "1"])).await;
    assert!(o.stdout.contains("\n1 of 2 sessions in "), "{}", o.stdout);
    let o = run(cmd_with(&cfg, &["sessions", "--json"])).await;
    let v: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    let cut = v
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["first_prompt"] == "cut one")
        .unwrap();
    assert_eq!(cut["tokens_estimated"], true);
    assert!(cut["tokens"].as_u64().unwrap() > 0);
}

/// Issue 15 (21): every sampling flag says what it does; an unknown `-p` is a usage error
/// about the flag, not the config file's.
#[tokio::test]
async fn help_explains_the_flags_and_a_bad_provider_flag_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), "http://127.0.0.1:9/v1");
    let o = run(cmd_with(&cfg, &["ask", "--help"])).await;
    for (flag, says) in [
        ("--temperature", "Sampling temperature"),
        ("--top-p", "Nucleus sampling"),
        ("--seed", "Seed for sampling"),
        ("--presence-penalty", "Penalty for tokens already present"),
        ("--frequency-penalty", "Penalty by how often"),
    ] {
        let at = o.stdout.find(flag).unwrap_or_else(|| panic!("{flag}"));
        assert!(
            o.stdout[at..].lines().take(2).any(|l| l.contains(says)),
            "{flag}:\n{}",
            o.stdout
        );
    }
    // `ask`'s own options come first; the ones every subcommand takes (`--theme` among
    // them) under their own heading.
    let global = o
        .stdout
        .find("Global options (any subcommand):")
        .expect("a heading for the global options");
    for own in ["--temperature", "--system", "--json", "--session"] {
        assert!(o.stdout.find(own).unwrap() < global, "{own}:\n{}", o.stdout);
    }
    for shared in ["--theme", "--provider", "--mode", "--cd", "--config"] {
        assert!(
            o.stdout.find(shared).unwrap() > global,
            "{shared}:\n{}",
            o.stdout
        );
    }
    let o = run(cmd_with(&cfg, &["demo", "--help"])).await;
    assert!(o.stdout.contains("Playback speed"), "{}", o.stdout);
    let o = run(cmd_with(&cfg, &["-p", "nope", "ask", "hi"])).await;
    assert_eq!(o.code, 2);
    assert!(
        o.stderr
            .starts_with("grokpair: --provider nope: unknown provider `nope`"),
        "{}",
        o.stderr
    );
    assert!(!o.stderr.contains("config error"), "{}", o.stderr);
}

/// Issue 15 (13): nothing listening on this machine's port is said at once — no retries
/// (a remote host's refusal is still retried, as any network error before output).
#[tokio::test]
async fn a_refused_local_connection_is_not_retried() {
    let dir = tempfile::tempdir().unwrap();
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let cfg = write_config(dir.path(), &format!("http://127.0.0.1:{port}/v1"));
    let o = run(cmd_with(&cfg, &["ask", "hi"])).await;
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(o.stderr.contains("connection refused"), "{}", o.stderr);
    assert!(
        o.stderr.contains(&format!(
            "nothing listens at http://127.0.0.1:{port}/v1: is the server running?"
        )),
        "{}",
        o.stderr
    );
    assert!(!o.stderr.contains("gave up after"), "{}", o.stderr);
    assert!(
        !o.stderr.to_lowercase().contains("retrying"),
        "{}",
        o.stderr
    );
}
