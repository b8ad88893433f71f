from datetime import date, datetime, time, timedelta
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


def test_the_queue_system_counts_the_last_hours_calls():
    at_ten = at(10)
    (lab,) = simulator.queues("laboratorio", at_ten, TZ)
    visits = simulator.simulate("laboratorio", DAY, TZ).visits
    by_hand = 0
    for v in visits:  # one by one: called within the hour up to ten
        if at(9) <= v.called <= at_ten:
            by_hand += 1
    assert lab["called_last_hour"] == by_hand > 0


def test_fewer_points_call_at_lunch():
    def points(moment: datetime) -> dict[str, object]:
        return {q["queue"]: q["points_open"] for q in simulator.queues("vastaanotto", moment, TZ)}

    morning, lunch, afternoon = points(at(9)), points(at(12)), points(at(13))
    assert morning == {"Hoidon tarpeen arvio": 5, "Lääkärin vastaanotto": 4}
    # two of five nurses and one of four doctors at lunch; one doctor has fallen ill since 10.20
    assert lunch == {"Hoidon tarpeen arvio": 3, "Lääkärin vastaanotto": 2}
    assert afternoon == {"Hoidon tarpeen arvio": 5, "Lääkärin vastaanotto": 3}
    assert [q["points_open"] for q in simulator.queues("vastaanotto", at(7, 30), TZ)] == [0, 0]


def test_nobody_is_called_by_a_point_at_lunch():
    # At no moment of lunch are more visits under way that began in it than points open.
    visits = simulator.simulate("laboratorio", DAY, TZ).visits
    for minute in range(0, 60):
        moment = at(11, 30) + timedelta(minutes=minute)
        begun_at_lunch = [v for v in visits if at(11, 30) <= v.called <= moment < v.done]
        assert len(begun_at_lunch) <= 3  # four points, one at lunch
    assert any(at(11, 30) <= v.called < at(12, 30) for v in visits)  # the others do call
    called = [v.called for v in visits]
    assert called == sorted(called)  # first come, first served
