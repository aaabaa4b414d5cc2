//! WebSocket on the wire (RFC 6455), written by hand for the load path: the upgrade request
//! serialized once per connection, the `101` answer checked against the key it was sent with,
//! masked client frames encoded into a reused buffer, and server frames decoded in place from
//! the read buffer without copying their payload.
//!
//! A benchmark in bench/README.md ("WebSocket") compares this with tungstenite's frame codec;
//! tungstenite is still used for the key and accept derivation (SHA-1 + base64), which happens
//! once per connection.

use std::fmt::Write as _;

/// Largest frame payload faceoff accepts from a server: 16 MiB.
pub const MAX_PAYLOAD: u64 = 16 << 20;
/// Largest upgrade answer head faceoff reads.
pub const MAX_HEAD_BYTES: usize = 16 * 1024;

/// Frame opcodes (RFC 6455 section 5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opcode {
    /// A continuation of a fragmented message.
    Continuation,
    /// A text message (or its first fragment).
    Text,
    /// A binary message (or its first fragment).
    Binary,
    /// The peer closes.
    Close,
    /// A ping, to be answered with a pong carrying the same payload.
    Ping,
    /// A pong.
    Pong,
}

impl Opcode {
    fn of(bits: u8) -> Option<Self> {
        Some(match bits {
            0x0 => Opcode::Continuation,
            0x1 => Opcode::Text,
            0x2 => Opcode::Binary,
            0x8 => Opcode::Close,
            0x9 => Opcode::Ping,
            0xA => Opcode::Pong,
            _ => return None,
        })
    }

    fn bits(self) -> u8 {
        match self {
            Opcode::Continuation => 0x0,
            Opcode::Text => 0x1,
            Opcode::Binary => 0x2,
            Opcode::Close => 0x8,
            Opcode::Ping => 0x9,
            Opcode::Pong => 0xA,
        }
    }
}

/// Why bytes from the server are not a WebSocket stream faceoff accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameError {
    /// Reserved bits set, or an unknown opcode.
    Reserved,
    /// The server masked its frame (servers must not).
    Masked,
    /// A payload larger than [`MAX_PAYLOAD`], or a control frame over 125 bytes.
    TooLarge,
}

/// One decoded frame header: where its payload lies in the buffer it was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame {
    /// The last fragment of its message.
    pub fin: bool,
    /// Its opcode.
    pub opcode: Opcode,
    /// Offset of the payload from the start of the frame.
    pub payload_at: usize,
    /// Payload length.
    pub payload_len: usize,
}

impl Frame {
    /// Bytes of the whole frame, header included.
    pub fn total_len(&self) -> usize {
        self.payload_at + self.payload_len
    }
}

/// Decodes the frame at the start of `buf`: `Ok(None)` when more bytes are needed.
#[inline]
pub fn decode(buf: &[u8]) -> Result<Option<Frame>, FrameError> {
    if buf.len() < 2 {
        return Ok(None);
    }
    let (b0, b1) = (buf[0], buf[1]);
    if b0 & 0x70 != 0 {
        return Err(FrameError::Reserved);
    }
    let opcode = Opcode::of(b0 & 0x0F).ok_or(FrameError::Reserved)?;
    if b1 & 0x80 != 0 {
        return Err(FrameError::Masked);
    }
    let (len, at) = match b1 & 0x7F {
        126 => {
            if buf.len() < 4 {
                return Ok(None);
            }
            (u64::from(u16::from_be_bytes([buf[2], buf[3]])), 4)
        }
        127 => {
            if buf.len() < 10 {
                return Ok(None);
            }
            let mut b = [0u8; 8];
            b.copy_from_slice(&buf[2..10]);
            (u64::from_be_bytes(b), 10)
        }
        n => (u64::from(n), 2),
    };
    let control = matches!(opcode, Opcode::Close | Opcode::Ping | Opcode::Pong);
    if len > MAX_PAYLOAD || (control && len > 125) {
        return Err(FrameError::TooLarge);
    }
    let frame = Frame {
        fin: b0 & 0x80 != 0,
        opcode,
        payload_at: at,
        payload_len: len as usize,
    };
    Ok((buf.len() >= frame.total_len()).then_some(frame))
}

/// Appends one complete client frame (FIN set, masked with `mask`) to `out`.
#[inline]
pub fn encode(out: &mut Vec<u8>, opcode: Opcode, payload: &[u8], mask: [u8; 4]) {
    out.push(0x80 | opcode.bits());
    let len = payload.len();
    if len < 126 {
        out.push(0x80 | len as u8);
    } else if len <= usize::from(u16::MAX) {
        out.push(0x80 | 126);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(0x80 | 127);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
    out.extend_from_slice(&mask);
    let at = out.len();
    out.extend_from_slice(payload);
    apply_mask(&mut out[at..], mask);
}

/// XORs `data` with the 4-byte `mask`, four bytes at a time.
#[inline]
pub fn apply_mask(data: &mut [u8], mask: [u8; 4]) {
    let word = u32::from_ne_bytes(mask);
    let mut chunks = data.chunks_exact_mut(4);
    for chunk in &mut chunks {
        let v = u32::from_ne_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]) ^ word;
        chunk.copy_from_slice(&v.to_ne_bytes());
    }
    for (i, b) in chunks.into_remainder().iter_mut().enumerate() {
        *b ^= mask[i];
    }
}

/// A fresh masking key (RFC 6455 asks for one per frame, unpredictable to the network).
#[inline]
pub fn new_mask() -> [u8; 4] {
    fastrand::u32(..).to_ne_bytes()
}

/// The upgrade request of one connection and the `Sec-WebSocket-Accept` value its answer must
/// carry.
pub struct Upgrade {
    /// The exact request bytes.
    pub request: Vec<u8>,
    /// The accept value derived from this request's key.
    pub accept: String,
}

/// Serializes the upgrade request for `path` on `host` with a fresh key.
pub fn upgrade(path: &str, host: &str) -> Upgrade {
    let key = tungstenite::handshake::client::generate_key();
    let accept = tungstenite::handshake::derive_accept_key(key.as_bytes());
    let mut head = String::with_capacity(256);
    let _ = write!(
        head,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nUser-Agent: faceoff/{}\r\n\r\n",
        env!("CARGO_PKG_VERSION")
    );
    Upgrade {
        request: head.into_bytes(),
        accept,
    }
}

/// Why an upgrade answer was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpgradeError {
    /// The head is not HTTP, or too large.
    BadHead,
    /// The server answered with another status (e.g. 404 for a path it does not serve).
    Status(u16),
    /// `Sec-WebSocket-Accept` is missing or does not match the key sent.
    BadAccept,
}

/// Checks the upgrade answer at the start of `buf`: `Ok(None)` when the head is not complete
/// yet, else the number of head bytes (any bytes after them are frames).
pub fn check_answer(buf: &[u8], accept: &str) -> Result<Option<usize>, UpgradeError> {
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut response = httparse::Response::new(&mut headers);
    let used = match response.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) if buf.len() < MAX_HEAD_BYTES => return Ok(None),
        _ => return Err(UpgradeError::BadHead),
    };
    let status = response.code.unwrap_or(0);
    if status != 101 {
        return Err(UpgradeError::Status(status));
    }
    let good = response.headers.iter().any(|h| {
        h.name.eq_ignore_ascii_case("sec-websocket-accept") && h.value == accept.as_bytes()
    });
    if !good {
        return Err(UpgradeError::BadAccept);
    }
    Ok(Some(used))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unmask_client(frame: &[u8]) -> (u8, Vec<u8>) {
        assert_ne!(frame[1] & 0x80, 0, "client frames are masked");
        let (len, at) = match frame[1] & 0x7F {
            126 => (u16::from_be_bytes([frame[2], frame[3]]) as usize, 4),
            127 => (
                u64::from_be_bytes(frame[2..10].try_into().unwrap()) as usize,
                10,
            ),
            n => (n as usize, 2),
        };
        let mask: [u8; 4] = frame[at..at + 4].try_into().unwrap();
        let mut payload = frame[at + 4..at + 4 + len].to_vec();
        apply_mask(&mut payload, mask);
        (frame[0], payload)
    }

    #[test]
    fn client_frames_are_masked_and_round_trip() {
        for len in [0usize, 1, 5, 125, 126, 1000, 65_535, 65_536, 70_000] {
            let payload: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let mut out = Vec::new();
            encode(&mut out, Opcode::Text, &payload, [1, 2, 3, 4]);
            let (b0, got) = unmask_client(&out);
            assert_eq!(b0, 0x81);
            assert_eq!(got, payload, "length {len}");
        }
    }

    #[test]
    fn server_frames_decode_in_place() {
        let mut buf = vec![0x81, 5];
        buf.extend_from_slice(b"hello");
        let f = decode(&buf).unwrap().unwrap();
        assert_eq!(
            (f.fin, f.opcode, f.payload_at, f.payload_len),
            (true, Opcode::Text, 2, 5)
        );
        assert_eq!(decode(&buf[..4]).unwrap(), None);
        let mut long = vec![0x02, 126, 0x01, 0x00];
        long.extend(std::iter::repeat_n(7u8, 256));
        let f = decode(&long).unwrap().unwrap();
        assert_eq!(
            (f.fin, f.opcode, f.payload_len, f.total_len()),
            (false, Opcode::Binary, 256, 260)
        );
        assert_eq!(decode(&[0x81, 0x85, 0, 0, 0, 0]), Err(FrameError::Masked));
        assert_eq!(decode(&[0xC1, 0]), Err(FrameError::Reserved));
        assert_eq!(decode(&[0x83, 0]), Err(FrameError::Reserved));
        assert_eq!(decode(&[0x89, 126, 0, 200]), Err(FrameError::TooLarge));
    }

    #[test]
    fn the_answer_must_match_the_key() {
        let up = upgrade("/ws", "127.0.0.1:1");
        let text = String::from_utf8(up.request.clone()).unwrap();
        assert!(text.starts_with("GET /ws HTTP/1.1\r\nHost: 127.0.0.1:1\r\n"));
        let good = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: {}\r\n\r\n\x01\x02hi",
            up.accept
        );
        let head = good.len() - 4;
        assert_eq!(check_answer(good.as_bytes(), &up.accept), Ok(Some(head)));
        assert_eq!(check_answer(&good.as_bytes()[..20], &up.accept), Ok(None));
        let wrong = good.replace(&up.accept, "bm90IHRoZSBrZXk=");
        assert_eq!(
            check_answer(wrong.as_bytes(), &up.accept),
            Err(UpgradeError::BadAccept)
        );
        let missing = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
        assert_eq!(
            check_answer(missing.as_bytes(), &up.accept),
            Err(UpgradeError::Status(404))
        );
    }
}
