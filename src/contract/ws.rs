//! WebSocket checks: `/ws` echoes, `/ws/room` broadcasts to every member (sender included).

use std::net::TcpStream;
use std::time::{Duration, Instant};

use tungstenite::{Message, WebSocket};

use super::Ctx;

/// Longest wait for any one message.
const READ_TIMEOUT: Duration = Duration::from_secs(5);

type Socket = WebSocket<TcpStream>;

fn connect(ctx: &Ctx<'_>, path: &str) -> Result<Socket, String> {
    let addr = ctx.addr();
    let stream = TcpStream::connect_timeout(&addr, READ_TIMEOUT)
        .map_err(|e| format!("{path}: could not connect: {e}"))?;
    let _ = stream.set_nodelay(true);
    stream
        .set_read_timeout(Some(READ_TIMEOUT))
        .and_then(|()| stream.set_write_timeout(Some(READ_TIMEOUT)))
        .map_err(|e| e.to_string())?;
    let url = format!("ws://{addr}{path}");
    let (socket, _response) = tungstenite::client(url.as_str(), stream).map_err(|e| {
        format!(
            "{path}: the WebSocket upgrade failed: {}",
            first_line(&e.to_string())
        )
    })?;
    Ok(socket)
}

/// Reads the next text message, skipping pings and pongs, within `deadline`.
fn next_text(socket: &mut Socket, deadline: Instant, path: &str) -> Result<String, String> {
    loop {
        if Instant::now() >= deadline {
            return Err(format!("{path}: no message within {READ_TIMEOUT:?}"));
        }
        match socket.read() {
            Ok(Message::Text(text)) => return Ok(text.to_string()),
            Ok(Message::Binary(_)) => return Err(format!("{path}: got a binary message")),
            Ok(Message::Close(_)) => return Err(format!("{path}: the server closed the socket")),
            Ok(_) => continue,
            Err(tungstenite::Error::Io(e))
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return Err(format!("{path}: no message within {READ_TIMEOUT:?}"))
            }
            Err(e) => return Err(format!("{path}: {e}")),
        }
    }
}

fn send(socket: &mut Socket, text: &str, path: &str) -> Result<(), String> {
    socket
        .send(Message::text(text))
        .map_err(|e| format!("{path}: could not send: {e}"))
}

fn close(mut socket: Socket) {
    let _ = socket.close(None);
    let _ = socket.flush();
}

/// `/ws` echoes every text message, in order.
pub fn echo(ctx: &Ctx<'_>) -> Result<(), String> {
    let mut socket = connect(ctx, "/ws")?;
    let big = "0123456789abcdef".repeat(1024);
    let messages = ["hello", "ünïcödé ✓ 漢字", big.as_str()];
    for message in messages {
        send(&mut socket, message, "/ws")?;
        let got = next_text(&mut socket, Instant::now() + READ_TIMEOUT, "/ws")?;
        if got != message {
            return Err(format!(
                "/ws: sent a {}-byte message, got back {:?}",
                message.len(),
                cut(&got)
            ));
        }
    }
    close(socket);
    Ok(())
}

/// Every message sent on `/ws/room` reaches every member, the sender included.
pub fn room(ctx: &Ctx<'_>) -> Result<(), String> {
    const MEMBERS: usize = 3;
    let path = "/ws/room";
    let mut sockets = (0..MEMBERS)
        .map(|_| connect(ctx, path))
        .collect::<Result<Vec<_>, _>>()?;
    // Servers may register a member just after the upgrade answer; give them a moment.
    std::thread::sleep(Duration::from_millis(100));
    let nonce = fastrand::u64(..);
    let sent: Vec<String> = (0..MEMBERS)
        .map(|k| format!("member {k} says hi ({nonce:x})"))
        .collect();
    for (socket, text) in sockets.iter_mut().zip(&sent) {
        send(socket, text, path)?;
    }
    for (k, socket) in sockets.iter_mut().enumerate() {
        let deadline = Instant::now() + READ_TIMEOUT;
        let mut got = Vec::new();
        while got.len() < MEMBERS {
            match next_text(socket, deadline, path) {
                Ok(text) => got.push(text),
                Err(e) => {
                    return Err(format!(
                        "member {k} received {} of the {MEMBERS} messages: {e}",
                        got.len()
                    ))
                }
            }
        }
        let mut sorted = got.clone();
        sorted.sort();
        if sorted != sent {
            return Err(format!(
                "member {k} received {got:?}, expected each of {sent:?} once"
            ));
        }
    }
    for socket in sockets {
        close(socket);
    }
    Ok(())
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default()
}

fn cut(text: &str) -> String {
    text.chars().take(60).collect()
}
