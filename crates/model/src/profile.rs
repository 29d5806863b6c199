//! Connection profiles, saved as JSON (in localStorage, by the app).
//!
//! A profile is everything the connection form holds plus its
//! subscriptions. The password is kept only when the user ticked
//! "Remember password": `Profile`'s `Serialize` leaves it out otherwise (so
//! no code path can write it by mistake), and loading drops a stored
//! password whose profile does not say to remember it.
//!
//! Reading stored JSON never fails hard: corrupt or foreign JSON gives an
//! empty store and an error sentence to show; a single unreadable profile
//! is skipped and counted in that sentence; unknown fields are ignored and
//! missing ones take their defaults, so older and newer versions of the
//! page can share the storage.

use serde::{Deserialize, Serialize, Serializer};

/// The localStorage key the app should use for [`ProfileStore::to_json`].
pub const STORAGE_KEY: &str = "mqdash.profiles";

/// MQTT protocol version of the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum ProtocolVersion {
    /// MQTT 3.1 (protocol name `MQIsdp`, level 3).
    #[serde(rename = "3.1")]
    V31,
    /// MQTT 3.1.1 (protocol name `MQTT`, level 4).
    #[default]
    #[serde(rename = "3.1.1")]
    V311,
}

impl ProtocolVersion {
    /// `3.1` or `3.1.1`, for the form's select.
    pub fn label(self) -> &'static str {
        match self {
            ProtocolVersion::V31 => "3.1",
            ProtocolVersion::V311 => "3.1.1",
        }
    }

    /// The version with this label.
    pub fn from_label(label: &str) -> Option<ProtocolVersion> {
        match label {
            "3.1" => Some(ProtocolVersion::V31),
            "3.1.1" => Some(ProtocolVersion::V311),
            _ => None,
        }
    }
}

/// The Last Will the broker publishes if the connection drops.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct LastWill {
    /// Topic of the will message.
    pub topic: String,
    /// Payload, as text.
    pub payload: String,
    /// QoS 0, 1 or 2.
    pub qos: u8,
    /// Whether the will is retained.
    pub retain: bool,
}

/// A saved subscription.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SavedSubscription {
    /// The topic filter.
    pub filter: String,
    /// The QoS requested.
    pub qos: u8,
}

/// One connection profile.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(from = "ProfileFields")]
pub struct Profile {
    /// The name it is listed under.
    pub name: String,
    /// Broker URL (`ws://…` or `wss://…`).
    pub broker_url: String,
    /// MQTT client id.
    pub client_id: String,
    /// User name; empty for none.
    pub username: String,
    /// Password; stored only when `remember_password` is set.
    pub password: Option<String>,
    /// Whether to store the password.
    pub remember_password: bool,
    /// Keep alive in seconds.
    pub keepalive_secs: u16,
    /// Clean session flag.
    pub clean_session: bool,
    /// Protocol version.
    pub protocol: ProtocolVersion,
    /// Last Will, if any.
    pub last_will: Option<LastWill>,
    /// Subscriptions to make after connecting.
    pub subscriptions: Vec<SavedSubscription>,
}

impl Default for Profile {
    fn default() -> Self {
        Profile {
            name: String::new(),
            broker_url: String::new(),
            client_id: String::new(),
            username: String::new(),
            password: None,
            remember_password: false,
            keepalive_secs: 60,
            clean_session: true,
            protocol: ProtocolVersion::V311,
            last_will: None,
            subscriptions: Vec::new(),
        }
    }
}

/// The stored shape of a profile; converting it into a [`Profile`] drops a
/// password that was not meant to be remembered.
#[derive(Deserialize)]
#[serde(default)]
struct ProfileFields {
    name: String,
    broker_url: String,
    client_id: String,
    username: String,
    password: Option<String>,
    remember_password: bool,
    keepalive_secs: u16,
    clean_session: bool,
    protocol: ProtocolVersion,
    last_will: Option<LastWill>,
    subscriptions: Vec<SavedSubscription>,
}

impl Default for ProfileFields {
    fn default() -> Self {
        let p = Profile::default();
        ProfileFields {
            name: p.name,
            broker_url: p.broker_url,
            client_id: p.client_id,
            username: p.username,
            password: p.password,
            remember_password: p.remember_password,
            keepalive_secs: p.keepalive_secs,
            clean_session: p.clean_session,
            protocol: p.protocol,
            last_will: p.last_will,
            subscriptions: p.subscriptions,
        }
    }
}

impl From<ProfileFields> for Profile {
    fn from(f: ProfileFields) -> Self {
        Profile {
            password: if f.remember_password {
                f.password
            } else {
                None
            },
            name: f.name,
            broker_url: f.broker_url,
            client_id: f.client_id,
            username: f.username,
            remember_password: f.remember_password,
            keepalive_secs: f.keepalive_secs,
            clean_session: f.clean_session,
            protocol: f.protocol,
            last_will: f.last_will,
            subscriptions: f.subscriptions,
        }
    }
}

/// What is written for a profile: the password only if remembered.
#[derive(Serialize)]
struct ProfileOut<'a> {
    name: &'a str,
    broker_url: &'a str,
    client_id: &'a str,
    username: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    password: Option<&'a str>,
    remember_password: bool,
    keepalive_secs: u16,
    clean_session: bool,
    protocol: ProtocolVersion,
    last_will: Option<&'a LastWill>,
    subscriptions: &'a [SavedSubscription],
}

impl Serialize for Profile {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        ProfileOut {
            name: &self.name,
            broker_url: &self.broker_url,
            client_id: &self.client_id,
            username: &self.username,
            password: if self.remember_password {
                self.password.as_deref()
            } else {
                None
            },
            remember_password: self.remember_password,
            keepalive_secs: self.keepalive_secs,
            clean_session: self.clean_session,
            protocol: self.protocol,
            last_will: self.last_will.as_ref(),
            subscriptions: &self.subscriptions,
        }
        .serialize(serializer)
    }
}

impl Profile {
    /// The profile as JSON, without the password unless it is remembered.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// The saved profiles.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProfileStore {
    /// The profiles, in the order they were first saved.
    pub profiles: Vec<Profile>,
    /// The name of the profile used last, to preselect it.
    pub last_used: Option<String>,
}

#[derive(Serialize)]
struct StoreOut<'a> {
    version: u32,
    last_used: Option<&'a str>,
    profiles: &'a [Profile],
}

impl ProfileStore {
    /// An empty store.
    pub fn new() -> Self {
        ProfileStore::default()
    }

    /// The store as JSON for localStorage (passwords only where remembered).
    pub fn to_json(&self) -> String {
        serde_json::to_string(&StoreOut {
            version: 1,
            last_used: self.last_used.as_deref(),
            profiles: &self.profiles,
        })
        .unwrap_or_default()
    }

    /// Reads stored JSON. Never fails: returns what could be read and, if
    /// something could not, a sentence saying so. Empty input (nothing
    /// stored yet) is an empty store without error. Accepts the store
    /// object written by [`ProfileStore::to_json`] or a bare array of
    /// profiles.
    pub fn from_json(json: &str) -> (ProfileStore, Option<String>) {
        if json.trim().is_empty() {
            return (ProfileStore::new(), None);
        }
        let value: serde_json::Value = match serde_json::from_str(json) {
            Ok(v) => v,
            Err(e) => {
                return (
                    ProfileStore::new(),
                    Some(format!(
                        "the saved connection profiles could not be read ({e}), so none are listed"
                    )),
                )
            }
        };
        let (items, last_used) = match value {
            serde_json::Value::Array(items) => (items, None),
            serde_json::Value::Object(mut map) => {
                let last_used = match map.remove("last_used") {
                    Some(serde_json::Value::String(s)) => Some(s),
                    _ => None,
                };
                match map.remove("profiles") {
                    Some(serde_json::Value::Array(items)) => (items, last_used),
                    _ => {
                        return (
                            ProfileStore::new(),
                            Some("the saved connection profiles are in an unknown format, so none are listed".to_owned()),
                        )
                    }
                }
            }
            _ => return (
                ProfileStore::new(),
                Some(
                    "the saved connection profiles are in an unknown format, so none are listed"
                        .to_owned(),
                ),
            ),
        };
        let total = items.len();
        let profiles: Vec<Profile> = items
            .into_iter()
            .filter_map(|v| serde_json::from_value::<Profile>(v).ok())
            .collect();
        let skipped = total - profiles.len();
        let error = (skipped > 0).then(|| {
            format!(
                "{skipped} saved connection profile{} could not be read and {} left out",
                if skipped == 1 { "" } else { "s" },
                if skipped == 1 { "was" } else { "were" }
            )
        });
        let last_used = last_used.filter(|n| profiles.iter().any(|p| &p.name == n));
        (
            ProfileStore {
                profiles,
                last_used,
            },
            error,
        )
    }

    /// Adds a profile, or replaces the one with the same name in place.
    pub fn upsert(&mut self, profile: Profile) {
        match self.profiles.iter_mut().find(|p| p.name == profile.name) {
            Some(existing) => *existing = profile,
            None => self.profiles.push(profile),
        }
    }

    /// Removes the profile with this name; returns whether there was one.
    pub fn remove(&mut self, name: &str) -> bool {
        let before = self.profiles.len();
        self.profiles.retain(|p| p.name != name);
        if self.last_used.as_deref() == Some(name) {
            self.last_used = None;
        }
        self.profiles.len() != before
    }

    /// The profile with this name.
    pub fn get(&self, name: &str) -> Option<&Profile> {
        self.profiles.iter().find(|p| p.name == name)
    }

    /// The profile names, in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.profiles.iter().map(|p| p.name.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(remember: bool) -> Profile {
        Profile {
            name: "onenet".into(),
            broker_url: "wss://broker.example/mqtt".into(),
            client_id: "29455901".into(),
            username: "12555524".into(),
            password: Some("JHFDJF55586jhk".into()),
            remember_password: remember,
            keepalive_secs: 120,
            clean_session: true,
            protocol: ProtocolVersion::V311,
            last_will: Some(LastWill {
                topic: "dev/status".into(),
                payload: "offline".into(),
                qos: 1,
                retain: true,
            }),
            subscriptions: vec![SavedSubscription {
                filter: "dev/#".into(),
                qos: 1,
            }],
        }
    }

    #[test]
    fn serializing_drops_the_password_unless_it_is_remembered() {
        let json = sample(false).to_json();
        assert!(!json.contains("JHFDJF55586jhk"), "{json}");
        assert!(!json.contains("\"password\""), "{json}");
        let json = sample(true).to_json();
        assert!(json.contains("\"password\":\"JHFDJF55586jhk\""), "{json}");
        let mut store = ProfileStore::new();
        store.upsert(sample(false));
        assert!(!store.to_json().contains("JHFDJF55586jhk"));
    }

    #[test]
    fn a_store_round_trips_through_json() {
        let mut store = ProfileStore::new();
        store.upsert(sample(true));
        let mut other = sample(false);
        other.name = "local".into();
        other.protocol = ProtocolVersion::V31;
        store.upsert(other);
        store.last_used = Some("local".into());
        let (back, err) = ProfileStore::from_json(&store.to_json());
        assert_eq!(err, None);
        let mut expected = store.clone();
        expected.profiles[1].password = None;
        assert_eq!(back, expected);
        assert!(store.to_json().contains("\"protocol\":\"3.1\""));
    }

    #[test]
    fn loading_drops_a_stored_password_that_was_not_to_be_remembered() {
        let (store, err) = ProfileStore::from_json(
            r#"{"profiles":[{"name":"x","password":"secret","remember_password":false}]}"#,
        );
        assert_eq!(err, None);
        assert_eq!(store.profiles[0].password, None);
    }

    #[test]
    fn corrupt_json_gives_an_empty_store_and_an_error() {
        for bad in ["{not json", "42", "{\"profiles\":3}", "\"x\""] {
            let (store, err) = ProfileStore::from_json(bad);
            assert!(store.profiles.is_empty(), "{bad}");
            assert!(err.is_some(), "{bad}");
        }
        assert_eq!(ProfileStore::from_json("  "), (ProfileStore::new(), None));
    }

    #[test]
    fn unreadable_profiles_are_skipped_and_counted() {
        let (store, err) = ProfileStore::from_json(
            r#"[{"name":"ok","keepalive_secs":30,"future_field":true},{"name":"bad","keepalive_secs":"soon"},7]"#,
        );
        assert_eq!(store.names().collect::<Vec<_>>(), ["ok"]);
        assert_eq!(store.profiles[0].keepalive_secs, 30);
        assert!(
            store.profiles[0].clean_session,
            "missing fields take defaults"
        );
        assert_eq!(
            err.as_deref(),
            Some("2 saved connection profiles could not be read and were left out")
        );
    }

    #[test]
    fn upsert_replaces_by_name_and_remove_forgets_last_used() {
        let mut store = ProfileStore::new();
        store.upsert(sample(false));
        let mut changed = sample(false);
        changed.keepalive_secs = 5;
        store.upsert(changed);
        assert_eq!(store.profiles.len(), 1);
        assert_eq!(store.get("onenet").map(|p| p.keepalive_secs), Some(5));
        store.last_used = Some("onenet".into());
        assert!(store.remove("onenet"));
        assert!(!store.remove("onenet"));
        assert_eq!(store.last_used, None);
    }

    #[test]
    fn protocol_labels_round_trip() {
        for v in [ProtocolVersion::V31, ProtocolVersion::V311] {
            assert_eq!(ProtocolVersion::from_label(v.label()), Some(v));
        }
        assert_eq!(ProtocolVersion::from_label("5"), None);
    }
}
