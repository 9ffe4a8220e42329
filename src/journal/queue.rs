//! The journal thread's inbox: one ordered queue of work, where some of it may wait. A write
//! someone awaits wakes the journal thread at once; a write nobody awaits (a row's outcome,
//! which a crash may lose harmlessly) is only queued, and commits with the next awaited write
//! or once it has waited [`LINGER`]. So a run's outcomes ride along with the next rows'
//! `sending` marks instead of each costing a wake-up, a commit and an fsync of their own.
//! Everything still commits in the order it was queued.

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Longest a write nobody awaits waits for company before the journal commits it anyway.
pub(super) const LINGER: Duration = Duration::from_millis(20);

/// Queued work, in order, with how much of it may wait.
struct Pending<T> {
    items: VecDeque<T>,
    /// Something queued is awaited: take it all now.
    urgent: bool,
    /// When the oldest item that may wait was queued.
    waiting_since: Option<Instant>,
    /// Handles still able to queue; at zero the queue ends once empty.
    handles: usize,
    /// The journal thread is asleep on `ready`.
    asleep: bool,
    /// The journal thread is gone: nothing more is queued.
    closed: bool,
}

pub(super) struct Queue<T> {
    pending: Mutex<Pending<T>>,
    ready: Condvar,
    /// Taken at once when this many items are queued, awaited or not.
    full: usize,
}

impl<T> Queue<T> {
    /// A queue with one handle.
    pub fn new(full: usize) -> Queue<T> {
        Queue {
            pending: Mutex::new(Pending {
                items: VecDeque::new(),
                urgent: false,
                waiting_since: None,
                handles: 1,
                asleep: false,
                closed: false,
            }),
            ready: Condvar::new(),
            full,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Pending<T>> {
        // A panic on the journal thread while holding the lock leaves the queue usable.
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queue `item`; `urgent` wakes the journal thread now. False once the queue has ended.
    pub fn push(&self, item: T, urgent: bool) -> bool {
        let mut p = self.lock();
        if p.handles == 0 || p.closed {
            return false;
        }
        p.items.push_back(item);
        if urgent {
            p.urgent = true;
        } else if p.waiting_since.is_none() {
            p.waiting_since = Some(Instant::now());
        }
        let wake = p.asleep && (urgent || p.items.len() >= self.full || p.items.len() == 1);
        drop(p);
        if wake {
            self.ready.notify_one();
        }
        true
    }

    pub fn add_handle(&self) {
        self.lock().handles += 1;
    }

    pub fn drop_handle(&self) {
        let mut p = self.lock();
        p.handles = p.handles.saturating_sub(1);
        let wake = p.handles == 0 && p.asleep;
        drop(p);
        if wake {
            self.ready.notify_one();
        }
    }

    /// The journal thread has ended (normally or not): what is still queued is dropped, which
    /// tells anyone awaiting it that the journal is closed, and nothing more can be queued.
    pub fn close(&self) {
        let left = {
            let mut p = self.lock();
            p.closed = true;
            std::mem::take(&mut p.items)
        };
        drop(left);
    }

    /// Everything queued, once some of it is awaited, the queue is full, the oldest item has
    /// waited [`LINGER`] or every handle is gone; `None` once every handle is gone and nothing
    /// is left.
    pub fn take(&self) -> Option<VecDeque<T>> {
        let mut p = self.lock();
        loop {
            let now = Instant::now();
            let due = p.waiting_since.map(|since| since + LINGER);
            if p.urgent
                || p.items.len() >= self.full
                || p.handles == 0
                || due.is_some_and(|due| due <= now)
            {
                break;
            }
            p.asleep = true;
            p = match due {
                Some(due) => {
                    self.ready
                        .wait_timeout(p, due - now)
                        .unwrap_or_else(|e| e.into_inner())
                        .0
                }
                None => self.ready.wait(p).unwrap_or_else(|e| e.into_inner()),
            };
            p.asleep = false;
        }
        if p.items.is_empty() {
            return None;
        }
        p.urgent = false;
        p.waiting_since = None;
        Some(std::mem::take(&mut p.items))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn an_awaited_item_takes_what_waited_before_it_in_order() {
        let q = Queue::new(100);
        assert!(q.push(1, false));
        assert!(q.push(2, false));
        assert!(q.push(3, true));
        let started = Instant::now();
        assert_eq!(q.take(), Some(VecDeque::from([1, 2, 3])));
        assert!(started.elapsed() < LINGER, "taken at once");
    }

    #[test]
    fn an_item_nobody_awaits_is_taken_after_the_linger_or_when_full() {
        let q = Queue::new(3);
        q.push(1, false);
        let started = Instant::now();
        assert_eq!(q.take(), Some(VecDeque::from([1])));
        assert!(started.elapsed() >= LINGER);
        for i in 0..3 {
            q.push(i, false);
        }
        let started = Instant::now();
        assert_eq!(q.take().map(|v| v.len()), Some(3));
        assert!(started.elapsed() < LINGER, "full: taken at once");
    }

    #[test]
    fn a_closed_queue_drops_what_it_held_and_takes_no_more() {
        let q = Queue::new(100);
        let held = Arc::new(());
        q.push(held.clone(), true);
        q.close();
        assert_eq!(Arc::strong_count(&held), 1, "dropped");
        assert!(!q.push(held.clone(), true));
    }

    #[test]
    fn a_sleeping_taker_wakes_for_an_awaited_item_and_ends_with_the_last_handle() {
        let q = Arc::new(Queue::new(100));
        let taker = {
            let q = q.clone();
            std::thread::spawn(move || {
                let mut got = Vec::new();
                while let Some(items) = q.take() {
                    got.extend(items);
                }
                got
            })
        };
        std::thread::sleep(Duration::from_millis(5));
        q.push(7, true);
        q.add_handle();
        q.drop_handle();
        q.push(8, false);
        q.drop_handle();
        assert!(!q.push(9, true), "ended");
        assert_eq!(taker.join().unwrap(), vec![7, 8]);
    }
}
