//! A server with a known capacity: a token bucket of `per_s` tokens a second (holding at most
//! `burst`) shared by all connections; a request that finds the bucket empty is answered `503`
//! at once. Below `per_s` it answers everything; above, the excess fails, so its capacity under
//! any error budget is `per_s` (issue 10: a capacity search must find it).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

struct Bucket {
    tokens: f64,
    at: Instant,
    per_s: f64,
    burst: f64,
}

impl Bucket {
    fn take(&mut self) -> bool {
        let now = Instant::now();
        self.tokens = (self.tokens + (now - self.at).as_secs_f64() * self.per_s).min(self.burst);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// The server; it stops when dropped.
pub struct LimitedServer {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Requests answered 503.
    pub refused: Arc<AtomicU64>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl LimitedServer {
    /// Starts a server that serves `per_s` requests a second with bursts of up to `burst`.
    pub fn start(per_s: f64, burst: f64) -> Self {
        let bucket = Arc::new(Mutex::new(Bucket {
            tokens: burst,
            at: Instant::now(),
            per_s,
            burst,
        }));
        let refused = Arc::new(AtomicU64::new(0));
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel();
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let counter = refused.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                addr_tx.send(listener.local_addr().unwrap()).unwrap();
                let serve = async {
                    loop {
                        let Ok((stream, _)) = listener.accept().await else {
                            continue;
                        };
                        tokio::spawn(serve(stream, bucket.clone(), counter.clone()));
                    }
                };
                tokio::select! {
                    _ = serve => {}
                    _ = stop_rx => {}
                }
            });
        });
        LimitedServer {
            addr: addr_rx.recv().unwrap(),
            refused,
            stop: Some(stop_tx),
            thread: Some(thread),
        }
    }
}

impl Drop for LimitedServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn serve(mut stream: TcpStream, bucket: Arc<Mutex<Bucket>>, refused: Arc<AtomicU64>) {
    let _ = stream.set_nodelay(true);
    let mut buf = Vec::with_capacity(4096);
    loop {
        // Requests without bodies: one head after another.
        let end = loop {
            if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break pos + 4;
            }
            let mut chunk = [0u8; 4096];
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        buf.drain(..end);
        let ok = bucket.lock().unwrap().take();
        let answer: &[u8] = if ok {
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
        } else {
            refused.fetch_add(1, Ordering::Relaxed);
            b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nbusy"
        };
        if stream.write_all(answer).await.is_err() {
            return;
        }
    }
}
