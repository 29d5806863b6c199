//! Sparkplug topic names: `spBv1.0/<group>/<type>/<edge node>[/<device>]`,
//! `spBv1.0/STATE/<host id>` (Sparkplug 3.0) and `STATE/<host id>` (2.2).
//!
//! Parsing only, no state. A topic with the wrong number of levels for its
//! message type, an empty level, or an unknown message type is not a
//! Sparkplug topic.

/// A Sparkplug B message type of the `spBv1.0` namespace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageType {
    NBirth,
    NData,
    NDeath,
    NCmd,
    DBirth,
    DData,
    DDeath,
    DCmd,
}

impl MessageType {
    fn parse(s: &str) -> Option<MessageType> {
        Some(match s {
            "NBIRTH" => MessageType::NBirth,
            "NDATA" => MessageType::NData,
            "NDEATH" => MessageType::NDeath,
            "NCMD" => MessageType::NCmd,
            "DBIRTH" => MessageType::DBirth,
            "DDATA" => MessageType::DData,
            "DDEATH" => MessageType::DDeath,
            "DCMD" => MessageType::DCmd,
            _ => return None,
        })
    }

    /// The type as spelled in topics.
    pub fn name(self) -> &'static str {
        match self {
            MessageType::NBirth => "NBIRTH",
            MessageType::NData => "NDATA",
            MessageType::NDeath => "NDEATH",
            MessageType::NCmd => "NCMD",
            MessageType::DBirth => "DBIRTH",
            MessageType::DData => "DDATA",
            MessageType::DDeath => "DDEATH",
            MessageType::DCmd => "DCMD",
        }
    }

    /// True for the device types (their topics name a device).
    pub fn is_device(self) -> bool {
        matches!(
            self,
            MessageType::DBirth | MessageType::DData | MessageType::DDeath | MessageType::DCmd
        )
    }
}

/// A parsed Sparkplug topic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Topic<'a> {
    /// An edge node or device message.
    Message {
        group: &'a str,
        kind: MessageType,
        edge_node: &'a str,
        device: Option<&'a str>,
    },
    /// A host application's STATE; `v3`: under `spBv1.0/`.
    State { host: &'a str, v3: bool },
}

/// Parses `topic`, `None` if it is not a Sparkplug B topic.
pub fn parse(topic: &str) -> Option<Topic<'_>> {
    let levels: Vec<&str> = topic.split('/').collect();
    if levels.iter().any(|l| l.is_empty()) {
        return None;
    }
    match levels.as_slice() {
        ["STATE", host] => Some(Topic::State { host, v3: false }),
        ["spBv1.0", "STATE", host] => Some(Topic::State { host, v3: true }),
        ["spBv1.0", group, kind, node, rest @ ..] => {
            let kind = MessageType::parse(kind)?;
            let device = match (kind.is_device(), rest) {
                (false, []) => None,
                (true, [device]) => Some(*device),
                _ => return None,
            };
            Some(Topic::Message {
                group,
                kind,
                edge_node: node,
                device,
            })
        }
        _ => None,
    }
}
