//! Leptos components, one file per part of the screen.

pub mod connection_form;
pub mod status;
