"""Mood: latent depression severity driven by the change in circuit function.

Circuit function changes by F = w_fast * a + w_mono * Q + w_slow * s (a: AMPA drive, Q:
monoamine release, s: synapses regained, fraction of healthy density). Severity relaxes to
exp(-F + w_inflammation * dI) (dI: change of the inflammation index):

    d(severity)/dt = (exp(-F + w_inflammation * dI) - severity) / tau_mood      (per h)

``depression_severity`` is a fraction of the patient's own untreated baseline (1 = baseline,
0 = symptom-free); the clinic layer maps it to rating scales and adds placebo and noise.
"""

from __future__ import annotations

from ketasim.modeling.spec import Model, Parameter, State

_LATER = "calibrated later"
_SIZE = ("assumption: initial value chosen so that 0.5 mg/kg IV over 40 min lowers severity by "
         "about a third at 24 h, the order of the drug-placebo difference (-16.5 vs -8.8 MADRS "
         "points from ~30, Murrough 2013 Am J Psychiatry, PMID 23982301)")

_FIT = ("fitted to: calibration_targets.csv rows 7, 9, 21, 22, 23, 24, 25, 26, 77, 78, 79, 80, "
        "81, 87, 91, 109, 110 (murrough2013_ajp/response_pct/24 h; "
        "murrough2013_ajp/mean_change_from_baseline/24 h; han2016_meta/response_pct/24 h; "
        "han2016_meta/remission_pct/24 h; han2016_meta/response_pct/72 h; "
        "han2016_meta/remission_pct/72 h; han2016_meta/response_pct/168 h; "
        "han2016_meta/remission_pct/168 h; lii2023_masked/mean_score/0 h; "
        "lii2023_masked/mean_score/24 h; lii2023_masked/mean_score/72 h; "
        "lii2023_masked/mean_score/168 h; lii2023_masked/mean_score/336 h; "
        "lii2023_masked/response_pct/24 h; lii2023_masked/response_pct/168 h; "
        "riluzole_relapse_ijnp2010/response_pct/24 h; riluzole_relapse_ijnp2010/response_pct/72 "
        "h) (ketasim calibration 2026-11-21; docs/validation/calibration.md)")
_CV = f"{_FIT}; log-normal, shared by w_fast and w_slow (drawn independently)"

PARAMETERS = (
    Parameter("w_fast", 2.5, "1",
              f"{_SIZE}; fast functional term: behaviour is rescued before spinogenesis "
              "(Moda-Sava 2019 Science 364:eaat8078)",
              cv=1.354, cv_source="assumption: equal to the cv of w_slow (fast responsiveness is "
              "not identified by the >= 24-h targets); w_slow's cv was " + _CV,
              description=f"weight of the AMPA-driven (fast) term ({_LATER})"),
    Parameter("w_mono", 0.3, "1",
              "assumption: monoamines are a secondary contribution (mission M6)",
              description=f"weight of the monoamine term ({_LATER})"),
    Parameter("w_slow", 4.034, "1",
              f"{_FIT}; slow term: spinogenesis maintains the effect (Moda-Sava 2019); hand-set "
              "start 2.5", cv=1.354, cv_source=_CV,
              description=f"weight per unit of regained synapse density ({_LATER})"),
    Parameter("w_inflammation", 0.2, "1",
              "assumption: IL-6 changes after ketamine did not correlate with response (Park "
              "2017; Kiraly 2017) but fell with improvement after six infusions (Zhan 2020, "
              "r = -0.26): a small weight",
              description=f"severity log-change per unit inflammation change ({_LATER})"),
    Parameter("tau_mood", 2.0, "h",
              "assumption: MADRS falls by 2 h after the first infusion (Murrough 2013 Biol "
              "Psychiatry 74:250), so severity follows circuit function within hours",
              description=f"time constant of severity ({_LATER})"),
)


def mood() -> Model:
    """The mood layer. Ports ``ampa_in``, ``monoamine_in`` (changes from baseline),
    ``synapse_in`` (synapses regained) and ``inflammation_in`` (inflammation change)."""
    return Model(
        name="mood", title="mood: depression severity",
        reference="mechanism.md Steps 9-10 (see docs/models/mechanism.md)",
        states=(State("severity", "1", 1.0, "depression severity, fraction of baseline"),),
        parameters=PARAMETERS,
        assignments=(("circuit", "w_fast * ampa_in + w_mono * monoamine_in + w_slow * "
                                 "synapse_in"),),
        odes={"severity": "(exp(-circuit + w_inflammation * inflammation_in) - severity) / "
                          "tau_mood"},
        outputs={"depression_severity": "severity", "circuit_function_change": "circuit"},
        ports=("ampa_in", "monoamine_in", "synapse_in", "inflammation_in"))
