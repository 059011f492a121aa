//! The protocol layer: request building, SSE parsing, typed stream events and errors.
//! Nothing here knows about terminals or sessions.

pub mod chunk;
pub mod client;
pub mod error;
pub mod request;
pub mod responses;
pub mod sse;
pub mod types;

pub use client::{ChatStream, Client, Endpoint, NetPolicy};
pub use error::{ApiError, ErrorKind};
pub use request::{build_chat_body, Api, BuiltRequest, ChatParams, Dialect, ModelCaps, ToolSpec};
pub use responses::build_responses_body;
pub use types::{
    Citation, Message, Role, ServerTool, StreamEvent, TimedEvent, ToolCall, ToolCallDelta, Usage,
};
