//! TUI state and its update function. Input events and stream events come in; effects that
//! need I/O (start or cancel a request, copy, save, quit) go out to the runtime in `tui.rs`.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseEvent, MouseEventKind};
use ratatui::layout::{Position, Rect};
use std::path::PathBuf;
use std::time::Duration;
use tui_textarea::TextArea;

use crate::api::{ChatParams, StreamEvent, TimedEvent};
use crate::session::catalog::ReasoningMode;
use crate::session::{Catalog, Conversation, Turn, TurnReport};
use crate::theme::Theme;
use keymap::{Action, Scope};
use modal::Modal;

pub mod agent;
pub mod commands;
pub mod compare;
pub mod event;
pub mod keymap;
pub mod layout;
pub mod mention;
pub mod modal;
pub mod replay;
pub mod search;

pub use event::{Drawn, Event, ProviderState};
pub use replay::Replay;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Input,
    Conversation,
    Reasoning,
    Code,
    /// The columns of a comparison (while one is on screen).
    Compare,
}

impl Pane {
    pub fn next(self) -> Pane {
        match self {
            Pane::Input => Pane::Conversation,
            Pane::Conversation => Pane::Reasoning,
            Pane::Reasoning => Pane::Code,
            Pane::Code => Pane::Input,
            Pane::Compare => Pane::Input,
        }
    }
    pub fn prev(self) -> Pane {
        match self {
            Pane::Input => Pane::Code,
            Pane::Conversation => Pane::Input,
            Pane::Reasoning => Pane::Conversation,
            Pane::Code => Pane::Reasoning,
            Pane::Compare => Pane::Input,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    User,
    /// An assistant turn: index into `turns`.
    Assistant(usize),
    Notice,
    Error,
    /// A comparison's summary: index into `comparisons`.
    Compare(usize),
    /// An agent's tool call: index into `tools`.
    Tool(usize),
}

/// One transcript entry, as data (the renderer's cell for it lives in `ui::view`).
pub struct Entry {
    pub kind: EntryKind,
    /// A question as typed; a notice's or an error's text. (An answer's text is its turn's.)
    pub text: String,
    /// Finds an answer's code blocks as it streams (into `App::code`).
    tracker: crate::session::fence::Tracker,
}

pub struct TurnView {
    pub turn: Turn,
    pub provider: String,
    pub entry: usize,
    /// Estimated output tokens per 250 ms bucket, for the sparkline.
    pub rate: Vec<u32>,
    pub free: bool,
    pub includes_reasoning: bool,
    pub reasoning_mode: ReasoningMode,
    pub counted: bool,
    /// Record number in the session file.
    pub rec: usize,
    /// The exchange (user turn) it is a round of: its first round's record number.
    pub exchange: usize,
    /// Its place in the exchange (agent mode: one round per tool step).
    pub round: usize,
    /// When its stream last brought anything (a stall shows as "no data for N s").
    pub last_data: Duration,
}

/// Side effects for the runtime to carry out.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Start {
        turn: usize,
    },
    Cancel,
    /// Send comparison `cmp`'s question to each of its columns.
    StartCompare {
        cmp: usize,
    },
    CancelColumn {
        cmp: usize,
        col: usize,
    },
    /// A comparison's answer joined the conversation: continue with its provider and model;
    /// `rec` is the column's record number in the session file.
    Adopted {
        provider: String,
        model: String,
        rec: usize,
    },
    Copy(String),
    /// Whether something is at `path` already (the save prompt asks before replacing it);
    /// the answer comes back as `Event::SaveTarget`.
    CheckSave {
        path: PathBuf,
    },
    Save {
        path: PathBuf,
        text: String,
    },
    /// Load a theme (`/theme NAME`); it comes back as `Event::ThemeLoaded`.
    LoadTheme {
        name: String,
        color: bool,
    },
    SwitchProvider(String),
    SetMouse(bool),
    /// Read the saved sessions for the picker.
    ListSessions,
    /// Ask the provider which models it serves (`/model` with no argument).
    ListModels,
    /// The user's answer to an approval prompt.
    Decide {
        call_id: String,
        decision: crate::session::agent::Decision,
    },
    /// Stop the agent's running tools (Esc); every call gets answered.
    StopAgent,
    /// Go on after a pause (budget, repeated calls).
    GoOn,
    SetMode(crate::session::approval::Mode),
    /// USD per session (None: no budget).
    SetBudget(Option<f64>),
    /// What rewinding the files to before exchange `exchange` would change; it comes back as
    /// `Event::RewindPlan`.
    RewindPlan {
        exchange: usize,
    },
    /// Put the files back as they were before exchange `exchange`, recorded as `now`'s change.
    Rewind {
        exchange: usize,
        now: usize,
    },
    /// List the workspace's files (gitignore-aware) for `@path` completion; they come back
    /// as `Event::Files`.
    ListFiles,
    /// Read the files a message names with `@path` (inside the workspace), then send it: they
    /// come back as `Event::MentionsRead`.
    ReadMentions {
        text: String,
        paths: Vec<String>,
    },
    /// Read a file to attach (`/file`): a regular file of at most `max` bytes, off the UI
    /// thread; the result comes back through `commands::attach_file`.
    ReadFile {
        path: String,
        max: u64,
    },
    /// Load a saved session and continue it.
    OpenSession(PathBuf),
    Quit,
}

/// The `/sessions` picker: one line per saved session, newest first.
pub struct Picker {
    pub items: Vec<(PathBuf, String)>,
    pub selected: usize,
}

pub use layout::Areas;

/// See `App::pane_letter`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PaneLetter {
    pub c: char,
    /// Tells one press from the next of the same letter (each starts the window again).
    pub seq: u32,
}

pub struct SavePrompt {
    pub block: usize,
    pub path: String,
    /// Asking before it writes: why (something is there, or it is outside the working
    /// directory: the absolute path).
    pub confirm: bool,
    pub why: Option<String>,
    /// The suggested name, not typed over yet: the first key typed replaces it.
    pub fresh: bool,
}

pub struct App {
    pub theme: Theme,
    pub catalog: Catalog,
    pub provider: String,
    pub providers: Vec<String>,
    pub provider_free: bool,
    pub includes_reasoning: bool,
    pub has_key: bool,
    pub key_help: String,
    pub model: String,
    pub system: Option<String>,
    /// A system prompt of the user's own is in force (the config's `system`, or `/system
    /// TEXT`): the status bar says so.
    pub custom_system: bool,
    /// `/system TEXT` mid-conversation: the marker follows at the next `/new`.
    pub custom_system_next: bool,
    pub params: ChatParams,
    /// The last note on parameters left out (see `params_notice`).
    last_params_notice: Option<String>,
    pub conv: Conversation,
    pub entries: Vec<Entry>,
    pub turns: Vec<TurnView>,
    /// The answers' code blocks, in order (the code pane's list).
    pub code: Vec<crate::session::fence::Code>,
    pub input: TextArea<'static>,
    pub pastes: Vec<String>,
    pub attachments: Vec<(String, String)>,
    /// `/file` reads not answered yet.
    pub reading_files: usize,
    pub history: Vec<String>,
    history_pos: Option<usize>,
    pub focus: Pane,
    pub zoom: bool,
    /// What is open over the panes, the top one taking the keys.
    pub modals: Vec<Modal>,
    /// Share of the main area the conversation gets, in percent (Alt+Left / Alt+Right).
    pub split: u16,
    pub mouse: bool,
    /// Lines scrolled up from the bottom of the conversation (0 = follow the tail).
    pub conv_scroll: usize,
    pub new_output: bool,
    pub reasoning_scroll: usize,
    pub code_scroll: usize,
    /// Columns the code pane is scrolled sideways by (long lines are not wrapped).
    pub code_hscroll: usize,
    pub selected_code: usize,
    /// Which turn's reasoning is shown (None: the latest).
    pub reasoning_turn: Option<usize>,
    pub active: Option<usize>,
    /// Time since the active request was sent (set by the runtime's clock).
    pub now: Duration,
    pub flash: Option<String>,
    pub quit_armed: bool,
    /// A letter that just ran as a pane key and opened nothing (`j` scrolled): if a key that
    /// would be typed follows before the runtime expires it, the letter began a message, and
    /// both go to the message box (`typed`).
    pub pane_letter: Option<PaneLetter>,
    /// The command palette's highlighted row, and the text it was chosen for (another text
    /// starts again at the first match).
    palette_sel: (usize, String),
    /// A message typed while a reply streamed (or the agent worked), as typed: sent once
    /// nothing runs (`Event::Ready`); Esc takes it back into the box.
    pub queued: Option<String>,
    /// The widest the conversation is laid out (`[ui] reading_width`; 0: the pane's width).
    pub reading_width: u16,
    /// The F2 hint was shown (the first time a drag was seen: with mouse capture on, the
    /// terminal's own selection does not work, and a drag is how a user finds out).
    drag_hinted: bool,
    pub session_cost: i64,
    pub session_savings: i64,
    pub session_cost_known: bool,
    /// Some request had no known price: the total leaves it out (`$X + ?`).
    pub session_unpriced: bool,
    /// The terminal's size (`Event::Resize`): where everything goes follows from it
    /// (`App::areas`).
    pub size: Rect,
    pub should_quit: bool,
    /// Playing back a saved session (no input, no provider).
    pub replay: Option<Box<Replay>>,
    /// One line on how to set a key (the demo banner shows it).
    pub key_hint: String,
    pub search: Option<search::Search>,
    pub comparisons: Vec<compare::CompareView>,
    /// The comparison on screen in place of the panes.
    pub compare_shown: Option<usize>,
    /// `/compare A B`: the next message goes to these models.
    pub compare_armed: Option<Vec<crate::session::compare::Target>>,
    pub provider_info: std::collections::BTreeMap<String, compare::ProviderInfo>,
    /// The next record number in the session file (turns and comparison columns).
    pub next_rec: usize,
    /// Agent mode (the tools offered), and its tool calls' cells.
    pub agent: Option<agent::AgentView>,
    pub tools: Vec<agent::ToolView>,
    /// The record numbers of the rewinds made (the last one can be undone).
    pub rewinds: Vec<usize>,
    /// Long questions shown whole (Ctrl+O), rather than folded.
    pub expand_prompts: bool,
    /// The workspace's files, for `@path` completion (listed on first use).
    pub files: Option<Vec<String>>,
    /// A completion waits for that list.
    pub complete_pending: bool,
    /// Bumped when the theme, the prices or the whole transcript change: the renderer's
    /// caches follow.
    pub theme_gen: u64,
    pub catalog_gen: u64,
    pub transcript_gen: u64,
    /// The conversation's line count and entry starts as last drawn (turn jumps use them).
    pub conv_layout: (usize, Vec<usize>),
    /// The last frame is stale (a drawn frame moved a scroll offset or answered a search).
    pub needs_frame: bool,
}

/// A stream silent this long says so in the status bar.
pub const STALL_SHOWN: Duration = Duration::from_secs(5);

/// Pastes longer than this many lines show as a placeholder in the input.
pub const PASTE_PLACEHOLDER_LINES: usize = 6;

pub struct AppInit {
    pub theme: Theme,
    pub catalog: Catalog,
    pub provider: String,
    pub providers: Vec<String>,
    pub provider_free: bool,
    pub includes_reasoning: bool,
    pub has_key: bool,
    pub key_help: String,
    pub model: String,
    pub system: Option<String>,
    pub provider_info: std::collections::BTreeMap<String, compare::ProviderInfo>,
}

pub fn new_input(theme: &Theme) -> TextArea<'static> {
    let mut t = TextArea::default();
    t.set_cursor_line_style(ratatui::style::Style::default());
    t.set_placeholder_text("Ask anything · / for commands · F1 help");
    t.set_placeholder_style(theme.muted());
    t
}

impl App {
    pub fn new(init: AppInit) -> App {
        let input = new_input(&init.theme);
        let mut app = App {
            conv: Conversation::new(init.system.as_deref()),
            theme: init.theme,
            catalog: init.catalog,
            provider: init.provider,
            providers: init.providers,
            provider_free: init.provider_free,
            includes_reasoning: init.includes_reasoning,
            has_key: init.has_key,
            key_help: init.key_help,
            model: init.model,
            custom_system: false,
            custom_system_next: false,
            system: init.system,
            params: ChatParams::default(),
            last_params_notice: None,
            entries: Vec::new(),
            turns: Vec::new(),
            code: Vec::new(),
            input,
            pastes: Vec::new(),
            attachments: Vec::new(),
            reading_files: 0,
            history: Vec::new(),
            history_pos: None,
            focus: Pane::Input,
            zoom: false,
            modals: Vec::new(),
            split: 58,
            mouse: true,
            conv_scroll: 0,
            new_output: false,
            reasoning_scroll: 0,
            code_scroll: 0,
            code_hscroll: 0,
            selected_code: 0,
            reasoning_turn: None,
            active: None,
            now: Duration::ZERO,
            flash: None,
            quit_armed: false,
            pane_letter: None,
            palette_sel: (0, String::new()),
            queued: None,
            reading_width: crate::config::DEFAULT_READING_WIDTH,
            drag_hinted: false,
            session_cost: 0,
            session_savings: 0,
            session_cost_known: true,
            session_unpriced: false,
            size: Rect::default(),
            should_quit: false,
            replay: None,
            key_hint: String::new(),
            search: None,
            comparisons: Vec::new(),
            compare_shown: None,
            compare_armed: None,
            provider_info: init.provider_info,
            next_rec: 0,
            agent: None,
            tools: Vec::new(),
            rewinds: Vec::new(),
            files: None,
            complete_pending: false,
            expand_prompts: false,
            theme_gen: 0,
            catalog_gen: 0,
            transcript_gen: 0,
            conv_layout: (0, Vec::new()),
            needs_frame: false,
        };
        if !app.has_key {
            let help = app.key_help.clone();
            app.notice(&help);
        }
        app
    }

    /// A message cannot go: no key. Said in the transcript once; while the last entry says it
    /// already, the status bar points at it.
    fn no_key(&mut self) {
        if self.entries.last().is_some_and(|e| e.text == self.key_help) {
            self.flash =
                Some("no API key: see the note above (your message stays in the box)".into());
        } else {
            let help = self.key_help.clone();
            self.error(&help);
        }
    }

    pub fn notice(&mut self, text: &str) {
        self.push_entry(EntryKind::Notice, text);
    }

    pub fn error(&mut self, text: &str) {
        self.push_entry(EntryKind::Error, text);
    }

    fn push_entry(&mut self, kind: EntryKind, text: &str) -> usize {
        self.entries.push(Entry {
            kind,
            text: text.to_string(),
            tracker: Default::default(),
        });
        self.output_arrived();
        self.entries.len() - 1
    }

    fn output_arrived(&mut self) {
        if self.conv_scroll > 0 {
            self.new_output = true;
        }
    }

    /// Where everything is on screen now.
    pub fn areas(&self) -> Areas {
        layout::layout(self.size, self)
    }

    /// What the demo's bar says about chatting for real (the key is set, or how to set one).
    pub fn demo_hint(&self) -> String {
        if self.has_key {
            "Your key is set: press q, then type a message to chat for real.".into()
        } else if !self.key_hint.is_empty() {
            self.key_hint.clone()
        } else {
            self.key_help.clone()
        }
    }

    /// The turn the status bar tells of: the one streaming, else the last one if it went to
    /// the provider and model in use (after `/provider` or `/model`, the bar names the new
    /// ones, idle, rather than the last turn's under the old name).
    pub fn status_turn(&self) -> Option<&TurnView> {
        if let Some(i) = self.active {
            return self.turns.get(i);
        }
        self.turns.last().filter(|tv| {
            self.replay.is_some()
                || (tv.provider == self.provider && tv.turn.asked_model == self.model)
        })
    }

    pub fn report(&self, tv: &TurnView) -> TurnReport {
        let now = if tv.turn.is_finished() {
            tv.turn.timing.end.unwrap_or(self.now)
        } else {
            self.now
        };
        TurnReport::new(
            &tv.turn,
            now,
            &tv.provider,
            &self.catalog,
            tv.includes_reasoning,
            tv.free,
        )
    }

    /// Index of the turn whose reasoning is shown.
    /// The earlier rounds of turn `t`'s exchange that reasoned (the reasoning pane shows an
    /// agent's thinking across its rounds, in order).
    pub fn earlier_rounds(&self, t: usize) -> Vec<usize> {
        let Some(tv) = self.turns.get(t) else {
            return vec![];
        };
        (0..t)
            .filter(|&k| {
                self.turns[k].exchange == tv.exchange
                    && self.turns[k].round < tv.round
                    && !self.turns[k].turn.reasoning.is_empty()
            })
            .collect()
    }

    /// How long the streaming turn `tv` has been silent, once that is long enough to say so.
    pub fn stalled(&self, tv: &TurnView) -> Option<Duration> {
        // (Before the first token, silence is the model thinking: the state says so.)
        let streaming =
            tv.turn.timing.first_content.is_some() || tv.turn.timing.first_reasoning.is_some();
        if tv.turn.is_finished() || self.active.is_none() || !streaming {
            return None;
        }
        let quiet = self.now.saturating_sub(tv.last_data);
        (quiet >= STALL_SHOWN).then_some(quiet)
    }

    pub fn shown_reasoning_turn(&self) -> Option<usize> {
        self.reasoning_turn
            .filter(|&i| i < self.turns.len())
            .or(self.turns.len().checked_sub(1))
    }

    /// No code block yet and no turn with reasoning text: nothing for the side panes to show.
    pub fn side_panes_empty(&self) -> bool {
        self.code.is_empty() && self.no_reasoning()
    }

    /// The wide layout's side column has nothing to show yet: no reasoning, and no code but
    /// the latest exchange's. Opening the column narrows the conversation and reflows it, so
    /// code opens it when the next message is sent, never under an answer being read;
    /// reasoning opens it at once (it streams before the answer).
    pub fn side_column_idle(&self) -> bool {
        let latest = self
            .entries
            .iter()
            .rposition(|e| e.kind == EntryKind::User)
            .unwrap_or(0);
        self.no_reasoning() && self.code.iter().all(|c| c.message >= latest)
    }

    fn no_reasoning(&self) -> bool {
        self.turns.iter().all(|t| t.turn.reasoning.is_empty())
    }

    // ---- input -------------------------------------------------------------------------

    pub fn input_text(&self) -> String {
        self.input.lines().join("\n")
    }

    pub(crate) fn set_input(&mut self, text: &str) {
        let mut t = new_input(&self.theme);
        t.insert_str(text);
        self.input = t;
    }

    /// The prompt with paste placeholders expanded.
    fn expand_pastes(&self, text: &str) -> String {
        let mut out = text.to_string();
        for (i, p) in self.pastes.iter().enumerate() {
            out = out.replace(&paste_placeholder(i, p), p);
        }
        out
    }

    pub fn on_paste(&mut self, text: &str) -> Vec<Effect> {
        let text = text.replace("\r\n", "\n").replace('\r', "\n");
        if let Some(Modal::Save(p)) = self.modals.last_mut() {
            p.path.push_str(text.trim());
            return vec![];
        }
        self.focus = Pane::Input;
        if text.lines().count() > PASTE_PLACEHOLDER_LINES {
            let i = self.pastes.len();
            let ph = paste_placeholder(i, &text);
            self.pastes.push(text);
            self.input.insert_str(ph);
        } else {
            self.input.insert_str(text);
        }
        vec![]
    }

    /// A key: looked up in the keymap (`keymap.rs`) in the scopes that apply, the first
    /// binding whose action applies runs; a key no binding takes is typed.
    pub fn on_key(&mut self, k: KeyEvent) -> Vec<Effect> {
        if k.kind == KeyEventKind::Release {
            return vec![];
        }
        if keymap::lookup(Scope::Always, &k).any(|a| a == Action::Interrupt) {
            return self.ctrl_c();
        }
        self.quit_armed = false;
        let letter = self.pane_letter.take();
        if let Some(scope) = self.modal().map(|m| m.scope()) {
            return self.modal_key(scope, k);
        }
        let modals = self.modals.len();
        // A replay has no message box to type into.
        if self.replay.is_some() && self.focus == Pane::Input {
            self.focus = Pane::Conversation;
        }
        let mut scopes = Vec::with_capacity(5);
        if matches!(self.focus, Pane::Conversation | Pane::Reasoning) {
            scopes.push(Scope::Browse);
        }
        if self.replay.is_some() {
            scopes.push(Scope::Replay);
        }
        scopes.push(Scope::Global);
        match self.focus {
            Pane::Input => scopes.push(Scope::Input),
            Pane::Compare => scopes.push(Scope::Compare),
            Pane::Conversation => scopes.push(Scope::Panes),
            Pane::Reasoning => scopes.extend([Scope::Reasoning, Scope::Panes]),
            Pane::Code => scopes.extend([Scope::Code, Scope::Panes]),
        }
        for scope in scopes {
            let actions: Vec<Action> = keymap::lookup(scope, &k).collect();
            for a in actions {
                if let Some(fx) = self.act(scope, a, k) {
                    let seq = letter.map_or(0, |l| l.seq.wrapping_add(1));
                    self.note_pane_letter(scope, k, modals, seq);
                    return fx;
                }
            }
            if scope == Scope::Replay && self.replay_refuses(k) {
                self.flash = Some("a replay: Space pauses, q leaves".into());
                return vec![];
            }
        }
        self.typed(k, letter)
    }

    /// Remembers a plain letter that ran as a key of the conversation, reasoning or code pane
    /// and opened nothing (`/` and `s` open prompts made to be typed into at once; `x` in a
    /// comparison cancels a column), for `typed`.
    fn note_pane_letter(&mut self, scope: Scope, k: KeyEvent, modals: usize, seq: u32) {
        let pane = matches!(
            scope,
            Scope::Browse | Scope::Panes | Scope::Code | Scope::Reasoning
        );
        if let (true, None, true, Some(c)) = (
            pane,
            &self.replay,
            self.modals.len() == modals,
            plain_char(k),
        ) {
            self.pane_letter = Some(PaneLetter { c, seq });
        }
    }

    /// A key while a modal is open: its bindings, else (in a prompt) typed into it.
    fn modal_key(&mut self, scope: Scope, k: KeyEvent) -> Vec<Effect> {
        let actions: Vec<Action> = keymap::lookup(scope, &k).collect();
        for a in actions {
            if let Some(fx) = self.act(scope, a, k) {
                return fx;
            }
        }
        let text = match k.code {
            KeyCode::Char(c) if !k.modifiers.contains(KeyModifiers::CONTROL) => Some(Some(c)),
            KeyCode::Backspace => Some(None),
            _ => None,
        };
        match (self.modals.last_mut(), text) {
            (Some(Modal::Save(p)), Some(c)) => {
                // At the question: y writes, n goes back to the path (neither is typed).
                if p.confirm {
                    match c {
                        Some('y') | Some('Y') => {
                            let path = PathBuf::from(p.path.trim());
                            return self.save_to(path);
                        }
                        Some('n') | Some('N') => {
                            p.confirm = false;
                            p.why = None;
                            return vec![];
                        }
                        _ => {}
                    }
                }
                if std::mem::take(&mut p.fresh) && c.is_some() {
                    p.path.clear();
                }
                match c {
                    Some(c) => p.path.push(c),
                    None => {
                        p.path.pop();
                    }
                }
                p.confirm = false;
                p.why = None;
            }
            (Some(Modal::Approval { note: Some(n), .. }), Some(c)) => match c {
                Some(c) => n.push(c),
                None => {
                    n.pop();
                }
            },
            (Some(Modal::Search), Some(c)) => {
                if let Some(s) = self.search.as_mut() {
                    match c {
                        Some(c) => s.query.push(c),
                        None => {
                            s.query.pop();
                        }
                    }
                }
            }
            _ => {}
        }
        vec![]
    }

    /// In a replay, a key that would type is refused (its looking keys still work, and a
    /// comparison's diff, fold and focus keys).
    fn replay_refuses(&self, k: KeyEvent) -> bool {
        let KeyCode::Char(c) = k.code else {
            return false;
        };
        let chord = k
            .modifiers
            .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT);
        let compare_view = self.compare_shown.is_some() && matches!(c, 'd' | 'r' | '1'..='4');
        c != '?'
            && !chord
            && !compare_view
            && !matches!(
                c,
                '[' | ']' | 'j' | 'k' | 'g' | 'G' | 'y' | 'c' | 'h' | 'l' | 's'
            )
    }

    /// A key no binding takes. In a pane, a printable one goes to the message box, itself
    /// included. If a letter ran as a pane key a moment before (`letter`: `j` scrolled), it
    /// began the message too: what it did stays done, and both go to the box (`just` arrives
    /// whole, not as `ust`).
    fn typed(&mut self, k: KeyEvent, letter: Option<PaneLetter>) -> Vec<Effect> {
        match self.focus {
            Pane::Input => {
                self.input.input(k);
            }
            _ if self.replay.is_some() => {}
            _ => {
                if let KeyCode::Char(c) = k.code {
                    if !k.modifiers.contains(KeyModifiers::CONTROL) {
                        self.focus = Pane::Input;
                        if let Some(l) = letter {
                            self.input.insert_char(l.c);
                        }
                        self.input.insert_char(c);
                    }
                }
            }
        }
        vec![]
    }

    /// Runs `a` as bound in `scope`: `None` when it does not apply now (the next binding or
    /// scope gets the key).
    fn act(&mut self, scope: Scope, a: Action, k: KeyEvent) -> Option<Vec<Effect>> {
        use Action as A;
        use Scope as S;
        let done = Some(vec![]);
        match (scope, a) {
            // ---- modals
            (S::Help, A::Close) | (S::Picker, A::Close) => {
                self.close_modal();
            }
            (S::Help, A::Up | A::Down | A::PageUp | A::PageDown) => {
                if let Some(Modal::Help { scroll }) = self.modals.last_mut() {
                    *scroll = match a {
                        A::Up => scroll.saturating_sub(1),
                        A::Down => (*scroll + 1).min(200),
                        A::PageUp => scroll.saturating_sub(10),
                        _ => (*scroll + 10).min(200),
                    };
                }
            }
            (S::Picker, A::Up | A::Down) => {
                if let Some(Modal::Picker(p)) = self.modals.last_mut() {
                    p.selected = match a {
                        A::Up => p.selected.saturating_sub(1),
                        _ => (p.selected + 1).min(p.items.len().saturating_sub(1)),
                    };
                }
            }
            (S::Picker, A::Open) => {
                if let Some(Modal::Picker(p)) = self.close_modal() {
                    if let Some((path, _)) = p.items.into_iter().nth(p.selected) {
                        return Some(vec![Effect::OpenSession(path)]);
                    }
                }
            }
            (S::Approval, A::AllowOnce) => {
                return Some(self.decide(crate::session::agent::Decision::Once))
            }
            (S::Approval, A::AllowSession) => {
                let rule = self.asking().map(|a| a.suggested.clone());
                if let Some(r) = rule {
                    return Some(self.decide(crate::session::agent::Decision::ForSession(r)));
                }
            }
            (S::Approval, A::Deny) => {
                if let Some(Modal::Approval { note, .. }) = self.modals.last_mut() {
                    *note = Some(String::new());
                }
            }
            (S::Approval | S::Pause, A::StopAgent) => {
                if scope == S::Pause {
                    return Some(self.resume_agent(false));
                }
                return Some(self.stop_agent());
            }
            (S::Approval, A::Up | A::Down | A::PageUp | A::PageDown) => {
                if let Some(Modal::Approval { scroll, .. }) = self.modals.last_mut() {
                    *scroll = match a {
                        A::Up => scroll.saturating_sub(1),
                        A::Down => *scroll + 1,
                        A::PageUp => scroll.saturating_sub(10),
                        _ => *scroll + 10,
                    };
                }
            }
            (S::Note, A::Submit) => {
                let note = match self.modals.last() {
                    Some(Modal::Approval { note: Some(n), .. }) => n.trim().to_string(),
                    _ => String::new(),
                };
                let note = (!note.is_empty()).then_some(note);
                return Some(self.decide(crate::session::agent::Decision::Deny(note)));
            }
            (S::Note, A::Close) => {
                if let Some(Modal::Approval { note, .. }) = self.modals.last_mut() {
                    *note = None;
                }
            }
            (S::Pause, A::GoOn) => return Some(self.resume_agent(true)),
            (S::Rewind, A::Up) => return Some(self.rewind_move(-1)),
            (S::Rewind, A::Down) => return Some(self.rewind_move(1)),
            (S::Rewind, A::RewindBoth) => return Some(self.rewind(true, true)),
            (S::Rewind, A::RewindCode) => return Some(self.rewind(true, false)),
            (S::Rewind, A::RewindConversation) => return Some(self.rewind(false, true)),
            (S::Rewind, A::Close) => {
                self.close_modal();
            }
            (S::Browse, A::ToolToggle | A::ToolPrev | A::ToolNext) => {
                if self.focus != Pane::Conversation {
                    return None;
                }
                let ok = match a {
                    A::ToolToggle => self.toggle_tool(),
                    A::ToolPrev => self.select_tool(-1),
                    _ => self.select_tool(1),
                };
                if !ok {
                    return None;
                }
            }
            (S::Global, A::ToolsAll) => {
                self.toggle_all_tools();
                self.expand_prompts = !self.expand_prompts;
            }
            (S::Diff, A::Close) => self.close_diff(),
            (S::Diff, A::DiffOther | A::DiffOtherBack) => {
                self.diff_other(if a == A::DiffOther { 1 } else { -1 })
            }
            (S::Diff, A::Up) => self.compare_scroll(-1),
            (S::Diff, A::Down) => self.compare_scroll(1),
            (S::Diff, A::PageUp) => self.compare_scroll(-10),
            (S::Diff, A::PageDown) => self.compare_scroll(10),
            (S::Diff, A::Top) => self.compare_scroll(-1_000_000),
            (S::Save, A::Submit) => return Some(self.save_submit()),
            (S::Save, A::Close) => {
                self.close_modal();
                self.flash = Some("save cancelled".into());
            }
            (S::Save, A::Clear) => {
                if let Some(Modal::Save(p)) = self.modals.last_mut() {
                    p.path.clear();
                    p.confirm = false;
                }
            }
            (S::Search, A::Submit) => self.run_search(),
            (S::Search, A::Close) => {
                self.close_modal();
                self.search = None;
            }
            // ---- a replay
            (S::Replay, _) => return self.replay_act(a),
            // ---- browsing
            (S::Browse | S::Compare, A::SearchNext | A::SearchPrev) => {
                if !self.step_search(if a == A::SearchNext { 1 } else { -1 }) {
                    return None;
                }
            }
            (S::Browse | S::Global | S::Compare, A::Search) => self.open_search(),
            (S::Browse, A::Close) => {
                if self.search.is_none() || self.active.is_some() {
                    return None;
                }
                self.search = None;
                self.flash = None;
            }
            (S::Browse, A::TurnPrev) => self.jump_turn(-1),
            (S::Browse, A::TurnNext) => self.jump_turn(1),
            // ---- everywhere
            (S::Global | S::Panes | S::Compare, A::Help) => {
                self.open_modal(Modal::Help { scroll: 0 })
            }
            (S::Global, A::ToggleMouse) => return Some(self.toggle_mouse()),
            (S::Global, A::Zoom) => self.zoom = !self.zoom,
            (S::Global, A::Escape) => return Some(self.escape()),
            (S::Global, A::FocusPrev) => {
                self.focus = match self.focus {
                    Pane::Input if self.compare_shown.is_some() => Pane::Compare,
                    f => f.prev(),
                }
            }
            (S::Global, A::PageUp) => self.scroll(self.scroll_target(), -10),
            (S::Global, A::PageDown) => self.scroll(self.scroll_target(), 10),
            (S::Global, A::ConversationLineUp) => self.scroll(Pane::Conversation, -1),
            (S::Global, A::ConversationLineDown) => self.scroll(Pane::Conversation, 1),
            (S::Global, A::SplitShrink) => self.split = self.split.saturating_sub(5).max(25),
            (S::Global, A::SplitGrow) => self.split = (self.split + 5).min(80),
            // ---- the message box
            (S::Input, A::Newline) => self.input.insert_newline(),
            (S::Input, A::KillToStart) => {
                self.input.delete_line_by_head();
            }
            (S::Input, A::Undo) => {
                self.input.undo();
            }
            (S::Input, A::ToTail) => {
                // Plain End moves the cursor first; at the end of the text it follows the tail.
                let (row, col) = self.input.cursor();
                let lines = self.input.lines();
                let at_end = row + 1 >= lines.len()
                    && col >= lines.last().map(|l| l.chars().count()).unwrap_or(0);
                if !k.modifiers.contains(KeyModifiers::CONTROL) && !at_end {
                    return None;
                }
                self.conv_scroll = 0;
                self.new_output = false;
            }
            (S::Input, A::Submit) => {
                // A command picked in the palette runs as if typed whole.
                if let Some((matches, sel)) = self.palette() {
                    let text = self.input_text();
                    if !commands::COMMANDS.iter().any(|c| c.0 == text.trim()) {
                        self.set_input(matches[sel].0);
                    }
                }
                return Some(self.submit());
            }
            (S::Input, A::Complete) => {
                let text = self.input_text();
                if let Some(fx) = self.complete_mention() {
                    return Some(fx);
                }
                if let Some((matches, sel)) = self.palette() {
                    // The palette's highlighted command, ready for its argument.
                    let sel = matches[sel];
                    let done = if sel.1.is_empty() {
                        sel.0.to_string()
                    } else {
                        format!("{} ", sel.0)
                    };
                    self.set_input(&done);
                } else if text.starts_with('/') && !text.contains(' ') {
                    if let Some(done) = commands::complete(&text) {
                        self.set_input(&done);
                    } else {
                        let c = commands::candidates(&text);
                        self.flash = Some(if c.is_empty() {
                            format!("no command starts with {text}")
                        } else {
                            c.join("  ")
                        });
                    }
                } else if !text.trim().is_empty() {
                    // Text in the box stays where it is: Tab only completes.
                    self.flash = Some(
                        "nothing to complete (Tab completes /commands, @paths and /file paths)"
                            .into(),
                    );
                } else if self.compare_shown.is_some() {
                    self.focus = Pane::Compare;
                } else {
                    self.focus = self.focus.next();
                }
            }
            (S::Input, A::HistoryPrev | A::HistoryNext) if self.palette().is_some() => {
                let (matches, cur) = self.palette().expect("shown");
                let n = matches.len();
                let text = self.input_text();
                let next = if a == A::HistoryPrev {
                    (cur + n - 1) % n
                } else {
                    (cur + 1) % n
                };
                self.palette_sel = (next, text);
            }
            (S::Input, A::HistoryPrev) => {
                if self.input.cursor().0 != 0 || self.history.is_empty() {
                    return None;
                }
                let pos = match self.history_pos {
                    None => self.history.len() - 1,
                    Some(p) => p.saturating_sub(1),
                };
                self.history_pos = Some(pos);
                let h = self.history[pos].clone();
                self.set_input(&h);
            }
            (S::Input, A::HistoryNext) => {
                let last_line = self.input.cursor().0 + 1 >= self.input.lines().len();
                let p = self.history_pos.filter(|_| last_line)?;
                if p + 1 >= self.history.len() {
                    self.history_pos = None;
                    self.set_input("");
                } else {
                    self.history_pos = Some(p + 1);
                    let h = self.history[p + 1].clone();
                    self.set_input(&h);
                }
            }
            // ---- the panes
            (S::Reasoning, A::ReasoningPrev) => {
                let cur = self.shown_reasoning_turn().unwrap_or(0);
                self.reasoning_turn = Some(cur.saturating_sub(1));
                self.reasoning_scroll = 0;
            }
            (S::Reasoning, A::ReasoningNext) => {
                let next = self.shown_reasoning_turn().unwrap_or(0) + 1;
                self.reasoning_turn = (next + 1 < self.turns.len()).then_some(next);
                self.reasoning_scroll = 0;
            }
            (S::Code, A::CodePrev) => self.select_code(self.selected_code.saturating_sub(1)),
            (S::Code, A::CodeNext) => self.select_code(self.selected_code + 1),
            (S::Code, A::CodeLeft) => self.code_hscroll = self.code_hscroll.saturating_sub(8),
            (S::Code, A::CodeRight) => self.code_hscroll += 8,
            (S::Code, A::CodeCopy) => return Some(self.copy_block(self.selected_code)),
            (S::Code, A::CodeSave) => self.start_save(self.selected_code, None),
            (S::Panes, A::FocusNext) => self.focus = self.focus.next(),
            (S::Panes, A::Up) => self.scroll(self.focus, -1),
            (S::Panes, A::Down) => self.scroll(self.focus, 1),
            (S::Panes, A::Top) => self.scroll(self.focus, -1_000_000),
            (S::Panes, A::Bottom) => self.scroll(self.focus, 1_000_000),
            // ---- a comparison
            (S::Compare, _) => return self.compare_act(a, k),
            _ => return None,
        }
        done
    }

    fn scroll_target(&self) -> Pane {
        if self.focus == Pane::Input && self.compare_shown.is_some() {
            Pane::Compare
        } else if self.focus == Pane::Input {
            Pane::Conversation
        } else {
            self.focus
        }
    }

    fn toggle_mouse(&mut self) -> Vec<Effect> {
        self.mouse = !self.mouse;
        self.flash = Some(if self.mouse {
            "mouse capture on (wheel scrolls panes)".into()
        } else {
            "mouse capture off: the terminal's own selection works (F2 to turn back on)".into()
        });
        vec![Effect::SetMouse(self.mouse)]
    }

    fn ctrl_c(&mut self) -> Vec<Effect> {
        if self.quit_armed {
            self.should_quit = true;
            return vec![Effect::Quit];
        }
        self.quit_armed = true;
        let mut fx = Vec::new();
        if self.agent_busy() && self.active.is_none() {
            fx.push(Effect::StopAgent);
        }
        if self.active.is_some() {
            fx.extend(self.cancel_active());
        }
        if let Some(c) = self.running_compare() {
            fx.extend(self.cancel_compare(c));
        }
        let typed = self.input_text();
        if fx.is_empty() && !typed.trim().is_empty() && self.modals.is_empty() {
            // The first Ctrl+C clears the box (the text stays in the history: ↑).
            self.history.push(typed);
            self.history_pos = None;
            self.set_input("");
            self.flash = Some("message cleared (↑ brings it back) · Ctrl+C again quits".into());
            return fx;
        }
        self.flash = Some("press Ctrl+C again to quit".into());
        fx
    }

    /// The runtime's clock for what shows only a while: a status-bar notice (`flash`, the one
    /// it timed) and the Ctrl+C arming.
    pub fn expire(&mut self, flash: Option<&str>, quit: bool) {
        if flash.is_some() && self.flash.as_deref() == flash {
            self.flash = None;
        }
        if quit {
            if self.quit_armed {
                self.flash = None;
            }
            self.quit_armed = false;
        }
    }

    fn escape(&mut self) -> Vec<Effect> {
        // A queued message first: back into the box (before what was typed since).
        if let Some(q) = self.queued.take() {
            let typed = self.input_text();
            self.set_input(&if typed.is_empty() {
                q
            } else {
                format!("{q}\n{typed}")
            });
            self.flash = Some("the queued message is back in the box".into());
            return vec![];
        }
        if self.agent_busy() {
            return self.stop_agent();
        }
        if self.active.is_some() {
            return self.cancel_active();
        }
        if let Some(c) = self.running_compare() {
            return self.cancel_compare(c);
        }
        if self.compare_armed.is_some() && self.focus == Pane::Input {
            self.compare_armed = None;
            self.flash = Some("compare off: messages go to the current model".into());
            return vec![];
        }
        if let Some(fx) = self.compare_escape() {
            return fx;
        }
        if self.search.take().is_some() {
            self.flash = None;
            return vec![];
        }
        if self.zoom {
            self.zoom = false;
        } else if self.focus != Pane::Input {
            self.focus = Pane::Input;
        }
        vec![]
    }

    fn cancel_active(&mut self) -> Vec<Effect> {
        let Some(i) = self.active else { return vec![] };
        let now = self.now;
        self.turns[i].turn.cancel(now);
        self.finish_turn(i);
        self.flash = Some(match self.turns[i].turn.kept() {
            Some(kept) => format!("cancelled; {kept}"),
            None => "cancelled before anything arrived".into(),
        });
        vec![Effect::Cancel]
    }

    pub fn select_code(&mut self, i: usize) {
        if !self.code.is_empty() {
            self.selected_code = i.min(self.code.len() - 1);
            self.code_scroll = 0;
            self.code_hscroll = 0;
        }
    }

    pub fn copy_block(&mut self, i: usize) -> Vec<Effect> {
        match self.code.get(i) {
            Some(b) => {
                self.flash = Some(format!(
                    "copied block {} ({})",
                    i + 1,
                    crate::session::count(b.text().lines().count(), "line", "lines")
                ));
                vec![Effect::Copy(b.text())]
            }
            None => {
                self.flash = Some("no code block to copy".into());
                vec![]
            }
        }
    }

    pub fn start_save(&mut self, block: usize, path: Option<String>) {
        let Some(b) = self.code.get(block) else {
            self.flash = Some("no code block to save".into());
            return;
        };
        let given = path.is_some();
        let suggested =
            path.unwrap_or_else(|| format!("block{}.{}", block + 1, commands::extension(&b.lang)));
        self.open_modal(Modal::Save(SavePrompt {
            block,
            path: suggested.clone(),
            confirm: false,
            why: None,
            fresh: !given,
        }));
    }

    /// `/save N PATH`: saved at once (asking only when something is there or it is outside
    /// the working directory).
    pub fn save_now(&mut self, block: usize, path: String) -> Vec<Effect> {
        self.start_save(block, Some(path));
        if self.save_prompt().is_none() {
            return vec![];
        }
        self.save_submit()
    }

    /// Enter in the save prompt: writes, after asking when something is there already.
    fn save_submit(&mut self) -> Vec<Effect> {
        let Some(Modal::Save(p)) = self.modals.last_mut() else {
            return vec![];
        };
        let path = PathBuf::from(p.path.trim());
        if p.path.trim().is_empty() {
            return vec![];
        }
        if p.confirm {
            return self.save_to(path);
        }
        // Whether something is there is the runtime's to find out (`Event::SaveTarget`).
        vec![Effect::CheckSave { path }]
    }

    /// The save prompt's path checked: anything already there asks first, else it is written.
    pub(crate) fn save_target(
        &mut self,
        path: PathBuf,
        exists: bool,
        outside: Option<PathBuf>,
    ) -> Vec<Effect> {
        let Some(Modal::Save(p)) = self.modals.last_mut() else {
            return vec![];
        };
        // The path changed while it was looked at: the next Enter looks again.
        if path != std::path::Path::new(p.path.trim()) {
            return vec![];
        }
        if exists || outside.is_some() {
            p.confirm = true;
            p.why = Some(match (exists, outside) {
                (true, Some(abs)) => {
                    format!("{} exists, outside the working directory", abs.display())
                }
                (true, None) => format!("{} exists", p.path.trim()),
                (false, Some(abs)) => format!("{} is outside the working directory", abs.display()),
                (false, None) => unreachable!(),
            });
            return vec![];
        }
        self.save_to(path)
    }

    fn save_to(&mut self, path: PathBuf) -> Vec<Effect> {
        let Some(Modal::Save(p)) = self.close_modal() else {
            return vec![];
        };
        match self.code.get(p.block) {
            Some(b) => vec![Effect::Save {
                path,
                text: b.text(),
            }],
            None => vec![],
        }
    }

    pub fn scroll(&mut self, pane: Pane, delta: i64) {
        match pane {
            // Scroll offsets count lines up from the bottom.
            Pane::Conversation | Pane::Input => {
                self.conv_scroll = step(self.conv_scroll, -delta);
                if self.conv_scroll == 0 {
                    self.new_output = false;
                }
            }
            Pane::Reasoning => self.reasoning_scroll = step(self.reasoning_scroll, -delta),
            Pane::Code => self.code_scroll = step(self.code_scroll, delta),
            Pane::Compare => self.compare_scroll(delta),
        }
    }

    pub fn on_mouse(&mut self, m: MouseEvent) -> Vec<Effect> {
        let pos = Position::new(m.column, m.row);
        if matches!(m.kind, MouseEventKind::Drag(_)) && !self.drag_hinted {
            self.drag_hinted = true;
            self.flash = Some(
                "to select text, press F2: it turns mouse capture off (F2 again turns it back on)"
                    .into(),
            );
        }
        // Over a comparison the wheel scrolls the column under it (or an open diff, where
        // clicks do nothing).
        let over = self.areas().columns.iter().position(|r| r.contains(pos));
        if let Some(cv) = self.shown_compare_mut() {
            if cv.diff.is_some() || over.is_some() {
                if let (None, Some(col)) = (&cv.diff, over) {
                    cv.focus = col.min(cv.cols.len().saturating_sub(1));
                    self.focus = Pane::Compare;
                }
                match m.kind {
                    MouseEventKind::ScrollUp => self.compare_scroll(-3),
                    MouseEventKind::ScrollDown => self.compare_scroll(3),
                    _ => {}
                }
                return vec![];
            }
        }
        let pane = if self.areas().conversation.contains(pos) {
            Pane::Conversation
        } else if self.areas().reasoning.contains(pos) {
            Pane::Reasoning
        } else if self.areas().code.contains(pos) {
            Pane::Code
        } else if self.areas().input.contains(pos) {
            Pane::Input
        } else {
            return vec![];
        };
        match m.kind {
            MouseEventKind::ScrollUp => self.scroll(pane, -3),
            MouseEventKind::ScrollDown => self.scroll(pane, 3),
            MouseEventKind::Down(_) => self.focus = pane,
            _ => {}
        }
        vec![]
    }

    // ---- sending -----------------------------------------------------------------------

    fn submit(&mut self) -> Vec<Effect> {
        let raw = self.input_text();
        if raw.trim().is_empty() {
            return vec![];
        }
        if raw.trim_start().starts_with('/') {
            self.set_input("");
            self.history.push(raw.clone());
            self.history_pos = None;
            return commands::run(self, raw.trim());
        }
        // Typed while a reply streams or the agent works: it waits for its turn.
        if self.active.is_some() || self.agent_busy() {
            if self.queued.is_some() {
                self.flash = Some("a message is queued already: Esc takes it back to edit".into());
                return vec![];
            }
            self.queued = Some(raw);
            self.set_input("");
            self.flash = Some("queued: sent when the reply ends (Esc takes it back)".into());
            return vec![];
        }
        if self.busy() {
            return vec![];
        }
        // A message sent before its `/file` is read would go without it (and the file would
        // join the next one): it waits, in the box.
        // (A comparison that names all its models needs none.)
        let needs_model = self
            .compare_armed
            .as_ref()
            .is_none_or(|ts| ts.iter().any(|t| t.model.is_none()));
        if self.model.is_empty() && needs_model {
            self.flash = Some(format!(
                "{} has not said yet which model it serves: send again in a moment, or /model ID",
                self.provider
            ));
            return vec![];
        }
        if self.reading_files > 0 {
            self.flash = Some("a /file is still being read: send again once it is attached".into());
            return vec![];
        }
        if !self.has_key && self.compare_armed.is_none() {
            self.no_key();
            return vec![];
        }
        let text = self.expand_pastes(&raw);
        // What was typed names files (a paste's `@decorator` does not).
        let paths = mention::mentions(&raw);
        self.history.push(raw);
        self.history_pos = None;
        self.pastes.clear();
        self.set_input("");
        if !paths.is_empty() {
            // The named files are read (by the runtime), attached, and then it goes.
            return vec![Effect::ReadMentions { text, paths }];
        }
        self.submit_text(text)
    }

    /// The settings a request is recorded with.
    pub fn settings(&self) -> crate::session::store::Settings {
        crate::session::store::Settings {
            system: self.system.clone(),
            params: self.params.clone(),
        }
    }

    /// True (with a note) while a reply or a comparison streams.
    pub(crate) fn busy(&mut self) -> bool {
        if self.agent_busy() && self.active.is_none() {
            self.flash = Some("the agent is working: Esc stops it".into());
            return true;
        }
        if self.active.is_some() {
            self.flash = Some("a reply is still streaming: Esc cancels it".into());
            return true;
        }
        if self.running_compare().is_some() {
            self.flash = Some("a comparison is still streaming: Esc cancels it".into());
            return true;
        }
        false
    }

    /// Sends a prompt (with any attached files) to the current model, or to the armed
    /// comparison's models.
    fn submit_text(&mut self, text: String) -> Vec<Effect> {
        let mut prompt = String::new();
        for (path, content) in self.attachments.drain(..) {
            let lang = commands::extension_to_lang(&path);
            prompt.push_str(&format!("File `{path}`:\n```{lang}\n{content}"));
            if !content.ends_with('\n') {
                prompt.push('\n');
            }
            prompt.push_str("```\n\n");
        }
        prompt.push_str(&text);
        if let Some(targets) = self.compare_armed.take() {
            return self.start_compare(prompt, targets);
        }
        self.send(prompt)
    }

    /// The command palette: while a command's name is typed in the message box (`/`, then no
    /// space), the commands it may be — name, arguments, what it does — and the highlighted
    /// one (↑/↓ move, Tab completes, Enter runs it).
    pub fn palette(&self) -> Option<(Vec<&'static commands::Command>, usize)> {
        if self.focus != Pane::Input || self.modal().is_some() || self.replay.is_some() {
            return None;
        }
        let text = self.input_text();
        if !text.starts_with('/') || text.contains(char::is_whitespace) {
            return None;
        }
        // The agent's commands only where there is an agent (`[agent] tools = false`: none).
        let matches: Vec<_> = commands::COMMANDS
            .iter()
            .filter(|c| c.0.starts_with(text.as_str()))
            .filter(|c| self.agent.is_some() || !c.2.starts_with("agent:"))
            .collect();
        if matches.is_empty() {
            return None;
        }
        let sel = if self.palette_sel.1 == text {
            self.palette_sel.0.min(matches.len() - 1)
        } else {
            0
        };
        Some((matches, sel))
    }

    /// Nothing runs any more: the queued message is sent, as if Enter were pressed on it now
    /// (what was typed meanwhile stays in the box).
    pub(crate) fn release_queued(&mut self) -> Vec<Effect> {
        let Some(raw) = self.queued.take() else {
            return vec![];
        };
        let typed = self.input_text();
        self.set_input(&raw);
        let fx = self.submit();
        if fx.is_empty() {
            // It could not go (no model yet, no key): it stays in the box, with the rest.
            if !typed.is_empty() {
                self.set_input(&format!("{raw}\n{typed}"));
            }
        } else {
            self.set_input(&typed);
        }
        fx
    }

    /// `/retry`: the last question, as it was sent (attached files included), sent again as
    /// a new message — after a failure (which took it back from the history) or for another
    /// answer. The history stays append-only, so the provider's cache still hits.
    pub(crate) fn retry(&mut self) -> Vec<Effect> {
        if self.busy() {
            return vec![];
        }
        let Some(last) = self
            .entries
            .iter()
            .rev()
            .find(|e| e.kind == EntryKind::User)
            .map(|e| e.text.clone())
        else {
            self.flash = Some("nothing to retry yet: no question was sent".into());
            return vec![];
        };
        if !self.has_key {
            self.no_key();
            return vec![];
        }
        if self.model.is_empty() {
            self.flash = Some(format!(
                "{} has not said yet which model it serves: /retry in a moment, or /model ID",
                self.provider
            ));
            return vec![];
        }
        self.send(last)
    }

    /// Appends a user message and starts a turn.
    pub fn send(&mut self, prompt: String) -> Vec<Effect> {
        self.conv.push_user(prompt.clone());
        self.push_entry(EntryKind::User, &prompt);
        // A new exchange: its first round's record number names it.
        let turn_idx = self.push_round(self.next_rec, 0);
        if self.agent.is_some() {
            self.agent_begin(turn_idx);
        }
        self.compare_shown = None;
        if self.focus == Pane::Compare {
            self.focus = Pane::Input;
        }
        self.reasoning_turn = None;
        self.reasoning_scroll = 0;
        self.conv_scroll = 0;
        self.new_output = false;
        vec![Effect::Start { turn: turn_idx }]
    }

    /// Engine-side notice for a starting turn (dropped parameters).
    pub fn turn_notice(&mut self, turn: usize, notice: String) {
        if let Some(tv) = self.turns.get_mut(turn) {
            tv.turn.notices.push(notice);
        }
    }

    /// A turn's note on parameters left out (the model rejects them), shown under the first
    /// turn it applies to and again only once it changes: a config's `reasoning_effort` would
    /// otherwise repeat it under every answer of a model without it. Returns the note when it
    /// is shown (and so recorded: a replay shows what the live screen did).
    pub fn params_notice(&mut self, turn: usize, notice: Option<String>) -> Option<String> {
        let shown = notice
            .clone()
            .filter(|n| self.last_params_notice.as_ref() != Some(n));
        if let Some(n) = &shown {
            self.turn_notice(turn, n.clone());
        }
        self.last_params_notice = notice;
        shown
    }

    pub fn on_stream(&mut self, turn: usize, ev: TimedEvent) {
        let Some(tv) = self.turns.get_mut(turn) else {
            return;
        };
        if tv.turn.is_finished() {
            return;
        }
        self.now = self.now.max(ev.at);
        tv.last_data = tv.last_data.max(ev.at);
        tv.turn.apply(&ev);
        let bucket = (ev.at.as_millis() / 250) as usize;
        match &ev.event {
            StreamEvent::Content(c) => {
                let entry = tv.entry;
                add_rate(&mut tv.rate, bucket, c);
                let code_before = self.code.len();
                self.entries[entry].tracker.push(c, &mut self.code, entry);
                if self.code.len() > code_before && self.active == Some(turn) {
                    // Follow the newest block while it streams.
                    self.selected_code = self.code.len() - 1;
                    self.code_scroll = 0;
                }
                self.output_arrived();
            }
            StreamEvent::Reasoning(r) => add_rate(&mut tv.rate, bucket, r),
            StreamEvent::ToolCall(d) => add_rate(&mut tv.rate, bucket, &d.arguments),
            _ => {}
        }
        if ev.event.is_terminal() {
            self.finish_turn(turn);
        }
    }

    fn finish_turn(&mut self, i: usize) {
        let entry = self.turns[i].entry;
        self.entries[entry].tracker.finish(&mut self.code, entry);
        // Nothing came back: the question left the history; it goes back to the user, so
        // that a retry does not send it twice.
        if let crate::session::exchange::Closed::TakenBack(m) =
            crate::session::exchange::close(&mut self.conv, &self.turns[i].turn)
        {
            if self.input_text().trim().is_empty() {
                self.set_input(&m.content);
            }
        }
        if !self.turns[i].counted {
            let r = self.report(&self.turns[i]);
            let unknown = self.turns[i].turn.usage.is_none() && !self.provider_free;
            self.count_cost(r.cost.as_ref(), unknown);
            self.turns[i].counted = true;
        }
        if self.active == Some(i) {
            self.active = None;
        }
    }

    /// Adds a finished request's cost to the session's. With no cost, `unknown` says whether
    /// it may still have been billed (then the session total is a lower bound).
    fn count_cost(&mut self, cost: Option<&crate::session::Cost>, unknown: bool) {
        match cost {
            Some(c) => {
                match c.total_ticks {
                    Some(t) => self.session_cost += t,
                    None => self.session_unpriced = true,
                }
                if c.source == crate::session::CostSource::Estimated {
                    self.session_cost_known = false;
                }
                self.session_savings += c.savings_ticks.unwrap_or(0);
            }
            None if unknown => self.session_cost_known = false,
            None => {}
        }
    }

    /// New prices (the provider's listing arrived): the figures under finished turns follow.
    pub fn set_catalog(&mut self, catalog: Catalog) {
        self.catalog = catalog;
        self.catalog_gen += 1;
    }

    /// A new theme: everything is drawn anew in it.
    pub fn restyle(&mut self) {
        self.theme_gen += 1;
        let input = self.input_text();
        self.set_input(&input);
    }

    /// Starts a new conversation (new id; display cleared).
    pub fn new_conversation(&mut self) {
        if std::mem::take(&mut self.custom_system_next) {
            self.custom_system = true;
        }
        self.clear_transcript();
        self.conv = Conversation::new(self.system.as_deref());
    }

    /// Empties the transcript and everything derived from it (costs, scroll positions).
    pub fn clear_transcript(&mut self) {
        self.transcript_gen += 1;
        self.entries.clear();
        self.turns.clear();
        self.code.clear();
        self.selected_code = 0;
        self.code_scroll = 0;
        self.conv_scroll = 0;
        self.new_output = false;
        self.reasoning_turn = None;
        self.reasoning_scroll = 0;
        self.attachments.clear();
        self.active = None;
        self.now = Duration::ZERO;
        self.session_cost = 0;
        self.session_savings = 0;
        self.session_cost_known = true;
        self.session_unpriced = false;
        // Matches point into what was on screen.
        self.search = None;
        self.close_modals(|m| matches!(m, Modal::Search | Modal::Diff { .. }));
        self.comparisons.clear();
        self.compare_shown = None;
        self.compare_armed = None;
        self.next_rec = 0;
        self.tools.clear();
        self.rewinds.clear();
        if let Some(a) = self.agent.as_mut() {
            a.running = None;
            a.asks.clear();
            a.selected = None;
            a.undo = None;
        }
        self.close_modals(|m| {
            matches!(
                m,
                Modal::Approval { .. } | Modal::Pause(_) | Modal::Rewind(_)
            )
        });
        if self.focus == Pane::Compare {
            self.focus = Pane::Input;
        }
    }
}

/// `v` moved by `by` (either way), without wrapping.
pub(crate) fn step(v: usize, by: i64) -> usize {
    if by > 0 {
        v.saturating_add(by as usize)
    } else {
        v.saturating_sub(by.unsigned_abs() as usize)
    }
}

pub(crate) fn add_rate(rate: &mut Vec<u32>, bucket: usize, text: &str) {
    if rate.len() <= bucket {
        rate.resize(bucket + 1, 0);
    }
    rate[bucket] += crate::session::turn::estimate_tokens(text.len(), 1) as u32;
}

/// The character a key types, if it is a plain printable one (no Ctrl or Alt).
fn plain_char(k: KeyEvent) -> Option<char> {
    match k.code {
        KeyCode::Char(c)
            if !k
                .modifiers
                .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
                && !c.is_control() =>
        {
            Some(c)
        }
        _ => None,
    }
}

pub fn paste_placeholder(i: usize, text: &str) -> String {
    let n = crate::session::count(text.lines().count(), "line", "lines");
    format!("[pasted {n} #{}]", i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sends `text` as a person does; the turn it starts.
    fn send(app: &mut App, text: &str) -> usize {
        app.input.insert_str(text);
        match app
            .on_key(crossterm::event::KeyEvent::from(KeyCode::Enter))
            .as_slice()
        {
            [Effect::Start { turn }] => *turn,
            other => panic!("expected a turn, got {other:?}"),
        }
    }

    /// Issue 15 (Missing): `/` lists the commands, filtered as you type; ↑/↓ pick one, Tab
    /// completes it, Enter runs it.
    #[test]
    fn the_command_palette_filters_and_picks() {
        let key = |c| crossterm::event::KeyEvent::from(c);
        let mut a = App::new(crate::testing::app_init(false));
        assert!(a.palette().is_none());
        a.input.insert_str("/");
        let (all, sel) = a.palette().unwrap();
        // No agent here: its commands (/mode, /budget, /rewind) are not offered.
        assert!(a.agent.is_none());
        assert_eq!(all.len(), commands::COMMANDS.len() - 3);
        assert!(!all.iter().any(|c| c.0 == "/mode"));
        assert_eq!(all[sel].0, "/model");
        a.input.insert_str("s");
        let names: Vec<&str> = a.palette().unwrap().0.iter().map(|c| c.0).collect();
        assert_eq!(names, ["/system", "/set", "/sessions", "/search", "/save"]);
        // ↓ twice, ↑ once: the second; Tab completes it with room for its argument.
        a.on_key(key(KeyCode::Down));
        a.on_key(key(KeyCode::Down));
        a.on_key(key(KeyCode::Up));
        let (m, sel) = a.palette().unwrap();
        assert_eq!(m[sel].0, "/set");
        a.on_key(key(KeyCode::Tab));
        assert_eq!(a.input_text(), "/set ");
        assert!(a.palette().is_none());
        // Enter on a prefix runs the highlighted command.
        a.set_input("/ne");
        let (m, sel) = a.palette().unwrap();
        assert_eq!(m[sel].0, "/new");
        a.on_key(key(KeyCode::Enter));
        assert_eq!(a.flash.as_deref(), Some("new conversation"));
        // No match: no palette (Enter says the command is unknown).
        a.set_input("/zz");
        assert!(a.palette().is_none());
    }

    /// Issue 15 (Missing): Enter while a reply streams queues the message; Esc takes it
    /// back; once nothing runs it is sent as typed.
    #[test]
    fn a_message_typed_while_streaming_waits_its_turn() {
        let mut a = App::new(crate::testing::app_init(false));
        let turn = send(&mut a, "first");
        a.input.insert_str("second");
        assert!(a
            .on_key(crossterm::event::KeyEvent::from(KeyCode::Enter))
            .is_empty());
        assert_eq!(a.queued.as_deref(), Some("second"));
        assert_eq!(a.input_text(), "");
        // Esc takes it back (the stream goes on).
        assert!(a
            .on_key(crossterm::event::KeyEvent::from(KeyCode::Esc))
            .is_empty());
        assert_eq!(
            (a.queued.as_deref(), a.input_text().as_str()),
            (None, "second")
        );
        assert!(a.active.is_some());
        a.on_key(crossterm::event::KeyEvent::from(KeyCode::Enter));
        assert_eq!(a.queued.as_deref(), Some("second"));
        // Typed meanwhile: stays in the box.
        a.input.insert_str("third");
        a.on_stream(
            turn,
            TimedEvent {
                at: Duration::from_millis(5),
                event: StreamEvent::Finished {
                    reason: Some("stop".into()),
                },
            },
        );
        let fx = a.update(Event::Ready);
        assert!(
            matches!(fx.as_slice(), [Effect::Start { turn: 1 }]),
            "{fx:?}"
        );
        assert_eq!(a.conv.messages().last().unwrap().content, "second");
        assert_eq!(a.input_text(), "third");
        assert_eq!(a.queued, None);
        assert!(a.update(Event::Ready).is_empty());
    }

    #[test]
    fn the_first_drag_says_how_to_select_text() {
        use crossterm::event::{KeyModifiers, MouseButton};
        let mut a = App::new(crate::testing::app_init(false));
        let drag = MouseEvent {
            kind: MouseEventKind::Drag(MouseButton::Left),
            column: 3,
            row: 3,
            modifiers: KeyModifiers::NONE,
        };
        a.on_mouse(drag);
        assert_eq!(
            a.flash.as_deref(),
            Some(
                "to select text, press F2: it turns mouse capture off (F2 again turns it back on)"
            )
        );
        // Once only.
        a.flash = None;
        a.on_mouse(drag);
        assert_eq!(a.flash, None);
    }

    #[test]
    fn retry_sends_the_last_question_again() {
        let mut a = App::new(crate::testing::app_init(false));
        a.input.insert_str("/retry");
        assert!(a
            .on_key(crossterm::event::KeyEvent::from(KeyCode::Enter))
            .is_empty());
        assert!(a.flash.as_deref().unwrap().starts_with("nothing to retry"));
        let turn = send(&mut a, "why?\ntwo lines");
        // While it streams: not yet.
        a.input.insert_str("/retry");
        assert!(a
            .on_key(crossterm::event::KeyEvent::from(KeyCode::Enter))
            .is_empty());
        a.on_stream(
            turn,
            TimedEvent {
                at: Duration::from_millis(5),
                event: StreamEvent::Error(crate::api::ApiError::new(
                    crate::api::ErrorKind::Network,
                    "connection reset",
                )),
            },
        );
        // The failed question left the history (and is back in the box); /retry asks it
        // again.
        assert_eq!(a.input_text(), "why?\ntwo lines");
        a.set_input("");
        let before = a.conv.messages().len();
        a.input.insert_str("/retry");
        let fx = a.on_key(crossterm::event::KeyEvent::from(KeyCode::Enter));
        assert!(
            matches!(fx.as_slice(), [Effect::Start { turn: 1 }]),
            "{fx:?}"
        );
        assert_eq!(a.conv.messages().len(), before + 1);
        assert_eq!(a.conv.messages().last().unwrap().content, "why?\ntwo lines");
        let asked: Vec<&str> = a
            .entries
            .iter()
            .filter(|e| e.kind == EntryKind::User)
            .map(|e| e.text.as_str())
            .collect();
        assert_eq!(asked, ["why?\ntwo lines", "why?\ntwo lines"]);
    }

    #[test]
    fn a_repeated_params_notice_shows_under_its_first_turn_only() {
        let mut a = App::new(crate::testing::app_init(false));
        let note = "grok-code-fast-1 does not accept reasoning_effort; not sent".to_string();
        let mut shown = Vec::new();
        for (i, n) in [Some(&note), Some(&note), None, Some(&note)]
            .into_iter()
            .enumerate()
        {
            let turn = send(&mut a, &format!("q{i}"));
            shown.push(a.params_notice(turn, n.cloned()).is_some());
            a.on_stream(
                turn,
                TimedEvent {
                    at: Duration::from_millis(1),
                    event: StreamEvent::Finished {
                        reason: Some("stop".into()),
                    },
                },
            );
        }
        assert_eq!(shown, [true, false, false, true]);
        let notes: Vec<usize> = a.turns.iter().map(|t| t.turn.notices.len()).collect();
        assert_eq!(notes, [1, 0, 0, 1]);
    }
}
