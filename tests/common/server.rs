//! HTTP/1.1 servers written for the tests: they bind 127.0.0.1:0, count what they serve, and
//! stop on drop; and running `faceoff bench`.

use std::net::SocketAddr;
use std::process::Output;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Runs `faceoff` with `args` and returns its output.
pub fn run_faceoff(args: &[&str]) -> Output {
    super::faceoff().args(args).output().expect("faceoff runs")
}

/// Runs `faceoff bench ... --json` and parses its JSON.
pub fn bench_json(args: &[&str]) -> serde_json::Value {
    let mut all = vec!["bench"];
    all.extend_from_slice(args);
    all.push("--json");
    let out = run_faceoff(&all);
    assert!(
        out.status.success(),
        "faceoff {all:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("bad JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

/// How a test server answers.
#[derive(Debug, Clone, Copy)]
pub enum Behavior {
    /// `200`, `Hello, World!`, Content-Length.
    Hello,
    /// As `Hello` after this delay.
    Delay(Duration),
    /// For the first `stall` of every `period` since the server started, answers are held
    /// until the stall ends.
    Stall { period: Duration, stall: Duration },
    /// A chunked body of several chunks.
    Chunked,
    /// `Connection: close` after every answer.
    Close,
    /// This status code with a short body.
    Status(u16),
    /// Reads the request and never answers.
    Hang,
    /// Every `n`-th request on a connection is answered by a TCP reset.
    ResetEvery(u64),
    /// As `Hello`, and a connection idle for this long is closed (a keep-alive timeout).
    IdleClose(Duration),
    /// As `Hello` for the first `n` requests over all connections, then reads requests and
    /// never answers (a server that stops answering mid-run).
    StopAfter(u64),
}

/// A test server on 127.0.0.1:0 with its own runtime thread; it stops when dropped.
pub struct TestServer {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Requests it has read.
    pub requests: Arc<AtomicU64>,
    /// Connections it has accepted.
    pub accepted: Arc<AtomicU64>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TestServer {
    /// Starts a server answering with `behavior`.
    pub fn start(behavior: Behavior) -> Self {
        let requests = Arc::new(AtomicU64::new(0));
        let accepted = Arc::new(AtomicU64::new(0));
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel();
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (req, acc) = (requests.clone(), accepted.clone());
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                addr_tx.send(listener.local_addr().unwrap()).unwrap();
                let born = Instant::now();
                let serve = async {
                    loop {
                        let Ok((stream, _)) = listener.accept().await else {
                            continue;
                        };
                        acc.fetch_add(1, Ordering::Relaxed);
                        let req = req.clone();
                        tokio::spawn(serve_connection(stream, behavior, req, born));
                    }
                };
                tokio::select! {
                    _ = serve => {}
                    _ = stop_rx => {}
                }
            });
            rt.shutdown_timeout(Duration::from_millis(100));
        });
        let addr = addr_rx.recv().unwrap();
        Self {
            addr,
            requests,
            accepted,
            stop: Some(stop_tx),
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Requests read so far.
    pub fn count(&self) -> u64 {
        self.requests.load(Ordering::SeqCst)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn serve_connection(
    mut stream: TcpStream,
    behavior: Behavior,
    requests: Arc<AtomicU64>,
    born: Instant,
) {
    let _ = stream.set_nodelay(true);
    let mut buf = Vec::with_capacity(4096);
    let mut on_this_connection = 0u64;
    loop {
        // Read one request head (the tests send no bodies unless they set Content-Length).
        let head_end = loop {
            if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break pos + 4;
            }
            let mut chunk = [0u8; 4096];
            let read = match behavior {
                Behavior::IdleClose(idle) => {
                    match tokio::time::timeout(idle, stream.read(&mut chunk)).await {
                        Ok(read) => read,
                        Err(_) => return,
                    }
                }
                _ => stream.read(&mut chunk).await,
            };
            match read {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
        let body_len: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        while buf.len() < head_end + body_len {
            let mut chunk = [0u8; 4096];
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        buf.drain(..head_end + body_len);
        let before = requests.fetch_add(1, Ordering::SeqCst);
        on_this_connection += 1;

        let hello = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, World!";
        let answer: Vec<u8> = match behavior {
            Behavior::Hello | Behavior::IdleClose(_) => hello.to_vec(),
            Behavior::Delay(d) => {
                tokio::time::sleep(d).await;
                hello.to_vec()
            }
            Behavior::Stall { period, stall } => {
                let into = born.elapsed().as_nanos() % period.as_nanos();
                if into < stall.as_nanos() {
                    let left = stall.as_nanos() - into;
                    tokio::time::sleep(Duration::from_nanos(left as u64)).await;
                }
                hello.to_vec()
            }
            Behavior::Chunked => b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nHello\r\n2\r\n, \r\n6;ext=1\r\nWorld!\r\n0\r\n\r\n".to_vec(),
            Behavior::Close => b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok".to_vec(),
            Behavior::Status(code) => format!("HTTP/1.1 {code} Oops\r\nContent-Length: 4\r\n\r\noops").into_bytes(),
            Behavior::Hang => {
                std::future::pending::<()>().await;
                unreachable!()
            }
            Behavior::StopAfter(n) => {
                if before >= n {
                    std::future::pending::<()>().await;
                }
                hello.to_vec()
            }
            Behavior::ResetEvery(n) => {
                if on_this_connection % n == 0 {
                    // Linger 0 makes the close send a reset at once.
                    #[allow(deprecated)]
                    let _ = stream.set_linger(Some(Duration::ZERO));
                    return;
                }
                hello.to_vec()
            }
        };
        if stream.write_all(&answer).await.is_err() {
            return;
        }
        if matches!(behavior, Behavior::Close) {
            let _ = stream.shutdown().await;
            return;
        }
    }
}
