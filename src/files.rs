//! Files in and out of the page: a download made in the page (nothing leaves
//! the browser) and the text of a file the user picked.
//!
//! Only bytes move here; what the text means is the caller's (and the pure
//! modules') business. A file is read as text, never as HTML.

use std::cell::RefCell;
use std::rc::Rc;

use model::decimal::Shortest;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Blob, BlobPropertyBag, FileReader, HtmlAnchorElement, HtmlInputElement, Url};

/// The largest file read (profiles, later recordings are streamed).
pub const MAX_READ_BYTES: f64 = 16.0 * 1024.0 * 1024.0;

/// Offers `text` as a download named `filename`.
pub fn download(filename: &str, mime: &str, text: &str) -> Result<(), String> {
    let fail = |_| format!("the browser refused to make the file {filename}");
    let parts = js_sys::Array::of1(&JsValue::from_str(text));
    let bag = BlobPropertyBag::new();
    bag.set_type(mime);
    let blob = Blob::new_with_str_sequence_and_options(&parts, &bag).map_err(fail)?;
    download_blob(filename, &blob)
}

/// Offers `blob` as a download named `filename`.
pub fn download_blob(filename: &str, blob: &Blob) -> Result<(), String> {
    let fail = |_| format!("the browser refused to make the file {filename}");
    let url = Url::create_object_url_with_blob(blob).map_err(fail)?;
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or("no document")?;
    let a: HtmlAnchorElement = document
        .create_element("a")
        .map_err(fail)?
        .dyn_into()
        .map_err(|_| "no anchor element".to_string())?;
    a.set_href(&url);
    a.set_download(filename);
    a.click();
    // The click has started the download; the object URL can go.
    let _ = Url::revoke_object_url(&url);
    Ok(())
}

/// Reads the first file picked in `input` as UTF-8 text and calls `done`
/// with it (or with why it could not be read). Files over
/// [`MAX_READ_BYTES`] are refused before reading.
pub fn read_picked_file(
    input: &HtmlInputElement,
    done: impl FnOnce(Result<String, String>) + 'static,
) {
    let Some(file) = input.files().and_then(|f| f.get(0)) else {
        done(Err("no file was picked".into()));
        return;
    };
    if file.size() > MAX_READ_BYTES {
        done(Err(format!(
            "{} is {} bytes; files over {} bytes are not read",
            file.name(),
            Shortest(file.size()),
            Shortest(MAX_READ_BYTES)
        )));
        return;
    }
    let Ok(reader) = FileReader::new() else {
        done(Err("this browser cannot read files".into()));
        return;
    };
    // The reader and its handler live until the load ends, then both go:
    // the handler takes itself out of this cell when it runs.
    type Handler = Closure<dyn FnMut(web_sys::ProgressEvent)>;
    let slot: Rc<RefCell<Option<Handler>>> = Rc::new(RefCell::new(None));
    let done = RefCell::new(Some(done));
    let name = file.name();
    let reader2 = reader.clone();
    let slot2 = Rc::clone(&slot);
    let handler = Closure::<dyn FnMut(web_sys::ProgressEvent)>::new(move |_| {
        let result = match reader2.result().ok().and_then(|v| v.as_string()) {
            Some(text) => Ok(text),
            None => Err(format!("{name} could not be read as text")),
        };
        reader2.set_onloadend(None);
        if let Some(f) = done.borrow_mut().take() {
            f(result);
        }
        // Dropped after this call returns (wasm-bindgen defers it).
        drop(slot2.borrow_mut().take());
    });
    reader.set_onloadend(Some(handler.as_ref().unchecked_ref()));
    *slot.borrow_mut() = Some(handler);
    if reader.read_as_text(&file).is_err() {
        reader.set_onloadend(None);
        drop(slot.borrow_mut().take());
    }
}

thread_local! {
    /// One handler for every refused clipboard write, made once for the page.
    static IGNORE: Closure<dyn FnMut(JsValue)> =
        Closure::new(|_: JsValue| {});
}

/// Puts `text` on the clipboard where the browser allows it (the link is
/// also shown in the form, for browsers or pages that do not).
pub fn copy_to_clipboard(text: &str) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let clipboard = js_sys::Reflect::get(&window.navigator(), &"clipboard".into()).ok();
    let Some(clipboard) = clipboard.filter(|c| !c.is_undefined() && !c.is_null()) else {
        return;
    };
    let write = js_sys::Reflect::get(&clipboard, &"writeText".into())
        .ok()
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok());
    if let Some(write) = write {
        // A refusal (no permission) only means the shown link must be copied by hand.
        if let Ok(p) = write.call1(&clipboard, &text.into()) {
            if let Ok(p) = p.dyn_into::<js_sys::Promise>() {
                IGNORE.with(|ignore| {
                    let _ = p.catch(ignore);
                });
            }
        }
    }
}
