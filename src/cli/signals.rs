//! Ctrl-C and SIGTERM while sending: the first stops dispatching and lets in-flight requests
//! finish; a second exits at once (the journal is consistent either way: rows in flight stay
//! `sending` and the next resume resends them with the same key).

use std::sync::Arc;

use tokio::signal::unix::{SignalKind, signal};

use crate::batch::send::{Stop, StopReason};

/// Watch for interrupts for as long as the returned task lives.
pub fn watch(stop: Arc<Stop>, resume_hint: String) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let Ok(mut term) = signal(SignalKind::terminate()) else {
            return;
        };
        let Ok(mut int) = signal(SignalKind::interrupt()) else {
            return;
        };
        tokio::select! {
            _ = int.recv() => {}
            _ = term.recv() => {}
        }
        stop.trigger(StopReason::Interrupted);
        eprintln!(
            "\ninterrupted: finishing the payouts in flight, sending nothing new (Ctrl-C again to quit at once)"
        );
        tokio::select! {
            _ = int.recv() => {}
            _ = term.recv() => {}
        }
        eprintln!("quitting now; the journal is consistent. Resume with: {resume_hint}");
        std::process::exit(130);
    })
}
