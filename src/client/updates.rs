//! Applies a frame's worth of supervisor notices to the view model in one batch.
//!
//! Pure (no DOM, no signals): the app calls it once per animation frame, so a
//! flood of messages costs one model update and one render per frame.

use std::collections::VecDeque;

use bytes::Bytes;
use model::{Dashboard, Grant, Incoming};
use mqtt_session::{Event, PublishId, SubscribeResult};

use super::supervisor::{Notice, Status};

/// How many publishes the publish log remembers.
pub const PUBLISH_LOG_LEN: usize = 50;

/// The state of one publish from the form.
#[derive(Debug, Clone, PartialEq)]
pub enum PublishState {
    /// Written to the socket; for QoS 0 that is all there is.
    Sent,
    /// PUBACK (QoS 1) or PUBCOMP (QoS 2) arrived after `round_trip_ms`.
    Acknowledged { round_trip_ms: u64 },
    /// It will never complete.
    Failed { reason: String },
}

/// One row of the publish log.
#[derive(Debug, Clone, PartialEq)]
pub struct PublishRecord {
    /// The session's handle for it.
    pub id: u64,
    /// Topic it went to.
    pub topic: String,
    /// QoS 0, 1 or 2.
    pub qos: u8,
    /// Retain flag.
    pub retain: bool,
    /// Payload size in bytes.
    pub size: usize,
    /// Where it stands.
    pub state: PublishState,
}

impl PublishRecord {
    /// The state as the log shows it.
    pub fn describe(&self) -> String {
        match &self.state {
            PublishState::Sent if self.qos == 0 => "sent (QoS 0: no acknowledgement)".into(),
            PublishState::Sent => "sent, awaiting acknowledgement".into(),
            PublishState::Acknowledged { round_trip_ms } => {
                let ack = if self.qos == 2 { "PUBCOMP" } else { "PUBACK" };
                format!("acknowledged ({ack}) in {round_trip_ms} ms")
            }
            PublishState::Failed { reason } => format!("failed: {reason}"),
        }
    }
}

/// The newest publishes, newest first, bounded.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PublishLog {
    records: VecDeque<PublishRecord>,
}

impl PublishLog {
    /// Records a publish the form just made.
    pub fn record(&mut self, id: PublishId, topic: &str, qos: u8, retain: bool, size: usize) {
        self.records.push_front(PublishRecord {
            id: id.0,
            topic: topic.to_string(),
            qos,
            retain,
            size,
            state: PublishState::Sent,
        });
        self.records.truncate(PUBLISH_LOG_LEN);
    }

    fn set(&mut self, id: PublishId, state: PublishState) -> bool {
        match self.records.iter_mut().find(|r| r.id == id.0) {
            Some(r) => {
                r.state = state;
                true
            }
            None => false,
        }
    }

    /// The records, newest first.
    pub fn records(&self) -> impl Iterator<Item = &PublishRecord> {
        self.records.iter()
    }
}

/// What a batch changed besides the dashboard.
#[derive(Debug, Default, PartialEq)]
pub struct BatchOutcome {
    /// The newest status in the batch, if it changed.
    pub status: Option<Status>,
    /// The publish log changed.
    pub publishes_changed: bool,
    /// Protocol errors and refusals seen, as sentences, for the page's error line.
    pub errors: Vec<String>,
}

/// Applies `batch` (each notice with the ms-since-epoch it happened) to the model.
pub fn apply_batch(
    dash: &mut Dashboard,
    log: &mut PublishLog,
    batch: impl IntoIterator<Item = (f64, Notice)>,
    now_ms: f64,
) -> BatchOutcome {
    let mut out = BatchOutcome::default();
    let mut messages = Vec::new();
    for (at, notice) in batch {
        match notice {
            Notice::Status(s) => {
                if matches!(
                    s,
                    Status::Connected {
                        session_present: false
                    }
                ) {
                    dash.reset_grants();
                }
                out.status = Some(s);
            }
            Notice::Session(Event::Message(m)) => messages.push(Incoming {
                topic: m.topic,
                // A copy, so one small payload does not keep a whole WebSocket
                // frame alive in the history (its byte cap counts payload sizes).
                payload: Bytes::copy_from_slice(&m.payload),
                qos: m.qos.as_u8(),
                retain: m.retain,
                dup: m.dup,
                received_ms: at,
            }),
            Notice::Session(Event::Subscribed { results, .. }) => {
                for (filter, result) in results {
                    let grant = match result {
                        SubscribeResult::Granted(q) => Grant::Granted(q.as_u8()),
                        SubscribeResult::Refused => Grant::Refused,
                    };
                    dash.set_granted(&filter, grant);
                }
            }
            Notice::Session(Event::PublishComplete {
                id, round_trip_ms, ..
            }) => {
                out.publishes_changed |= log.set(id, PublishState::Acknowledged { round_trip_ms });
            }
            Notice::Session(Event::PublishFailed { id, reason }) => {
                out.publishes_changed |= log.set(id, PublishState::Failed { reason });
            }
            Notice::Session(Event::ConnectionRefused { reason, .. }) => {
                out.errors
                    .push(format!("the broker refused the connection: {reason}"));
            }
            Notice::Session(Event::Closed { error }) => out.errors.push(error.to_string()),
            Notice::Session(_) => {}
        }
    }
    if !messages.is_empty() {
        dash.apply_batch(messages, now_ms);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::Limits;
    use mqtt_session::{Message, QoS};

    fn message(topic: &str, payload: &'static [u8], qos: QoS, retain: bool) -> Notice {
        Notice::Session(Event::Message(Message {
            topic: topic.into(),
            payload: Bytes::from_static(payload),
            qos,
            retain,
            dup: false,
            pkid: 1,
        }))
    }

    #[test]
    fn messages_in_a_batch_land_in_their_panels_with_their_flags() {
        let mut dash = Dashboard::new(Limits::default());
        dash.subscribe("a/#", 1);
        let mut log = PublishLog::default();
        let batch = vec![
            (1.0, message("a/x", b"1", QoS::AtLeastOnce, false)),
            (2.0, message("a/x", b"2", QoS::ExactlyOnce, true)),
            (3.0, message("a/y", b"{\"t\":3}", QoS::AtMostOnce, false)),
        ];
        apply_batch(&mut dash, &mut log, batch, 3.0);
        let x = dash.panel_by_topic("a/x").expect("panel for a/x");
        assert_eq!(x.count(), 2);
        let last = x.last().expect("a last message");
        assert_eq!((last.qos, last.retain), (2, true));
        assert_eq!(dash.stats().messages, 3);
    }

    #[test]
    fn suback_results_set_each_filters_grant() {
        let mut dash = Dashboard::new(Limits::default());
        dash.subscribe("a/#", 2);
        dash.subscribe("b", 1);
        let mut log = PublishLog::default();
        let suback = Notice::Session(Event::Subscribed {
            pkid: 1,
            results: vec![
                ("a/#".into(), SubscribeResult::Granted(QoS::AtLeastOnce)),
                ("b".into(), SubscribeResult::Refused),
            ],
        });
        apply_batch(&mut dash, &mut log, vec![(0.0, suback)], 0.0);
        assert_eq!(
            dash.subscription_by_filter("a/#").map(|s| s.grant()),
            Some(Grant::Granted(1))
        );
        assert_eq!(
            dash.subscription_by_filter("b").map(|s| s.grant()),
            Some(Grant::Refused)
        );
    }

    #[test]
    fn publish_outcomes_update_the_log_with_the_round_trip() {
        let mut dash = Dashboard::new(Limits::default());
        let mut log = PublishLog::default();
        log.record(PublishId(7), "t", 2, false, 3);
        log.record(PublishId(8), "t", 1, true, 3);
        let batch = vec![
            (
                0.0,
                Notice::Session(Event::PublishComplete {
                    id: PublishId(7),
                    pkid: 1,
                    acked_at_ms: 10,
                    round_trip_ms: 4,
                }),
            ),
            (
                0.0,
                Notice::Session(Event::PublishFailed {
                    id: PublishId(8),
                    reason: "session not resumed".into(),
                }),
            ),
        ];
        let out = apply_batch(&mut dash, &mut log, batch, 0.0);
        assert!(out.publishes_changed);
        let texts: Vec<String> = log.records().map(|r| r.describe()).collect();
        assert_eq!(
            texts,
            vec![
                "failed: session not resumed".to_string(),
                "acknowledged (PUBCOMP) in 4 ms".to_string()
            ]
        );
    }

    #[test]
    fn the_publish_log_is_bounded() {
        let mut log = PublishLog::default();
        for i in 0..(PUBLISH_LOG_LEN as u64 + 10) {
            log.record(PublishId(i), "t", 0, false, 0);
        }
        assert_eq!(log.records().count(), PUBLISH_LOG_LEN);
        assert_eq!(
            log.records().next().map(|r| r.id),
            Some(PUBLISH_LOG_LEN as u64 + 9)
        );
    }

    #[test]
    fn a_refusal_is_reported_as_an_error_sentence() {
        let mut dash = Dashboard::new(Limits::default());
        let mut log = PublishLog::default();
        let n = Notice::Session(Event::ConnectionRefused {
            code: 5,
            reason: "not authorised".into(),
        });
        let out = apply_batch(&mut dash, &mut log, vec![(0.0, n)], 0.0);
        assert_eq!(
            out.errors,
            vec!["the broker refused the connection: not authorised"]
        );
    }
}
