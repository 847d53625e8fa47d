//! A TCP proxy between a transport and its broker that can simulate an outage: [`cut`] closes
//! every relayed connection and refuses new ones (accepts and closes them at once), [`restore`]
//! lets connections through again. This lets one test take "the broker" down without touching
//! the real broker that other tests share.
//!
//! [`cut`]: FaultProxy::cut
//! [`restore`]: FaultProxy::restore

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::support::eventually;

struct State {
    upstream: String,
    cut: AtomicBool,
    /// Bumped on every cut; each relay ends when it changes.
    generation: watch::Sender<u64>,
    live: AtomicUsize,
}

/// A cuttable TCP proxy on `127.0.0.1:<random port>`. Stops when dropped.
pub struct FaultProxy {
    addr: SocketAddr,
    state: Arc<State>,
    acceptor: JoinHandle<()>,
}

impl FaultProxy {
    /// Starts relaying to `upstream` (`host:port`).
    pub async fn start(upstream: impl Into<String>) -> io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(State {
            upstream: upstream.into(),
            cut: AtomicBool::new(false),
            generation: watch::Sender::new(0),
            live: AtomicUsize::new(0),
        });
        let acceptor = tokio::spawn(accept(listener, state.clone()));
        Ok(Self {
            addr,
            state,
            acceptor,
        })
    }

    /// The address clients connect to instead of the broker.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Closes every relayed connection (waiting until they are closed) and refuses new ones.
    pub async fn cut(&self) {
        self.state.cut.store(true, Ordering::SeqCst);
        self.state.generation.send_modify(|g| *g += 1);
        let state = self.state.clone();
        eventually(Duration::from_secs(5), "relays to close", || {
            let state = state.clone();
            async move { (state.live.load(Ordering::SeqCst) == 0).then_some(()) }
        })
        .await;
    }

    /// Lets connections through again.
    pub fn restore(&self) {
        self.state.cut.store(false, Ordering::SeqCst);
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.acceptor.abort();
        self.state.generation.send_modify(|g| *g += 1);
    }
}

async fn accept(listener: TcpListener, state: Arc<State>) {
    loop {
        let Ok((client, _)) = listener.accept().await else {
            continue;
        };
        // Subscribe before looking at the flag, so a cut racing with this accept still ends
        // the relay.
        let ended = state.generation.subscribe();
        if state.cut.load(Ordering::SeqCst) {
            // Refused: the client sees the connection close during its handshake.
            drop(client);
            continue;
        }
        state.live.fetch_add(1, Ordering::SeqCst);
        tokio::spawn(relay(client, state.clone(), ended));
    }
}

async fn relay(mut client: TcpStream, state: Arc<State>, mut ended: watch::Receiver<u64>) {
    if let Ok(mut server) = TcpStream::connect(&state.upstream).await {
        let _ = client.set_nodelay(true);
        let _ = server.set_nodelay(true);
        tokio::select! {
            _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
            _ = ended.changed() => {}
        }
    }
    drop(client);
    state.live.fetch_sub(1, Ordering::SeqCst);
}
