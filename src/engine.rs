//! Glue between configuration, conversation and the streaming client: everything needed to
//! start one turn. Shared by the headless commands and the TUI.

use crate::api::{build_chat_body, ApiError, ChatParams, ChatStream, Client, ErrorKind, ModelCaps};
use crate::config::{Config, Provider};
use crate::session::Conversation;

/// A provider bound to a client, ready to stream.
#[derive(Clone)]
pub struct Engine {
    pub provider: Provider,
    pub client: Client,
}

/// A started turn.
pub struct StartedTurn {
    pub stream: ChatStream,
    /// Set when parameters were dropped because the model rejects them.
    pub notice: Option<String>,
    /// The request body as sent (for tests and saved sessions; never contains the key).
    pub body: Vec<u8>,
}

impl Engine {
    pub fn new(cfg: &Config, provider: &Provider) -> Result<Self, ApiError> {
        Ok(Engine {
            provider: provider.clone(),
            client: Client::new(provider.endpoint(), cfg.net.clone())?,
        })
    }

    /// The model to use: the explicit one, else the config default (for the default provider),
    /// else the provider's, else the first one the server lists (local servers).
    pub async fn resolve_model(
        &self,
        cfg: &Config,
        explicit: Option<&str>,
    ) -> Result<String, ApiError> {
        if let Some(m) = explicit.filter(|m| !m.is_empty()) {
            return Ok(m.to_string());
        }
        if cfg.provider == self.provider.name {
            if let Some(m) = &cfg.model {
                return Ok(m.clone());
            }
        }
        if let Some(m) = &self.provider.model {
            return Ok(m.clone());
        }
        let v = self.client.get_json("models").await?;
        v.get("data")
            .and_then(|d| d.as_array())
            .and_then(|d| d.first())
            .and_then(|m| m.get("id"))
            .and_then(|id| id.as_str())
            .map(str::to_string)
            .ok_or_else(|| {
                ApiError::new(
                    ErrorKind::Protocol,
                    format!(
                        "{} lists no models; pass --model or set providers.{}.model",
                        self.provider.base_url, self.provider.name
                    ),
                )
            })
    }

    pub fn caps(&self, cfg: &Config, model: &str) -> ModelCaps {
        let mut caps = cfg.catalog.lookup(model).caps();
        if let Some(e) = self.provider.echo_reasoning {
            caps.echo_reasoning = e;
        }
        caps
    }

    /// Sends the conversation as it stands.
    pub fn start(
        &self,
        cfg: &Config,
        model: &str,
        conv: &Conversation,
        params: &ChatParams,
    ) -> StartedTurn {
        let caps = self.caps(cfg, model);
        let built = build_chat_body(model, conv.messages(), params, &caps, self.provider.dialect);
        let notice = built.notice(model);
        let stream = self
            .client
            .stream_chat(built.body.clone(), Some(conv.id.clone()));
        StartedTurn {
            stream,
            notice,
            body: built.body,
        }
    }
}
