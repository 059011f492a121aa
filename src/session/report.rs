//! A finished (or running) turn's figures in one place: what the status bar, the headless
//! summary line and the JSON summary all show.

use serde::Serialize;
use std::time::Duration;

use super::catalog::Catalog;
use super::pricing::{cost_of, Cost, CostSource};
use super::turn::{Turn, TurnState};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TurnReport {
    pub provider: String,
    pub asked_model: String,
    pub served_model: Option<String>,
    pub state: TurnState,
    pub finish_reason: Option<String>,
    pub ttft_ms: Option<u64>,
    pub reasoning_ms: Option<u64>,
    pub answer_ms: Option<u64>,
    pub tokens_per_sec: Option<f64>,
    pub prompt_tokens: Option<u64>,
    pub cached_tokens: Option<u64>,
    pub completion_tokens: Option<u64>,
    pub reasoning_tokens: u64,
    /// Everything billed at the output price (answer + reasoning).
    pub output_tokens: u64,
    pub tokens_estimated: bool,
    pub cost: Option<Cost>,
    pub context_window: u64,
    pub context_used_pct: Option<f64>,
    pub retries: u32,
    pub error: Option<String>,
}

/// `1 line`, `2 lines`: a number and its noun, singular or plural.
pub fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `1.23s`, or `—` for no figure.
pub fn seconds(ms: Option<u64>) -> String {
    ms.map(|m| format!("{:.2}s", m as f64 / 1000.0))
        .unwrap_or_else(|| "—".into())
}

fn ms(d: Option<Duration>) -> Option<u64> {
    d.map(|d| d.as_millis() as u64)
}

impl TurnReport {
    pub fn new(
        turn: &Turn,
        now: Duration,
        provider: &str,
        catalog: &Catalog,
        includes_reasoning: bool,
        free: bool,
    ) -> Self {
        let m = turn.metrics(now, includes_reasoning);
        let info = catalog.for_turn(turn.served_model.as_deref(), &turn.asked_model);
        let u = turn.usage.as_ref();
        // Tokens that streamed were billed even when no usage came back: estimated.
        let cost = match u {
            Some(u) => Some(cost_of(u, info, includes_reasoning, free)),
            None if m.output_tokens > 0 => {
                let streamed = crate::api::Usage {
                    completion_tokens: m.output_tokens,
                    ..Default::default()
                };
                let mut c = cost_of(&streamed, info, true, free);
                if c.source == CostSource::Catalog {
                    c.source = CostSource::Estimated;
                }
                // No price to estimate with: no figure (not a false "unknown").
                (c.source != CostSource::Unknown).then_some(c)
            }
            None => None,
        };
        let context_used_pct = u.map(|u| {
            let used = u.prompt_tokens + m.output_tokens;
            used as f64 * 100.0 / info.context_window.max(1) as f64
        });
        TurnReport {
            provider: provider.to_string(),
            asked_model: turn.asked_model.clone(),
            served_model: turn.served_model.clone(),
            state: turn.state,
            finish_reason: turn.finish_reason.clone(),
            ttft_ms: ms(m.ttft),
            reasoning_ms: ms(m.reasoning_time),
            answer_ms: ms(m.answer_time),
            tokens_per_sec: m.tokens_per_sec,
            prompt_tokens: u.map(|u| u.prompt_tokens),
            cached_tokens: u.map(|u| u.cached()),
            completion_tokens: u.map(|u| u.completion_tokens),
            reasoning_tokens: m.reasoning_tokens,
            output_tokens: m.output_tokens,
            tokens_estimated: m.tokens_estimated,
            cost,
            context_window: info.context_window,
            context_used_pct,
            retries: turn.retries,
            error: turn.error.as_ref().map(|e| e.to_string()),
        }
    }

    /// The model label: `asked → served` when the provider substituted another model.
    pub fn model_label(&self) -> String {
        match &self.served_model {
            Some(s)
                if super::catalog::normalize(s) != super::catalog::normalize(&self.asked_model) =>
            {
                format!("{} → {s}", self.asked_model)
            }
            Some(s) => s.clone(),
            None => self.asked_model.clone(),
        }
    }

    /// One line: model, timing, tokens, cost and cache savings.
    pub fn summary_line(&self) -> String {
        let mut parts = vec![self.model_label()];
        match self.state {
            TurnState::Cancelled => parts.push("cancelled".into()),
            TurnState::Failed => parts.push("failed".into()),
            _ => {}
        }
        if let Some(t) = self.ttft_ms {
            parts.push(format!("ttft {:.2}s", t as f64 / 1000.0));
        }
        if let Some(r) = self.reasoning_ms.filter(|_| self.reasoning_tokens > 0) {
            parts.push(format!("thought {:.1}s", r as f64 / 1000.0));
        }
        if let Some(tps) = self.tokens_per_sec {
            parts.push(format!("{tps:.0} tok/s"));
        }
        if let Some(p) = self.prompt_tokens {
            let cached = self.cached_tokens.unwrap_or(0);
            if cached > 0 {
                parts.push(format!("prompt {p} ({cached} cached)"));
            } else {
                parts.push(format!("prompt {p}"));
            }
        }
        let approx = if self.tokens_estimated { "~" } else { "" };
        let answer = self.output_tokens.saturating_sub(self.reasoning_tokens);
        if self.reasoning_tokens > 0 {
            parts.push(format!(
                "out {approx}{answer} + {approx}{} reasoning",
                self.reasoning_tokens
            ));
        } else {
            parts.push(format!("out {approx}{answer}"));
        }
        match &self.cost {
            Some(c) => {
                match (c.source, c.amount()) {
                    (CostSource::Free, _) => parts.push("free (local)".into()),
                    (_, Some(a)) => parts.push(a),
                    (_, None) => parts.push("cost ?".into()),
                }
                if let Some(saved) = c.savings_label() {
                    parts.push(format!("cache saved {saved}"));
                }
            }
            None if self.state == TurnState::Done => parts.push("no usage reported".into()),
            None => {}
        }
        if self.retries > 0 {
            parts.push(format!(
                "{} retr{}",
                self.retries,
                if self.retries == 1 { "y" } else { "ies" }
            ));
        }
        parts.join(" · ")
    }
}

/// `web_search "rust borrow checker" · completed`: one server-side tool call, as the
/// transcript and the exports show it.
pub fn server_tool_line(t: &crate::api::ServerTool) -> String {
    match &t.detail {
        Some(d) => format!("{} \"{d}\" · {}", t.name, t.status),
        None => format!("{} · {}", t.name, t.status),
    }
}

/// `[1] Title — https://…` (or the bare URL): a numbered source under the answer.
pub fn citation_line(i: usize, c: &crate::api::Citation) -> String {
    match &c.title {
        Some(t) => format!("[{}] {t} — {}", i + 1, c.url),
        None => format!("[{}] {}", i + 1, c.url),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{StreamEvent, TimedEvent};

    /// Issue 15 (12): a turn cut off before its usage still shows what streamed, at the
    /// output price, marked as an estimate; a model with no price shows no figure.
    #[test]
    fn a_cut_turn_estimates_what_streamed() {
        let cat = Catalog::default();
        let mut t = Turn::new("grok-code-fast-1");
        let at = |ms, event| TimedEvent {
            at: Duration::from_millis(ms),
            event,
        };
        t.apply(&at(10, StreamEvent::Content("word ".repeat(400))));
        t.cancel(Duration::from_millis(20));
        let r = TurnReport::new(&t, Duration::from_millis(20), "xai", &cat, false, false);
        let c = r.cost.clone().expect("an estimate");
        assert_eq!(c.source, CostSource::Estimated);
        assert!(c.total_ticks.unwrap() > 0, "{c:?}");
        assert!(r.summary_line().contains(" · ~$"), "{}", r.summary_line());
        // Free stays free; an unpriced model gets no made-up figure.
        let free = TurnReport::new(&t, Duration::from_millis(20), "local", &cat, false, true);
        assert_eq!(free.cost.unwrap().source, CostSource::Free);
        let mut u = Turn::new("no-such-model");
        u.apply(&at(10, StreamEvent::Content("word ".repeat(400))));
        u.cancel(Duration::from_millis(20));
        let r = TurnReport::new(&u, Duration::from_millis(20), "x", &cat, false, false);
        assert_eq!(r.cost, None);
    }
}
