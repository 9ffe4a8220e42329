//! The HTTP/1.1 server: our own accept loop over hyper, so that a handler can make its
//! connection vanish without an answer (the drop fault), which `axum::serve` cannot do.
//!
//! Each connection gets a [`ConnKill`] in every request's extensions. A handler that must drop
//! the connection fires it and waits forever; the connection task, which selects between
//! serving and that signal, then drops the connection future: the socket closes with no
//! response bytes. Shutdown stops accepting, asks connections to finish their current
//! request (bounded by [`DRAIN_TIMEOUT`]), then closes whatever is left.

use std::{future::Future, pin::pin, sync::Arc, time::Duration};

use axum::{Router, extract::Request, response::Response};
use hyper::{body::Incoming, server::conn::http1, service::service_fn};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::{
    net::{TcpListener, TcpStream},
    sync::{Notify, mpsc, watch},
};
use tower::ServiceExt;

use super::{faults::AfterExec, state::SimState};

/// How long in-flight requests may take to finish after shutdown is asked for.
pub(crate) const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// Pause after a failed `accept` (e.g. out of file descriptors) before trying again.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(20);

/// Per-connection signal to close the socket without answering.
#[derive(Clone, Default)]
pub(crate) struct ConnKill(Arc<Notify>);

impl ConnKill {
    fn fire(&self) {
        // `notify_one` stores a permit if the connection task is not waiting right now.
        self.0.notify_one();
    }

    async fn fired(&self) {
        self.0.notified().await;
    }
}

/// How a payout request was handled under the state lock.
pub(crate) enum Handled {
    /// A payout was executed (index in the ledger); post-execution faults apply.
    Executed(usize, Response),
    /// Answered without executing anything (replay, conflict, refusal).
    Answered(Response),
}

/// Finish a payout request: schedule the settlement of an executed payout, then answer
/// according to its post-execution fault (answer, answer late, or drop the connection).
pub(crate) async fn finish(
    sim: &SimState,
    handled: Handled,
    after: AfterExec,
    kill: &ConnKill,
) -> Response {
    let (idx, response) = match handled {
        Handled::Answered(response) => return response,
        Handled::Executed(idx, response) => (idx, response),
    };
    sim.schedule_settlement(idx, after.delay());
    match after {
        AfterExec::Answer => response,
        AfterExec::Slow(delay) => {
            tokio::time::sleep(delay).await;
            response
        }
        AfterExec::Drop => {
            kill.fire();
            // The connection task drops this future together with the connection.
            std::future::pending().await
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Serving,
    /// Finish the current request, then close.
    Draining,
    /// Close now.
    Closing,
}

/// Serve `router` on `listener` until `shutdown` completes, then drain and return.
pub(crate) async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let (phase_tx, phase_rx) = watch::channel(Phase::Serving);
    // Every connection task holds a sender; `recv` returns `None` once all have ended.
    let (alive_tx, mut alive_rx) = mpsc::channel::<()>(1);
    let mut shutdown = pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    tokio::spawn(connection(
                        stream,
                        router.clone(),
                        phase_rx.clone(),
                        alive_tx.clone(),
                    ));
                }
                Err(err) => {
                    tracing::debug!("sim: accept failed: {err}");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                }
            },
        }
    }
    drop(listener);
    drop(alive_tx);
    let _ = phase_tx.send(Phase::Draining);
    if tokio::time::timeout(DRAIN_TIMEOUT, alive_rx.recv())
        .await
        .is_err()
    {
        tracing::debug!("sim: connections still open after the drain timeout; closing them");
    }
    let _ = phase_tx.send(Phase::Closing);
}

/// Serve one connection until it ends, is killed, or shutdown closes it.
async fn connection(
    stream: TcpStream,
    router: Router,
    mut phase: watch::Receiver<Phase>,
    _alive: mpsc::Sender<()>,
) {
    let _ = stream.set_nodelay(true);
    let kill = ConnKill::default();
    let service = {
        let kill = kill.clone();
        service_fn(move |mut request: Request<Incoming>| {
            request.extensions_mut().insert(kill.clone());
            router.clone().oneshot(request)
        })
    };
    let conn = http1::Builder::new()
        .timer(TokioTimer::new())
        .serve_connection(TokioIo::new(stream), service);
    let mut conn = pin!(conn);
    let mut draining = false;
    loop {
        if !draining && *phase.borrow_and_update() != Phase::Serving {
            draining = true;
            conn.as_mut().graceful_shutdown();
        }
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(err) = result {
                    tracing::debug!("sim: connection ended: {err}");
                }
                return;
            }
            () = kill.fired() => return,
            changed = phase.changed() => {
                if changed.is_err() || *phase.borrow() == Phase::Closing {
                    return;
                }
            }
        }
    }
}
