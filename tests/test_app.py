"""The web app in a real headless browser (Playwright driving Debian's chromium, no browser
download): the page loads, a run shows outcomes, changing the dose changes them, a bad input
shows the CLI's one-line message, a download works; and the form's document is the CLI's."""

import json
import os
import socket
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

from ketasim.app.form import N_MAX, Regimen, from_toml, scenario_doc, to_toml
from ketasim.errors import ScenarioError
from ketasim.scenario.files import parse_scenario

CHROMIUM = "/usr/bin/chromium"


def test_the_forms_document_is_a_valid_scenario_and_round_trips_through_toml():
    doc = scenario_doc(Regimen(), Regimen("midazolam", amount=0.045), "trd", 50, 3, 28,
                       {"bdnf_val66met": "met/met", "inflammation": ""})
    scenario = parse_scenario(doc)
    assert [a.label for a in scenario.arms] == [a["label"] for a in doc["arms"]]
    assert scenario.model == "racemic_sr+mechanism" and scenario.population.n == 50
    assert doc["variants"] == {"bdnf_val66met": "met/met"}
    assert from_toml(to_toml(doc)) == doc == tomllib.loads(to_toml(doc))
    course = Regimen(schedule="six infusions over 12 days (Mon/Wed/Fri; Murrough 2013)")
    assert len(parse_scenario(scenario_doc(course, None, "trd", 10, 1, 28)).arms[0]
               .regimen.doses) == 6


@pytest.mark.parametrize(("change", "field"), [
    (lambda: scenario_doc(Regimen(), None, "trd", N_MAX + 1, 1, 28), "population.n"),
    (lambda: scenario_doc(Regimen(), None, "trd", 10, 1, 0), "output.end"),
    (lambda: scenario_doc(Regimen(amount=None), None, "trd", 10, 1, 28), "amount"),
    (lambda: scenario_doc(Regimen(schedule="custom times", custom=" , "), None, "trd", 10, 1,
                          28), "custom times"),
    (lambda: from_toml("name = "), "scenario file"),
])
def test_bad_form_values_are_one_line_errors_naming_the_field(change, field):
    with pytest.raises(ScenarioError) as info:
        change()
    assert str(info.value).startswith(f"{field}: ") and "\n" not in str(info.value)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served():
    """``ketasim app`` on a free port of 127.0.0.1, stopped after the tests."""
    port = _free_port()
    env = os.environ | {"PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "ketasim.cli", "app", "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail(f"the app did not start: {proc.stdout.read().decode()[-2000:]}")
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=20)


@pytest.fixture(scope="module")
def page(served):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} missing: install Debian's chromium (.ci/run does)")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        page.goto(served)
        page.wait_for_selector("#run")
        yield page
        browser.close()


def _run(page, **values) -> str:
    for field, value in values.items():
        page.fill(f"#{field}", str(value))
    before = page.inner_text("#outcomes") if page.query_selector("#outcomes table") else ""
    page.click("#run")
    page.wait_for_function(
        "before => { const t = document.querySelector('#outcomes table');"
        " return t && t.innerText !== before; }", arg=before, timeout=180_000)
    return page.inner_text("#outcomes")


@pytest.mark.slow
def test_a_run_shows_outcomes_and_a_higher_dose_changes_them(page, tmp_path):
    low = _run(page, n=40, days=7, a_amount=0.2)
    page.wait_for_selector("#outcomes_plot img")
    page.screenshot(path=str(tmp_path / "outcomes.png"))
    assert "24 h" in low and "day 7" in low and "MADRS change" in low
    high = _run(page, a_amount=0.5)
    assert high != low
    change = {float(line.split("\t")[2]) for text in (low, high)
              for line in text.splitlines() if "\t24 h\t" in line}
    assert len(change) == 2  # the 24-h change moves with the dose


@pytest.mark.slow
def test_a_bad_dose_shows_the_clis_one_line_message(page):
    page.fill("#a_amount", "-1")
    page.click("#run")
    page.wait_for_selector("#problem")
    text = page.inner_text("#problem")
    assert text.startswith("error: doses[0].amount: ") and "\n" not in text.strip()
    page.fill("#a_amount", "0.5")


@pytest.mark.slow
def test_the_scenario_and_summary_download(page, tmp_path):
    _run(page, n=30, days=7, a_amount=0.5)
    page.click("a[data-value='Scenario and downloads']")
    with page.expect_download() as got:
        page.click("#get_toml")
    doc = tomllib.loads(Path(got.value.path()).read_text())
    assert doc["doses"][0]["amount"] == "0.5 mg/kg" and doc["population"]["n"] == 30
    with page.expect_download() as got:
        page.click("#get_summary")
    summary = json.loads(Path(got.value.path()).read_text())
    assert summary["model"] == "racemic_sr+mechanism" and summary["n"] == 30
