//! The protocol layer: request building, SSE parsing, typed stream events and errors.
//! Nothing here knows about terminals or sessions.

pub mod chunk;
pub mod client;
pub mod error;
pub mod request;
pub mod sse;
pub mod types;

pub use client::{ChatStream, Client, Endpoint, NetPolicy};
pub use error::{ApiError, ErrorKind};
pub use request::{build_chat_body, BuiltRequest, ChatParams, Dialect, ModelCaps};
pub use types::{Message, Role, StreamEvent, TimedEvent, ToolCall, ToolCallDelta, Usage};
