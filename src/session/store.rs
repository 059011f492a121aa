//! Saved sessions: one append-only JSONL file per session, written as the conversation
//! happens. Lines, each a JSON object with a `type`:
//!
//! - `header`: id, name, creation time, provider, model, conversation id, settings. Never a key.
//! - `history`: the conversation's messages from index `base` on (what changed since the last
//!   `history` line: normally appended messages; `base` below the previous length means the
//!   tail was replaced, e.g. an unanswered question taken back).
//! - `request`: a round starts: provider, model, how many history messages it sent, and
//!   (version 2) the exchange — the user turn — it belongs to and its round in it.
//! - `events`: the stream events of a round since the last flush, each with its offset `ms`
//!   from the request; consecutive text deltas are merged (one entry per flush, not per token).
//! - `end`: the round ended: state, usage, cost, error.
//! - `reply` (version 2): the history gains round `turn`'s reply, as its events rebuild it —
//!   an answer is in the file once, not again in a `history` line.
//! - `adopted`: a comparison column's answer became the conversation's next turn (the
//!   `history` line before it holds the question and that answer).
//! - `summary` (version 2): what a listing shows — turns, tokens, cost, model, first prompt,
//!   last activity — written after every `end` and `adopted`, so that `sessions` and the
//!   `/sessions` picker read a file's first and last lines instead of parsing all of it.
//!
//! Version 1 files (no `exchange`, `round` or `summary`) load the same way. A file cut short
//! by a crash loads with everything before the broken line.

use serde::{Deserialize, Serialize};
use std::fs::{File, OpenOptions};
use std::hash::{Hash, Hasher};
use std::io::{self, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::api::{ApiError, ChatParams, Message, Role, StreamEvent, TimedEvent, Usage};
use crate::session::{Conversation, Cost, Turn, TurnState};

/// The sessions directory, created readable by its owner only (sessions hold the user's code
/// and prompts); an existing one is closed to others too.
pub fn private_dir(dir: &std::path::Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
        let mode = std::fs::metadata(dir)?.permissions().mode();
        if mode & 0o077 != 0 {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode & 0o700))?;
        }
        Ok(())
    }
    #[cfg(not(unix))]
    std::fs::create_dir_all(dir)
}

/// A session in use by this process: another grokpair continuing the same session is
/// refused while it is held (two writers would lose turns). Released on drop, or when the
/// process ends however it ends.
pub struct SessionLock {
    _file: File,
}

/// Takes the lock of the session file `session` (a `.NAME.lock` file beside the file it
/// names, through any symlink), or says that another grokpair holds it. The directory must
/// exist.
pub fn lock_session(session: &Path) -> Result<SessionLock, String> {
    let real = std::fs::canonicalize(session).unwrap_or_else(|_| session.to_path_buf());
    let dir = match real.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let stem = real
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "session".into());
    let path = dir.join(format!(".{stem}.lock"));
    let file = private_file()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::io::AsRawFd;
        // SAFETY: flock on a file descriptor this function owns; no memory is involved.
        let r = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if r != 0 {
            return Err(format!(
                "session {stem} is in use by another grokpair; wait for it to finish or \
                 continue another session"
            ));
        }
    }
    Ok(SessionLock { _file: file })
}

/// Options for a new session file: readable and writable by its owner only.
pub fn private_file() -> OpenOptions {
    let mut o = OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o
}

pub const FORMAT_VERSION: u32 = 2;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Header {
    pub version: u32,
    pub id: String,
    /// Set for sessions named with `ask --session NAME`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// RFC 3339, UTC.
    pub created: String,
    pub provider: String,
    pub model: String,
    pub conv_id: String,
    #[serde(default)]
    pub settings: Settings,
    /// `chat`, `demo`, or `import` (a raw SSE capture).
    #[serde(default = "chat")]
    pub kind: String,
}

fn chat() -> String {
    "chat".into()
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    #[serde(default)]
    pub params: ChatParams,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedEvent {
    pub ms: u64,
    #[serde(flatten)]
    pub event: StreamEvent,
}

/// Times in a session file are bounded (a day): a hostile file's `ms` must not size a
/// buffer or overflow a sum.
pub const MAX_SAVED_MS: u64 = 24 * 60 * 60 * 1000;

fn saved_ms(ms: u64) -> Duration {
    Duration::from_millis(ms.min(MAX_SAVED_MS))
}

impl SavedEvent {
    pub fn timed(&self) -> TimedEvent {
        TimedEvent {
            at: saved_ms(self.ms),
            event: self.event.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Record {
    Header(Header),
    History {
        base: usize,
        messages: Vec<Message>,
    },
    Request {
        turn: usize,
        /// RFC 3339, UTC.
        at: String,
        provider: String,
        model: String,
        /// History messages sent (the first `messages` of the history at that point).
        messages: usize,
        /// Set when the turn is one column of a comparison.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        compare: Option<CompareTag>,
        /// The parameters sent, when they differ from the header's (`/set`, a column's own).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        params: Option<ChatParams>,
        /// The exchange (user turn) this round belongs to: the record number of its first
        /// round, or of a comparison's first column (version 2; version 1: its own).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        exchange: Option<usize>,
        /// Its place in the exchange (version 2; 0 is not written).
        #[serde(default, skip_serializing_if = "is_zero")]
        round: usize,
    },
    Events {
        turn: usize,
        events: Vec<SavedEvent>,
    },
    End {
        turn: usize,
        state: TurnState,
        ms: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        usage: Option<Usage>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cost: Option<Cost>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<ApiError>,
    },
    Adopted {
        turn: usize,
    },
    /// The history gains round `turn`'s reply, rebuilt from its events (version 2).
    Reply {
        turn: usize,
    },
    Summary(Summary),
    /// A tool call answered: run (with how it went), denied, or not run (version 2).
    Tool(ToolRecord),
}

/// How a tool call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolStatus {
    /// It ran and succeeded (a command: exit 0).
    Ok,
    /// A command that exited non-zero or was killed.
    Failed,
    /// It could not be carried out (the model is told why).
    Error,
    Denied,
    Cancelled,
    /// Not run: the step cap, the loop check, a reply cut off.
    NotRun,
}

/// One tool call of a round, as it was answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolRecord {
    /// The round that asked for it.
    pub turn: usize,
    pub call_id: String,
    pub name: String,
    /// In a few words (`edit src/a.rs`, `run cargo test`).
    pub title: String,
    /// Who let it run: `user`, a rule, a session grant, the mode (none: it did not run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    pub status: ToolStatus,
    pub ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit: Option<i32>,
    /// How it went in a few words (`+1 −1`, `exit 0 (2.1 s)`, an error's first line).
    pub summary: String,
    /// What the model was sent (bounded; also the history's tool message).
    pub output: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
    /// Workspace files it changed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changed: Vec<String>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// What a listing shows of a session, kept up to date in the file (see the module notes).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Turns as a person counts them (a comparison's columns are one).
    pub turns: usize,
    /// The model the conversation goes on with, or `compare ×N` for one that is only a
    /// comparison.
    pub model: String,
    /// Tokens billed: prompt, answer and reasoning, over every round.
    pub tokens: u64,
    pub cost_ticks: i64,
    /// False when a billed round's cost is not known (the total is then a lower bound).
    pub cost_known: bool,
    /// The first line of the first question, cut to `SUMMARY_PROMPT` characters.
    pub first_prompt: String,
    /// RFC 3339, UTC: when the last round ended.
    pub last_activity: String,
    /// Some rounds reported no usage (cancelled, cut off): their tokens are estimated from
    /// what streamed, and they may have been billed (the cost is a lower bound).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub tokens_estimated: bool,
}

/// Characters of the first prompt a summary keeps.
pub const SUMMARY_PROMPT: usize = 120;

/// A prompt as listings show it: its first line with text in it (a paste may start blank).
fn summary_prompt(p: &str) -> String {
    let line = p.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    one_line(line, SUMMARY_PROMPT)
}

impl Summary {
    /// Adds one ended round: its tokens and cost; without usage, the tokens that streamed,
    /// estimated.
    fn count_turn(&mut self, t: &Turn, usage: Option<&Usage>, cost: Option<&Cost>) {
        self.count(usage, cost);
        if usage.is_none() {
            let est = t
                .metrics(t.timing.end.unwrap_or_default(), false)
                .output_tokens;
            if est > 0 {
                self.tokens += est;
                self.tokens_estimated = true;
            }
        }
    }

    /// Adds one ended round's tokens and cost.
    fn count(&mut self, usage: Option<&Usage>, cost: Option<&Cost>) {
        if let Some(u) = usage {
            self.tokens += u.prompt_tokens + u.completion_tokens + u.reasoning();
        }
        match cost.map(|c| c.total_ticks) {
            Some(Some(v)) => self.cost_ticks += v,
            Some(None) => self.cost_known = false,
            None if usage.is_some() => self.cost_known = false,
            None => {}
        }
    }
}

/// A session file as listings see it.
#[derive(Debug, Clone)]
pub struct Listing {
    pub path: PathBuf,
    pub header: Header,
    pub summary: Summary,
}

impl Listing {
    pub fn id(&self) -> &str {
        &self.header.id
    }
}

/// How much of a file's end is read for its `summary` record.
const TAIL: u64 = 16 * 1024;

/// A session's listing from its first line and its `summary` record when that is the file's
/// last (a version 2 file at rest); otherwise (version 1, or a round still open or cut short)
/// from the whole file.
pub fn listing(path: &Path) -> Result<Listing, LoadError> {
    use std::io::{BufRead, Read};
    let io = |e| LoadError::Io(path.to_path_buf(), e);
    let mut f = File::open(path).map_err(io)?;
    let len = f.metadata().map_err(io)?.len();
    let mut first = Vec::new();
    io::BufReader::new((&mut f).take(1 << 20))
        .read_until(b'\n', &mut first)
        .map_err(io)?;
    let header = match serde_json::from_slice::<Record>(&first) {
        Ok(Record::Header(h)) => h,
        _ => return Err(LoadError::NoHeader(path.to_path_buf())),
    };
    if header.version >= 2 {
        let start = len.saturating_sub(TAIL);
        f.seek(SeekFrom::Start(start)).map_err(io)?;
        let mut tail = Vec::new();
        f.take(TAIL).read_to_end(&mut tail).map_err(io)?;
        let last = tail
            .split(|b| *b == b'\n')
            .rev()
            .find(|l| !l.iter().all(|b| b.is_ascii_whitespace()));
        if let Some(Ok(Record::Summary(summary))) = last.map(serde_json::from_slice::<Record>) {
            return Ok(Listing {
                path: path.to_path_buf(),
                header,
                summary,
            });
        }
    }
    let s = load(path)?;
    Ok(Listing {
        path: path.to_path_buf(),
        summary: s.summary(),
        header: s.header,
    })
}

/// Marks a turn as one column of a side-by-side comparison. The columns of one comparison
/// share `group` (the turn number of its first column) and ran at the same time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompareTag {
    pub group: usize,
    pub column: usize,
    pub of: usize,
    /// When this column's request went out, after the comparison started (a column waits for
    /// a free slot at its provider); its events count from here.
    pub start_ms: u64,
    /// False for a column that ended before its request went out (cancelled while queued, or
    /// its provider could not be set up): nothing was sent, nothing billed.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub sent: bool,
    /// The column's own sampling settings over the session's (`temperature=0.2,seed=7`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub settings: String,
}

fn yes() -> bool {
    true
}

fn is_true(b: &bool) -> bool {
    *b
}

/// The history a turn's request sent: a prefix of a history shared by the turns that sent
/// the same one (the history is append-only), so that holding every turn's request costs
/// memory in the length of the session, not its square.
#[derive(Debug, Clone)]
pub struct Prefix {
    all: std::sync::Arc<Vec<Message>>,
    len: usize,
}

impl Prefix {
    /// The first `len` messages of `all` (at most all of them).
    pub fn of(all: &std::sync::Arc<Vec<Message>>, len: usize) -> Self {
        Prefix {
            all: all.clone(),
            len: len.min(all.len()),
        }
    }
}

impl std::ops::Deref for Prefix {
    type Target = [Message];
    fn deref(&self) -> &[Message] {
        &self.all[..self.len]
    }
}

impl From<Vec<Message>> for Prefix {
    fn from(v: Vec<Message>) -> Self {
        let len = v.len();
        Prefix {
            all: std::sync::Arc::new(v),
            len,
        }
    }
}

impl PartialEq for Prefix {
    fn eq(&self, other: &Self) -> bool {
        self[..] == other[..]
    }
}

impl Serialize for Prefix {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self[..].serialize(s)
    }
}

/// One turn as loaded from a file.
#[derive(Debug, Clone, PartialEq)]
pub struct SavedTurn {
    pub turn: usize,
    pub at: String,
    pub provider: String,
    pub model: String,
    /// The messages the request sent.
    pub request: Prefix,
    pub events: Vec<TimedEvent>,
    pub end: Option<End>,
    pub compare: Option<CompareTag>,
    /// The parameters the request was sent with.
    pub params: ChatParams,
    /// The exchange (user turn) it belongs to (see `Record::Request`) and its round in it.
    pub exchange: usize,
    pub round: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct End {
    pub state: TurnState,
    pub at: Duration,
    pub usage: Option<Usage>,
    pub cost: Option<Cost>,
    pub error: Option<ApiError>,
}

impl SavedTurn {
    /// The user's message that started the turn.
    pub fn prompt(&self) -> &str {
        self.request
            .iter()
            .rev()
            .find(|m| m.role == Role::User)
            .map(|m| m.content.as_str())
            .unwrap_or("")
    }

    /// The turn's figures; the cost is the one saved with it when there is one (it was
    /// computed with the provider's settings of the time).
    pub fn report(&self, catalog: &crate::session::Catalog) -> crate::session::TurnReport {
        let turn = self.to_turn();
        let now = turn.timing.end.unwrap_or_default();
        let mut r =
            crate::session::TurnReport::new(&turn, now, &self.provider, catalog, false, false);
        if let Some(c) = self.end.as_ref().and_then(|e| e.cost.clone()) {
            r.cost = Some(c);
        }
        r
    }

    /// When the turn ended (its end record, else its last event), from its request.
    pub fn end_at(&self) -> Duration {
        self.end
            .as_ref()
            .map(|e| e.at)
            .or(self.events.last().map(|e| e.at))
            .unwrap_or_default()
    }

    /// The turn rebuilt from its events. A turn whose file ends mid-stream (a crash) is
    /// treated as cancelled at its last event.
    pub fn to_turn(&self) -> Turn {
        let mut t = Turn::new(&self.model);
        for ev in &self.events {
            t.apply(ev);
        }
        if !t.is_finished() {
            self.close(&mut t, self.end_at());
        }
        t
    }

    /// Ends `t`, rebuilt from this turn's events without a terminal one, at `at`: with the
    /// failure its end record gives (a column whose request never went out), else cancelled
    /// (cut short: the user, or a crash).
    pub fn close(&self, t: &mut Turn, at: Duration) {
        match self.end.as_ref().and_then(|e| e.error.clone()) {
            Some(e) => t.apply(&TimedEvent {
                at,
                event: StreamEvent::Error(e),
            }),
            None => t.cancel(at),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Session {
    pub path: PathBuf,
    pub header: Header,
    /// The conversation's history at the end of the file.
    pub messages: Vec<Message>,
    pub turns: Vec<SavedTurn>,
    /// Lines that could not be read (a line cut short by a crash).
    pub skipped: usize,
    /// Turn numbers of the comparison columns whose answers were adopted.
    pub adopted_turns: Vec<usize>,
    /// The agent's tool calls, as they were answered.
    pub tools: Vec<ToolRecord>,
    /// How many of `messages` the file's history records hold (a reply rebuilt after a crash
    /// is not among them: continuing writes it).
    pub recorded: usize,
}

impl Session {
    pub fn id(&self) -> &str {
        &self.header.id
    }

    /// The conversation to continue: same id, same history.
    pub fn conversation(&self) -> Conversation {
        Conversation::from_messages(self.header.conv_id.clone(), self.messages.clone())
    }

    /// Turns as a person counts them: a comparison's columns are one.
    pub fn turn_count(&self) -> usize {
        runs(&self.turns).len()
    }

    /// Which column of the comparison at `run` was adopted: the one its `adopted` record names.
    /// Without one (a crash between the history line and that record), the column whose
    /// complete answer directly follows the comparison's question in the history.
    pub fn adopted(&self, run: &std::ops::Range<usize>) -> Option<usize> {
        let cols = &self.turns[run.clone()];
        if let Some(i) = cols
            .iter()
            .position(|t| self.adopted_turns.contains(&t.turn))
        {
            return Some(i);
        }
        let first = cols.first()?;
        let n = first.request.len();
        let (question, answer) = (self.messages.get(n.checked_sub(1)?)?, self.messages.get(n)?);
        if question.role != Role::User
            || question.content != first.prompt()
            || answer.role != Role::Assistant
        {
            return None;
        }
        cols.iter().position(|t| {
            let t = t.to_turn();
            t.state == TurnState::Done && t.content == answer.content
        })
    }

    /// The provider and model the conversation goes on with: the last plain turn's, or the
    /// adopted answer's of a later comparison.
    pub fn current_model(&self) -> Option<(&str, &str)> {
        self.current_turn()
            .map(|t| (t.provider.as_str(), t.model.as_str()))
    }

    /// The settings the conversation goes on with: the last plain turn's, an adopted column's,
    /// or those a later comparison was asked with (a column of no settings of its own sent
    /// just those).
    pub fn current_params(&self) -> Option<&ChatParams> {
        runs(&self.turns).into_iter().rev().find_map(|run| {
            let t = self.continued_from(&run).or_else(|| {
                self.turns[run].iter().find(|t| {
                    t.compare
                        .as_ref()
                        .is_some_and(|c| c.settings.is_empty() && c.sent)
                })
            });
            t.map(|t| &t.params)
        })
    }

    /// The last plain turn, or the adopted column of a later comparison.
    fn current_turn(&self) -> Option<&SavedTurn> {
        runs(&self.turns)
            .into_iter()
            .rev()
            .find_map(|run| self.continued_from(&run))
    }

    /// The turn of `run` the conversation goes on from: a plain turn, or a comparison's
    /// adopted column (none while nothing is adopted).
    fn continued_from(&self, run: &std::ops::Range<usize>) -> Option<&SavedTurn> {
        match self.turns[run.start].compare {
            None => Some(&self.turns[run.start]),
            Some(_) => self.adopted(run).map(|col| &self.turns[run.start + col]),
        }
    }

    /// The model column of listings: the current model, or `compare ×N` for a session that is
    /// only a comparison.
    pub fn model_label(&self) -> String {
        match (
            self.current_model(),
            self.turns.last().and_then(|t| t.compare.as_ref()),
        ) {
            (Some((_, m)), _) => m.to_string(),
            (None, Some(c)) => format!("compare ×{}", c.of),
            (None, None) => self.header.model.clone(),
        }
    }

    pub fn first_prompt(&self) -> &str {
        self.turns.first().map(|t| t.prompt()).unwrap_or("")
    }

    /// What a listing shows, computed from the whole file (the `summary` record holds the
    /// same, written as the session went).
    pub fn summary(&self) -> Summary {
        let mut sum = Summary {
            turns: self.turn_count(),
            model: self.model_label(),
            cost_known: true,
            first_prompt: summary_prompt(self.first_prompt()),
            last_activity: self
                .turns
                .last()
                .map(|t| t.at.clone())
                .unwrap_or_else(|| self.header.created.clone()),
            ..Summary::default()
        };
        for t in &self.turns {
            let turn = t.to_turn();
            let usage = t
                .end
                .as_ref()
                .and_then(|e| e.usage.clone())
                .or_else(|| turn.usage.clone());
            let cost = t.end.as_ref().and_then(|e| e.cost.as_ref());
            sum.count_turn(&turn, usage.as_ref(), cost);
        }
        sum
    }

    /// What to call it: its name, else the first line of its first question (at most `max`
    /// characters).
    pub fn title(&self, max: usize) -> String {
        self.header
            .name
            .clone()
            .unwrap_or_else(|| one_line(self.first_prompt().lines().next().unwrap_or(""), max))
    }
}

/// `s` on one line (runs of whitespace, newlines included, become one space), cut to `n`
/// characters with an ellipsis.
pub fn one_line(s: &str, n: usize) -> String {
    let flat: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= n {
        flat
    } else {
        let mut t: String = flat.chars().take(n.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// A header's `created` for listings: `2026-11-22T09:30:00Z` → `2026-11-22 09:30`.
pub fn short_date(created: &str) -> String {
    created.get(..16).unwrap_or(created).replace('T', " ")
}

#[derive(Debug)]
pub enum LoadError {
    Io(PathBuf, io::Error),
    NoHeader(PathBuf),
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::Io(p, e) => write!(f, "{}: {e}", p.display()),
            LoadError::NoHeader(p) => write!(
                f,
                "{}: not a grokpair session (no header line)",
                p.display()
            ),
        }
    }
}

impl std::error::Error for LoadError {}

/// Reads a session file. Unreadable lines (a crash mid-write) are skipped and counted.
pub fn load(path: &Path) -> Result<Session, LoadError> {
    let bytes = std::fs::read(path).map_err(|e| LoadError::Io(path.to_path_buf(), e))?;
    parse(&bytes, path)
}

/// Reads a session from its text; `path` is where it came from (for messages).
pub fn parse(bytes: &[u8], path: &Path) -> Result<Session, LoadError> {
    let mut header = None;
    let mut messages: Vec<Message> = Vec::new();
    let mut turns: Vec<SavedTurn> = Vec::new();
    // Turns whose request is a prefix of `messages` as it grows: (turn index, length). They
    // share one copy of it, made when a history record would change their prefix, or at the
    // end.
    let mut open: Vec<(usize, usize)> = Vec::new();
    let share =
        |messages: &Vec<Message>, open: &mut Vec<(usize, usize)>, turns: &mut Vec<SavedTurn>| {
            if open.is_empty() {
                return;
            }
            let all = std::sync::Arc::new(messages.clone());
            for (i, n) in open.drain(..) {
                turns[i].request = Prefix::of(&all, n);
            }
        };
    let mut skipped = 0;
    let mut adopted_turns = Vec::new();
    let mut tools = Vec::new();
    for line in bytes.split(|b| *b == b'\n') {
        if line.iter().all(|b| b.is_ascii_whitespace()) {
            continue;
        }
        let Ok(rec) = serde_json::from_slice::<Record>(line) else {
            skipped += 1;
            continue;
        };
        match rec {
            Record::Header(h) => {
                if header.is_none() {
                    header = Some(h);
                }
            }
            Record::History { base, messages: m } => {
                // Appending leaves every open prefix as it was; cutting into one does not.
                if open.iter().any(|(_, n)| base < *n) {
                    share(&messages, &mut open, &mut turns);
                }
                messages.truncate(base);
                messages.extend(m);
            }
            Record::Request {
                turn,
                at,
                provider,
                model,
                messages: n,
                compare,
                params,
                exchange,
                round,
            } => {
                open.push((turns.len(), n.min(messages.len())));
                let exchange =
                    exchange.unwrap_or_else(|| compare.as_ref().map_or(turn, |c| c.group));
                turns.push(SavedTurn {
                    exchange,
                    round,
                    turn,
                    at,
                    provider,
                    model,
                    request: Prefix::from(Vec::new()),
                    events: Vec::new(),
                    end: None,
                    compare,
                    params: params
                        .or_else(|| header.as_ref().map(|h| h.settings.params.clone()))
                        .unwrap_or_default(),
                })
            }
            Record::Events { turn, events } => {
                if let Some(t) = turns.iter_mut().rev().find(|t| t.turn == turn) {
                    t.events.extend(events.iter().map(SavedEvent::timed));
                }
            }
            Record::End {
                turn,
                state,
                ms,
                usage,
                cost,
                error,
            } => {
                if let Some(t) = turns.iter_mut().rev().find(|t| t.turn == turn) {
                    t.end = Some(End {
                        state,
                        at: saved_ms(ms),
                        usage,
                        cost,
                        error,
                    });
                }
            }
            Record::Adopted { turn } => adopted_turns.push(turn),
            Record::Reply { turn } => {
                // Appending leaves every open prefix as it was.
                let reply = turns
                    .iter()
                    .rev()
                    .find(|t| t.turn == turn)
                    .map(|t| crate::session::conversation::reply(&t.to_turn()));
                match reply {
                    Some(Some(m)) => messages.push(m),
                    Some(None) => {}
                    None => skipped += 1,
                }
            }
            Record::Summary(_) => {}
            Record::Tool(t) => tools.push(t),
        }
    }
    share(&messages, &mut open, &mut turns);
    let recorded = messages.len();
    // A comparison's columns are recorded as their requests went out; they load in column
    // order.
    for run in runs(&turns) {
        turns[run].sort_by_key(|t| t.compare.as_ref().map(|c| c.column));
    }
    // A crash between a turn's end and the history line after it: the reply is rebuilt from
    // the turn's events, exactly as the conversation would have appended it.
    // (Not for a comparison: its answers join the history only when one is adopted, so a
    // question left hanging by a crash mid-comparison is taken back.)
    if let Some(last) = turns.last().filter(|t| t.compare.is_some()) {
        if messages[..] == last.request[..] && messages.last().is_some_and(|m| m.role == Role::User)
        {
            messages.pop();
        }
    }
    if let Some(last) = turns.last().filter(|t| t.compare.is_none()) {
        if messages[..] == last.request[..] {
            let t = last.to_turn();
            let mut c = Conversation::from_messages(String::new(), std::mem::take(&mut messages));
            crate::session::exchange::close(&mut c, &t);
            messages = c.messages().to_vec();
        }
    }
    let header = header.ok_or_else(|| LoadError::NoHeader(path.to_path_buf()))?;
    Ok(Session {
        path: path.to_path_buf(),
        header,
        messages,
        turns,
        skipped,
        adopted_turns,
        tools,
        recorded,
    })
}

/// The saved turns in runs, one per user turn: a single round, an agent's rounds, or all the
/// columns of one comparison.
pub fn runs(turns: &[SavedTurn]) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut k = 0;
    while k < turns.len() {
        let mut j = k + 1;
        if let Some(g) = turns[k].compare.as_ref().map(|c| c.group) {
            while j < turns.len() && turns[j].compare.as_ref().is_some_and(|c| c.group == g) {
                j += 1;
            }
        } else {
            // The rounds of one exchange (agent mode: a round per tool step).
            while j < turns.len()
                && turns[j].compare.is_none()
                && turns[j].exchange == turns[k].exchange
                && turns[j].round > 0
            {
                j += 1;
            }
        }
        out.push(k..j);
        k = j;
    }
    out
}

impl Session {
    /// The tool calls round `rec` asked for, as they were answered.
    pub fn tools_of(&self, rec: usize) -> impl Iterator<Item = &ToolRecord> {
        self.tools.iter().filter(move |t| t.turn == rec)
    }
}

/// The run (see `runs`) that turn `k` belongs to.
pub fn run_at(turns: &[SavedTurn], k: usize) -> std::ops::Range<usize> {
    runs(turns)
        .into_iter()
        .find(|r| r.contains(&k))
        .unwrap_or(k..k + 1)
}

/// Every session file in `dir`, newest first (by file name, which starts with the time).
pub fn list(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<(SystemTime, PathBuf)> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .map(|p| {
            let m = std::fs::metadata(&p)
                .and_then(|m| m.modified())
                .unwrap_or(UNIX_EPOCH);
            (m, p)
        })
        .collect();
    v.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| b.1.cmp(&a.1)));
    v.into_iter().map(|(_, p)| p).collect()
}

/// Finds a session by file path, id, name, or a unique id prefix.
pub fn find(dir: &Path, what: &str) -> Result<PathBuf, String> {
    let p = Path::new(what);
    if p.is_file() {
        return Ok(p.to_path_buf());
    }
    let exact = dir.join(format!("{what}.jsonl"));
    if exact.is_file() {
        return Ok(exact);
    }
    let all = list(dir);
    let hits: Vec<&PathBuf> = all
        .iter()
        .filter(|p| {
            p.file_stem()
                .and_then(|s| s.to_str())
                .is_some_and(|s| s.starts_with(what))
        })
        .collect();
    match hits.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(format!(
            "no session `{what}` in {} (`grokpair sessions` lists them)",
            dir.display()
        )),
        many => Err(format!(
            "`{what}` matches {} sessions; give more of the id",
            many.len()
        )),
    }
}

/// A session file name must be a plain name: letters, digits, `-`, `_`, `.`.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 100
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// Now, as RFC 3339 UTC with seconds.
pub fn now_rfc3339() -> String {
    rfc3339(SystemTime::now())
}

pub fn rfc3339(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian (Howard Hinnant's method).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// A new session id: the creation time (sortable) and a random suffix.
pub fn new_session_id() -> String {
    let t = now_rfc3339();
    let stamp: String = t
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == 'T')
        .collect::<String>()
        .replace('T', "-");
    format!("{stamp}-{:04x}", fastrand::u16(..))
}

fn hash_message(m: &Message) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    serde_json::to_string(m).unwrap_or_default().hash(&mut h);
    h.finish()
}

/// Writes a session as it happens. Created lazily on the first request, so opening the TUI
/// and leaving writes nothing. I/O errors never interrupt a conversation: the first one is
/// kept for the caller to show, and recording stops.
pub struct Recorder {
    dir: PathBuf,
    enabled: bool,
    name: Option<String>,
    kind: String,
    path: Option<PathBuf>,
    file: Option<File>,
    /// Hashes of the history as last written, to write only what changed.
    written: Vec<u64>,
    /// Events not yet written, per turn (a comparison's columns stream at once).
    pending: Vec<(usize, Vec<SavedEvent>)>,
    error: Option<String>,
    error_taken: bool,
    /// The header's parameters: a request records its own only when they differ.
    header_params: Option<ChatParams>,
    /// This process's hold on the file: no other grokpair writes it meanwhile.
    lock: Option<SessionLock>,
    /// The listing as of the last round (see `Summary`), and what keeps it current.
    summary: Summary,
    tally: Tally,
}

/// What the recorder keeps to update the summary as rounds go (see `Session::model_label`).
#[derive(Default)]
struct Tally {
    exchanges: std::collections::HashSet<usize>,
    /// The model the conversation goes on with: the last plain turn's or adopted column's.
    current: Option<String>,
    /// Columns of the last comparison, and the models of every column by record number.
    last_compare: Option<usize>,
    columns: std::collections::HashMap<usize, String>,
    header_model: String,
    /// The first request's prompt is in the summary (an empty one too).
    prompt_set: bool,
}

impl Tally {
    fn label(&self) -> String {
        match (&self.current, self.last_compare) {
            (Some(m), _) => m.clone(),
            (None, Some(n)) => format!("compare ×{n}"),
            (None, None) => self.header_model.clone(),
        }
    }
}

impl Recorder {
    /// Records into a new file in `dir` (none at all when `enabled` is false).
    pub fn new(dir: &Path, enabled: bool) -> Self {
        Recorder {
            dir: dir.to_path_buf(),
            enabled,
            name: None,
            kind: "chat".into(),
            path: None,
            file: None,
            written: Vec::new(),
            pending: Vec::new(),
            error: None,
            error_taken: false,
            header_params: None,
            lock: None,
            summary: Summary {
                cost_known: true,
                ..Summary::default()
            },
            tally: Tally::default(),
        }
    }

    /// Records into `<dir>/<name>.jsonl` (created on first use; `continue_session` for more).
    pub fn named(dir: &Path, name: &str, enabled: bool) -> Self {
        let mut r = Recorder::new(dir, enabled);
        r.name = Some(name.to_string());
        r
    }

    /// Continues a loaded session in its own file.
    pub fn continue_session(s: &Session, enabled: bool) -> Self {
        let dir = s.path.parent().unwrap_or(Path::new(".")).to_path_buf();
        let mut r = Recorder::new(&dir, enabled);
        r.name = s.header.name.clone();
        r.path = Some(s.path.clone());
        // What the file holds: a reply rebuilt after a crash is written with the next turn.
        let n = s.recorded.min(s.messages.len());
        r.written = s.messages[..n].iter().map(hash_message).collect();
        r.header_params = Some(s.header.settings.params.clone());
        r.summary = s.summary();
        r.tally = Tally {
            exchanges: (0..s.turn_count()).collect(),
            current: s.current_model().map(|(_, m)| m.to_string()),
            last_compare: s
                .turns
                .last()
                .and_then(|t| t.compare.as_ref())
                .map(|c| c.of),
            columns: s
                .turns
                .iter()
                .filter(|t| t.compare.is_some())
                .map(|t| (t.turn, t.model.clone()))
                .collect(),
            header_model: s.header.model.clone(),
            prompt_set: !s.turns.is_empty(),
        };
        r
    }

    /// Takes the session file's lock now (a continued session: refused before anything is
    /// shown or sent when another grokpair is writing it). Nothing to lock when disabled.
    pub fn try_lock(&mut self) -> Result<(), String> {
        if let (true, None, Some(p)) = (self.enabled, &self.lock, &self.path) {
            self.lock = Some(lock_session(p)?);
        }
        Ok(())
    }

    /// Keeps a lock taken before the session was loaded.
    pub fn hold(&mut self, lock: SessionLock) {
        self.lock = Some(lock);
    }

    pub fn set_kind(&mut self, kind: &str) {
        self.kind = kind.to_string();
    }

    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The first I/O error, once.
    pub fn take_error(&mut self) -> Option<String> {
        if self.error_taken {
            return None;
        }
        let e = self.error.clone();
        if e.is_some() {
            self.error_taken = true;
        }
        e
    }

    fn fail(&mut self, what: &str, e: io::Error) {
        if self.error.is_none() {
            let p = self
                .path
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| self.dir.display().to_string());
            self.error = Some(format!(
                "session not saved ({what} {p}: {e}); the conversation goes on"
            ));
        }
        self.enabled = false;
        self.file = None;
    }

    fn write(&mut self, rec: &Record) {
        if !self.enabled {
            return;
        }
        let Some(f) = self.file.as_mut() else { return };
        let mut line = serde_json::to_vec(rec).expect("records serialize");
        line.push(b'\n');
        // One write per line, flushed at once: a crash loses at most the line being written.
        if let Err(e) = f.write_all(&line).and_then(|_| f.flush()) {
            self.fail("writing", e);
        }
    }

    fn open(&mut self, header: impl FnOnce(&str, Option<&str>) -> Header) {
        if !self.enabled || self.file.is_some() {
            return;
        }
        if let Err(e) = private_dir(&self.dir) {
            self.fail("creating", e);
            return;
        }
        if let Some(p) = self.path.clone() {
            if let Err(m) = self.try_lock() {
                self.error = Some(format!("session not saved: {m}"));
                self.enabled = false;
                return;
            }
            // Continuing: append after whatever is there. A last line cut short by a crash is
            // closed off first, so that the next record starts on a line of its own.
            match OpenOptions::new().read(true).append(true).open(&p) {
                Ok(mut f) => {
                    let mut last = [0u8; 1];
                    let cut = f.metadata().map(|m| m.len() > 0).unwrap_or(false)
                        && f.seek(SeekFrom::End(-1)).is_ok()
                        && io::Read::read_exact(&mut f, &mut last).is_ok()
                        && last[0] != b'\n';
                    if cut {
                        let _ = f.write_all(b"\n");
                    }
                    self.file = Some(f);
                }
                Err(e) => self.fail("opening", e),
            }
            return;
        }
        let id = match &self.name {
            Some(n) => n.clone(),
            None => new_session_id(),
        };
        let path = self.dir.join(format!("{id}.jsonl"));
        if self.lock.is_none() {
            match lock_session(&path) {
                Ok(l) => self.lock = Some(l),
                Err(m) => {
                    self.error = Some(format!("session not saved: {m}"));
                    self.enabled = false;
                    return;
                }
            }
        }
        let existing = path.is_file();
        self.path = Some(path.clone());
        match private_file().create(true).append(true).open(&path) {
            Ok(f) => self.file = Some(f),
            Err(e) => return self.fail("creating", e),
        }
        if !existing {
            let h = header(&id, self.name.as_deref());
            self.write(&Record::Header(Header {
                kind: self.kind.clone(),
                ..h
            }));
        }
    }

    /// Writes what changed in the history since the last call.
    fn sync(&mut self, conv: &Conversation) {
        let msgs = conv.messages();
        let hashes: Vec<u64> = msgs.iter().map(hash_message).collect();
        let base = self
            .written
            .iter()
            .zip(&hashes)
            .take_while(|(a, b)| a == b)
            .count();
        if base == self.written.len() && base == hashes.len() {
            return;
        }
        self.write(&Record::History {
            base,
            messages: msgs[base..].to_vec(),
        });
        self.written = hashes;
    }

    /// Like `sync`, after round `turn` ended: when all that changed is its reply joining the
    /// history, a `reply` record says so instead of repeating the answer.
    fn sync_reply(&mut self, conv: &Conversation, turn: usize, t: &Turn) {
        let msgs = conv.messages();
        let appended_one = msgs.len() == self.written.len() + 1
            && self
                .written
                .iter()
                .zip(msgs)
                .all(|(h, m)| *h == hash_message(m));
        let is_reply =
            appended_one && crate::session::conversation::reply(t).as_ref() == msgs.last();
        if !is_reply {
            return self.sync(conv);
        }
        self.write(&Record::Reply { turn });
        self.written.push(hash_message(&msgs[msgs.len() - 1]));
    }

    /// A plain turn starts (the first round of exchange `turn`).
    pub fn begin(
        &mut self,
        turn: usize,
        conv: &Conversation,
        provider: &str,
        model: &str,
        settings: &Settings,
    ) {
        self.begin_round(
            crate::session::exchange::RoundId::first(turn),
            conv,
            provider,
            model,
            settings,
        );
    }

    /// A round starts: the header (first time), the history, the request.
    pub fn begin_round(
        &mut self,
        id: crate::session::exchange::RoundId,
        conv: &Conversation,
        provider: &str,
        model: &str,
        settings: &Settings,
    ) {
        self.begin_inner(id, conv, provider, model, settings, None);
    }

    /// Like `begin`, for one column of a comparison: its tag and the parameters it was sent
    /// with (`conv` is what it sends; `settings` are the comparison's shared ones).
    pub fn begin_tagged(
        &mut self,
        turn: usize,
        conv: &Conversation,
        provider: &str,
        model: &str,
        settings: &Settings,
        column: Option<(CompareTag, &ChatParams)>,
    ) {
        let exchange = column.as_ref().map_or(turn, |(t, _)| t.group);
        let id = crate::session::exchange::RoundId {
            rec: turn,
            exchange,
            round: 0,
        };
        self.begin_inner(id, conv, provider, model, settings, column);
    }

    fn begin_inner(
        &mut self,
        id: crate::session::exchange::RoundId,
        conv: &Conversation,
        provider: &str,
        model: &str,
        settings: &Settings,
        column: Option<(CompareTag, &ChatParams)>,
    ) {
        self.open(|id, name| Header {
            version: FORMAT_VERSION,
            id: id.to_string(),
            name: name.map(str::to_string),
            created: now_rfc3339(),
            provider: provider.to_string(),
            model: model.to_string(),
            conv_id: conv.id.clone(),
            settings: settings.clone(),
            kind: "chat".into(),
        });
        self.sync(conv);
        let header = self
            .header_params
            .get_or_insert_with(|| settings.params.clone());
        let (compare, sent) = match column {
            Some((tag, sent)) => (Some(tag), sent),
            None => (None, &settings.params),
        };
        let params = (header != sent).then(|| sent.clone());
        // The summary's bookkeeping.
        if self.tally.header_model.is_empty() {
            self.tally.header_model = model.to_string();
        }
        if self.tally.exchanges.insert(id.exchange) {
            self.summary.turns += 1;
        }
        if !self.tally.prompt_set {
            self.tally.prompt_set = true;
            let prompt = conv
                .messages()
                .iter()
                .rev()
                .find(|m| m.role == Role::User)
                .map(|m| m.content.as_str())
                .unwrap_or("");
            self.summary.first_prompt = summary_prompt(prompt);
        }
        match &compare {
            Some(tag) => {
                self.tally.last_compare = Some(tag.of);
                self.tally.columns.insert(id.rec, model.to_string());
            }
            None => {
                self.tally.current = Some(model.to_string());
                self.tally.last_compare = None;
            }
        }
        self.write(&Record::Request {
            turn: id.rec,
            at: now_rfc3339(),
            provider: provider.to_string(),
            model: model.to_string(),
            messages: conv.messages().len(),
            compare,
            params,
            exchange: Some(id.exchange),
            round: id.round,
        });
    }

    fn write_summary(&mut self) {
        self.summary.model = self.tally.label();
        self.summary.last_activity = now_rfc3339();
        let s = self.summary.clone();
        self.write(&Record::Summary(s));
    }

    /// Column `turn`'s answer was adopted: the history with it, then the record saying so.
    /// Goes to a session that has a file already (this run's, or a continued one).
    pub fn adopted(&mut self, turn: usize, conv: &Conversation) {
        if self.file.is_none() && self.path.is_some() {
            self.open(|_, _| unreachable!("a continued session has its header"));
        }
        if self.file.is_some() {
            self.flush();
            self.sync(conv);
            self.write(&Record::Adopted { turn });
            if let Some(m) = self.tally.columns.get(&turn) {
                self.tally.current = Some(m.clone());
            }
            self.write_summary();
        }
    }

    /// A tool call was answered (after the events so far).
    pub fn tool(&mut self, t: &ToolRecord) {
        self.flush();
        if self.file.is_some() {
            self.write(&Record::Tool(t.clone()));
        }
    }

    /// The history as it stands (tool results of an agent turn that sent no more rounds),
    /// so that a continued session has every call answered.
    pub fn history(&mut self, conv: &Conversation) {
        self.flush();
        if self.file.is_some() {
            self.sync(conv);
        }
    }

    /// Buffers an event; `flush` writes the batch.
    pub fn event(&mut self, turn: usize, ev: &TimedEvent) {
        if !self.enabled {
            return;
        }
        let i = match self.pending.iter().position(|(t, _)| *t == turn) {
            Some(i) => i,
            None => {
                self.pending.push((turn, Vec::new()));
                self.pending.len() - 1
            }
        };
        // Consecutive answer or reasoning deltas are merged as they come (at the time of the
        // first): what waits for the next flush is the text, not an event per token.
        let events = &mut self.pending[i].1;
        if let Some(last) = events.last_mut() {
            match (&mut last.event, &ev.event) {
                (StreamEvent::Content(a), StreamEvent::Content(b))
                | (StreamEvent::Reasoning(a), StreamEvent::Reasoning(b)) => {
                    a.push_str(b);
                    return;
                }
                _ => {}
            }
        }
        events.push(SavedEvent {
            ms: ev.at.as_millis() as u64,
            event: ev.event.clone(),
        });
    }

    /// Writes the buffered events: one line per turn.
    pub fn flush(&mut self) {
        for (turn, events) in std::mem::take(&mut self.pending) {
            if !events.is_empty() {
                self.write(&Record::Events { turn, events });
            }
        }
    }

    /// The turn ended (finished, failed or cancelled); `conv` is the history after it.
    pub fn end(&mut self, turn: usize, t: &Turn, cost: Option<Cost>, conv: &Conversation) {
        self.flush();
        if self.file.is_none() {
            return;
        }
        self.summary.count_turn(t, t.usage.as_ref(), cost.as_ref());
        self.write(&Record::End {
            turn,
            state: t.state,
            ms: t.timing.end.unwrap_or_default().as_millis() as u64,
            usage: t.usage.clone(),
            cost,
            error: t.error.clone(),
        });
        self.sync_reply(conv, turn, t);
        self.write_summary();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_utc_civil() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        let t = UNIX_EPOCH + Duration::from_secs(1_795_000_000);
        assert_eq!(rfc3339(t), "2026-11-18T11:06:40Z");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29
        assert_eq!(rfc3339(leap), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn names() {
        assert!(valid_name("refactor-2"));
        assert!(!valid_name("../x"));
        assert!(!valid_name(".hidden"));
        assert!(!valid_name("a b"));
    }

    #[test]
    fn interleaved_columns_are_written_one_line_per_turn_per_flush() {
        let dir = tempfile::tempdir().unwrap();
        let mut rec = Recorder::new(dir.path(), true);
        let mut conv = Conversation::new(None);
        conv.push_user("q");
        for col in 0..2 {
            let tag = CompareTag {
                group: 0,
                column: col,
                of: 2,
                start_ms: 0,
                sent: true,
                settings: String::new(),
            };
            let sent = ChatParams::default();
            rec.begin_tagged(
                col,
                &conv,
                "p",
                "m",
                &Settings::default(),
                Some((tag, &sent)),
            );
        }
        for i in 0..10u64 {
            let ev = TimedEvent {
                at: Duration::from_millis(i),
                event: StreamEvent::Content(format!("{i}")),
            };
            rec.event((i % 2) as usize, &ev);
        }
        rec.flush();
        let text = std::fs::read_to_string(rec.path().unwrap()).unwrap();
        assert_eq!(text.matches("\"type\":\"events\"").count(), 2, "{text}");
        let s = parse(text.as_bytes(), Path::new("x")).unwrap();
        assert_eq!(s.turns[0].to_turn().content, "02468");
        assert_eq!(s.turns[1].to_turn().content, "13579");
        // Nothing adopted: the question the columns sent is not left hanging in the history.
        assert!(s.messages.is_empty());
    }

    /// A session file: the header, the question the columns sent, then `lines`.
    fn jsonl(lines: &[&str]) -> String {
        let mut text = String::new();
        for l in [
            r#"{"type":"header","version":1,"id":"x","created":"2026-11-25T00:00:00Z","provider":"p","model":"m","conv_id":"c"}"#,
            r#"{"type":"history","base":0,"messages":[{"role":"user","content":"q"}]}"#,
        ]
        .iter()
        .chain(lines)
        {
            text.push_str(l);
            text.push('\n');
        }
        text
    }

    #[test]
    fn a_column_that_failed_before_sending_loads_failed_and_unsent() {
        let text = jsonl(&[
            r#"{"type":"request","turn":0,"at":"","provider":"p","model":"m","messages":1,"compare":{"group":0,"column":0,"of":2,"start_ms":0,"sent":false}}"#,
            r#"{"type":"end","turn":0,"state":"failed","ms":0,"error":{"kind":"network","status":null,"message":"no route","hint":null}}"#,
            r#"{"type":"request","turn":1,"at":"","provider":"p","model":"n","messages":1,"compare":{"group":0,"column":1,"of":2,"start_ms":3}}"#,
            r#"{"type":"end","turn":1,"state":"done","ms":9}"#,
            r#"{"type":"history","base":1,"messages":[{"role":"assistant","content":""}]}"#,
            r#"{"type":"adopted","turn":1}"#,
        ]);
        let s = parse(text.as_bytes(), Path::new("x")).unwrap();
        assert_eq!(s.skipped, 0);
        let t = s.turns[0].to_turn();
        assert_eq!(t.state, TurnState::Failed);
        assert_eq!(t.error.unwrap().message, "no route");
        assert!(!s.turns[0].compare.as_ref().unwrap().sent);
        assert!(
            s.turns[1].compare.as_ref().unwrap().sent,
            "sent unless it says otherwise"
        );
        assert_eq!(s.adopted(&(0..2)), Some(1));
        assert_eq!(s.current_model(), Some(("p", "n")));
    }

    #[test]
    fn an_adoption_cut_short_by_a_crash_is_found_from_the_history() {
        // The history line with the answer made it; the `adopted` record after it did not.
        let text = jsonl(&[
            r#"{"type":"request","turn":0,"at":"","provider":"p","model":"m","messages":1,"compare":{"group":0,"column":0,"of":2,"start_ms":0}}"#,
            r#"{"type":"request","turn":1,"at":"","provider":"p","model":"n","messages":1,"compare":{"group":0,"column":1,"of":2,"start_ms":0}}"#,
            r#"{"type":"events","turn":0,"events":[{"ms":5,"content":"a0"},{"ms":6,"finished":{"reason":"stop"}}]}"#,
            r#"{"type":"events","turn":1,"events":[{"ms":5,"content":"a1"},{"ms":6,"finished":{"reason":"stop"}}]}"#,
            r#"{"type":"end","turn":0,"state":"done","ms":6}"#,
            r#"{"type":"end","turn":1,"state":"done","ms":6}"#,
            r#"{"type":"history","base":1,"messages":[{"role":"assistant","content":"a1"}]}"#,
        ]);
        let s = parse(text.as_bytes(), Path::new("x")).unwrap();
        assert!(s.adopted_turns.is_empty());
        assert_eq!(s.adopted(&(0..2)), Some(1));
        assert_eq!(s.current_model(), Some(("p", "n")));
    }

    #[test]
    fn events_round_trip_as_json() {
        let evs = vec![
            StreamEvent::Started {
                model: Some("m".into()),
                id: None,
            },
            StreamEvent::Reasoning("r".into()),
            StreamEvent::Content("c".into()),
            StreamEvent::Retrying {
                attempt: 1,
                delay: Duration::from_millis(500),
                error: ApiError::new(crate::api::ErrorKind::RateLimited, "slow down"),
            },
            StreamEvent::Finished {
                reason: Some("stop".into()),
            },
        ];
        for e in evs {
            let s = SavedEvent { ms: 7, event: e };
            let j = serde_json::to_string(&s).unwrap();
            assert!(j.starts_with("{\"ms\":7,"), "{j}");
            assert_eq!(serde_json::from_str::<SavedEvent>(&j).unwrap(), s);
        }
    }
}
