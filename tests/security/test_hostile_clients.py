"""Tried as an attacker would, with nothing but the network, against `ohjaustaulu demo`:
Dash callback bodies relabelled, reordered, with extra or missing parts — for every callback
the server registers —, another display's id in the query, the body or the state, heartbeats
for another screen, bodies too large or too deep, a correction of `inf`. Beside each, a
control showing that the honest request still works. Sessions and sign-in counters live in
the store: these run on both backends."""

from __future__ import annotations

import copy
import json
import subprocess
from contextlib import closing
from typing import Any

import httpx
import pytest

from tests.browser.conftest import Demo, http_client
from tests.conftest import drawn_rows
from tests.test_fastpoll import poll_body

HTML = {"Accept": "text/html"}
SECRET_WORDS = ("Tapahtumaloki", "Käyttäjät", "yllapito")  # on /admin only


def dependencies(demo: Demo) -> list[dict[str, Any]]:
    r = httpx.get(f"{demo.url}/_dash-dependencies", timeout=10)
    assert r.status_code == 200
    return [d for d in r.json() if not d.get("clientside_function")]


def outputs_of(key: str) -> Any:
    names = key[2:-2].split("...") if key.startswith("..") else [key]
    outs = [dict(zip(("id", "property"), n.rsplit(".", 1), strict=True)) for n in names]
    return outs if key.startswith("..") else outs[0]


def honest(dep: dict[str, Any], values: dict[str, Any] | None = None) -> dict[str, Any]:
    """The body dash-renderer sends for this callback (values by "id.property")."""
    values = values or {}

    def item(spec: dict[str, str]) -> Any:
        if spec["id"].startswith("{"):
            return []  # a pattern (ALL) with no components on the page
        return {**spec, "value": values.get(f"{spec['id']}.{spec['property']}")}

    body: dict[str, Any] = {"output": dep["output"], "inputs": [item(s) for s in dep["inputs"]],
                            "changedPropIds": [f"{dep['inputs'][0]['id']}.{dep['inputs'][0]['property']}"]}
    if "." in dep["output"]:  # else a callback without outputs (the push stream)
        body["outputs"] = outputs_of(dep["output"])
    if dep["state"]:
        body["state"] = [item(s) for s in dep["state"]]
    return body


def router(pathname: str, search: str = "") -> dict[str, Any]:
    return {"output": ".._pages_content.children..._pages_store.data..",
            "outputs": [{"id": "_pages_content", "property": "children"}, {"id": "_pages_store", "property": "data"}],
            "inputs": [{"id": "_pages_location", "property": "pathname", "value": pathname},
                       {"id": "_pages_location", "property": "search", "value": search}],
            "changedPropIds": ["_pages_location.pathname"]}


def poll(display: str, etag: str = "") -> dict[str, Any]:
    """The wall's poll, as dash-renderer sends it (the fast-poll tests' body)."""
    return poll_body(display, etag)


def post(client: httpx.Client, body: Any, raw: bytes | None = None) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if client.cookies.get("ohjaustaulu_csrf"):
        headers["X-CSRF-Token"] = client.cookies.get("ohjaustaulu_csrf") or ""
    return client.post("/_dash-update-component", content=raw if raw is not None else json.dumps(body),
                       headers=headers)


def add_user(demo: Demo, name: str, role: str, *units: str) -> None:
    """A local account, made as IT makes one (the demo's password)."""
    from dashboard.demo import PASSWORD
    from tests.conftest import OHJAUSTAULU

    made = subprocess.run([OHJAUSTAULU, "user", "add", name, "--role", role, *(["--units", *units] if units else []),
                           "--password-stdin", "--config", str(demo.config)], input=PASSWORD + "\n", text=True,
                          env=demo.backend.cli_env(), capture_output=True, timeout=60)
    assert made.returncode == 0, made.stderr


def said(r: httpx.Response) -> str:
    """A callback's answer as readable text (Dash escapes ä and ö)."""
    return json.dumps(r.json(), ensure_ascii=False)


def screen(demo: Demo, display: str) -> httpx.Client:
    client = httpx.Client(base_url=demo.url, timeout=10)
    assert client.get(f"/display/{display}?token={demo.token(display)}", headers=HTML).status_code == 200
    return client


def lies(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The ways a hostile client bends an honest body; each must be refused whole."""
    out: dict[str, dict[str, Any]] = {}
    leaves = [(part, i) for part in ("inputs", "state") for i, x in enumerate(body.get(part) or [])
              if isinstance(x, dict)]
    if len(leaves) >= 2:
        (pa, ia), (pb, ib) = leaves[0], leaves[1]
        b = copy.deepcopy(body)
        a_item, b_item = b[pa][ia], b[pb][ib]
        a_item["id"], b_item["id"] = b_item["id"], a_item["id"]
        a_item["property"], b_item["property"] = b_item["property"], a_item["property"]
        if (a_item["id"], a_item["property"]) != (body[pa][ia]["id"], body[pa][ia]["property"]):
            out["relabelled"] = b
    for part in ("inputs", "state"):
        if len(body.get(part) or []) >= 2 and body[part] != body[part][::-1]:
            b = copy.deepcopy(body)
            b[part] = b[part][::-1]
            out[f"reordered {part}"] = b
        b = copy.deepcopy(body)
        b[part] = [*(b.get(part) or []), {"id": "_pages_location", "property": "pathname", "value": "/admin"}]
        out[f"extra {part}"] = b
        if body.get(part):
            b = copy.deepcopy(body)
            b[part] = b[part][:-1]
            out[f"missing {part}"] = b
    b = copy.deepcopy(body)
    b["output"] = "admin-content.children" if body["output"] != "admin-content.children" else "wb-result.children"
    out["another callback's output"] = b
    b = copy.deepcopy(body)
    b["inputs"][0] = {"id": "x", "property": "y", "value": 1} if isinstance(b["inputs"][0], dict) else [1]
    out["another input"] = b
    b = copy.deepcopy(body)
    b["extra"] = True
    out["extra field"] = b
    nested: Any = "x"
    for _ in range(100):
        nested = [nested]
    b = copy.deepcopy(body)
    if isinstance(b["inputs"][0], dict):
        b["inputs"][0]["value"] = nested
        out["nested 100 deep"] = b
    return out


def test_every_callback_refuses_every_bent_body_and_takes_its_honest_one(demo: Demo):
    deps = dependencies(demo)
    assert len(deps) >= 8  # the pages router, the poll, the tablet's, history's and admin's
    with closing(http_client(demo.url, "yllapito")) as admin, httpx.Client(base_url=demo.url, timeout=10) as anon:
        for dep in deps:
            body = honest(dep, {"_pages_location.pathname": "/admin", "_pages_location.search": ""})
            for how, bent in lies(body).items():
                for who in (anon, admin):
                    r = post(who, bent)
                    assert r.status_code == 400, (dep["output"], how, r.status_code, r.text[:200])
                    assert "callback request" in r.json()["error"]
            # the control: the honest body is let through to the callback (admins may all)
            assert post(admin, body).status_code in (200, 204), dep["output"]


def test_the_pages_router_cannot_be_talked_into_admin(demo: Demo):
    swapped = router("/login", "/admin")
    swapped["inputs"] = [{"id": "_pages_location", "property": "search", "value": "/admin"},
                         {"id": "_pages_location", "property": "pathname", "value": "/login"}]
    # what Dash reads by position: pathname=/admin; what the labels say: pathname=/login
    with httpx.Client(base_url=demo.url, timeout=10) as anon:
        r = post(anon, swapped)
        assert r.status_code == 400 and not any(w in r.text for w in SECRET_WORDS)
        assert post(anon, router("/admin")).status_code == 401
        assert post(anon, router(None)).status_code == 400  # type: ignore[arg-type]
    with closing(screen(demo, "aula")) as aula, closing(http_client(demo.url, "vuorovastaava")) as lead:
        for client in (aula, lead):
            r = post(client, swapped)
            assert r.status_code == 400 and not any(w in r.text for w in SECRET_WORDS)
            assert post(client, router("/admin")).status_code == 403
    with closing(http_client(demo.url, "yllapito")) as admin:  # the control
        r = post(admin, router("/admin"))
        assert r.status_code == 200 and "Tapahtumaloki" in r.text


def test_a_display_token_reads_its_own_display_only(demo: Demo):
    with closing(screen(demo, "aula")) as aula:
        own = post(aula, router("/display/aula"))
        assert own.status_code == 200 and '"data-display":"aula"' in own.text.replace(" ", "")
        # the query may not choose another display (Dash passes it to the page as a keyword,
        # over the path's): the path's display is shown
        for search in ("?display_id=johto", "?display_id=vastaanotto-kaytava&token=x"):
            r = post(aula, router("/display/aula", search))
            text = r.text.replace(" ", "")
            assert r.status_code == 200 and '"data-display":"aula"' in text, search
            assert '"data-display":"johto"' not in text and '"data-display":"vastaanotto-kaytava"' not in text
        assert aula.get("/display/aula?display_id=johto", headers=HTML).status_code == 200  # the shell only
        # the poll: another display in the state, honestly placed or relabelled
        assert post(aula, poll("johto")).status_code == 403
        relabelled = poll("aula", "johto")
        relabelled["state"] = [{"id": "model-etag", "property": "data", "value": "johto"},
                               {"id": "display-id", "property": "data", "value": "aula"}]
        assert post(aula, relabelled).status_code == 400
        assert post(aula, router("/display/johto")).status_code == 403
        assert aula.get("/api/snapshot/johto").status_code == 403
        assert aula.get("/api/snapshot/aula").status_code == 200  # the control
        assert post(aula, poll("aula")).status_code == 200  # a whole board: its own


def test_a_heartbeat_speaks_for_its_own_display_and_screen(demo: Demo):
    with closing(screen(demo, "aula")) as aula, closing(screen(demo, "johto")) as johto:
        beat = {"screen": "aula-oma-1", "display": "aula"}
        assert aula.post("/api/heartbeat", json=beat).status_code == 200  # the control
        r = aula.post("/api/heartbeat", json={"screen": "johto-1", "display": "johto"})
        assert r.status_code == 403
        assert johto.post("/api/heartbeat", json={"screen": "johto-1", "display": "johto"}).status_code == 200
        # a second token of the same display cannot speak for a screen the first one holds
        other = httpx.Client(base_url=demo.url, timeout=10)
        with closing(other):
            token = demo.cli("display-token", "aula").stdout.strip()
            assert other.get(f"/display/aula?token={token}", headers=HTML).status_code == 200
            r = other.post("/api/heartbeat", json=beat)
            assert r.status_code == 409 and "aula-oma-1" in r.json()["error"]
            assert other.post("/api/heartbeat", json={**beat, "screen": "aula-oma-2"}).status_code == 200


def test_bodies_too_large_or_too_deep_are_refused_by_name(demo: Demo):
    with httpx.Client(base_url=demo.url, timeout=30) as anon:
        big = b"x" * (60 * 2**20)
        r = anon.post("/_dash-update-component", content=big, headers={"Content-Type": "application/json"})
        assert r.status_code == 413 and "kB" in r.json()["error"]

        def chunks():  # no Content-Length: the body streams until it passes the limit
            for _ in range(200):
                yield b"y" * 65536

        r = anon.post("/login", content=chunks(), headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert r.status_code == 413
        deep = b"[" * 2000 + b"]" * 2000
        r = anon.post("/_dash-update-component", content=deep, headers={"Content-Type": "application/json"})
        assert r.status_code == 400 and "deeper" in r.json()["error"]
        assert anon.get("/health").status_code == 200
    with closing(screen(demo, "aula")) as aula:
        r = aula.post("/api/heartbeat", content=b'{"a":' * 40 + b"1" + b"}" * 40,
                      headers={"Content-Type": "application/json"})
        assert r.status_code == 422 and "deeper" in r.json()["error"]
    with closing(http_client(demo.url, "yllapito")) as admin:  # a signed-in person may send a workbook's size
        body = json.dumps({"x": "y" * (2 * 2**20)}).encode()
        r = admin.post("/_dash-update-component", content=body,
                       headers={"Content-Type": "application/json", "X-CSRF-Token": admin.cookies.get("ohjaustaulu_csrf") or ""})
        assert r.status_code == 400  # read whole, then refused for its shape — not for its size


FIX = {"output": "tablet-fix-result.children", "outputs": {"id": "tablet-fix-result", "property": "children"},
       "inputs": [{"id": "tablet-fix-save", "property": "n_clicks", "value": 1}],
       "changedPropIds": ["tablet-fix-save.n_clicks"]}


def fix_body(unit: Any, value: Any) -> dict[str, Any]:
    return {**FIX, "state": [
        {"id": "tablet-fix-unit", "property": "value", "value": unit},
        {"id": "tablet-fix-metric", "property": "value", "value": "queue.waiting"},
        # a key the figure has not had yet: said to be new on purpose (the drop-down's "new key")
        {"id": "tablet-fix-key", "property": "value", "value": "+NEW"},
        {"id": "tablet-fix-new-key", "property": "value", "value": "Hoitajan vastaanotto"},
        {"id": "tablet-fix-value", "property": "value", "value": value},
        {"id": "tablet-fix-valid", "property": "value", "value": "1h"}]}


def test_corrections_are_finite_numbers_in_bounds(demo: Demo):
    with closing(http_client(demo.url, "vuorovastaava")) as lead:
        for bad in ("inf", "-inf", "nan", "1e309", "1e9", -1, {"x": 1}, ["1"]):
            r = post(lead, fix_body("vastaanotto", bad))
            assert r.status_code == 200 and "Arvo: anna luku" in said(r), bad
        r = post(lead, fix_body({"$ne": 1}, "3"))
        assert r.status_code == 200 and "Yksikkö" in said(r)
        ok = post(lead, fix_body("vastaanotto", "4"))  # the control
        assert ok.status_code == 200 and "Tallennettu" in said(ok)
    with closing(screen(demo, "vastaanotto-kaytava")) as s:
        assert s.get("/api/snapshot/vastaanotto-kaytava").status_code == 200


NOTICE = {"output": "..tablet-notice-result.children...tablet-notices.children...tablet-notice-editing.data..."
                    "tablet-notice-title.children...tablet-notice-text.value...tablet-notice-text-sv.value..."
                    "tablet-notice-units.value..."
                    "tablet-notice-importance.value...tablet-notice-public.value...tablet-notice-starts.value..."
                    "tablet-notice-ends.value..",
          "outputs": [{"id": i, "property": p} for i, p in (
              ("tablet-notice-result", "children"), ("tablet-notices", "children"), ("tablet-notice-editing", "data"),
              ("tablet-notice-title", "children"), ("tablet-notice-text", "value"), ("tablet-notice-text-sv", "value"),
              ("tablet-notice-units", "value"),
              ("tablet-notice-importance", "value"), ("tablet-notice-public", "value"), ("tablet-notice-starts", "value"),
              ("tablet-notice-ends", "value"))],
          "inputs": [{"id": "tablet-notice-save", "property": "n_clicks", "value": 1}, [], []],
          "changedPropIds": ["tablet-notice-save.n_clicks"]}


def notice_body(text: Any, units: Any, ends: Any = "23.59", text_sv: Any = None) -> dict[str, Any]:
    return {**NOTICE, "state": [
        {"id": "tablet-notice-editing", "property": "data", "value": None},
        {"id": "tablet-notice-text", "property": "value", "value": text},
        {"id": "tablet-notice-text-sv", "property": "value", "value": text_sv},
        {"id": "tablet-notice-units", "property": "value", "value": units},
        {"id": "tablet-notice-importance", "property": "value", "value": "info"},
        {"id": "tablet-notice-public", "property": "value", "value": []},
        {"id": "tablet-notice-starts", "property": "value", "value": ""},
        {"id": "tablet-notice-ends", "property": "value", "value": ends}]}


def test_a_refused_notice_names_its_problems_and_units_bind_the_shift_lead(demo: Demo):
    add_user(demo, "labra-vv", "shift_lead", "laboratorio")
    with closing(http_client(demo.url, "labra-vv")) as lab:
        r = post(lab, notice_body("", [], "25.99"))
        assert r.status_code == 200 and "Teksti" in said(r) and "Yksiköt" in said(r) and "Päättyy" in said(r)
        r = post(lab, notice_body("Vesikatko", ["vastaanotto"]))
        assert r.status_code == 200 and "Yksiköt" in said(r)
        assert not any(n.get("text") == "Vesikatko" for n in demo.backend.store.notices())
        r = post(lab, notice_body({"a": 1}, "laboratorio"))
        assert r.status_code == 200 and "Teksti" in said(r)
        r = post(lab, fix_body("vastaanotto", "3"))
        assert "Yksikkö" in said(r)
        r = post(lab, notice_body("Vesikatko", ["laboratorio"], text_sv="å" * 201))  # a Swedish text too long
        assert r.status_code == 200 and "Teksti ruotsiksi" in said(r)
        assert not any(n.get("text") == "Vesikatko" for n in demo.backend.store.notices())
        ok = post(lab, notice_body("Näytteenotto siirtyy", ["laboratorio"]))  # the control
        assert ok.status_code == 200 and "julkaistu" in said(ok)


def test_security_headers_on_every_kind_of_answer(demo: Demo):
    with closing(screen(demo, "aula")) as aula:
        answers = [aula.get("/display/aula", headers=HTML), aula.get("/login"), aula.get("/health"),
                   aula.get("/api/snapshot/aula"), aula.get("/assets/display.css"), post(aula, poll("aula")),
                   aula.get("/api/screens/nobody"), aula.get("/admin", headers=HTML)]
        first = aula.get("/display/aula", headers=HTML).text
        bundle = next(part.split('"')[0] for part in first.split('src="')[1:] if "_dash-component-suites" in part)
        answers.append(aula.get(bundle))
        for r in answers:
            csp = r.headers.get("content-security-policy", "")
            assert "frame-ancestors 'none'" in csp and "unsafe-eval" not in csp, r.url
            assert "script-src 'self' 'sha256-" in csp, r.url
            assert r.headers.get("x-content-type-options") == "nosniff", r.url
            assert r.headers.get("referrer-policy") == "no-referrer", r.url
            assert "strict-transport-security" not in r.headers  # plain http here
        over_https = aula.get("/health", headers={"X-Forwarded-Proto": "https"})
        assert over_https.headers["strict-transport-security"].startswith("max-age=")


def test_metrics_answer_only_where_configured(demo: Demo, monkeypatch: pytest.MonkeyPatch):
    from dashboard.config import load_config
    from dashboard.observability import metrics_allowed

    assert httpx.get(f"{demo.url}/metrics", timeout=10).status_code == 200  # this host: the default
    config = load_config(demo.config)
    assert metrics_allowed(config, "127.0.0.1", None) and metrics_allowed(config, "::1", None)
    assert not metrics_allowed(config, "10.1.2.3", None)
    assert not metrics_allowed(config, "garbage", None)
    site = config.site.model_copy(update={"metrics_allow": ["10.20.0.0/16"], "metrics_token_env": "OT_METRICS"})
    narrowed = config.model_copy(update={"site": site})
    monkeypatch.setenv("OT_METRICS", "s3cret-token-value")
    assert metrics_allowed(narrowed, "10.20.3.4", None)
    assert not metrics_allowed(narrowed, "127.0.0.1", None)
    assert metrics_allowed(narrowed, "192.0.2.1", "Bearer s3cret-token-value")
    assert not metrics_allowed(narrowed, "192.0.2.1", "Bearer wrong")


UPLOAD = {"output": "wb-result.children", "outputs": {"id": "wb-result", "property": "children"},
          "changedPropIds": ["wb-upload.contents"]}


def upload_body(data: bytes, filename: str) -> dict[str, Any]:
    import base64

    contents = "data:application/vnd.openxmlformats-officedocument.spreadsheetml.sheet;base64," + \
        base64.b64encode(data).decode()
    return {**UPLOAD, "inputs": [{"id": "wb-upload", "property": "contents", "value": contents}],
            "state": [{"id": "wb-upload", "property": "filename", "value": filename}]}


def test_a_dimension_bomb_uploaded_from_the_tablet_is_named_and_the_server_lives(demo: Demo):
    from tests.security.test_workbooks import sheet_xml, staffing_rows, xlsx

    bomb = xlsx({"Henkilöstö": sheet_xml(staffing_rows(), dimension="A1:XFD1048576")})
    real = xlsx({"Henkilöstö": sheet_xml(staffing_rows() + '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>')})
    assert len(bomb) < 5 * 1024 and len(real) < 5 * 1024
    with closing(http_client(demo.url, "vuorovastaava")) as lead:
        for name, data in (("pommi.xlsx", bomb), ("solu.xlsx", real)):
            r = post(lead, upload_body(data, name))
            assert r.status_code == 200 and "XFD1048576" in said(r), name
            assert '"data-state":"rejected"' in said(r).replace(" ", ""), name
            assert httpx.get(f"{demo.url}/health", timeout=5).status_code == 200


def test_a_shift_leads_workbook_is_bound_to_their_units(demo: Demo):
    from dashboard.config import load_config
    from tests.security.test_workbooks import filled_template

    add_user(demo, "labra-vv2", "shift_lead", "laboratorio")
    config = load_config(demo.config)
    today = demo.backend.store.clock(config.tz).now().date()
    others = filled_template(config, [[today, "laboratorio", "hoitaja", 3, 3], [today, "vastaanotto", "lääkäri", 99, 99]])
    before = {(r.unit, r.key, r.value) for rs in demo.backend.store.all_readings().values() for r in rs
              if r.metric == "staff.present"}
    with closing(http_client(demo.url, "labra-vv2")) as lab:
        r = post(lab, upload_body(others, "muiden.xlsx"))
        text = said(r)
        assert r.status_code == 200 and '"data-state":"rejected"' in text.replace(" ", "")
        assert "vastaanotto" in text and '"data-row":"3"' in text.replace(" ", "")
        after = {(r.unit, r.key, r.value) for rs in demo.backend.store.all_readings().values() for r in rs
                 if r.metric == "staff.present"}
        assert ("vastaanotto", "lääkäri", 99) not in after and ("laboratorio", "hoitaja", 3) not in after - before
        own = filled_template(config, [[today, "laboratorio", "hoitaja", 3, 3]])  # the control
        r = post(lab, upload_body(own, "omat.xlsx"))
        assert '"data-state":"applied"' in said(r).replace(" ", "")


def test_a_shift_lead_of_one_site_cannot_touch_another_site_by_any_path(demo: Demo):
    """`user add --sites strand`: Strand's units and nothing of Kivikko's or Harju's — not a
    correction, a notice, a workbook row or a display of theirs (the guards check units; a
    site's scope is its units)."""
    from dashboard.config import load_config
    from dashboard.demo import PASSWORD
    from tests.conftest import OHJAUSTAULU
    from tests.security.test_workbooks import filled_template

    def user_add(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([OHJAUSTAULU, "user", "add", *args, "--password-stdin", "--config", str(demo.config)],
                              input=PASSWORD + "\n", text=True, env=demo.backend.cli_env(),
                              capture_output=True, timeout=60)

    refused = user_add("strand-vv", "--role", "shift_lead", "--sites", "strnad")
    assert refused.returncode == 2 and "--sites: unknown site 'strnad'" in refused.stderr
    made = user_add("strand-vv", "--role", "shift_lead", "--sites", "strand")
    assert made.returncode == 0 and "units strand_vo strand_suu" in made.stdout, made.stdout
    config = load_config(demo.config)
    today = demo.backend.store.clock(config.tz).now().date()
    with closing(http_client(demo.url, "strand-vv")) as strand:
        for unit in ("vastaanotto", "harju_vo"):  # Kivikko's and Harju's units
            assert "Yksikkö" in said(post(strand, fix_body(unit, "3")))
            r = post(strand, notice_body("Vesikatko", [unit]))
            assert r.status_code == 200 and "Yksiköt" in said(r)
        assert not any(n.get("text") == "Vesikatko" for n in demo.backend.store.notices())
        other = filled_template(config, [[today, "strand_vo", "lääkäri", 3, 3], [today, "harju_vo", "lääkäri", 99, 99]])
        r = post(strand, upload_body(other, "muiden.xlsx"))
        assert '"data-state":"rejected"' in said(r).replace(" ", "") and "harju_vo" in said(r)
        assert not any(r.unit == "harju_vo" and r.value == 99 for rs in demo.backend.store.all_readings().values()
                       for r in rs if r.metric == "staff.present")
        # the controls: their own site's units
        ok = post(strand, fix_body("strand_vo", "2"))
        assert "Tallennettu" in said(ok)
        ok = post(strand, notice_body("Hissi huollossa", ["strand_suu"]))
        assert "julkaistu" in said(ok)


def history_body(units: Any, day: str) -> dict[str, Any]:
    """The history page's own callback, as its page sends it."""
    outs = ["history-content.children", "history-links.children", "history-error.children", "history-keys.options"]
    ins = [("history-units", "value", units), ("history-metrics", "value", ["queue.waiting"]),
           ("history-keys", "value", []), ("history-range", "start_date", day), ("history-range", "end_date", day),
           ("history-grain", "value", "day"), ("history-compare", "start_date", None),
           ("history-compare", "end_date", None)]
    return {"output": ".." + "...".join(outs) + "..",
            "outputs": [dict(zip(("id", "property"), o.rsplit(".", 1), strict=True)) for o in outs],
            "inputs": [{"id": i, "property": p, "value": v} for i, p, v in ins],
            "changedPropIds": ["history-units.value"], "state": []}


def test_a_manager_and_an_admin_of_one_site_read_only_their_own_sites(demo: Demo):
    """`--sites strand` for a manager and for an admin: the history and access-to-care pages
    and their downloads answer for Strand's units only however they are asked (a unit of
    another site alone, hidden among Strand's, in the page's callback or a download's
    address); the admin's page lists Strand's screens, sources and people, and the area's
    audit log is the area admins'. The controls: Strand's own units, and an area admin."""
    from datetime import UTC, datetime

    from dashboard.config import load_config
    from dashboard.demo import PASSWORD
    from tests.browser.test_access import router
    from tests.conftest import OHJAUSTAULU

    for name, role in (("strand-johto", "manager"), ("strand-yp", "admin")):
        made = subprocess.run([OHJAUSTAULU, "user", "add", name, "--role", role, "--sites", "strand", "--password-stdin",
                               "--config", str(demo.config)], input=PASSWORD + "\n", text=True,
                              env=demo.backend.cli_env(), capture_output=True, timeout=60)
        assert made.returncode == 0, made.stderr
    config = load_config(demo.config)
    day = demo.backend.store.clock(config.tz).now().date().isoformat()
    at = datetime.now(UTC)
    for screen, display in [("kivikko-aula-tv", "aula"), ("strand-vantrum-tv", "strand-vantrum"), ("alue-tv", "alue")]:
        demo.backend.store.record_heartbeat(screen, {"screen": screen, "display": display, "seen_at": at.isoformat(),
                                                     "seen_at_epoch": at.timestamp()})
    history = {"metrics": "queue.waiting", "start": day, "end": day, "grain": "day"}
    cases = {"start": day, "end": day, "period": "month"}
    with closing(http_client(demo.url, "strand-johto")) as manager, closing(http_client(demo.url, "strand-yp")) as admin:
        for who in (manager, admin):
            for units in ("vastaanotto", "strand_vo,vastaanotto", "harju_vo"):
                for path, params in (("/history/export.csv", history), ("/history/print", history),
                                     ("/history/access/export.xlsx", cases)):
                    r = who.get(path, params={**params, "units": units})
                    assert r.status_code == 400 and "ei kuulu tunnuksesi yksiköihin" in r.json()["error"], (path, units)
                r = post(who, history_body(units.split(","), day))
                assert r.status_code == 200 and "ei kuulu tunnuksesi yksiköihin" in said(r), units
                assert "history-series" not in said(r)
            ok = post(who, history_body(["strand_vo", "strand_suu"], day))  # the control: their own
            assert "history-series" in said(ok) and "ei kuulu" not in said(ok)
            assert who.get("/history/export.csv", params={**history, "units": "strand_vo"}).status_code == 200
            for path in ("/history", "/history/access"):  # the pages offer their units only
                page = said(post(who, router(path))).replace(" ", "")
                assert '"value":"strand_vo"' in page and '"value":"vastaanotto"' not in page, path
                assert "harju_vo" not in page, path
        refresh = {"output": "admin-content.children", "outputs": {"id": "admin-content", "property": "children"},
                   "inputs": [{"id": "admin-refresh", "property": "n_intervals", "value": 1}],
                   "changedPropIds": ["admin-refresh.n_intervals"], "state": []}
        answer = post(admin, refresh).json()
        mine = {cls: {r["attrs"][key] for r in drawn_rows(answer, cls)}  # type: ignore[index]
                for cls, key in (("screen-row", "data-screen"), ("source-row", "data-source"),
                                 ("user-row", "data-user"))}
        assert mine["screen-row"] >= {"strand-vantrum-tv"} and not mine["screen-row"] & {"kivikko-aula-tv", "alue-tv"}
        assert "demo-jonot" in mine["source-row"]  # it feeds Strand too
        assert "demo-hoitoonpaasy" not in mine["source-row"]  # Kivikko's only
        assert "strand-johto" in mine["user-row"] and "yllapito" not in mine["user-row"]
        assert not drawn_rows(answer, "audit-row") and "alueen ylläpitäjät" in json.dumps(answer, ensure_ascii=False)
        assert admin.get("/admin/audit.csv").status_code == 403
        assert post(manager, refresh).status_code == 403
    with closing(http_client(demo.url, "yllapito")) as area:  # the control: the area's admin sees it all
        every = post(area, refresh).json()
        assert {"strand-vantrum-tv", "kivikko-aula-tv", "alue-tv"} <= {
            r["attrs"]["data-screen"] for r in drawn_rows(every, "screen-row")}  # type: ignore[index]
        assert drawn_rows(every, "audit-row")
        assert area.get("/admin/audit.csv").status_code == 200
        assert post(area, history_body(["vastaanotto", "harju_vo"], day)).status_code == 200
