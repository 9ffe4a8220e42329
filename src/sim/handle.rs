//! Starting the simulator in-process on a loopback port, for `run --sandbox` and the tests,
//! and stopping it again (explicitly, or by dropping the handle).

use std::{
    io,
    net::{Ipv4Addr, SocketAddr},
};

use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle};

use super::{SimConfig, run};

/// A simulator running on a tokio task. Dropping it, or calling [`SimHandle::shutdown`],
/// stops the server.
#[derive(Debug)]
pub struct SimHandle {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<io::Result<()>>>,
}

/// Bind `127.0.0.1:0` and serve `config` on a new task of the current tokio runtime.
pub async fn spawn(config: SimConfig) -> io::Result<SimHandle> {
    config
        .check()
        .map_err(|msg| io::Error::new(io::ErrorKind::InvalidInput, msg))?;
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = oneshot::channel::<()>();
    // Resolves on `send` and also when the sender is dropped with the handle.
    let shutdown = async move {
        let _ = stopped.await;
    };
    let task = tokio::spawn(run(listener, config, shutdown));
    Ok(SimHandle {
        addr,
        stop: Some(stop),
        task: Some(task),
    })
}

impl SimHandle {
    /// The loopback address the simulator listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// RohoPay base URL, `http://127.0.0.1:PORT` (the client appends `/api/v1/disburse`).
    pub fn rohopay_base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Rumbapay base URL, `http://127.0.0.1:PORT/v1` (the client appends `/payout`).
    pub fn rumbapay_base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// `GET` this for the ledger of executed payouts.
    pub fn ledger_url(&self) -> String {
        format!("http://{}/_sim/ledger", self.addr)
    }

    /// Stop accepting, let open requests finish (bounded), and wait for the server to end.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take()
            && let Ok(Err(err)) = task.await
        {
            tracing::warn!("sim: stopped with an error: {err}");
        }
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
