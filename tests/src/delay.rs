//! A TCP relay on loopback that adds a round-trip delay to everything passing through it (this kernel has no
//! netem), for the latency benchmarks: every chunk is held for RTT/2 in each direction, and the upstream connection
//! is made only 1.5 RTT after the relay accepted, so the server's first byte reaches the client 2 RTT after
//! connect(), as over a real network (SYN, SYN-ACK, ACK + data). Runs on the caller's tokio runtime; stops when
//! dropped.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A TCP relay on loopback that adds `rtt` of round-trip delay to everything passing through it.
pub struct DelayRelay {
    pub port: u16,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for DelayRelay {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A relay on a free port of 127.0.0.1 to `upstream`.
pub async fn delay_relay(upstream: SocketAddr, rtt: Duration) -> DelayRelay {
    delay_relay_at(SocketAddr::from(([127, 0, 0, 1], 0)), upstream, rtt).await
}

/// A relay listening on `listen` (another loopback address with the upstream's own port keeps URLs that name the
/// port valid: the test name server then points the host name at the relay's address).
pub async fn delay_relay_at(listen: SocketAddr, upstream: SocketAddr, rtt: Duration) -> DelayRelay {
    let listener = TcpListener::bind(listen).await.expect("bind the delay relay");
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        let mut sessions = tokio::task::JoinSet::new();
        while let Ok((client, _)) = listener.accept().await {
            sessions.spawn(relay_session(client, upstream, rtt));
        }
    });
    DelayRelay { port, task }
}

async fn relay_session(client: TcpStream, upstream: SocketAddr, rtt: Duration) {
    let one_way = rtt / 2;
    let accepted = Instant::now();
    // Over a real network the server accepts 1.5 RTT after the client's SYN (SYN → SYN-ACK → ACK).
    let server_sees_connection = accepted + one_way * 3;
    let _ = client.set_nodelay(true);
    let (client_read, client_write) = client.into_split();
    let (to_server_tx, to_server_rx) = tokio::sync::mpsc::unbounded_channel();
    let (to_client_tx, to_client_rx) = tokio::sync::mpsc::unbounded_channel();
    let read_client = read_chunks(client_read, to_server_tx, one_way, server_sees_connection);
    let rest = async move {
        tokio::time::sleep_until(server_sees_connection.into()).await;
        let Ok(server) = TcpStream::connect(upstream).await else { return };
        let _ = server.set_nodelay(true);
        let (server_read, server_write) = server.into_split();
        tokio::join!(
            write_chunks(server_write, to_server_rx),
            read_chunks(server_read, to_client_tx, one_way, Instant::now()),
            write_chunks(client_write, to_client_rx),
        );
    };
    tokio::join!(read_client, rest);
}

/// Reads chunks as they come and stamps each with the moment it may be delivered (never before `not_before`).
async fn read_chunks(
    mut from: tokio::net::tcp::OwnedReadHalf,
    to: tokio::sync::mpsc::UnboundedSender<(Instant, Vec<u8>)>,
    one_way: Duration,
    not_before: Instant,
) {
    let mut buf = vec![0u8; 64 * 1024];
    while let Ok(n) = from.read(&mut buf).await {
        if n == 0 {
            break;
        }
        // Data the client sent "too early" (its connect() returned at once on loopback) reaches the server when a
        // real connection would let it: 1.5 RTT after the SYN, together with the handshake's ACK.
        let due = (Instant::now() + one_way).max(not_before);
        if to.send((due, buf[..n].to_vec())).is_err() {
            break;
        }
    }
}

/// Delivers chunks in order, each at its moment; closes the write side when the reader is done.
async fn write_chunks(mut to: tokio::net::tcp::OwnedWriteHalf, mut from: tokio::sync::mpsc::UnboundedReceiver<(Instant, Vec<u8>)>) {
    while let Some((due, chunk)) = from.recv().await {
        tokio::time::sleep_until(due.into()).await;
        if to.write_all(&chunk).await.is_err() {
            return;
        }
    }
    let _ = to.shutdown().await;
}
