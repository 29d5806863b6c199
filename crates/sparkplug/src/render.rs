//! Sparkplug B values as JSON: a metric's value interpreted through its
//! datatype (signed integers from their unsigned wire fields, the packed
//! array types of Sparkplug 3.0, data sets, templates, property sets), and
//! the per-metric details object.
//!
//! Pure and stateless: the caller (the `state` module) says which datatype
//! applies, since a data message often leaves it to the birth. Nothing here
//! may panic, index out of bounds or recurse without a bound: recursion
//! stops at [`MAX_DEPTH`] (prost already refuses more than 100 nested
//! messages). A value that cannot be read as its datatype says so in the
//! metric's notes and is shown as what it is on the wire, or as `null`.

use crate::json::{self, Object};
use crate::proto::payload::{
    data_set, metric, property_value, template, DataSet, MetaData, Metric, PropertySet,
    PropertySetList, Template,
};
use crate::proto::DataType;

/// Templates and property sets nested deeper than this are shown as `null`
/// with a note (deep enough for any real model; shallow enough to read).
pub const MAX_DEPTH: usize = 32;

/// Most notes kept for one metric; past it, a count.
const MAX_NOTES: usize = 100;

/// The remarks about one metric's value, shown in its details.
#[derive(Debug, Default)]
pub struct Notes {
    list: Vec<String>,
    dropped: usize,
}

impl Notes {
    /// Adds a remark (past [`MAX_NOTES`] only counted).
    pub fn add(&mut self, note: String) {
        if self.list.len() < MAX_NOTES {
            self.list.push(note);
        } else {
            self.dropped += 1;
        }
    }

    /// True when there is nothing to say.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    fn write(&self, out: &mut String) {
        out.push('[');
        for (i, n) in self.list.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            json::string(out, n);
        }
        if self.dropped > 0 {
            if !self.list.is_empty() {
                out.push(',');
            }
            json::string(out, &format!("… and {} more", self.dropped));
        }
        out.push(']');
    }
}

/// The value fields of the schema's four `oneof value`s, in one shape.
#[derive(Debug, Clone, Copy)]
pub enum Raw<'a> {
    Int(u32),
    Long(u64),
    Float(f32),
    Double(f64),
    Bool(bool),
    Str(&'a str),
    Bytes(&'a [u8]),
    DataSet(&'a DataSet),
    Template(&'a Template),
    PropertySet(&'a PropertySet),
    PropertySetList(&'a PropertySetList),
    Extension,
}

impl Raw<'_> {
    fn field(&self) -> &'static str {
        match self {
            Raw::Int(_) => "int_value",
            Raw::Long(_) => "long_value",
            Raw::Float(_) => "float_value",
            Raw::Double(_) => "double_value",
            Raw::Bool(_) => "boolean_value",
            Raw::Str(_) => "string_value",
            Raw::Bytes(_) => "bytes_value",
            Raw::DataSet(_) => "dataset_value",
            Raw::Template(_) => "template_value",
            Raw::PropertySet(_) => "propertyset_value",
            Raw::PropertySetList(_) => "propertysets_value",
            Raw::Extension => "extension_value",
        }
    }
}

/// The value of a metric as a [`Raw`].
pub fn metric_raw(v: &metric::Value) -> Raw<'_> {
    use metric::Value as V;
    match v {
        V::IntValue(v) => Raw::Int(*v),
        V::LongValue(v) => Raw::Long(*v),
        V::FloatValue(v) => Raw::Float(*v),
        V::DoubleValue(v) => Raw::Double(*v),
        V::BooleanValue(v) => Raw::Bool(*v),
        V::StringValue(v) => Raw::Str(v),
        V::BytesValue(v) => Raw::Bytes(v),
        V::DatasetValue(v) => Raw::DataSet(v),
        V::TemplateValue(v) => Raw::Template(v),
        V::ExtensionValue(_) => Raw::Extension,
    }
}

fn parameter_raw(v: &template::parameter::Value) -> Raw<'_> {
    use template::parameter::Value as V;
    match v {
        V::IntValue(v) => Raw::Int(*v),
        V::LongValue(v) => Raw::Long(*v),
        V::FloatValue(v) => Raw::Float(*v),
        V::DoubleValue(v) => Raw::Double(*v),
        V::BooleanValue(v) => Raw::Bool(*v),
        V::StringValue(v) => Raw::Str(v),
        V::ExtensionValue(_) => Raw::Extension,
    }
}

fn dataset_raw(v: &data_set::data_set_value::Value) -> Raw<'_> {
    use data_set::data_set_value::Value as V;
    match v {
        V::IntValue(v) => Raw::Int(*v),
        V::LongValue(v) => Raw::Long(*v),
        V::FloatValue(v) => Raw::Float(*v),
        V::DoubleValue(v) => Raw::Double(*v),
        V::BooleanValue(v) => Raw::Bool(*v),
        V::StringValue(v) => Raw::Str(v),
        V::ExtensionValue(_) => Raw::Extension,
    }
}

fn property_raw(v: &property_value::Value) -> Raw<'_> {
    use property_value::Value as V;
    match v {
        V::IntValue(v) => Raw::Int(*v),
        V::LongValue(v) => Raw::Long(*v),
        V::FloatValue(v) => Raw::Float(*v),
        V::DoubleValue(v) => Raw::Double(*v),
        V::BooleanValue(v) => Raw::Bool(*v),
        V::StringValue(v) => Raw::Str(v),
        V::PropertysetValue(v) => Raw::PropertySet(v),
        V::PropertysetsValue(v) => Raw::PropertySetList(v),
        V::ExtensionValue(_) => Raw::Extension,
    }
}

/// The name of a datatype number: the schema's, or `unknown (N)`.
pub fn datatype_name(n: u32) -> String {
    match DataType::from_u32(n) {
        Some(t) => t.name().to_owned(),
        None => format!("unknown ({n})"),
    }
}

/// `v`, read from an unsigned field `width` bits wide, as a signed integer
/// of `bits` bits. Both encodings in use are accepted: Eclipse Tahu's Python
/// adds 2^bits to a negative value (-1 as Int8 is 255), its Java sign-extends
/// to the field's width (-1 as Int8 is 0xFFFFFFFF).
fn signed(v: u64, bits: u32, width: u32) -> Option<i64> {
    let extend = |v: u64, b: u32| -> i64 {
        if b >= 64 {
            v as i64
        } else {
            let shift = 64 - b;
            ((v << shift) as i64) >> shift
        }
    };
    if bits >= 64 || v < (1u64 << bits) {
        return Some(extend(v, bits));
    }
    let s = extend(v, width);
    let min = -(1i64 << (bits - 1));
    (s < 0 && s >= min).then_some(s)
}

/// Writes a value of `datatype` (the schema's number, if any is known).
pub fn value(
    out: &mut String,
    datatype: Option<u32>,
    raw: Option<Raw<'_>>,
    is_null: bool,
    depth: usize,
    notes: &mut Notes,
) {
    if is_null {
        if let Some(r) = raw {
            notes.add(format!("is_null, but {} is set too", r.field()));
        }
        out.push_str("null");
        return;
    }
    let Some(raw) = raw else {
        out.push_str("null");
        notes.add("no value".to_owned());
        return;
    };
    let Some(dt) = datatype.and_then(DataType::from_u32) else {
        generic(out, raw, depth, notes);
        return;
    };
    use DataType as T;
    let mismatch = |out: &mut String, notes: &mut Notes| {
        notes.add(format!("{} value in {}", dt.name(), raw.field()));
        generic(out, raw, depth, notes);
    };
    let (wide, width) = match raw {
        Raw::Int(v) => (Some(u64::from(v)), 32),
        Raw::Long(v) => (Some(v), 64),
        _ => (None, 64),
    };
    match dt {
        T::Int8 | T::Int16 | T::Int32 | T::Int64 => {
            let bits = match dt {
                T::Int8 => 8,
                T::Int16 => 16,
                T::Int32 => 32,
                _ => 64,
            };
            match wide {
                Some(v) => match signed(v, bits, width) {
                    Some(s) => json::int(out, s),
                    None => {
                        notes.add(format!("{v} is out of range for {}", dt.name()));
                        json::int(out, v);
                    }
                },
                None => mismatch(out, notes),
            }
        }
        T::UInt8 | T::UInt16 | T::UInt32 | T::UInt64 | T::DateTime => {
            let max = match dt {
                T::UInt8 => u64::from(u8::MAX),
                T::UInt16 => u64::from(u16::MAX),
                T::UInt32 => u64::from(u32::MAX),
                _ => u64::MAX,
            };
            match wide {
                Some(v) => {
                    if v > max {
                        notes.add(format!("{v} is out of range for {}", dt.name()));
                    }
                    json::int(out, v);
                }
                None => mismatch(out, notes),
            }
        }
        T::Float | T::Double => match raw {
            Raw::Float(v) => {
                if dt == T::Double {
                    notes.add("Double value in float_value".to_owned());
                }
                json::f32(out, v)
            }
            Raw::Double(v) => {
                if dt == T::Float {
                    notes.add("Float value in double_value".to_owned());
                }
                json::f64(out, v)
            }
            _ => mismatch(out, notes),
        },
        T::Boolean => match raw {
            Raw::Bool(v) => json::bool(out, v),
            _ => mismatch(out, notes),
        },
        T::String | T::Text | T::Uuid => match raw {
            Raw::Str(s) => json::string(out, s),
            _ => mismatch(out, notes),
        },
        T::Bytes | T::File => match raw {
            Raw::Bytes(b) => json::bytes(out, b),
            _ => mismatch(out, notes),
        },
        T::DataSet => match raw {
            Raw::DataSet(d) => dataset(out, d, notes),
            _ => mismatch(out, notes),
        },
        T::Template => match raw {
            Raw::Template(t) => template(out, t, depth, notes),
            _ => mismatch(out, notes),
        },
        T::PropertySet => match raw {
            Raw::PropertySet(p) => property_set(out, p, depth, notes),
            _ => mismatch(out, notes),
        },
        T::PropertySetList => match raw {
            Raw::PropertySetList(l) => property_set_list(out, l, depth, notes),
            _ => mismatch(out, notes),
        },
        T::Int8Array
        | T::Int16Array
        | T::Int32Array
        | T::Int64Array
        | T::UInt8Array
        | T::UInt16Array
        | T::UInt32Array
        | T::UInt64Array
        | T::FloatArray
        | T::DoubleArray
        | T::BooleanArray
        | T::StringArray
        | T::DateTimeArray => match raw {
            Raw::Bytes(b) => array(out, dt, b, notes),
            _ => mismatch(out, notes),
        },
        T::Unknown => generic(out, raw, depth, notes),
    }
}

/// Writes a value as its wire field says, without a datatype.
fn generic(out: &mut String, raw: Raw<'_>, depth: usize, notes: &mut Notes) {
    match raw {
        Raw::Int(v) => json::int(out, v),
        Raw::Long(v) => json::int(out, v),
        Raw::Float(v) => json::f32(out, v),
        Raw::Double(v) => json::f64(out, v),
        Raw::Bool(v) => json::bool(out, v),
        Raw::Str(s) => json::string(out, s),
        Raw::Bytes(b) => json::bytes(out, b),
        Raw::DataSet(d) => dataset(out, d, notes),
        Raw::Template(t) => template(out, t, depth, notes),
        Raw::PropertySet(p) => property_set(out, p, depth, notes),
        Raw::PropertySetList(l) => property_set_list(out, l, depth, notes),
        Raw::Extension => {
            notes.add("value in an extension field (not shown)".to_owned());
            out.push_str("null");
        }
    }
}

/// Writes the packed little-endian array types of Sparkplug 3.0 as a JSON
/// array, or `null` with a note when the bytes do not fit the type.
fn array(out: &mut String, dt: DataType, b: &[u8], notes: &mut Notes) {
    use DataType as T;
    let size = match dt {
        T::Int8Array | T::UInt8Array => 1,
        T::Int16Array | T::UInt16Array => 2,
        T::Int32Array | T::UInt32Array | T::FloatArray => 4,
        T::Int64Array | T::UInt64Array | T::DoubleArray | T::DateTimeArray => 8,
        T::BooleanArray => return boolean_array(out, b, notes),
        T::StringArray => return string_array(out, b, notes),
        _ => 1,
    };
    if !b.len().is_multiple_of(size) {
        notes.add(format!(
            "{} of {} bytes: not a multiple of {size}",
            dt.name(),
            b.len()
        ));
        out.push_str("null");
        return;
    }
    out.push('[');
    for (i, c) in b.chunks_exact(size).enumerate() {
        if i > 0 {
            out.push(',');
        }
        let mut w = [0u8; 8];
        w[..size].copy_from_slice(c);
        let u = u64::from_le_bytes(w);
        match dt {
            T::Int8Array => json::int(out, c[0] as i8),
            T::Int16Array => json::int(out, u as u16 as i16),
            T::Int32Array => json::int(out, u as u32 as i32),
            T::Int64Array | T::DateTimeArray => json::int(out, u as i64),
            T::FloatArray => json::f32(out, f32::from_bits(u as u32)),
            T::DoubleArray => json::f64(out, f64::from_bits(u)),
            _ => json::int(out, u),
        }
    }
    out.push(']');
}

/// BooleanArray: a little-endian u32 count, then the values as bits, the
/// first in the high bit of the first byte (as Eclipse Tahu writes them).
fn boolean_array(out: &mut String, b: &[u8], notes: &mut Notes) {
    let Some((count, bits)) = b.split_first_chunk::<4>() else {
        notes.add(format!("BooleanArray of {} bytes: no count", b.len()));
        out.push_str("null");
        return;
    };
    let count = u64::from(u32::from_le_bytes(*count));
    let needed = count.div_ceil(8);
    if needed > bits.len() as u64 {
        notes.add(format!(
            "BooleanArray of {count} values in {} bytes",
            bits.len()
        ));
        out.push_str("null");
        return;
    }
    if needed < bits.len() as u64 {
        notes.add(format!(
            "BooleanArray: {} bytes after its {count} values",
            bits.len() as u64 - needed
        ));
    }
    out.push('[');
    for i in 0..count {
        if i > 0 {
            out.push(',');
        }
        let byte = bits.get((i / 8) as usize).copied().unwrap_or(0);
        json::bool(out, byte & (0x80 >> (i % 8)) != 0);
    }
    out.push(']');
}

/// StringArray: UTF-8 strings, each ended by a NUL byte.
fn string_array(out: &mut String, b: &[u8], notes: &mut Notes) {
    out.push('[');
    let mut parts: Vec<&[u8]> = b.split(|&c| c == 0).collect();
    match parts.last() {
        Some([]) => {
            parts.pop();
        }
        _ => notes.add("StringArray: the last string has no NUL".to_owned()),
    }
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        match std::str::from_utf8(p) {
            Ok(s) => json::string(out, s),
            Err(_) => {
                notes.add(format!("StringArray: string {i} is not UTF-8"));
                json::string(out, &String::from_utf8_lossy(p));
            }
        }
    }
    out.push(']');
}

/// A data set: `{"columns":[…],"types":[…],"rows":[[…],…]}`, each cell read
/// through its column's type.
fn dataset(out: &mut String, d: &DataSet, notes: &mut Notes) {
    out.push_str("{\"columns\":[");
    for (i, c) in d.columns.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        json::string(out, c);
    }
    out.push_str("],\"types\":[");
    for (i, t) in d.types.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        json::string(out, &datatype_name(*t));
    }
    out.push_str("],\"rows\":[");
    for (r, row) in d.rows.iter().enumerate() {
        if r > 0 {
            out.push(',');
        }
        out.push('[');
        for (c, cell) in row.elements.iter().enumerate() {
            if c > 0 {
                out.push(',');
            }
            let raw = cell.value.as_ref().map(dataset_raw);
            let mut cell_notes = Notes::default();
            value(out, d.types.get(c).copied(), raw, false, 0, &mut cell_notes);
            for n in cell_notes.list {
                notes.add(format!("row {r} column {c}: {n}"));
            }
        }
        out.push(']');
    }
    out.push_str("]}");
    if let Some(n) = d.num_of_columns {
        if n != d.columns.len() as u64 {
            notes.add(format!(
                "num_of_columns is {n}, {} columns named",
                d.columns.len()
            ));
        }
    }
}

/// A template: `{"template_ref"?,"is_definition","version"?,"parameters":{…},"metrics":{…}}`.
fn template(out: &mut String, t: &Template, depth: usize, notes: &mut Notes) {
    if depth >= MAX_DEPTH {
        notes.add(format!("nested deeper than {MAX_DEPTH} levels: not shown"));
        out.push_str("null");
        return;
    }
    let mut o = Object::new(out);
    if let Some(r) = &t.template_ref {
        json::string(o.key("template_ref"), r);
    }
    json::bool(o.key("is_definition"), t.is_definition.unwrap_or(false));
    if let Some(v) = &t.version {
        json::string(o.key("version"), v);
    }
    {
        let out = o.key("parameters");
        let mut p = Object::new(out);
        for (i, param) in t.parameters.iter().enumerate() {
            let name = param
                .name
                .clone()
                .unwrap_or_else(|| format!("parameter {i}"));
            let raw = param.value.as_ref().map(parameter_raw);
            let mut n = Notes::default();
            value(p.key(&name), param.r#type, raw, false, depth + 1, &mut n);
            for x in n.list {
                notes.add(format!("parameter {name}: {x}"));
            }
        }
        p.end();
    }
    {
        let out = o.key("metrics");
        let mut m = Object::new(out);
        for (i, metric) in t.metrics.iter().enumerate() {
            let name = metric.name.clone().unwrap_or_else(|| format!("metric {i}"));
            let raw = metric.value.as_ref().map(metric_raw);
            let mut n = Notes::default();
            value(
                m.key(&name),
                metric.datatype,
                raw,
                metric.is_null.unwrap_or(false),
                depth + 1,
                &mut n,
            );
            for x in n.list {
                notes.add(format!("{name}: {x}"));
            }
        }
        m.end();
    }
    o.end();
}

/// A property set as an object of its keys (a value without a key under
/// `(no key) i`, a key without a value as `null`).
pub fn property_set(out: &mut String, p: &PropertySet, depth: usize, notes: &mut Notes) {
    if depth >= MAX_DEPTH {
        notes.add(format!(
            "properties nested deeper than {MAX_DEPTH} levels: not shown"
        ));
        out.push_str("null");
        return;
    }
    let mut o = Object::new(out);
    let n = p.keys.len().max(p.values.len());
    for i in 0..n {
        let key = match p.keys.get(i) {
            Some(k) => k.clone(),
            None => format!("(no key) {i}"),
        };
        let out = o.key(&key);
        match p.values.get(i) {
            Some(v) => {
                let raw = v.value.as_ref().map(property_raw);
                let mut n = Notes::default();
                value(
                    out,
                    v.r#type,
                    raw,
                    v.is_null.unwrap_or(false),
                    depth + 1,
                    &mut n,
                );
                for x in n.list {
                    notes.add(format!("property {key}: {x}"));
                }
            }
            None => {
                notes.add(format!("property {key} has no value"));
                out.push_str("null");
            }
        }
    }
    o.end();
}

fn property_set_list(out: &mut String, l: &PropertySetList, depth: usize, notes: &mut Notes) {
    out.push('[');
    for (i, p) in l.propertyset.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        property_set(out, p, depth + 1, notes);
    }
    out.push(']');
}

/// The metric's metadata as an object of the fields present.
fn metadata(out: &mut String, m: &MetaData) {
    let mut o = Object::new(out);
    if let Some(v) = m.is_multi_part {
        json::bool(o.key("is_multi_part"), v);
    }
    let strings = [
        ("content_type", &m.content_type),
        ("file_name", &m.file_name),
        ("file_type", &m.file_type),
        ("md5", &m.md5),
        ("description", &m.description),
    ];
    if let Some(v) = m.size {
        json::int(o.key("size"), v);
    }
    if let Some(v) = m.seq {
        json::int(o.key("seq"), v);
    }
    for (k, v) in strings {
        if let Some(v) = v {
            json::string(o.key(k), v);
        }
    }
    o.end();
}

/// Writes a metric's details: `{"alias"?,"datatype"?,"timestamp"?,
/// "is_historical","is_transient","is_null","metadata"?,"properties"?,
/// "notes"?}`. `datatype`: the one that applied (the metric's or its
/// birth's).
pub fn details(out: &mut String, m: &Metric, datatype: Option<u32>, notes: &mut Notes) {
    let mut props = String::new();
    if let Some(p) = &m.properties {
        property_set(&mut props, p, 0, notes);
    }
    let mut o = Object::new(out);
    if let Some(a) = m.alias {
        json::int(o.key("alias"), a);
    }
    if let Some(d) = datatype {
        json::string(o.key("datatype"), &datatype_name(d));
    }
    if let Some(t) = m.timestamp {
        json::int(o.key("timestamp"), t);
    }
    json::bool(o.key("is_historical"), m.is_historical.unwrap_or(false));
    json::bool(o.key("is_transient"), m.is_transient.unwrap_or(false));
    json::bool(o.key("is_null"), m.is_null.unwrap_or(false));
    if let Some(md) = &m.metadata {
        metadata(o.key("metadata"), md);
    }
    if m.properties.is_some() {
        o.key("properties").push_str(&props);
    }
    if !notes.is_empty() {
        notes.write(o.key("notes"));
    }
    o.end();
}
