//! Drives the MQTT session over the browser transport (placeholder).
