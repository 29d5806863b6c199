//! mqdash: a browser dashboard for MQTT.
