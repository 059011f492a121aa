//! Exports of a saved session: Markdown (reasoning in `<details>`), one self-contained HTML
//! file (code highlighted by syntect, inline styles, no scripts), and JSON of everything.
//! The output depends only on the session, so exports are reproducible.

use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag, TagEnd};
use serde_json::json;

use crate::session::store::Session;
use crate::session::{format_usd, Catalog, TurnReport};

struct Totals {
    tokens: u64,
    cost: Option<i64>,
    /// Some turn's cost is an estimate (no usage came back): the total is a lower bound.
    estimated: bool,
    savings: i64,
}

fn totals(reports: &[TurnReport]) -> Totals {
    let mut t = Totals {
        tokens: 0,
        cost: Some(0),
        estimated: false,
        savings: 0,
    };
    for r in reports {
        t.tokens += r.prompt_tokens.unwrap_or(0) + r.output_tokens;
        match r.cost.as_ref().and_then(|c| c.total_ticks) {
            Some(c) => t.cost = t.cost.map(|x| x + c),
            None if r.prompt_tokens.is_some() => t.cost = None,
            None => {}
        }
        t.estimated |= r
            .cost
            .as_ref()
            .is_some_and(|c| c.source == crate::session::CostSource::Estimated);
        t.savings += r.cost.as_ref().and_then(|c| c.savings_ticks).unwrap_or(0);
    }
    t
}

fn totals_line(s: &Session, t: &Totals) -> String {
    let cost = match t.cost {
        Some(c) if t.estimated => format!("≥{}", format_usd(c)),
        Some(c) => format_usd(c),
        None => "cost ?".into(),
    };
    let mut line = format!(
        "{} · {} tokens · {cost}",
        crate::session::count(s.turn_count(), "turn", "turns"),
        t.tokens
    );
    if t.savings > 0 {
        line.push_str(&format!(" · cache saved {}", format_usd(t.savings)));
    }
    line
}

/// Reasoning summary for a turn: tokens and time, or why there is no text.
fn reasoning_label(r: &TurnReport, text: &str) -> Option<String> {
    let secs = r
        .reasoning_ms
        .map(|m| format!(" · thought {:.1}s", m as f64 / 1000.0))
        .unwrap_or_default();
    if !text.is_empty() {
        return Some(format!("Reasoning · {} tokens{secs}", r.reasoning_tokens));
    }
    (r.reasoning_tokens > 0).then(|| {
        format!(
            "Reasoning · {} tokens{secs} · billed, but the model does not send its reasoning text",
            r.reasoning_tokens
        )
    })
}

/// ` @temperature=0` for a comparison column asked with its own settings.
fn column_settings(st: &crate::session::store::SavedTurn) -> String {
    st.compare
        .as_ref()
        .map(|c| crate::session::compare::at_settings(&c.settings))
        .unwrap_or_default()
}

/// Numbers each saved turn for display: a comparison's columns share one number (and only the
/// first of them shows the question); each column gets its letter.
fn numbering(s: &Session) -> Vec<(usize, bool, Option<char>)> {
    let mut out = vec![(0, true, None); s.turns.len()];
    for (n, run) in crate::session::store::runs(&s.turns)
        .into_iter()
        .enumerate()
    {
        let start = run.start;
        for k in run {
            let letter = s.turns[k]
                .compare
                .as_ref()
                .map(|c| crate::session::compare::letter(c.column));
            out[k] = (n + 1, k == start, letter);
        }
    }
    out
}

pub fn markdown(s: &Session, catalog: &Catalog) -> String {
    let reports: Vec<TurnReport> = s.turns.iter().map(|t| t.report(catalog)).collect();
    let t = totals(&reports);
    let mut out = format!("# {}\n\n", s.title(70));
    out.push_str(&format!(
        "- Session `{}` · created {} · provider {} · conversation `{}`\n- {}\n",
        s.id(),
        s.header.created,
        s.header.provider,
        s.header.conv_id,
        totals_line(s, &t)
    ));
    if let Some(sys) = &s.header.settings.system {
        out.push_str(&format!("- System prompt: {}\n", sys.replace('\n', " ")));
    }
    let nums = numbering(s);
    for (i, (st, r)) in s.turns.iter().zip(&reports).enumerate() {
        let turn = st.to_turn();
        let (n, first, letter) = nums[i];
        if first {
            out.push_str(&format!("\n---\n\n## {n} · You\n\n"));
            out.push_str(st.prompt().trim_end());
            out.push_str("\n\n");
            if let Some(c) = &st.compare {
                out.push_str(&format!("## {n} · Comparison of {} models\n\n", c.of));
            }
        }
        match letter {
            Some(l) => out.push_str(&format!(
                "{}### {n}{l} · {}{}\n\n",
                if first { "" } else { "\n" },
                r.model_label(),
                column_settings(st)
            )),
            None => out.push_str(&format!("## {n} · {}\n\n", r.model_label())),
        }
        if let Some(label) = reasoning_label(r, &turn.reasoning) {
            if turn.reasoning.is_empty() {
                out.push_str(&format!("*{label}.*\n\n"));
            } else {
                out.push_str(&format!(
                    "<details>\n<summary>{label}</summary>\n\n{}\n\n</details>\n\n",
                    turn.reasoning.trim_end()
                ));
            }
        }
        if !turn.content.is_empty() {
            out.push_str(turn.content.trim_end());
            out.push_str("\n\n");
        }
        let runs: Vec<_> = s.tools_of(st.turn).collect();
        if runs.is_empty() {
            for c in &turn.tool_calls {
                out.push_str(&format!(
                    "Tool call `{}({})`\n\n",
                    c.function.name, c.function.arguments
                ));
            }
        }
        for t in &runs {
            out.push_str(&format!("- ⚙ `{}` {}{}\n", t.title, tool_state(t), by(t)));
            if let Some(d) = &t.diff {
                out.push_str(&format!("\n```diff\n{}\n```\n", d.trim_end()));
            } else if !t.output.is_empty() {
                out.push_str(&format!(
                    "\n<details><summary>output</summary>\n\n```text\n{}\n```\n\n</details>\n",
                    t.output.replace("```", "`\u{200b}``").trim_end()
                ));
            }
        }
        if !runs.is_empty() {
            out.push('\n');
        }
        for t in &turn.server_tools {
            out.push_str(&format!(
                "- ⚙ {}\n",
                crate::session::report::server_tool_line(t)
            ));
        }
        if !turn.server_tools.is_empty() {
            out.push('\n');
        }
        for (i, c) in turn.citations.iter().enumerate() {
            // `<…>` keeps a URL with spaces or parentheses one link.
            out.push_str(&format!("{}. <{}>\n", i + 1, c.url.replace('>', "%3E")));
        }
        if !turn.citations.is_empty() {
            out.push('\n');
        }
        match st.params.sampling_label() {
            Some(p) => out.push_str(&format!("*{} · {p}*\n", r.summary_line())),
            None => out.push_str(&format!("*{}*\n", r.summary_line())),
        }
    }
    out
}

/// How a tool call ended, in a few words (`+1 −1 ✓`, `denied: …`).
fn tool_state(t: &crate::session::store::ToolRecord) -> String {
    use crate::session::store::ToolStatus as S;
    match t.status {
        S::Ok => format!("{} ✓", t.summary),
        S::Failed => format!("{} ✗", t.summary),
        S::Error => format!("✗ {}", t.summary),
        S::Denied | S::Cancelled | S::NotRun => t.summary.clone(),
    }
}

fn by(t: &crate::session::store::ToolRecord) -> String {
    t.by.as_ref().map(|b| format!(" · {b}")).unwrap_or_default()
}

/// A link target an export keeps live: http(s) and mailto only.
fn safe_url(url: &str) -> bool {
    let u = url.trim_start().to_ascii_lowercase();
    u.starts_with("https://") || u.starts_with("http://") || u.starts_with("mailto:")
}

fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// Markdown to HTML with fenced code highlighted by syntect. The fences are found by the
/// parser the code pane uses (`session::fence`), so the export shows the same blocks. Raw HTML
/// in the text is shown as text: an export must not run what a model wrote.
fn md_html(src: &str, theme: &syntect::highlighting::Theme) -> String {
    let mut out = String::new();
    for piece in crate::session::fence::split(src) {
        match piece {
            crate::session::fence::Piece::Text(t) => out.push_str(&prose_html(&t, theme)),
            crate::session::fence::Piece::Code { lang, code } => {
                out.push_str(&code_html(&lang, &code, theme))
            }
        }
    }
    out
}

/// `src` as the HTML export renders it (with the export's code theme).
pub fn markdown_html(src: &str) -> String {
    md_html(src, code_theme())
}

/// The export's code theme (dark blocks on the light page).
fn code_theme() -> &'static syntect::highlighting::Theme {
    let themes = crate::ui::highlight::themes();
    themes
        .themes
        .get("base16-ocean.dark")
        .or_else(|| themes.themes.values().next())
        .expect("syntect has themes")
}

/// A code block, highlighted, under its language.
fn code_html(lang: &str, text: &str, theme: &syntect::highlighting::Theme) -> String {
    let ss = crate::ui::highlight::syntaxes();
    let syntax = crate::ui::highlight::syntax_for(lang);
    let html = syntect::html::highlighted_html_for_string(text, ss, syntax, theme)
        .unwrap_or_else(|_| format!("<pre>{}</pre>", esc(text)));
    let label = if lang.is_empty() { "text" } else { lang };
    format!(
        "<div class=\"code\"><div class=\"lang\">{}</div>{html}</div>\n",
        esc(label)
    )
}

/// Markdown prose (no fences: `md_html` took them out) to HTML.
fn prose_html(src: &str, theme: &syntect::highlighting::Theme) -> String {
    let mut opts = Options::empty();
    opts.insert(Options::ENABLE_TABLES);
    opts.insert(Options::ENABLE_STRIKETHROUGH);
    let mut events = Vec::new();
    let mut code: Option<(String, String)> = None;
    // For each open link or image: the URL it pointed to when it was not kept as a link.
    let mut dropped_links: Vec<Option<String>> = Vec::new();
    for ev in Parser::new_ext(src, opts) {
        match ev {
            Event::Start(Tag::CodeBlock(kind)) => {
                let lang = match kind {
                    CodeBlockKind::Fenced(l) => l.split_whitespace().next().unwrap_or("").into(),
                    CodeBlockKind::Indented => String::new(),
                };
                code = Some((lang, String::new()));
            }
            Event::Text(t) if code.is_some() => code.as_mut().expect("in code").1.push_str(&t),
            Event::End(TagEnd::CodeBlock) => {
                let (lang, text) = code.take().unwrap_or_default();
                events.push(Event::Html(code_html(&lang, &text, theme).into()));
            }
            Event::Html(h) | Event::InlineHtml(h) => events.push(Event::Text(h)),
            // Only web and mail links stay live (a `javascript:` link would run the model's
            // script on a click); an image becomes a link to it, never loaded (its URL could
            // carry data out the moment the file is opened).
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            })
            | Event::Start(Tag::Image {
                link_type,
                dest_url,
                title,
                id,
            }) => {
                if safe_url(&dest_url) {
                    dropped_links.push(None);
                    events.push(Event::Start(Tag::Link {
                        link_type,
                        dest_url,
                        title,
                        id,
                    }));
                } else {
                    dropped_links.push(Some(dest_url.to_string()));
                }
            }
            Event::End(TagEnd::Link) | Event::End(TagEnd::Image) => match dropped_links.pop() {
                Some(Some(url)) => events.push(Event::Text(format!(" ({url})").into())),
                _ => events.push(Event::End(TagEnd::Link)),
            },
            other => events.push(other),
        }
    }
    let mut out = String::new();
    pulldown_cmark::html::push_html(&mut out, events.into_iter());
    out
}

const CSS: &str = "body{font:15px/1.5 system-ui,sans-serif;max-width:920px;margin:2em auto;padding:0 1em;color:#1d2430;background:#fafbfc}
h1{font-size:1.5em}header p{color:#586274;margin:.2em 0}
.turn{border-top:1px solid #d8dde5;margin-top:1.6em;padding-top:.6em}
.who{font-weight:600;margin:1em 0 .3em}.you{color:#2d6a4f}.model{color:#3a56a8}
.prompt{background:#eef2f6;border-radius:6px;padding:.5em .9em;white-space:pre-wrap;overflow-wrap:anywhere}
details{background:#f3f0fa;border-radius:6px;padding:.4em .9em;margin:.6em 0;color:#4a3f66}
details summary{cursor:pointer;font-weight:600}.reasoning{white-space:pre-wrap;font-style:italic}
.hidden{color:#6b5d8f;font-style:italic}
details.tool{background:#eef4f1;color:#1d2430}details.tool pre{overflow-x:auto;font:12px/1.4 monospace}
.add{color:#1f7a3a}.del{color:#b42318}.ctx{color:#586274}
.code{margin:.8em 0;border-radius:6px;overflow:hidden}.code .lang{font:12px monospace;background:#2b303b;color:#a7adba;padding:.2em .8em}
.code pre{margin:0;padding:.7em .9em;overflow-x:auto;font:13px/1.45 ui-monospace,monospace}
code{font-family:ui-monospace,monospace;background:#eef0f3;padding:0 .2em;border-radius:3px}pre code{background:none;padding:0}
table.stats,article table{border-collapse:collapse;margin:.6em 0}table.stats td,article td,article th{border:1px solid #d8dde5;padding:.2em .6em}
table.stats td:first-child{color:#586274}blockquote{border-left:3px solid #c5ccd6;margin-left:0;padding-left:1em;color:#4b5563}
.error{color:#b42318}";

pub fn html(s: &Session, catalog: &Catalog) -> String {
    let reports: Vec<TurnReport> = s.turns.iter().map(|t| t.report(catalog)).collect();
    let t = totals(&reports);
    let theme = code_theme();
    let mut out = String::new();
    out.push_str(&format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>\n{CSS}\n</style>\n</head>\n<body>\n<header>\n<h1>{}</h1>\n",
        esc(&s.title(70)),
        esc(&s.title(70))
    ));
    out.push_str(&format!(
        "<p>Session <code>{}</code> · created {} · provider {} · conversation <code>{}</code></p>\n<p>{}</p>\n",
        esc(s.id()),
        esc(&s.header.created),
        esc(&s.header.provider),
        esc(&s.header.conv_id),
        esc(&totals_line(s, &t))
    ));
    if let Some(sys) = &s.header.settings.system {
        out.push_str(&format!("<p>System prompt: {}</p>\n", esc(sys)));
    }
    out.push_str("</header>\n");
    let nums = numbering(s);
    for (i, (st, r)) in s.turns.iter().zip(&reports).enumerate() {
        let turn = st.to_turn();
        let (n, first, letter) = nums[i];
        let id = format!("{n}{}", letter.map(|l| l.to_string()).unwrap_or_default());
        out.push_str(&format!("<section class=\"turn\" id=\"turn-{id}\">\n"));
        if first {
            out.push_str(&format!(
                "<div class=\"who you\">{n} · You</div>\n<div class=\"prompt\">{}</div>\n",
                // As typed: its lines kept, no markdown (as the TUI shows it).
                esc(st.prompt().trim_end())
            ));
            if let Some(c) = &st.compare {
                out.push_str(&format!(
                    "<div class=\"who model\">{n} · Comparison of {} models</div>\n",
                    c.of
                ));
            }
        }
        out.push_str(&format!(
            "<div class=\"who model\">{id} · {}{}</div>\n",
            esc(&r.model_label()),
            esc(&column_settings(st))
        ));
        if let Some(label) = reasoning_label(r, &turn.reasoning) {
            if turn.reasoning.is_empty() {
                out.push_str(&format!("<p class=\"hidden\">{}</p>\n", esc(&label)));
            } else {
                out.push_str(&format!(
                    "<details>\n<summary>{}</summary>\n<div class=\"reasoning\">{}</div>\n</details>\n",
                    esc(&label),
                    esc(turn.reasoning.trim_end())
                ));
            }
        }
        out.push_str("<article>\n");
        out.push_str(&md_html(&turn.content, theme));
        out.push_str("</article>\n");
        for t in s.tools_of(st.turn) {
            out.push_str(&format!(
                "<details class=\"tool\"><summary>⚙ <code>{}</code> {}{}</summary>\n<pre>",
                esc(&t.title),
                esc(&tool_state(t)),
                esc(&by(t))
            ));
            match &t.diff {
                Some(d) => {
                    for l in d.lines() {
                        let class = if l.starts_with('+') && !l.starts_with("+++") {
                            "add"
                        } else if l.starts_with('-') && !l.starts_with("---") {
                            "del"
                        } else {
                            "ctx"
                        };
                        out.push_str(&format!("<span class=\"{class}\">{}</span>\n", esc(l)));
                    }
                }
                None => out.push_str(&esc(&t.output)),
            }
            out.push_str("</pre></details>\n");
        }
        if !turn.server_tools.is_empty() {
            out.push_str("<ul class=\"tools\">\n");
            for t in &turn.server_tools {
                out.push_str(&format!(
                    "<li>⚙ {}</li>\n",
                    esc(&crate::session::report::server_tool_line(t))
                ));
            }
            out.push_str("</ul>\n");
        }
        if !turn.citations.is_empty() {
            out.push_str("<ol class=\"citations\">\n");
            for c in &turn.citations {
                // Only web links are live: a `javascript:` URL stays text.
                let safe = safe_url(&c.url) && !c.url.starts_with("mailto:");
                let text = esc(c.title.as_deref().unwrap_or(&c.url));
                if safe {
                    out.push_str(&format!(
                        "<li><a href=\"{}\" rel=\"noopener noreferrer\">{text}</a></li>\n",
                        esc(&c.url)
                    ));
                } else {
                    out.push_str(&format!("<li>{text}</li>\n"));
                }
            }
            out.push_str("</ol>\n");
        }
        if let Some(e) = &turn.error {
            out.push_str(&format!(
                "<p class=\"error\">{}: {}</p>\n",
                esc(&st.provider),
                esc(&e.to_string())
            ));
        }
        out.push_str("<table class=\"stats\">\n");
        let mut row = |k: &str, v: String| {
            out.push_str(&format!("<tr><td>{k}</td><td>{}</td></tr>\n", esc(&v)));
        };
        row("model", r.model_label());
        if let Some(p) = st.params.sampling_label() {
            row("settings", p);
        }
        row("state", format!("{:?}", r.state).to_lowercase());
        if let Some(v) = r.ttft_ms {
            row("time to first token", format!("{:.2} s", v as f64 / 1000.0));
        }
        if let Some(v) = r.reasoning_ms.filter(|_| r.reasoning_tokens > 0) {
            row("thinking time", format!("{:.1} s", v as f64 / 1000.0));
        }
        if let Some(v) = r.tokens_per_sec {
            row("tokens/sec", format!("{v:.0}"));
        }
        if let Some(p) = r.prompt_tokens {
            row(
                "prompt tokens",
                format!("{p} ({} cached)", r.cached_tokens.unwrap_or(0)),
            );
        }
        row(
            "output tokens",
            format!(
                "{} answer + {} reasoning",
                r.output_tokens.saturating_sub(r.reasoning_tokens),
                r.reasoning_tokens
            ),
        );
        if let Some(c) = &r.cost {
            row("cost", c.amount().unwrap_or_else(|| "unknown".into()));
            if let Some(sv) = c.savings_ticks.filter(|v| *v > 0) {
                row("cache saved", format_usd(sv));
            }
        }
        out.push_str("</table>\n</section>\n");
    }
    out.push_str("</body>\n</html>\n");
    out
}

/// One turn of the JSON export.
fn turn_json(st: &crate::session::store::SavedTurn, catalog: &Catalog) -> serde_json::Value {
    let r = st.report(catalog);
    let turn = st.to_turn();
    json!({
        "turn": st.turn,
        "compare": st.compare,
        "params": st.params,
        "at": st.at,
        "provider": st.provider,
        "model": st.model,
        "served_model": turn.served_model,
        "request_messages": st.request.len(),
        "reasoning": turn.reasoning,
        "content": turn.content,
        "tool_calls": turn.tool_calls,
        "server_tools": turn.server_tools,
        "citations": turn.citations,
        "state": turn.state,
        "usage": turn.usage,
        "error": turn.error,
        "stats": r,
        "events": st.events.iter().map(|e| crate::session::store::SavedEvent {
            ms: e.at.as_millis() as u64,
            event: e.event.clone(),
        }).collect::<Vec<_>>(),
    })
}

/// The turns, each made into JSON only as it is written: a long session's export never
/// holds all of them at once.
struct Turns<'a>(&'a Session, &'a Catalog);

impl serde::Serialize for Turns<'_> {
    fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = ser.serialize_seq(Some(self.0.turns.len()))?;
        for st in &self.0.turns {
            seq.serialize_element(&turn_json(st, self.1))?;
        }
        seq.end()
    }
}

/// The JSON export's document; its fields in the order of their names, as a JSON object's.
#[derive(serde::Serialize)]
struct Doc<'a> {
    header: &'a crate::session::store::Header,
    messages: &'a [crate::api::Message],
    totals: serde_json::Value,
    turns: Turns<'a>,
    /// The agent's tool calls, as they were answered.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    tools: &'a [crate::session::store::ToolRecord],
}

pub fn json(s: &Session, catalog: &Catalog) -> String {
    let reports: Vec<TurnReport> = s.turns.iter().map(|t| t.report(catalog)).collect();
    let t = totals(&reports);
    let doc = Doc {
        header: &s.header,
        messages: &s.messages,
        totals: json!({
            "turns": s.turns.len(),
            "tokens": t.tokens,
            "cost_usd": t.cost.map(|c| c as f64 / 1e10),
            "savings_usd": t.savings as f64 / 1e10,
        }),
        turns: Turns(s, catalog),
        tools: &s.tools,
    };
    let mut out = serde_json::to_string_pretty(&doc).expect("serializable");
    out.push('\n');
    out
}
