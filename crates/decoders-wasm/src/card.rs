//! The module's part of the Decoders card (`src/components/decoders.rs`
//! has the markup): the schema files' line and the message type list, the
//! Sparkplug B node list with its Request rebirth buttons, and the schema
//! files themselves, kept in localStorage (`mqdash.schemas`, names and hex)
//! so a reload compiles them again when the module loads.
//!
//! Everything is written as text (`textContent`, attributes), never HTML:
//! names come from uploaded files and from the network.

use std::fmt::Write as _;

use web_sys::{Document, Element};

/// localStorage: the schema files, `[{"name":…,"hex":…}]`.
pub const SCHEMAS_KEY: &str = "mqdash.schemas";
/// The most schema bytes kept in all.
pub const MAX_SCHEMA_BYTES: usize = 2 * 1024 * 1024;

fn document() -> Option<Document> {
    web_sys::window()?.document()
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

fn set_text(id: &str, text: &str) {
    if let Some(e) = document().and_then(|d| d.get_element_by_id(id)) {
        e.set_text_content(Some(text));
    }
}

fn text_el(doc: &Document, tag: &str, text: &str) -> Option<Element> {
    let e = doc.create_element(tag).ok()?;
    e.set_text_content(Some(text));
    Some(e)
}

/// The stored schema files.
pub fn stored() -> Vec<(String, Vec<u8>)> {
    let Some(text) = storage().and_then(|s| s.get_item(SCHEMAS_KEY).ok().flatten()) else {
        return Vec::new();
    };
    decoders_wasm::schema_files_from_json(&text)
}

fn store(files: &[(String, Vec<u8>)]) -> Result<(), String> {
    let text = decoders_wasm::schema_files_to_json(files);
    storage()
        .and_then(|s| s.set_item(SCHEMAS_KEY, &text).ok())
        .ok_or_else(|| {
            "the schemas could not be kept for the next visit (storage full or blocked)".into()
        })
}

/// Compiles the stored schema files and draws what they hold; the
/// sentence says what went wrong, if anything.
pub fn restore() -> Option<String> {
    compile_and_draw(&stored())
}

fn compile_and_draw(files: &[(String, Vec<u8>)]) -> Option<String> {
    let (types, problem) = if files.is_empty() {
        decoders_wasm::clear_schemas();
        (Vec::new(), None)
    } else {
        let answer = decoders_wasm::set_schemas(files);
        match answer.split_at_checked(1) {
            Some(("o", t)) => (t.lines().map(str::to_owned).collect(), None),
            Some((_, e)) => (
                Vec::new(),
                Some(format!("The schema could not be read: {e}")),
            ),
            None => (Vec::new(), None),
        }
    };
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    let line = if names.is_empty() {
        "No Protobuf schema loaded.".to_owned()
    } else {
        format!(
            "Protobuf schema: {} ({} message types).",
            names.join(", "),
            types.len()
        )
    };
    set_text("dec-schemas", &line);
    if let Some(doc) = document() {
        if let Some(b) = doc.get_element_by_id("dec-schema-clear") {
            let _ = b.toggle_attribute_with_force("disabled", names.is_empty());
        }
        if let Some(list) = doc.get_element_by_id("dec-types") {
            list.set_text_content(None);
            for t in &types {
                if let Ok(o) = doc.create_element("option") {
                    let _ = o.set_attribute("value", t);
                    let _ = list.append_child(&o);
                }
            }
        }
    }
    problem
}

/// Adds the picked files to the schema set (a file of the same name is
/// replaced), keeps them and compiles them; resolves to a sentence for
/// the card (empty when all went well).
pub async fn add_files(files: js_sys::Array) -> String {
    use wasm_bindgen::JsCast;
    let mut read = Vec::new();
    for f in files.iter() {
        let Ok(f) = f.dyn_into::<web_sys::File>() else {
            continue;
        };
        let name = f.name();
        match wasm_bindgen_futures::JsFuture::from(f.array_buffer()).await {
            Ok(buf) => read.push((name, js_sys::Uint8Array::new(&buf).to_vec())),
            Err(_) => return format!("{name} could not be read"),
        }
    }
    let mut all = stored();
    for (name, bytes) in read {
        all.retain(|(n, _)| *n != name);
        all.push((name, bytes));
    }
    let total: usize = all.iter().map(|(_, b)| b.len()).sum();
    if total > MAX_SCHEMA_BYTES {
        return format!(
            "Schemas over {} KB in all are not kept; forget the loaded ones first.",
            MAX_SCHEMA_BYTES / 1024
        );
    }
    let kept = store(&all);
    let problem = compile_and_draw(&all);
    match (problem, kept) {
        (Some(p), _) => p,
        (None, Err(e)) => e,
        (None, Ok(())) => String::new(),
    }
}

/// Forgets every schema file.
pub fn forget() {
    if let Some(s) = storage() {
        let _ = s.remove_item(SCHEMAS_KEY);
    }
    compile_and_draw(&[]);
}

/// Draws the Sparkplug B node list into `#dec-nodes`.
pub fn draw_nodes(nodes_json: &str) {
    let Some(doc) = document() else { return };
    let Some(ul) = doc.get_element_by_id("dec-nodes") else {
        return;
    };
    let Ok(v) = serde_json::from_str::<serde_json::Value>(nodes_json) else {
        return;
    };
    ul.set_text_content(None);
    let word = |on: Option<bool>| match on {
        Some(true) => "online",
        Some(false) => "offline",
        None => "no birth seen",
    };
    let text =
        |v: &serde_json::Value, k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("").to_owned();
    let mut any = false;
    for n in v
        .get("nodes")
        .and_then(|x| x.as_array())
        .into_iter()
        .flatten()
    {
        any = true;
        let online = n.get("online").and_then(serde_json::Value::as_bool);
        let (g, e) = (text(n, "group"), text(n, "edge_node"));
        let mut line = format!("{g}/{e}: {}", word(online));
        if let Some(seq) = n.get("last_seq").and_then(serde_json::Value::as_u64) {
            let _ = write!(line, ", seq {seq}");
        }
        for (k, what) in [("gaps", "sequence gap"), ("out_of_order", "out of order")] {
            if let Some(c) = n
                .get(k)
                .and_then(serde_json::Value::as_u64)
                .filter(|c| *c > 0)
            {
                let _ = write!(line, ", {c} {what}");
            }
        }
        let Some(li) = text_el(&doc, "li", &line) else {
            continue;
        };
        let _ = li.set_attribute(
            "class",
            if online == Some(true) {
                "node online"
            } else {
                "node offline"
            },
        );
        if let Some(b) = text_el(&doc, "button", "Request rebirth") {
            let _ = b.set_attribute("type", "button");
            let _ = b.set_attribute("class", "small");
            let _ = b.set_attribute("aria-label", &format!("Request rebirth of {g}/{e}"));
            let _ = b.set_attribute("data-group", &g);
            let _ = b.set_attribute("data-node", &e);
            let _ = li.append_child(&b);
        }
        let devices = n
            .get("devices")
            .and_then(|d| d.as_array())
            .filter(|d| !d.is_empty());
        if let Some(devices) = devices {
            if let Ok(sub) = doc.create_element("ul") {
                let _ = sub.set_attribute("aria-label", &format!("Devices of {g}/{e}"));
                for d in devices {
                    let on = d.get("online").and_then(serde_json::Value::as_bool);
                    let t = format!("{}: {}", text(d, "device"), word(on));
                    if let Some(dl) = text_el(&doc, "li", &t) {
                        let _ = dl.set_attribute(
                            "class",
                            if on == Some(true) {
                                "device online"
                            } else {
                                "device offline"
                            },
                        );
                        let _ = sub.append_child(&dl);
                    }
                }
                let _ = li.append_child(&sub);
            }
        }
        let _ = ul.append_child(&li);
    }
    for h in v
        .get("hosts")
        .and_then(|x| x.as_array())
        .into_iter()
        .flatten()
    {
        any = true;
        let on = h.get("online").and_then(serde_json::Value::as_bool);
        if let Some(li) = text_el(
            &doc,
            "li",
            &format!("host {}: {}", text(h, "host"), word(on)),
        ) {
            let _ = ul.append_child(&li);
        }
    }
    if !any {
        if let Some(li) = text_el(&doc, "li", "None seen yet.") {
            let _ = ul.append_child(&li);
        }
    }
}
