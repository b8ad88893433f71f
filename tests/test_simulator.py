from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from collectors.demo import simulator

TZ = ZoneInfo("Europe/Helsinki")
DAY = date(2026, 11, 24)  # a Tuesday


def at(h: int, m: int = 0) -> datetime:
    return datetime.combine(DAY, time(h, m), tzinfo=TZ)


def test_the_day_has_a_morning_peak_and_a_lunch_dip():
    hours = simulator.flow("vastaanotto", at(16), TZ)["arrivals_by_hour"]
    assert hours["08"] + hours["09"] > 1.5 * (hours["11"] + hours["12"])
    assert hours["12"] < min(hours["08"], hours["09"], hours["13"])
    assert set(hours) <= {f"{h:02d}" for h in range(8, 16)}


def test_a_doctor_falls_ill_mid_morning():
    def doctors(moment: datetime) -> int:
        return next(s["present"] for s in simulator.staffing("vastaanotto", moment, TZ)
                    if s["profession"] == "lääkäri")

    assert doctors(at(10, 21)) == doctors(at(10, 19)) - 1


def test_no_shows_accumulate_during_the_day():
    counts = [simulator.flow("vastaanotto", at(h), TZ)["no_shows_today"] for h in (9, 12, 15)]
    assert counts == sorted(counts) and counts[-1] > 0


def test_the_same_day_is_the_same_in_every_process():
    simulator.simulate.cache_clear()
    first = simulator.queues("laboratorio", at(9, 30), TZ)
    simulator.simulate.cache_clear()
    assert simulator.queues("laboratorio", at(9, 30), TZ) == first


def test_closed_days_have_no_visits():
    sunday = datetime(2026, 11, 22, 10, tzinfo=TZ)
    assert simulator.flow("vastaanotto", sunday, TZ)["arrivals_today"] == 0
    assert all(s["planned"] == 0 for s in simulator.staffing("vastaanotto", sunday, TZ))
