"""Signing in through the wellbeing area's identity provider (OpenID Connect), against a
provider of our own that speaks the real protocol (tests/oidc_provider.py), in a browser."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from dashboard.config import load_config
from tests.browser.conftest import chrome, fast_config
from tests.conftest import EXAMPLE_CONFIG, close_backend, free_port, make_backend, wait_for
from tests.oidc_provider import Provider

pytestmark = pytest.mark.browser

OIDC = """
[auth.oidc]
issuer = "{issuer}"
client_id = "ohjaustaulu"
client_secret_env = "TEST_OIDC_SECRET"
roles_claim = "groups"
units_claim = "units"
sites_claim = "sites"
role_map = {{ "hva-ohjaustaulu-esihenkilot" = "manager", "hva-ohjaustaulu-vuorovastaavat" = "shift_lead" }}
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("oidc")
    with Provider("ohjaustaulu", "salaisuus-123") as provider:
        config = fast_config(root / "site.toml")
        config.write_text(config.read_text(encoding="utf-8") + OIDC.format(issuer=provider.issuer), encoding="utf-8")
        backend = make_backend("embedded", root / "data")
        env = {**backend.cli_env(), "TEST_OIDC_SECRET": "salaisuus-123"}
        port = free_port()
        exe = str(Path(sys.executable).parent / "ohjaustaulu")
        proc = subprocess.Popen([exe, "serve", "--port", str(port), "--config", str(config)], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        url = f"http://127.0.0.1:{port}"
        import urllib.request

        try:
            wait_for(lambda: urllib.request.urlopen(f"{url}/health", timeout=1).status == 200, timeout=60, what="serve")
            yield url, provider, backend
        finally:
            proc.terminate()
            proc.wait(timeout=10)
            close_backend(backend)


def test_a_manager_signs_in_through_the_identity_provider(site):  # type: ignore[no-untyped-def]
    url, provider, backend = site
    provider.person = {"sub": "hva-4711", "preferred_username": "maija.manageri",
                       "groups": ["hva-kaikki", "hva-ohjaustaulu-esihenkilot"], "units": ["vastaanotto", "rontgen"]}
    driver = chrome(1600, 1000)
    try:
        driver.get(f"{url}/history")  # not signed in: to the sign-in page, which offers the provider
        wait_for(lambda: "/login" in driver.current_url, what="the sign-in page")
        driver.find_element("id", "oidc-login").click()
        wait_for(lambda: driver.current_url.endswith("/history"), timeout=15, what="back on /history")
        wait_for(lambda: driver.find_element("id", "history-csv"), timeout=20, what="the history page")
        assert "maija.manageri" in driver.find_element("tag name", "body").text
    finally:
        driver.quit()
    from dashboard.web.accounts import list_users

    (user,) = [u for u in list_users(backend.history) if u["name"] == "maija.manageri"]
    assert (user["role"], user["units"], user["local"]) == ("manager", ["vastaanotto"], False)
    assert any(e.action == "login" and e.who == "maija.manageri" for e in backend.history.audit())


def test_the_provider_signs_in_only_people_with_a_role_and_only_with_its_own_keys(site):  # type: ignore[no-untyped-def]
    import httpx

    url, provider, backend = site
    provider.person = {"sub": "hva-1", "preferred_username": "ulla.ulkopuolinen", "groups": ["hva-kaikki"]}
    with httpx.Client(base_url=url, follow_redirects=True, timeout=20) as browser:
        page = browser.get("/login/oidc?next=/history")
        assert page.status_code == 403 and "ei ole Ohjaustaulun roolia" in page.text
        provider.person = {"sub": "hva-2", "preferred_username": "vilma.vuorovastaava",
                           "groups": ["hva-ohjaustaulu-vuorovastaavat"], "units": ["laboratorio"]}
        provider.forge = True  # an ID token signed with a key the provider never published
        try:
            forged = browser.get("/login/oidc?next=/tablet")
        finally:
            provider.forge = False
        assert forged.status_code == 403 and "ei kelpaa" in forged.text
        assert "ohjaustaulu_session" not in browser.cookies
        # a state used once cannot be replayed
        first = browser.get("/login/oidc?next=/tablet", follow_redirects=False)
        to_provider = browser.get(first.headers["location"], follow_redirects=False)
        callback = to_provider.headers["location"]
        assert browser.get(callback, follow_redirects=False).status_code == 303  # signed in
        again = browser.get(callback, follow_redirects=False)
        assert again.status_code == 403 and "vanhentunut tai jo käytetty" in again.text


def test_sites_in_the_claims_give_their_units_and_an_empty_scope_is_no_scope(site):  # type: ignore[no-untyped-def]
    import httpx

    from dashboard.web.accounts import list_users

    url, provider, backend = site
    with httpx.Client(base_url=url, follow_redirects=True, timeout=20) as browser:
        # Harju's shift lead: the site's units, whatever units the site has today
        provider.person = {"sub": "hva-3", "preferred_username": "hanna.harju",
                           "groups": ["hva-ohjaustaulu-vuorovastaavat"], "sites": ["harju", "ei-tata"]}
        assert browser.get("/login/oidc?next=/tablet").status_code == 200
        (user,) = [u for u in list_users(backend.history) if u["name"] == "hanna.harju"]
        harju = [u.code for u in load_config(EXAMPLE_CONFIG).units if u.site == "harju"]
        assert harju == ["harju_vo", "hoivakoti"]
        assert (user["role"], user["units"]) == ("shift_lead", harju)
    with httpx.Client(base_url=url, follow_redirects=True, timeout=20) as browser:
        # a shift lead the provider gives neither units nor sites of ours: refused, never "every unit"
        provider.person = {"sub": "hva-4", "preferred_username": "tuomas.tyhja",
                           "groups": ["hva-ohjaustaulu-vuorovastaavat"], "sites": ["muu-alue"], "units": []}
        page = browser.get("/login/oidc?next=/tablet")
        assert page.status_code == 403 and "ei ole Ohjaustaulun yksiköitä tai toimipisteitä" in page.text
        assert "ohjaustaulu_session" not in browser.cookies
        assert not [u for u in list_users(backend.history) if u["name"] == "tuomas.tyhja"]
