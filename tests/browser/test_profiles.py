"""Issue 4 (connection profiles) and issue 6 (credentials): a profile is saved
only when the user asks, under a name ("Profile name", "Save profile"), never
by Connect or by opening a link; it can be renamed, deleted, exported to a
JSON file and imported from one. The password is stored (and exported) only
with "Remember password", and otherwise never reaches localStorage or
sessionStorage. On the next visit the last profile saved or loaded fills the
form. A bad import file (not JSON, wrong types, too big) is refused with a
sentence and changes nothing; names full of markup are shown as text."""

import json
import re

from playwright.sync_api import expect

from brokers import Mosquitto, wait_until
from conftest import new_page
from dash import (CONNECTED, T, Publisher, assert_clean, button, edit_connection, open_dash, panel, status,
                  sub_row)

# The broker URL the form starts with (scripts/run.sh's embedded broker).
DEFAULT_BROKER_URL = "ws://127.0.0.1:18083/mqtt"
# A well-formed URL nothing listens on, for profiles that are never connected.
NOWHERE = "ws://127.0.0.1:9/mqtt"
XSS_NAME = "<img src=x onerror=window.__xss=1>"


# ----- helpers ----------------------------------------------------------------

def picker(page):
    return page.get_by_role("combobox", name="Profile", exact=True)


def options(page):
    return picker(page).locator("option")


def message(page):
    """The sentence the last profile action left (class `bad` on an error)."""
    return page.locator("p.profile-message")


def stored(page):
    """localStorage's profile store, parsed (None when nothing was written)."""
    raw = page.evaluate("localStorage.getItem('mqdash.profiles')")
    return None if raw is None else json.loads(raw)


def stored_names(page) -> list:
    store = stored(page)
    return [] if store is None else [p["name"] for p in store["profiles"]]


def everything_stored(page) -> str:
    """All of localStorage and sessionStorage as one string."""
    return page.evaluate("""() => JSON.stringify([localStorage, sessionStorage].map(s =>
        Object.fromEntries(Object.keys(s).map(k => [k, s.getItem(k)]))))""")


def only_profile(page, name):
    found = [p for p in stored(page)["profiles"] if p["name"] == name]
    assert len(found) == 1, stored(page)
    return found[0]


def subscribe_offline(page, filt, qos=0):
    """Adds a subscription before connecting: listed as "not connected", sent on connect."""
    page.get_by_label("Topic filter").fill(filt)
    page.locator("section.subscriptions").get_by_label("QoS").select_option(str(qos))
    button(page, "Subscribe").click()
    expect(sub_row(page, filt)).to_contain_text("not connected", timeout=T)


def set_subscriptions_offline(page, subs):
    for old in page.locator("li.sub code.filter").all_inner_texts():
        button(page, f"Remove {old}").click()
    expect(page.locator("li.sub")).to_have_count(0, timeout=T)
    for filt in subs:
        subscribe_offline(page, filt)


def save_as(page, name):
    """Types `name` in "Profile name", clicks "Save profile" and waits for the
    store to hold it (and for the page's sentence)."""
    page.get_by_label("Profile name").fill(name)
    button(page, "Save profile").click()
    expect(message(page)).to_have_text(f'saved profile "{name}"', timeout=T)
    expect(message(page)).not_to_have_class(re.compile(r"\bbad\b"))
    wait_until(f"profile {name!r} in localStorage", lambda: name in stored_names(page), timeout=T / 1000)


def fill_and_save(page, name, url, client_id, subs, will=""):
    page.get_by_label("Broker URL").fill(url)
    page.get_by_label("Client ID").fill(client_id)
    page.get_by_label("Will topic").fill(will)
    set_subscriptions_offline(page, subs)
    save_as(page, name)


def import_file(page, name, data: bytes):
    page.get_by_label("Import profiles").set_input_files(
        files=[{"name": name, "mimeType": "application/json", "buffer": data}])


def assert_no_markup_ran(page):
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.locator("body img, body svg, body iframe, body b").count() == 0
    assert page.evaluate("[...document.scripts].every(s => s.src)")


# ----- nothing is saved unless asked --------------------------------------------

def test_connecting_or_opening_a_link_saves_no_profile(page, site, mosquitto):
    open_dash(page, site)
    page.get_by_label("Broker URL").fill(mosquitto.ws_url)
    page.get_by_label("Client ID").fill("dash-unsaved")
    subscribe_offline(page, "a/#")
    button(page, "Connect").click()
    expect(status(page)).to_have_text(CONNECTED, timeout=T)
    expect(sub_row(page, "a/#")).to_contain_text("granted QoS 0", timeout=T)
    mosquitto.wait_for_log(" as dash-unsaved ")
    assert stored(page) is None, stored(page)
    edit_connection(page)
    expect(options(page)).to_have_text(["(saved profiles)"])
    button(page, "Disconnect").click()
    expect(status(page)).to_have_text("disconnected", timeout=T)
    assert stored(page) is None, stored(page)

    # A shared link that connects saves nothing either.
    open_dash(page, site, broker=mosquitto.ws_url, subs=["b/#"], client_id="dash-linked", connect=True)
    expect(sub_row(page, "b/#")).to_contain_text("granted QoS 0", timeout=T)
    mosquitto.wait_for_log(" as dash-linked ")
    assert stored(page) is None, stored(page)
    edit_connection(page)
    expect(options(page)).to_have_text(["(saved profiles)"])

    # So a plain visit starts from the default form, not from what was used.
    page.goto(site + "/")
    expect(status(page)).to_have_text("disconnected", timeout=T)
    expect(page.get_by_label("Broker URL")).to_have_value(DEFAULT_BROKER_URL)
    expect(page.get_by_label("Client ID")).to_have_value(re.compile(r"^mqdash-"))
    expect(page.locator("li.sub")).to_have_count(0)
    assert stored(page) is None, stored(page)
    assert_clean(page)


# ----- save, password, next visit -----------------------------------------------

def test_profile_is_saved_by_name_with_the_password_only_when_remember_password_is_ticked(page, site):
    secret = "pa55-w0rd!-7f3a"
    m = Mosquitto(password=("alice", secret))
    try:
        open_dash(page, site)
        expect(button(page, "Save profile")).to_be_disabled()  # no name yet
        page.get_by_label("Broker URL").fill(m.ws_url)
        page.get_by_label("Client ID").fill("dash-alice")
        page.get_by_label("Username").fill("alice")
        page.get_by_label("Password", exact=True).fill(secret)
        page.get_by_label("Will topic").fill("dash/alice/will")
        page.get_by_label("Will payload").fill("gone")
        subscribe_offline(page, "plant/#", qos=1)
        expect(page.get_by_label("Remember password")).not_to_be_checked()
        page.get_by_label("Profile name").fill("   ")
        expect(button(page, "Save profile")).to_be_disabled()  # a blank name is no name
        save_as(page, "plant A")
        expect(options(page)).to_have_text(["(saved profiles)", "plant A"])

        profile = only_profile(page, "plant A")
        assert profile["broker_url"] == m.ws_url
        assert profile["client_id"] == "dash-alice"
        assert profile["username"] == "alice"
        assert "password" not in profile
        assert profile["remember_password"] is False
        assert profile["subscriptions"] == [{"filter": "plant/#", "qos": 1}]
        assert profile["last_will"]["topic"] == "dash/alice/will"
        assert profile["last_will"]["payload"] == "gone"
        assert secret not in everything_stored(page)

        # Connecting with the typed password stores it nowhere, and adds no profile.
        before = stored(page)
        button(page, "Connect").click()
        expect(status(page)).to_have_text(CONNECTED, timeout=T)
        expect(sub_row(page, "plant/#")).to_contain_text("granted QoS 1", timeout=T)
        assert stored(page) == before
        assert secret not in everything_stored(page)

        # Next visit: the profile saved last fills the form, without the password.
        page.reload()
        expect(page.get_by_label("Broker URL")).to_have_value(m.ws_url, timeout=T)
        expect(page.get_by_label("Client ID")).to_have_value("dash-alice")
        expect(page.get_by_label("Username")).to_have_value("alice")
        expect(page.get_by_label("Password", exact=True)).to_have_value("")
        expect(page.get_by_label("Remember password")).not_to_be_checked()
        expect(page.get_by_label("Will topic")).to_have_value("dash/alice/will")
        expect(page.get_by_label("Will payload")).to_have_value("gone")
        expect(page.locator("li.sub code.filter")).to_have_text(["plant/#"])
        expect(sub_row(page, "plant/#").locator(".qos")).to_have_text("QoS 1")
        expect(status(page)).to_have_text("disconnected")

        # Ticked: saved again under the same name (replaced, not added), with the password.
        page.get_by_label("Password", exact=True).fill(secret)
        page.get_by_label("Remember password").check()
        save_as(page, "plant A")
        assert stored_names(page) == ["plant A"]
        profile = only_profile(page, "plant A")
        assert profile["password"] == secret and profile["remember_password"] is True

        # Next visit: the password comes back and the broker accepts it.
        page.reload()
        expect(page.get_by_label("Password", exact=True)).to_have_value(secret, timeout=T)
        expect(page.get_by_label("Remember password")).to_be_checked()
        button(page, "Connect").click()
        expect(status(page)).to_have_text(CONNECTED, timeout=T)
        expect(sub_row(page, "plant/#")).to_contain_text("granted QoS 1", timeout=T)

        # Unticked and saved again: the stored password is gone from everywhere.
        edit_connection(page)
        page.get_by_label("Remember password").uncheck()
        page.get_by_label("Profile name").fill("plant A")
        button(page, "Save profile").click()
        wait_until("the remembered password to be dropped",
                   lambda: only_profile(page, "plant A")["remember_password"] is False, timeout=T / 1000)
        assert "password" not in only_profile(page, "plant A")
        assert secret not in everything_stored(page)
        page.reload()
        expect(page.get_by_label("Client ID")).to_have_value("dash-alice", timeout=T)
        expect(page.get_by_label("Password", exact=True)).to_have_value("")
    finally:
        m.close()
    assert_clean(page)


def test_a_random_client_id_is_saved_empty_and_a_shared_link_wins_over_the_last_profile(page, site):
    open_dash(page, site)
    # The client id is the page's own random one: not typed, so saved empty.
    expect(page.get_by_label("Client ID")).to_have_value(re.compile(r"^mqdash-"), timeout=T)
    page.get_by_label("Broker URL").fill(NOWHERE)
    subscribe_offline(page, "r/#")
    save_as(page, "random id")
    assert only_profile(page, "random id")["client_id"] == ""

    # Each visit that loads it makes its own id.
    first = page.get_by_label("Client ID").input_value()
    page.reload()
    expect(page.get_by_label("Broker URL")).to_have_value(NOWHERE, timeout=T)
    expect(page.locator("li.sub code.filter")).to_have_text(["r/#"])
    expect(page.get_by_label("Client ID")).to_have_value(re.compile(r"^mqdash-"))
    expect(page.get_by_label("Client ID")).not_to_have_value(first)

    # A link with its own broker or subscriptions wins over the last profile.
    elsewhere = "ws://127.0.0.1:7/mqtt"
    open_dash(page, site, broker=elsewhere, subs=["from/link/#"])
    expect(page.get_by_label("Broker URL")).to_have_value(elsewhere)
    expect(page.locator("li.sub code.filter")).to_have_text(["from/link/#"])
    assert stored_names(page) == ["random id"]
    assert_clean(page)


# ----- rename, delete, pick --------------------------------------------------------

def test_rename_and_delete_a_saved_profile(page, site):
    open_dash(page, site)
    fill_and_save(page, "alpha", NOWHERE, "dash-alpha", ["a/#"])
    fill_and_save(page, "beta", NOWHERE, "dash-beta", ["b/#"])
    expect(options(page)).to_have_text(["(saved profiles)", "alpha", "beta"])
    expect(button(page, "Rename profile")).to_be_enabled()  # "beta" is selected after saving
    assert stored(page)["last_used"] == "beta"

    picker(page).select_option("alpha")
    expect(message(page)).to_have_text('loaded profile "alpha"', timeout=T)
    expect(page.get_by_label("Client ID")).to_have_value("dash-alpha")
    expect(page.get_by_label("Profile name")).to_have_value("alpha")
    assert stored(page)["last_used"] == "alpha"

    # Not onto another profile's name.
    before = stored(page)
    page.get_by_label("Profile name").fill("beta")
    button(page, "Rename profile").click()
    expect(message(page)).to_have_text('a profile named "beta" already exists', timeout=T)
    expect(message(page)).to_have_class(re.compile(r"\bbad\b"))
    assert stored(page) == before

    page.get_by_label("Profile name").fill("alpha 2")
    button(page, "Rename profile").click()
    expect(message(page)).to_have_text('renamed profile "alpha" to "alpha 2"', timeout=T)
    expect(message(page)).not_to_have_class(re.compile(r"\bbad\b"))
    expect(options(page)).to_have_text(["(saved profiles)", "alpha 2", "beta"])
    store = stored(page)
    assert [p["name"] for p in store["profiles"]] == ["alpha 2", "beta"]
    assert store["profiles"][0]["client_id"] == "dash-alpha"
    assert store["profiles"][0]["subscriptions"] == [{"filter": "a/#", "qos": 0}]
    assert store["last_used"] == "alpha 2"

    # Next visit: the renamed profile, loaded last, fills the form.
    page.reload()
    expect(page.get_by_label("Client ID")).to_have_value("dash-alpha", timeout=T)
    expect(page.locator("li.sub code.filter")).to_have_text(["a/#"])
    expect(button(page, "Delete profile")).to_be_disabled()  # nothing picked yet

    picker(page).select_option("alpha 2")
    expect(message(page)).to_have_text('loaded profile "alpha 2"', timeout=T)
    button(page, "Delete profile").click()
    expect(message(page)).to_have_text('deleted profile "alpha 2"', timeout=T)
    expect(options(page)).to_have_text(["(saved profiles)", "beta"])
    store = stored(page)
    assert [p["name"] for p in store["profiles"]] == ["beta"]
    assert store["last_used"] is None

    # The deleted profile was the last used one: the next visit starts afresh.
    page.reload()
    expect(status(page)).to_have_text("disconnected", timeout=T)
    expect(options(page)).to_have_text(["(saved profiles)", "beta"])
    expect(page.get_by_label("Broker URL")).to_have_value(DEFAULT_BROKER_URL)
    expect(page.get_by_label("Client ID")).to_have_value(re.compile(r"^mqdash-"))
    expect(page.locator("li.sub")).to_have_count(0)
    assert_clean(page)


def test_picking_a_saved_profile_restores_its_form_and_subscriptions(page, site, mosquitto):
    open_dash(page, site)
    fill_and_save(page, "a", mosquitto.ws_url, "dash-a", ["a/#"], will="dash/a/will")
    fill_and_save(page, "b", mosquitto.ws_url, "dash-b", ["b/#"])

    page.reload()
    expect(options(page)).to_have_text(["(saved profiles)", "a", "b"], timeout=T)
    # The last saved one is loaded.
    expect(page.get_by_label("Client ID")).to_have_value("dash-b")
    expect(page.locator("li.sub code.filter")).to_have_text(["b/#"])

    # Disconnected, a picked profile's subscriptions replace the list at once.
    picker(page).select_option("a")
    expect(page.get_by_label("Client ID")).to_have_value("dash-a")
    expect(page.get_by_label("Will topic")).to_have_value("dash/a/will")
    expect(page.locator("li.sub code.filter")).to_have_text(["a/#"])
    expect(sub_row(page, "a/#").locator(".grant")).to_have_text("not connected")

    # Back to b: a's Last Will and subscription do not leak into it.
    picker(page).select_option("b")
    expect(page.get_by_label("Client ID")).to_have_value("dash-b")
    expect(page.get_by_label("Will topic")).to_have_value("")
    expect(page.locator("li.sub code.filter")).to_have_text(["b/#"])
    button(page, "Connect").click()
    expect(status(page)).to_have_text(CONNECTED, timeout=T)
    expect(sub_row(page, "b/#")).to_contain_text("granted QoS 0", timeout=T)
    mosquitto.wait_for_log(" as dash-b ")

    # Picking while connected fills the form only: the connection and its
    # subscriptions stay until Connect is pressed.
    edit_connection(page)
    picker(page).select_option("a")
    expect(message(page)).to_contain_text('loaded profile "a" into the form: press Connect', timeout=T)
    expect(page.get_by_label("Client ID")).to_have_value("dash-a")
    expect(page.locator("p.form-differs")).to_be_visible()
    expect(page.locator("li.sub code.filter")).to_have_text(["b/#"])
    expect(sub_row(page, "b/#")).to_contain_text("granted QoS 0")
    p = Publisher(mosquitto.tcp_port)
    p.pub("b/x", "still subscribed to b", qos=1)
    expect(panel(page, "b/x")).to_be_visible(timeout=T)

    button(page, "Connect").click()
    expect(sub_row(page, "a/#")).to_contain_text("granted QoS 0", timeout=T)
    expect(page.locator("li.sub code.filter")).to_have_text(["a/#"])
    expect(status(page)).to_have_text(CONNECTED)
    edit_connection(page)  # connecting folded the form again
    expect(page.locator("p.form-differs")).to_have_count(0)
    mosquitto.wait_for_log(" as dash-a ")
    p.pub("b/y", "not wanted any more", qos=1)
    p.pub("a/x", "wanted", qos=1)
    p.close()
    expect(panel(page, "a/x")).to_be_visible(timeout=T)
    expect(panel(page, "b/y")).to_have_count(0)
    # Picking and connecting saved nothing new.
    assert stored_names(page) == ["a", "b"]
    assert_clean(page)


# ----- export and import ---------------------------------------------------------------

def test_export_downloads_the_profiles_and_import_restores_them_in_a_fresh_browser(browser, page, site, mosquitto):
    kept, not_kept = "kept-secret-91", "never-stored-42"
    open_dash(page, site)
    expect(button(page, "Export profiles")).to_be_disabled()  # nothing to export yet
    page.get_by_label("Broker URL").fill(mosquitto.ws_url)
    page.get_by_label("Client ID").fill("dash-r")
    page.get_by_label("Username").fill("u1")
    page.get_by_label("Password", exact=True).fill(kept)
    page.get_by_label("Remember password").check()
    page.get_by_label("Keep alive").fill("45")
    page.get_by_label("Will topic").fill("dash/r/will")
    set_subscriptions_offline(page, [])
    subscribe_offline(page, "r/#", qos=2)
    save_as(page, "remembered")

    page.get_by_label("Client ID").fill("dash-p")
    page.get_by_label("Username").fill("u2")
    page.get_by_label("Password", exact=True).fill(not_kept)
    page.get_by_label("Remember password").uncheck()
    page.get_by_label("Keep alive").fill("60")
    page.get_by_label("Will topic").fill("")
    set_subscriptions_offline(page, ["p/+/x"])
    save_as(page, "plain")
    assert not_kept not in everything_stored(page)

    with page.expect_download(timeout=T) as dl:
        button(page, "Export profiles").click()
    download = dl.value
    assert download.suggested_filename == "mqdash-profiles.json"
    path = download.path()
    text = open(path, encoding="utf-8").read()
    expect(message(page)).to_have_text("exported 2 profiles to mqdash-profiles.json", timeout=T)
    data = json.loads(text)
    assert data["format"] == "mqdash-profiles" and data["version"] == 1
    by_name = {p["name"]: p for p in data["profiles"]}
    assert list(by_name) == ["remembered", "plain"]
    assert by_name["remembered"]["password"] == kept
    assert by_name["remembered"]["remember_password"] is True
    assert by_name["remembered"]["keepalive_secs"] == 45
    assert by_name["remembered"]["subscriptions"] == [{"filter": "r/#", "qos": 2}]
    assert by_name["remembered"]["last_will"]["topic"] == "dash/r/will"
    assert "password" not in by_name["plain"] and by_name["plain"]["remember_password"] is False
    assert by_name["plain"]["subscriptions"] == [{"filter": "p/+/x", "qos": 0}]
    assert not_kept not in text

    # Another browser (a fresh context: empty storage) imports the file.
    other = new_page(browser)
    try:
        open_dash(other, site)
        assert stored(other) is None
        import_file(other, "mqdash-profiles.json", text.encode())
        expect(message(other)).to_have_text("imported profiles: added remembered, plain", timeout=T)
        expect(message(other)).not_to_have_class(re.compile(r"\bbad\b"))
        expect(options(other)).to_have_text(["(saved profiles)", "remembered", "plain"])
        assert stored(other)["profiles"] == data["profiles"]

        picker(other).select_option("plain")
        expect(other.get_by_label("Client ID")).to_have_value("dash-p", timeout=T)
        expect(other.get_by_label("Username")).to_have_value("u2")
        expect(other.get_by_label("Password", exact=True)).to_have_value("")
        expect(other.locator("li.sub code.filter")).to_have_text(["p/+/x"])

        picker(other).select_option("remembered")
        expect(other.get_by_label("Client ID")).to_have_value("dash-r", timeout=T)
        expect(other.get_by_label("Password", exact=True)).to_have_value(kept)
        expect(other.get_by_label("Remember password")).to_be_checked()
        expect(other.get_by_label("Keep alive")).to_have_value("45")
        expect(other.get_by_label("Will topic")).to_have_value("dash/r/will")
        expect(other.locator("li.sub code.filter")).to_have_text(["r/#"])
        button(other, "Connect").click()
        expect(status(other)).to_have_text(CONNECTED, timeout=T)
        expect(sub_row(other, "r/#")).to_contain_text("granted QoS 2", timeout=T)
        mosquitto.wait_for_log("as dash-r (p2, c1, k45, u'u1')")

        # The same file again replaces them by name: still two.
        edit_connection(other)
        import_file(other, "mqdash-profiles.json", text.encode())
        expect(message(other)).to_have_text("imported profiles: replaced remembered, plain", timeout=T)
        expect(options(other)).to_have_text(["(saved profiles)", "remembered", "plain"])
        assert not_kept not in everything_stored(other)
        assert_clean(other)
    finally:
        other.context.close()
    assert_clean(page)


def profile_file(*profiles, **top) -> bytes:
    return json.dumps({"format": "mqdash-profiles", "version": 1, "profiles": list(profiles), **top}).encode()


def two_megabytes() -> bytes:
    """A well-formed profiles file of exactly 2,000,000 bytes (padded)."""
    head = profile_file({"name": "big", "broker_url": NOWHERE}, padding="")
    pad = 2_000_000 - len(head)
    data = profile_file({"name": "big", "broker_url": NOWHERE}, padding="x" * pad)
    assert len(data) == 2_000_000
    return data


BAD_FILES = [
    ("not JSON", b"this is not JSON {",
     re.compile(r'^import failed: the file is not valid JSON \(.+ at line 1 column \d+\)$')),
    ("HTML", b"<html><script>window.__xss=2</script></html>",
     re.compile(r'^import failed: the file is not valid JSON \(.+ at line 1 column \d+\)$')),
    ("another format", json.dumps({"format": "other", "profiles": []}).encode(),
     'import failed: the file is not an mqdash profiles file (its "format" is not "mqdash-profiles")'),
    ("a name that is a number", profile_file({"name": 5}),
     'import failed: profile 1: "name" must be text'),
    ("a keepalive that is text, under a name full of markup",
     profile_file({"name": XSS_NAME, "broker_url": NOWHERE, "keepalive_secs": "sixty"}),
     f'import failed: profile 1 ("{XSS_NAME}"): "keepalive_secs" must be a whole number from 0 to 65535'),
    ("a QoS of 3", profile_file({"name": "q", "subscriptions": [{"filter": "a/#", "qos": 3}]}),
     'import failed: profile 1 ("q"), subscription 1: "qos" must be 0, 1 or 2'),
    ("an invalid filter", profile_file({"name": "f", "subscriptions": [{"filter": "a/#/b", "qos": 0}]}),
     'import failed: profile 1 ("f"), subscription 1: filter "a/#/b": # must be the last level'),
    ("a good profile, then a bad one",
     profile_file({"name": "good one", "broker_url": NOWHERE}, {"name": "bad", "clean_session": "yes"}),
     'import failed: profile 2 ("bad"): "clean_session" must be true or false'),
    ("profiles that are not a list", json.dumps({"format": "mqdash-profiles", "profiles": {"a": 1}}).encode(),
     'import failed: "profiles" in the file is not a list'),
    ("2 MB", None,
     "import failed: the file is 2000000 bytes; profile files of more than 1 MiB (1048576 bytes) are not read"),
]


def test_a_hostile_or_invalid_import_changes_nothing_and_runs_no_script(page, site):
    open_dash(page, site)
    fill_and_save(page, "keep", NOWHERE, "dash-keep", ["k/#"])
    raw = page.evaluate("localStorage.getItem('mqdash.profiles')")
    for what, data, sentence in BAD_FILES:
        if data is None:
            data = two_megabytes()
        import_file(page, f"{what}.json", data)
        expect(message(page), what).to_have_text(sentence, timeout=T)
        expect(message(page), what).to_have_class(re.compile(r"\bbad\b"))
        assert page.evaluate("localStorage.getItem('mqdash.profiles')") == raw, what
        expect(options(page), what).to_have_text(["(saved profiles)", "keep"])
    # The form and subscriptions were not touched either.
    expect(page.get_by_label("Client ID")).to_have_value("dash-keep")
    expect(page.locator("li.sub code.filter")).to_have_text(["k/#"])
    assert_no_markup_ran(page)

    # A valid file whose names and fields are full of markup: imported, and
    # shown as the literal text everywhere.
    hostile = profile_file({"name": XSS_NAME, "broker_url": NOWHERE, "client_id": "<svg onload=window.__xss=3>",
                            "subscriptions": [{"filter": "<b>x</b>/#", "qos": 1}],
                            "last_will": {"topic": "<iframe src=javascript:window.__xss=4>", "payload": "",
                                          "qos": 0, "retain": False}})
    import_file(page, "hostile.json", hostile)
    expect(message(page)).to_have_text(f"imported profiles: added {XSS_NAME}", timeout=T)
    expect(options(page)).to_have_text(["(saved profiles)", "keep", XSS_NAME])
    picker(page).select_option(XSS_NAME)
    expect(message(page)).to_have_text(f'loaded profile "{XSS_NAME}"', timeout=T)
    expect(page.get_by_label("Profile name")).to_have_value(XSS_NAME)
    expect(page.get_by_label("Client ID")).to_have_value("<svg onload=window.__xss=3>")
    expect(page.get_by_label("Will topic")).to_have_value("<iframe src=javascript:window.__xss=4>")
    expect(page.locator("li.sub code.filter")).to_have_text(["<b>x</b>/#"])
    assert stored_names(page) == ["keep", XSS_NAME]
    assert_no_markup_ran(page)
    assert_clean(page)


def test_an_import_file_over_the_read_limit_is_refused_before_reading(page, site, tmp_path):
    """Files over 16 MiB are not even read (the 1 MiB check above needs the text)."""
    open_dash(page, site)
    fill_and_save(page, "keep", NOWHERE, "dash-keep", ["k/#"])
    raw = page.evaluate("localStorage.getItem('mqdash.profiles')")
    huge = tmp_path / "huge.json"
    huge.write_bytes(b"[" + b" " * 17_000_000 + b"]")
    page.get_by_label("Import profiles").set_input_files(str(huge))
    expect(message(page)).to_have_text(
        "import failed: huge.json is 17000002 bytes; files over 16777216 bytes are not read", timeout=T)
    expect(message(page)).to_have_class(re.compile(r"\bbad\b"))
    assert page.evaluate("localStorage.getItem('mqdash.profiles')") == raw
    assert_clean(page)
