"""The shift lead's actions, accounts and the audit log, on both backends."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy.exc
import time_machine
from sqlalchemy import text

from dashboard.config import Config
from dashboard.domain.readmodel import build
from dashboard.storage import audit
from dashboard.storage.history import History
from dashboard.storage.livestore import LiveStore
from dashboard.web.accounts import (
    AccountError,
    User,
    add_user,
    authenticate,
    display_of_token,
    new_display_token,
    revoke_display_tokens,
)
from dashboard.web.shiftlead import Refused, ShiftLead

pytestmark = pytest.mark.store
TZ = ZoneInfo("Europe/Helsinki")
T0 = datetime(2026, 11, 24, 10, 30, tzinfo=TZ)
LEAD = User("hoitaja1", "shift_lead", ("vastaanotto", "laboratorio"))


def lead(config: Config, store: LiveStore, history: History) -> ShiftLead:
    return ShiftLead(config, store, history, LEAD, "fi")


def test_a_correction_becomes_a_manual_reading_with_provenance(config: Config, store: LiveStore, history: History):
    with time_machine.travel(T0, tick=False):
        rd = lead(config, store, history).correct("vastaanotto", "staff.present", " Sairaanhoitaja ", "3", "4h",
                                                  new_key=True)
        assert (rd.key, rd.value, rd.manual, rd.entered_by) == ("sairaanhoitaja", 3, True, "hoitaja1 (tabletti)")
        assert rd.valid_until == T0 + timedelta(hours=4)
        model = build(config, config.display("vastaanotto-kaytava"), store, history).data
    tile = next(t for t in model["tiles"] if t["metric"] == "staff.present" and t["key"] == "sairaanhoitaja")
    assert (tile["value"], tile["status"], tile["entered_by"]) == (3, "fresh", "hoitaja1 (tabletti)")
    entry = audit.entries(history)[0]
    assert (entry["who"], entry["action"], entry["after"]) == ("hoitaja1", "correction", 3)


def test_a_bad_correction_names_every_problem_and_changes_nothing(config: Config, store: LiveStore, history: History):
    with pytest.raises(Refused) as err:
        lead(config, store, history).correct("sosiaali", "staff.present", "", "kolme", "vuosi")
    assert err.value.problems == [
        "Yksikkö: valitse jokin omista yksiköistäsi", "Tarkenne (jono, ammattiryhmä tai resurssi) puuttuu",
        "Arvo: anna luku 0–100 000", "Voimassa: valitse luettelosta"]
    assert store.all_readings() == {} and audit.entries(history) == []


@pytest.mark.parametrize(("lang", "said"), [
    ("sv", ["Enhet: välj en av dina enheter", "Precisering (kö, yrkesgrupp eller resurs) saknas",
            "Värde: ange ett tal 0–100 000", "Giltig: välj i listan"]),
    ("en", ["Unit: choose one of your units", "Key (queue, profession or resource) missing",
            "Value: give a number from 0 to 100,000", "Valid for: choose from the list"]),
])
def test_a_bad_correction_is_refused_in_the_shift_leads_own_language(
        config: Config, store: LiveStore, history: History, lang: str, said: list[str]):
    with pytest.raises(Refused) as err:
        ShiftLead(config, store, history, LEAD, lang).correct("sosiaali", "staff.present", "", "kolme", "vuosi")
    assert err.value.problems == said
    assert store.all_readings() == {}


def test_notices_are_posted_edited_and_ended_with_before_and_after(config: Config, store: LiveStore, history: History):
    sl = lead(config, store, history)
    with time_machine.travel(T0, tick=False):
        (posted,) = sl.post_notice("Laboratorio suljettu klo 14 alkaen", ["laboratorio"], "tärkeä", True, "16.00")
        assert [n["id"] for n in sl.notices()] == [posted["id"]]
        sl.post_notice("Laboratorio suljettu klo 13 alkaen", ["laboratorio"], "kiireellinen", True, "15.30", posted["id"])
        (changed,) = sl.notices()
        assert (changed["text"], changed["importance"], changed["ends"]) == (
            "Laboratorio suljettu klo 13 alkaen", "kiireellinen", "2026-11-24T15:30:00+02:00")
        model = build(config, config.display("aula"), store, history).data  # public: shown
        assert [n["text"] for n in model["notices"]] == ["Laboratorio suljettu klo 13 alkaen"]
        sl.end_notice(posted["id"])
        assert sl.notices() == []
        with pytest.raises(Refused) as err:
            sl.post_notice("", ["sosiaali"], "huom", False, "9.00")
    assert err.value.problems == ["Teksti: 1–200 merkkiä", "Yksiköt: valitse vähintään yksi omista yksiköistäsi",
                                  "Tärkeys: info, tärkeä tai kiireellinen",
                                  "Päättyy: anna kellonaika (15.30) tai päivä ja kellonaika (5.12. 15.30), myöhemmin kuin nyt ja alku"]
    actions = [(e["action"], e["before"] is not None) for e in reversed(audit.entries(history))]
    assert actions == [("notice", False), ("notice-edit", True), ("notice-end", True)]


def test_a_notice_may_carry_a_swedish_text_for_the_swedish_turns(config: Config, store: LiveStore, history: History):
    sl = lead(config, store, history)
    with time_machine.travel(T0, tick=False):
        (posted,) = sl.post_notice("Aula suljettu klo 14 alkaen", ["laboratorio"], "tärkeä", True, "16.00",
                                   text_sv="  Aulan stängd från kl. 14 ")
        assert posted["text_sv"] == "Aulan stängd från kl. 14"
        model = build(config, config.display("aula"), store, history).data
        assert [(n["text"], n.get("text_sv")) for n in model["notices"]] == [
            ("Aula suljettu klo 14 alkaen", "Aulan stängd från kl. 14")]
        assert "entered_by" not in model["notices"][0]  # a waiting room names nobody
        with pytest.raises(Refused) as err:  # too long: said by name, nothing changed
            sl.post_notice("Aula suljettu", ["laboratorio"], "info", True, "16.00", posted["id"], text_sv="å" * 201)
        assert err.value.problems == ["Teksti ruotsiksi: enintään 200 merkkiä"]
        assert sl.notices()[0]["text_sv"] == "Aulan stängd från kl. 14"


def test_a_shift_leads_escalation_level_stands_until_the_end_of_the_day(config: Config, store: LiveStore, history: History):
    sl = lead(config, store, history)
    with time_machine.travel(T0, tick=False):
        sl.set_escalation("vastaanotto", 3, "Kaksi lääkäriä sairaana")
        data = build(config, config.display("vastaanotto-kaytava"), store, history).data
        unit = data["escalation"]["units"]["vastaanotto"]
        assert (data["escalation"]["level"], unit["source"], unit["by"], unit["reasons"]) == (
            3, "manual", "hoitaja1", ["Kaksi lääkäriä sairaana"])
        with pytest.raises(Refused):
            sl.set_escalation("vastaanotto", 5, "")
    with time_machine.travel(T0 + timedelta(days=1), tick=False):  # the next day: the rules again
        data = build(config, config.display("vastaanotto-kaytava"), store, history).data
        assert data["escalation"]["units"]["vastaanotto"]["source"] == "rules"
    with time_machine.travel(T0, tick=False):
        sl.clear_escalation("vastaanotto", confirmed=True)  # a hand-back is confirmed (a second tap)
        assert build(config, config.display("vastaanotto-kaytava"), store, history).data[
            "escalation"]["units"]["vastaanotto"]["source"] == "rules"


def test_the_audit_log_refuses_updates_and_deletes_in_the_database(history: History):
    audit.record(history, "hoitaja1", "correction", {"metric": "staff.present"}, before=2, after=3)
    for statement in ("UPDATE audit_log SET who = 'joku muu'", "DELETE FROM audit_log"):
        with pytest.raises(sqlalchemy.exc.DatabaseError, match="never updated or deleted"):
            with history.engine.begin() as conn:
                conn.execute(text(statement))
    assert [e["who"] for e in audit.entries(history)] == ["hoitaja1"]
    csv_text = audit.to_csv(audit.entries(history)).decode("utf-8-sig")
    assert csv_text.splitlines()[0].startswith("id;aika;kuka") and "hoitaja1;correction;2;3" in csv_text


def test_accounts_and_display_tokens(history: History):
    assert add_user(history, "esihenkilo", "manager", [], "pitka-salasana-1") is True
    assert add_user(history, "esihenkilo", "manager", ["vastaanotto"], None) is False  # update keeps the password
    user = authenticate(history, "esihenkilo", "pitka-salasana-1")
    assert user is not None and user.units == ("vastaanotto",) and user.may("manager") and not user.may("admin")
    assert authenticate(history, "esihenkilo", "väärä-salasana") is None
    assert authenticate(history, "tuntematon", "pitka-salasana-1") is None
    for bad in (("a b", "manager", "pitka-salasana-1"), ("x", "boss", "pitka-salasana-1"), ("x", "admin", "lyhyt")):
        with pytest.raises(AccountError):
            add_user(history, bad[0], bad[1], [], bad[2])
    token = new_display_token(history, "aula")
    assert display_of_token(history, token) == "aula" and display_of_token(history, token + "x") is None
    with history.engine.connect() as conn:  # only the digest is kept
        assert token not in str(conn.execute(text("SELECT * FROM display_tokens")).all())
    assert revoke_display_tokens(history, "aula") == 1
    assert display_of_token(history, token) is None


def nurses(config: Config, store: LiveStore) -> dict:
    data = build(config, config.display("vastaanotto-kaytava"), store, None).data
    return next(t for t in data["tiles"] if (t["metric"], t["unit"], t["key"]) ==
                ("staff.present", "vastaanotto", "sairaanhoitaja"))


def feed(store: LiveStore, value: int, at: datetime) -> None:
    from dashboard.domain.readings import Reading

    store.write_readings("demo-henkilosto", [Reading("staff.present", "vastaanotto", "sairaanhoitaja", value, at,
                                                     "demo-henkilosto")], {"state": "ok"})


def test_a_withdrawn_correction_leaves_at_once_and_the_feed_shows_again(config: Config, store: LiveStore,
                                                                        history: History):
    from collectors.historywriter import drain

    sl = lead(config, store, history)
    with time_machine.travel(T0, tick=False) as traveller:
        feed(store, 11, T0)
        sl.correct("vastaanotto", "staff.present", "sairaanhoitaja", "10", "day")
        assert (nurses(config, store)["value"], nurses(config, store)["corrects"]["value"]) == (10, 11)
        traveller.shift(5)
        version = store.version()
        withdrawn, shown = sl.withdraw("vastaanotto", "staff.present", " Sairaanhoitaja ")
        assert store.version() > version  # the walls hear of it at once
        assert (withdrawn.value, withdrawn.source) == (10, "tabletti")
        assert shown == {"value": 11, "source": "demo-henkilosto", "status": "fresh", "observed_at": T0.isoformat()}
        tile = nurses(config, store)
        assert (tile["value"], tile["source"], "corrects" in tile) == (11, "demo-henkilosto", False)
        assert all(rd.key != "sairaanhoitaja" for rd in store.all_readings().get("tabletti", []))
        # twice: nothing left to withdraw, said so, and nothing more written
        with pytest.raises(Refused) as err:
            sl.withdraw("vastaanotto", "staff.present", "sairaanhoitaja")
        assert err.value.problems == ["Korjausta ei löydy (se on ehkä jo peruttu)"]
        # history: the correction, then its end — a change without a value, "nothing in force from here"
        queued = [rd for _id, rd in store.history_batch(100) if rd.source == "tabletti"]
        assert [(rd.value, rd.observed_at) for rd in queued] == [(10, T0), (None, T0 + timedelta(seconds=5))]
        assert queued[1].ident == queued[0].ident
    drain(store, history)
    tablet_rows = [r for r in history.changes("staff.present", "vastaanotto") if r.source == "tabletti"]
    assert [r.value for r in tablet_rows] == ["10", "null"]
    withdrawal = audit.entries(history, action="correction-withdraw")
    assert len(withdrawal) == 1 and withdrawal[0]["who"] == "hoitaja1"
    assert withdrawal[0]["details"] == {"metric": "staff.present", "unit": "vastaanotto", "key": "sairaanhoitaja"}
    assert withdrawal[0]["before"]["value"] == 10 and withdrawal[0]["after"]["value"] == 11


def test_a_shift_lead_cannot_withdraw_another_units_correction(config: Config, store: LiveStore, history: History):
    everyone = ShiftLead(config, store, history, User("koordinaattori", "shift_lead", ()), "fi")
    with time_machine.travel(T0, tick=False):
        everyone.correct("sosiaali", "staff.present", "sosiaalityöntekijä", "2", "4h", new_key=True)
        with pytest.raises(Refused) as err:
            lead(config, store, history).withdraw("sosiaali", "staff.present", "sosiaalityöntekijä")
        assert err.value.problems == ["Yksikkö: valitse jokin omista yksiköistäsi"]
        assert [rd.value for rd in store.all_readings()["tabletti"]] == [2]  # still in force
        assert audit.entries(history, action="correction-withdraw") == []
        everyone.withdraw("sosiaali", "staff.present", "sosiaalityöntekijä")  # the control
        assert store.all_readings()["tabletti"] == []


def rendered(component) -> list:  # type: ignore[no-untyped-def,type-arg]
    """Every component of a Dash tree, depth first."""
    out, stack = [], [component]
    while stack:
        c = stack.pop()
        if isinstance(c, list | tuple):
            stack.extend(reversed(c))
        elif hasattr(c, "to_plotly_json"):
            out.append(c)
            stack.append(getattr(c, "children", None) or [])
    return out


def text_of(component) -> str:  # type: ignore[no-untyped-def]
    kids = getattr(component, "children", None)
    kids = kids if isinstance(kids, list | tuple) else [kids]
    return "".join(k if isinstance(k, str) else text_of(k) if hasattr(k, "to_plotly_json") else "" for k in kids)


def test_the_tablet_shows_the_rules_level_beside_a_level_set_by_hand(config: Config, store: LiveStore,
                                                                      history: History, tmp_path):  # type: ignore[no-untyped-def]
    from dashboard.domain.readings import Reading
    from layouts.tablet import TabletContext, board_view

    sl = lead(config, store, history)
    ctx = TabletContext(config, store, history, tmp_path)

    def levels() -> dict[str, tuple[str | None, str]]:
        items = [c for c in rendered(board_view(ctx, sl)) if type(c).__name__ == "Li"]
        return {c.to_plotly_json()["props"]["data-unit"]: (c.to_plotly_json()["props"].get("data-rules-level"),
                                                           text_of(c)) for c in items}

    with time_machine.travel(T0, tick=False):
        store.write_readings("q", [Reading("queue.longest_wait_min", "vastaanotto", "A", 45, T0, "q")], {})
        sl.set_escalation("vastaanotto", 4, "Kaksi lääkäriä sairaana")
        shown = levels()
        assert shown["vastaanotto"] == (
            "2", "Vastaanotto: 4 Kriittinen – Kaksi lääkäriä sairaana (hoitaja1)"
                 "säännöt: 2 – Vastaanotto, A: pisin odotus, min 45 (raja > 30)")  # in words, as on the wall
        assert shown["laboratorio"] == (None, "Laboratorio: 1 Normaali")  # the rules' own: nothing beside it
        sl.set_escalation("vastaanotto", 2, "Vahvistan säännön tason", confirmed=True)  # the rules agree; lower: confirmed
        assert levels()["vastaanotto"] == (None, "Vastaanotto: 2 Kohonnut – Vahvistan säännön tason (hoitaja1)")


def test_the_tablets_board_travels_as_data_with_a_withdraw_button_on_each_correction(
        config: Config, store: LiveStore, history: History, tmp_path):  # type: ignore[no-untyped-def]
    """Today's board is one element with its table as data (drawn by assets/tables.js): as a
    Dash component per cell, each redraw of 250 rows froze the tablet for 7–11 s."""
    import json

    from dashboard.domain.readings import Reading
    from layouts.tablet import TabletContext, board_view, figure_of

    sl = lead(config, store, history)
    ctx = TabletContext(config, store, history, tmp_path)
    with time_machine.travel(T0, tick=False):
        store.write_readings("q", [Reading("queue.waiting", "vastaanotto", f"jono {i}", i, T0, "q") for i in range(200)]
                             + [Reading("staff.present", "vastaanotto", "lääkäri", 4, T0, "q")], {})
        sl.correct("vastaanotto", "staff.present", "Lääkäri", "3", "1h")
        board = board_view(ctx, sl)
    holders = [c for c in rendered(board) if "data-table" in c.to_plotly_json()["props"]]
    assert len(rendered(board)) < 20 and len(holders) == 1  # not a component per row or cell
    table = json.loads(holders[0].to_plotly_json()["props"]["data-table"])
    assert len(table["rows"]) == 201
    (fixed,) = [r for r in table["rows"] if r["attrs"]["data-source"] == "tabletti"]
    assert (fixed["attrs"]["data-value"], fixed["attrs"]["data-corrects"]) == ("3", "4")
    value = fixed["cells"][3]
    assert value["text"] == "✎ 3" and value["lines"][0]["text"].startswith("automaattinen: 4, klo 10.30")
    assert figure_of(value["button"]["attrs"]["data-figure"]) == ("staff.present", "vastaanotto", "lääkäri")
    assert not [r for r in table["rows"] if r["attrs"]["data-source"] == "q" and "button" in r["cells"][3]]


def test_a_notice_may_start_later_and_run_for_days_and_the_same_text_twice_is_flagged(
        config: Config, store: LiveStore, history: History):
    sl = lead(config, store, history)
    with time_machine.travel(T0, tick=False):  # Tuesday 24.11. 10.30
        (later,) = sl.post_notice("Influenssarokotukset aulassa", ["vastaanotto"], "info", True, "28.11. 16.00",
                                  starts="12")
        assert (later["starts"], later["ends"]) == ("2026-11-24T12:00:00+02:00", "2026-11-28T16:00:00+02:00")
        (other,) = sl.post_notice("Laboratorio suljettu", ["laboratorio"], "tärkeä", True, "25.11.2026 klo 9",
                                  starts="25.11. 7.30")
        assert (other["starts"], other["ends"]) == ("2026-11-25T07:30:00+02:00", "2026-11-25T09:00:00+02:00")
        # not started yet: on the tablet's list, not on the wall
        assert [n["id"] for n in sl.notices()] == [other["id"], later["id"]]
        assert build(config, config.display("vastaanotto-kaytava"), store, None).data["notices"] == []
        # the same text again, in other spacing and case: posted, and flagged on both
        (again,) = sl.post_notice(" influenssarokotukset  AULASSA", ["vastaanotto"], "info", False, "16.00")
        assert [n["id"] for n in sl.same_text(again)] == [later["id"]]
        assert [n["id"] for n in sl.same_text(later)] == [again["id"]]
        assert sl.same_text(other) == []
        # a change keeps its start unless given another
        (changed,) = sl.post_notice("Laboratorio suljettu klo 9 asti", ["laboratorio"], "tärkeä", True, "25.11. 9.00",
                                    other["id"])
        assert changed["starts"] == other["starts"]
        for starts, ends, said in (("huomenna", "16", "Alkaa:"), ("12", "11.30", "Päättyy:"),
                                   ("31.11. 8", "16", "Alkaa:"), ("", "23.11. 16", "Päättyy:")):
            with pytest.raises(Refused) as err:
                sl.post_notice("Tiedote", ["vastaanotto"], "info", False, ends, starts=starts)
            assert [p for p in err.value.problems if p.startswith(said)], (starts, ends, err.value.problems)
    with time_machine.travel(datetime(2026, 11, 24, 12, 1, tzinfo=TZ), tick=False):
        shown = build(config, config.display("vastaanotto-kaytava"), store, None).data["notices"]
        assert {n["id"] for n in shown} == {later["id"], again["id"]}  # started now; the laboratory's tomorrow
