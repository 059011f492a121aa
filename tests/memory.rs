//! Memory bounds, measured on the real binary in processes of their own (this test binary
//! runs no other child, so the peak of its children is theirs).

use grokpair::api::{Message, StreamEvent};
use grokpair::session::store::{Header, Record, SavedEvent, Settings};
use grokpair::session::TurnState;
use grokpair::testing::{synth_sse, FakeServer, Reply, SynthUsage};
use std::path::Path;

/// Writes a 1000-turn session of about 8.5 MB: every turn a 4 KB question and a 4 KB answer.
fn big_session(dir: &Path) {
    let header = Header {
        version: 1,
        id: "20261201-000000-big0".into(),
        name: Some("big".into()),
        created: "2026-12-01T00:00:00Z".into(),
        provider: "fake".into(),
        model: "grok-code-fast-1".into(),
        conv_id: "c0ffee00-0000-4000-8000-000000000000".into(),
        settings: Settings::default(),
        kind: "chat".into(),
    };
    let mut lines = vec![serde_json::to_string(&Record::Header(header)).unwrap()];
    let text = |k: usize, who: &str| format!("{who} {k}: {}\n", "lorem ipsum ".repeat(340));
    for k in 0..1000 {
        lines.push(
            serde_json::to_string(&Record::History {
                base: 2 * k,
                messages: vec![Message::user(text(k, "question"))],
            })
            .unwrap(),
        );
        lines.push(
            serde_json::to_string(&Record::Request {
                turn: k,
                at: "2026-12-01T00:00:00Z".into(),
                provider: "fake".into(),
                model: "grok-code-fast-1".into(),
                messages: 2 * k + 1,
                compare: None,
                params: None,
                exchange: Some(k),
                round: 0,
            })
            .unwrap(),
        );
        let answer = text(k, "answer");
        lines.push(
            serde_json::to_string(&Record::Events {
                turn: k,
                events: vec![
                    SavedEvent {
                        ms: 10,
                        event: StreamEvent::Content(answer.clone()),
                    },
                    SavedEvent {
                        ms: 20,
                        event: StreamEvent::Finished {
                            reason: Some("stop".into()),
                        },
                    },
                ],
            })
            .unwrap(),
        );
        lines.push(
            serde_json::to_string(&Record::End {
                turn: k,
                state: TurnState::Done,
                ms: 20,
                usage: None,
                cost: None,
                error: None,
            })
            .unwrap(),
        );
        lines.push(
            serde_json::to_string(&Record::History {
                base: 2 * k + 1,
                messages: vec![Message::assistant(answer)],
            })
            .unwrap(),
        );
    }
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("big.jsonl"), lines.join("\n") + "\n").unwrap();
}

/// The largest resident size of the children waited for so far, in MB.
fn children_peak_mb() -> u64 {
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage writes into the struct it is given.
    assert_eq!(
        unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut ru) },
        0
    );
    ru.ru_maxrss as u64 / 1024
}

/// An 8.5 MB, 1000-turn session is listed, exported and continued in well under 100 MB (each
/// turn's request used to be a copy of the history before it: 2.1 GB).
// Two workers: the fake server answers while this thread waits for the child.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_session_loads_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let sessions = dir.path().join("sessions");
    big_session(&sessions);
    let size = std::fs::metadata(sessions.join("big.jsonl")).unwrap().len();
    assert!(size > 8_000_000, "{size} bytes");
    let s = FakeServer::start().await;
    s.push(Reply::sse(synth_sse(
        "grok-code-fast-1",
        "",
        "Still here.",
        SynthUsage {
            prompt: 10,
            cached: 0,
            completion: 3,
            reasoning: 0,
            ticks: None,
        },
    )));
    let config = dir.path().join("c.toml");
    std::fs::write(
        &config,
        format!(
            "provider = \"fake\"\n[sessions]\ndir = \"{}\"\n[providers.fake]\nbase_url = \"{}\"\n\
             api_key_env = \"GP_MEM_KEY\"\nmodel = \"grok-code-fast-1\"\n",
            sessions.display(),
            s.base_url()
        ),
    )
    .unwrap();
    let runs: [&[&str]; 4] = [
        &["sessions"],
        &["export", "big", "--format", "md", "-o", "/dev/null"],
        &["export", "big", "--format", "json", "-o", "/dev/null"],
        &["ask", "--session", "big", "one more"],
    ];
    for args in runs {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_grokpair"))
            .arg("--config")
            .arg(&config)
            .args(args)
            .env("GP_MEM_KEY", "gp-mem-key-1234567890")
            .env("XDG_CACHE_HOME", dir.path().join("cache"))
            .env_remove("GROKPAIR_CONFIG")
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let peak = children_peak_mb();
        eprintln!("{args:?}: peak so far {peak} MB");
        assert!(peak <= 100, "{args:?}: peak {peak} MB");
    }
    // The continued request carried the whole history: 2000 messages and the new question.
    let body = s.requests()[0].json();
    assert_eq!(body["messages"].as_array().unwrap().len(), 2001);
}
