//! Command-line front end: argument parsing and the headless commands.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

use crate::config::{Config, ConfigError, Provider};

mod ask;
pub mod compare;
mod config_cmd;
pub mod exec;
mod models;
pub mod output;
mod sessions;

/// Exit codes.
pub const EXIT_OK: i32 = 0;
pub const EXIT_PROVIDER: i32 = 1;
pub const EXIT_USAGE: i32 = 2;
pub const EXIT_INTERRUPTED: i32 = 130;

/// Where `--help` lists the options every subcommand takes, apart from its own.
const GLOBAL: &str = "Global options (any subcommand)";

#[derive(Parser, Debug)]
#[command(
    name = "grokpair",
    version,
    about = "Pair-program with xAI Grok and any OpenAI-compatible model, from the terminal",
    after_help = "Keys come from XAI_API_KEY, AIMLAPI_API_KEY, OPENROUTER_API_KEY (or the config file).\n\
                  Exit codes: 0 ok, 1 provider/network error, 2 usage/config error, 3 agent stopped (exec: budget, step cap, loop guard), 130 interrupted."
)]
pub struct Cli {
    /// Config file (default: ~/.config/grokpair/config.toml; env GROKPAIR_CONFIG).
    #[arg(long, global = true, value_name = "PATH", help_heading = GLOBAL)]
    pub config: Option<PathBuf>,
    /// Provider: xai, aimlapi, openrouter, local, or one defined in the config.
    #[arg(long, short = 'p', global = true, value_name = "NAME", help_heading = GLOBAL)]
    pub provider: Option<String>,
    /// Model id (default: the config's `model`, else the provider's). `compare` takes it 2-4
    /// times, each `MODEL` or `PROVIDER:MODEL`.
    #[arg(long, short = 'm', global = true, value_name = "ID", action = clap::ArgAction::Append, help_heading = GLOBAL)]
    pub model: Vec<String>,
    /// TUI theme: dark, light, or a file in ~/.config/grokpair/themes/ (config key `theme`).
    #[arg(long, global = true, value_name = "NAME", help_heading = GLOBAL)]
    pub theme: Option<String>,
    /// Do not save this run's conversation (config: `[sessions] autosave = false`).
    #[arg(long, global = true, help_heading = GLOBAL)]
    pub no_save: bool,
    /// The workspace the agent's tools work in (default: the current directory).
    #[arg(long = "cd", global = true, value_name = "DIR", help_heading = GLOBAL)]
    pub cd: Option<PathBuf>,
    /// Agent approval mode: read-only, ask, auto-edit or yolo (config `agent.mode`; default
    /// ask). In the TUI /mode switches it.
    #[arg(long, global = true, value_name = "MODE", help_heading = GLOBAL)]
    pub mode: Option<String>,
    /// Agent budget in USD for the session: before a round would start past it, the agent
    /// pauses and asks (exec: stops, exit 3). Config `agent.max_cost`; in the TUI /budget.
    #[arg(long, global = true, value_name = "USD", help_heading = GLOBAL)]
    pub max_cost: Option<f64>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Ask one question; the answer streams to stdout.
    Ask(Box<AskArgs>),
    /// Agent mode without a screen: the model reads, edits and runs commands in the workspace
    /// as far as --mode and --approve allow (anything that would ask is denied and reported).
    /// Exit codes: 0 done, 1 provider error, 2 usage, 3 stopped by the budget, the step cap or
    /// the loop guard, 130 interrupted.
    Exec(Box<ExecArgs>),
    /// Ask 2-4 models the same question at once (-m A -m B …): a table of their figures, the
    /// winners and each answer.
    Compare(Box<CompareArgs>),
    /// List the provider's models beside the built-in catalog (context, prices, reasoning).
    Models(ModelsArgs),
    /// Create or inspect the config file.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// List saved sessions (newest first).
    Sessions(SessionsArgs),
    /// Reopen a saved session in the TUI, to continue it (same conversation id: caches hit).
    Resume(ResumeArgs),
    /// Play a saved session (or a raw SSE capture) through the TUI with its original timing.
    Replay(ReplayArgs),
    /// Export a saved session as Markdown, self-contained HTML, or JSON.
    Export(ExportArgs),
    /// Play the bundled demo sessions (recorded; no key, no network).
    Demo(DemoArgs),
}

#[derive(Args, Debug)]
pub struct SessionsArgs {
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Only the N newest.
    #[arg(long, short = 'n', value_name = "N")]
    pub limit: Option<usize>,
}

#[derive(Args, Debug)]
pub struct ResumeArgs {
    /// Session id (or a unique prefix), name, or file.
    #[arg(required_unless_present = "last", conflicts_with = "last")]
    pub id: Option<String>,
    /// The most recent session.
    #[arg(long)]
    pub last: bool,
}

#[derive(Args, Debug)]
pub struct ReplayArgs {
    /// Session id (or a unique prefix), name, session file, or a raw SSE capture (`response.sse`).
    pub what: String,
    /// Playback speed: 1, 2, 4 (any number), or max.
    #[arg(long, default_value = "1", value_parser = parse_speed)]
    pub speed: Speed,
}

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Which demo (1-based; `--list` shows them).
    #[arg(default_value_t = 1)]
    pub number: usize,
    /// List the demos.
    #[arg(long)]
    pub list: bool,
    /// Playback speed: 1, 2, 4 (any number from 0.01 to 1000), or max.
    #[arg(long, default_value = "1", value_parser = parse_speed)]
    pub speed: Speed,
}

#[derive(Args, Debug)]
pub struct ExportArgs {
    /// Session id (or a unique prefix), name, or file.
    pub id: String,
    #[arg(long, short = 'f', value_enum, default_value = "md")]
    pub format: ExportFormat,
    /// Output file (default: stdout).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    Md,
    Html,
    Json,
}

/// A replay speed: a factor, or `None` for as fast as possible.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Speed(pub Option<f64>);

fn parse_speed(s: &str) -> Result<Speed, String> {
    if s == "max" {
        return Ok(Speed(None));
    }
    // Bounded: a replay divides its recorded times by the speed.
    match s.trim_end_matches('x').parse::<f64>() {
        Ok(v) if (0.01..=1000.0).contains(&v) => Ok(Speed(Some(v))),
        _ => Err(format!(
            "`{s}`: a speed from 0.01 to 1000 (1, 2, 4, 0.5) or max"
        )),
    }
}

/// The prompt and the sampling settings `ask` and `compare` share.
#[derive(Args, Debug, Default, Clone)]
pub struct PromptArgs {
    /// The prompt. Without it, the prompt is read from stdin; with both, stdin is appended.
    pub prompt: Vec<String>,
    /// System prompt (default: the config's `system`).
    #[arg(long, short = 's')]
    pub system: Option<String>,
    /// Sampling temperature, 0–2 (default: the config's, else the provider's).
    #[arg(long)]
    pub temperature: Option<f64>,
    /// Nucleus sampling: the probability mass kept, above 0 up to 1.
    #[arg(long)]
    pub top_p: Option<f64>,
    /// Cap on answer tokens (xAI: max_completion_tokens, which does not cap reasoning;
    /// default: the config's `max_tokens`).
    #[arg(long)]
    pub max_tokens: Option<u64>,
    /// Seed for sampling, for models that take one (same seed, same settings: a repeatable
    /// answer where the provider supports it).
    #[arg(long)]
    pub seed: Option<i64>,
    /// low | medium | high | xhigh, for models that accept it (grok-4.3: low to high;
    /// grok-4.5 and later: up to xhigh; grok-3-mini).
    #[arg(long, value_name = "LEVEL")]
    pub reasoning_effort: Option<String>,
    /// The endpoint: responses (POST /responses, the xai preset's) or chat
    /// (POST /chat/completions, every other preset's). Default: the provider's `api`.
    #[arg(long, value_name = "API", value_parser = parse_api)]
    pub api: Option<crate::api::Api>,
}

fn parse_api(s: &str) -> Result<crate::api::Api, String> {
    crate::api::Api::parse(s).ok_or_else(|| format!("`{s}`: responses or chat"))
}

/// The config with the providers' own model listings applied (the xai preset reads one):
/// from the disk cache, fetched again when older than a day — for at most 3 s; offline, the
/// old listing or the built-in table stays.
pub(crate) async fn with_live_catalog(
    cfg: &Config,
    providers: &[&Provider],
    quiet: bool,
) -> Config {
    let mut cfg = cfg.clone();
    let mut models = Vec::new();
    let mut any = false;
    for p in providers {
        let (cached, due, notice) = crate::engine::cached_live_catalog(p);
        if let (Some(n), false) = (notice, quiet) {
            use std::io::Write;
            let _ = writeln!(crate::sanitize::stderr(), "grokpair: note: {n}");
        }
        let fresh = match (due, crate::engine::Engine::new(&cfg, p)) {
            (true, Ok(engine)) => tokio::time::timeout(
                std::time::Duration::from_secs(3),
                engine.refresh_live_catalog(),
            )
            .await
            .ok()
            .and_then(Result::ok),
            _ => None,
        };
        if let Some(l) = fresh.or(cached) {
            models.extend(l.models);
            any = true;
        }
    }
    if any {
        cfg.use_live(&models);
    }
    cfg
}

/// The provider with `--api` applied.
pub(crate) fn with_api(
    p: &crate::config::Provider,
    api: Option<crate::api::Api>,
) -> crate::config::Provider {
    let mut p = p.clone();
    if let Some(a) = api {
        p.api = a;
    }
    p
}

#[derive(Args, Debug, Default)]
pub struct AskArgs {
    #[command(flatten)]
    pub gen: PromptArgs,
    /// Stop sequence (repeatable). Dropped, with a notice, for models that reject it.
    #[arg(long)]
    pub stop: Vec<String>,
    /// Penalty for tokens already present, -2 to 2 (dropped, with a notice, where rejected).
    #[arg(long)]
    pub presence_penalty: Option<f64>,
    /// Penalty by how often a token appeared, -2 to 2 (dropped, with a notice, where rejected).
    #[arg(long)]
    pub frequency_penalty: Option<f64>,
    /// Structured output: constrain the answer to this JSON Schema file.
    #[arg(long, value_name = "FILE")]
    pub json_schema: Option<PathBuf>,
    /// Stream the model's reasoning to stderr.
    #[arg(long, short = 'r')]
    pub show_reasoning: bool,
    /// Print one JSON event per line (NDJSON) to stdout instead of text.
    #[arg(long)]
    pub json: bool,
    /// No usage/cost summary line on stderr.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Create or continue the saved conversation NAME (same conversation id, append-only
    /// history: follow-ups hit the provider's prompt cache).
    #[arg(long, value_name = "NAME", conflicts_with = "continue_last")]
    pub session: Option<String>,
    /// Continue the most recent saved conversation.
    #[arg(long = "continue", short = 'c')]
    pub continue_last: bool,
}

#[derive(Args, Debug, Default)]
pub struct ExecArgs {
    #[command(flatten)]
    pub gen: PromptArgs,
    /// Let calls matching a rule run, e.g. 'run_command: cargo test *' or 'edit_file: src/*'
    /// (repeatable; the config's `agent.deny` rules still win).
    #[arg(long, value_name = "RULE")]
    pub approve: Vec<String>,
    /// Most rounds with tool calls for the prompt (default: `agent.max_steps`, else 25).
    #[arg(long, value_name = "N")]
    pub max_steps: Option<usize>,
    /// Stream the model's reasoning to stderr.
    #[arg(long, short = 'r')]
    pub show_reasoning: bool,
    /// NDJSON on stdout: start, round, stream events, tool_call, decision, tool_started,
    /// tool_output, diff, tool_result, answer, cost, summary.
    #[arg(long)]
    pub json: bool,
    /// No figures and no command output on stderr.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

#[derive(Args, Debug, Default)]
pub struct CompareArgs {
    #[command(flatten)]
    pub gen: PromptArgs,
    /// Include each model's reasoning (in <details>) in the Markdown.
    #[arg(long, short = 'r')]
    pub show_reasoning: bool,
    /// NDJSON: every event with its `column`, then one summary object.
    #[arg(long)]
    pub json: bool,
    /// No progress lines on stderr.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

#[derive(Args, Debug)]
pub struct ModelsArgs {
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Only the built-in catalog; do not ask the provider.
    #[arg(long)]
    pub offline: bool,
}

#[derive(Subcommand, Debug)]
pub enum ConfigCommand {
    /// Write a commented default config file.
    Init {
        /// Overwrite an existing file.
        #[arg(long)]
        force: bool,
    },
    /// Print the effective configuration (keys masked).
    Show,
    /// Print the config file path in use.
    Path,
}

/// A failure that decides the exit code.
#[derive(Debug)]
pub enum Failure {
    Usage(String),
    Config(ConfigError),
    Provider(String),
}

impl From<ConfigError> for Failure {
    fn from(e: ConfigError) -> Self {
        Failure::Config(e)
    }
}

impl Failure {
    pub fn exit_code(&self) -> i32 {
        match self {
            Failure::Usage(_) | Failure::Config(_) => EXIT_USAGE,
            Failure::Provider(_) => EXIT_PROVIDER,
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Usage(m) | Failure::Provider(m) => f.write_str(m),
            Failure::Config(e) => write!(f, "{e}"),
        }
    }
}

/// The provider a command uses: `--provider`, else the config's.
pub fn pick_provider<'c>(cfg: &'c Config, flag: Option<&str>) -> Result<&'c Provider, Failure> {
    match flag {
        // A name on the command line is a usage error, not the config file's.
        Some(name) => cfg
            .provider(name)
            .map_err(|e| Failure::Usage(format!("--provider {name}: {}", e.message))),
        None => Ok(cfg.provider(&cfg.provider)?),
    }
}

/// Fails early, with the variable to set, when a provider needs a key and has none.
pub fn require_key(p: &Provider, cfg: &Config) -> Result<(), Failure> {
    if p.needs_key() && p.api_key().is_none() {
        let file = cfg
            .path
            .as_ref()
            .map(|p| p.display().to_string())
            .or_else(|| crate::config::default_path().map(|p| p.display().to_string()))
            .unwrap_or_else(|| "the config file".into());
        let how = match &p.api_key_env {
            Some(env) => format!(
                "export {env}=… (or set providers.{}.api_key in {file})",
                p.name
            ),
            None => format!("set providers.{}.api_key in {file}", p.name),
        };
        return Err(Failure::Usage(format!(
            "no API key for provider `{}`: {how}",
            p.name
        )));
    }
    Ok(())
}

/// Runs the CLI; returns the process exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_USAGE } else { EXIT_OK };
            let _ = e.print();
            return code;
        }
    };
    // One thread for the screen and the streams: a token read from the network is applied
    // and drawn without crossing threads (a wake-up and a context switch per token on a
    // worker runtime were most of the CPU at 250 tok/s). Blocking work (file reads, the
    // tools' workspace scans) goes to tokio's blocking pool.
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("grokpair: cannot start the async runtime: {e}");
            return EXIT_PROVIDER;
        }
    };
    let result = rt.block_on(run(cli));
    // Do not wait for aborted request tasks to wind down.
    rt.shutdown_background();
    match result {
        Ok(code) => code,
        Err(f) => {
            // A provider's message may carry anything: shown safely on a terminal.
            use std::io::Write;
            let _ = writeln!(crate::sanitize::stderr(), "grokpair: {f}");
            f.exit_code()
        }
    }
}

/// The one `--model` of every command but `compare`.
pub fn single_model(cli: &Cli) -> Result<Option<String>, Failure> {
    match cli.model.as_slice() {
        [] => Ok(None),
        [m] => Ok(Some(m.clone())),
        _ => Err(Failure::Usage(
            "--model given more than once: only `grokpair compare` asks several models".into(),
        )),
    }
}

/// `--mode` and `--max-cost` over the config's `[agent]`.
fn agent_flags(cfg: &mut Config, flags: &(Option<String>, Option<f64>)) -> Result<(), Failure> {
    let (mode, max_cost) = flags;
    if let Some(m) = mode {
        cfg.agent.mode = crate::session::approval::Mode::parse(m).ok_or_else(|| {
            Failure::Usage(format!("--mode {m}: read-only, ask, auto-edit or yolo"))
        })?;
    }
    if let Some(c) = *max_cost {
        if !(c.is_finite() && c > 0.0) {
            return Err(Failure::Usage(format!(
                "--max-cost {c}: a number of USD above 0"
            )));
        }
        cfg.agent.max_cost = Some(c);
    }
    Ok(())
}

async fn run(cli: Cli) -> Result<i32, Failure> {
    if !matches!(cli.command, Some(Command::Compare(_))) {
        single_model(&cli)?;
    }
    let flags = (cli.mode.clone(), cli.max_cost);
    match cli.command {
        None => {
            let mut cfg = Config::load(cli.config.as_deref())?;
            agent_flags(&mut cfg, &flags)?;
            crate::tui::run(
                cfg,
                crate::tui::TuiOptions {
                    provider: cli.provider,
                    model: cli.model.first().cloned(),
                    theme: cli.theme,
                    no_save: cli.no_save,
                    workspace: cli.cd.clone(),
                    start: crate::tui::Start::Chat,
                },
            )
            .await
            .map_err(Failure::Usage)
        }
        Some(Command::Config(c)) => config_cmd::run(cli.config.as_deref(), c),
        Some(Command::Sessions(a)) => {
            let cfg = Config::load(cli.config.as_deref())?;
            sessions::list(&cfg, &a)
        }
        Some(Command::Export(a)) => {
            let cfg = Config::load(cli.config.as_deref())?;
            sessions::export(&cfg, &a)
        }
        Some(Command::Resume(ref a)) => {
            let mut cfg = Config::load(cli.config.as_deref())?;
            agent_flags(&mut cfg, &flags)?;
            let s = sessions::resolve_for_resume(&cfg, a)?;
            let opts = sessions::tui_options(&cli, crate::tui::Start::Resume(Box::new(s)));
            crate::tui::run(cfg, opts).await.map_err(Failure::Usage)
        }
        Some(Command::Replay(ref a)) => {
            let cfg = Config::load(cli.config.as_deref())?;
            let s = sessions::resolve_for_replay(&cfg, &a.what)?;
            let start = crate::tui::Start::Replay {
                session: Box::new(s),
                speed: a.speed.0,
                demo: false,
            };
            let opts = sessions::tui_options(&cli, start);
            crate::tui::run(cfg, opts).await.map_err(Failure::Usage)
        }
        Some(Command::Demo(ref a)) => {
            let cfg = Config::load(cli.config.as_deref())?;
            let Some(s) = sessions::demo(a)? else {
                return Ok(EXIT_OK);
            };
            let start = crate::tui::Start::Replay {
                session: Box::new(s),
                speed: a.speed.0,
                demo: true,
            };
            let opts = sessions::tui_options(&cli, start);
            crate::tui::run(cfg, opts).await.map_err(Failure::Usage)
        }
        Some(Command::Models(m)) => {
            let cfg = Config::load(cli.config.as_deref())?;
            models::run(&cfg, cli.provider.as_deref(), &m).await
        }
        Some(Command::Compare(a)) => {
            let cfg = Config::load(cli.config.as_deref())?;
            compare::run(&cfg, cli.provider.as_deref(), &cli.model, cli.no_save, *a).await
        }
        Some(Command::Exec(a)) => {
            let mut cfg = Config::load(cli.config.as_deref())?;
            agent_flags(&mut cfg, &flags)?;
            exec::run(
                &cfg,
                cli.provider.as_deref(),
                cli.model.first().map(String::as_str),
                cli.no_save,
                cli.cd.as_deref(),
                *a,
            )
            .await
        }
        Some(Command::Ask(a)) => {
            let cfg = Config::load(cli.config.as_deref())?;
            ask::run(
                &cfg,
                cli.provider.as_deref(),
                cli.model.first().map(String::as_str),
                cli.no_save,
                *a,
            )
            .await
        }
    }
}
