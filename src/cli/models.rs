//! `grokpair models`: the provider's model list beside the built-in catalog.

use serde::Serialize;
use serde_json::Value;

use super::{pick_provider, Failure, ModelsArgs, EXIT_OK};
use crate::config::Config;
use crate::engine::Engine;
use crate::session::catalog::{normalize, parse_live, ReasoningMode};

#[derive(Debug, Serialize)]
struct Row {
    id: String,
    context_window: Option<u64>,
    /// USD per 1M tokens.
    input: Option<f64>,
    cached_input: Option<f64>,
    output: Option<f64>,
    reasoning: Option<ReasoningMode>,
    /// The `reasoning_effort` levels it accepts (empty: none).
    reasoning_effort: Option<Vec<String>>,
    /// "server", "built-in" or "server+built-in"; prices from the server are marked.
    source: String,
}

fn usd(ticks: u64) -> f64 {
    ticks as f64 / 1e10
}

pub async fn run(
    cfg: &Config,
    provider_flag: Option<&str>,
    args: &ModelsArgs,
) -> Result<i32, Failure> {
    let provider = pick_provider(cfg, provider_flag)?;
    let mut rows: Vec<Row> = Vec::new();
    let mut note = None;
    let has_key = !provider.needs_key() || provider.api_key().is_some();
    if !args.offline && has_key {
        let engine = Engine::new(cfg, provider).map_err(|e| Failure::Provider(e.to_string()))?;
        let list = engine
            .client
            .get_json("models")
            .await
            .map_err(|e| Failure::Provider(format!("{}: {e}", provider.name)))?;
        let priced = if provider.live_catalog || provider.dialect == crate::api::Dialect::Xai {
            match engine.client.get_json("language-models").await {
                Ok(v) => parse_live(Some(&v), None),
                Err(e) => {
                    note = Some(format!("prices from /language-models unavailable: {e}"));
                    Vec::new()
                }
            }
        } else {
            Vec::new()
        };
        for m in list
            .get("data")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(id) = m.get("id").and_then(Value::as_str) else {
                continue;
            };
            let info = cfg.catalog.find(id);
            let n = normalize(id);
            let served = priced
                .iter()
                .find(|l| l.id == n || l.aliases.contains(&n))
                .and_then(|l| l.prices);
            let prices = served.or(info.and_then(|i| i.prices));
            rows.push(Row {
                id: id.to_string(),
                context_window: info.map(|i| i.context_window),
                input: prices.map(|p| usd(p.input)),
                cached_input: prices.map(|p| usd(p.cached)),
                output: prices.map(|p| usd(p.output)),
                reasoning: info.map(|i| i.reasoning),
                reasoning_effort: info.map(|i| i.reasoning_efforts.clone()),
                source: match (info.is_some(), served.is_some()) {
                    (true, true) => "server (prices) + built-in".into(),
                    (true, false) => "server + built-in".into(),
                    (false, true) => "server (prices)".into(),
                    (false, false) => "server".into(),
                },
            });
        }
    } else if !has_key {
        note = Some(format!(
            "no API key for {}: showing the built-in catalog only",
            provider.name
        ));
    }
    for info in cfg.catalog.all() {
        if info.id == crate::session::catalog::DEFAULT_ID {
            continue;
        }
        let listed = rows.iter().any(|r| {
            let n = normalize(&r.id);
            n == info.id || info.aliases.contains(&n)
        });
        if listed {
            continue;
        }
        rows.push(Row {
            id: info.id.clone(),
            context_window: Some(info.context_window),
            input: info.prices.map(|p| usd(p.input)),
            cached_input: info.prices.map(|p| usd(p.cached)),
            output: info.prices.map(|p| usd(p.output)),
            reasoning: Some(info.reasoning),
            reasoning_effort: Some(info.reasoning_efforts.clone()),
            source: "built-in".into(),
        });
    }
    if args.json {
        // JSON escapes C0 controls but not C1 ones or bidi overrides: safe on a terminal too.
        use std::io::Write;
        let _ = writeln!(
            crate::sanitize::stdout(),
            "{}",
            serde_json::json!({"provider": provider.name, "models": rows, "note": note})
        );
        return Ok(EXIT_OK);
    }
    let fmt_p = |p: Option<f64>| p.map(|p| format!("{p:.3}")).unwrap_or_else(|| "—".into());
    let table: Vec<[String; 8]> = rows
        .iter()
        .map(|r| {
            [
                // One line per model: an id cannot add rows to the table.
                crate::sanitize::one_line(&r.id).into_owned(),
                r.context_window
                    .map(|c| c.to_string())
                    .unwrap_or_else(|| "—".into()),
                fmt_p(r.input),
                fmt_p(r.cached_input),
                fmt_p(r.output),
                r.reasoning
                    .map(|m| match m {
                        ReasoningMode::Text => "text",
                        ReasoningMode::Hidden => "hidden",
                        ReasoningMode::None => "none",
                    })
                    .unwrap_or("?")
                    .to_string(),
                match &r.reasoning_effort {
                    Some(e) if e.is_empty() => "no".into(),
                    Some(e) => e.join(","),
                    None => "?".into(),
                },
                r.source.clone(),
            ]
        })
        .collect();
    let header = [
        "MODEL",
        "CONTEXT",
        "IN $/1M",
        "CACHED",
        "OUT $/1M",
        "REASONING",
        "EFFORT",
        "SOURCE",
    ];
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &table {
        for (w, c) in widths.iter_mut().zip(row.iter()) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string()
    };
    // Model ids come from the server: shown safely on a terminal.
    use std::io::Write;
    let mut out = crate::sanitize::stdout();
    let _ = writeln!(
        out,
        "provider: {} ({})",
        provider.name,
        crate::api::error::mask_url(&provider.base_url)
    );
    let _ = writeln!(out, "{}", line(header.to_vec()));
    for row in &table {
        let _ = writeln!(out, "{}", line(row.iter().map(String::as_str).collect()));
    }
    if let Some(n) = note {
        let _ = writeln!(crate::sanitize::stderr(), "note: {n}");
    }
    Ok(EXIT_OK)
}
