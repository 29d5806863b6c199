//! Leptos components, one file per part of the screen. They render the model
//! and call `actions`; no protocol or model logic lives here.

pub mod chart;
pub mod connection_form;
pub mod panels;
pub mod publish_form;
pub mod status;
pub mod subscriptions;
pub mod topic_panel;
