//! Cost accounting, exact to the tick (1 USD = 1e10 ticks).

use serde::Serialize;

use super::catalog::{ModelInfo, TICKS_PER_USD};
use crate::api::Usage;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CostSource {
    /// The provider said what it billed (`cost_in_usd_ticks`, OpenRouter's `cost`).
    Reported,
    /// Computed from the catalog prices.
    Catalog,
    /// A local server: nothing to pay.
    Free,
    /// No price known and none reported.
    Unknown,
    /// No usage came back (cancelled, cut off): what streamed, counted by the client, at
    /// the output price. The prompt is not known, so this is a lower bound.
    Estimated,
}

#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Cost {
    /// What the turn cost: the reported figure when there is one, else the computed one.
    pub total_ticks: Option<i64>,
    pub source: CostSource,
    /// The catalog's figure, for comparison with a reported one.
    pub computed_ticks: Option<i64>,
    /// What the cached prompt tokens saved against the full input price.
    pub savings_ticks: Option<i64>,
}

impl Cost {
    /// The amount as every view shows it: `~$…` for an estimate, `$…` otherwise; `None`
    /// with no figure.
    pub fn amount(&self) -> Option<String> {
        let t = self.total_ticks?;
        Some(match self.source {
            CostSource::Estimated => format!("~{}", format_usd(t)),
            _ => format_usd(t),
        })
    }

    /// Savings as a share of what the turn would have cost without the cache.
    pub fn savings_pct(&self) -> Option<f64> {
        let s = self.savings_ticks?;
        let t = self.total_ticks?;
        let without = s + t;
        (without > 0).then(|| s as f64 * 100.0 / without as f64)
    }

    /// What the cache saved, `$0.000184 (27%)`, when it saved anything.
    pub fn savings_label(&self) -> Option<String> {
        match (self.savings_ticks, self.savings_pct()) {
            (Some(s), Some(pct)) if s > 0 => Some(format!("{} ({pct:.0}%)", format_usd(s))),
            _ => None,
        }
    }
}

/// `per_million` ticks for each of `tokens`: kept as a sum of numerators so that the division
/// (and rounding) happens once.
fn mul(tokens: u64, per_million: u64) -> i128 {
    tokens as i128 * per_million as i128
}

fn round_div_million(n: i128) -> i64 {
    ((n + 500_000) / 1_000_000) as i64
}

/// Costs a turn. `includes_reasoning`: whether this provider's `completion_tokens` already counts
/// reasoning (when the usage numbers do not tell by themselves).
pub fn cost_of(usage: &Usage, model: &ModelInfo, includes_reasoning: bool, free: bool) -> Cost {
    let includes = usage
        .completion_includes_reasoning()
        .unwrap_or(includes_reasoning);
    let cached = usage.cached();
    let uncached = usage.prompt_tokens - cached;
    let out = usage.billed_output(includes);
    let prices = model.prices_for(usage.prompt_tokens);
    let computed = prices.map(|p| {
        round_div_million(mul(uncached, p.input) + mul(cached, p.cached) + mul(out, p.output))
    });
    let savings = prices.map(|p| round_div_million(mul(cached, p.input.saturating_sub(p.cached))));
    let (total, source) = match (usage.reported_cost_ticks, computed, free) {
        (Some(r), _, _) => (Some(r), CostSource::Reported),
        (None, _, true) => (Some(0), CostSource::Free),
        (None, Some(c), false) => (Some(c), CostSource::Catalog),
        (None, None, false) => (None, CostSource::Unknown),
    };
    Cost {
        total_ticks: total,
        source,
        computed_ticks: computed,
        savings_ticks: if free { Some(0) } else { savings },
    }
}

/// `$0.000308` for small amounts, `$1.2345` for larger ones; exact decimal, never float noise.
/// A total over several requests: `$X` exact; `≥$X` when some were estimated or may have been
/// billed unreported (a lower bound); `$X + ?` when some had no known price (`cost ?` if
/// none had one).
pub fn total_label(ticks: i64, lower_bound: bool, unpriced: bool) -> String {
    match (unpriced, lower_bound) {
        (true, _) if ticks == 0 => "cost ?".into(),
        (true, _) => format!("{} + ?", format_usd(ticks)),
        (false, true) => format!("≥{}", format_usd(ticks)),
        (false, false) => format_usd(ticks),
    }
}

pub fn format_usd(ticks: i64) -> String {
    let neg = ticks < 0;
    let t = ticks.unsigned_abs();
    let whole = t / TICKS_PER_USD as u64;
    let frac = t % TICKS_PER_USD as u64;
    let frac_str = format!("{frac:010}");
    let digits = if whole > 0 || frac >= 100_000_000 {
        4
    } else {
        // Keep 3 significant digits for sub-cent amounts.
        let lead = frac_str.chars().take_while(|&c| c == '0').count();
        (lead + 3).min(10)
    };
    let mut shown = frac_str[..digits].to_string();
    // Round half up on the first dropped digit.
    if digits < 10 && frac_str.as_bytes()[digits] >= b'5' {
        let v: u64 = shown.parse::<u64>().unwrap_or(0) + 1;
        if v >= 10u64.pow(digits as u32) {
            return format_usd(
                if neg { -1 } else { 1 } * ((whole + 1) * TICKS_PER_USD as u64) as i64,
            );
        }
        shown = format!("{v:0digits$}");
    }
    let trimmed = if digits > 4 {
        shown.trim_end_matches('0').to_string()
    } else {
        shown
    };
    let trimmed = if trimmed.is_empty() {
        "00".into()
    } else {
        trimmed
    };
    format!("{}${whole}.{trimmed}", if neg { "-" } else { "" })
}

#[cfg(test)]
mod tests {
    /// A total says which way it is inexact: a lower bound, or a part with no price.
    #[test]
    fn totals_say_how_they_are_inexact() {
        use super::total_label;
        use crate::session::catalog::usd_to_ticks;
        let t = usd_to_ticks(0.0012) as i64;
        assert_eq!(total_label(t, false, false), "$0.0012");
        assert_eq!(total_label(t, true, false), "≥$0.0012");
        assert_eq!(total_label(t, true, true), "$0.0012 + ?");
        assert_eq!(total_label(0, false, true), "cost ?");
    }

    use super::*;
    use crate::session::catalog::Catalog;

    #[test]
    fn xai_reasoning_billed_as_output() {
        let c = Catalog::default();
        let u = Usage {
            prompt_tokens: 213,
            completion_tokens: 2,
            total_tokens: Some(413),
            cached_tokens: Some(192),
            reasoning_tokens: Some(198),
            reported_cost_ticks: None,
        };
        // Retired since 2026-05-15: served by grok-4.3 and billed at its price.
        // 21 × 1.25 + 192 × 0.20 + (2 + 198) × 2.50 per 1M
        let cost = cost_of(&u, c.lookup("grok-code-fast-1"), false, false);
        assert_eq!(cost.total_ticks, Some(5_646_500));
        assert_eq!(cost.source, CostSource::Catalog);
        // 192 × (1.25 − 0.20) / 1M
        assert_eq!(cost.savings_ticks, Some(2_016_000));
        // At the prices of the recording's date, the recorded bill to the tick.
        let then = crate::testing::recording_catalog();
        let cost = cost_of(&u, then.lookup("grok-code-fast-1"), false, false);
        assert_eq!(cost.total_ticks, Some(3_080_400));
        assert_eq!(cost.savings_ticks, Some(345_600));
    }

    #[test]
    fn responses_output_includes_reasoning_never_billed_twice() {
        // The store:false Responses recording: 216 in (192 cached), 831 out ⊃ 253 reasoning.
        let u = crate::api::responses::usage_of(&serde_json::json!({
            "input_tokens": 216, "input_tokens_details": {"cached_tokens": 192},
            "output_tokens": 831, "output_tokens_details": {"reasoning_tokens": 253},
            "total_tokens": 1047
        }));
        let then = crate::testing::recording_catalog();
        // Even with a provider default of "excludes reasoning" (xAI Chat Completions).
        let cost = cost_of(&u, then.lookup("grok-code-fast-1"), false, false);
        // 24 × 0.20 + 192 × 0.02 + 831 × 1.50 = $0.00125514 (the fixtures README)
        assert_eq!(cost.total_ticks, Some(12_551_400));
    }

    #[test]
    fn long_context_tier() {
        let c = Catalog::default();
        let u = Usage {
            prompt_tokens: 200_000,
            completion_tokens: 1000,
            ..Default::default()
        };
        // grok-4.5 and later: doubled from 200K prompt tokens on.
        // 200000 × 4.00 + 1000 × 12.00 per 1M = $0.812
        let cost = cost_of(&u, c.lookup("grok-4.7"), false, false);
        assert_eq!(cost.total_ticks, Some(8_120_000_000));
        let below = Usage {
            prompt_tokens: 199_999,
            ..u
        };
        // 199999 × 2.00 + 1000 × 6.00 per 1M
        let cost = cost_of(&below, c.lookup("grok-4.6"), false, false);
        assert_eq!(cost.total_ticks, Some(4_059_980_000));
    }

    #[test]
    fn free_and_unknown() {
        let c = Catalog::default();
        let u = Usage {
            prompt_tokens: 10,
            completion_tokens: 5,
            ..Default::default()
        };
        assert_eq!(
            cost_of(&u, c.lookup("x"), true, true).source,
            CostSource::Free
        );
        let unk = cost_of(&u, c.lookup("x"), true, false);
        assert_eq!((unk.total_ticks, unk.source), (None, CostSource::Unknown));
    }

    #[test]
    fn usd_formatting() {
        assert_eq!(format_usd(3_080_400), "$0.000308");
        assert_eq!(format_usd(959_500), "$0.000096");
        assert_eq!(format_usd(12_345_678_900), "$1.2346");
        assert_eq!(format_usd(0), "$0.00");
        assert_eq!(format_usd(810_000_000), "$0.0810");
        assert_eq!(format_usd(345_600), "$0.0000346");
    }
}
