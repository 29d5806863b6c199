//! The MQTT 5 side of the codec seam: checking and decoding what an MQTT 5
//! broker may send a client, and encoding what we send, over
//! `mqttbytes::v5`, with its defects guarded.
//!
//! This module must not keep session state (aliases in use, packets in
//! flight): that is `session`. Nothing here may panic on any input.

use bytes::BytesMut;

use crate::codec::{FixedHeader, Incoming, Outgoing};
use crate::error::{ProtocolError, SessionError};

/// Checks the packet type, flags and remaining length of an MQTT 5 header
/// a broker sent to a client, before its body is read.
pub(crate) fn check_header(header: &FixedHeader) -> Result<(), ProtocolError> {
    let _ = header;
    Err(ProtocolError::UnexpectedPacket {
        packet: "MQTT 5 (not yet implemented)",
    })
}

/// Decodes one whole MQTT 5 frame whose header passed `check_header`.
pub(crate) fn decode_frame(
    header: &FixedHeader,
    frame: BytesMut,
) -> Result<Incoming, ProtocolError> {
    let _ = (header, frame);
    Err(ProtocolError::UnexpectedPacket {
        packet: "MQTT 5 (not yet implemented)",
    })
}

/// Writes one MQTT 5 packet (the caller cuts `buf` back on error).
pub(crate) fn write_packet(packet: &Outgoing<'_>, buf: &mut BytesMut) -> Result<(), SessionError> {
    let _ = (packet, buf);
    Err(SessionError::Encode("MQTT 5 is not yet implemented".into()))
}
