//! Where a payload that prost refused goes wrong: a second, schema-aware
//! walk over the protobuf wire format that finds the byte offset and the
//! reason (truncated varint, a length running past the end, a wrong wire
//! type for a known field, invalid UTF-8 in a string, nesting deeper than
//! prost's limit). prost's own error says what but not where.
//!
//! It runs only after prost failed, so its verdict is never the one that
//! decides: if it finds nothing, the caller reports prost's reason without
//! an offset. It allocates nothing, never indexes out of bounds, and its
//! recursion is bounded by [`MAX_DEPTH`], as prost's is.

/// prost's recursion limit: messages nested deeper than this are refused.
pub const MAX_DEPTH: usize = 100;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Msg {
    Payload,
    Metric,
    MetaData,
    PropertySet,
    PropertyValue,
    PropertySetList,
    DataSet,
    Row,
    DataSetValue,
    Template,
    Parameter,
    /// The extension-only messages: every field is unknown.
    Extension,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Varint,
    Fixed32,
    Fixed64,
    Str,
    Bytes,
    Message(Msg),
    /// `repeated uint32`: varints one by one or packed in a length.
    RepeatedU32,
}

fn msg_name(m: Msg) -> &'static str {
    match m {
        Msg::Payload => "Payload",
        Msg::Metric => "Metric",
        Msg::MetaData => "MetaData",
        Msg::PropertySet => "PropertySet",
        Msg::PropertyValue => "PropertyValue",
        Msg::PropertySetList => "PropertySetList",
        Msg::DataSet => "DataSet",
        Msg::Row => "Row",
        Msg::DataSetValue => "DataSetValue",
        Msg::Template => "Template",
        Msg::Parameter => "Parameter",
        Msg::Extension => "extension",
    }
}

/// The schema: the name and kind of field `n` of `m`, `None` if unknown.
fn field(m: Msg, n: u32) -> Option<(&'static str, Kind)> {
    use Kind::*;
    Some(match (m, n) {
        (Msg::Payload, 1) => ("timestamp", Varint),
        (Msg::Payload, 2) => ("metrics", Message(Msg::Metric)),
        (Msg::Payload, 3) => ("seq", Varint),
        (Msg::Payload, 4) => ("uuid", Str),
        (Msg::Payload, 5) => ("body", Bytes),
        (Msg::Metric, 1) => ("name", Str),
        (Msg::Metric, 2) => ("alias", Varint),
        (Msg::Metric, 3) => ("timestamp", Varint),
        (Msg::Metric, 4) => ("datatype", Varint),
        (Msg::Metric, 5) => ("is_historical", Varint),
        (Msg::Metric, 6) => ("is_transient", Varint),
        (Msg::Metric, 7) => ("is_null", Varint),
        (Msg::Metric, 8) => ("metadata", Message(Msg::MetaData)),
        (Msg::Metric, 9) => ("properties", Message(Msg::PropertySet)),
        (Msg::Metric, 10) => ("int_value", Varint),
        (Msg::Metric, 11) => ("long_value", Varint),
        (Msg::Metric, 12) => ("float_value", Fixed32),
        (Msg::Metric, 13) => ("double_value", Fixed64),
        (Msg::Metric, 14) => ("boolean_value", Varint),
        (Msg::Metric, 15) => ("string_value", Str),
        (Msg::Metric, 16) => ("bytes_value", Bytes),
        (Msg::Metric, 17) => ("dataset_value", Message(Msg::DataSet)),
        (Msg::Metric, 18) => ("template_value", Message(Msg::Template)),
        (Msg::Metric, 19) => ("extension_value", Message(Msg::Extension)),
        (Msg::MetaData, 1) => ("is_multi_part", Varint),
        (Msg::MetaData, 2) => ("content_type", Str),
        (Msg::MetaData, 3) => ("size", Varint),
        (Msg::MetaData, 4) => ("seq", Varint),
        (Msg::MetaData, 5) => ("file_name", Str),
        (Msg::MetaData, 6) => ("file_type", Str),
        (Msg::MetaData, 7) => ("md5", Str),
        (Msg::MetaData, 8) => ("description", Str),
        (Msg::PropertySet, 1) => ("keys", Str),
        (Msg::PropertySet, 2) => ("values", Message(Msg::PropertyValue)),
        (Msg::PropertyValue, 1) => ("type", Varint),
        (Msg::PropertyValue, 2) => ("is_null", Varint),
        (Msg::PropertyValue, 3) => ("int_value", Varint),
        (Msg::PropertyValue, 4) => ("long_value", Varint),
        (Msg::PropertyValue, 5) => ("float_value", Fixed32),
        (Msg::PropertyValue, 6) => ("double_value", Fixed64),
        (Msg::PropertyValue, 7) => ("boolean_value", Varint),
        (Msg::PropertyValue, 8) => ("string_value", Str),
        (Msg::PropertyValue, 9) => ("propertyset_value", Message(Msg::PropertySet)),
        (Msg::PropertyValue, 10) => ("propertysets_value", Message(Msg::PropertySetList)),
        (Msg::PropertyValue, 11) => ("extension_value", Message(Msg::Extension)),
        (Msg::PropertySetList, 1) => ("propertyset", Message(Msg::PropertySet)),
        (Msg::DataSet, 1) => ("num_of_columns", Varint),
        (Msg::DataSet, 2) => ("columns", Str),
        (Msg::DataSet, 3) => ("types", RepeatedU32),
        (Msg::DataSet, 4) => ("rows", Message(Msg::Row)),
        (Msg::Row, 1) => ("elements", Message(Msg::DataSetValue)),
        (Msg::DataSetValue, 1) => ("int_value", Varint),
        (Msg::DataSetValue, 2) => ("long_value", Varint),
        (Msg::DataSetValue, 3) => ("float_value", Fixed32),
        (Msg::DataSetValue, 4) => ("double_value", Fixed64),
        (Msg::DataSetValue, 5) => ("boolean_value", Varint),
        (Msg::DataSetValue, 6) => ("string_value", Str),
        (Msg::DataSetValue, 7) => ("extension_value", Message(Msg::Extension)),
        (Msg::Template, 1) => ("version", Str),
        (Msg::Template, 2) => ("metrics", Message(Msg::Metric)),
        (Msg::Template, 3) => ("parameters", Message(Msg::Parameter)),
        (Msg::Template, 4) => ("template_ref", Str),
        (Msg::Template, 5) => ("is_definition", Varint),
        (Msg::Parameter, 1) => ("name", Str),
        (Msg::Parameter, 2) => ("type", Varint),
        (Msg::Parameter, 3) => ("int_value", Varint),
        (Msg::Parameter, 4) => ("long_value", Varint),
        (Msg::Parameter, 5) => ("float_value", Fixed32),
        (Msg::Parameter, 6) => ("double_value", Fixed64),
        (Msg::Parameter, 7) => ("boolean_value", Varint),
        (Msg::Parameter, 8) => ("string_value", Str),
        (Msg::Parameter, 9) => ("extension_value", Message(Msg::Extension)),
        _ => return None,
    })
}

fn wire_name(w: u64) -> &'static str {
    match w {
        0 => "varint",
        1 => "64-bit",
        2 => "length-delimited",
        3 => "start-group",
        4 => "end-group",
        5 => "32-bit",
        _ => "invalid",
    }
}

fn expected_wire(k: Kind) -> u64 {
    match k {
        Kind::Varint | Kind::RepeatedU32 => 0,
        Kind::Fixed64 => 1,
        Kind::Str | Kind::Bytes | Kind::Message(_) => 2,
        Kind::Fixed32 => 5,
    }
}

/// A failure: the byte offset and what is wrong there.
pub type Failure = (usize, String);

struct Walker<'a> {
    buf: &'a [u8],
}

impl Walker<'_> {
    /// Reads a varint at `*pos` (before `end`), as prost does: at most ten
    /// bytes, the tenth at most 1.
    fn varint(&self, pos: &mut usize, end: usize, what: &str) -> Result<u64, Failure> {
        let start = *pos;
        let mut value: u64 = 0;
        for i in 0..10 {
            let Some(&b) = self.buf.get(*pos).filter(|_| *pos < end) else {
                return Err((start, format!("truncated varint ({what})")));
            };
            *pos += 1;
            if i == 9 && b > 1 {
                return Err((start, format!("varint longer than 64 bits ({what})")));
            }
            value |= u64::from(b & 0x7f) << (7 * i);
            if b < 0x80 {
                return Ok(value);
            }
        }
        Err((start, format!("varint longer than 64 bits ({what})")))
    }

    /// Walks the fields of message `m` in `start..end` at nesting `depth`
    /// (the payload is 0). `group`: the field number of the group being
    /// skipped, whose end-group key ends the walk.
    fn message(&self, m: Msg, start: usize, end: usize, depth: usize) -> Result<(), Failure> {
        let mut pos = start;
        while pos < end {
            let key_at = pos;
            let what = msg_name(m);
            let key = self.varint(&mut pos, end, &format!("{what} field key"))?;
            let wire = key & 7;
            let number = key >> 3;
            if key > u64::from(u32::MAX) {
                return Err((key_at, format!("field key {key} too large ({what})")));
            }
            if number == 0 {
                return Err((key_at, format!("field number 0 ({what})")));
            }
            if wire > 5 {
                return Err((key_at, format!("invalid wire type {wire} ({what})")));
            }
            let number = number as u32;
            let Some((name, kind)) = field(m, number) else {
                self.skip(&mut pos, end, (key_at, wire, number), depth, what)?;
                continue;
            };
            let path = format!("{what}.{name}");
            let packed = kind == Kind::RepeatedU32 && wire == 2;
            if wire != expected_wire(kind) && !packed {
                return Err((
                    key_at,
                    format!(
                        "{path} has wire type {}, the schema says {}",
                        wire_name(wire),
                        wire_name(expected_wire(kind))
                    ),
                ));
            }
            match kind {
                Kind::Varint => {
                    self.varint(&mut pos, end, &path)?;
                }
                Kind::Fixed32 => self.fixed(&mut pos, end, 4, &path)?,
                Kind::Fixed64 => self.fixed(&mut pos, end, 8, &path)?,
                Kind::RepeatedU32 if !packed => {
                    self.varint(&mut pos, end, &path)?;
                }
                Kind::Str | Kind::Bytes | Kind::Message(_) | Kind::RepeatedU32 => {
                    let (from, to) = self.length(&mut pos, end, &path)?;
                    match kind {
                        Kind::Str => {
                            let bytes = self.buf.get(from..to).unwrap_or_default();
                            if let Err(e) = std::str::from_utf8(bytes) {
                                return Err((
                                    from + e.valid_up_to(),
                                    format!("invalid UTF-8 in {path}"),
                                ));
                            }
                        }
                        Kind::Message(sub) => {
                            if depth + 1 > MAX_DEPTH {
                                return Err((
                                    key_at,
                                    format!("{path} nested deeper than {MAX_DEPTH} messages"),
                                ));
                            }
                            self.message(sub, from, to, depth + 1)?;
                        }
                        Kind::RepeatedU32 => {
                            let mut p = from;
                            while p < to {
                                self.varint(&mut p, to, &path)?;
                            }
                        }
                        _ => {}
                    }
                    pos = to;
                }
            }
        }
        Ok(())
    }

    fn fixed(&self, pos: &mut usize, end: usize, n: usize, what: &str) -> Result<(), Failure> {
        if end.saturating_sub(*pos) < n {
            return Err((*pos, format!("truncated {}-bit value ({what})", n * 8)));
        }
        *pos += n;
        Ok(())
    }

    /// Reads a length prefix and returns the range it covers.
    fn length(&self, pos: &mut usize, end: usize, what: &str) -> Result<(usize, usize), Failure> {
        let at = *pos;
        let len = self.varint(pos, end, what)?;
        let left = end - *pos;
        match usize::try_from(len) {
            Ok(n) if n <= left => Ok((*pos, *pos + n)),
            _ => Err((
                at,
                format!("length {len} runs past the end ({left} bytes left) ({what})"),
            )),
        }
    }

    /// Skips an unknown field as prost does (groups nest, each level counting
    /// towards the recursion limit).
    fn skip(
        &self,
        pos: &mut usize,
        end: usize,
        (at, wire, number): (usize, u64, u32),
        depth: usize,
        what: &str,
    ) -> Result<(), Failure> {
        if depth >= MAX_DEPTH {
            return Err((
                at,
                format!("unknown field nested deeper than {MAX_DEPTH} ({what})"),
            ));
        }
        let unknown = format!("unknown field {number} of {what}");
        match wire {
            0 => {
                self.varint(pos, end, &unknown)?;
            }
            1 => self.fixed(pos, end, 8, &unknown)?,
            5 => self.fixed(pos, end, 4, &unknown)?,
            2 => {
                let (_, to) = self.length(pos, end, &unknown)?;
                *pos = to;
            }
            3 => loop {
                let key_at = *pos;
                let key = self.varint(pos, end, &format!("group {number} field key"))?;
                if key > u64::from(u32::MAX) || key >> 3 == 0 || key & 7 > 5 {
                    return Err((key_at, format!("invalid field key {key} in group {number}")));
                }
                let (inner_wire, inner) = (key & 7, (key >> 3) as u32);
                if inner_wire == 4 {
                    if inner != number {
                        return Err((key_at, format!("group {number} ended by end-group {inner}")));
                    }
                    break;
                }
                self.skip(pos, end, (key_at, inner_wire, inner), depth + 1, what)?;
            },
            _ => return Err((at, format!("unexpected end-group {number} ({what})"))),
        }
        Ok(())
    }
}

/// The first place where `buf` breaks the wire format or the schema, as
/// prost reads it; `None` if the walk finds nothing wrong.
pub fn locate(buf: &[u8]) -> Option<Failure> {
    Walker { buf }.message(Msg::Payload, 0, buf.len(), 0).err()
}
