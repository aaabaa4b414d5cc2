//! WebSockets: `/ws` echoes, `/ws/room` broadcasts each text message to every member.

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use tokio::sync::broadcast;
use tokio::sync::broadcast::error::RecvError;

use crate::app::AppState;

/// `GET /ws`.
pub async fn echo(upgrade: WebSocketUpgrade) -> Response {
    upgrade.on_upgrade(echo_messages)
}

/// `GET /ws/room`.
pub async fn room(State(state): State<AppState>, upgrade: WebSocketUpgrade) -> Response {
    upgrade.on_upgrade(move |socket| join_room(socket, state.room))
}

/// Sends every data message back. A close frame is not a reason to stop reading: the next read
/// flushes the close reply and then ends the stream.
async fn echo_messages(mut socket: WebSocket) {
    while let Some(Ok(message)) = socket.recv().await {
        let is_data = matches!(message, Message::Text(_) | Message::Binary(_));
        if is_data && socket.send(message).await.is_err() {
            break;
        }
    }
}

/// One member: what it says goes to the channel, what the channel carries goes to it (its own
/// messages included).
async fn join_room(mut socket: WebSocket, room: broadcast::Sender<axum::extract::ws::Utf8Bytes>) {
    let mut inbox = room.subscribe();
    loop {
        tokio::select! {
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    // Fails only when nobody listens, and this member always does.
                    let _ = room.send(text);
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => break,
            },
            delivered = inbox.recv() => match delivered {
                Ok(text) => {
                    if socket.send(Message::Text(text)).await.is_err() {
                        break;
                    }
                }
                // Too slow to keep up: skip what was overwritten and go on with the rest.
                Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => break,
            },
        }
    }
}
