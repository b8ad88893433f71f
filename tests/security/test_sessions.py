"""Sign-in throttling that slows an attacker without locking a person out, and sessions that
end when what they were given no longer holds. Against the demo over raw HTTP, both backends."""

from __future__ import annotations

import json
import time
from contextlib import closing

import httpx

from tests.browser.conftest import Demo, http_client
from tests.security.test_hostile_clients import HTML, add_user

PASSWORD = "ohjaustaulu-demo"


def from_address(demo: Demo, address: str) -> httpx.Client:
    """A client whose connections come from another loopback address (a guest device)."""
    return httpx.Client(base_url=demo.url, timeout=10, transport=httpx.HTTPTransport(local_address=address))


def sign_in(client: httpx.Client, name: str, password: str) -> httpx.Response:
    client.get("/login")
    return client.post("/login", data={"name": name, "password": password,
                                       "csrf": client.cookies.get("ohjaustaulu_csrf") or "", "next": "/"})


class Attempts:
    """Sign-in attempts from one client, each with when it was sent and answered, so that what
    the throttle let through is checked against the waits it imposed — whatever the machine's
    load (a loaded machine's slow answers may outlast a wait; they must never beat one)."""

    def __init__(self, client: httpx.Client):
        self.client = client
        self.log: list[tuple[float, float, int]] = []  # sent, answered, status

    def sign_in(self, name: str, password: str) -> int:
        self.client.get("/login")
        sent = time.monotonic()
        r = self.client.post("/login", data={"name": name, "password": password,
                                             "csrf": self.client.cookies.get("ohjaustaulu_csrf") or "", "next": "/"})
        self.log.append((sent, time.monotonic(), r.status_code))
        return r.status_code

    def codes(self) -> list[int]:
        return [code for _s, _a, code in self.log]

    def assert_waited(self, free: int) -> None:
        """Every attempt tried after `free` failures came after the wait the one before it
        imposed (2, 4, 8 … s): its block began after that one was sent, so it cannot have ended
        sooner than sent + wait."""
        tried = [(sent, answered) for sent, answered, code in self.log if code != 429]
        for k in range(free, len(tried)):
            wait = 2 ** (k - free + 1)
            assert tried[k][1] >= tried[k - 1][0] + wait, (k, wait, self.codes())

    def refusal_runs(self) -> list[int]:
        """The lengths of the runs of refused attempts, each ended by a tried one or the end."""
        runs, n = [], 0
        for code in self.codes():
            if code == 429:
                n += 1
            elif n:
                runs.append(n)
                n = 0
        return runs + ([n] if n else [])


def test_hammering_a_name_does_not_lock_its_person_out(demo: Demo):
    add_user(demo, "kohde", "manager")
    with closing(from_address(demo, "127.0.0.2")) as client:
        attacker = Attempts(client)
        for i in range(40):
            attacker.sign_in("kohde", f"arvaus-{i}")
        codes = attacker.codes()
        assert codes[:5] == [401] * 5 and 429 in codes  # the attacker is slowed down
        attacker.assert_waited(free=5)
    # the person, from their own address, right away: not refused because of the attacker
    with closing(httpx.Client(base_url=demo.url, timeout=10)) as person:
        assert sign_in(person, "kohde", PASSWORD).status_code == 303
    rows = [e for e in demo.backend.history.audit() if e.who == "kohde"]
    assert sum(e.action == "login-failed" for e in rows) == codes.count(401)  # only attempts really tried
    # refused ones in aggregate: a row at the first and the tenth refusal of each run, not one each
    so_far = [json.loads(e.details)["refused_so_far"] for e in rows
              if e.action == "login-throttled" and "refused_so_far" in e.details]
    assert so_far == [n for run in attacker.refusal_runs() for n in (1, 10) if run >= n]
    # after its wait, the attacker's next real attempt reports how many were refused unheard
    time.sleep(demo.backend.store.login_blocked_for("pair:kohde|127.0.0.2") + 0.2)
    with closing(from_address(demo, "127.0.0.2")) as attacker_again:
        assert sign_in(attacker_again, "kohde", "vielä-yksi").status_code == 401
    refused = [json.loads(e.details).get("refused", 0) for e in demo.backend.history.audit()
               if e.who == "kohde" and e.action == "login-throttled"]
    assert sum(refused) == codes.count(429)


def test_an_address_that_tries_many_names_waits_too(demo: Demo):
    with closing(from_address(demo, "127.0.0.3")) as client:
        sprayer = Attempts(client)
        for i in range(45):  # until the address is made to wait
            if sprayer.sign_in(f"nimi-{i}", "salasana-123") == 429 and i >= 30:
                break
        codes = sprayer.codes()
        assert codes[:30] == [401] * 30 and codes[-1] == 429
        sprayer.assert_waited(free=30)
    with closing(httpx.Client(base_url=demo.url, timeout=10)) as other:  # the control: another address
        assert sign_in(other, "yllapito", PASSWORD).status_code == 303


def test_a_session_ends_when_the_role_or_units_change(demo: Demo):
    add_user(demo, "vaihtuva", "shift_lead")
    with closing(http_client(demo.url, "vaihtuva")) as tablet:
        assert tablet.get("/tablet", headers=HTML).status_code == 200
        add_user(demo, "vaihtuva", "manager")  # IT changes the role
        r = tablet.get("/tablet", headers=HTML, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login")
    with closing(http_client(demo.url, "vaihtuva")) as history:  # signed in again: the new role
        assert history.get("/history", headers=HTML).status_code == 200
        assert history.get("/tablet", headers=HTML).status_code == 403
        add_user(demo, "vaihtuva", "manager", "laboratorio")  # the units change
        assert history.get("/history", headers=HTML, follow_redirects=False).status_code == 303


def test_ending_and_disabling_from_the_command_line(demo: Demo):
    add_user(demo, "lahtija", "manager")
    with closing(http_client(demo.url, "lahtija")) as a, closing(http_client(demo.url, "lahtija")) as b:
        assert demo.cli("user", "sessions", "lahtija").stdout.strip() == "lahtija: 2 session(s)"
        ended = demo.cli("user", "sessions", "lahtija", "--end")
        assert ended.returncode == 0 and "ended 2" in ended.stdout
        for client in (a, b):
            assert client.get("/history", headers=HTML, follow_redirects=False).status_code == 303
    with closing(http_client(demo.url, "lahtija")) as c:
        assert demo.cli("user", "disable", "lahtija").returncode == 0
        assert c.get("/history", headers=HTML, follow_redirects=False).status_code == 303
        assert sign_in(c, "lahtija", PASSWORD).status_code == 401  # disabled: cannot sign in again
    assert demo.cli("user", "disable", "eikukaan").returncode == 2
    actions = [e.action for e in demo.backend.history.audit()]
    assert "sessions-end" in actions and "user-disable" in actions
