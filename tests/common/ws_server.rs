//! WebSocket servers written for the tests with tungstenite (an implementation independent of
//! faceoff's own frames): an echo that answers after a known delay, and a room that drops and
//! duplicates broadcasts on purpose and counts what it did. They bind 127.0.0.1:0, one thread
//! per connection, and stop accepting on drop.

use std::collections::HashMap;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tungstenite::protocol::Role;
use tungstenite::{Message, WebSocket};

/// How a WebSocket test server behaves.
#[derive(Debug, Clone, Copy)]
pub enum WsBehavior {
    /// `/ws`: echoes every text message after this delay.
    Echo(Duration),
    /// `/ws/room`: broadcasts every message to every member, except that a message whose
    /// sequence number (second field) ends in 3 is dropped for every member and one ending in
    /// 7 is sent twice. Markers (`w ID`) pass untouched.
    FaultyRoom,
}

/// What a room server did to the members that never sent anything (the subscribers).
#[derive(Debug, Default)]
pub struct RoomCounts {
    /// Broadcasts dropped on purpose, summed over subscribers.
    pub dropped: AtomicU64,
    /// Extra copies sent on purpose, summed over subscribers.
    pub duplicated: AtomicU64,
    /// Copies sent in all (extra copies included), summed over subscribers.
    pub sent: AtomicU64,
    /// Per publisher id, the highest sequence number received.
    pub last_seq: Mutex<HashMap<u64, u64>>,
}

struct Member {
    writer: Mutex<WebSocket<TcpStream>>,
    publisher: AtomicBool,
}

/// A WebSocket test server on 127.0.0.1:0.
pub struct WsTestServer {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Text messages received, over all connections.
    pub received: Arc<AtomicU64>,
    /// Room counts (room servers only).
    pub room: Arc<RoomCounts>,
    stop: Arc<AtomicBool>,
}

impl WsTestServer {
    /// Starts a server with `behavior`.
    pub fn start(behavior: WsBehavior) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let received = Arc::new(AtomicU64::new(0));
        let room = Arc::new(RoomCounts::default());
        let stop = Arc::new(AtomicBool::new(false));
        let members: Arc<Mutex<Vec<Arc<Member>>>> = Arc::default();
        let (rx, rm, st) = (received.clone(), room.clone(), stop.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if st.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(stream) = stream else { continue };
                let (rx, rm, st, members) = (rx.clone(), rm.clone(), st.clone(), members.clone());
                std::thread::spawn(move || serve(stream, behavior, rx, rm, st, members));
            }
        });
        Self {
            addr,
            received,
            room,
            stop,
        }
    }

    /// `ws://127.0.0.1:PORT{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("ws://{}{path}", self.addr)
    }
}

impl Drop for WsTestServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
    }
}

fn serve(
    stream: TcpStream,
    behavior: WsBehavior,
    received: Arc<AtomicU64>,
    room: Arc<RoomCounts>,
    stop: Arc<AtomicBool>,
    members: Arc<Mutex<Vec<Arc<Member>>>>,
) {
    let _ = stream.set_nodelay(true);
    let Ok(writer_stream) = stream.try_clone() else {
        return;
    };
    let Ok(mut socket) = tungstenite::accept(stream) else {
        return;
    };
    let _ = socket
        .get_ref()
        .set_read_timeout(Some(Duration::from_millis(200)));
    let me = Arc::new(Member {
        writer: Mutex::new(WebSocket::from_raw_socket(
            writer_stream,
            Role::Server,
            None,
        )),
        publisher: AtomicBool::new(false),
    });
    if let WsBehavior::FaultyRoom = behavior {
        members.lock().unwrap().push(me.clone());
    }
    while !stop.load(Ordering::SeqCst) {
        let text = match socket.read() {
            Ok(Message::Text(text)) => text.to_string(),
            Ok(Message::Close(_)) => break,
            Ok(_) => continue,
            Err(tungstenite::Error::Io(e))
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                continue
            }
            Err(_) => break,
        };
        received.fetch_add(1, Ordering::SeqCst);
        match behavior {
            WsBehavior::Echo(delay) => {
                std::thread::sleep(delay);
                if me.writer.lock().unwrap().send(Message::text(text)).is_err() {
                    break;
                }
            }
            WsBehavior::FaultyRoom => {
                me.publisher.store(true, Ordering::SeqCst);
                broadcast(&text, &members, &room);
            }
        }
    }
    if let WsBehavior::FaultyRoom = behavior {
        members.lock().unwrap().retain(|m| !Arc::ptr_eq(m, &me));
    }
}

fn broadcast(text: &str, members: &Mutex<Vec<Arc<Member>>>, room: &RoomCounts) {
    let mut fields = text.split(' ');
    let publisher = fields.next().and_then(|f| f.parse::<u64>().ok());
    let seq = fields.next().and_then(|f| f.parse::<u64>().ok());
    let copies = match (publisher, seq) {
        (Some(p), Some(seq)) => {
            let mut last = room.last_seq.lock().unwrap();
            let l = last.entry(p).or_insert(seq);
            *l = (*l).max(seq);
            match seq % 10 {
                3 => 0,
                7 => 2,
                _ => 1,
            }
        }
        _ => 1,
    };
    let members: Vec<Arc<Member>> = members.lock().unwrap().clone();
    for m in members {
        let subscriber = !m.publisher.load(Ordering::SeqCst);
        if subscriber {
            match copies {
                0 => room.dropped.fetch_add(1, Ordering::SeqCst),
                2 => room.duplicated.fetch_add(1, Ordering::SeqCst),
                _ => 0,
            };
            room.sent.fetch_add(copies, Ordering::SeqCst);
        }
        let mut w = m.writer.lock().unwrap();
        for _ in 0..copies {
            let _ = w.send(Message::text(text.to_string()));
        }
    }
}
