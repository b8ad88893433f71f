"""The Content-Security-Policy is one Dash can live with: every page renders in Debian's
Chromium with no violation reported (scripts only from this server and Dash's own inline
scripts by hash, no eval), and a page that breaks the policy is caught (the control)."""

from __future__ import annotations

import pytest

from tests.browser.conftest import Demo, chrome, sign_in, tiles
from tests.conftest import wait_for

pytestmark = pytest.mark.browser

LISTEN = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', e =>
  window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || '') + ' ' + (e.sourceFile || '')));
"""


# the policy is the server's, not the store's: one backend is enough
@pytest.mark.parametrize("demo", ["embedded"], indirect=True)
def test_every_page_renders_under_the_policy(demo: Demo):
    driver = chrome(1600, 1000)
    try:
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": LISTEN})
        driver.get(demo.display_url("vastaanotto-kaytava"))
        wait_for(lambda: len(tiles(driver)) > 10, what="the staff board's tiles")
        assert driver.execute_script("return window.__csp") == []
        sign_in(driver, demo.url, "yllapito")
        for path, ready in (("/tablet", "#tablet-board table"), ("/history", "#history-series .main-svg"),
                            ("/admin", "#admin-content table")):
            driver.get(demo.url + path)
            wait_for(lambda ready=ready: driver.find_elements("css selector", ready), timeout=30, what=path)
            assert driver.execute_script("return window.__csp") == [], path
        # the control: an inline script of our own making is refused and reported
        driver.execute_script("const s = document.createElement('script'); s.textContent = 'window.__ran = 1';"
                              "document.body.appendChild(s);")
        wait_for(lambda: driver.execute_script("return window.__csp.length"), timeout=5, what="a violation")
        assert driver.execute_script("return window.__ran") is None
        assert any("script-src" in v for v in driver.execute_script("return window.__csp"))
    finally:
        driver.quit()
