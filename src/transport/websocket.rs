//! A WebSocket that offers the `mqtt` subprotocol, speaks binary frames, and owns
//! its event closures.
//!
//! The closures live in the struct and are detached and the socket closed on
//! drop (the shape of gloo-net's `WebSocket`), so reconnecting a thousand times
//! leaves nothing behind: no `.forget()` anywhere.

use std::rc::Rc;

use js_sys::{ArrayBuffer, Uint8Array};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{BinaryType, CloseEvent, Event, MessageEvent, WebSocket};

/// What the socket reports to its owner.
#[derive(Debug, Clone, PartialEq)]
pub enum TransportEvent {
    /// The socket opened; `protocol` is the subprotocol the server accepted
    /// (empty when it accepted none).
    Open { protocol: String },
    /// A binary frame's bytes.
    Data(Vec<u8>),
    /// A text frame: MQTT never uses these, so the driver treats it as an error.
    Text(String),
    /// The socket closed (after an error, the browser reports the close too).
    Closed {
        code: u16,
        reason: String,
        was_clean: bool,
    },
    /// The browser's opaque error event (it never says why, by design).
    Error,
}

type Handler = Rc<dyn Fn(TransportEvent)>;

/// An open (or opening) WebSocket with its listeners attached.
pub struct WsTransport {
    socket: WebSocket,
    _on_open: Closure<dyn FnMut(Event)>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_close: Closure<dyn FnMut(CloseEvent)>,
    _on_error: Closure<dyn FnMut(Event)>,
}

impl WsTransport {
    /// Opens `url` offering subprotocol `mqtt`; every event goes to `handler`.
    ///
    /// Returns the browser's error as text when the URL is refused outright
    /// (bad syntax, or a `ws://` URL from an `https://` page).
    pub fn open(url: &str, handler: impl Fn(TransportEvent) + 'static) -> Result<Self, String> {
        let socket = WebSocket::new_with_str(url, "mqtt").map_err(js_error_text)?;
        socket.set_binary_type(BinaryType::Arraybuffer);
        let handler: Handler = Rc::new(handler);

        let h = handler.clone();
        let sock = socket.clone();
        let on_open = Closure::<dyn FnMut(Event)>::new(move |_: Event| {
            h(TransportEvent::Open {
                protocol: sock.protocol(),
            })
        });
        let h = handler.clone();
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            let data = e.data();
            if let Some(buf) = data.dyn_ref::<ArrayBuffer>() {
                h(TransportEvent::Data(Uint8Array::new(buf).to_vec()));
            } else if let Some(text) = data.as_string() {
                h(TransportEvent::Text(text));
            }
        });
        let h = handler.clone();
        let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |e: CloseEvent| {
            h(TransportEvent::Closed {
                code: e.code(),
                reason: e.reason(),
                was_clean: e.was_clean(),
            })
        });
        let h = handler;
        let on_error = Closure::<dyn FnMut(Event)>::new(move |_: Event| h(TransportEvent::Error));

        socket.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        socket.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        Ok(Self {
            socket,
            _on_open: on_open,
            _on_message: on_message,
            _on_close: on_close,
            _on_error: on_error,
        })
    }

    /// Writes one binary frame. A socket that is not open refuses with a reason.
    pub fn send(&self, bytes: &[u8]) -> Result<(), String> {
        self.socket.send_with_u8_array(bytes).map_err(js_error_text)
    }

    /// Bytes queued by the browser but not yet on the wire (backpressure signal).
    pub fn buffered_amount(&self) -> u32 {
        self.socket.buffered_amount()
    }
}

impl Drop for WsTransport {
    fn drop(&mut self) {
        self.socket.set_onopen(None);
        self.socket.set_onmessage(None);
        self.socket.set_onclose(None);
        self.socket.set_onerror(None);
        // 1000 = normal closure; closing an already closed socket is a no-op.
        let _ = self.socket.close_with_code(1000);
    }
}

fn js_error_text(e: wasm_bindgen::JsValue) -> String {
    if let Some(err) = e.dyn_ref::<js_sys::Error>() {
        String::from(err.message())
    } else {
        e.as_string()
            .unwrap_or_else(|| "the browser refused the WebSocket".into())
    }
}
