//! A WebSocket that offers the `mqtt` subprotocol, speaks binary frames, and owns
//! its event closures.
//!
//! The socket normally lives in a dedicated worker (`public/ws-worker.js`): a
//! broker like mosquitto sends each MQTT packet as its own frame, and the
//! browser's cost per frame (IPC, an event, an `ArrayBuffer`) then lands on the
//! worker's thread, while the page's main thread gets the bytes of many frames
//! per message and keeps rendering under a flood. The worker is a relay only
//! and keeps the order of events. If a worker cannot be created, the socket is
//! opened on the main thread instead; both report the same [`TransportEvent`]s.
//!
//! The closures live in the struct and are detached and the socket closed on
//! drop (the shape of gloo-net's `WebSocket`), so reconnecting a thousand times
//! leaves nothing behind: no `.forget()` anywhere.

use std::cell::Cell;
use std::rc::Rc;

use js_sys::{Array, ArrayBuffer, Object, Reflect, Uint8Array};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{BinaryType, CloseEvent, Event, MessageEvent, WebSocket, Worker};

/// The worker script, served from the page's origin (CSP: `script-src 'self'`).
const WORKER_URL: &str = "/public/ws-worker.js";

thread_local! {
    /// Set when a worker failed before it said anything (its script did not
    /// load, e.g. the page is served under another path): later sockets are
    /// opened on the main thread instead.
    static WORKER_UNUSABLE: Cell<bool> = const { Cell::new(false) };
}

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
    backend: Backend,
}

enum Backend {
    Worker(WorkerSocket),
    Direct(DirectSocket),
}

impl WsTransport {
    /// Opens `url` offering subprotocol `mqtt`; every event goes to `handler`.
    ///
    /// Returns the browser's error as text when the URL is refused outright
    /// (bad syntax, or a `ws://` URL from an `https://` page). With the worker,
    /// such a refusal arrives instead as a `Closed` event with code 1006 and
    /// the browser's text as the reason, which the supervisor treats alike.
    pub fn open(url: &str, handler: impl Fn(TransportEvent) + 'static) -> Result<Self, String> {
        let handler: Handler = Rc::new(handler);
        let worker = if WORKER_UNUSABLE.with(Cell::get) {
            None
        } else {
            WorkerSocket::open(url, handler.clone())
        };
        let backend = match worker {
            Some(w) => Backend::Worker(w),
            None => Backend::Direct(DirectSocket::open(url, handler)?),
        };
        Ok(Self { backend })
    }

    /// Writes one binary frame. A socket that is not open refuses with a reason.
    pub fn send(&self, bytes: &[u8]) -> Result<(), String> {
        match &self.backend {
            Backend::Worker(w) => w.send(bytes),
            Backend::Direct(d) => d.send(bytes),
        }
    }
}

/// The socket in `public/ws-worker.js`, driven by messages.
struct WorkerSocket {
    worker: Worker,
    /// Between the worker's `open` and `close` events.
    open: Rc<Cell<bool>>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_error: Closure<dyn FnMut(Event)>,
}

impl WorkerSocket {
    /// Starts the worker and asks it to open `url`; `None` if no worker can
    /// be created here.
    fn open(url: &str, handler: Handler) -> Option<Self> {
        let worker = Worker::new(WORKER_URL).ok()?;
        let open = Rc::new(Cell::new(false));
        let heard = Rc::new(Cell::new(false));

        let h = handler.clone();
        let is_open = open.clone();
        let heard_from = heard.clone();
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            heard_from.set(true);
            let msg = e.data();
            let field = |name: &str| Reflect::get(&msg, &JsValue::from_str(name)).ok();
            let text = |name: &str| field(name).and_then(|v| v.as_string()).unwrap_or_default();
            match text("ev").as_str() {
                "data" => {
                    if let Some(t) = field("t").and_then(|t| t.as_f64()) {
                        crate::lag::observe(js_sys::Date::now() - t);
                    }
                    if let Some(buf) = field("buf").and_then(|b| b.dyn_into::<ArrayBuffer>().ok()) {
                        h(TransportEvent::Data(Uint8Array::new(&buf).to_vec()));
                    }
                }
                "open" => {
                    is_open.set(true);
                    h(TransportEvent::Open {
                        protocol: text("protocol"),
                    });
                }
                "text" => h(TransportEvent::Text(text("text"))),
                "error" => h(TransportEvent::Error),
                "close" => {
                    is_open.set(false);
                    h(TransportEvent::Closed {
                        code: field("code").and_then(|v| v.as_f64()).unwrap_or(1006.0) as u16,
                        reason: text("reason"),
                        was_clean: field("wasClean").is_some_and(|v| v.is_truthy()),
                    });
                }
                "failed" => {
                    is_open.set(false);
                    h(TransportEvent::Closed {
                        code: 1006,
                        reason: text("message"),
                        was_clean: false,
                    });
                }
                _ => {}
            }
        });
        let h = handler;
        let is_open = open.clone();
        // The script failed to load or threw: report it like a failed socket
        // (the supervisor retries), and if it never ran, retry without it.
        let on_error = Closure::<dyn FnMut(Event)>::new(move |e: Event| {
            e.prevent_default();
            if !heard.get() {
                WORKER_UNUSABLE.with(|u| u.set(true));
            }
            is_open.set(false);
            h(TransportEvent::Error);
            h(TransportEvent::Closed {
                code: 1006,
                reason: "the WebSocket worker stopped".into(),
                was_clean: false,
            });
        });
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        let msg = Object::new();
        let _ = Reflect::set(&msg, &"op".into(), &"open".into());
        let _ = Reflect::set(&msg, &"url".into(), &url.into());
        let _ = Reflect::set(&msg, &"protocol".into(), &"mqtt".into());
        if worker.post_message(&msg).is_err() {
            worker.set_onmessage(None);
            worker.set_onerror(None);
            worker.terminate();
            return None;
        }
        Some(Self {
            worker,
            open,
            _on_message: on_message,
            _on_error: on_error,
        })
    }

    fn send(&self, bytes: &[u8]) -> Result<(), String> {
        if !self.open.get() {
            return Err("the WebSocket is not open".into());
        }
        let buf = Uint8Array::from(bytes).buffer();
        let msg = Object::new();
        let _ = Reflect::set(&msg, &"op".into(), &"send".into());
        let _ = Reflect::set(&msg, &"data".into(), &buf);
        self.worker
            .post_message_with_transfer(&msg, &Array::of1(&buf))
            .map_err(js_error_text)
    }
}

impl Drop for WorkerSocket {
    fn drop(&mut self) {
        self.worker.set_onmessage(None);
        self.worker.set_onerror(None);
        if !self.open.get() {
            // Not open (yet): end the worker now, so a connection it may
            // still be about to make never happens (as closing a connecting
            // WebSocket on the main thread fails it at once).
            self.worker.terminate();
            return;
        }
        // Open: the worker closes the socket with 1000 and then ends itself.
        let msg = Object::new();
        let _ = Reflect::set(&msg, &"op".into(), &"close".into());
        if self.worker.post_message(&msg).is_err() {
            self.worker.terminate();
        }
    }
}

/// The socket on the main thread, when no worker can be created.
struct DirectSocket {
    socket: WebSocket,
    _on_open: Closure<dyn FnMut(Event)>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_close: Closure<dyn FnMut(CloseEvent)>,
    _on_error: Closure<dyn FnMut(Event)>,
}

impl DirectSocket {
    fn open(url: &str, handler: Handler) -> Result<Self, String> {
        let socket = WebSocket::new_with_str(url, "mqtt").map_err(js_error_text)?;
        socket.set_binary_type(BinaryType::Arraybuffer);

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

    fn send(&self, bytes: &[u8]) -> Result<(), String> {
        self.socket.send_with_u8_array(bytes).map_err(js_error_text)
    }
}

impl Drop for DirectSocket {
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
