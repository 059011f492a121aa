//! What is open over the panes, as a stack: the top one takes every key (help, the session
//! picker, the save prompt, the search prompt, a comparison's code diff; the agent's approval
//! prompt goes here too).

use super::keymap::Scope;
use super::{App, Picker, SavePrompt};

pub enum Modal {
    Help {
        scroll: usize,
    },
    Picker(Picker),
    Save(SavePrompt),
    /// Typing a search query (its text is `App::search`'s).
    Search,
    /// Comparison `cmp`'s code diff (its text is the comparison's).
    Diff {
        cmp: usize,
    },
    /// A tool call waits for the user (`AgentView::asks`' first); `note`: typing a note to
    /// the model with a denial.
    Approval {
        note: Option<String>,
        scroll: usize,
    },
    /// The agent paused (budget, repeated calls): go on or stop.
    Pause(crate::session::agent::Outcome),
    Rewind(super::agent::RewindPrompt),
}

impl Modal {
    pub fn scope(&self) -> Scope {
        match self {
            Modal::Help { .. } => Scope::Help,
            Modal::Picker(_) => Scope::Picker,
            Modal::Save(_) => Scope::Save,
            Modal::Search => Scope::Search,
            Modal::Diff { .. } => Scope::Diff,
            Modal::Approval { note: Some(_), .. } => Scope::Note,
            Modal::Approval { .. } => Scope::Approval,
            Modal::Pause(_) => Scope::Pause,
            Modal::Rewind(_) => Scope::Rewind,
        }
    }

    fn same_kind(&self, other: &Modal) -> bool {
        std::mem::discriminant(self) == std::mem::discriminant(other)
    }
}

impl App {
    /// The modal on top, if any.
    pub fn modal(&self) -> Option<&Modal> {
        self.modals.last()
    }

    /// Opens `m` on top (one of its kind at a time: an open one is replaced).
    pub fn open_modal(&mut self, m: Modal) {
        self.modals.retain(|o| !o.same_kind(&m));
        self.modals.push(m);
    }

    /// Closes the modal on top.
    pub fn close_modal(&mut self) -> Option<Modal> {
        self.modals.pop()
    }

    pub fn help_open(&self) -> bool {
        self.modals.iter().any(|m| matches!(m, Modal::Help { .. }))
    }

    pub fn help_scroll(&self) -> usize {
        self.modals
            .iter()
            .find_map(|m| match m {
                Modal::Help { scroll } => Some(*scroll),
                _ => None,
            })
            .unwrap_or(0)
    }

    pub fn picker(&self) -> Option<&Picker> {
        self.modals.iter().find_map(|m| match m {
            Modal::Picker(p) => Some(p),
            _ => None,
        })
    }

    pub fn save_prompt(&self) -> Option<&SavePrompt> {
        self.modals.iter().find_map(|m| match m {
            Modal::Save(p) => Some(p),
            _ => None,
        })
    }

    /// True while a search query is being typed.
    pub fn search_editing(&self) -> bool {
        self.modals.iter().any(|m| matches!(m, Modal::Search))
    }

    /// Closes every modal of the kind `f` picks.
    pub(crate) fn close_modals(&mut self, f: impl Fn(&Modal) -> bool) {
        self.modals.retain(|m| !f(m));
    }
}
