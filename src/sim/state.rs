//! The simulator's whole memory: executed payouts in order, request counts and idempotency
//! records per key, live wallets per provider, and the id generator, behind one mutex.
//!
//! One lock keeps the idempotency check, the balance draw-down and the ledger append atomic
//! (two concurrent payouts can never overdraw or both execute), and gives the ledger a single
//! execution order across both providers. Every critical section is a few map operations.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, MutexGuard, PoisonError},
    time::{Duration, Instant},
};

use axum::http::{HeaderValue, header::RETRY_AFTER};
use axum::response::Response;
use time::OffsetDateTime;
use tokio::sync::mpsc;
use uuid::Uuid;

pub(crate) use super::payout::Provider;
use super::{
    SimConfig, callback,
    faults::{Dice, RateLimit, Throttle},
    ids::IdGen,
    money::Cur,
    payout::{Detail, Payout, SettleJob, Status},
};

/// Requests seen with one key, and the payout it executed, if any.
#[derive(Debug, Default)]
pub(crate) struct KeyEntry {
    pub requests: u32,
    pub payout: Option<usize>,
}

/// A payout that just became terminal and has somewhere to report it.
pub(crate) struct Callback {
    pub url: Box<str>,
    pub body: Vec<u8>,
}

/// Everything behind the lock.
pub(crate) struct Core {
    pub payouts: Vec<Payout>,
    keys: [HashMap<Arc<str>, KeyEntry>; 2],
    rumbapay_ids: HashMap<Uuid, usize>,
    wallets: [[u64; Cur::ALL.len()]; 2],
    pub ids: IdGen,
}

impl Core {
    fn new(config: &SimConfig) -> Self {
        let opening = config.opening_balances();
        Core {
            payouts: Vec::new(),
            keys: [HashMap::new(), HashMap::new()],
            rumbapay_ids: HashMap::new(),
            wallets: [opening, opening],
            ids: IdGen::for_instance(config.seed),
        }
    }

    /// Count one more request carrying `key`; returns the new count (1 for the first).
    pub(crate) fn count_request(&mut self, provider: Provider, key: &str) -> u32 {
        let map = &mut self.keys[provider.index()];
        if let Some(entry) = map.get_mut(key) {
            entry.requests = entry.requests.saturating_add(1);
            return entry.requests;
        }
        map.insert(
            Arc::from(key),
            KeyEntry {
                requests: 1,
                payout: None,
            },
        );
        1
    }

    /// Number of requests that carried `key`.
    pub(crate) fn requests(&self, provider: Provider, key: &str) -> u32 {
        self.keys[provider.index()]
            .get(key)
            .map_or(0, |entry| entry.requests)
    }

    /// The payout a key already executed.
    pub(crate) fn executed(&self, provider: Provider, key: &str) -> Option<&Payout> {
        let idx = self.keys[provider.index()].get(key)?.payout?;
        self.payouts.get(idx)
    }

    /// Live balance of one currency.
    pub(crate) fn balance(&self, provider: Provider, cur: Cur) -> u64 {
        self.wallets[provider.index()][cur.index()]
    }

    /// Set the live balance of one currency (`PUT /_sim/wallet`); returns the old one.
    pub(crate) fn set_balance(&mut self, provider: Provider, cur: Cur, minor: u64) -> u64 {
        std::mem::replace(&mut self.wallets[provider.index()][cur.index()], minor)
    }

    /// Take `amount` from the wallet; `Err(available)` when it does not cover it.
    pub(crate) fn debit(&mut self, provider: Provider, cur: Cur, amount: u64) -> Result<(), u64> {
        let balance = &mut self.wallets[provider.index()][cur.index()];
        match balance.checked_sub(amount) {
            Some(rest) => {
                *balance = rest;
                Ok(())
            }
            None => Err(*balance),
        }
    }

    /// The shared key for a payout about to be recorded (the map's own copy).
    pub(crate) fn key_arc(&mut self, provider: Provider, key: &str) -> Arc<str> {
        let map = &mut self.keys[provider.index()];
        if let Some((arc, _)) = map.get_key_value(key) {
            return Arc::clone(arc);
        }
        let arc: Arc<str> = Arc::from(key);
        map.insert(Arc::clone(&arc), KeyEntry::default());
        arc
    }

    /// Append an executed payout to the ledger and tie it to its key; returns its index.
    pub(crate) fn record(&mut self, payout: Payout) -> usize {
        let idx = self.payouts.len();
        if let Detail::Rumbapay(detail) = &payout.detail {
            self.rumbapay_ids.insert(detail.request_id, idx);
        }
        self.keys[payout.provider.index()]
            .entry(Arc::clone(&payout.key))
            .or_default()
            .payout = Some(idx);
        self.payouts.push(payout);
        idx
    }

    /// The newest Rumbapay payout's `request_id` (a dup-ref lie names it).
    pub(crate) fn last_rumbapay_request_id(&self) -> Option<Uuid> {
        self.payouts.iter().rev().find_map(|p| match &p.detail {
            Detail::Rumbapay(d) => Some(d.request_id),
            Detail::Rohopay(_) => None,
        })
    }

    /// A Rumbapay payout by its `request_id`.
    pub(crate) fn rumbapay_payout(&self, request_id: &Uuid) -> Option<&Payout> {
        self.payouts.get(*self.rumbapay_ids.get(request_id)?)
    }

    /// Move a pending payout to its planned terminal state; a failure gives the money back.
    /// Returns the callback to send, if the payout asked for one.
    pub(crate) fn settle(&mut self, idx: usize, now: OffsetDateTime) -> Option<Callback> {
        let payout = self.payouts.get_mut(idx)?;
        let outcome = payout.outcome?;
        if payout.status != Status::Pending {
            return None;
        }
        payout.status = outcome;
        payout.status_at = now;
        if outcome == Status::Failed {
            let balance = &mut self.wallets[payout.provider.index()][payout.currency.index()];
            *balance = balance.saturating_add(payout.amount_minor);
        }
        let url = payout.callback_url.clone()?;
        match callback::body(payout, now) {
            Ok(body) => Some(Callback { url, body }),
            Err(err) => {
                tracing::warn!("sim: cannot render callback for {url}: {err}");
                None
            }
        }
    }
}

/// State shared by every request handler and the settlement task.
pub(crate) struct SimState {
    pub config: SimConfig,
    pub rate: RateLimit,
    throttle: Throttle,
    core: Mutex<Core>,
    settle_tx: mpsc::UnboundedSender<SettleJob>,
}

impl SimState {
    pub(crate) fn new(config: SimConfig, settle_tx: mpsc::UnboundedSender<SettleJob>) -> Self {
        SimState {
            rate: RateLimit::new(config.rate_limit),
            throttle: Throttle::new(config.throttle_after, config.throttle_count),
            core: Mutex::new(Core::new(&config)),
            config,
            settle_tx,
        }
    }

    /// The state lock. A panic while holding it cannot leave a half-made payout behind
    /// (every mutation is a single push or assignment), so a poisoned lock is still usable.
    pub(crate) fn lock(&self) -> MutexGuard<'_, Core> {
        self.core.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether this payout request is answered 429 (`--rate-limit`, `--throttle-after`).
    pub(crate) fn payout_refused(&self) -> bool {
        let throttled = self.throttle.hit();
        self.rate.exceeded() || throttled
    }

    /// A 429 answer with the configured `Retry-After` (`--retry-after`), if one was set.
    pub(crate) fn with_retry_after(&self, mut response: Response) -> Response {
        if let Some(value) = &self.config.retry_after
            && let Ok(value) = HeaderValue::from_str(value.trim())
        {
            response.headers_mut().insert(RETRY_AFTER, value);
        }
        response
    }

    /// Count a request carrying `key` and return the dice for it.
    pub(crate) fn roll<'k>(&self, provider: Provider, key: &'k str) -> Dice<'k> {
        let attempt = self.lock().count_request(provider, key);
        Dice {
            seed: self.config.seed,
            provider,
            key,
            attempt,
        }
    }

    /// Make payout `idx` terminal after `answer_delay` (slow answer) plus `--settle-ms`.
    pub(crate) fn schedule_settlement(&self, idx: usize, answer_delay: Duration) {
        let due = Instant::now() + answer_delay + Duration::from_millis(self.config.settle_ms);
        // The receiver lives as long as the server; after shutdown nothing needs settling.
        let _ = self.settle_tx.send(SettleJob { due, payout: idx });
    }
}
