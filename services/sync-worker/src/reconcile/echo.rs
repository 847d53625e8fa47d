//! Webhooks raised by our own writes. Every write the bot makes to a Jira site comes back as a
//! webhook naming the bot as its actor. The reconcile that made the write already recorded its
//! result as the pair's base, so reconciling the echo would only read both sides (four calls) to
//! find nothing to do. A webhook whose actor is the bot account of its endpoint is therefore
//! acknowledged without a reconcile.
//!
//! Nothing is lost by this: a person's change raises a webhook of its own (with the person as
//! actor), and a change made with the bot's own account by someone else is found by the
//! poller (the issue's `updated` is later than the link's last sync).

use std::collections::HashMap;
use std::sync::Mutex;

use jira_sync_domain::{EndpointId, ReconcileRequest, Trigger};
use tracing::{debug, warn};

use super::Reconciler;
use crate::error::chain;

/// The bot's account on each endpoint, looked up once (`/myself`).
#[derive(Debug, Default)]
pub struct BotAccounts {
    known: Mutex<HashMap<EndpointId, String>>,
}

impl BotAccounts {
    fn get(&self, endpoint: &EndpointId) -> Option<String> {
        self.known.lock().ok()?.get(endpoint).cloned()
    }

    fn put(&self, endpoint: &EndpointId, account: String) {
        if let Ok(mut known) = self.known.lock() {
            known.insert(endpoint.clone(), account);
        }
    }
}

impl Reconciler {
    /// Whether `request` is the webhook of a write the bot itself made. `false` when that
    /// cannot be told (no actor, or the bot's account cannot be read now): then it is
    /// reconciled, which is always correct.
    pub(super) async fn is_own_write(&self, request: &ReconcileRequest) -> bool {
        let Trigger::Webhook {
            actor: Some(actor), ..
        } = &request.trigger
        else {
            return false;
        };
        match self.bot_account(&request.endpoint).await {
            Some(bot) if bot == *actor => {
                debug!(endpoint = %request.endpoint, "a webhook of our own write; nothing to reconcile");
                true
            }
            _ => false,
        }
    }

    async fn bot_account(&self, endpoint: &EndpointId) -> Option<String> {
        if let Some(known) = self.bots.get(endpoint) {
            return Some(known);
        }
        let client = self.jira.get(endpoint)?;
        match client.myself().await {
            Ok(user) => {
                self.bots.put(endpoint, user.account_id.clone());
                Some(user.account_id)
            }
            Err(e) => {
                warn!(%endpoint, error = %chain(&e), "cannot read the bot's own account; reconciling its webhooks");
                None
            }
        }
    }
}
