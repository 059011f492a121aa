//! The built-in model table: context windows, prices and what each model accepts.
//! Every entry can be overridden or extended from the config file.

use serde::{Deserialize, Serialize};

use crate::api::ModelCaps;

/// Ticks per USD (xAI's `cost_in_usd_ticks` unit).
pub const TICKS_PER_USD: i64 = 10_000_000_000;

/// Prices in ticks per one million tokens (1 USD = 1e10 ticks), so that every published price
/// is an exact integer and costs add up to the tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Prices {
    pub input: u64,
    pub cached: u64,
    pub output: u64,
}

impl Prices {
    /// From USD per 1M tokens.
    pub fn usd(input: f64, cached: f64, output: f64) -> Self {
        Prices {
            input: usd_to_ticks(input),
            cached: usd_to_ticks(cached),
            output: usd_to_ticks(output),
        }
    }
}

pub fn usd_to_ticks(usd: f64) -> u64 {
    (usd * TICKS_PER_USD as f64).round().max(0.0) as u64
}

/// A higher price tier for long prompts (xAI charges more above 128K prompt tokens).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LongContext {
    pub above_tokens: u64,
    pub prices: Prices,
}

/// Whether and how a model shows its reasoning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReasoningMode {
    /// Streams reasoning text (`reasoning_content` / `reasoning`).
    Text,
    /// Reasons and bills reasoning tokens, but sends no text (grok-4, grok-4-fast-reasoning).
    Hidden,
    /// Does not reason.
    None,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelInfo {
    pub id: String,
    pub aliases: Vec<String>,
    pub context_window: u64,
    pub max_output: Option<u64>,
    pub prices: Option<Prices>,
    pub long_context: Option<LongContext>,
    pub reasoning: ReasoningMode,
    pub reasoning_effort: bool,
    pub rejects: Vec<String>,
    pub echo_reasoning: bool,
    pub note: Option<String>,
}

impl ModelInfo {
    pub fn caps(&self) -> ModelCaps {
        ModelCaps {
            rejects: self.rejects.clone(),
            reasoning_effort: self.reasoning_effort,
            echo_reasoning: self.echo_reasoning,
        }
    }

    /// The prices that apply to a prompt of `prompt_tokens`.
    pub fn prices_for(&self, prompt_tokens: u64) -> Option<Prices> {
        match self.long_context {
            Some(lc) if prompt_tokens > lc.above_tokens => Some(lc.prices),
            _ => self.prices,
        }
    }

    fn matches(&self, id: &str) -> bool {
        self.id == id || self.aliases.iter().any(|a| a == id)
    }
}

fn strs(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

const REASONING_REJECTS: &[&str] = &["stop", "presence_penalty", "frequency_penalty"];

/// The id used for models nobody described.
pub const DEFAULT_ID: &str = "default";

pub fn builtin() -> Vec<ModelInfo> {
    vec![
        ModelInfo {
            id: "grok-code-fast-1".into(),
            aliases: strs(&["grok-code-fast", "grok-code-fast-1-0825"]),
            context_window: 256_000,
            max_output: Some(10_000),
            prices: Some(Prices::usd(0.20, 0.02, 1.50)),
            long_context: None,
            reasoning: ReasoningMode::Text,
            reasoning_effort: false,
            rejects: strs(REASONING_REJECTS),
            echo_reasoning: true,
            note: None,
        },
        ModelInfo {
            id: "grok-4-fast-reasoning".into(),
            aliases: strs(&[
                "grok-4-fast",
                "grok-4-fast-reasoning-latest",
                "grok-4-1-fast-reasoning",
                "grok-4-1-fast",
                "grok-4.1-fast",
            ]),
            context_window: 2_000_000,
            max_output: None,
            prices: Some(Prices::usd(0.20, 0.05, 0.50)),
            long_context: Some(LongContext {
                above_tokens: 128_000,
                prices: Prices::usd(0.40, 0.05, 1.00),
            }),
            reasoning: ReasoningMode::Hidden,
            reasoning_effort: false,
            rejects: strs(REASONING_REJECTS),
            echo_reasoning: false,
            note: Some("grok-4.1-fast priced as grok-4-fast (no published price)".into()),
        },
        ModelInfo {
            id: "grok-4-fast-non-reasoning".into(),
            aliases: strs(&[
                "grok-4-fast-non-reasoning-latest",
                "grok-4-1-fast-non-reasoning",
            ]),
            context_window: 2_000_000,
            max_output: None,
            prices: Some(Prices::usd(0.20, 0.05, 0.50)),
            long_context: None,
            reasoning: ReasoningMode::None,
            reasoning_effort: false,
            rejects: Vec::new(),
            echo_reasoning: false,
            note: None,
        },
        ModelInfo {
            id: "grok-3-mini".into(),
            aliases: strs(&["grok-3-mini-high", "grok-3-mini-low", "grok-3-mini-latest"]),
            context_window: 131_072,
            max_output: None,
            prices: Some(Prices::usd(0.30, 0.075, 0.50)),
            long_context: None,
            reasoning: ReasoningMode::Text,
            reasoning_effort: true,
            rejects: strs(REASONING_REJECTS),
            echo_reasoning: true,
            note: None,
        },
        ModelInfo {
            id: "grok-4".into(),
            aliases: strs(&["grok-4-0709", "grok-4-latest"]),
            context_window: 256_000,
            max_output: None,
            prices: Some(Prices::usd(3.00, 0.75, 15.00)),
            long_context: Some(LongContext {
                above_tokens: 128_000,
                prices: Prices::usd(6.00, 0.75, 30.00),
            }),
            reasoning: ReasoningMode::Hidden,
            reasoning_effort: false,
            rejects: strs(REASONING_REJECTS),
            echo_reasoning: false,
            note: None,
        },
        ModelInfo {
            id: "grok-4.3".into(),
            aliases: strs(&["grok-4.3-latest"]),
            context_window: 256_000,
            max_output: None,
            // Cached price unpublished: charge the input price rather than claim savings.
            prices: Some(Prices::usd(1.25, 1.25, 2.50)),
            long_context: None,
            reasoning: ReasoningMode::Hidden,
            reasoning_effort: true,
            rejects: strs(REASONING_REJECTS),
            echo_reasoning: false,
            note: Some(
                "serves retired slugs since 2026-05-15; cached price and context unconfirmed"
                    .into(),
            ),
        },
        default_model(),
    ]
}

/// What is assumed about a model nobody described: no price (cost shown as unknown unless the
/// provider reports it), reasoning text shown if it arrives.
pub fn default_model() -> ModelInfo {
    ModelInfo {
        id: DEFAULT_ID.into(),
        aliases: Vec::new(),
        context_window: 128_000,
        max_output: None,
        prices: None,
        long_context: None,
        reasoning: ReasoningMode::Text,
        reasoning_effort: false,
        rejects: Vec::new(),
        echo_reasoning: false,
        note: None,
    }
}

/// A user's `[models."id"]` table. Prices in USD per 1M tokens.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelOverride {
    pub aliases: Option<Vec<String>>,
    pub context_window: Option<u64>,
    pub max_output: Option<u64>,
    pub input: Option<f64>,
    pub cached_input: Option<f64>,
    pub output: Option<f64>,
    pub reasoning: Option<ReasoningMode>,
    pub reasoning_effort: Option<bool>,
    pub rejects: Option<Vec<String>>,
    pub echo_reasoning: Option<bool>,
}

#[derive(Debug, Clone)]
pub struct Catalog {
    models: Vec<ModelInfo>,
}

impl Default for Catalog {
    fn default() -> Self {
        Catalog { models: builtin() }
    }
}

/// `x-ai/grok-code-fast-1` → `grok-code-fast-1`.
pub fn normalize(id: &str) -> String {
    id.rsplit('/').next().unwrap_or(id).to_ascii_lowercase()
}

impl Catalog {
    pub fn with_overrides<'a>(
        overrides: impl IntoIterator<Item = (&'a String, &'a ModelOverride)>,
    ) -> Self {
        let mut cat = Catalog::default();
        for (id, o) in overrides {
            cat.apply(id, o);
        }
        cat
    }

    fn apply(&mut self, id: &str, o: &ModelOverride) {
        let key = normalize(id);
        let idx = match self.models.iter().position(|m| m.matches(&key)) {
            Some(i) => i,
            None => {
                let mut m = default_model();
                m.id = key;
                self.models.insert(self.models.len() - 1, m);
                self.models.len() - 2
            }
        };
        let m = &mut self.models[idx];
        if let Some(a) = &o.aliases {
            m.aliases.extend(a.iter().map(|s| normalize(s)));
        }
        if let Some(c) = o.context_window {
            m.context_window = c;
        }
        if o.max_output.is_some() {
            m.max_output = o.max_output;
        }
        if o.input.is_some() || o.cached_input.is_some() || o.output.is_some() {
            let base = m.prices.unwrap_or(Prices {
                input: 0,
                cached: 0,
                output: 0,
            });
            let input = o.input.map(usd_to_ticks).unwrap_or(base.input);
            m.prices = Some(Prices {
                input,
                // No cached price given for a new model: no discount assumed.
                cached: o
                    .cached_input
                    .map(usd_to_ticks)
                    .unwrap_or(if m.prices.is_some() {
                        base.cached
                    } else {
                        input
                    }),
                output: o.output.map(usd_to_ticks).unwrap_or(base.output),
            });
            m.long_context = None;
        }
        if let Some(r) = o.reasoning {
            m.reasoning = r;
        }
        if let Some(e) = o.reasoning_effort {
            m.reasoning_effort = e;
        }
        if let Some(r) = &o.rejects {
            m.rejects = r.clone();
        }
        if let Some(e) = o.echo_reasoning {
            m.echo_reasoning = e;
        }
    }

    /// Finds a model by id or alias (provider prefixes like `x-ai/` ignored).
    pub fn find(&self, id: &str) -> Option<&ModelInfo> {
        let key = normalize(id);
        self.models
            .iter()
            .find(|m| m.id != DEFAULT_ID && m.matches(&key))
    }

    /// The model's entry, or the default one.
    pub fn lookup(&self, id: &str) -> &ModelInfo {
        self.find(id).unwrap_or_else(|| self.default_entry())
    }

    /// Pricing follows the model that actually served the request, falling back to the asked one.
    pub fn for_turn(&self, served: Option<&str>, asked: &str) -> &ModelInfo {
        served
            .and_then(|s| self.find(s))
            .or_else(|| self.find(asked))
            .unwrap_or_else(|| self.default_entry())
    }

    pub fn default_entry(&self) -> &ModelInfo {
        self.models
            .iter()
            .find(|m| m.id == DEFAULT_ID)
            .expect("default entry")
    }

    pub fn all(&self) -> &[ModelInfo] {
        &self.models
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_by_alias_and_prefix() {
        let c = Catalog::default();
        assert_eq!(c.lookup("x-ai/grok-code-fast-1").id, "grok-code-fast-1");
        assert_eq!(c.lookup("grok-3-mini-high").id, "grok-3-mini");
        assert_eq!(c.lookup("grok-4-fast").id, "grok-4-fast-reasoning");
        assert_eq!(c.lookup("llama").id, DEFAULT_ID);
        assert_eq!(
            c.for_turn(Some("grok-4-fast-reasoning"), "grok-4-fast").id,
            "grok-4-fast-reasoning"
        );
    }

    #[test]
    fn prices_are_exact_ticks() {
        let p = Prices::usd(0.30, 0.075, 0.50);
        assert_eq!(
            (p.input, p.cached, p.output),
            (3_000_000_000, 750_000_000, 5_000_000_000)
        );
    }

    #[test]
    fn overrides_change_and_add() {
        let mut o = std::collections::BTreeMap::new();
        o.insert(
            "grok-code-fast-1".to_string(),
            ModelOverride {
                output: Some(2.0),
                ..Default::default()
            },
        );
        o.insert(
            "my/llama".to_string(),
            ModelOverride {
                input: Some(1.0),
                context_window: Some(8192),
                ..Default::default()
            },
        );
        let c = Catalog::with_overrides(&o);
        let g = c.lookup("grok-code-fast-1");
        assert_eq!(g.prices.unwrap().output, usd_to_ticks(2.0));
        assert_eq!(g.prices.unwrap().input, usd_to_ticks(0.2));
        let l = c.lookup("llama");
        assert_eq!(l.context_window, 8192);
        assert_eq!(l.prices.unwrap().cached, usd_to_ticks(1.0));
        assert_eq!(c.all().last().unwrap().id, DEFAULT_ID);
    }
}
