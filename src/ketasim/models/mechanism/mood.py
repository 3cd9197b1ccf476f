"""Mood: latent depression severity driven by the change in circuit function.

Circuit function changes by F = w_fast * a + w_mono * Q + w_slow * s + w_antidepressant * A
(a: AMPA drive, Q: monoamine release, s: synapses regained, fraction of healthy density, A:
adaptation to an oral antidepressant). Severity relaxes to exp(-F - X + w_inflammation * dI)
(X: expectancy effect, dI: change of the inflammation index):

    d(severity)/dt = (exp(-F - X + w_inflammation * dI) - severity) / tau_mood      (per h)

``depression_severity`` is a fraction of the patient's own untreated baseline (1 = baseline,
0 = symptom-free); the clinic layer maps it to rating scales and adds placebo and noise.
"""

from __future__ import annotations

from ketasim.modeling.spec import Model, Parameter, State

_LATER = "calibrated later"
_SIZE = ("assumption: initial value chosen so that 0.5 mg/kg IV over 40 min lowers severity by "
         "about a third at 24 h, the order of the drug-placebo difference (-16.5 vs -8.8 MADRS "
         "points from ~30, Murrough 2013 Am J Psychiatry, PMID 23982301)")

#: Where the fitted values come from (one joint fit of mood and expectancy gains).
FIT = ("posterior MAP of the MBMA fit (differential evolution, then emcee; a between-study "
       "random effect per study) to calibration_targets.csv rows 7-10, 34, 69-80, 83-84, "
       "101-102, 108-111 (Murrough 2013 AJP ketamine and midazolam arms at 24 h; TRANSFORM-1 "
       "new antidepressant + placebo spray arm at day 28; Lii 2023 masked ketamine and saline "
       "arms to day 14; riluzole trial lead-in at 24 h and 72 h; Cochrane 2021 midazolam and "
       "saline comparator risks at 24 h) and the literature.csv rows from 24 h on of aan het Rot "
       "2010, Albott 2018, PCN-101 (atai 2023), Correia-Melo 2020, Hu 2016, Leal 2021, the "
       "late-life veterans trial (2022), Talati 2019 and Zheng 2019; each arm in its trial's own "
       "population where known (evidence/data/trial_baselines.csv, literature.csv); Han 2016's "
       "pooled rates predicted, not fitted (ketasim calibration 2026-12-04; "
       "evidence/data/posterior.json; docs/validation/calibration.md)")
#: Between-patient cv of w_fast, w_slow and w_expectancy (log-normal, drawn independently).
CV = 0.7139
CV_SOURCE = (f"{FIT}; one cv shared by w_slow and w_expectancy (posterior 90% interval "
             "0.50-0.97)")

PARAMETERS = (
    Parameter("w_fast", 2.5, "1",
              f"{_SIZE}; fast functional term: behaviour is rescued before spinogenesis "
              "(Moda-Sava 2019 Science 364:eaat8078)",
              cv=CV, cv_source="assumption: equal to the cv of w_slow (fast responsiveness is "
              "not identified by the >= 24-h targets); w_slow's cv was " + CV_SOURCE,
              description=f"weight of the AMPA-driven (fast) term ({_LATER})"),
    Parameter("w_mono", 0.3, "1",
              "assumption: monoamines are a secondary contribution (mission M6)",
              description=f"weight of the monoamine term ({_LATER})"),
    Parameter("w_slow", 0.8528, "1",
              f"{FIT}; slow term: spinogenesis maintains the effect (Moda-Sava 2019); hand-set "
              "start 2.5, first fit without a placebo model 4.034", cv=CV, cv_source=CV_SOURCE,
              description="weight per unit of regained synapse density"),
    Parameter("w_inflammation", 0.2, "1",
              "assumption: IL-6 changes after ketamine did not correlate with response (Park "
              "2017; Kiraly 2017) but fell with improvement after six infusions (Zhan 2020, "
              "r = -0.26): a small weight",
              description=f"severity log-change per unit inflammation change ({_LATER})"),
    Parameter("w_antidepressant", 0.08104, "1",
              f"{FIT}; weakly identified (posterior 90% interval 0.018-0.32)",
              description="weight of the adaptation to an oral antidepressant"),
    Parameter("tau_mood", 2.0, "h",
              "assumption: MADRS falls by 2 h after the first infusion (Murrough 2013 Biol "
              "Psychiatry 74:250), so severity follows circuit function within hours",
              description=f"time constant of severity ({_LATER})"),
)


#: The mood layer's output that the clinic rates: depression severity, a fraction of each
#: patient's untreated baseline (1 = baseline, 0 = symptom-free).
SEVERITY = "depression_severity"


def mood() -> Model:
    """The mood layer. Ports ``ampa_in``, ``monoamine_in`` (changes from baseline),
    ``synapse_in`` (synapses regained), ``inflammation_in`` (inflammation change),
    ``antidepressant_in`` (adaptation, 0-1) and ``expectancy_in`` (log-severity fall)."""
    return Model(
        name="mood", title="mood: depression severity",
        reference="mechanism.md Steps 9-10 (see docs/models/mechanism.md)",
        states=(State("severity", "1", 1.0, "depression severity, fraction of baseline"),),
        parameters=PARAMETERS,
        assignments=(("circuit", "w_fast * ampa_in + w_mono * monoamine_in + w_slow * "
                                 "synapse_in + w_antidepressant * antidepressant_in"),),
        odes={"severity": "(exp(-circuit - expectancy_in + w_inflammation * inflammation_in) "
                          "- severity) / tau_mood"},
        outputs={SEVERITY: "severity", "circuit_function_change": "circuit"},
        output_units={SEVERITY: "1", "circuit_function_change": "1"},
        ports=("ampa_in", "monoamine_in", "synapse_in", "inflammation_in", "antidepressant_in",
               "expectancy_in"))
