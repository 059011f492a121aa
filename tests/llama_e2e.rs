//! End to end against a real llama.cpp server (started by `.ci/run` through
//! `../shared/tools/local-llm.sh`): software nobody here wrote.
//!
//! GROKPAIR_LLAMA_URL points at a plain server, GROKPAIR_LLAMA_THINK_URL at one started with the
//! `chatml-think.jinja` template and `--reasoning-format deepseek`. Without them these tests say
//! so and pass, unless GROKPAIR_REQUIRE_LLAMA=1 (as in CI), where a missing server fails.

mod common;

use common::tmux::Tmux;
use std::process::{Command, Stdio};

fn url(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(u) if !u.is_empty() => Some(u),
        _ => {
            assert!(
                std::env::var("GROKPAIR_REQUIRE_LLAMA").as_deref() != Ok("1"),
                "{var} is not set but GROKPAIR_REQUIRE_LLAMA=1"
            );
            eprintln!("skipping: {var} not set (run .ci/run for the real llama.cpp server)");
            None
        }
    }
}

fn ask(base: &str, args: &[&str]) -> (i32, Vec<serde_json::Value>, String) {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("c.toml");
    std::fs::write(&cfg, format!("[providers.local]\nbase_url = \"{base}\"\n")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_grokpair"))
        .arg("--config")
        .arg(&cfg)
        .args([
            "--provider",
            "local",
            "ask",
            "--json",
            "--temperature",
            "0",
            "--seed",
            "7",
        ])
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let events = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("NDJSON"))
        .collect();
    (
        out.status.code().unwrap_or(-1),
        events,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn of_type<'a>(ev: &'a [serde_json::Value], t: &str) -> Vec<&'a serde_json::Value> {
    ev.iter().filter(|e| e["type"] == t).collect()
}

#[test]
fn streams_a_real_answer_with_usage() {
    let Some(base) = url("GROKPAIR_LLAMA_URL") else {
        return;
    };
    let (code, ev, err) = ask(&base, &["--max-tokens", "24", "Name three colours."]);
    assert_eq!(code, 0, "{err}");
    let text: String = of_type(&ev, "content")
        .iter()
        .map(|e| e["text"].as_str().unwrap())
        .collect();
    assert!(!text.trim().is_empty());
    assert!(of_type(&ev, "content").len() > 1, "streamed in pieces");
    let sum = ev.last().unwrap();
    assert_eq!(sum["type"], "summary");
    assert_eq!(sum["state"], "done");
    assert_eq!(sum["served_model"], "SmolLM2-135M-Instruct");
    assert!(sum["prompt_tokens"].as_u64().unwrap() > 5);
    assert!(sum["completion_tokens"].as_u64().unwrap() >= 1);
    assert_eq!(sum["cost"]["source"], "free");
    assert!(sum["ttft_ms"].as_u64().is_some());
}

#[test]
fn repeated_prefix_reports_cached_tokens() {
    let Some(base) = url("GROKPAIR_LLAMA_URL") else {
        return;
    };
    // A unique, long system prompt: the first request cannot have it cached, the second must.
    let nonce = format!(
        "{:x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    let system = format!(
        "Session {nonce}. You are a meticulous senior engineer reviewing Rust code for safety, \
         performance and clarity. Always answer in one short sentence, never more."
    );
    let (code, first, err) = ask(
        &base,
        &["--max-tokens", "8", "--system", &system, "Say ok."],
    );
    assert_eq!(code, 0, "{err}");
    let (code, second, err) = ask(
        &base,
        &["--max-tokens", "8", "--system", &system, "Say yes."],
    );
    assert_eq!(code, 0, "{err}");
    let cached =
        |ev: &[serde_json::Value]| ev.last().unwrap()["cached_tokens"].as_u64().unwrap_or(0);
    let prompt = second.last().unwrap()["prompt_tokens"].as_u64().unwrap();
    assert!(
        cached(&first) < 20,
        "first request: {} cached",
        cached(&first)
    );
    assert!(
        cached(&second) >= 30,
        "second request reused only {} of {prompt}",
        cached(&second)
    );
}

#[test]
fn thinking_template_streams_reasoning_content() {
    let Some(base) = url("GROKPAIR_LLAMA_THINK_URL") else {
        return;
    };
    let (code, ev, err) = ask(&base, &["--max-tokens", "24", "What is 2+2?"]);
    assert_eq!(code, 0, "{err}");
    let reasoning: String = of_type(&ev, "reasoning")
        .iter()
        .map(|e| e["text"].as_str().unwrap())
        .collect();
    assert!(
        of_type(&ev, "reasoning").len() > 3,
        "reasoning deltas: {ev:?}"
    );
    assert!(!reasoning.trim().is_empty());
    assert!(
        !reasoning.contains("<think>"),
        "the server split the think block out"
    );
    let sum = ev.last().unwrap();
    assert!(sum["reasoning_tokens"].as_u64().unwrap() > 0);
    assert_eq!(
        sum["tokens_estimated"], true,
        "llama.cpp does not count reasoning tokens"
    );
}

/// Two "models" on two real servers: the plain one answers, the thinking one reasons.
/// Greedy sampling from the config: at the server's default temperature the 135M model
/// sometimes ends its think block at once, leaving nothing to compare.
fn two_servers() -> Option<String> {
    let plain = url("GROKPAIR_LLAMA_URL")?;
    let think = url("GROKPAIR_LLAMA_THINK_URL")?;
    Some(format!(
        "provider = \"plain\"\nmax_tokens = 24\ntemperature = 0\nseed = 7\n[providers.plain]\nbase_url = \"{plain}\"\nfree = true\n\
         [providers.think]\nbase_url = \"{think}\"\nfree = true\n"
    ))
}

/// `grokpair --no-save compare --json ARGS` with `config`: its events, after a clean exit.
fn compare_json(config: &str, args: &[&str]) -> Vec<serde_json::Value> {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("c.toml");
    std::fs::write(&cfg, config).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_grokpair"))
        .arg("--config")
        .arg(&cfg)
        .args(["--no-save", "compare", "--json"])
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("NDJSON"))
        .collect()
}

#[test]
fn compare_two_real_servers_headless() {
    let Some(config) = two_servers() else {
        return;
    };
    let ev = compare_json(
        &config,
        &[
            "--temperature",
            "0",
            "--seed",
            "7",
            "--max-tokens",
            "24",
            "-m",
            "plain:SmolLM2-135M-Instruct",
            "-m",
            "think:SmolLM2-135M-Instruct",
            "Name three colours.",
        ],
    );
    let of = |col: u64, t: &str| {
        ev.iter()
            .filter(|e| e["column"] == col && e["type"] == t)
            .count()
    };
    assert!(of(0, "content") > 1, "the plain server answers in pieces");
    assert_eq!(of(0, "reasoning"), 0);
    assert!(
        of(1, "reasoning") > 3,
        "the thinking server streams reasoning"
    );
    for col in 0..2 {
        assert_eq!(of(col, "sent"), 1);
        assert_eq!(of(col, "finished"), 1, "column {col}");
        assert_eq!(of(col, "error"), 0, "column {col}");
    }
    let sum = ev.last().unwrap();
    assert_eq!(sum["type"], "summary");
    let cols = sum["columns"].as_array().unwrap();
    for (i, provider) in ["plain", "think"].iter().enumerate() {
        assert_eq!(cols[i]["provider"], *provider);
        assert_eq!(cols[i]["served_model"], "SmolLM2-135M-Instruct");
        assert_eq!(cols[i]["state"], "done");
        assert_eq!(cols[i]["cost"]["source"], "free");
        assert!(cols[i]["prompt_tokens"].as_u64().unwrap() > 5);
        assert!(cols[i]["ttft_ms"].as_u64().is_some());
    }
    assert!(cols[1]["reasoning_tokens"].as_u64().unwrap() > 0);
    assert_eq!(sum["winners"]["most_reasoning_tokens"]["column"], 1);
    assert!(
        sum["winners"]["cheapest_ticks"].is_null(),
        "both free: no cheapest"
    );
}

/// One real model at two parameter sets: each column's own settings reach llama.cpp.
#[test]
fn compare_one_real_model_at_two_parameter_sets() {
    let Some(config) = two_servers() else {
        return;
    };
    let ev = compare_json(
        &config,
        &[
            "-m",
            "SmolLM2-135M-Instruct@max_tokens=24",
            "-m",
            "SmolLM2-135M-Instruct@max_tokens=3,temperature=1.5",
            "Name three colours.",
        ],
    );
    let sum = ev.last().unwrap();
    let cols = sum["columns"].as_array().unwrap();
    assert_eq!(cols[0]["settings"], "max_tokens=24");
    assert_eq!(cols[1]["settings"], "temperature=1.5,max_tokens=3");
    let tokens = |c: &serde_json::Value| c["completion_tokens"].as_u64().unwrap();
    assert_eq!(tokens(&cols[1]), 3, "the server capped column B: {sum}");
    assert_eq!(cols[1]["finish_reason"], "length");
    assert!(tokens(&cols[0]) > 3, "column A was not capped at 3: {sum}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compare_two_real_servers_in_tmux() {
    let Some(config) = two_servers() else {
        return;
    };
    if !Tmux::available() {
        return;
    }
    // A comparison of chat answers: agent mode (and its system prompt) off.
    let config = format!("{config}[agent]\ntools = false\n");
    let t = Tmux::start_with("llama-compare", &config, 140, 40, "");
    t.wait_for("the TUI", |s| s.contains("Conversation")).await;
    t.type_text("/compare plain:SmolLM2-135M-Instruct think:SmolLM2-135M-Instruct");
    t.send(&["Enter"]);
    t.type_text("Name three colours.");
    t.send(&["Enter"]);
    let done = t
        .wait_secs("both columns", 180, |s| {
            s.matches(" done").count() >= 2 && !s.contains("running")
        })
        .await;
    assert!(done.contains("A SmolLM2-135M-Instruct done"), "{done}");
    assert!(done.contains("B SmolLM2-135M-Instruct done"), "{done}");
    assert!(done.contains("most reasoning B"), "{done}");
    assert!(done.contains("▾ reasoning"), "{done}");
    t.send(&["a"]);
    t.wait_for("the adopted answer", |s| {
        s.contains("adopted A SmolLM2-135M-Instruct")
    })
    .await;
    t.quit().await;
    let saved = t.saved_session();
    assert_eq!(saved.turns.len(), 2);
    assert_eq!(saved.turns[1].provider, "think");
    assert_eq!(
        saved.messages.len(),
        2,
        "the question and the adopted answer"
    );
}

/// A TCP relay in front of `upstream` that keeps every byte the client sent (the request log).
async fn recording_relay(
    upstream: std::net::SocketAddr,
) -> (String, std::sync::Arc<std::sync::Mutex<Vec<u8>>>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let keep = log.clone();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let keep = keep.clone();
            tokio::spawn(async move {
                let Ok(server) = tokio::net::TcpStream::connect(upstream).await else {
                    return;
                };
                let (mut cr, mut cw) = client.into_split();
                let (mut sr, mut sw) = server.into_split();
                let up = async {
                    let mut buf = [0u8; 16384];
                    while let Ok(n) = cr.read(&mut buf).await {
                        if n == 0 || sw.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                        keep.lock().unwrap().extend_from_slice(&buf[..n]);
                    }
                    let _ = sw.shutdown().await;
                };
                let down = tokio::io::copy(&mut sr, &mut cw);
                let _ = tokio::join!(up, down);
            });
        }
    });
    (format!("http://{addr}/v1"), log)
}

/// `exec` with the tools offered to a real (tiny) model: whatever it does — answer, or call a
/// tool — the run ends cleanly, and the request log shows the tools sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_offers_the_tools_to_a_real_model_and_stays_valid() {
    let Some(base) = url("GROKPAIR_LLAMA_URL") else {
        return;
    };
    let hostport = base
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_string();
    let upstream: std::net::SocketAddr = tokio::net::lookup_host(hostport)
        .await
        .unwrap()
        .next()
        .unwrap();
    let (relay, log) = recording_relay(upstream).await;
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("ws");
    std::fs::create_dir_all(&ws).unwrap();
    std::fs::write(ws.join("notes.txt"), "the answer is 42\n").unwrap();
    let cfg = dir.path().join("c.toml");
    std::fs::write(
        &cfg,
        format!(
            "[providers.local]\nbase_url = \"{relay}\"\n[sessions]\ndir = \"{}\"\n",
            dir.path().join("sessions").display()
        ),
    )
    .unwrap();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_grokpair"))
        .arg("--config")
        .arg(&cfg)
        .arg("--cd")
        .arg(&ws)
        .args([
            "--provider",
            "local",
            "exec",
            "--json",
            "--mode",
            "read-only",
            "--max-steps",
            "3",
            "--max-tokens",
            "48",
            "--temperature",
            "0",
            "--seed",
            "7",
            "Read notes.txt and tell me the answer.",
        ])
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .unwrap();
    let ev: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("NDJSON"))
        .collect();
    let err = String::from_utf8_lossy(&out.stderr);
    let code = out.status.code().unwrap_or(-1);
    // Done (0), or stopped by the step cap (3) when the small model keeps calling.
    assert!(code == 0 || code == 3, "exit {code}: {err}\n{ev:?}");
    let sum = ev.last().unwrap();
    assert_eq!(sum["type"], "summary", "{ev:?}");
    assert!(sum["rounds"].as_u64().unwrap() >= 1);
    // Every call the model made was answered.
    let calls = of_type(&ev, "tool_call").len();
    let results = of_type(&ev, "tool_result").len();
    assert_eq!(calls, results, "{ev:?}");
    // The request log: the tools went with the request.
    let sent = String::from_utf8_lossy(&log.lock().unwrap()).into_owned();
    assert!(sent.contains("POST /v1/chat/completions"), "{sent}");
    for name in ["read_file", "grep", "edit_file", "run_command"] {
        assert!(
            sent.contains(&format!("\"name\":\"{name}\"")),
            "{name} not sent"
        );
    }
    // Nothing in the workspace changed (read-only).
    assert_eq!(
        std::fs::read_to_string(ws.join("notes.txt")).unwrap(),
        "the answer is 42\n"
    );
}
