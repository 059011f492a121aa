//! The conversation: an append-only message history with a stable id, so that every follow-up
//! request extends the previous one and provider prompt caches keep hitting.

use crate::api::{Message, Role};
use crate::session::turn::Turn;

#[derive(Debug, Clone)]
pub struct Conversation {
    /// Sent as `x-grok-conv-id`; stable for the life of the conversation.
    pub id: String,
    messages: Vec<Message>,
}

/// A random conversation id (UUID v4 format, from a non-cryptographic RNG: it routes requests,
/// it does not protect anything).
pub fn new_conversation_id() -> String {
    let mut b = [0u8; 16];
    for x in b.iter_mut() {
        *x = fastrand::u8(..);
    }
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

impl Conversation {
    pub fn new(system: Option<&str>) -> Self {
        Self::with_id(new_conversation_id(), system)
    }

    pub fn with_id(id: String, system: Option<&str>) -> Self {
        let messages = system
            .filter(|s| !s.trim().is_empty())
            .map(|s| vec![Message::system(s)])
            .unwrap_or_default();
        Conversation { id, messages }
    }

    /// A saved conversation, continued: same id, same history.
    pub fn from_messages(id: String, messages: Vec<Message>) -> Self {
        Conversation { id, messages }
    }

    pub fn messages(&self) -> &[Message] {
        &self.messages
    }

    pub fn push_user(&mut self, text: impl Into<String>) {
        self.messages.push(Message::user(text));
    }

    /// Appends the assistant's reply from a finished turn. Reasoning is kept on the message
    /// (whether it is sent back is the request builder's decision, per model). A turn that
    /// produced nothing adds nothing.
    pub fn push_turn(&mut self, turn: &Turn) {
        if let Some(m) = reply(turn) {
            self.messages.push(m);
        }
    }

    /// Appends a tool's result, answering the call `call_id` of the last assistant message.
    pub fn push_tool_result(&mut self, call_id: &str, content: impl Into<String>) {
        let mut m = Message::new(Role::Tool, content);
        m.tool_call_id = Some(call_id.to_string());
        self.messages.push(m);
    }

    /// Removes a trailing user message that got no answer (a failed first attempt), so that a
    /// retry does not send it twice. Only the unanswered tail is touched: the history before it
    /// stays byte-identical.
    /// Keeps the first `n` messages (a rewind: the next request sends the history as it was).
    pub fn truncate(&mut self, n: usize) {
        self.messages.truncate(n);
    }

    pub fn pop_unanswered(&mut self) -> Option<Message> {
        match self.messages.last() {
            Some(m) if m.role == Role::User => self.messages.pop(),
            _ => None,
        }
    }
}

/// The assistant message a finished turn adds to the history (none when it produced
/// nothing).
pub fn reply(turn: &Turn) -> Option<Message> {
    if turn.content.is_empty() && turn.tool_calls.is_empty() {
        return None;
    }
    let mut m = Message::new(Role::Assistant, turn.content.clone());
    if !turn.reasoning.is_empty() {
        m.reasoning_content = Some(turn.reasoning.clone());
    }
    m.reasoning_items.clone_from(&turn.reasoning_items);
    m.tool_calls = turn
        .tool_calls
        .iter()
        .filter(|c| !c.id.is_empty() || !c.function.name.is_empty())
        .cloned()
        .collect();
    Some(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_uuid_shaped_and_distinct() {
        let a = new_conversation_id();
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
        assert_ne!(a, new_conversation_id());
    }

    #[test]
    fn append_only() {
        let mut c = Conversation::new(Some("be brief"));
        c.push_user("q1");
        let mut t = Turn::new("m");
        t.content = "a1".into();
        t.reasoning = "r1".into();
        c.push_turn(&t);
        assert_eq!(c.messages().len(), 3);
        assert_eq!(c.messages()[2].reasoning_content.as_deref(), Some("r1"));
        c.push_user("q2");
        assert_eq!(c.pop_unanswered().unwrap().content, "q2");
        assert!(c.pop_unanswered().is_none());
    }
}
