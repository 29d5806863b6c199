//! Parsing of the `--broker` URL shared by `simulate` and `loadgen`.
//!
//! Accepted: `mqtt://host[:port]` (also `tcp://`, default port 1883), a bare
//! `host:port`, and `ws://host[:port][/path]` (default port 80, default path
//! `/mqtt`). TLS schemes are refused with a clear message: this tool is
//! built without TLS. Pure parsing, no IO.

use std::fmt;

/// Where and how to reach a broker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BrokerUrl {
    /// MQTT over plain TCP.
    Tcp {
        /// Host name or IP literal (without brackets).
        host: String,
        /// TCP port.
        port: u16,
    },
    /// MQTT over an unencrypted WebSocket.
    Ws {
        /// Host name or IP literal (without brackets).
        host: String,
        /// TCP port.
        port: u16,
        /// Request path, starting with `/`.
        path: String,
    },
}

impl BrokerUrl {
    /// Parses a `--broker` value.
    pub fn parse(input: &str) -> Result<BrokerUrl, String> {
        let input = input.trim();
        let (scheme, rest) = match input.split_once("://") {
            Some((s, r)) => (s.to_ascii_lowercase(), r),
            None => ("mqtt".to_owned(), input),
        };
        match scheme.as_str() {
            "mqtt" | "tcp" => {
                let authority = rest.trim_end_matches('/');
                if authority.contains('/') {
                    return Err(format!(
                        "broker URL {input:?}: mqtt:// URLs take no path (use ws://host:port/path for WebSocket)"
                    ));
                }
                let (host, port) = split_host_port(authority, 1883, input)?;
                Ok(BrokerUrl::Tcp { host, port })
            }
            "ws" => {
                let (authority, path) = match rest.find('/') {
                    Some(i) => (&rest[..i], &rest[i..]),
                    None => (rest, ""),
                };
                let (host, port) = split_host_port(authority, 80, input)?;
                let path = if path.is_empty() || path == "/" {
                    "/mqtt".to_owned()
                } else {
                    path.to_owned()
                };
                Ok(BrokerUrl::Ws { host, port, path })
            }
            "mqtts" | "ssl" | "wss" => Err(format!(
                "broker URL {input:?}: TLS ({scheme}://) is not supported by devbroker; use mqtt:// or ws://"
            )),
            other => Err(format!(
                "broker URL {input:?}: unknown scheme {other:?}; use mqtt://host:port or ws://host:port/path"
            )),
        }
    }

    /// `host:port` for socket connections (IPv6 literals in brackets).
    pub fn socket_addr_string(&self) -> String {
        let (host, port) = match self {
            BrokerUrl::Tcp { host, port } | BrokerUrl::Ws { host, port, .. } => (host, port),
        };
        if host.contains(':') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        }
    }
}

impl fmt::Display for BrokerUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BrokerUrl::Tcp { .. } => write!(f, "mqtt://{}", self.socket_addr_string()),
            BrokerUrl::Ws { path, .. } => write!(f, "ws://{}{}", self.socket_addr_string(), path),
        }
    }
}

fn split_host_port(
    authority: &str,
    default_port: u16,
    input: &str,
) -> Result<(String, u16), String> {
    if authority.contains('@') {
        return Err(format!(
            "broker URL {input:?}: credentials in the URL are not supported"
        ));
    }
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .ok_or_else(|| format!("broker URL {input:?}: unclosed '[' in host"))?;
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p),
            None if after.is_empty() => None,
            None => return Err(format!("broker URL {input:?}: junk after ']'")),
        };
        (host, port)
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err(format!("broker URL {input:?}: missing host"));
    }
    let port = match port {
        None => default_port,
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|p| *p != 0)
            .ok_or_else(|| format!("broker URL {input:?}: invalid port {p:?}"))?,
    };
    Ok((host.to_owned(), port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mqtt_url_with_port() {
        assert_eq!(
            BrokerUrl::parse("mqtt://127.0.0.1:1884").unwrap(),
            BrokerUrl::Tcp {
                host: "127.0.0.1".into(),
                port: 1884
            }
        );
    }

    #[test]
    fn mqtt_url_defaults_to_1883_and_bare_host_port_is_mqtt() {
        assert_eq!(
            BrokerUrl::parse("mqtt://localhost").unwrap().to_string(),
            "mqtt://localhost:1883"
        );
        assert_eq!(
            BrokerUrl::parse("localhost:2000").unwrap().to_string(),
            "mqtt://localhost:2000"
        );
    }

    #[test]
    fn ws_url_keeps_path_and_defaults_to_mqtt_path() {
        assert_eq!(
            BrokerUrl::parse("ws://127.0.0.1:8083/mqtt").unwrap(),
            BrokerUrl::Ws {
                host: "127.0.0.1".into(),
                port: 8083,
                path: "/mqtt".into()
            }
        );
        assert_eq!(
            BrokerUrl::parse("ws://h:9001").unwrap().to_string(),
            "ws://h:9001/mqtt"
        );
        assert_eq!(
            BrokerUrl::parse("ws://h:9001/other/x").unwrap().to_string(),
            "ws://h:9001/other/x"
        );
    }

    #[test]
    fn ipv6_literals_are_bracketed() {
        let url = BrokerUrl::parse("mqtt://[::1]:1883").unwrap();
        assert_eq!(url.socket_addr_string(), "[::1]:1883");
    }

    #[test]
    fn tls_and_unknown_schemes_and_bad_ports_are_refused() {
        assert!(BrokerUrl::parse("mqtts://h:8883")
            .unwrap_err()
            .contains("TLS"));
        assert!(BrokerUrl::parse("http://h").unwrap_err().contains("scheme"));
        assert!(BrokerUrl::parse("mqtt://h:0").unwrap_err().contains("port"));
        assert!(BrokerUrl::parse("mqtt://h:x").unwrap_err().contains("port"));
        assert!(BrokerUrl::parse("mqtt://:1883")
            .unwrap_err()
            .contains("host"));
        assert!(BrokerUrl::parse("mqtt://h:1/p")
            .unwrap_err()
            .contains("path"));
    }
}
