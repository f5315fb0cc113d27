//! What the test servers (`elasticsearch`, `kubernetes`) share: a listener on 127.0.0.1:0 served on a
//! thread and runtime of its own, and an accept loop that stops listening while the server is "down".
//!
//! A crate of its own so that both servers depend on it and it is compiled once.

use std::future::Future;
use std::net::SocketAddr;
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::watch;

/// The serving thread; dropping it stops the server and waits for the thread.
pub struct ServerThread {
    shutdown: watch::Sender<bool>,
    thread: Option<JoinHandle<()>>,
}

impl ServerThread {
    /// Runs `serve()` to completion on a two-worker runtime of its own (workers with `stack_size`
    /// bytes of stack when given), on a thread named `name`. `shutdown` is what dropping the result
    /// sends `true` on; `serve` should return once it has. Tasks still running then get 100 ms.
    pub fn spawn<S, F>(
        name: String,
        stack_size: Option<usize>,
        shutdown: watch::Sender<bool>,
        serve: S,
    ) -> ServerThread
    where
        S: FnOnce() -> F + Send + 'static,
        F: Future<Output = ()>,
    {
        let thread = std::thread::Builder::new()
            .name(name)
            .spawn(move || {
                let mut builder = tokio::runtime::Builder::new_multi_thread();
                builder.worker_threads(2);
                if let Some(stack_size) = stack_size {
                    builder.thread_stack_size(stack_size);
                }
                let runtime = builder
                    .enable_all()
                    .build()
                    .expect("tokio runtime for the test server");
                runtime.block_on(serve());
                // Stalled requests and open watches would otherwise hold the runtime (and the test) open.
                runtime.shutdown_timeout(Duration::from_millis(100));
            })
            .expect("spawn the test server thread");
        ServerThread {
            shutdown,
            thread: Some(thread),
        }
    }
}

impl Drop for ServerThread {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A non-blocking listener on 127.0.0.1:0 (for [`accept_loop`]), and its address.
pub fn bind() -> (std::net::TcpListener, SocketAddr) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener
        .set_nonblocking(true)
        .expect("non-blocking listener");
    let addr = listener.local_addr().expect("listener address");
    (listener, addr)
}

/// Accepts connections, handing each to `on_accept` with the shutdown receiver, until `shutdown` is
/// true. While `down()` holds, the listener is closed; `changes` wakes the loop to check again.
pub async fn accept_loop(
    listener: std::net::TcpListener,
    mut shutdown: watch::Receiver<bool>,
    mut changes: watch::Receiver<u64>,
    down: impl Fn() -> bool,
    mut on_accept: impl FnMut(TcpStream, &watch::Receiver<bool>),
) {
    let Ok(addr) = listener.local_addr() else {
        return;
    };
    let mut listener = TcpListener::from_std(listener).ok();
    loop {
        if *shutdown.borrow_and_update() {
            return;
        }
        changes.borrow_and_update();
        if down() {
            // Dropping the listener makes new connections fail with "connection refused".
            listener = None;
        } else if listener.is_none() {
            listener = rebind(addr);
        }
        match &listener {
            Some(bound) => tokio::select! {
                accepted = bound.accept() => {
                    if let Ok((stream, _)) = accepted {
                        on_accept(stream, &shutdown);
                    }
                }
                _ = changes.changed() => {}
                _ = shutdown.changed() => {}
            },
            None => tokio::select! {
                _ = changes.changed() => {}
                _ = shutdown.changed() => {}
                // Rebinding can fail while the old socket lingers; try again shortly.
                _ = tokio::time::sleep(Duration::from_millis(20)) => {}
            },
        }
    }
}

fn rebind(addr: SocketAddr) -> Option<TcpListener> {
    let socket = TcpSocket::new_v4().ok()?;
    socket.set_reuseaddr(true).ok()?;
    socket.bind(addr).ok()?;
    socket.listen(1024).ok()
}
