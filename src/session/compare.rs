//! Side-by-side comparison of models on one prompt: who the columns are, their figures, the
//! winners, and a diff of their code. No terminal and no network here.

use super::report::seconds;
use serde::Serialize;
use std::time::Duration;

use super::pricing::{format_usd, CostSource};
use super::turn::{Turn, TurnState};
use super::{Catalog, TurnReport};
use crate::api::request::settings_spec;

/// At least this many models take part in a comparison, at most `MAX_COLUMNS`.
pub const MIN_COLUMNS: usize = 2;
pub const MAX_COLUMNS: usize = 4;

/// One model to ask: `provider:model`, or a model of the default provider. `model` None means
/// the provider's default (`provider:` alone). `settings` are the column's own sampling
/// settings over the shared ones (`temperature=0.2,seed=7`; empty: none).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Target {
    pub provider: String,
    pub model: Option<String>,
    pub settings: String,
}

/// Reads `specs` as comparison targets. A prefix before the first `:` is a provider only when
/// one of that name exists, so model ids that contain a colon (`llama3:8b`) stay whole. A
/// suffix `@key=value,…` gives the column its own sampling settings, so one model can be
/// compared with itself (`grok-3-mini@temperature=0 grok-3-mini@temperature=1.2`); an `@`
/// followed by no `=` stays part of the model id.
pub fn parse_targets(
    specs: &[String],
    providers: &[String],
    default_provider: &str,
) -> Result<Vec<Target>, String> {
    if specs.len() < MIN_COLUMNS || specs.len() > MAX_COLUMNS {
        return Err(format!(
            "compare takes {MIN_COLUMNS} to {MAX_COLUMNS} models, got {}",
            specs.len()
        ));
    }
    specs
        .iter()
        .map(|s| {
            let s = s.trim();
            if s.is_empty() {
                return Err("an empty model name".to_string());
            }
            let (s, settings) = match s.rsplit_once('@') {
                Some((m, spec)) if spec.contains('=') => {
                    (m, settings_spec(spec).map_err(|e| format!("{s}: {e}"))?)
                }
                _ => (s, String::new()),
            };
            match s.split_once(':') {
                Some((p, m)) if providers.iter().any(|x| x == p) => Ok(Target {
                    provider: p.to_string(),
                    model: Some(m.to_string()).filter(|m| !m.is_empty()),
                    settings,
                }),
                _ => Ok(Target {
                    provider: default_provider.to_string(),
                    model: Some(s.to_string()).filter(|m| !m.is_empty()),
                    settings,
                }),
            }
        })
        .collect()
}

/// `A model · B model …`, for saying where a message goes.
pub fn target_names(targets: &[Target]) -> String {
    targets
        .iter()
        .enumerate()
        .map(|(i, t)| column_label(i, t.model.as_deref().unwrap_or(""), &t.settings))
        .collect::<Vec<_>>()
        .join(" · ")
}

/// `B grok-3-mini @temperature=0`: column `i`'s letter, its model and its own settings.
fn column_label(i: usize, model: &str, settings: &str) -> String {
    format!("{} {model}{}", letter(i), at_settings(settings))
}

/// ` @temperature=0.2`, or nothing without settings: how a column's own settings are shown.
pub fn at_settings(settings: &str) -> String {
    if settings.is_empty() {
        String::new()
    } else {
        format!(" @{settings}")
    }
}

/// Column letters: A, B, C, D.
pub fn letter(i: usize) -> char {
    (b'A' + (i as u8 % 26)) as char
}

/// One model's answer in a comparison. Its turn's times count from when its own request went
/// out; `sent_at` places that on the comparison's clock.
#[derive(Debug, Clone)]
pub struct Column {
    pub provider: String,
    pub turn: Turn,
    /// Its own sampling settings over the shared ones (see [`Target`]).
    pub settings: String,
    pub includes_reasoning: bool,
    pub free: bool,
    /// When the request went out, from the comparison's start; None while it waits for a slot.
    pub sent_at: Option<Duration>,
}

impl Column {
    pub fn new(provider: &str, model: &str, includes_reasoning: bool, free: bool) -> Self {
        Column {
            provider: provider.to_string(),
            turn: Turn::new(model),
            settings: String::new(),
            includes_reasoning,
            free,
            sent_at: None,
        }
    }

    /// With its own sampling settings (`temperature=0.2,seed=7`).
    pub fn with_settings(mut self, settings: &str) -> Self {
        self.settings = settings.to_string();
        self
    }

    /// `A grok-3-mini`: column `i`'s letter and the model answering in it (and its own
    /// settings: `A grok-3-mini @temperature=0`).
    pub fn name(&self, i: usize) -> String {
        column_label(i, self.turn.model(), &self.settings)
    }

    /// Waiting for a free slot at its provider.
    pub fn queued(&self) -> bool {
        self.sent_at.is_none() && !self.turn.is_finished()
    }

    /// The column's own clock at comparison time `now`.
    pub fn local(&self, now: Duration) -> Duration {
        now.saturating_sub(self.sent_at.unwrap_or(now))
    }

    /// Its figures at comparison time `now` (final once the turn has ended).
    pub fn report(&self, column: usize, now: Duration, catalog: &Catalog) -> ColumnReport {
        let local = match self.turn.timing.end {
            Some(end) if self.turn.is_finished() => end,
            _ => self.local(now),
        };
        let report = TurnReport::new(
            &self.turn,
            local,
            &self.provider,
            catalog,
            self.includes_reasoning,
            self.free,
        );
        ColumnReport {
            column,
            label: letter(column).to_string(),
            settings: self.settings.clone(),
            duration_ms: (self.sent_at.is_some() || self.turn.is_finished())
                .then_some(local.as_millis() as u64),
            report,
        }
    }
}

/// One column's figures, as the headless summary and the TUI show them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ColumnReport {
    pub column: usize,
    pub label: String,
    /// The column's own sampling settings, if any.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub settings: String,
    /// From sending the request to its end (or to now, while it runs).
    pub duration_ms: Option<u64>,
    #[serde(flatten)]
    pub report: TurnReport,
}

impl ColumnReport {
    /// The model that answered, with the column's own settings if it had any
    /// (`grok-3-mini @temperature=0`).
    pub fn model_label(&self) -> String {
        format!(
            "{}{}",
            self.report.model_label(),
            at_settings(&self.settings)
        )
    }
}

/// The winner of one category: which column, and the figure that won.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Win<T> {
    pub column: usize,
    pub value: T,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Winners {
    /// Lowest time to first token.
    pub first_token: Option<Win<u64>>,
    /// Shortest time from request to the end of a complete answer.
    pub fastest: Option<Win<u64>>,
    /// Lowest known cost among complete answers (only when the costs differ).
    pub cheapest: Option<Win<i64>>,
    /// Most reasoning tokens.
    pub most_reasoning: Option<Win<u64>>,
}

/// The candidate with the smallest value; none when another one shows the same figure
/// (`show`): a tie, exact or within what the figure shows (0.004 s and 0.003 s both show
/// `0.00s`), names no winner.
fn min_by<T: PartialOrd + Copy>(
    it: impl Iterator<Item = (usize, T)>,
    show: impl Fn(T) -> String,
) -> Option<Win<T>> {
    let all: Vec<(usize, T)> = it.collect();
    let mut best: Option<Win<T>> = None;
    for &(column, value) in &all {
        if best.is_none_or(|b| value < b.value) {
            best = Some(Win { column, value });
        }
    }
    let b = best?;
    let shown = show(b.value);
    let tied = all.iter().any(|&(c, v)| c != b.column && show(v) == shown);
    (!tied).then_some(b)
}

/// Winners over the columns. Only complete answers take part: a failed or cancelled one is
/// neither fast nor cheap, however soon it stopped.
pub fn winners(cols: &[ColumnReport]) -> Winners {
    let done = |c: &&ColumnReport| c.report.state == TurnState::Done;
    let secs = |ms: u64| seconds(Some(ms));
    let first_token = min_by(
        cols.iter()
            .filter(done)
            .filter_map(|c| c.report.ttft_ms.map(|t| (c.column, t))),
        secs,
    );
    let fastest = min_by(
        cols.iter()
            .filter(done)
            .filter_map(|c| c.duration_ms.map(|d| (c.column, d))),
        secs,
    );
    let costs: Vec<(usize, i64)> = cols
        .iter()
        .filter(done)
        .filter_map(|c| {
            let cost = c.report.cost.as_ref()?;
            match cost.source {
                CostSource::Free => Some((c.column, 0)),
                _ => cost.total_ticks.map(|t| (c.column, t)),
            }
        })
        .collect();
    let all_equal = costs.windows(2).all(|w| w[0].1 == w[1].1);
    let cheapest = if costs.len() >= 2 && !all_equal {
        min_by(costs.into_iter(), format_usd)
    } else {
        None
    };
    let mut most_reasoning: Option<Win<u64>> = None;
    let mut tied = false;
    for c in cols.iter().filter(done) {
        let r = c.report.reasoning_tokens;
        match most_reasoning {
            Some(b) if r == b.value => tied = true,
            Some(b) if r < b.value => {}
            _ if r > 0 => {
                most_reasoning = Some(Win {
                    column: c.column,
                    value: r,
                });
                tied = false;
            }
            _ => {}
        }
    }
    let most_reasoning = most_reasoning.filter(|_| !tied);
    Winners {
        first_token,
        fastest,
        cheapest,
        most_reasoning,
    }
}

impl Winners {
    /// `(category, column, figure)` for each category that has a winner, in display order.
    pub fn items(&self) -> Vec<(&'static str, usize, String)> {
        let mut v = Vec::new();
        if let Some(w) = self.first_token {
            v.push(("first token", w.column, seconds(Some(w.value))));
        }
        if let Some(w) = self.fastest {
            v.push(("fastest", w.column, seconds(Some(w.value))));
        }
        if let Some(w) = self.cheapest {
            v.push(("cheapest", w.column, format_usd(w.value)));
        }
        if let Some(w) = self.most_reasoning {
            v.push(("most reasoning", w.column, format!("{} tok", w.value)));
        }
        v
    }
}

/// The fenced code blocks of a Markdown answer: `(language, code)` (see `session::fence`). An
/// unclosed fence at the end (a cut-off answer) counts with what it has.
pub fn code_blocks(markdown: &str) -> Vec<(String, String)> {
    crate::session::fence::blocks(markdown)
}

/// The code of an answer as one text for diffing: each block under a one-line header.
pub fn code_text(markdown: &str) -> String {
    let blocks = code_blocks(markdown);
    let mut s = String::new();
    for (i, (lang, code)) in blocks.iter().enumerate() {
        let lang = if lang.is_empty() { "text" } else { lang };
        s.push_str(&format!("### block {} ({lang})\n", i + 1));
        s.push_str(code);
        if !code.ends_with('\n') && !code.is_empty() {
            s.push('\n');
        }
    }
    s
}

/// A unified diff of the code blocks of two answers (`---`/`+++` name the two columns). Empty
/// when their code is the same.
pub fn code_diff(a_name: &str, a: &str, b_name: &str, b: &str) -> String {
    let (ta, tb) = (code_text(a), code_text(b));
    if ta == tb {
        return String::new();
    }
    // Past the deadline the diff is coarser (still correct), never slower.
    similar::TextDiff::configure()
        .timeout(std::time::Duration::from_millis(150))
        .diff_lines(&ta, &tb)
        .unified_diff()
        .context_radius(3)
        .header(a_name, b_name)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::{Cost, TurnState};

    fn col(
        i: usize,
        state: TurnState,
        ttft: Option<u64>,
        dur: Option<u64>,
        ticks: Option<i64>,
        reasoning: u64,
    ) -> ColumnReport {
        ColumnReport {
            column: i,
            label: format!("{}", letter(i)),
            settings: String::new(),
            duration_ms: dur,
            report: TurnReport {
                provider: "p".into(),
                asked_model: format!("m{i}"),
                served_model: None,
                state,
                finish_reason: None,
                ttft_ms: ttft,
                reasoning_ms: None,
                answer_ms: None,
                tokens_per_sec: None,
                prompt_tokens: None,
                cached_tokens: None,
                completion_tokens: None,
                reasoning_tokens: reasoning,
                output_tokens: reasoning,
                tokens_estimated: false,
                cost: ticks.map(|t| Cost {
                    total_ticks: Some(t),
                    source: CostSource::Reported,
                    computed_ticks: None,
                    savings_ticks: None,
                }),
                context_window: 1000,
                context_used_pct: None,
                retries: 0,
                error: None,
            },
        }
    }

    #[test]
    fn targets_split_only_on_known_providers() {
        let provs = vec!["xai".to_string(), "local".to_string()];
        let t = parse_targets(
            &[
                "grok-3-mini".into(),
                "local:llama3:8b".into(),
                "ollama:qwen".into(),
                "local:".into(),
            ],
            &provs,
            "xai",
        )
        .unwrap();
        assert_eq!(t[0].provider, "xai");
        assert_eq!(t[0].model.as_deref(), Some("grok-3-mini"));
        assert_eq!(t[1].provider, "local");
        assert_eq!(t[1].model.as_deref(), Some("llama3:8b"));
        // Not a provider: the whole thing is a model id of the default provider.
        assert_eq!(t[2].provider, "xai");
        assert_eq!(t[2].model.as_deref(), Some("ollama:qwen"));
        assert_eq!(t[3].model, None);
        assert!(t.iter().all(|t| t.settings.is_empty()));
        assert!(parse_targets(&["a".into()], &provs, "xai").is_err());
        let five: Vec<String> = (0..5).map(|i| format!("m{i}")).collect();
        assert!(parse_targets(&five, &provs, "xai")
            .unwrap_err()
            .contains("2 to 4"));
    }

    #[test]
    fn targets_carry_their_own_settings() {
        let provs = vec!["xai".to_string(), "local".to_string()];
        let t = parse_targets(
            &[
                "grok-3-mini@seed=7,temperature=0".into(),
                "local:llama3:8b@temperature=1.2".into(),
                "@reasoning_effort=high".into(),
                "claude-3@20240229".into(),
            ],
            &provs,
            "xai",
        )
        .unwrap();
        assert_eq!(t[0].model.as_deref(), Some("grok-3-mini"));
        assert_eq!(t[0].settings, "temperature=0,seed=7");
        assert_eq!(
            (t[1].provider.as_str(), t[1].model.as_deref()),
            ("local", Some("llama3:8b"))
        );
        assert_eq!(t[1].settings, "temperature=1.2");
        // No model: the current one, with other settings.
        assert_eq!(
            (t[2].provider.as_str(), t[2].model.as_deref()),
            ("xai", None)
        );
        assert_eq!(t[2].settings, "reasoning_effort=high");
        // An `@` with no `=` after it belongs to the model id.
        assert_eq!(t[3].model.as_deref(), Some("claude-3@20240229"));
        assert_eq!(t[3].settings, "");
        assert_eq!(
            target_names(&t[..2]),
            "A grok-3-mini @temperature=0,seed=7 · B llama3:8b @temperature=1.2"
        );
        let e = parse_targets(&["m@temperature=5".into(), "m".into()], &provs, "xai").unwrap_err();
        assert_eq!(e, "m@temperature=5: temperature must be 0 to 2, got 5");
        let c = Column::new("xai", "grok-3-mini", true, false).with_settings("temperature=0");
        assert_eq!(c.name(1), "B grok-3-mini @temperature=0");
    }

    #[test]
    fn winners_skip_failed_columns_and_equal_costs() {
        let cols = vec![
            col(0, TurnState::Done, Some(300), Some(2000), Some(50), 10),
            col(1, TurnState::Done, Some(100), Some(3000), Some(40), 500),
            // Failed fast, cheap and after much thought: wins nothing.
            col(2, TurnState::Failed, Some(50), Some(200), Some(1), 900),
        ];
        let w = winners(&cols);
        assert_eq!(w.first_token.unwrap().column, 1);
        assert_eq!(w.fastest.unwrap().column, 0);
        assert_eq!(w.cheapest.unwrap().column, 1);
        assert_eq!(w.most_reasoning.unwrap().column, 1);
        let same = vec![
            col(0, TurnState::Done, Some(300), Some(2000), Some(40), 0),
            col(1, TurnState::Done, Some(300), Some(2000), Some(40), 0),
        ];
        let w = winners(&same);
        assert_eq!(w.cheapest, None, "equal costs have no cheapest");
        assert_eq!(w.most_reasoning, None);
        // Issue 15 (16): an exact tie names no winner.
        assert_eq!(w.first_token, None, "a tie has no winner");
        assert_eq!(w.fastest, None);
        let three = vec![
            col(0, TurnState::Done, Some(300), Some(2000), Some(40), 7),
            col(1, TurnState::Done, Some(100), Some(2000), Some(40), 7),
            col(2, TurnState::Done, Some(100), Some(2500), Some(90), 3),
        ];
        let w = winners(&three);
        assert_eq!(w.first_token, None, "1 and 2 tie on the first token");
        assert_eq!(w.fastest, None, "0 and 1 tie on the time");
        assert_eq!(w.cheapest, None, "0 and 1 tie on the cheapest");
        assert_eq!(w.most_reasoning, None, "0 and 1 tie on reasoning");
        // A tie within what the figure shows: 3 ms and 4 ms both show 0.00s.
        let near = vec![
            col(0, TurnState::Done, Some(3), Some(4), Some(40), 0),
            col(1, TurnState::Done, Some(4), Some(13), Some(40), 0),
        ];
        let w = winners(&near);
        assert_eq!(w.first_token, None, "0.00s against 0.00s");
        assert_eq!(w.fastest.map(|w| w.column), Some(0), "0.00s against 0.01s");
        let items = winners(&cols).items();
        assert_eq!(items[0], ("first token", 1, "0.10s".to_string()));
        assert_eq!(items[2], ("cheapest", 1, "$0.000000004".to_string()));
    }

    #[test]
    fn code_blocks_and_diff() {
        let a = "Use this:\n```rust\nfn f() -> u8 {\n    1\n}\n```\nand\n~~~\nplain\n~~~\n";
        let b = "```rust\nfn f() -> u8 {\n    2\n}\n```\n```python\nprint(1)";
        let ba = code_blocks(a);
        assert_eq!(ba.len(), 2);
        assert_eq!(ba[0], ("rust".into(), "fn f() -> u8 {\n    1\n}\n".into()));
        assert_eq!(ba[1], ("".into(), "plain\n".into()));
        let bb = code_blocks(b);
        assert_eq!(
            bb[1],
            ("python".into(), "print(1)\n".into()),
            "unclosed fence"
        );
        let d = code_diff("A grok", a, "B mini", b);
        assert!(d.starts_with("--- A grok\n+++ B mini\n"), "{d}");
        assert!(d.contains("-    1\n+    2\n"), "{d}");
        assert!(d.contains("-### block 2 (text)\n-plain\n+### block 2 (python)\n+print(1)\n"));
        assert_eq!(code_diff("a", a, "b", a), "");
    }
}
