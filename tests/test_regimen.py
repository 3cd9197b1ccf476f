"""Doses, schedules, regimens and NONMEM-style event tables."""

import numpy as np
import pandas as pd
import pytest

from ketasim.dosing import (
    EVENT_COLUMNS,
    ROUTES,
    SUBSTANCES,
    Dose,
    Regimen,
    read_event_table,
    schedule,
    to_event_table,
    write_event_table,
)
from ketasim.errors import ScenarioError

INFUSION = Dose("racemic", "iv_infusion", 0.5, per_kg=True, duration_h=40 / 60)


def fails(call, *args, names: str, says: str, **kwargs) -> str:
    """Assert the call raises a one-line ScenarioError that names `names` and says `says`."""
    with pytest.raises(ScenarioError) as info:
        call(*args, **kwargs)
    message = str(info.value)
    assert names in message and says in message and "\n" not in message, message
    return message


# -- Dose ----------------------------------------------------------------------------------
def test_dose_amount_and_end():
    assert INFUSION.amount_mg(80.0) == 40.0
    assert INFUSION.end_h == 40 / 60
    np.testing.assert_array_equal(INFUSION.amount_mg(np.array([50.0, 70.0])), [25.0, 35.0])
    bolus = Dose("esketamine", "iv_bolus", 35.0, time_h=2.0)
    assert bolus.amount_mg(80.0) == 35.0 and bolus.end_h == 2.0
    np.testing.assert_array_equal(bolus.amount_mg(np.array([50.0, 70.0])), [35.0, 35.0])


@pytest.mark.parametrize("kwargs, field, says", [
    ({"substance": "ketamine"}, "substance", "racemic, esketamine, arketamine"),
    ({"route": "iv"}, "route", ", ".join(ROUTES)),
    ({"amount": 0.0}, "amount", "more than 0"),
    ({"amount": -1.0}, "amount", "more than 0"),
    ({"amount": float("nan")}, "amount", "finite"),
    ({"amount": float("inf")}, "amount", "finite"),
    ({"amount": "5"}, "amount", "expected a number"),
    ({"time_h": -1.0}, "time", "0 h or later"),
    ({"time_h": float("nan")}, "time", "finite"),
    ({"duration_h": None}, "duration", "needs a duration"),
    ({"duration_h": 0.0}, "duration", "longer than 0"),
    ({"duration_h": -0.5}, "duration", "longer than 0"),
    ({"route": "iv_bolus"}, "duration", "only iv_infusion takes a duration"),
    ({"route": "oral", "duration_h": 0.0}, "duration", "only iv_infusion takes a duration"),
    ({"per_kg": 1}, "per_kg", "True or False"),
])
def test_dose_rejects(kwargs, field, says):
    args = {"substance": "racemic", "route": "iv_infusion", "amount": 0.5, "duration_h": 1.0}
    message = fails(Dose, **(args | kwargs), names=field, says=says)
    assert message.startswith(f"{field}: ")


def test_amount_mg_rejects_bad_weight():
    for weight in (0.0, -70.0, float("nan"), np.array([70.0, 0.0])):
        fails(INFUSION.amount_mg, weight, names="weight_kg", says="finite and > 0")


# -- schedule ------------------------------------------------------------------------------
def test_schedule_forms():
    assert schedule(at=[0.0, 24.0, 1.5]) == (0.0, 24.0, 1.5)
    assert schedule(every=84.0, count=3) == (0.0, 84.0, 168.0)
    assert schedule(start=2.0, every=84.0, count=2) == (2.0, 86.0)
    assert schedule(per_week=2, weeks=2) == (0.0, 84.0, 168.0, 252.0)
    assert schedule(per_week=3, weeks=1, start=10.0) == (10.0, 66.0, 122.0)
    assert all(isinstance(t, float) for t in schedule(every=1.0, count=2))


@pytest.mark.parametrize("kwargs, field, says", [
    ({}, "doses[0]", "got none"),
    ({"at": [0.0], "every": 1.0, "count": 2}, "doses[0]", "got at, count, every"),
    ({"at": [0.0], "start": 1.0}, "doses[0]", "got at, start"),
    ({"every": 1.0}, "doses[0]", "got every"),
    ({"start": 1.0}, "doses[0]", "got start"),
    ({"every": 1.0, "count": 2, "weeks": 1}, "doses[0]", "exactly one schedule"),
    ({"at": []}, "doses[0].at", "non-empty list"),
    ({"at": "0 h"}, "doses[0].at", "non-empty list"),
    ({"at": [0.0, -1.0]}, "doses[0]", "must be >= 0 h"),
    ({"at": [0.0, "1"]}, "doses[0].at[1]", "expected a number"),
    ({"every": 0.0, "count": 2}, "doses[0].every", "more than 0"),
    ({"every": 1.0, "count": 0}, "doses[0].count", "whole number >= 1"),
    ({"every": 1.0, "count": 2.0}, "doses[0].count", "whole number >= 1"),
    ({"every": 1.0, "count": True}, "doses[0].count", "whole number >= 1"),
    ({"every": 1.0, "count": 20_000}, "doses[0]", "at most 10000"),
    ({"per_week": 0, "weeks": 2}, "doses[0].per_week", "whole number >= 1"),
    ({"per_week": 1.5, "weeks": 2}, "doses[0].per_week", "whole number >= 1"),
    ({"per_week": 2, "weeks": 0}, "doses[0].weeks", "whole number >= 1"),
    ({"start": float("inf"), "every": 1.0, "count": 1}, "doses[0].start", "finite"),
])
def test_schedule_rejects(kwargs, field, says):
    fails(schedule, **kwargs, field="doses[0]", names=field, says=says)


# -- Regimen -------------------------------------------------------------------------------
def test_regimen_sorts_and_summarises():
    late = Dose("esketamine", "intranasal", 56.0, time_h=48.0)
    regimen = Regimen((late, INFUSION))
    assert regimen.doses == (INFUSION, late)
    assert regimen.last_dose_end_h == 48.0
    assert regimen.substances == ("racemic", "esketamine")
    assert Regimen([INFUSION]).doses == (INFUSION,)


def test_regimen_repeated_and_last_end_is_infusion_end():
    regimen = Regimen.repeated(INFUSION, schedule(every=84.0, count=6))
    assert [d.time_h for d in regimen.doses] == [0.0, 84.0, 168.0, 252.0, 336.0, 420.0]
    assert regimen.last_dose_end_h == 420.0 + 40 / 60
    assert {d.amount for d in regimen.doses} == {0.5}


@pytest.mark.parametrize("doses, says", [
    ((), "at least one dose"), ([], "at least one dose"), ((INFUSION, "x"), "expected a Dose"),
    (INFUSION, "expected a tuple of Dose"),
])
def test_regimen_rejects(doses, says):
    fails(Regimen, doses, names="doses", says=says)


# -- event tables --------------------------------------------------------------------------
def course_and_spray() -> list[Regimen]:
    course = Regimen.repeated(INFUSION, schedule(every=84.0, count=3))
    spray = Regimen((Dose("esketamine", "intranasal", 56.0, time_h=0.1),
                     Dose("racemic", "iv_bolus", 0.1 + 0.2, time_h=24.0)))
    return [course, spray]


def test_event_table_values():
    table = to_event_table(course_and_spray(), [71.3, 80.0],
                           cmt=lambda substance, route: 2 if route == "iv_infusion" else 1)
    assert tuple(table.columns) == EVENT_COLUMNS
    first = table.iloc[0]
    assert (first.ID, first.TIME, first.CMT, first.EVID) == (1, 0.0, 2, 1)
    assert first.AMT == pytest.approx(0.5 * 71.3, rel=1e-15)
    assert first.DUR == 40 / 60 and first.RATE == pytest.approx(first.AMT / (40 / 60))
    assert first.RATE * first.DUR == pytest.approx(first.AMT, rel=1e-12)
    assert list(table.ID) == [1, 1, 1, 2, 2]
    assert list(table.TIME) == [0.0, 84.0, 168.0, 0.1, 24.0]
    spray = table.iloc[3]
    assert (spray.AMT, spray.RATE, spray.DUR, spray.CMT, spray.DRUG, spray.ROUTE) == \
        (56.0, 0.0, 0.0, 1, "esketamine", "intranasal")


def test_event_table_without_cmt_or_weights():
    table = to_event_table([Regimen((Dose("racemic", "im", 35.0),))])
    assert table.to_dict("records") == [{"ID": 1, "TIME": 0.0, "AMT": 35.0, "RATE": 0.0,
                                         "DUR": 0.0, "CMT": 1, "EVID": 1, "DRUG": "racemic",
                                         "ROUTE": "im"}]


def test_event_table_scalar_weight_for_all():
    table = to_event_table([Regimen((INFUSION,))] * 3, 60.0)
    assert list(table.AMT) == [30.0, 30.0, 30.0] and list(table.ID) == [1, 2, 3]


@pytest.mark.parametrize("regimens, weights, field, says", [
    ([Regimen((INFUSION,))], None, "weights_kg", "needed because a dose is given in mg/kg"),
    ([Regimen((INFUSION,))] * 2, [70.0], "weights_kg", "expected 2 weights"),
    ([Regimen((INFUSION,))], ["heavy"], "weights_kg", "expected numbers"),
    ([Regimen((INFUSION,))], [0.0], "weight_kg", "> 0"),
    ([], [70.0], "regimens", "non-empty list of Regimen"),
    ([INFUSION], [70.0], "regimens", "non-empty list of Regimen"),
])
def test_event_table_rejects(regimens, weights, field, says):
    fails(to_event_table, regimens, weights, names=field, says=says)


def test_round_trip_is_exact(tmp_path):
    regimens = course_and_spray()
    weights = [71.3, 0.1 + 0.2 + 80.0]
    path = tmp_path / "events.csv"
    write_event_table(to_event_table(regimens, weights), path)
    back = read_event_table(path)
    in_mg = [Regimen(tuple(Dose(d.substance, d.route, float(d.amount_mg(w)), time_h=d.time_h,
                                duration_h=d.duration_h) for d in r.doses))
             for r, w in zip(regimens, weights, strict=True)]
    assert back == in_mg
    assert back[0].doses[0].duration_h == 40 / 60 and back[0].doses[0].amount == 0.5 * 71.3


def test_round_trip_mg_regimen_is_identity(tmp_path):
    regimen = Regimen((Dose("arketamine", "oral", 1 / 3, time_h=1 / 7),
                       Dose("racemic", "iv_infusion", 2 / 3, time_h=1e-9, duration_h=1 / 3)))
    path = tmp_path / "events.csv"
    write_event_table(to_event_table([regimen, regimen]), path)
    assert read_event_table(path) == [regimen, regimen]


def write_csv(tmp_path, text: str):
    path = tmp_path / "events.csv"
    path.write_text(text)
    return path


HEADER = "ID,TIME,AMT,RATE,DUR,CMT,EVID,DRUG,ROUTE\n"


def test_import_reads_rate_only_nonmem_blanks_observations_and_id_order(tmp_path):
    path = write_csv(tmp_path, HEADER
                     + "2,0,35,,.,1,1,racemic,im\n"
                     + "1,0,40,60,0,1,1,racemic,iv_infusion\n"
                     + "1,1,.,.,.,.,0,,\n"
                     + "1,5,40,0,2,1,1,racemic,iv_infusion\n")
    first, second = read_event_table(path)
    assert first.doses == (Dose("racemic", "iv_infusion", 40.0, duration_h=40 / 60),
                           Dose("racemic", "iv_infusion", 40.0, time_h=5.0, duration_h=2.0))
    assert second.doses == (Dose("racemic", "im", 35.0),)


def test_import_without_optional_columns(tmp_path):
    path = write_csv(tmp_path, "ID,TIME,AMT,DRUG,ROUTE,DV\n1,2.5,35,esketamine,intranasal,7\n")
    assert read_event_table(path) == [Regimen((Dose("esketamine", "intranasal", 35.0,
                                                    time_h=2.5),))]


@pytest.mark.parametrize("row, field, says", [
    ("1,0,40,-2,0,1,1,racemic,iv_infusion", "event table row 1, RATE", "not supported"),
    ("1,0,40,-1,0,1,1,racemic,iv_infusion", "event table row 1, RATE", "NONMEM special code"),
    ("1,0,40,0,-2,1,1,racemic,iv_infusion", "event table row 1, DUR", "not supported"),
    ("1,0,40,60,1,1,1,racemic,iv_infusion", "event table row 1, RATE", "must equal RATE"),
    ("1,0,40,0,0,1,1,racemic,iv_infusion", "event table row 1, DUR", "needs a duration"),
    ("1,0,40,10,0,1,1,racemic,im", "event table row 1, RATE", "must be 0 for route 'im'"),
    ("1,0,40,0,1,1,1,racemic,oral", "event table row 1, DUR", "must be 0 for route 'oral'"),
    ("1,0,40,0,0,1,1,ketamine,im", "event table row 1, DRUG", "racemic, esketamine, arketamine"),
    ("1,0,40,0,0,1,1,racemic,iv", "event table row 1, ROUTE", "iv_bolus, iv_infusion"),
    ("1,0,abc,0,0,1,1,racemic,im", "event table row 1, AMT", "'abc' is not a number"),
    ("1,0,,0,0,1,1,racemic,im", "event table row 1, AMT", "is empty"),
    ("1,0,.,0,0,1,1,racemic,im", "event table row 1, AMT", "is empty"),
    ("1,,5,0,0,1,1,racemic,im", "event table row 1, TIME", "is empty"),
    ("1,0,5,0,0,1,,racemic,im", "event table row 1, EVID", "is empty"),
    (",0,5,0,0,1,1,racemic,im", "event table row 1, ID", "is empty"),
    ("1,0,-5,0,0,1,1,racemic,im", "event table row 1, AMT", "more than 0"),
    ("1,x,5,0,0,1,1,racemic,im", "event table row 1, TIME", "not a number"),
    ("1,-1,5,0,0,1,1,racemic,im", "event table row 1, TIME", "0 h or later"),
    ("1,inf,5,0,0,1,1,racemic,im", "event table row 1, TIME", "finite"),
    ("0,0,5,0,0,1,1,racemic,im", "event table row 1, ID", "whole number >= 1"),
    ("1.5,0,5,0,0,1,1,racemic,im", "event table row 1, ID", "whole number >= 1"),
    ("1,0,5,0,0,1,4,racemic,im", "event table row 1, EVID", "4 is not supported"),
    ("1,0,5,0,0,1,2,racemic,im", "event table row 1, EVID", "use 1 (dose) or 0"),
])
def test_import_rejects_rows(tmp_path, row, field, says):
    fails(read_event_table, write_csv(tmp_path, HEADER + row + "\n"), names=field, says=says)


def test_import_names_the_bad_row(tmp_path):
    path = write_csv(tmp_path, HEADER + "1,0,5,0,0,1,1,racemic,im\n1,0,5,0,0,1,1,racemic,pill\n")
    fails(read_event_table, path, names="event table row 2, ROUTE", says="'pill'")


@pytest.mark.parametrize("text, says", [
    ("ID,TIME,AMT,DRUG\n1,0,5,racemic\n", "lacks column(s) ROUTE"),
    ("ID,TIME\n1,0\n", "lacks column(s) AMT, DRUG, ROUTE"),
    (HEADER + "1,1,.,.,.,1,0,,\n", "no dose rows"),
    ("", "not a readable CSV"),
])
def test_import_rejects_tables(tmp_path, text, says):
    path = write_csv(tmp_path, text)
    fails(read_event_table, path, names=str(path), says=says)


def test_import_missing_file(tmp_path):
    fails(read_event_table, tmp_path / "none.csv", names="event table file not found",
          says="none.csv")


def test_table_is_a_dataframe_with_exact_float_text(tmp_path):
    table = to_event_table([Regimen((Dose("racemic", "im", 0.1 + 0.2),))])
    assert isinstance(table, pd.DataFrame)
    path = tmp_path / "t.csv"
    write_event_table(table, path)
    assert "0.30000000000000004" in path.read_text()


def test_substances_and_routes_constants():
    assert SUBSTANCES == ("racemic", "esketamine", "arketamine", "placebo", "midazolam", "ssri",
                          "snri")
    assert "iv_infusion" in ROUTES and len(ROUTES) == 7
