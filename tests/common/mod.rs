#![allow(dead_code)]

pub mod tmux;

use std::path::PathBuf;
use std::time::Duration;

use grokpair::api::{ChatParams, StreamEvent, TimedEvent};
use grokpair::config::Config;
use grokpair::engine::Engine;
use grokpair::session::{Conversation, Turn};

pub fn fixtures_dir() -> PathBuf {
    let dir = std::env::var_os("GROKPAIR_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/recorded")
        });
    assert!(
        dir.join("README.md").exists(),
        "recorded fixtures not found at {} (set GROKPAIR_FIXTURES)",
        dir.display()
    );
    dir
}

/// One row of the fixtures README table: the expected figures, computed independently of us.
#[derive(Debug, Clone)]
pub struct Expected {
    pub folder: String,
    pub provider: String,
    pub model_requested: String,
    pub model_served: Option<String>,
    pub stream: bool,
    pub prompt: Option<u64>,
    pub cached: Option<u64>,
    pub completion: Option<u64>,
    pub reasoning: Option<u64>,
    pub computed_ticks: Option<i64>,
    pub recorded_ticks: Option<i64>,
}

/// "0.000191825" → 1918250 ticks, exactly.
pub fn usd_str_to_ticks(s: &str) -> Option<i64> {
    let s = s.trim();
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    let whole: i64 = whole.parse().ok()?;
    let mut frac = frac.to_string();
    if frac.len() > 10 || !frac.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    while frac.len() < 10 {
        frac.push('0');
    }
    Some(whole * 10_000_000_000 + frac.parse::<i64>().ok()?)
}

pub fn expected_table() -> Vec<Expected> {
    let text = std::fs::read_to_string(fixtures_dir().join("README.md")).unwrap();
    let strip = |c: &str| c.trim().trim_matches('`').to_string();
    let num = |c: &str| strip(c).parse::<u64>().ok();
    text.lines()
        .filter(|l| l.starts_with("| `"))
        .map(|l| {
            let cols: Vec<&str> = l.trim_matches('|').split('|').collect();
            assert!(cols.len() >= 17, "unexpected README row: {l}");
            let served = strip(cols[3]);
            Expected {
                folder: strip(cols[0]),
                provider: strip(cols[1]),
                model_requested: strip(cols[2]),
                model_served: (served != "—").then_some(served),
                stream: strip(cols[4]) == "yes",
                prompt: num(cols[7]),
                cached: num(cols[8]),
                completion: num(cols[9]),
                reasoning: num(cols[10]),
                computed_ticks: usd_str_to_ticks(&strip(cols[13])),
                recorded_ticks: usd_str_to_ticks(&strip(cols[14])),
            }
        })
        .collect()
}

/// A config whose provider `fake` points at `base_url`, with fast retries and short timeouts,
/// and the recordings' prices (`RECORDING_PRICES_TOML`).
pub fn config_for(base_url: &str, dialect: &str, extra: &str) -> Config {
    std::env::set_var("GROKPAIR_TEST_KEY", "gp-test-key-1234567890abcd");
    let text = format!(
        r#"provider = "fake"
[network]
connect_timeout_secs = 2
idle_timeout_secs = 0.5
first_token_timeout_secs = 0.5
max_retries = 2
retry_base_ms = 5
retry_max_ms = 20
[providers.fake]
base_url = "{base_url}"
api_key_env = "GROKPAIR_TEST_KEY"
model = "grok-code-fast-1"
dialect = "{dialect}"
{extra}
{prices}"#,
        prices = grokpair::testing::RECORDING_PRICES_TOML
    );
    Config::parse(&text, None).unwrap()
}

pub fn engine(cfg: &Config) -> Engine {
    Engine::new(cfg, cfg.provider("fake").unwrap()).unwrap()
}

/// Runs one turn to its end through the runner (nothing recorded); returns the assembled
/// turn and every event.
pub async fn run_turn(
    cfg: &Config,
    model: &str,
    conv: &Conversation,
    params: &ChatParams,
) -> (Turn, Vec<TimedEvent>) {
    let eng = engine(cfg);
    let mut runner = grokpair::runner::Runner::new(grokpair::session::store::Recorder::new(
        std::path::Path::new("/nonexistent"),
        false,
    ));
    let settings = grokpair::session::store::Settings {
        system: None,
        params: params.clone(),
    };
    let id = grokpair::session::exchange::RoundId::first(0);
    let mut round = runner.start(&eng, cfg, conv, model, &settings, id);
    let mut events = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let ev = tokio::time::timeout_at(deadline, runner.next(&mut round))
            .await
            .expect("turn did not end within 30s");
        let Some(ev) = ev else { break };
        events.push(ev);
    }
    (round.turn, events)
}

pub fn count<F: Fn(&StreamEvent) -> bool>(events: &[TimedEvent], f: F) -> usize {
    events.iter().filter(|e| f(&e.event)).count()
}

/// How many times a turn was retried.
pub fn retries(events: &[TimedEvent]) -> usize {
    count(events, |e| matches!(e, StreamEvent::Retrying { .. }))
}

/// A conversation of one user message, `hello`.
pub fn hello() -> Conversation {
    let mut c = Conversation::new(None);
    c.push_user("hello");
    c
}
