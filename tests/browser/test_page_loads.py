"""The release build loads in headless Chromium under its CSP, with no errors."""

from playwright.sync_api import expect


def test_release_build_mounts_with_no_console_or_page_error(page, site):
    page.goto(site + "/")
    expect(page.get_by_role("status")).to_have_text("disconnected", timeout=15000)
    expect(page.get_by_label("Broker URL")).to_be_visible()
    expect(page.get_by_role("button", name="Connect", exact=True)).to_be_visible()
    assert page.errors.console == [], page.errors.console
    assert page.errors.page == [], page.errors.page


def test_page_has_a_strict_content_security_policy_and_no_inline_script(page, site):
    page.goto(site + "/")
    csp = page.locator('meta[http-equiv="Content-Security-Policy"]').get_attribute("content")
    assert "script-src 'self' 'wasm-unsafe-eval'" in csp
    assert "unsafe-eval'" not in csp.replace("'wasm-unsafe-eval'", "")
    assert "unsafe-inline" not in csp
    inline = page.evaluate("[...document.scripts].filter(s => !s.src).length")
    assert inline == 0


def test_the_csp_blocks_injected_inline_script_and_style_and_the_tests_would_see_it(page, site):
    """A canary for every other test's `assert_clean`: a violation is recorded
    and logged as a console error."""
    page.goto(site + "/")
    expect(page.get_by_role("status")).to_have_text("disconnected", timeout=15000)
    page.evaluate("""() => {
        const s = document.createElement('script');
        s.textContent = 'window.__ran = 1';
        document.body.appendChild(s);
        document.body.setAttribute('style', 'background: red');
    }""")
    page.wait_for_function("window.__cspViolations.length >= 2")
    assert page.evaluate("typeof window.__ran") == "undefined"
    violated = " ".join(page.evaluate("window.__cspViolations"))
    assert "script-src" in violated and "style-src" in violated, violated
    assert any("Content Security Policy" in e for e in page.errors.console), page.errors.console
