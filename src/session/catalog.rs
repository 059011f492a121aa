//! The built-in model table: context windows, prices and what each model accepts.
//! Every entry can be overridden or extended from the config file.

use serde::{Deserialize, Serialize};

use crate::api::ModelCaps;

/// Ticks per USD (xAI's `cost_in_usd_ticks` unit).
pub const TICKS_PER_USD: i64 = 10_000_000_000;

/// Prices in ticks per one million tokens (1 USD = 1e10 ticks), so that every published price
/// is an exact integer and costs add up to the tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prices {
    pub input: u64,
    pub cached: u64,
    pub output: u64,
}

impl Prices {
    /// `$1.25 / $0.20 / $2.50` (input / cached / output, USD per 1M tokens).
    pub fn label(&self) -> String {
        // Integer arithmetic: whole cents with two decimals, finer prices with what they need.
        let usd = |t: u64| {
            let per = TICKS_PER_USD as u64;
            let (whole, frac) = (t / per, t % per);
            let digits = format!("{frac:010}");
            let shown = digits.trim_end_matches('0');
            let shown = if shown.len() < 2 { &digits[..2] } else { shown };
            format!("${whole}.{shown}")
        };
        format!(
            "{} / {} / {}",
            usd(self.input),
            usd(self.cached),
            usd(self.output)
        )
    }

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

/// A higher price tier for long prompts (xAI: above 128K prompt tokens on grok-4 and
/// grok-4-fast, from 200K on grok-4.5 and later).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LongContext {
    /// The tier applies to prompts of at least this many tokens.
    pub from_tokens: u64,
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
    /// The `reasoning_effort` levels it accepts (empty: never sent).
    pub reasoning_efforts: Vec<String>,
    pub rejects: Vec<String>,
    pub echo_reasoning: bool,
    pub note: Option<String>,
}

impl ModelInfo {
    pub fn caps(&self) -> ModelCaps {
        ModelCaps {
            rejects: self.rejects.clone(),
            reasoning_efforts: self.reasoning_efforts.clone(),
            echo_reasoning: self.echo_reasoning,
        }
    }

    /// The prices that apply to a prompt of `prompt_tokens`.
    pub fn prices_for(&self, prompt_tokens: u64) -> Option<Prices> {
        match self.long_context {
            Some(lc) if prompt_tokens >= lc.from_tokens => Some(lc.prices),
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
const EFFORT_LMH: &[&str] = &["low", "medium", "high"];
const EFFORT_XHIGH: &[&str] = &["low", "medium", "high", "xhigh"];

/// The id used for models nobody described.
pub const DEFAULT_ID: &str = "default";

/// When the built-in prices were last checked against xAI's published tables (the README's
/// model table carries the same date). A live `/language-models` read wins over them.
pub const PRICES_AS_OF: &str = "2026-12-01";

/// xAI's prices for the model that serves the retired slugs (grok-4.3).
fn grok_4_3_prices() -> Prices {
    Prices::usd(1.25, 0.20, 2.50)
}

/// A 4.5-generation model: $2.00 / $0.50 / $6.00, doubled from 200K prompt tokens, 500K
/// context, effort up to xhigh.
fn grok_4_5_family(id: &str, note: Option<&str>) -> ModelInfo {
    ModelInfo {
        id: id.into(),
        aliases: vec![format!("{id}-latest")],
        context_window: 500_000,
        max_output: None,
        prices: Some(Prices::usd(2.00, 0.50, 6.00)),
        long_context: Some(LongContext {
            from_tokens: 200_000,
            prices: Prices::usd(4.00, 1.00, 12.00),
        }),
        reasoning: ReasoningMode::Hidden,
        reasoning_efforts: strs(EFFORT_XHIGH),
        rejects: strs(REASONING_REJECTS),
        echo_reasoning: false,
        note: note.map(String::from),
    }
}

/// A slug xAI retired on 2026-05-15: still answered, silently served by grok-4.3 and billed
/// at its price. What it accepts is kept as it was (the request shape did not change).
fn retired(
    id: &str,
    aliases: &[&str],
    reasoning: ReasoningMode,
    efforts: &[&str],
    rejects: &[&str],
    echo_reasoning: bool,
) -> ModelInfo {
    ModelInfo {
        id: id.into(),
        aliases: strs(aliases),
        context_window: 1_000_000,
        max_output: None,
        prices: Some(grok_4_3_prices()),
        long_context: None,
        reasoning,
        reasoning_efforts: strs(efforts),
        rejects: strs(rejects),
        echo_reasoning,
        note: Some("retired 2026-05-15: served by grok-4.3, billed at its price".into()),
    }
}

pub fn builtin() -> Vec<ModelInfo> {
    vec![
        grok_4_5_family("grok-4.7", None),
        grok_4_5_family("grok-4.6", None),
        grok_4_5_family(
            "grok-4.5",
            Some("cached price unconfirmed: some sources report $0.30 per 1M"),
        ),
        ModelInfo {
            id: "grok-4.3".into(),
            aliases: strs(&["grok-4.3-latest"]),
            context_window: 1_000_000,
            max_output: None,
            prices: Some(grok_4_3_prices()),
            long_context: None,
            reasoning: ReasoningMode::Hidden,
            reasoning_efforts: strs(EFFORT_LMH),
            rejects: strs(REASONING_REJECTS),
            echo_reasoning: false,
            note: Some("serves the retired slugs since 2026-05-15".into()),
        },
        ModelInfo {
            id: "grok-build-0.1".into(),
            aliases: Vec::new(),
            context_window: 256_000,
            max_output: None,
            prices: Some(Prices::usd(1.00, 0.20, 2.00)),
            long_context: None,
            reasoning: ReasoningMode::Hidden,
            reasoning_efforts: Vec::new(),
            rejects: strs(REASONING_REJECTS),
            echo_reasoning: false,
            note: Some("whether it accepts reasoning_effort is unconfirmed: not sent".into()),
        },
        retired(
            "grok-code-fast-1",
            &["grok-code-fast", "grok-code-fast-1-0825"],
            ReasoningMode::Text,
            &[],
            REASONING_REJECTS,
            true,
        ),
        retired(
            "grok-4-fast-reasoning",
            &[
                "grok-4-fast",
                "grok-4-fast-reasoning-latest",
                "grok-4-1-fast-reasoning",
                "grok-4-1-fast",
                "grok-4.1-fast",
            ],
            ReasoningMode::Hidden,
            &[],
            REASONING_REJECTS,
            false,
        ),
        retired(
            "grok-4-fast-non-reasoning",
            &[
                "grok-4-fast-non-reasoning-latest",
                "grok-4-1-fast-non-reasoning",
            ],
            ReasoningMode::None,
            &[],
            &[],
            false,
        ),
        retired(
            "grok-3-mini",
            &["grok-3-mini-high", "grok-3-mini-low", "grok-3-mini-latest"],
            ReasoningMode::Text,
            EFFORT_LMH,
            REASONING_REJECTS,
            true,
        ),
        retired(
            "grok-3",
            &["grok-3-latest"],
            ReasoningMode::None,
            &[],
            &["presence_penalty"],
            false,
        ),
        retired(
            "grok-4",
            &["grok-4-0709", "grok-4-latest"],
            ReasoningMode::Hidden,
            &[],
            REASONING_REJECTS,
            false,
        ),
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
        reasoning_efforts: Vec::new(),
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

/// A model as the provider's own listing describes it (xAI's `/language-models` and
/// `/models`): what it says wins over the built-in table, the config file over both.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveModel {
    pub id: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub context_window: Option<u64>,
    #[serde(default)]
    pub prices: Option<Prices>,
    #[serde(default)]
    pub long_context: Option<LongContext>,
    /// The listing gave no cached price (`prices.cached` is then the input price): a known
    /// one is kept rather than the discount lost.
    #[serde(default)]
    pub cached_unknown: bool,
}

fn u64_of(m: &serde_json::Value, keys: &[&str]) -> Option<u64> {
    keys.iter()
        .find_map(|k| m.get(*k).and_then(serde_json::Value::as_u64))
        .filter(|n| *n > 0)
}

/// xAI's prices are USD cents per 100M tokens (÷ 10,000 = USD per 1M tokens).
fn cents_per_100m(m: &serde_json::Value, key: &str) -> Option<u64> {
    let c = m.get(key).and_then(serde_json::Value::as_f64)?;
    (c.is_finite() && c >= 0.0).then(|| usd_to_ticks(c / 10_000.0))
}

/// Reads `/language-models` (`{models: [{id, aliases, prompt_text_token_price, …}]}`) and
/// `/models` (`{data: [{id, context_length?}]}`) into one list. Models only `/models`
/// names come with what it says (their context, when given).
pub fn parse_live(
    language_models: Option<&serde_json::Value>,
    models: Option<&serde_json::Value>,
) -> Vec<LiveModel> {
    use serde_json::Value;
    const CONTEXT: &[&str] = &["context_length", "context_window", "max_prompt_length"];
    let mut out: Vec<LiveModel> = Vec::new();
    for m in language_models
        .and_then(|v| v.get("models"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(id) = m.get("id").and_then(Value::as_str) else {
            continue;
        };
        let aliases = m
            .get("aliases")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|x| x.as_str().map(normalize)).collect())
            .unwrap_or_default();
        let cached = cents_per_100m(m, "cached_prompt_text_token_price");
        let prices = match (
            cents_per_100m(m, "prompt_text_token_price"),
            cents_per_100m(m, "completion_text_token_price"),
        ) {
            (Some(input), Some(output)) => Some(Prices {
                input,
                // No cached price published: no discount assumed (unless one is known).
                cached: cached.unwrap_or(input),
                output,
            }),
            _ => None,
        };
        let long_context = match (
            prices,
            u64_of(m, &["long_context_threshold", "long_context_tokens"]),
            cents_per_100m(m, "prompt_text_token_price_long_context"),
            cents_per_100m(m, "completion_text_token_price_long_context"),
        ) {
            (Some(p), Some(from_tokens), Some(input), Some(output)) => Some(LongContext {
                from_tokens,
                prices: Prices {
                    input,
                    cached: cents_per_100m(m, "cached_prompt_text_token_price_long_context")
                        .unwrap_or(p.cached),
                    output,
                },
            }),
            _ => None,
        };
        out.push(LiveModel {
            id: normalize(id),
            aliases,
            context_window: u64_of(m, CONTEXT),
            prices,
            long_context,
            cached_unknown: cached.is_none(),
        });
    }
    for m in models
        .and_then(|v| v.get("data"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(id) = m.get("id").and_then(Value::as_str).map(normalize) else {
            continue;
        };
        let context = u64_of(m, CONTEXT);
        match out
            .iter_mut()
            .find(|l| l.id == id || l.aliases.contains(&id))
        {
            Some(l) => l.context_window = l.context_window.or(context),
            None => out.push(LiveModel {
                id,
                aliases: Vec::new(),
                context_window: context,
                prices: None,
                long_context: None,
                cached_unknown: false,
            }),
        }
    }
    out
}

impl Catalog {
    pub fn with_overrides<'a>(
        overrides: impl IntoIterator<Item = (&'a String, &'a ModelOverride)>,
    ) -> Self {
        Self::build(&[], overrides)
    }

    /// The built-in table, then what the provider's listing says, then the config file.
    pub fn build<'a>(
        live: &[LiveModel],
        overrides: impl IntoIterator<Item = (&'a String, &'a ModelOverride)>,
    ) -> Self {
        let mut cat = Catalog::default();
        for l in live {
            cat.apply_live(l);
        }
        for (id, o) in overrides {
            cat.apply(id, o);
        }
        cat
    }

    fn apply_live(&mut self, l: &LiveModel) {
        let idx = match self.models.iter().position(|m| m.matches(&l.id)) {
            Some(i) => i,
            None => {
                let mut m = default_model();
                m.id = l.id.clone();
                self.models.insert(self.models.len() - 1, m);
                self.models.len() - 2
            }
        };
        let m = &mut self.models[idx];
        for a in &l.aliases {
            if *a != m.id && !m.aliases.contains(a) {
                m.aliases.push(a.clone());
            }
        }
        if let Some(c) = l.context_window {
            m.context_window = c;
        }
        if l.long_context.is_some() {
            m.long_context = l.long_context;
        }
        if let Some(mut p) = l.prices {
            if let (true, Some(known)) = (l.cached_unknown, m.prices) {
                p.cached = known.cached.min(p.input);
            }
            m.prices = Some(p);
            m.note = Some("prices from the provider's /language-models".into());
        }
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
            m.reasoning_efforts = if e { strs(EFFORT_LMH) } else { Vec::new() };
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
    fn live_listing_wins_over_builtin_and_config_over_both() {
        // No cached price in the listing: the built-in discount stays.
        let partial = parse_live(
            Some(&serde_json::json!({"models": [{"id": "grok-4.5",
                "prompt_text_token_price": 20000, "completion_text_token_price": 60000}]})),
            None,
        );
        let c = Catalog::build(&partial, &std::collections::BTreeMap::new());
        assert_eq!(
            c.lookup("grok-4.5").prices,
            Some(Prices::usd(2.00, 0.50, 6.00))
        );
        let lm = serde_json::json!({"models": [
            {"id": "grok-4.3", "aliases": ["grok-4.3-latest"], "prompt_text_token_price": 12500,
             "cached_prompt_text_token_price": 2000, "completion_text_token_price": 25000},
            {"id": "grok-5", "prompt_text_token_price": 30000, "completion_text_token_price": 90000,
             "long_context_threshold": 200000, "prompt_text_token_price_long_context": 60000,
             "completion_text_token_price_long_context": 180000}
        ]});
        let models = serde_json::json!({"data": [
            {"id": "grok-4.3", "context_length": 1048576}, {"id": "grok-new-mini"}
        ]});
        let live = parse_live(Some(&lm), Some(&models));
        assert_eq!(live.len(), 3);
        let mut o = std::collections::BTreeMap::new();
        o.insert(
            "grok-5".to_string(),
            ModelOverride {
                output: Some(8.0),
                ..Default::default()
            },
        );
        let c = Catalog::build(&live, &o);
        let g = c.lookup("grok-4.3");
        assert_eq!(g.prices, Some(Prices::usd(1.25, 0.20, 2.50)));
        assert_eq!(g.context_window, 1_048_576);
        let g5 = c.lookup("grok-5");
        assert_eq!(g5.id, "grok-5");
        assert_eq!(
            g5.prices.unwrap().output,
            usd_to_ticks(8.0),
            "the config wins"
        );
        assert_eq!(g5.prices.unwrap().input, usd_to_ticks(3.0));
        // Not in the config: a live tier; a config price replaces the tier (as before).
        let c = Catalog::build(&live, &std::collections::BTreeMap::new());
        let lc = c.lookup("grok-5").long_context.unwrap();
        assert_eq!(
            (lc.from_tokens, lc.prices.input),
            (200_000, usd_to_ticks(6.0))
        );
        assert_eq!(c.lookup("grok-new-mini").id, "grok-new-mini");
        // grok-4.5's doubled tier stays when the listing gives none.
        assert!(c.lookup("grok-4.5").long_context.is_some());
    }

    #[test]
    fn price_labels() {
        assert_eq!(
            Prices::usd(0.29, 0.0001, 12.0).label(),
            "$0.29 / $0.0001 / $12.00"
        );
        assert_eq!(
            Prices::usd(1.25, 0.20, 2.50).label(),
            "$1.25 / $0.20 / $2.50"
        );
        assert_eq!(
            Prices::usd(0.30, 0.075, 0.5).label(),
            "$0.30 / $0.075 / $0.50"
        );
        assert_eq!(Prices::usd(2.0, 0.5, 6.0).label(), "$2.00 / $0.50 / $6.00");
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
        assert_eq!(
            g.prices.unwrap().input,
            usd_to_ticks(1.25),
            "grok-4.3's price"
        );
        let l = c.lookup("llama");
        assert_eq!(l.context_window, 8192);
        assert_eq!(l.prices.unwrap().cached, usd_to_ticks(1.0));
        assert_eq!(c.all().last().unwrap().id, DEFAULT_ID);
    }
}
