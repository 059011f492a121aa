//! Glue between configuration, conversation and the streaming client: everything needed to
//! start one turn. Shared by the headless commands and the TUI.

use crate::api::{
    build_chat_body, build_responses_body, Api, ApiError, ChatParams, ChatStream, Client,
    ErrorKind, ModelCaps,
};
use crate::config::{Config, Provider};
use crate::session::live_catalog::{self, Cached, LiveCatalog};
use crate::session::Conversation;

/// What the disk cache holds of `provider`'s own model listing (for providers that read
/// one, with a key): the listing to use now, whether a new one is due (none, or older than
/// a day), and a notice when the cache was unreadable.
pub fn cached_live_catalog(provider: &Provider) -> (Option<LiveCatalog>, bool, Option<String>) {
    if !provider.live_catalog || provider.needs_key() && provider.api_key().is_none() {
        return (None, false, None);
    }
    let Some(path) = live_catalog::cache_path(&provider.name) else {
        return (None, true, None);
    };
    let url = crate::api::error::mask_url(&provider.base_url);
    match live_catalog::load(&path, &url, live_catalog::now_secs()) {
        Cached::Fresh(l) => (Some(l), false, None),
        Cached::Stale(l) => (Some(l), true, None),
        Cached::Missing => (None, true, None),
        Cached::Broken(m) => (None, true, Some(format!("model listing cache {m}"))),
    }
}

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
        if let Some(m) = self.known_model(cfg, explicit) {
            return Ok(m);
        }
        let v = self.client.get_json("models").await?;
        crate::api::client::model_ids(&v)
            .into_iter()
            .next()
            .ok_or_else(|| {
                ApiError::new(
                    ErrorKind::Protocol,
                    format!(
                        "{} lists no models; pass --model or set providers.{}.model",
                        crate::api::error::mask_url(&self.provider.base_url),
                        self.provider.name
                    ),
                )
            })
    }

    /// The model named without asking the server: the explicit one, the config default (for
    /// the default provider), the provider's own.
    pub fn known_model(&self, cfg: &Config, explicit: Option<&str>) -> Option<String> {
        explicit
            .filter(|m| !m.is_empty())
            .map(str::to_string)
            .or_else(|| {
                (cfg.provider == self.provider.name)
                    .then(|| cfg.model.clone())
                    .flatten()
            })
            .or_else(|| self.provider.model.clone())
    }

    /// Fetches the provider's model listing (`/language-models` for prices, `/models` for the
    /// ids and context windows) and saves it to the cache.
    pub async fn refresh_live_catalog(&self) -> Result<LiveCatalog, ApiError> {
        let (priced, listed) = futures_util::future::join(
            self.client.get_json("language-models"),
            self.client.get_json("models"),
        )
        .await;
        // Without prices the listing would only replace the cached one's: keep that instead.
        if let Err(e) = &priced {
            return Err(e.clone());
        }
        let live = LiveCatalog {
            fetched_at: live_catalog::now_secs(),
            // Never a password in a file: the masked URL identifies the provider as well.
            base_url: crate::api::error::mask_url(&self.provider.base_url),
            models: crate::session::catalog::parse_live(priced.as_ref().ok(), listed.as_ref().ok()),
        };
        // Half a listing is used for this run only: the next start asks again. A cache that
        // cannot be written only means the same.
        if let (Ok(_), Ok(_), Some(path)) = (
            &priced,
            &listed,
            live_catalog::cache_path(&self.provider.name),
        ) {
            let _ = live_catalog::save(&path, &live);
        }
        Ok(live)
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
        let built = match self.provider.api {
            Api::Chat => {
                build_chat_body(model, conv.messages(), params, &caps, self.provider.dialect)
            }
            Api::Responses => {
                build_responses_body(model, conv.messages(), params, &caps, Some(&conv.id))
            }
        };
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

/// How many messages a comparison's columns may have waiting for their consumer.
pub const COMPARE_BUFFER: usize = 1024;

/// What one column of a comparison reports to its consumer.
#[derive(Debug)]
pub enum ColumnMsg {
    /// The request went out (after waiting for a free slot at its provider); event times
    /// count from here.
    Sent,
    /// Parameters were dropped because the model rejects them.
    Notice(String),
    Event(crate::api::TimedEvent),
    /// The column's stream ended (always the last message).
    Closed,
}

/// One column to run: a provider's engine, the model to ask and the settings to ask with.
#[derive(Clone)]
pub struct ColumnPlan {
    pub engine: Engine,
    pub model: String,
    pub params: ChatParams,
}

/// Sends the same conversation to every column at once, each in its own task, so that one
/// failing or stalling never holds up another. Requests to one provider respect its
/// `max_concurrent`: the rest wait for a slot before they are sent. Messages arrive on `tx` as
/// `(column, message)`; aborting a column's handle cancels just that column.
pub fn spawn_compare(
    cfg: &Config,
    conv: &Conversation,
    plans: Vec<(usize, ColumnPlan)>,
    tx: tokio::sync::mpsc::Sender<(usize, ColumnMsg)>,
) -> Vec<(usize, tokio::task::JoinHandle<()>)> {
    use std::collections::HashMap;
    use std::sync::Arc;
    use tokio::sync::Semaphore;
    let cfg = Arc::new(cfg.clone());
    let conv = Arc::new(conv.clone());
    let mut slots: HashMap<String, Arc<Semaphore>> = HashMap::new();
    plans
        .into_iter()
        .map(|(col, plan)| {
            let sem = slots
                .entry(plan.engine.provider.name.clone())
                .or_insert_with(|| Arc::new(Semaphore::new(plan.engine.provider.max_concurrent)))
                .clone();
            let (cfg, conv, tx) = (cfg.clone(), conv.clone(), tx.clone());
            let task = tokio::spawn(async move {
                // Held until the stream ends (or this task is aborted).
                let _slot = sem.acquire_owned().await;
                let started = plan.engine.start(&cfg, &plan.model, &conv, &plan.params);
                let _ = tx.send((col, ColumnMsg::Sent)).await;
                if let Some(n) = started.notice {
                    let _ = tx.send((col, ColumnMsg::Notice(n))).await;
                }
                let mut stream = started.stream;
                while let Some(ev) = stream.next().await {
                    // Bounded: a column streaming faster than it is shown waits for the screen.
                    if tx.send((col, ColumnMsg::Event(ev))).await.is_err() {
                        return;
                    }
                }
                let _ = tx.send((col, ColumnMsg::Closed)).await;
            });
            (col, task)
        })
        .collect()
}
