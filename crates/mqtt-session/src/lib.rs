//! Sans-IO MQTT client session (placeholder; see issue 3).
