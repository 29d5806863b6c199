//! Protobuf decoded with a schema the user supplies: a compiled
//! `FileDescriptorSet` or `.proto` source files, then any payload decoded as
//! the message type the user chose, with field and enum names.
//!
//! `prost-reflect` holds the descriptors and decodes dynamic messages (with
//! `prost`'s recursion limit of 100 levels and its length checks); `protox`
//! compiles `.proto` text in pure Rust (no `protoc` binary, so it works in the
//! page). This module only turns the decoded message into JSON text; it must
//! not touch the file system (`.proto` files arrive as text, imports resolve
//! among them and the well-known `google/protobuf/*.proto` files that `protox`
//! ships).
//!
//! # The JSON produced
//!
//! - An object of the fields present in the payload, by their names from the
//!   schema, in field-number order (the decoder keeps fields by number, not
//!   in payload order). Proto3 fields without presence that hold their
//!   default value are not shown (as in `protoc --decode` and the canonical
//!   JSON mapping).
//! - Enums → the value's name; a number the enum does not define → the number.
//! - All integers, 64-bit ones included, → JSON numbers (not strings, so they
//!   chart); floats and doubles as in the crate header (`float` widened to
//!   `f64` exactly); bools; strings.
//! - `bytes` → `{"$bytes": hex}`; nested messages → objects; repeated →
//!   arrays; maps → objects keyed by the map key's text (`"1"`, `"true"`,
//!   the string), sorted by key (the decoder holds maps as hash maps, so the
//!   payload's order is not known).
//! - Extensions that the schema declares → under `"[full.extension.name]"`.
//! - Fields the schema does not know → `"$unknown": {...}` in the raw view
//!   of [`crate::protobuf_raw`].
//! - An empty payload is the empty message `{}`. Input nested deeper than
//!   [`crate::MAX_DEPTH`] levels (a recursive message fed deep input) → the
//!   error "nested deeper than 100 levels", whether `prost` stops it (100
//!   message levels) or the JSON would be deeper (lists and maps are levels
//!   too). Decode errors carry no byte offset (the decoder does
//!   not report one); the text says which message and field.

use std::collections::HashMap;

use miette::Diagnostic as _;
use prost::Message as _;
use prost_reflect::{DescriptorPool, DynamicMessage, Kind, MapKey, MessageDescriptor, Value};

use crate::json::Out;
use crate::protobuf_raw::{parse_message, write_message};
use crate::{DecodeError, MAX_DEPTH};

/// A compiled set of message types to decode payloads with.
#[derive(Debug, Clone)]
pub struct Schema {
    pool: DescriptorPool,
}

impl Schema {
    /// A compiled `FileDescriptorSet` (what `protoc --descriptor_set_out` /
    /// `--include_imports` writes).
    pub fn from_descriptor_set(bytes: &[u8]) -> Result<Schema, DecodeError> {
        let set = prost_types::FileDescriptorSet::decode(bytes)
            .map_err(|e| DecodeError::whole(format!("not a usable descriptor set: {e}")))?;
        for file in &set.file {
            // prost-reflect 0.16.5 panics on any other value (see Cargo.toml).
            if let Some(syntax) = file.syntax.as_deref() {
                if syntax != "proto2" && syntax != "proto3" {
                    return Err(DecodeError::whole(format!(
                        "not a usable descriptor set: file {:?} has syntax {syntax:?} (proto2 and proto3 are supported)",
                        file.name()
                    )));
                }
            }
        }
        let pool = DescriptorPool::from_file_descriptor_set(set)
            .map_err(|e| DecodeError::whole(format!("not a usable descriptor set: {e}")))?;
        Schema::with_messages(pool)
    }

    /// A pool with at least one message type: any other file that happens to
    /// parse as a descriptor set (many short ones do) is no use to decode.
    fn with_messages(pool: DescriptorPool) -> Result<Schema, DecodeError> {
        if pool.all_messages().next().is_none() {
            return Err(DecodeError::whole("the schema defines no message types"));
        }
        Ok(Schema { pool })
    }

    /// `.proto` sources as (file name, text); imports resolve among them (and
    /// the well-known `google/protobuf/*.proto` files). A schema that does
    /// not compile → the compiler's message with `file:line:column`.
    pub fn from_proto_files(files: &[(String, String)]) -> Result<Schema, DecodeError> {
        if files.is_empty() {
            return Err(DecodeError::whole("no .proto file given"));
        }
        let mut resolver = protox::file::ChainFileResolver::new();
        resolver.add(Sources(
            files.iter().map(|(n, t)| (n.clone(), t.clone())).collect(),
        ));
        resolver.add(protox::file::GoogleFileResolver::new());
        let mut compiler = protox::Compiler::with_file_resolver(resolver);
        compiler.include_imports(true);
        for (name, _) in files {
            compiler.open_file(name).map_err(|e| compile_error(&e))?;
        }
        // Through the encoded set rather than `compiler.descriptor_pool()`:
        // the same path as an uploaded descriptor set, checked the same way.
        let set = compiler.file_descriptor_set();
        let pool = DescriptorPool::from_file_descriptor_set(set)
            .map_err(|e| DecodeError::whole(format!("{e:?}")))?;
        Schema::with_messages(pool)
    }

    /// Fully qualified message names, sorted (map-entry types left out).
    pub fn message_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .pool
            .all_messages()
            .filter(|m| !m.is_map_entry())
            .map(|m| m.full_name().to_owned())
            .collect();
        names.sort();
        names
    }

    /// Decodes `payload` as the message type `message` (fully qualified, a
    /// leading dot allowed) into compact JSON text; see the module header.
    pub fn decode(&self, message: &str, payload: &[u8]) -> Result<String, DecodeError> {
        let name = message.strip_prefix('.').unwrap_or(message);
        let desc = self.pool.get_message_by_name(name).ok_or_else(|| {
            DecodeError::whole(format!(
                "unknown message type \"{message}\": the schema has {} message types",
                self.message_names().len()
            ))
        })?;
        let decoded = DynamicMessage::decode(desc, payload).map_err(|e| {
            let text = e.to_string();
            let text = text
                .strip_prefix("failed to decode Protobuf message: ")
                .unwrap_or(&text);
            if text.contains("recursion limit reached") {
                DecodeError::whole(format!("nested deeper than {MAX_DEPTH} levels ({text})"))
            } else {
                DecodeError::whole(text.to_owned())
            }
        })?;
        // Linear in the decoded message (names and values, no nested escaping).
        let mut out = Out::unbounded();
        write_dynamic(&mut out, &decoded, 0)?;
        Ok(out.take())
    }
}

/// The uploaded `.proto` files, by name, for the compiler's imports.
struct Sources(HashMap<String, String>);

impl protox::file::FileResolver for Sources {
    fn open_file(&self, name: &str) -> Result<protox::file::File, protox::Error> {
        match self.0.get(name) {
            Some(text) => protox::file::File::from_source(name, text),
            None => Err(protox::Error::file_not_found(name)),
        }
    }
}

/// The compiler's error as `file:line:column: message`, with its help text
/// when it has one.
fn compile_error(e: &protox::Error) -> DecodeError {
    let mut text = format!("{e:?}");
    if let Some(help) = e.help() {
        text.push_str(&format!(" ({help})"));
    }
    DecodeError::whole(text)
}

/// One JSON level deeper than `depth`, or the depth error.
fn deeper(depth: usize) -> Result<usize, DecodeError> {
    if depth >= MAX_DEPTH {
        return Err(DecodeError::whole(format!(
            "nested deeper than {MAX_DEPTH} levels"
        )));
    }
    Ok(depth + 1)
}

fn write_dynamic(out: &mut Out, m: &DynamicMessage, depth: usize) -> Result<(), DecodeError> {
    let depth = deeper(depth)?;
    out.ch('{')?;
    let mut first = true;
    for (field, value) in m.fields() {
        if !first {
            out.ch(',')?;
        }
        first = false;
        out.string(field.name())?;
        out.ch(':')?;
        write_value(out, value, &field.kind(), depth)?;
    }
    for (ext, value) in m.extensions() {
        if !first {
            out.ch(',')?;
        }
        first = false;
        out.string(&format!("[{}]", ext.full_name()))?;
        out.ch(':')?;
        write_value(out, value, &ext.kind(), depth)?;
    }
    let mut unknown = Vec::new();
    for field in m.unknown_fields() {
        field.encode(&mut unknown);
    }
    if !unknown.is_empty() {
        if !first {
            out.ch(',')?;
        }
        out.raw("\"$unknown\":")?;
        // Offsets inside are of the re-encoded unknown fields, never shown:
        // they were read once already and cannot fail here.
        let fields = parse_message(&unknown, 0, depth)?;
        write_message(out, &fields, depth)?;
    }
    out.ch('}')
}

/// `kind` is the field's element kind (for lists and maps too: `prost-reflect`
/// gives the entry message for maps).
fn write_value(out: &mut Out, value: &Value, kind: &Kind, depth: usize) -> Result<(), DecodeError> {
    match value {
        Value::Bool(b) => out.raw(if *b { "true" } else { "false" }),
        Value::I32(v) => out.i128(i128::from(*v)),
        Value::I64(v) => out.i128(i128::from(*v)),
        Value::U32(v) => out.u64(u64::from(*v)),
        Value::U64(v) => out.u64(*v),
        Value::F32(v) => out.f64(f64::from(*v)),
        Value::F64(v) => out.f64(*v),
        Value::String(s) => out.string(s),
        Value::Bytes(b) => out.bytes_obj(b),
        Value::EnumNumber(n) => match kind.as_enum().and_then(|e| e.get_value(*n)) {
            Some(v) => out.string(v.name()),
            None => out.i128(i128::from(*n)),
        },
        Value::Message(m) => write_dynamic(out, m, depth),
        Value::List(items) => {
            let depth = deeper(depth)?;
            out.ch('[')?;
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.ch(',')?;
                }
                write_value(out, item, kind, depth)?;
            }
            out.ch(']')
        }
        Value::Map(map) => {
            let value_kind = kind
                .as_message()
                .map(MessageDescriptor::map_entry_value_field)
                .map(|f| f.kind())
                .unwrap_or_else(|| kind.clone());
            let mut entries: Vec<(&MapKey, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            let depth = deeper(depth)?;
            out.ch('{')?;
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.ch(',')?;
                }
                let key = match k {
                    MapKey::Bool(b) => b.to_string(),
                    MapKey::I32(v) => v.to_string(),
                    MapKey::I64(v) => v.to_string(),
                    MapKey::U32(v) => v.to_string(),
                    MapKey::U64(v) => v.to_string(),
                    MapKey::String(s) => s.clone(),
                };
                out.string(&key)?;
                out.ch(':')?;
                write_value(out, v, &value_kind, depth)?;
            }
            out.ch('}')
        }
    }
}
