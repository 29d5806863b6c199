//! The pure view model of mqdash: what the screen shows, as plain data.
//!
//! Panels keyed by concrete topic and grouped under the subscription that
//! matched them, bounded histories, message rates, numeric series extracted
//! from payloads, payload rendering, chart geometry, and the small parsers
//! and encoders behind the connection and publish forms.
//!
//! This crate must not do IO or read a clock: it has no web-sys, no leptos,
//! and every time is passed in as milliseconds (`now_ms`). It never panics on
//! a payload, a topic, a URL or stored JSON: every input path is checked.
//! Incoming messages are applied in one batch per animation frame with
//! [`Dashboard::apply_batch`], at O(1) amortized cost per message; anything
//! expensive (pretty-printing, hex dumps, chart decimation) is done on demand
//! for what is displayed.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

pub mod broker_url;
pub mod chart;
pub mod client_id;
pub mod dashboard;
pub mod history;
pub mod message;
pub mod onenet;
pub mod panel;
pub mod payload_view;
pub mod profile;
pub mod publish_format;
pub mod query;
pub mod rate;
pub mod series;
pub mod topic;

pub use broker_url::{mixed_content_error, BrokerUrl, BrokerUrlError};
pub use chart::{ChartLayout, Line, Rect, Scale, Tick};
pub use client_id::random_client_id;
pub use dashboard::{
    Dashboard, Grant, Group, Limits, PanelId, Stats, SubId, Subscription, PALETTE,
};
pub use history::{History, HistoryEntry};
pub use message::Incoming;
pub use panel::Panel;
pub use payload_view::{render_payload, PayloadView};
pub use profile::{LastWill, Profile, ProfileStore, ProtocolVersion, SavedSubscription};
pub use publish_format::{encode, FormatError, PayloadFormat};
pub use query::{parse_query, QueryParams};
pub use rate::Rate;
pub use series::{Series, SeriesSet};
pub use topic::{matches, validate_filter, validate_topic, TopicError};
