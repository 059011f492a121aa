//! NDJSON event encoding for `--json` output.

use serde_json::{json, Value};

use crate::api::{ApiError, StreamEvent, TimedEvent};

pub fn error_json(e: &ApiError) -> Value {
    json!({
        "kind": e.kind,
        "status": e.status,
        "message": e.message,
        "hint": e.hint,
    })
}

/// One stream event as a JSON object with `type` and `t_ms` (ms since the request was sent).
pub fn event_json(ev: &TimedEvent) -> Value {
    let t_ms = ev.at.as_millis() as u64;
    match &ev.event {
        StreamEvent::Started { model, id } => {
            json!({"type": "started", "t_ms": t_ms, "model": model, "id": id})
        }
        StreamEvent::Reasoning(t) => json!({"type": "reasoning", "t_ms": t_ms, "text": t}),
        StreamEvent::Content(t) => json!({"type": "content", "t_ms": t_ms, "text": t}),
        StreamEvent::ToolCall(d) => json!({
            "type": "tool_call", "t_ms": t_ms, "index": d.index, "id": d.id,
            "name": d.name, "arguments": d.arguments
        }),
        StreamEvent::Usage(u) => {
            let mut v = serde_json::to_value(u).unwrap_or(Value::Null);
            if let Value::Object(o) = &mut v {
                o.insert("type".into(), "usage".into());
                o.insert("t_ms".into(), t_ms.into());
            }
            v
        }
        StreamEvent::Notice(m) => json!({"type": "notice", "t_ms": t_ms, "message": m}),
        StreamEvent::ReasoningItem(item) => json!({
            "type": "reasoning_item", "t_ms": t_ms, "id": item.get("id"),
            "encrypted": item.get("encrypted_content").is_some_and(Value::is_string)
        }),
        StreamEvent::ServerTool(t) => json!({
            "type": "server_tool", "t_ms": t_ms, "id": t.id, "name": t.name,
            "status": t.status, "detail": t.detail
        }),
        StreamEvent::Citation(c) => {
            json!({"type": "citation", "t_ms": t_ms, "url": c.url, "title": c.title})
        }
        StreamEvent::DoomLoop(m) => json!({"type": "doom_loop", "t_ms": t_ms, "message": m}),
        StreamEvent::Retrying {
            attempt,
            delay,
            error,
        } => json!({
            "type": "retrying", "t_ms": t_ms, "attempt": attempt,
            "delay_ms": delay.as_millis() as u64, "error": error_json(error)
        }),
        StreamEvent::Finished { reason } => {
            json!({"type": "finished", "t_ms": t_ms, "reason": reason})
        }
        StreamEvent::Error(e) => {
            let mut v = error_json(e);
            if let Value::Object(o) = &mut v {
                o.insert("type".into(), "error".into());
                o.insert("t_ms".into(), t_ms.into());
            }
            v
        }
    }
}
