//! Subscriptions: add a filter with a QoS (validated as you type), with
//! MQTT 5 its options (no local, retain as published, retain handling,
//! subscription identifier), and the list with what the broker granted (or
//! refused, with MQTT 5 its reason in words, or "not connected"), the
//! options, colour, messages matched and a remove button.
//!
//! The list shown is the model's mirror of the supervisor's list, and the
//! MQTT 5 details its `subscription_details`; adding and removing are calls
//! on the supervisor. The subscribe form is a static card
//! (docs/architecture.md, "Static cards"; its MQTT 5 options are hidden,
//! not removed, while subscribing with 3.1.1 or 3.1); the list stays `view!`.

use leptos::prelude::*;
use model::{Grant, SubId};
use mqtt_session::{ProtocolVersion, QoS, RetainHandling};

use crate::actions;
use crate::client::settings::{parse_qos, parse_retain_handling, parse_subscription_identifier};
use crate::client::supervisor::{SubOptions, SubscriptionDetail, WantedSubscription};
use crate::components::dom::{
    self, by_id, read_input, set_flag, set_text, write_back, Bindings, Bound,
};
use crate::components::erased::{effect, handler, keyed, show, Keyed};
use crate::state::{use_app, AppState};

/// A subscription's MQTT 5 options as the list shows them (empty when all
/// are defaults and no identifier was sent): `no local · retain as
/// published · retained: never · id 3`.
pub fn describe_options(d: &SubscriptionDetail) -> String {
    let o = &d.options;
    let mut parts = Vec::new();
    if o.no_local {
        parts.push("no local".to_string());
    }
    if o.retain_as_published {
        parts.push("retain as published".to_string());
    }
    match o.retain_handling {
        RetainHandling::SendOnSubscribe => {}
        RetainHandling::SendIfNew => parts.push("retained: only if new".into()),
        RetainHandling::DoNotSend => parts.push("retained: never".into()),
    }
    if let Some(id) = d.identifier {
        parts.push(format!("id {id}"));
    }
    parts.join(" · ")
}

/// The protocol subscriptions are made with: the live connection's while
/// there is one (or one is being tried), else the form's.
fn live_protocol(s: AppState) -> ProtocolVersion {
    let live = if s.status.get().is_disconnected() {
        None
    } else {
        s.client()
            .peek(|sup| sup.target().map(|t| t.options.protocol))
    };
    live.unwrap_or_else(|| s.form.protocol.get())
}

/// The subscribe form's controls; ids are `sub-*`. The MQTT 5 options are
/// hidden while subscriptions are made with 3.1.1 or 3.1.
const FORM: &str = concat!(
    r#"<label class="grow">Topic filter<input id="sub-filter" type="text" placeholder="sensors/+/temp or #" spellcheck="false" aria-invalid="false"></label>"#,
    r#"<label>Subscription QoS<select id="sub-qos"><option value="0">0</option><option value="1">1</option>"#,
    r#"<option value="2">2</option></select></label>"#,
    r#"<label class="check" id="sub-v5-nl" hidden><input type="checkbox" id="sub-no-local">No local</label>"#,
    r#"<label class="check" id="sub-v5-rap" hidden><input type="checkbox" id="sub-rap">Retain as published</label>"#,
    r#"<label id="sub-v5-rh" hidden>Retain handling<select id="sub-rh">"#,
    r#"<option value="0">0: send retained on subscribe</option>"#,
    r#"<option value="1">1: send retained only if new</option>"#,
    r#"<option value="2">2: never send retained</option></select></label>"#,
    r#"<label id="sub-v5-id" hidden>Subscription identifier<input id="sub-id" type="number" class="narrow" placeholder="auto" spellcheck="false"></label>"#,
    r#"<button type="submit" id="sub-go" disabled>Subscribe</button>"#,
);

/// The subscribe form and the list of subscriptions. The form is a static
/// card (docs/architecture.md, "Static cards"): its values are the signals
/// below, bound to the controls by `components::dom`. Why: with the
/// request/response form this saved 1.1 KB of gzipped wasm (measured).
#[component]
pub fn Subscriptions() -> impl IntoView {
    let s = use_app();
    let filter = RwSignal::new(String::new());
    let qos = RwSignal::new(QoS::AtMostOnce);
    let no_local = RwSignal::new(false);
    let retain_as_published = RwSignal::new(false);
    let retain_handling = RwSignal::new(RetainHandling::SendOnSubscribe);
    let identifier = RwSignal::new(String::new());
    // Why the last Subscribe was not done (the broker does not allow it…).
    let refused = RwSignal::new(None::<String>);
    let v5 = move || live_protocol(s) == ProtocolVersion::V5;
    let problem = move || {
        let f = filter.get();
        let filter_problem = if f.is_empty() {
            None
        } else {
            model::validate_filter(&f).err().map(|e| e.to_string())
        };
        filter_problem.or_else(|| {
            v5().then(|| parse_subscription_identifier(&identifier.get()).err())
                .flatten()
        })
    };
    let bindings: Bindings = vec![
        ("sub-filter", Bound::Text(filter)),
        ("sub-no-local", Bound::Check(no_local)),
        ("sub-rap", Bound::Check(retain_as_published)),
        ("sub-id", Bound::Text(identifier)),
    ];
    write_back(&bindings);
    effect(move || {
        let shown = v5();
        for id in ["sub-v5-nl", "sub-v5-rap", "sub-v5-rh", "sub-v5-id"] {
            set_flag(id, "hidden", !shown);
        }
    });
    effect(move || {
        let p = problem();
        if let Some(e) = by_id("sub-filter") {
            let _ = e.set_attribute("aria-invalid", if p.is_some() { "true" } else { "false" });
        }
        set_flag(
            "sub-go",
            "disabled",
            p.is_some() || filter.with(String::is_empty),
        );
        set_text(
            "sub-problem",
            &p.or_else(|| refused.get()).unwrap_or_default(),
        );
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let options = if untrack(v5) {
            SubOptions {
                no_local: no_local.get_untracked(),
                retain_as_published: retain_as_published.get_untracked(),
                retain_handling: retain_handling.get_untracked(),
                identifier: parse_subscription_identifier(&identifier.get_untracked())
                    .ok()
                    .flatten(),
            }
        } else {
            SubOptions::default()
        };
        let sub = WantedSubscription {
            filter: filter.get_untracked(),
            qos: qos.get_untracked(),
            options,
        };
        match actions::subscribe_with(s, sub) {
            Ok(()) => {
                filter.set(String::new());
                refused.set(None);
            }
            Err(e) => refused.set(Some(format!("Not subscribed: {e}"))),
        }
    };
    let on_input = move |ev: leptos::ev::Event| {
        read_input(&bindings, &ev);
    };
    let on_change = move |ev: leptos::ev::Event| {
        let Some(e) = dom::target(&ev) else { return };
        let value = dom::value_of(&e);
        match e.id().as_str() {
            "sub-qos" => match parse_qos(&value) {
                Ok(q) => qos.set(q),
                Err(e) => s.error.set(Some(e)),
            },
            "sub-rh" => match parse_retain_handling(&value) {
                Ok(r) => retain_handling.set(r),
                Err(e) => s.error.set(Some(e)),
            },
            _ => {}
        }
    };
    let ids = move || s.model(|d| d.subscriptions().iter().map(|x| x.id()).collect::<Vec<_>>());
    view! {
        <section class="subscriptions" aria-label="Subscriptions">
            <form class="row" inner_html=FORM on:submit=handler(on_submit)
                on:input=handler(on_input) on:change=handler(on_change)></form>
            <p class="hint" role="alert" id="sub-problem"></p>
            <ul class="sub-list" aria-label="Subscription list">
                {keyed(move || {
                    ids()
                        .into_iter()
                        .map(|id| Keyed::new(id.get().to_string(), move || view! { <SubscriptionRow id=id /> }.into_any()))
                        .collect()
                })}
            </ul>
        </section>
    }
}

/// What a row of the list shows, in words.
#[derive(Clone, PartialEq)]
struct Row {
    filter: String,
    colour: &'static str,
    qos: String,
    grant_class: &'static str,
    grant: String,
    options: String,
    count: String,
}

/// The row of subscription `id` (tracks the model and the MQTT 5 details).
fn row(s: AppState, id: SubId) -> Row {
    let Some((filter, qos, grant, label, colour, count)) = s.model(|d| {
        d.subscription(id).map(|x| {
            (
                x.filter().to_string(),
                x.qos(),
                x.grant(),
                x.grant_label(),
                x.colour(),
                x.matched_count(),
            )
        })
    }) else {
        return Row {
            filter: String::new(),
            colour: "#888",
            qos: String::new(),
            grant_class: "grant",
            grant: String::new(),
            options: String::new(),
            count: String::new(),
        };
    };
    let detail = s
        .subscription_details
        .with(|list| list.iter().find(|d| d.filter == filter).cloned());
    let options = detail.as_ref().map(describe_options).unwrap_or_default();
    // The grant in words; a refusal with its MQTT 5 reason code.
    let grant_text = match (grant, detail.and_then(|x| x.refusal)) {
        (Grant::Refused, Some(why)) => why,
        _ => label,
    };
    Row {
        colour,
        qos: format!("QoS {qos}"),
        grant_class: match grant {
            Grant::Refused => "grant refused",
            Grant::Granted(q) if q < qos => "grant downgraded",
            Grant::Granted(_) => "grant granted",
            _ => "grant",
        },
        grant: grant_text,
        options,
        count: format!("{count} msgs"),
        filter,
    }
}

/// One subscription in the list. Every text reads the one `Row` memo
/// through the same closure type, so it is compiled once.
#[component]
fn SubscriptionRow(
    /// Which subscription.
    id: SubId,
) -> impl IntoView {
    let s = use_app();
    let data = Memo::new(move |_| row(s, id));
    let t = move |f: fn(&Row) -> String| move || data.with(f);
    let class = move |f: fn(&Row) -> &'static str| move || data.with(f);
    view! {
        <li class="sub">
            <span class="swatch" style:background-color=class(|r| r.colour)></span>
            <code class="filter">{t(|r| r.filter.clone())}</code>
            <span class="qos">{t(|r| r.qos.clone())}</span>
            <span class=class(|r| r.grant_class)>{t(|r| r.grant.clone())}</span>
            {show(move || data.with(|r| !r.options.is_empty()), move || view! { <span class="sub-options">{t(|r| r.options.clone())}</span> }.into_any())}
            <span class="count">{t(|r| r.count.clone())}</span>
            <button type="button" class="small" aria-label=t(|r| format!("Remove {}", r.filter))
                on:click=handler(move |_| actions::unsubscribe(s, &data.with_untracked(|r| r.filter.clone())))>"Remove"</button>
        </li>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_read_as_words_and_defaults_read_as_nothing() {
        let mut d = SubscriptionDetail {
            filter: "a/#".into(),
            qos: QoS::AtLeastOnce,
            options: SubOptions::default(),
            identifier: None,
            refusal: None,
        };
        assert_eq!(describe_options(&d), "");
        d.options = SubOptions {
            no_local: true,
            retain_as_published: true,
            retain_handling: RetainHandling::DoNotSend,
            identifier: None,
        };
        d.identifier = Some(3);
        assert_eq!(
            describe_options(&d),
            "no local · retain as published · retained: never · id 3"
        );
    }
}
