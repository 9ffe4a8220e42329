//! The receiver's accept loop: HTTP/1 connections with a deadline for each request head, and
//! a cap on open connections that slow or idle clients cannot use to starve the others.
//!
//! At the cap, a new connection makes room by closing the oldest connection that has no
//! request in progress: one still sending its request head (a "slowloris" client) or idle
//! between requests. A connection whose request head arrived is never closed this way (its
//! body has its own deadline in the handler), so a delivery being recorded is never cut.
//! If every connection has a request in progress, the new one waits in the kernel's accept
//! queue until one ends. Reaching the cap is logged once, not once per connection (again
//! at most every [`NOTICE_EVERY`], with how many were closed meanwhile).

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;
use tower::ServiceExt;

use super::limits::Limits;
use super::report::LogSink;

/// Least time between two "connection limit reached" lines.
pub const NOTICE_EVERY: Duration = Duration::from_secs(600);

/// Pause after a failed `accept` (e.g. out of file descriptors) before trying again.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// One open connection as the cap sees it.
struct Slot {
    /// Requests on it whose head arrived and whose answer is not finished.
    busy: Arc<AtomicUsize>,
    /// Told to close the connection at once.
    evict: Arc<Notify>,
}

/// The open connections, oldest first (ids only grow).
#[derive(Default)]
struct Registry {
    open: Mutex<BTreeMap<u64, Slot>>,
    /// A connection ended.
    freed: Notify,
}

impl Registry {
    fn len(&self) -> usize {
        self.open.lock().map_or(0, |open| open.len())
    }

    fn insert(&self, id: u64, slot: Slot) {
        if let Ok(mut open) = self.open.lock() {
            open.insert(id, slot);
        }
    }

    fn remove(&self, id: u64) {
        if let Ok(mut open) = self.open.lock() {
            open.remove(&id);
        }
        self.freed.notify_one();
    }

    /// Close the oldest connection with no request in progress; false if there is none.
    fn evict_oldest_idle(&self) -> bool {
        let Ok(mut open) = self.open.lock() else {
            return false;
        };
        let Some(id) = open
            .iter()
            .find(|(_, slot)| slot.busy.load(Ordering::Acquire) == 0)
            .map(|(id, _)| *id)
        else {
            return false;
        };
        if let Some(slot) = open.remove(&id) {
            slot.evict.notify_one();
        }
        true
    }
}

/// Marks a request in progress on its connection while it lives.
struct Busy(Arc<AtomicUsize>);

impl Busy {
    fn new(counter: &Arc<AtomicUsize>) -> Busy {
        counter.fetch_add(1, Ordering::AcqRel);
        Busy(counter.clone())
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The once-in-a-while notice that the cap was reached.
struct Notice {
    last: Option<Instant>,
    closed_since: u64,
}

impl Notice {
    fn full(&mut self, limits: &Limits, log: &LogSink) {
        self.closed_since += 1;
        if self.last.is_some_and(|at| at.elapsed() < NOTICE_EVERY) {
            return;
        }
        let again = match self.last {
            Some(_) => format!(
                " ({} closed to make room since the last notice)",
                self.closed_since
            ),
            None => String::new(),
        };
        log.line(&format!(
            "connection limit reached: {} connections open; the oldest that have not sent a \
             complete request (slow or idle clients) are closed to make room{again}. If this is \
             legitimate traffic, raise PAYRUN_LISTEN_MAX_CONNECTIONS (and `ulimit -n`)",
            limits.max_connections
        ));
        self.last = Some(Instant::now());
        self.closed_since = 0;
    }
}

/// Serve `app` on `listener` within `limits` until `shutdown` completes; then finish open
/// requests, waiting at most `drain` for them.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    log: LogSink,
    drain: Duration,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let registry = Arc::new(Registry::default());
    let (stopping, stop_rx) = watch::channel(false);
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    let mut tasks = JoinSet::new();
    let mut notice = Notice {
        last: None,
        closed_since: 0,
    };
    let mut next_id = 0u64;
    tokio::pin!(shutdown);
    'accepting: loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let (stream, peer) = match accepted {
            Ok(conn) => conn,
            Err(e) => {
                tracing::warn!("listen: cannot accept a connection: {e}");
                tokio::time::sleep(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        while tasks.try_join_next().is_some() {}
        while registry.len() >= limits.max_connections {
            if registry.evict_oldest_idle() {
                notice.full(&limits, &log);
                continue;
            }
            // Every connection has a request in progress: wait for one to end.
            tokio::select! {
                () = registry.freed.notified() => {}
                () = &mut shutdown => break 'accepting,
            }
        }
        let (id, busy, evict) = (
            next_id,
            Arc::new(AtomicUsize::new(0)),
            Arc::new(Notify::new()),
        );
        next_id += 1;
        registry.insert(
            id,
            Slot {
                busy: busy.clone(),
                evict: evict.clone(),
            },
        );
        let app = app.clone();
        let service = service_fn(move |mut request: hyper::Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            let busy = Busy::new(&busy);
            let app = app.clone();
            async move {
                let _busy = busy;
                app.oneshot(request).await
            }
        });
        let conn = builder.serve_connection(TokioIo::new(stream), service);
        let (registry, mut stop_rx) = (registry.clone(), stop_rx.clone());
        tasks.spawn(async move {
            tokio::pin!(conn);
            let stopping = async move {
                let _ = stop_rx.wait_for(|stop| *stop).await;
            };
            let closed = tokio::select! {
                _ = conn.as_mut() => true,
                () = evict.notified() => true,
                () = stopping => false,
            };
            if !closed {
                conn.as_mut().graceful_shutdown();
                tokio::select! {
                    _ = conn.as_mut() => {}
                    () = evict.notified() => {}
                }
            }
            // Dropping the connection closes its socket.
            registry.remove(id);
        });
    }
    drop(listener);
    let _ = stopping.send(true);
    let finish = async { while tasks.join_next().await.is_some() {} };
    if tokio::time::timeout(drain, finish).await.is_err() {
        tasks.abort_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot(busy: usize) -> (Slot, Arc<Notify>) {
        let evict = Arc::new(Notify::new());
        let slot = Slot {
            busy: Arc::new(AtomicUsize::new(busy)),
            evict: evict.clone(),
        };
        (slot, evict)
    }

    #[tokio::test]
    async fn eviction_takes_the_oldest_connection_without_a_request_in_progress() {
        let registry = Registry::default();
        let (working, _) = slot(1);
        let (idle_old, told_old) = slot(0);
        let (idle_new, _) = slot(0);
        registry.insert(1, working);
        registry.insert(2, idle_old);
        registry.insert(3, idle_new);
        assert!(registry.evict_oldest_idle());
        assert_eq!(registry.len(), 2);
        // The evicted connection's task is woken (the permit is stored).
        tokio::time::timeout(Duration::from_secs(5), told_old.notified())
            .await
            .expect("the oldest idle connection is told to close");
        let open: Vec<u64> = registry.open.lock().unwrap().keys().copied().collect();
        assert_eq!(open, vec![1, 3]);
    }

    #[test]
    fn a_connection_with_a_request_in_progress_is_never_evicted() {
        let registry = Registry::default();
        let (working, _) = slot(1);
        registry.insert(1, working);
        assert!(!registry.evict_oldest_idle());
        assert_eq!(registry.len(), 1);
    }

    #[test]
    fn reaching_the_limit_is_logged_once_not_per_connection() {
        let lines = Arc::new(Mutex::new(Vec::<String>::new()));
        let log = {
            let lines = lines.clone();
            LogSink::new(move |l| lines.lock().unwrap().push(l.to_owned()))
        };
        let limits = Limits {
            header_timeout: Duration::from_secs(1),
            body_timeout: Duration::from_secs(1),
            max_connections: 7,
        };
        let mut notice = Notice {
            last: None,
            closed_since: 0,
        };
        for _ in 0..100 {
            notice.full(&limits, &log);
        }
        let lines = lines.lock().unwrap();
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(lines[0].contains("connection limit reached: 7 connections open"));
        assert!(lines[0].contains("PAYRUN_LISTEN_MAX_CONNECTIONS"));
    }
}
