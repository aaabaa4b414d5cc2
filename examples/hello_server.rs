//! A small, fast HTTP/1.1 server on one thread, used as the target when faceoff's load engine
//! is compared with its peers (bench/engine-vs-peers.sh).
//!
//! Usage: hello_server [PORT]   (listens on 127.0.0.1; PORT 0 or absent picks a free port and
//! prints it). Answers every request with `Hello, World!`.

use std::convert::Infallible;

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

fn main() -> std::io::Result<()> {
    let port: u16 = std::env::args()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = TcpListener::bind(("127.0.0.1", port)).await?;
        println!("{}", listener.local_addr()?.port());
        let local = tokio::task::LocalSet::new();
        local
            .run_until(async move {
                loop {
                    let (stream, _) = listener.accept().await?;
                    let _ = stream.set_nodelay(true);
                    tokio::task::spawn_local(async move {
                        let service = service_fn(|_req: Request<hyper::body::Incoming>| async {
                            Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(
                                b"Hello, World!",
                            ))))
                        });
                        let _ = http1::Builder::new()
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    });
                }
            })
            .await
    })
}
