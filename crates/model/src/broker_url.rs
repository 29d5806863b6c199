//! Parsing and checking the broker URL of the connection form.
//!
//! A browser can reach an MQTT broker only through its WebSocket listener,
//! so the URL must be `ws://` or `wss://`, then a host (a name, an IPv4
//! address or a bracketed IPv6 address), an optional port (default 80 for
//! `ws`, 443 for `wss`) and a path. The path is kept as the user typed it
//! (many brokers want `/mqtt`, some `/` or `/ws`, so the form must not
//! guess); an empty path becomes `/`, as it does for any URL. User info
//! (`user:pass@`) is refused because credentials belong in their own fields,
//! and a `#fragment` because the browser's WebSocket refuses it.
//!
//! [`mixed_content_error`] says in advance what the browser would otherwise
//! report as an opaque failure: an `https` page may not open `ws://`. Loopback
//! hosts (`localhost`, `127.0.0.0/8`, `[::1]`) are exempt, as the Mixed
//! Content specification and Chromium and Firefox treat them (Safari still
//! blocks them).

use std::fmt;
use std::str::FromStr;

/// A checked broker URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerUrl {
    /// `wss://` (true) or `ws://` (false).
    pub secure: bool,
    /// Host name or address as typed (IPv6 with its brackets).
    pub host: String,
    /// The port, explicit or the scheme's default.
    pub port: u16,
    /// Whether the user typed the port.
    pub explicit_port: bool,
    /// Path and query, as typed; `/` when empty.
    pub path: String,
}

/// Why a broker URL is not usable, as a sentence for the form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BrokerUrlError {
    /// Nothing was typed.
    Empty,
    /// Not `ws://` or `wss://`.
    WrongScheme {
        /// The scheme typed, if any (`mqtt`, `http`…).
        found: Option<String>,
    },
    /// Spaces or other whitespace inside the URL.
    Whitespace,
    /// No host after the scheme.
    MissingHost,
    /// Characters a host name cannot have.
    InvalidHost {
        /// The host as typed.
        host: String,
    },
    /// The port is not a number from 1 to 65535.
    InvalidPort {
        /// The port as typed.
        port: String,
    },
    /// `user:password@` in the URL.
    UserInfo,
    /// A `#fragment`.
    Fragment,
}

impl fmt::Display for BrokerUrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BrokerUrlError::Empty => write!(
                f,
                "enter the broker URL, for example ws://localhost:8080/mqtt"
            ),
            BrokerUrlError::WrongScheme { found: None } => {
                write!(f, "the broker URL must start with ws:// or wss://")
            }
            BrokerUrlError::WrongScheme { found: Some(s) } => write!(
                f,
                "the broker URL must start with ws:// or wss:// (not {s}://): a browser can only reach the broker's WebSocket listener"
            ),
            BrokerUrlError::Whitespace => write!(f, "the broker URL cannot contain spaces"),
            BrokerUrlError::MissingHost => {
                write!(f, "the broker URL needs a host after ws:// or wss://")
            }
            BrokerUrlError::InvalidHost { host } => {
                write!(f, "{host:?} is not a valid host name or address")
            }
            BrokerUrlError::InvalidPort { port } => {
                write!(f, "port must be 1–65535 (got {port:?})")
            }
            BrokerUrlError::UserInfo => write!(
                f,
                "put the username and password in their own fields, not in the broker URL"
            ),
            BrokerUrlError::Fragment => write!(f, "the broker URL cannot contain a #fragment"),
        }
    }
}

impl std::error::Error for BrokerUrlError {}

fn valid_host_name(host: &str) -> bool {
    !host.is_empty()
        && host
            .chars()
            // Non-ASCII is left to the browser's URL parser (IDN to
            // punycode): Unicode's letter tables would cost the page's
            // first load several KB for this one check.
            .all(|c| c.is_ascii_alphanumeric() || !c.is_ascii() || matches!(c, '-' | '.' | '_'))
}

fn valid_ipv6(inner: &str) -> bool {
    !inner.is_empty()
        && inner.contains(':')
        && inner
            .chars()
            .all(|c| c.is_ascii_hexdigit() || matches!(c, ':' | '.'))
}

impl BrokerUrl {
    /// Parses and checks a broker URL (surrounding whitespace ignored).
    pub fn parse(input: &str) -> Result<BrokerUrl, BrokerUrlError> {
        let input = input.trim();
        if input.is_empty() {
            return Err(BrokerUrlError::Empty);
        }
        let Some((scheme, rest)) = input.split_once("://") else {
            return Err(BrokerUrlError::WrongScheme { found: None });
        };
        let secure = match scheme.to_ascii_lowercase().as_str() {
            "ws" => false,
            "wss" => true,
            _ => {
                let found = (!scheme.is_empty()
                    && scheme
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
                .then(|| scheme.to_owned());
                return Err(BrokerUrlError::WrongScheme { found });
            }
        };
        if input.chars().any(char::is_whitespace) {
            return Err(BrokerUrlError::Whitespace);
        }
        if rest.contains('#') {
            return Err(BrokerUrlError::Fragment);
        }
        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, path) = rest.split_at_checked(authority_end).unwrap_or((rest, ""));
        if authority.contains('@') {
            return Err(BrokerUrlError::UserInfo);
        }
        if authority.is_empty() {
            return Err(BrokerUrlError::MissingHost);
        }
        let (host, port_text) = if let Some(after_bracket) = authority.strip_prefix('[') {
            let Some((inner, after)) = after_bracket.split_once(']') else {
                return Err(BrokerUrlError::InvalidHost {
                    host: authority.to_owned(),
                });
            };
            if !valid_ipv6(inner) {
                return Err(BrokerUrlError::InvalidHost {
                    host: authority.to_owned(),
                });
            }
            let port = match after {
                "" => None,
                other => match other.strip_prefix(':') {
                    Some(p) => Some(p),
                    None => {
                        return Err(BrokerUrlError::InvalidHost {
                            host: authority.to_owned(),
                        })
                    }
                },
            };
            (format!("[{inner}]"), port)
        } else {
            let (host, port) = match authority.split_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (authority, None),
            };
            if host.is_empty() {
                return Err(BrokerUrlError::MissingHost);
            }
            if !valid_host_name(host) {
                return Err(BrokerUrlError::InvalidHost {
                    host: host.to_owned(),
                });
            }
            (host.to_owned(), port)
        };
        let (port, explicit_port) = match port_text {
            None => (if secure { 443 } else { 80 }, false),
            Some(p) => {
                let parsed =
                    (!p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()))
                        .then(|| p.parse::<u16>().ok())
                        .flatten()
                        .filter(|n| *n != 0);
                match parsed {
                    Some(n) => (n, true),
                    None => {
                        return Err(BrokerUrlError::InvalidPort { port: p.to_owned() });
                    }
                }
            }
        };
        let path = if path.is_empty() {
            "/".to_owned()
        } else if path.starts_with('?') {
            format!("/{path}")
        } else {
            path.to_owned()
        };
        Ok(BrokerUrl {
            secure,
            host,
            port,
            explicit_port,
            path,
        })
    }

    /// `ws` or `wss`.
    pub fn scheme(&self) -> &'static str {
        if self.secure {
            "wss"
        } else {
            "ws"
        }
    }

    /// Whether the host is a loopback name or address.
    pub fn is_loopback(&self) -> bool {
        let host = self.host.to_ascii_lowercase();
        host == "localhost"
            || host.ends_with(".localhost")
            || host == "[::1]"
            || host.strip_prefix("127.").is_some_and(|rest| {
                rest.split('.').count() == 3 && rest.split('.').all(|o| o.parse::<u8>().is_ok())
            })
    }

    /// The URL to hand to the browser's WebSocket, with the port only if
    /// the user typed it.
    pub fn to_url(&self) -> String {
        if self.explicit_port {
            format!(
                "{}://{}:{}{}",
                self.scheme(),
                self.host,
                self.port,
                self.path
            )
        } else {
            format!("{}://{}{}", self.scheme(), self.host, self.path)
        }
    }
}

impl fmt::Display for BrokerUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_url())
    }
}

impl FromStr for BrokerUrl {
    type Err = BrokerUrlError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        BrokerUrl::parse(s)
    }
}

/// The error to show before connecting when the page's protocol
/// (`location.protocol`, with or without its colon) is `https` and the
/// broker URL is `ws://` to a host that is not loopback; `None` otherwise.
pub fn mixed_content_error(page_protocol: &str, url: &BrokerUrl) -> Option<String> {
    let page = page_protocol
        .trim()
        .trim_end_matches(':')
        .to_ascii_lowercase();
    (page == "https" && !url.secure && !url.is_loopback()).then(|| {
        "this page is served over https, so the browser will block ws://; use wss://".to_owned()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<BrokerUrl, BrokerUrlError> {
        BrokerUrl::parse(s)
    }

    #[test]
    fn full_url_keeps_host_port_and_path() {
        let u = parse("ws://broker.local:8080/mqtt").unwrap();
        assert_eq!(
            u,
            BrokerUrl {
                secure: false,
                host: "broker.local".into(),
                port: 8080,
                explicit_port: true,
                path: "/mqtt".into()
            }
        );
        assert_eq!(u.to_url(), "ws://broker.local:8080/mqtt");
    }

    #[test]
    fn missing_port_defaults_to_80_or_443_and_empty_path_to_slash() {
        let u = parse("wss://example.com").unwrap();
        assert_eq!(
            (u.port, u.explicit_port, u.path.as_str()),
            (443, false, "/")
        );
        assert_eq!(u.to_url(), "wss://example.com/");
        let u = parse("  WS://example.com/ws?token=1 ").unwrap();
        assert_eq!(
            (u.secure, u.port, u.path.as_str()),
            (false, 80, "/ws?token=1")
        );
        assert_eq!(parse("ws://h?x=1").unwrap().path, "/?x=1");
    }

    #[test]
    fn ipv6_hosts_need_brackets() {
        let u = parse("ws://[::1]:9001/mqtt").unwrap();
        assert_eq!((u.host.as_str(), u.port), ("[::1]", 9001));
        assert!(u.is_loopback());
        assert!(matches!(
            parse("ws://[::1/mqtt"),
            Err(BrokerUrlError::InvalidHost { .. })
        ));
        assert!(matches!(
            parse("ws://[zz]/"),
            Err(BrokerUrlError::InvalidHost { .. })
        ));
    }

    #[test]
    fn other_schemes_are_refused_with_a_sentence() {
        assert_eq!(
            parse("mqtt://broker:1883"),
            Err(BrokerUrlError::WrongScheme {
                found: Some("mqtt".into())
            })
        );
        assert_eq!(
            parse("broker:1883").unwrap_err().to_string(),
            "the broker URL must start with ws:// or wss://"
        );
        assert!(parse("http://x/")
            .unwrap_err()
            .to_string()
            .starts_with("the broker URL must start with ws:// or wss://"));
    }

    #[test]
    fn ports_outside_1_to_65535_are_refused() {
        for bad in [
            "ws://h:0/",
            "ws://h:65536/",
            "ws://h:/",
            "ws://h:80a/",
            "ws://h:99999999999/",
        ] {
            let err = parse(bad).unwrap_err();
            assert!(matches!(err, BrokerUrlError::InvalidPort { .. }), "{bad}");
            assert!(err.to_string().starts_with("port must be 1–65535"), "{bad}");
        }
        assert_eq!(parse("ws://h:65535/").map(|u| u.port), Ok(65535));
    }

    #[test]
    fn hosts_user_info_fragments_and_spaces_are_checked() {
        assert_eq!(parse("ws:///mqtt"), Err(BrokerUrlError::MissingHost));
        assert_eq!(parse("ws://:80/"), Err(BrokerUrlError::MissingHost));
        assert_eq!(parse("ws://u:p@h/"), Err(BrokerUrlError::UserInfo));
        assert_eq!(parse("ws://h/mqtt#x"), Err(BrokerUrlError::Fragment));
        assert_eq!(parse("ws://h /mqtt"), Err(BrokerUrlError::Whitespace));
        assert!(matches!(
            parse("ws://a$b/"),
            Err(BrokerUrlError::InvalidHost { .. })
        ));
        assert_eq!(parse(""), Err(BrokerUrlError::Empty));
        assert_eq!(
            parse("ws://bücher.de/").map(|u| u.host),
            Ok("bücher.de".to_owned())
        );
    }

    #[test]
    fn https_pages_cannot_use_ws_to_a_remote_host() {
        let ws = parse("ws://broker.example/mqtt").unwrap();
        let wss = parse("wss://broker.example/mqtt").unwrap();
        let local = parse("ws://127.0.0.1:9001/mqtt").unwrap();
        assert_eq!(
            mixed_content_error("https:", &ws).as_deref(),
            Some("this page is served over https, so the browser will block ws://; use wss://")
        );
        assert_eq!(mixed_content_error("https", &wss), None);
        assert_eq!(mixed_content_error("http:", &ws), None);
        assert_eq!(mixed_content_error("https:", &local), None);
        assert!(!parse("ws://127.evil.com/").unwrap().is_loopback());
    }

    #[test]
    fn from_str_and_display_round_trip() {
        let u: BrokerUrl = "wss://h:8884/mqtt".parse().unwrap();
        assert_eq!(u.to_string(), "wss://h:8884/mqtt");
    }
}
