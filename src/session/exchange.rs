//! One exchange: a user turn and the rounds (requests) it took. Today an exchange has one
//! round, or one per column of a comparison; the agent loop adds a round per tool step. What a
//! finished round does to the conversation is decided here, once, for every front end.

use crate::api::Message;
use crate::session::{Conversation, Turn, TurnState};

/// Where a round stands in its exchange, for the session file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RoundId {
    /// The record number of the round (unique in the session file).
    pub rec: usize,
    /// The exchange (user turn) it belongs to: the record number of the exchange's first round.
    pub exchange: usize,
    /// Its place in the exchange, from 0.
    pub round: usize,
}

impl RoundId {
    /// The first (and today only) round of a new exchange.
    pub fn first(rec: usize) -> Self {
        RoundId {
            rec,
            exchange: rec,
            round: 0,
        }
    }
}

/// What closing a round did to the conversation.
#[derive(Debug, Clone, PartialEq)]
pub enum Closed {
    /// The reply (text or tool calls) joined the history.
    Answered,
    /// Nothing came back and the request did not succeed: the question was taken back out
    /// of the history (so that a retry does not send it twice) and is returned.
    TakenBack(Message),
    /// Nothing to add (a successful empty answer).
    Nothing,
}

/// Closes a finished round into the conversation: its reply is appended; a round that
/// failed or was cancelled before any reply takes its question back.
pub fn close(conv: &mut Conversation, turn: &Turn) -> Closed {
    if !turn.content.is_empty() || !turn.tool_calls.is_empty() {
        conv.push_turn(turn);
        Closed::Answered
    } else if turn.state != TurnState::Done {
        conv.pop_unanswered()
            .map(Closed::TakenBack)
            .unwrap_or(Closed::Nothing)
    } else {
        Closed::Nothing
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reply_joins_and_a_failure_takes_the_question_back() {
        let mut c = Conversation::new(None);
        c.push_user("q");
        let mut t = Turn::new("m");
        t.content = "a".into();
        t.state = TurnState::Done;
        assert_eq!(close(&mut c, &t), Closed::Answered);
        assert_eq!(c.messages().len(), 2);
        c.push_user("q2");
        let mut f = Turn::new("m");
        f.state = TurnState::Failed;
        match close(&mut c, &f) {
            Closed::TakenBack(m) => assert_eq!(m.content, "q2"),
            other => panic!("{other:?}"),
        }
        assert_eq!(c.messages().len(), 2);
        let mut empty = Turn::new("m");
        empty.state = TurnState::Done;
        c.push_user("q3");
        assert_eq!(close(&mut c, &empty), Closed::Nothing);
        assert_eq!(c.messages().len(), 3, "an empty success keeps its question");
    }
}
