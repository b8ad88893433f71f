"""Each person's own language (issue 16), over raw HTTP against the demo: the sign-in page in
the browser's language, a choice kept with the account and in every session of its person,
and a choice that nobody else can make for them. Both backends."""

from __future__ import annotations

import re
from contextlib import closing

import httpx

from dashboard.web.accounts import get_user
from tests.browser.conftest import Demo, http_client
from tests.security.test_hostile_clients import HTML, add_user


def page_language(client: httpx.Client, path: str, **headers: str) -> str:
    r = client.get(path, headers={**HTML, **headers})
    assert r.status_code == 200, (path, r.status_code)
    found = re.search(r'<html lang="(\w+)"', r.text)
    assert found, r.text[:200]
    return found.group(1)


def choose(client: httpx.Client, lang: str, csrf: str | None = None, next_: str = "/history") -> httpx.Response:
    return client.post("/language", data={"lang": lang, "next": next_,
                                          "csrf": client.cookies.get("ohjaustaulu_csrf") if csrf is None else csrf},
                       follow_redirects=False)


def test_the_sign_in_page_speaks_the_browsers_language(demo: Demo):
    with closing(httpx.Client(base_url=demo.url, timeout=10)) as browser:
        sv = browser.get("/login", headers={"Accept-Language": "sv-FI,sv;q=0.9,fi;q=0.5"})
        assert '<html lang="sv">' in sv.text and "Logga in" in sv.text and "Användarnamn" in sv.text
        en = browser.get("/login", headers={"Accept-Language": "en-GB,en;q=0.9"})
        assert '<html lang="en">' in en.text and "Sign in" in en.text
        other = browser.get("/login", headers={"Accept-Language": "de-DE,de;q=0.9"})  # none of ours: the site's
        assert '<html lang="fi">' in other.text and "Kirjaudu" in other.text
        # a wrong password is told in the same language
        refused = browser.post("/login", headers={"Accept-Language": "sv"}, data={
            "name": "ei-ketaan", "password": "väärin-väärin", "csrf": browser.cookies.get("ohjaustaulu_csrf") or ""})
        assert refused.status_code == 401 and "Fel användarnamn eller lösenord" in refused.text


def test_a_language_chosen_before_signing_in_stays_on_that_browser(demo: Demo):
    with closing(httpx.Client(base_url=demo.url, timeout=10, headers={"Accept-Language": "fi"})) as browser:
        browser.get("/login")
        r = browser.post("/login/language", data={"lang": "en", "next": "/history",
                                                  "csrf": browser.cookies.get("ohjaustaulu_csrf") or ""},
                         follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/login?next=/history"
        assert page_language(browser, "/login") == "en"
        # without the form's token (a page elsewhere posting it): refused, nothing set
        with closing(httpx.Client(base_url=demo.url, timeout=10)) as other:
            other.get("/login")
            forged = other.post("/login/language", data={"lang": "sv", "next": "/"}, follow_redirects=False)
            assert forged.status_code == 403 and "ohjaustaulu_lang" not in forged.cookies


def test_a_persons_choice_is_kept_with_their_account_and_in_all_their_sessions(demo: Demo):
    add_user(demo, "ruotsiksi", "manager")
    with closing(http_client(demo.url, "ruotsiksi")) as laptop, closing(http_client(demo.url, "ruotsiksi")) as tablet:
        assert page_language(laptop, "/history") == "fi"  # no choice, no language asked for: the site's
        r = choose(laptop, "sv")
        assert r.status_code == 303 and r.headers["location"] == "/history"
        assert page_language(laptop, "/history") == "sv"
        assert page_language(tablet, "/history") == "sv"  # the person's other session too
        assert page_language(laptop, "/history", **{"Accept-Language": "en"}) == "sv"  # their choice beats the browser
    assert get_user(demo.backend.history, "ruotsiksi").language == "sv"
    # signed in anew, from a browser that asks for English: still their own choice
    with closing(httpx.Client(base_url=demo.url, timeout=10, headers={"Accept-Language": "en"})) as browser:
        browser.get("/login")
        browser.post("/login", data={"name": "ruotsiksi", "password": "ohjaustaulu-demo",
                                     "csrf": browser.cookies.get("ohjaustaulu_csrf") or ""})
        assert page_language(browser, "/history") == "sv"


def test_nobody_chooses_a_language_for_someone_else(demo: Demo):
    add_user(demo, "kohdehenkilo", "manager")
    with closing(http_client(demo.url, "kohdehenkilo")) as person:
        assert choose(person, "en", csrf="").status_code == 403  # no CSRF token: another site's form
        assert choose(person, "en", csrf="väärä").status_code == 403  # not ASCII: still a 403, never a 500
        header = person.post("/language", data={"lang": "en"}, headers={"X-CSRF-Token": "väärä".encode()},
                             follow_redirects=False)
        assert header.status_code == 403
        bad = choose(person, "de")
        assert bad.status_code == 422 and "de" in bad.json()["error"]
        assert choose(person, "sv", next_="//evil.example/x").headers["location"] == "/"  # never elsewhere
        assert choose(person, "en", next_="https://evil.example/").headers["location"] == "/"
    assert get_user(demo.backend.history, "kohdehenkilo").language == "en"
    with closing(httpx.Client(base_url=demo.url, timeout=10)) as stranger:  # not signed in
        r = stranger.post("/language", data={"lang": "fi", "next": "/"}, headers=HTML, follow_redirects=False)
        assert r.status_code in (303, 401, 403) and r.headers.get("location", "/login").startswith("/login")
    token = demo.token("vastaanotto-kaytava")
    with closing(httpx.Client(base_url=demo.url, timeout=10)) as screen:  # a screen is no person
        r = screen.post(f"/language?token={token}", data={"lang": "fi", "next": "/"}, follow_redirects=False)
        assert r.status_code in (401, 403)
    assert get_user(demo.backend.history, "kohdehenkilo").language == "en"
