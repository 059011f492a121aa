//! Conversation model, model catalog, pricing and per-turn accounting. No terminal here.

pub mod agent;
pub mod approval;
pub mod catalog;
pub mod compare;
pub mod conversation;
pub mod exchange;
pub mod fence;
pub mod live_catalog;
pub mod pricing;
pub mod store;
pub mod turn;

pub use catalog::{Catalog, ModelInfo, ReasoningMode};
pub use conversation::Conversation;
pub use pricing::{cost_of, format_usd, Cost, CostSource};
pub use turn::{Metrics, Turn, TurnState};
pub mod report;
pub use report::{count, TurnReport};
