//! The one seam where packets cross: framing a byte stream into packets,
//! strict decoding of what a broker may send a client, and guarded encoding
//! of what we send.
//!
//! Decoding parses the fixed header itself (so the size limit, the packet type
//! and the header flags are checked before the body is buffered), reads the
//! frame with its own strict reader, and checks what `mqttbytes` 0.6 let
//! through (wildcards or U+0000 in a PUBLISH topic, DUP on QoS 0, PUBREL flags,
//! CONNACK reserved bits, trailing bytes in acks). A PUBLISH larger than the
//! size limit is not buffered: its head (fixed header, topic, packet id) is
//! checked here exactly as a whole PUBLISH would be, and its payload is
//! discarded as it arrives, so memory stays bounded whatever a broker sends;
//! any other packet over the limit is refused. Encoding validates every
//! string length and the total size first and writes into the output buffer
//! only whole packets: on any codec error the buffer is cut back to where it
//! was. CONNECT is written for both protocol levels (3.1 `MQIsdp`/3 and
//! 3.1.1 `MQTT`/4).
//!
//! `mqttbytes` is a dev-dependency only: in this crate's tests every frame
//! decoded is also read by `mqttbytes::v4::read` (the same packet or the
//! same error, or the test fails) and every packet but CONNECT written is
//! also written by `mqttbytes` (the same bytes). In the page its reading and
//! writing code would only add to the wasm (about 6 KB gzipped with the
//! MQTT 5 writers). Where `mqttbytes` is wrong it is not asked: it cannot
//! write 3.1, silently drops an empty user name or password, and sets the
//! password flag without a user name.
//!
//! This module must not keep session state (packet ids in flight, timers):
//! that is `session`. Nothing here may panic on any input.

use bytes::{BufMut, Bytes, BytesMut};
#[cfg(test)]
use mqttbytes::v4;

use crate::codec_v5;
use crate::error::{ProtocolError, SessionError};
use crate::event::{Message, SubscribeResult};
use crate::options::{Options, ProtocolVersion, QoS};
use crate::topic;
use crate::v5::{Granted, PublishProperties, Subscription};

/// MQTT's largest remaining length (four length bytes).
pub(crate) const MAX_REMAINING_LEN: usize = 268_435_455;

/// The reason code and reason string of an acknowledgement. MQTT 3.1 and
/// 3.1.1 acks have neither: success, no reason.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Ack {
    pub(crate) code: u8,
    pub(crate) reason: Option<String>,
}

/// A packet a broker may send to a client, decoded and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Incoming {
    ConnAck {
        session_present: bool,
        code: u8,
        /// MQTT 5: the CONNACK's properties, defaults filled in (also on a
        /// refusal, for its reason string and server reference).
        granted: Option<Box<Granted>>,
    },
    /// A PUBLISH; with MQTT 5 its topic alias, if it carried one (the
    /// topic is then empty or sets the alias).
    Publish(Message, Option<u16>),
    /// A PUBLISH over the size limit, read through (MQTT 3.1 and 3.1.1
    /// only): the message with an empty payload, and the sizes.
    PublishNotKept(Message, Skipped),
    PubAck(u16, Ack),
    PubRec(u16, Ack),
    PubRel(u16, Ack),
    PubComp(u16, Ack),
    SubAck {
        pkid: u16,
        results: Vec<SubscribeResult>,
        reason: Option<String>,
    },
    UnsubAck {
        pkid: u16,
        /// MQTT 5: one reason code per filter (empty with 3.1 and 3.1.1).
        codes: Vec<u8>,
        reason: Option<String>,
    },
    PingResp,
    /// MQTT 5: the broker ends the connection.
    Disconnect {
        code: u8,
        reason: Option<String>,
        server_reference: Option<String>,
    },
}

impl Incoming {
    /// The packet's name, for error messages.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Incoming::ConnAck { .. } => "CONNACK",
            Incoming::Publish(..) | Incoming::PublishNotKept(..) => "PUBLISH",
            Incoming::PubAck(..) => "PUBACK",
            Incoming::PubRec(..) => "PUBREC",
            Incoming::PubRel(..) => "PUBREL",
            Incoming::PubComp(..) => "PUBCOMP",
            Incoming::SubAck { .. } => "SUBACK",
            Incoming::UnsubAck { .. } => "UNSUBACK",
            Incoming::PingResp => "PINGRESP",
            Incoming::Disconnect { .. } => "DISCONNECT",
        }
    }
}

/// A packet we send.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Outgoing<'a> {
    Connect(&'a Options),
    Publish {
        topic: &'a str,
        payload: &'a Bytes,
        qos: QoS,
        retain: bool,
        dup: bool,
        pkid: u16,
        /// MQTT 5 properties (ignored with 3.1 and 3.1.1).
        properties: Option<&'a PublishProperties>,
        /// MQTT 5 topic alias; `topic` is then empty once the alias is set.
        alias: Option<u16>,
    },
    PubAck(u16),
    PubRec(u16),
    PubRel(u16),
    PubComp(u16),
    Subscribe {
        pkid: u16,
        filters: &'a [Subscription],
        /// MQTT 5 subscription identifier (ignored with 3.1 and 3.1.1).
        identifier: Option<u32>,
    },
    Unsubscribe {
        pkid: u16,
        filters: &'a [String],
    },
    PingReq,
    /// DISCONNECT; MQTT 5 writes the reason code (0: normal).
    Disconnect(u8),
}

/// The name of an MQTT control packet type number.
pub(crate) fn packet_name(packet_type: u8) -> &'static str {
    match packet_type {
        1 => "CONNECT",
        2 => "CONNACK",
        3 => "PUBLISH",
        4 => "PUBACK",
        5 => "PUBREC",
        6 => "PUBREL",
        7 => "PUBCOMP",
        8 => "SUBSCRIBE",
        9 => "SUBACK",
        10 => "UNSUBSCRIBE",
        11 => "UNSUBACK",
        12 => "PINGREQ",
        13 => "PINGRESP",
        14 => "DISCONNECT",
        _ => "a reserved packet type",
    }
}

/// A parsed fixed header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FixedHeader {
    pub(crate) byte1: u8,
    pub(crate) header_len: usize,
    pub(crate) remaining_len: usize,
}

impl FixedHeader {
    pub(crate) fn packet_type(&self) -> u8 {
        self.byte1 >> 4
    }

    pub(crate) fn flags(&self) -> u8 {
        self.byte1 & 0x0F
    }

    pub(crate) fn frame_len(&self) -> usize {
        self.header_len + self.remaining_len
    }
}

/// Parses a fixed header from the start of `buf`: `Ok(None)` if more bytes
/// are needed to know the length.
pub(crate) fn parse_fixed_header(buf: &[u8]) -> Result<Option<FixedHeader>, ProtocolError> {
    let Some((&byte1, rest)) = buf.split_first() else {
        return Ok(None);
    };
    let mut remaining_len = 0usize;
    for (i, &b) in rest.iter().take(4).enumerate() {
        remaining_len |= usize::from(b & 0x7F) << (7 * i);
        if b & 0x80 == 0 {
            return Ok(Some(FixedHeader {
                byte1,
                header_len: 2 + i,
                remaining_len,
            }));
        }
    }
    if rest.len() >= 4 {
        return Err(ProtocolError::MalformedRemainingLength);
    }
    Ok(None)
}

/// Checks the packet type, flags and remaining length of a header a broker
/// sent to a client, before its body is read.
pub(crate) fn check_header(header: &FixedHeader) -> Result<(), ProtocolError> {
    let packet_type = header.packet_type();
    let packet = packet_name(packet_type);
    let flags = header.flags();
    let len = header.remaining_len;
    let bad_flags = Err(ProtocolError::BadFlags { packet, flags });
    let bad_len = Err(ProtocolError::BadRemainingLength { packet, len });
    match packet_type {
        0 | 15 => Err(ProtocolError::ReservedPacketType(packet_type)),
        1 | 8 | 10 | 12 | 14 => Err(ProtocolError::UnexpectedPacket { packet }),
        3 => {
            let qos = (flags >> 1) & 0b11;
            if qos == 3 {
                return Err(ProtocolError::InvalidQoS(qos));
            }
            if qos == 0 && flags & 0b1000 != 0 {
                return Err(ProtocolError::DupWithQoS0);
            }
            // Topic length (2) + at least one topic byte + packet id if QoS > 0.
            let min = if qos == 0 { 3 } else { 5 };
            if len < min {
                return bad_len;
            }
            Ok(())
        }
        6 => {
            if flags != 0b0010 {
                return bad_flags;
            }
            if len != 2 {
                return bad_len;
            }
            Ok(())
        }
        2 | 4 | 5 | 7 | 11 => {
            if flags != 0 {
                return bad_flags;
            }
            if len != 2 {
                return bad_len;
            }
            Ok(())
        }
        9 => {
            if flags != 0 {
                return bad_flags;
            }
            if len < 3 {
                return bad_len;
            }
            Ok(())
        }
        13 => {
            if flags != 0 {
                return bad_flags;
            }
            if len != 0 {
                return bad_len;
            }
            Ok(())
        }
        _ => Err(ProtocolError::ReservedPacketType(packet_type)),
    }
}

pub(crate) fn nonzero(packet: &'static str, pkid: u16) -> Result<u16, ProtocolError> {
    if pkid == 0 {
        Err(ProtocolError::PacketIdZero { packet })
    } else {
        Ok(pkid)
    }
}

/// Decodes one whole frame whose header passed `check_header` (in this
/// crate's tests, checked against `mqttbytes`).
pub(crate) fn decode_frame(
    header: &FixedHeader,
    frame: BytesMut,
) -> Result<Incoming, ProtocolError> {
    #[cfg(test)]
    {
        let theirs = decode_frame_mqttbytes(header, frame.clone());
        let ours = decode_frame_strict(header, frame);
        assert_eq!(ours, theirs, "the strict reader and mqttbytes disagree");
        ours
    }
    #[cfg(not(test))]
    {
        decode_frame_strict(header, frame)
    }
}

/// Reads the head of a PUBLISH: its QoS (from the header flags), topic
/// (well-formed UTF-8; the topic name rules are the caller's to check, after
/// MQTT 5's properties) and packet id (nonzero, QoS > 0 only). One reading
/// for MQTT 3.1.1, MQTT 5 and the head of an oversized PUBLISH.
pub(crate) fn read_publish_head(
    r: &mut codec_v5::Reader<'_>,
    header: &FixedHeader,
) -> Result<(String, QoS, u16), ProtocolError> {
    let packet = "PUBLISH";
    let qos_bits = publish_qos(header);
    let qos = QoS::from_u8(qos_bits).ok_or(ProtocolError::InvalidQoS(qos_bits))?;
    let topic = std::str::from_utf8(r.binary()?)
        .map_err(|_| ProtocolError::InvalidUtf8 { packet })?
        .to_owned();
    let pkid = if qos == QoS::AtMostOnce {
        0
    } else {
        nonzero(packet, r.u16()?)?
    };
    Ok((topic, qos, pkid))
}

/// The strict reader's decoding of an MQTT 3.1 / 3.1.1 frame, which the
/// session gets. It reads exactly what `mqttbytes::v4::read` reads, fails
/// where it fails with the same error, and adds the checks `mqttbytes`
/// lacks; the crate's tests compare the two on every frame they decode.
/// One reader instead of `mqttbytes`' saves its decoding code in the wasm.
fn decode_frame_strict(
    header: &FixedHeader,
    mut frame: BytesMut,
) -> Result<Incoming, ProtocolError> {
    let packet_type = header.packet_type();
    let packet = packet_name(packet_type);
    let body = frame.get(header.header_len..).unwrap_or_default();
    let mut r = codec_v5::Reader::new(body, packet);
    Ok(match packet_type {
        2 => {
            let flags = r.u8()?;
            let code = r.u8()?;
            // The return code is checked before the reserved bits, as
            // `mqttbytes` did.
            if code > 5 {
                return Err(ProtocolError::InvalidConnackCode(code));
            }
            if flags & 0xFE != 0 {
                return Err(ProtocolError::ConnackReservedBits(flags));
            }
            Incoming::ConnAck {
                session_present: flags & 1 == 1,
                code,
                granted: None,
            }
        }
        3 => {
            let (topic, qos, pkid) = read_publish_head(&mut r, header)?;
            topic::validate_topic_name(&topic).map_err(ProtocolError::InvalidTopic)?;
            let flags = header.flags();
            // The payload is the end of the frame.
            let at = frame.len().saturating_sub(r.len());
            Incoming::Publish(
                Message {
                    topic,
                    payload: frame.split_off(at).freeze(),
                    qos,
                    retain: flags & 0b0001 != 0,
                    dup: flags & 0b1000 != 0,
                    pkid,
                    properties: None,
                },
                None,
            )
        }
        4..=7 => {
            let pkid = nonzero(packet, r.u16()?)?;
            let a = Ack::default();
            match packet_type {
                4 => Incoming::PubAck(pkid, a),
                5 => Incoming::PubRec(pkid, a),
                6 => Incoming::PubRel(pkid, a),
                _ => Incoming::PubComp(pkid, a),
            }
        }
        9 => {
            let pkid = r.u16()?;
            let codes = r.take(r.len()).unwrap_or_default();
            // check_header let no SUBACK without a return code through.
            let mut results = Vec::with_capacity(codes.len());
            for &c in codes {
                results.push(match c {
                    0x80 => SubscribeResult::Refused,
                    c => SubscribeResult::Granted(
                        QoS::from_u8(c).ok_or(ProtocolError::InvalidSubAckCode(c))?,
                    ),
                });
            }
            Incoming::SubAck {
                pkid: nonzero(packet, pkid)?,
                results,
                reason: None,
            }
        }
        11 => Incoming::UnsubAck {
            pkid: nonzero(packet, r.u16()?)?,
            codes: Vec::new(),
            reason: None,
        },
        13 => Incoming::PingResp,
        // check_header already refused every other type.
        _ => return Err(ProtocolError::UnexpectedPacket { packet }),
    })
}

/// `mqttbytes`' reading of a frame, with the checks it lacks: what the
/// strict reader must agree with, error for error (tests only).
#[cfg(test)]
fn decode_frame_mqttbytes(
    header: &FixedHeader,
    mut frame: BytesMut,
) -> Result<Incoming, ProtocolError> {
    let packet = packet_name(header.packet_type());
    if header.packet_type() == 13 {
        return Ok(Incoming::PingResp);
    }
    // CONNACK's flags byte, which mqttbytes reads without checking.
    let connack_flags = frame.get(header.header_len).copied().unwrap_or(0);
    let decoded = v4::read(&mut frame, usize::MAX).map_err(|e| map_read_error(packet, e))?;
    let incoming = match decoded {
        v4::Packet::ConnAck(ack) => {
            if connack_flags & 0xFE != 0 {
                return Err(ProtocolError::ConnackReservedBits(connack_flags));
            }
            Incoming::ConnAck {
                session_present: ack.session_present,
                code: ack.code as u8,
                granted: None,
            }
        }
        v4::Packet::Publish(p) => {
            topic::validate_topic_name(&p.topic).map_err(ProtocolError::InvalidTopic)?;
            Incoming::Publish(
                Message {
                    topic: p.topic,
                    payload: p.payload,
                    qos: QoS::from_mqttbytes(p.qos),
                    retain: p.retain,
                    dup: p.dup,
                    pkid: p.pkid,
                    properties: None,
                },
                None,
            )
        }
        v4::Packet::PubAck(a) => Incoming::PubAck(nonzero(packet, a.pkid)?, Ack::default()),
        v4::Packet::PubRec(a) => Incoming::PubRec(nonzero(packet, a.pkid)?, Ack::default()),
        v4::Packet::PubRel(a) => Incoming::PubRel(nonzero(packet, a.pkid)?, Ack::default()),
        v4::Packet::PubComp(a) => Incoming::PubComp(nonzero(packet, a.pkid)?, Ack::default()),
        v4::Packet::UnsubAck(a) => Incoming::UnsubAck {
            pkid: nonzero(packet, a.pkid)?,
            codes: Vec::new(),
            reason: None,
        },
        v4::Packet::SubAck(a) => Incoming::SubAck {
            pkid: nonzero(packet, a.pkid)?,
            results: a
                .return_codes
                .iter()
                .map(|c| match c {
                    v4::SubscribeReasonCode::Success(q) => {
                        SubscribeResult::Granted(QoS::from_mqttbytes(*q))
                    }
                    v4::SubscribeReasonCode::Failure => SubscribeResult::Refused,
                })
                .collect(),
            reason: None,
        },
        v4::Packet::PingResp => Incoming::PingResp,
        // check_header already refused every other type.
        _ => return Err(ProtocolError::UnexpectedPacket { packet }),
    };
    Ok(incoming)
}

#[cfg(test)]
pub(crate) fn map_read_error(packet: &'static str, e: mqttbytes::Error) -> ProtocolError {
    use mqttbytes::Error as E;
    match e {
        E::TopicNotUtf8 => ProtocolError::InvalidUtf8 { packet },
        E::InvalidQoS(q) => ProtocolError::InvalidQoS(q),
        E::PacketIdZero => ProtocolError::PacketIdZero { packet },
        E::InvalidSubscribeReasonCode(c) => ProtocolError::InvalidSubAckCode(c),
        E::InvalidConnectReturnCode(c) => ProtocolError::InvalidConnackCode(c),
        E::BoundaryCrossed(_) => ProtocolError::Malformed {
            packet,
            detail: PAST_THE_END.into(),
        },
        E::MalformedPacket | E::InsufficientBytes(_) => ProtocolError::Malformed {
            packet,
            detail: ENDS_EARLY.into(),
        },
        other => ProtocolError::Malformed {
            packet,
            detail: format!("{other:?}"),
        },
    }
}

/// What the decoder says when a length field runs past the end of a packet.
pub(crate) const PAST_THE_END: &str = "a length field runs past the end of the packet";
/// What the decoder says when a packet ends before its fields do.
pub(crate) const ENDS_EARLY: &str = "the packet ends too early";

/// What is known of a PUBLISH larger than the size limit besides its
/// message (topic, flags, packet id): its sizes. The decoder discards its
/// payload as it arrives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Skipped {
    /// Payload bytes discarded.
    pub(crate) size: usize,
    /// The whole packet, fixed header included.
    pub(crate) packet_size: usize,
    /// The limit it was over.
    pub(crate) limit: usize,
}

/// What the decoder can do with the bytes it holds.
enum Step {
    /// This many more bytes are needed before anything can be decided.
    Need(usize),
    /// The buffer holds exactly this whole frame.
    Frame(FixedHeader),
    /// The buffer holds exactly the head (fixed header, topic, packet id) of
    /// this oversized PUBLISH, which is this many bytes long.
    Head(FixedHeader, usize),
}

/// Splits a byte stream into checked packets.
///
/// It takes from its input only the bytes the current packet needs, so it
/// never holds more than one packet within the limit, or the head of one
/// oversized PUBLISH (at most [`crate::MAX_OVERSIZED_HEAD_LEN`] bytes). The
/// payload of an oversized PUBLISH is discarded straight from the input,
/// whatever its size, and is never buffered.
pub(crate) struct Decoder {
    buf: BytesMut,
    max_packet_size: usize,
    protocol: ProtocolVersion,
    /// Payload bytes of an oversized PUBLISH still to discard.
    skip: usize,
}

impl Decoder {
    pub(crate) fn new(max_packet_size: usize, protocol: ProtocolVersion) -> Self {
        Decoder {
            buf: BytesMut::new(),
            max_packet_size,
            protocol,
            skip: 0,
        }
    }

    pub(crate) fn set_max_packet_size(&mut self, max: usize) {
        self.max_packet_size = max;
    }

    pub(crate) fn set_protocol(&mut self, protocol: ProtocolVersion) {
        self.protocol = protocol;
    }

    /// Forgets the packet in progress (buffered bytes and any payload still
    /// to discard).
    pub(crate) fn clear(&mut self) {
        self.buf = BytesMut::new();
        self.skip = 0;
    }

    /// Bytes buffered and not yet decoded.
    pub(crate) fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// True while a packet has begun and not ended: bytes are buffered, or
    /// the payload of an oversized PUBLISH is still arriving.
    pub(crate) fn in_packet(&self) -> bool {
        !self.buf.is_empty() || self.skip > 0
    }

    /// The next whole packet, taking bytes from the front of `input` (and
    /// leaving the rest there); `Ok(None)` once `input` is used up without
    /// completing one. The type, flags and size limit are checked as soon as
    /// the fixed header is in. A PUBLISH over the limit comes out as
    /// [`Incoming::PublishNotKept`] as soon as its topic and packet id are
    /// in; its payload is then discarded as it arrives.
    pub(crate) fn next_packet(
        &mut self,
        input: &mut &[u8],
    ) -> Result<Option<Incoming>, SessionError> {
        loop {
            if self.skip > 0 {
                let n = self.skip.min(input.len());
                *input = input.get(n..).unwrap_or_default();
                self.skip -= n;
                if self.skip > 0 {
                    return Ok(None);
                }
            }
            match self.step()? {
                Step::Frame(header) => {
                    let frame = self.buf.split_to(header.frame_len());
                    return Ok(Some(if self.protocol == ProtocolVersion::V5 {
                        codec_v5::decode_frame(&header, frame)?
                    } else {
                        decode_frame(&header, frame)?
                    }));
                }
                Step::Head(header, head_len) => {
                    let head = self.buf.split_to(head_len);
                    let (message, skipped) =
                        decode_oversized_head(&header, &head, self.max_packet_size)?;
                    self.skip = skipped.size;
                    return Ok(Some(Incoming::PublishNotKept(message, skipped)));
                }
                Step::Need(n) => {
                    if input.is_empty() {
                        return Ok(None);
                    }
                    let (now, rest) = input.split_at(n.min(input.len()));
                    // Room for the rest of the packet (or head) at once: at
                    // most the limit, or the bound on a head.
                    self.buf.reserve(n);
                    self.buf.extend_from_slice(now);
                    *input = rest;
                }
            }
        }
    }

    fn step(&self) -> Result<Step, SessionError> {
        let have = self.buf.len();
        let Some(header) = parse_fixed_header(&self.buf)? else {
            // Two bytes at least, then one at a time: the length field may
            // end at any of its four bytes.
            return Ok(Step::Need(2usize.saturating_sub(have).max(1)));
        };
        // Type and flags first: garbage is better reported as what it is
        // than as a huge packet.
        if self.protocol == ProtocolVersion::V5 {
            codec_v5::check_header(&header)?;
        } else {
            check_header(&header)?;
        }
        let frame_len = header.frame_len();
        if frame_len <= self.max_packet_size {
            return Ok(if have < frame_len {
                Step::Need(frame_len - have)
            } else {
                Step::Frame(header)
            });
        }
        // MQTT 5 told the broker our Maximum Packet Size, so the spec makes
        // a larger PUBLISH a protocol error; it is read through all the
        // same, as with 3.1.1: mosquitto 2.0 sends PUBLISHes one byte over
        // the size we announce (it leaves the first byte out), and a QoS 1
        // one queued for a persistent session would otherwise end every
        // reconnect. The head read is topic and packet id; the properties
        // are discarded with the payload (an oversized PUBLISH that names
        // its topic by alias alone is refused for its empty topic).
        if header.packet_type() != 3 {
            return Err(SessionError::PacketTooLarge {
                size: frame_len,
                max: self.max_packet_size,
            });
        }
        // An oversized PUBLISH: its topic length first (check_header made
        // sure the packet has one), then the topic and the packet id.
        let len_end = header.header_len + 2;
        if have < len_end {
            return Ok(Step::Need(len_end - have));
        }
        let topic_len = match self.buf.get(header.header_len..len_end) {
            Some(&[hi, lo]) => usize::from(u16::from_be_bytes([hi, lo])),
            _ => return Ok(Step::Need(1)),
        };
        let topic_end = len_end + topic_len;
        if topic_end > frame_len {
            return Err(malformed(PAST_THE_END).into());
        }
        let id_len = if publish_qos(&header) == 0 { 0 } else { 2 };
        // A packet id cut off by the end of the packet is reported once the
        // topic has been checked, as for a PUBLISH within the limit.
        let head_len = (topic_end + id_len).min(frame_len);
        Ok(if have < head_len {
            Step::Need(head_len - have)
        } else {
            Step::Head(header, head_len)
        })
    }
}

fn publish_qos(header: &FixedHeader) -> u8 {
    (header.flags() >> 1) & 0b11
}

fn malformed(detail: &str) -> ProtocolError {
    ProtocolError::Malformed {
        packet: "PUBLISH",
        detail: detail.into(),
    }
}

/// Decodes the head of an oversized PUBLISH with the same checks, in the
/// same order, as `decode_frame` applies to a whole one (topic within the
/// packet, UTF-8, packet id present and nonzero, topic name rules).
fn decode_oversized_head(
    header: &FixedHeader,
    head: &[u8],
    limit: usize,
) -> Result<(Message, Skipped), ProtocolError> {
    let body = head.get(header.header_len..).unwrap_or_default();
    let mut r = codec_v5::Reader::new(body, "PUBLISH");
    let (topic, qos, pkid) = read_publish_head(&mut r, header)?;
    topic::validate_topic_name(&topic).map_err(ProtocolError::InvalidTopic)?;
    let head_len = body.len() - r.len();
    let flags = header.flags();
    let message = Message {
        topic,
        payload: Bytes::new(),
        qos,
        retain: flags & 0b0001 != 0,
        dup: flags & 0b1000 != 0,
        pkid,
        properties: None,
    };
    let skipped = Skipped {
        size: header.remaining_len.saturating_sub(head_len),
        packet_size: header.frame_len(),
        limit,
    };
    Ok((message, skipped))
}

/// Checks that a PUBLISH with this topic and payload fits MQTT's 256 MiB
/// remaining-length limit.
pub(crate) fn check_publish_len(
    topic: &str,
    payload_len: usize,
    qos: QoS,
) -> Result<(), SessionError> {
    let id_len = if qos == QoS::AtMostOnce { 0 } else { 2 };
    let len = 2usize
        .saturating_add(topic.len())
        .saturating_add(id_len)
        .saturating_add(payload_len);
    if len > MAX_REMAINING_LEN {
        return Err(remaining_len_err(len));
    }
    Ok(())
}

pub(crate) fn remaining_len_err(size: usize) -> SessionError {
    SessionError::OutgoingTooLarge {
        size,
        max: MAX_REMAINING_LEN,
    }
}

pub(crate) fn check_str_len(s: &[u8]) -> Result<(), SessionError> {
    if s.len() > usize::from(u16::MAX) {
        return Err(SessionError::Encode(format!(
            "a string of {} bytes does not fit MQTT's 65535-byte limit",
            s.len()
        )));
    }
    Ok(())
}

pub(crate) fn put_varint(buf: &mut BytesMut, mut len: usize) {
    loop {
        let mut byte = (len % 128) as u8;
        len /= 128;
        if len > 0 {
            byte |= 0x80;
        }
        buf.put_u8(byte);
        if len == 0 {
            break;
        }
    }
}

pub(crate) fn put_str(buf: &mut BytesMut, s: &[u8]) {
    // Lengths were checked to fit u16 before anything was written.
    buf.put_u16(s.len() as u16);
    buf.extend_from_slice(s);
}

/// Writes CONNECT for MQTT 3.1 (`MQIsdp`, level 3) or 3.1.1 (`MQTT`, level 4).
fn write_connect(o: &Options, buf: &mut BytesMut) -> Result<(), SessionError> {
    let name = o.protocol.protocol_name().as_bytes();
    let client_id = o.client_id.as_bytes();
    check_str_len(client_id)?;
    let mut len = 2 + name.len() + 1 + 1 + 2 + 2 + client_id.len();
    let mut flags = 0u8;
    if o.clean_session {
        flags |= 0x02;
    }
    if let Some(w) = &o.last_will {
        topic::validate_topic_name(&w.topic)?;
        check_str_len(&w.payload)?;
        len += 2 + w.topic.len() + 2 + w.payload.len();
        flags |= 0x04 | (w.qos.as_u8() << 3);
        if w.retain {
            flags |= 0x20;
        }
    }
    if let Some(u) = &o.username {
        check_str_len(u.as_bytes())?;
        len += 2 + u.len();
        flags |= 0x80;
    }
    if let Some(p) = &o.password {
        if o.username.is_none() {
            return Err(SessionError::Encode(
                "a password can only be sent together with a user name".into(),
            ));
        }
        check_str_len(p.as_bytes())?;
        len += 2 + p.len();
        flags |= 0x40;
    }
    buf.reserve(len + 5);
    buf.put_u8(0x10);
    put_varint(buf, len);
    put_str(buf, name);
    buf.put_u8(o.protocol.level());
    buf.put_u8(flags);
    buf.put_u16(o.keep_alive_secs);
    put_str(buf, client_id);
    if let Some(w) = &o.last_will {
        put_str(buf, w.topic.as_bytes());
        put_str(buf, &w.payload);
    }
    if let Some(u) = &o.username {
        put_str(buf, u.as_bytes());
    }
    if let Some(p) = &o.password {
        put_str(buf, p.as_bytes());
    }
    Ok(())
}

#[cfg(test)]
pub(crate) fn encode_error(e: mqttbytes::Error) -> SessionError {
    SessionError::Encode(format!("{e:?}"))
}

pub(crate) fn check_pkid(pkid: u16) -> Result<(), SessionError> {
    if pkid == 0 {
        Err(SessionError::Encode("packet id 0 is not allowed".into()))
    } else {
        Ok(())
    }
}

/// Writes a fixed header for a packet of remaining length `len`, after
/// checking that MQTT can carry it, with room reserved for the rest.
pub(crate) fn put_header(buf: &mut BytesMut, byte1: u8, len: usize) -> Result<(), SessionError> {
    if len > MAX_REMAINING_LEN {
        return Err(remaining_len_err(len));
    }
    buf.reserve(len + 5);
    buf.put_u8(byte1);
    put_varint(buf, len);
    Ok(())
}

/// The first byte of a PUBLISH (DUP only with QoS > 0).
pub(crate) fn publish_byte1(qos: QoS, retain: bool, dup: bool) -> u8 {
    let dup = dup && qos != QoS::AtMostOnce;
    0x30 | u8::from(retain) | (qos.as_u8() << 1) | (u8::from(dup) << 3)
}

/// Checks the filters of an UNSUBSCRIBE and writes it; MQTT 5 puts an
/// empty property length after the packet id.
fn write_unsubscribe(
    pkid: u16,
    filters: &[String],
    protocol: ProtocolVersion,
    buf: &mut BytesMut,
) -> Result<(), SessionError> {
    check_pkid(pkid)?;
    if filters.is_empty() {
        return Err(SessionError::NoFilters);
    }
    let v5 = protocol == ProtocolVersion::V5;
    let mut len = 2 + usize::from(v5);
    for f in filters {
        topic::validate_filter(f)?;
        len += 2 + f.len();
    }
    put_header(buf, 0xA2, len)?;
    buf.put_u16(pkid);
    if v5 {
        buf.put_u8(0);
    }
    for f in filters {
        put_str(buf, f.as_bytes());
    }
    Ok(())
}

/// Writes one packet: what MQTT 3.1 / 3.1.1 and 5 write alike here (the
/// two-byte acks, UNSUBSCRIBE but for its property length, PINGREQ), the
/// rest by protocol. Everything is written by this crate: `mqttbytes`'
/// writers only check ours in the tests (see `encode`).
fn write_packet(
    packet: &Outgoing<'_>,
    protocol: ProtocolVersion,
    buf: &mut BytesMut,
) -> Result<(), SessionError> {
    let v5 = protocol == ProtocolVersion::V5;
    let (byte1, pkid) = match *packet {
        Outgoing::Connect(o) if v5 => return codec_v5::write_connect(o, buf),
        Outgoing::Connect(o) => return write_connect(o, buf),
        Outgoing::Publish {
            topic,
            payload,
            qos,
            retain,
            dup,
            pkid,
            properties,
            alias,
        } if v5 => {
            return codec_v5::write_publish(
                topic, payload, qos, retain, dup, pkid, properties, alias, buf,
            )
        }
        Outgoing::Publish {
            topic,
            payload,
            qos,
            retain,
            dup,
            pkid,
            properties: _,
            alias: _,
        } => {
            // Topics over 65535 bytes, wildcards, empty topics and U+0000
            // are refused before anything is written.
            topic::validate_topic_name(topic)?;
            let id_len = if qos == QoS::AtMostOnce {
                0
            } else {
                check_pkid(pkid)?;
                2
            };
            put_header(
                buf,
                publish_byte1(qos, retain, dup),
                2 + topic.len() + id_len + payload.len(),
            )?;
            put_str(buf, topic.as_bytes());
            if qos != QoS::AtMostOnce {
                buf.put_u16(pkid);
            }
            buf.extend_from_slice(payload);
            return Ok(());
        }
        // The two-byte form in both protocols (MQTT 5: success, no
        // properties).
        Outgoing::PubAck(pkid) => (0x40, pkid),
        Outgoing::PubRec(pkid) => (0x50, pkid),
        Outgoing::PubRel(pkid) => (0x62, pkid),
        Outgoing::PubComp(pkid) => (0x70, pkid),
        Outgoing::Subscribe {
            pkid,
            filters,
            identifier,
        } if v5 => return codec_v5::write_subscribe(pkid, filters, identifier, buf),
        Outgoing::Subscribe {
            pkid,
            filters,
            identifier: _,
        } => {
            check_pkid(pkid)?;
            if filters.is_empty() {
                return Err(SessionError::NoFilters);
            }
            let mut len = 2usize;
            for s in filters {
                topic::validate_filter(&s.filter)?;
                len += 2 + s.filter.len() + 1;
            }
            put_header(buf, 0x82, len)?;
            buf.put_u16(pkid);
            for s in filters {
                put_str(buf, s.filter.as_bytes());
                buf.put_u8(s.qos.as_u8());
            }
            return Ok(());
        }
        Outgoing::Unsubscribe { pkid, filters } => {
            return write_unsubscribe(pkid, filters, protocol, buf)
        }
        Outgoing::PingReq => {
            buf.put_slice(&[0xC0, 0]);
            return Ok(());
        }
        Outgoing::Disconnect(code) if v5 => return codec_v5::write_disconnect(code, buf),
        Outgoing::Disconnect(_) => {
            buf.put_slice(&[0xE0, 0]);
            return Ok(());
        }
    };
    check_pkid(pkid)?;
    buf.put_slice(&[byte1, 2]);
    buf.put_u16(pkid);
    Ok(())
}

/// Appends one whole packet to `buf`, or nothing at all on error. In this
/// crate's tests, every packet but CONNECT (which `mqttbytes` writes wrong)
/// is also written by `mqttbytes`, and the two must be the same bytes.
pub(crate) fn encode(
    packet: &Outgoing<'_>,
    protocol: ProtocolVersion,
    buf: &mut BytesMut,
) -> Result<(), SessionError> {
    let mark = buf.len();
    let result = write_packet(packet, protocol, buf);
    if result.is_err() {
        buf.truncate(mark);
    }
    #[cfg(test)]
    if result.is_ok() {
        let theirs = if protocol == ProtocolVersion::V5 {
            codec_v5::written_by_mqttbytes(packet)
        } else {
            written_by_mqttbytes(packet)
        };
        if let Some(theirs) = theirs {
            assert_eq!(
                buf.get(mark..),
                Some(&theirs[..]),
                "mqttbytes writes {packet:?} otherwise"
            );
        }
    }
    result
}

/// What `mqttbytes::v4` writes for a packet we wrote (tests only; `None`
/// for CONNECT).
#[cfg(test)]
fn written_by_mqttbytes(packet: &Outgoing<'_>) -> Option<Vec<u8>> {
    let mut buf = BytesMut::new();
    let written = match *packet {
        Outgoing::Connect(_) => return None,
        Outgoing::Publish {
            topic,
            payload,
            qos,
            retain,
            dup,
            pkid,
            ..
        } => v4::Publish {
            dup: dup && qos != QoS::AtMostOnce,
            qos: qos.to_mqttbytes(),
            retain,
            topic: topic.to_owned(),
            pkid: if qos == QoS::AtMostOnce { 0 } else { pkid },
            payload: payload.clone(),
        }
        .write(&mut buf),
        Outgoing::PubAck(pkid) => v4::PubAck::new(pkid).write(&mut buf),
        Outgoing::PubRec(pkid) => v4::PubRec::new(pkid).write(&mut buf),
        Outgoing::PubRel(pkid) => v4::PubRel::new(pkid).write(&mut buf),
        Outgoing::PubComp(pkid) => v4::PubComp::new(pkid).write(&mut buf),
        Outgoing::Subscribe { pkid, filters, .. } => v4::Subscribe {
            pkid,
            filters: filters
                .iter()
                .map(|s| v4::SubscribeFilter::new(s.filter.clone(), s.qos.to_mqttbytes()))
                .collect(),
        }
        .write(&mut buf),
        Outgoing::Unsubscribe { pkid, filters } => v4::Unsubscribe {
            pkid,
            topics: filters.to_vec(),
        }
        .write(&mut buf),
        Outgoing::PingReq => v4::PingReq.write(&mut buf),
        Outgoing::Disconnect(_) => v4::Disconnect.write(&mut buf),
    };
    assert!(written.is_ok(), "mqttbytes refuses {packet:?}");
    Some(buf.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::LastWill;

    fn enc(p: &Outgoing<'_>) -> Result<Vec<u8>, SessionError> {
        let mut b = BytesMut::new();
        encode(p, ProtocolVersion::V3_1_1, &mut b)?;
        Ok(b.to_vec())
    }

    fn decode_all(bytes: &[u8]) -> Result<Vec<Incoming>, SessionError> {
        decode_all_with(usize::MAX, bytes)
    }

    fn decode_all_with(limit: usize, mut bytes: &[u8]) -> Result<Vec<Incoming>, SessionError> {
        let mut d = Decoder::new(limit, ProtocolVersion::V3_1_1);
        let mut out = Vec::new();
        while let Some(p) = d.next_packet(&mut bytes)? {
            out.push(p);
        }
        Ok(out)
    }

    #[test]
    fn connect_3_1_1_matches_mqttbytes_byte_for_byte_where_mqttbytes_is_right() {
        let o = Options {
            client_id: "dev-1".into(),
            username: Some("user".into()),
            password: Some("pass".into()),
            keep_alive_secs: 120,
            clean_session: false,
            last_will: Some(LastWill {
                topic: "dev/1/status".into(),
                payload: b"offline".to_vec(),
                qos: QoS::AtLeastOnce,
                retain: true,
            }),
            ..Options::default()
        };
        let ours = enc(&Outgoing::Connect(&o)).map_err(|e| e.to_string());
        let mut theirs = BytesMut::new();
        let mut c = v4::Connect::new("dev-1");
        c.keep_alive = 120;
        c.clean_session = false;
        c.last_will = Some(v4::LastWill::new(
            "dev/1/status",
            b"offline".to_vec(),
            mqttbytes::QoS::AtLeastOnce,
            true,
        ));
        c.set_login("user", "pass");
        assert!(c.write(&mut theirs).is_ok());
        assert_eq!(ours, Ok(theirs.to_vec()));
    }

    #[test]
    fn connect_3_1_uses_mqisdp_level_3() {
        let o = Options {
            client_id: "abc".into(),
            protocol: ProtocolVersion::V3_1,
            keep_alive_secs: 60,
            ..Options::default()
        };
        let bytes = enc(&Outgoing::Connect(&o)).map_err(|e| e.to_string());
        let expected = vec![
            0x10, 17, 0, 6, b'M', b'Q', b'I', b's', b'd', b'p', 3, 0x02, 0, 60, 0, 3, b'a', b'b',
            b'c',
        ];
        assert_eq!(bytes, Ok(expected));
    }

    #[test]
    fn connect_keeps_an_empty_password_that_mqttbytes_drops() {
        let o = Options {
            client_id: "c".into(),
            username: Some("u".into()),
            password: Some(String::new()),
            ..Options::default()
        };
        let bytes = enc(&Outgoing::Connect(&o)).unwrap_or_default();
        // flags: username, password, clean session
        assert_eq!(bytes.get(9), Some(&0xC2));
        assert!(bytes.ends_with(&[0, 1, b'u', 0, 0]));
        // mqttbytes leaves the password out (and the password flag off).
        let mut theirs = BytesMut::new();
        let mut c = v4::Connect::new("c");
        c.set_login("u", "");
        assert!(c.write(&mut theirs).is_ok());
        assert_eq!(theirs.get(9), Some(&0x82), "mqttbytes defect is gone");
    }

    #[test]
    fn publishing_to_a_topic_longer_than_65535_bytes_is_refused_not_truncated() {
        let long = "a".repeat(65_536);
        let payload = Bytes::from_static(b"x");
        let mut theirs = BytesMut::new();
        let written =
            v4::Publish::new(long.clone(), mqttbytes::QoS::AtMostOnce, "x").write(&mut theirs);
        assert!(written.is_ok(), "mqttbytes defect is gone");
        // Header: 0x30 and a 3-byte remaining length; then the topic length,
        // which mqttbytes wrote as 65536 truncated to u16: 0.
        assert_eq!(theirs.get(4..6), Some(&[0u8, 0][..]), "mqttbytes truncates");

        let mut buf = BytesMut::from(&b"keep"[..]);
        let r = encode(
            &Outgoing::Publish {
                topic: &long,
                payload: &payload,
                qos: QoS::AtMostOnce,
                retain: false,
                dup: false,
                pkid: 0,
                properties: None,
                alias: None,
            },
            ProtocolVersion::V3_1_1,
            &mut buf,
        );
        assert_eq!(
            r,
            Err(SessionError::InvalidTopic(
                crate::topic::TopicError::TooLong { len: 65_536 }
            ))
        );
        assert_eq!(&buf[..], b"keep");
    }

    #[test]
    fn qos1_publish_with_packet_id_0_leaves_no_bytes_behind() {
        let mut theirs = BytesMut::new();
        let mut p = v4::Publish::new("a", mqttbytes::QoS::AtLeastOnce, "x");
        p.pkid = 0;
        assert!(p.write(&mut theirs).is_err());
        assert!(!theirs.is_empty(), "mqttbytes defect is gone");

        let mut buf = BytesMut::from(&b"keep"[..]);
        let payload = Bytes::from_static(b"x");
        let r = encode(
            &Outgoing::Publish {
                topic: "a",
                payload: &payload,
                qos: QoS::AtLeastOnce,
                retain: false,
                dup: false,
                pkid: 0,
                properties: None,
                alias: None,
            },
            ProtocolVersion::V3_1_1,
            &mut buf,
        );
        assert!(matches!(r, Err(SessionError::Encode(_))));
        assert_eq!(&buf[..], b"keep");
    }

    #[test]
    fn empty_subscribe_and_bad_filters_are_refused_although_mqttbytes_encodes_them() {
        let mut theirs = BytesMut::new();
        assert!(v4::Subscribe::empty_subscribe().write(&mut theirs).is_ok());
        let mut theirs = BytesMut::new();
        assert!(v4::Subscribe::new("a/#/b", mqttbytes::QoS::AtMostOnce)
            .write(&mut theirs)
            .is_ok());

        assert_eq!(
            enc(&Outgoing::Subscribe {
                pkid: 1,
                filters: &[],
                identifier: None,
            }),
            Err(SessionError::NoFilters)
        );
        assert_eq!(
            enc(&Outgoing::Subscribe {
                pkid: 1,
                filters: &[Subscription::new("a/#/b", QoS::AtMostOnce)],
                identifier: None,
            }),
            Err(SessionError::InvalidTopic(
                crate::topic::TopicError::HashNotLast
            ))
        );
        assert_eq!(
            enc(&Outgoing::Unsubscribe {
                pkid: 1,
                filters: &["a+".into()]
            }),
            Err(SessionError::InvalidTopic(
                crate::topic::TopicError::PlusNotWholeLevel
            ))
        );
    }

    #[test]
    fn a_packet_larger_than_256_mib_is_refused_before_encoding() {
        let payload = Bytes::from(vec![0u8; MAX_REMAINING_LEN]);
        let mut buf = BytesMut::new();
        let r = encode(
            &Outgoing::Publish {
                topic: "t",
                payload: &payload,
                qos: QoS::AtMostOnce,
                retain: false,
                dup: false,
                pkid: 0,
                properties: None,
                alias: None,
            },
            ProtocolVersion::V3_1_1,
            &mut buf,
        );
        assert!(matches!(r, Err(SessionError::OutgoingTooLarge { .. })));
        assert!(buf.is_empty());
    }

    #[test]
    fn fixed_header_lengths_decode_at_every_width() {
        for (bytes, len, hlen) in [
            (vec![0x30, 0x00], 0usize, 2usize),
            (vec![0x30, 0x7F], 127, 2),
            (vec![0x30, 0x80, 0x01], 128, 3),
            (vec![0x30, 0xFF, 0x7F], 16_383, 3),
            (vec![0x30, 0x80, 0x80, 0x01], 16_384, 4),
            (vec![0x30, 0xFF, 0xFF, 0xFF, 0x7F], 268_435_455, 5),
        ] {
            let h = parse_fixed_header(&bytes);
            assert_eq!(
                h,
                Ok(Some(FixedHeader {
                    byte1: 0x30,
                    header_len: hlen,
                    remaining_len: len
                }))
            );
        }
        assert_eq!(parse_fixed_header(&[0x30, 0x80, 0x80]), Ok(None));
        assert_eq!(parse_fixed_header(&[0x30]), Ok(None));
        assert_eq!(
            parse_fixed_header(&[0x30, 0xFF, 0xFF, 0xFF, 0xFF]),
            Err(ProtocolError::MalformedRemainingLength)
        );
    }

    #[test]
    fn illegal_packets_that_mqttbytes_accepts_are_refused() {
        // (bytes, that mqttbytes reads them without error, our error)
        let cases: Vec<(Vec<u8>, ProtocolError)> = vec![
            (
                vec![0x30, 5, 0, 3, b'a', b'/', b'+'],
                ProtocolError::InvalidTopic(crate::topic::TopicError::WildcardInTopicName),
            ),
            (
                vec![0x30, 4, 0, 2, b'a', b'#'],
                ProtocolError::InvalidTopic(crate::topic::TopicError::WildcardInTopicName),
            ),
            (
                vec![0x30, 4, 0, 2, b'a', 0],
                ProtocolError::InvalidTopic(crate::topic::TopicError::ContainsNul),
            ),
            (vec![0x38, 4, 0, 2, b'a', b'b'], ProtocolError::DupWithQoS0),
            (
                vec![0x60, 2, 0, 1],
                ProtocolError::BadFlags {
                    packet: "PUBREL",
                    flags: 0,
                },
            ),
            (
                vec![0x20, 2, 0x02, 0],
                ProtocolError::ConnackReservedBits(2),
            ),
            (
                vec![0x20, 2, 0x80, 0],
                ProtocolError::ConnackReservedBits(0x80),
            ),
            (
                vec![0x40, 3, 0, 1, 0],
                ProtocolError::BadRemainingLength {
                    packet: "PUBACK",
                    len: 3,
                },
            ),
            (
                vec![0xD0, 1, 0],
                ProtocolError::BadRemainingLength {
                    packet: "PINGRESP",
                    len: 1,
                },
            ),
        ];
        for (bytes, expected) in cases {
            let mut raw = BytesMut::from(&bytes[..]);
            assert!(
                v4::read(&mut raw, usize::MAX).is_ok(),
                "mqttbytes now refuses {bytes:02x?}"
            );
            assert_eq!(
                decode_all(&bytes),
                Err(SessionError::Protocol(expected)),
                "{bytes:02x?}"
            );
        }
    }

    #[test]
    fn packets_a_client_never_receives_are_refused() {
        for (byte1, name) in [
            (0x10u8, "CONNECT"),
            (0x82, "SUBSCRIBE"),
            (0xA2, "UNSUBSCRIBE"),
            (0xC0, "PINGREQ"),
            (0xE0, "DISCONNECT"),
        ] {
            assert_eq!(
                decode_all(&[byte1, 0]),
                Err(SessionError::Protocol(ProtocolError::UnexpectedPacket {
                    packet: name
                }))
            );
        }
        assert_eq!(
            decode_all(&[0x00, 0]),
            Err(SessionError::Protocol(ProtocolError::ReservedPacketType(0)))
        );
        assert_eq!(
            decode_all(&[0xF0, 0]),
            Err(SessionError::Protocol(ProtocolError::ReservedPacketType(
                15
            )))
        );
    }

    #[test]
    fn received_publish_with_ill_formed_utf8_topic_is_a_protocol_error() {
        assert_eq!(
            decode_all(&[0x30, 4, 0, 2, 0xC3, 0x28]),
            Err(SessionError::Protocol(ProtocolError::InvalidUtf8 {
                packet: "PUBLISH"
            }))
        );
        // A UTF-16 surrogate encoded in UTF-8 (CESU) is ill-formed too.
        assert_eq!(
            decode_all(&[0x30, 5, 0, 3, 0xED, 0xA0, 0x80]),
            Err(SessionError::Protocol(ProtocolError::InvalidUtf8 {
                packet: "PUBLISH"
            }))
        );
    }

    #[test]
    fn received_publish_payload_is_a_slice_of_the_frame() {
        let got = decode_all(&[0x32, 8, 0, 1, b't', 0, 7, b'a', b'b', b'c']);
        let expected = Incoming::Publish(
            Message {
                topic: "t".into(),
                payload: Bytes::from_static(b"abc"),
                qos: QoS::AtLeastOnce,
                retain: false,
                dup: false,
                pkid: 7,
                properties: None,
            },
            None,
        );
        assert_eq!(got, Ok(vec![expected]));
    }

    #[test]
    fn the_size_limit_of_packets_other_than_publish_is_checked_from_the_fixed_header_alone() {
        let mut d = Decoder::new(100, ProtocolVersion::V3_1_1);
        // A SUBACK that announces 200 bytes of remaining length: only its
        // header is read.
        let mut input: &[u8] = &[0x90, 0xC8, 0x01, 0, 1, 0];
        assert_eq!(
            d.next_packet(&mut input),
            Err(SessionError::PacketTooLarge {
                size: 203,
                max: 100
            })
        );
        assert_eq!(d.buffered(), 3);
        assert_eq!(input, &[0, 1, 0]);
    }

    #[test]
    fn an_oversized_publish_comes_out_from_its_head_and_its_payload_is_dropped_unbuffered() {
        let mut d = Decoder::new(100, ProtocolVersion::V3_1_1);
        // QoS 2, DUP and retain, topic "a/b", packet id 0x0102, 300 bytes
        // of payload: remaining length 2 + 3 + 2 + 300 = 307 (0xB3 0x02).
        let mut stream = vec![0x3D, 0xB3, 0x02, 0, 3, b'a', b'/', b'b', 1, 2];
        stream.extend_from_slice(&[0xEE; 300]);
        stream.extend_from_slice(&[0xD0, 0]);
        let mut input = &stream[..];
        let got = d.next_packet(&mut input);
        let expected = Incoming::PublishNotKept(
            Message {
                topic: "a/b".into(),
                payload: Bytes::new(),
                qos: QoS::ExactlyOnce,
                retain: true,
                dup: true,
                pkid: 0x0102,
                properties: None,
            },
            Skipped {
                size: 300,
                packet_size: 310,
                limit: 100,
            },
        );
        assert_eq!(got, Ok(Some(expected)));
        // Only the head was taken from the input.
        assert_eq!(input.len(), 302);
        assert_eq!(d.buffered(), 0);
        assert!(d.in_packet());
        // The payload goes straight through; the PINGRESP after it is read.
        assert_eq!(d.next_packet(&mut input), Ok(Some(Incoming::PingResp)));
        assert!(input.is_empty());
        assert!(!d.in_packet());
    }

    #[test]
    fn an_oversized_publish_is_decoded_alike_in_any_chunking() {
        let mut stream = vec![0x32, 0xB3, 0x02, 0, 3, b'a', b'/', b'b', 0, 9];
        stream.extend_from_slice(&[7; 300]);
        stream.extend_from_slice(&[0x40, 2, 0, 1]);
        let whole = decode_all_with(100, &stream);
        assert!(matches!(
            whole.as_deref(),
            Ok([Incoming::PublishNotKept(m, s), Incoming::PubAck(1, _)])
                if m.pkid == 9 && s.size == 300 && s.packet_size == 310
        ));
        for n in [1, 2, 3, 7, 64] {
            let mut d = Decoder::new(100, ProtocolVersion::V3_1_1);
            let mut got = Vec::new();
            for mut chunk in stream.chunks(n) {
                while let Ok(Some(p)) = d.next_packet(&mut chunk) {
                    got.push(p);
                }
                assert!(d.buffered() <= 10, "chunks of {n}");
            }
            assert_eq!(Ok(got), whole, "chunks of {n}");
        }
    }

    #[test]
    fn clearing_the_decoder_forgets_a_payload_being_dropped() {
        let mut d = Decoder::new(100, ProtocolVersion::V3_1_1);
        let mut input: &[u8] = &[0x30, 0xC8, 0x01, 0, 1, b't', 1, 2, 3];
        assert!(matches!(
            d.next_packet(&mut input),
            Ok(Some(Incoming::PublishNotKept(..)))
        ));
        assert_eq!(d.next_packet(&mut input), Ok(None));
        assert!(d.in_packet());
        d.clear();
        assert!(!d.in_packet());
        let mut next: &[u8] = &[0xD0, 0];
        assert_eq!(d.next_packet(&mut next), Ok(Some(Incoming::PingResp)));
    }
}
