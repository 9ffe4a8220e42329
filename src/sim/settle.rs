//! Settlement: payouts answered `pending` become terminal `--settle-ms` after their answer.
//!
//! One task per simulator holds a min-heap of due times fed by an unbounded channel, settles
//! everything due under a single lock acquisition, and hands callbacks to their own tasks.
//! Cheap at tens of thousands of payouts per second: no timer or task per payout.

use std::{cmp::Reverse, collections::BinaryHeap, sync::Arc, time::Instant};

use tokio::{sync::mpsc, task::JoinSet};

use super::{callback, clock, payout::SettleJob, state::SimState};

/// Run until aborted (the server aborts it on shutdown, which also cancels pending callbacks).
pub(crate) async fn settler(sim: Arc<SimState>, mut jobs: mpsc::UnboundedReceiver<SettleJob>) {
    let mut heap: BinaryHeap<Reverse<SettleJob>> = BinaryHeap::new();
    let mut callbacks = JoinSet::new();
    let mut client: Option<Option<reqwest::Client>> = None;
    loop {
        let now = Instant::now();
        let mut due = Vec::new();
        while let Some(Reverse(job)) = heap.peek() {
            if job.due > now {
                break;
            }
            due.push(job.payout);
            heap.pop();
        }
        if !due.is_empty() {
            let settled_at = clock::now();
            let to_send: Vec<_> = {
                let mut core = sim.lock();
                due.iter()
                    .filter_map(|&idx| core.settle(idx, settled_at))
                    .collect()
            };
            if !to_send.is_empty() {
                let client = client.get_or_insert_with(callback::client);
                for cb in to_send {
                    if let Some(client) = client {
                        callbacks.spawn(callback::deliver(
                            client.clone(),
                            sim.config.webhook_secret.clone(),
                            cb.url,
                            cb.body,
                        ));
                    }
                }
            }
        }
        let next = heap.peek().map(|Reverse(job)| job.due);
        tokio::select! {
            job = jobs.recv() => match job {
                Some(job) => {
                    heap.push(Reverse(job));
                    while let Ok(job) = jobs.try_recv() {
                        heap.push(Reverse(job));
                    }
                }
                None => return,
            },
            () = tokio::time::sleep_until(next.unwrap_or(now).into()), if next.is_some() => {}
            Some(_) = callbacks.join_next(), if !callbacks.is_empty() => {}
        }
    }
}
