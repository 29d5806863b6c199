//! Leptos components, one file per part of the screen. They render the model
//! and call `actions`; no protocol or model logic lives here.

pub mod broker_card;
pub mod chart;
pub mod connection_bar;
pub mod connection_form;
pub mod decoders;
pub mod dom;
pub mod erased;
pub mod keep;
pub mod mqtt5;
pub mod panels;
pub mod publish_form;
pub mod request_response;
pub mod status;
pub mod stream_controls;
pub mod subscriptions;
pub mod theme;
pub mod topic_detail;
pub mod topic_panel;
pub mod topic_tree;
pub mod windowing;
