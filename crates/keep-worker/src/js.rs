//! Small JS helpers for the worker: reading message fields, posting
//! messages with transferred buffers, and timers as futures.
//!
//! No state lives here; nothing here may panic (a failed post or timer is
//! reported or ignored, never unwrapped).

use js_sys::{Array, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::DedicatedWorkerGlobalScope;

/// This worker's global scope.
pub fn scope() -> DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

/// A field of a message object.
pub fn get(obj: &JsValue, key: &str) -> JsValue {
    Reflect::get(obj, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// A string field ("" when absent or not a string).
pub fn get_str(obj: &JsValue, key: &str) -> String {
    get(obj, key).as_string().unwrap_or_default()
}

/// A message object being built.
pub struct Msg(Object);

impl Msg {
    /// `{t}`.
    pub fn new(t: &str) -> Msg {
        Msg(Object::new()).set("t", &JsValue::from_str(t))
    }

    /// Sets a field.
    pub fn set(self, key: &str, value: &JsValue) -> Msg {
        // Setting a property on a plain new object cannot fail.
        let _ = Reflect::set(&self.0, &JsValue::from_str(key), value);
        self
    }

    /// Sets a number field.
    pub fn num(self, key: &str, n: f64) -> Msg {
        self.set(key, &JsValue::from_f64(n))
    }

    /// Posts it to the page.
    pub fn post(self) {
        let _ = scope().post_message(&self.0);
    }

    /// Posts it with `bytes` as field `b` (an ArrayBuffer, transferred).
    pub fn post_with_bytes(self, bytes: &[u8]) {
        let array = Uint8Array::new_with_length(len_u32(bytes.len()));
        array.copy_from(bytes);
        let buffer = array.buffer();
        let msg = self.set("b", &buffer);
        let _ = scope().post_message_with_transfer(&msg.0, &Array::of1(&buffer));
    }
}

/// A length as u32 (wasm32 memory is at most 4 GiB, so it fits).
pub fn len_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Posts `{t: "error", id, message}`.
pub fn post_error(id: &JsValue, message: &str) {
    let mut m = Msg::new("error").set("message", &JsValue::from_str(message));
    if !id.is_undefined() {
        m = m.set("id", id);
    }
    m.post();
}

/// A JS error or DOMException as a sentence.
pub fn describe(e: &JsValue) -> String {
    if let Some(s) = e.as_string() {
        return s;
    }
    let message = get_str(e, "message");
    let name = get_str(e, "name");
    match (name.is_empty(), message.is_empty()) {
        (false, false) => format!("{name}: {message}"),
        (true, false) => message,
        (false, true) => name,
        (true, true) => "an unknown error".into(),
    }
}

/// Resolves after `ms` milliseconds (at least one turn of the event loop,
/// so messages that arrived meanwhile, like `cancel`, are handled).
pub async fn sleep(ms: f64) {
    let ms = if ms.is_finite() {
        ms.clamp(0.0, 2_000_000_000.0)
    } else {
        0.0
    };
    let promise = Promise::new(&mut |resolve, _| {
        let _ = scope().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms as i32);
    });
    let _ = JsFuture::from(promise).await;
}

/// Now, ms since the Unix epoch.
pub fn now() -> f64 {
    js_sys::Date::now()
}
