//! Every key binding, as data: one table drives key dispatch (`App::on_key`) and the help
//! overlay. A key is looked up in the scopes that apply — the open modal's alone, else the
//! replay's, the browsing keys, the global ones, the focused pane's and the panes' shared
//! ones, in that order — and the first binding whose action applies runs.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// Where a binding applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Everywhere, modals included.
    Always,
    /// Everywhere outside a modal.
    Global,
    /// The message box.
    Input,
    /// The conversation and reasoning panes: search and turn keys.
    Browse,
    /// Every pane but the message box and a comparison.
    Panes,
    Reasoning,
    Code,
    /// A comparison's columns.
    Compare,
    /// Playing back a saved session.
    Replay,
    // Modals: the top one takes every key.
    Help,
    Picker,
    Save,
    Search,
    Diff,
    /// The approval prompt of a tool call.
    Approval,
    /// Typing a note to the model with a denial.
    Note,
    /// The agent paused (budget, repeated calls).
    Pause,
    /// `/rewind`.
    Rewind,
}

impl Scope {
    /// The help overlay's heading for the scope.
    pub fn title(self) -> &'static str {
        match self {
            Scope::Always => "Always",
            Scope::Global => "Everywhere",
            Scope::Input => "Message box",
            Scope::Browse => "Conversation and reasoning panes",
            Scope::Panes => "Any pane",
            Scope::Reasoning => "Reasoning pane",
            Scope::Code => "Code pane",
            Scope::Compare => "Comparison",
            Scope::Replay => "Replay",
            Scope::Help => "This help",
            Scope::Picker => "Session picker",
            Scope::Save => "Save prompt",
            Scope::Search => "Search prompt",
            Scope::Diff => "Code diff",
            Scope::Approval => "Tool approval",
            Scope::Note => "Denial note",
            Scope::Pause => "Agent paused",
            Scope::Rewind => "Rewind",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Ctrl+C: cancel what streams; twice: quit.
    Interrupt,
    Help,
    ToggleMouse,
    Zoom,
    Escape,
    FocusPrev,
    FocusNext,
    PageUp,
    PageDown,
    ConversationLineUp,
    ConversationLineDown,
    SplitShrink,
    SplitGrow,
    Search,
    SearchNext,
    SearchPrev,
    TurnPrev,
    TurnNext,
    Newline,
    Submit,
    Complete,
    HistoryPrev,
    HistoryNext,
    Up,
    Down,
    Top,
    Bottom,
    ReasoningPrev,
    ReasoningNext,
    CodePrev,
    CodeNext,
    CodeLeft,
    CodeRight,
    CodeCopy,
    CodeSave,
    ColumnPrev,
    ColumnNext,
    /// `1`–`4`: the column of that number.
    ColumnPick,
    SyncScroll,
    ToggleReasoning,
    CancelColumn,
    Diff,
    Adopt,
    ToInput,
    ReplayPause,
    ReplayNextTurn,
    ReplayPrevTurn,
    ReplayForward,
    ReplayBack,
    ReplayFaster,
    ReplaySlower,
    ReplayLeave,
    Close,
    Open,
    Clear,
    DiffOther,
    DiffOtherBack,
    /// Approval: run it this once.
    AllowOnce,
    /// Approval: allow the rule shown for the session.
    AllowSession,
    /// Approval: deny (a note may follow).
    Deny,
    /// Stop the agent's turn.
    StopAgent,
    /// Pause: go on.
    GoOn,
    /// Rewind the files and the conversation / only the files / only the conversation.
    RewindBoth,
    RewindCode,
    RewindConversation,
    /// The conversation pane: open or close the selected tool cell.
    ToolToggle,
    ToolPrev,
    ToolNext,
    /// Every tool cell open, or all closed.
    ToolsAll,
    /// The message box: delete to the line's start; undo.
    KillToStart,
    Undo,
    /// The conversation follows its tail again.
    ToTail,
}

/// A key: its code and the modifiers it needs. `NONE` matches the key without Ctrl or Alt
/// (Shift is part of a character: `G`, `?`); anything else must match exactly.
#[derive(Debug, Clone, Copy)]
pub struct Key(pub KeyCode, pub KeyModifiers);

impl Key {
    pub fn matches(&self, k: &KeyEvent) -> bool {
        if k.code != self.0 {
            return false;
        }
        let held = k.modifiers & (KeyModifiers::CONTROL | KeyModifiers::ALT | KeyModifiers::SHIFT);
        if self.1.is_empty() {
            !held.intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
        } else {
            held == self.1
        }
    }
}

pub struct Binding {
    pub scope: Scope,
    pub keys: &'static [Key],
    /// How the help overlay names the keys.
    pub label: &'static str,
    pub action: Action,
    /// What it does, for the help overlay.
    pub help: &'static str,
}

const N: KeyModifiers = KeyModifiers::NONE;
const CTRL: KeyModifiers = KeyModifiers::CONTROL;
const ALT: KeyModifiers = KeyModifiers::ALT;
const SHIFT: KeyModifiers = KeyModifiers::SHIFT;

const fn ch(c: char) -> Key {
    Key(KeyCode::Char(c), N)
}
const fn key(c: KeyCode) -> Key {
    Key(c, N)
}

macro_rules! b {
    ($scope:ident, [$($k:expr),+], $label:expr, $action:ident, $help:expr) => {
        Binding {
            scope: Scope::$scope,
            keys: &[$($k),+],
            label: $label,
            action: Action::$action,
            help: $help,
        }
    };
}

/// The table. Within a scope, earlier bindings win (Shift+Enter before Enter).
pub static KEYMAP: &[Binding] = &[
    b!(
        Always,
        [Key(KeyCode::Char('c'), CTRL)],
        "Ctrl+C",
        Interrupt,
        "cancel the streaming reply; twice: quit"
    ),
    // ---- modals
    b!(Approval, [ch('y')], "y", AllowOnce, "run it, this once"),
    b!(
        Approval,
        [ch('a')],
        "a",
        AllowSession,
        "run it and allow the rule shown for the rest of the session"
    ),
    b!(
        Approval,
        [ch('n')],
        "n",
        Deny,
        "deny it (then a note to the model, Enter sends)"
    ),
    b!(
        Approval,
        [key(KeyCode::Esc)],
        "Esc",
        StopAgent,
        "stop the agent's turn (every call answered)"
    ),
    b!(
        Approval,
        [key(KeyCode::Up), ch('k')],
        "↑ ↓ PgUp PgDn",
        Up,
        "scroll the diff"
    ),
    b!(Approval, [key(KeyCode::Down), ch('j')], "", Down, ""),
    b!(Approval, [key(KeyCode::PageUp)], "", PageUp, ""),
    b!(Approval, [key(KeyCode::PageDown)], "", PageDown, ""),
    b!(
        Note,
        [key(KeyCode::Enter)],
        "Enter",
        Submit,
        "deny, with the note (none: a plain denial)"
    ),
    b!(
        Note,
        [key(KeyCode::Esc)],
        "Esc",
        Close,
        "back to the prompt"
    ),
    b!(
        Pause,
        [ch('y'), key(KeyCode::Enter)],
        "y, Enter",
        GoOn,
        "go on"
    ),
    b!(
        Pause,
        [ch('n'), key(KeyCode::Esc)],
        "n, Esc",
        StopAgent,
        "stop here"
    ),
    b!(
        Rewind,
        [key(KeyCode::Up), ch('k')],
        "↑ ↓",
        Up,
        "pick the turn to go back to (before it)"
    ),
    b!(Rewind, [key(KeyCode::Down), ch('j')], "", Down, ""),
    b!(
        Rewind,
        [key(KeyCode::Enter), ch('b')],
        "Enter, b",
        RewindBoth,
        "put back the files and the conversation"
    ),
    b!(Rewind, [ch('c')], "c", RewindCode, "only the files"),
    b!(
        Rewind,
        [ch('v')],
        "v",
        RewindConversation,
        "only the conversation (the question goes back into the box)"
    ),
    b!(Rewind, [key(KeyCode::Esc), ch('q')], "Esc", Close, "close"),
    b!(
        Help,
        [
            key(KeyCode::Esc),
            key(KeyCode::F(1)),
            ch('?'),
            ch('q'),
            key(KeyCode::Enter)
        ],
        "Esc, F1, ?, q",
        Close,
        "close the help"
    ),
    b!(Help, [key(KeyCode::Up), ch('k')], "↑ k", Up, "scroll up"),
    b!(
        Help,
        [key(KeyCode::Down), ch('j')],
        "↓ j",
        Down,
        "scroll down"
    ),
    b!(
        Help,
        [key(KeyCode::PageUp)],
        "PgUp",
        PageUp,
        "scroll up a page"
    ),
    b!(
        Help,
        [key(KeyCode::PageDown)],
        "PgDn",
        PageDown,
        "scroll down a page"
    ),
    b!(
        Picker,
        [key(KeyCode::Up), ch('k')],
        "↑ k",
        Up,
        "previous session"
    ),
    b!(
        Picker,
        [key(KeyCode::Down), ch('j')],
        "↓ j",
        Down,
        "next session"
    ),
    b!(
        Picker,
        [key(KeyCode::Enter)],
        "Enter",
        Open,
        "continue the chosen session"
    ),
    b!(
        Picker,
        [key(KeyCode::Esc), ch('q')],
        "Esc, q",
        Close,
        "close the picker"
    ),
    b!(
        Diff,
        [key(KeyCode::Esc), ch('q'), ch('d')],
        "Esc, q, d",
        Close,
        "close the diff"
    ),
    b!(
        Diff,
        [key(KeyCode::Right), ch('l')],
        "→ l",
        DiffOther,
        "diff against the next column"
    ),
    b!(
        Diff,
        [key(KeyCode::Left), ch('h')],
        "← h",
        DiffOtherBack,
        "diff against the previous column"
    ),
    b!(Diff, [key(KeyCode::Up), ch('k')], "↑ k", Up, "scroll up"),
    b!(
        Diff,
        [key(KeyCode::Down), ch('j')],
        "↓ j",
        Down,
        "scroll down"
    ),
    b!(
        Diff,
        [key(KeyCode::PageUp)],
        "PgUp",
        PageUp,
        "scroll up a page"
    ),
    b!(
        Diff,
        [key(KeyCode::PageDown)],
        "PgDn",
        PageDown,
        "scroll down a page"
    ),
    b!(
        Diff,
        [key(KeyCode::Home), ch('g')],
        "Home g",
        Top,
        "to the top"
    ),
    b!(
        Save,
        [key(KeyCode::Enter)],
        "Enter",
        Submit,
        "save (asks first when the file exists)"
    ),
    b!(Save, [key(KeyCode::Esc)], "Esc", Close, "cancel"),
    b!(
        Save,
        [Key(KeyCode::Char('u'), CTRL)],
        "Ctrl+U",
        Clear,
        "clear the path"
    ),
    b!(
        Search,
        [key(KeyCode::Enter)],
        "Enter",
        Submit,
        "search answers and reasoning of the session"
    ),
    b!(Search, [key(KeyCode::Esc)], "Esc", Close, "cancel"),
    // ---- a replay (before the global keys: its q and Esc leave it)
    b!(
        Replay,
        [ch(' ')],
        "Space",
        ReplayPause,
        "pause / play (at the end: from the start)"
    ),
    b!(
        Replay,
        [ch('n')],
        "n / p",
        ReplayNextTurn,
        "next / previous turn"
    ),
    b!(Replay, [ch('p')], "", ReplayPrevTurn, ""),
    b!(
        Replay,
        [key(KeyCode::Right), ch('.')],
        "→ / ←  . / ,",
        ReplayForward,
        "seek 5 s forward / back"
    ),
    b!(Replay, [key(KeyCode::Left), ch(',')], "", ReplayBack, ""),
    b!(
        Replay,
        [ch('+'), ch('=')],
        "+ / -",
        ReplayFaster,
        "faster / slower"
    ),
    b!(Replay, [ch('-')], "", ReplaySlower, ""),
    b!(
        Replay,
        [ch('q'), key(KeyCode::Esc)],
        "q, Esc",
        ReplayLeave,
        "leave the replay"
    ),
    // ---- browsing the conversation and the reasoning
    b!(
        Browse,
        [ch('n')],
        "n / N",
        SearchNext,
        "next / previous search match"
    ),
    b!(Browse, [ch('N')], "", SearchPrev, ""),
    b!(
        Browse,
        [ch('/')],
        "/",
        Search,
        "search answers and reasoning of the session"
    ),
    b!(
        Browse,
        [key(KeyCode::Esc)],
        "Esc",
        Close,
        "clear the search"
    ),
    b!(
        Browse,
        [ch('{')],
        "{ / }",
        TurnPrev,
        "previous / next turn (its reasoning beside it)"
    ),
    b!(Browse, [ch('}')], "", TurnNext, ""),
    b!(
        Browse,
        [key(KeyCode::Enter), ch('x')],
        "Enter, x",
        ToolToggle,
        "conversation: open or close the selected tool call"
    ),
    b!(
        Browse,
        [ch('[')],
        "[ ]",
        ToolPrev,
        "conversation: select the previous / next tool call"
    ),
    b!(Browse, [ch(']')], "", ToolNext, ""),
    b!(
        Global,
        [Key(KeyCode::Char('o'), CTRL)],
        "Ctrl+O",
        ToolsAll,
        "open every tool call and long message, or fold them all"
    ),
    // ---- everywhere
    b!(
        Global,
        [key(KeyCode::F(1))],
        "F1, ?",
        Help,
        "this help (? outside the message box)"
    ),
    b!(
        Global,
        [Key(KeyCode::Char('f'), CTRL)],
        "Ctrl+F",
        Search,
        "search the session"
    ),
    b!(
        Global,
        [key(KeyCode::F(2)), Key(KeyCode::Char('m'), ALT)],
        "F2, Alt+M",
        ToggleMouse,
        "mouse capture on / off (off: the terminal's own selection works)"
    ),
    b!(
        Global,
        [key(KeyCode::F(11)), Key(KeyCode::Char('z'), ALT)],
        "F11, Alt+Z",
        Zoom,
        "maximise the focused pane / restore"
    ),
    b!(
        Global,
        [key(KeyCode::Esc)],
        "Esc",
        Escape,
        "take back a queued message / cancel the streaming reply (partial kept) / close / unzoom / back to the message box"
    ),
    b!(
        Global,
        [Key(KeyCode::BackTab, SHIFT), key(KeyCode::BackTab)],
        "Shift+Tab",
        FocusPrev,
        "previous pane"
    ),
    b!(
        Global,
        [key(KeyCode::PageUp)],
        "PgUp / PgDn",
        PageUp,
        "scroll the focused pane (the conversation from the message box)"
    ),
    b!(Global, [key(KeyCode::PageDown)], "", PageDown, ""),
    b!(
        Global,
        [Key(KeyCode::Up, ALT)],
        "Alt+↑ / Alt+↓",
        ConversationLineUp,
        "scroll the conversation by a line"
    ),
    b!(
        Global,
        [Key(KeyCode::Down, ALT)],
        "",
        ConversationLineDown,
        ""
    ),
    b!(
        Global,
        [Key(KeyCode::Left, ALT)],
        "Alt+← / Alt+→",
        SplitShrink,
        "shrink / grow the conversation pane"
    ),
    b!(Global, [Key(KeyCode::Right, ALT)], "", SplitGrow, ""),
    // ---- the message box
    b!(
        Input,
        [
            Key(KeyCode::Enter, ALT),
            Key(KeyCode::Enter, SHIFT),
            Key(KeyCode::Char('j'), CTRL)
        ],
        "Shift/Alt+Enter, Ctrl+J",
        Newline,
        "new line in the message"
    ),
    b!(
        Input,
        [key(KeyCode::Enter)],
        "Enter",
        Submit,
        "send the message (or run the /command)"
    ),
    b!(
        Input,
        [key(KeyCode::Tab)],
        "Tab",
        Complete,
        "complete a /command, an @path or a /file path; from an empty box: the next pane"
    ),
    b!(
        Input,
        [key(KeyCode::Up)],
        "↑ / ↓",
        HistoryPrev,
        "previous / next message from history (on the first / last line)"
    ),
    b!(Input, [key(KeyCode::Down)], "", HistoryNext, ""),
    b!(
        Input,
        [Key(KeyCode::Char('u'), CTRL)],
        "Ctrl+U",
        KillToStart,
        "delete to the start of the line (Ctrl+Z undoes)"
    ),
    b!(
        Input,
        [Key(KeyCode::Char('z'), CTRL)],
        "Ctrl+Z",
        Undo,
        "undo the last edit in the box"
    ),
    b!(
        Input,
        [Key(KeyCode::End, CTRL), key(KeyCode::End)],
        "Ctrl+End, End",
        ToTail,
        "the conversation back to its tail (End: when the cursor is at the end already)"
    ),
    // ---- the reasoning and code panes
    b!(
        Reasoning,
        [ch('[')],
        "[ / ]",
        ReasoningPrev,
        "reasoning of the previous / next turn"
    ),
    b!(Reasoning, [ch(']')], "", ReasoningNext, ""),
    b!(
        Code,
        [ch('y'), ch('c')],
        "y",
        CodeCopy,
        "copy the block (OSC 52 and the system clipboard)"
    ),
    b!(Code, [ch('s')], "s", CodeSave, "save the block to a file"),
    b!(
        Code,
        [ch('['), ch('p')],
        "[ / ]  p / n",
        CodePrev,
        "previous / next code block"
    ),
    b!(Code, [ch(']'), ch('n')], "", CodeNext, ""),
    b!(
        Code,
        [key(KeyCode::Left), ch('h')],
        "← / →  h / l",
        CodeLeft,
        "scroll long lines sideways (› marks a line that goes on)"
    ),
    b!(Code, [key(KeyCode::Right), ch('l')], "", CodeRight, ""),
    // ---- any pane
    b!(Panes, [key(KeyCode::Tab)], "Tab", FocusNext, "next pane"),
    b!(Panes, [ch('?')], "?", Help, "this help"),
    b!(Panes, [key(KeyCode::Up), ch('k')], "↑ ↓  j k", Up, "scroll"),
    b!(Panes, [key(KeyCode::Down), ch('j')], "", Down, ""),
    b!(
        Panes,
        [key(KeyCode::Home), ch('g')],
        "Home End  g G",
        Top,
        "to the top / the end"
    ),
    b!(Panes, [key(KeyCode::End), ch('G')], "", Bottom, ""),
    // ---- a comparison's columns
    b!(
        Compare,
        [key(KeyCode::Left), ch('h')],
        "← / →  h / l, 1-4",
        ColumnPrev,
        "focus a column"
    ),
    b!(Compare, [key(KeyCode::Right), ch('l')], "", ColumnNext, ""),
    b!(
        Compare,
        [ch('1'), ch('2'), ch('3'), ch('4')],
        "",
        ColumnPick,
        ""
    ),
    b!(
        Compare,
        [key(KeyCode::Up), ch('k')],
        "↑ ↓  j k, PgUp PgDn, g G",
        Up,
        "scroll the columns"
    ),
    b!(Compare, [key(KeyCode::Down), ch('j')], "", Down, ""),
    b!(Compare, [key(KeyCode::Home), ch('g')], "", Top, ""),
    b!(Compare, [key(KeyCode::End), ch('G')], "", Bottom, ""),
    b!(
        Compare,
        [ch('s')],
        "s",
        SyncScroll,
        "scroll the columns together / one at a time"
    ),
    b!(
        Compare,
        [ch('r')],
        "r",
        ToggleReasoning,
        "show or collapse the reasoning"
    ),
    b!(
        Compare,
        [ch('x')],
        "x",
        CancelColumn,
        "cancel the focused column (Esc: all of them)"
    ),
    b!(
        Compare,
        [ch('d')],
        "d",
        Diff,
        "unified diff of the code blocks of the focused column and another"
    ),
    b!(
        Compare,
        [ch('a'), key(KeyCode::Enter)],
        "a, Enter",
        Adopt,
        "adopt the focused answer: the conversation's next turn, its model the current one"
    ),
    b!(Compare, [ch('?')], "?", Help, "this help"),
    b!(Compare, [ch('/')], "/", Search, "search the session"),
    b!(
        Compare,
        [ch('n')],
        "n / N",
        SearchNext,
        "next / previous search match"
    ),
    b!(Compare, [ch('N')], "", SearchPrev, ""),
    b!(
        Compare,
        [
            key(KeyCode::Tab),
            Key(KeyCode::BackTab, SHIFT),
            key(KeyCode::BackTab)
        ],
        "Tab",
        ToInput,
        "to the message box (Tab there: back)"
    ),
];

/// The bindings of `scope` that `k` matches, in table order.
pub fn lookup(scope: Scope, k: &KeyEvent) -> impl Iterator<Item = Action> + '_ {
    KEYMAP
        .iter()
        .filter(move |b| b.scope == scope && b.keys.iter().any(|key| key.matches(k)))
        .map(|b| b.action)
}

/// A focused pane's keys on one line, from the same table: each binding of `scopes` that
/// has a label, with what it does up to its first aside (`y copy the block · s save …`).
pub fn pane_hint(scopes: &[Scope], skip: &[Action]) -> String {
    // In the order of `scopes`: the pane's own keys before the shared ones.
    scopes
        .iter()
        .flat_map(|s| KEYMAP.iter().filter(move |b| b.scope == *s))
        .filter(|b| !b.label.is_empty() && !b.help.is_empty())
        .filter(|b| !skip.contains(&b.action))
        .map(|b| {
            let what = b.help.split(" (").next().unwrap_or(b.help);
            let what = what.strip_prefix("conversation: ").unwrap_or(what);
            format!("{} {what}", b.label)
        })
        .collect::<Vec<_>>()
        .join(" · ")
}

/// What no binding says: keys that no binding takes (`App::typed`).
const NOTES: [(Scope, &str, &str); 1] = [(
    Scope::Panes,
    "other letters",
    "go to the message box (a word that starts with a pane key arrives whole)",
)];

/// The help overlay's sections: `(heading, [(keys, what)])`, the scopes in `order` first,
/// then the rest; bindings with no help text are folded into the one before them.
pub fn help(order: &[Scope]) -> Vec<(&'static str, Vec<(&'static str, &'static str)>)> {
    let all = [
        Scope::Always,
        Scope::Input,
        Scope::Panes,
        Scope::Browse,
        Scope::Reasoning,
        Scope::Code,
        Scope::Compare,
        Scope::Global,
        Scope::Replay,
        Scope::Diff,
        Scope::Approval,
        Scope::Note,
        Scope::Pause,
        Scope::Rewind,
        Scope::Picker,
        Scope::Save,
        Scope::Search,
        Scope::Help,
    ];
    let mut scopes: Vec<Scope> = order.to_vec();
    scopes.extend(all.iter().filter(|s| !order.contains(s)));
    scopes
        .into_iter()
        .map(|s| {
            let rows = KEYMAP
                .iter()
                .filter(|b| b.scope == s && !b.help.is_empty())
                .map(|b| (b.label, b.help))
                .chain(NOTES.iter().filter(|n| n.0 == s).map(|n| (n.1, n.2)))
                .collect();
            (s.title(), rows)
        })
        .collect()
}

#[cfg(test)]
mod tests {

    /// Issue 15 (9): the code pane names y, s and its block keys on one line.
    #[test]
    fn a_pane_hint_names_its_keys_from_the_table() {
        assert_eq!(
            pane_hint(&[Scope::Code], &[]),
            "y copy the block · s save the block to a file · [ / ]  p / n previous / next code block · ← / →  h / l scroll long lines sideways"
        );
        let browse = pane_hint(&[Scope::Browse], &[]);
        assert!(browse.contains("{ / } previous / next turn"), "{browse}");
        assert!(
            browse.contains("n / N next / previous search match"),
            "{browse}"
        );
        // What does not apply now is not offered.
        let idle = pane_hint(&[Scope::Browse], &[Action::SearchNext, Action::Close]);
        assert!(idle.starts_with("/ search"), "{idle}");
        assert_eq!(pane_hint(&[], &[]), "");
        // The pane's own keys first.
        let reasoning = pane_hint(&[Scope::Reasoning, Scope::Browse], &[]);
        assert!(
            reasoning.starts_with("[ / ] reasoning of the previous / next turn"),
            "{reasoning}"
        );
    }

    use super::*;

    #[test]
    fn modifiers_match_as_documented() {
        let shift_g = KeyEvent::new(KeyCode::Char('G'), KeyModifiers::SHIFT);
        assert!(ch('G').matches(&shift_g), "Shift is part of a character");
        let ctrl_g = KeyEvent::new(KeyCode::Char('g'), KeyModifiers::CONTROL);
        assert!(
            !ch('g').matches(&ctrl_g),
            "a plain key is not its Ctrl chord"
        );
        let shift_enter = KeyEvent::new(KeyCode::Enter, KeyModifiers::SHIFT);
        assert_eq!(
            lookup(Scope::Input, &shift_enter).next(),
            Some(Action::Newline),
            "Shift+Enter is found before Enter"
        );
    }

    #[test]
    fn every_binding_with_keys_is_in_the_help_or_folded_into_the_one_before() {
        let sections = help(&[]);
        for b in KEYMAP {
            let (_, rows) = sections
                .iter()
                .find(|(t, _)| *t == b.scope.title())
                .expect("a section per scope");
            if b.help.is_empty() {
                assert!(b.label.is_empty(), "{:?}: a label without help", b.action);
            } else {
                assert!(rows.contains(&(b.label, b.help)), "{:?}", b.action);
            }
        }
    }
}
