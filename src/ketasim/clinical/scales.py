"""Depression rating scales: from latent severity to the scores a clinic records.

The mechanism gives ``depression_severity`` per subject x time as a fraction of each patient's
untreated baseline (1 = baseline, 0 = symptom-free). A rating on scale ``k`` is

    score_k(t) = clip(round(B_k * severity(t) + e_k(t)), 0, max_k)

with ``B_k`` the patient's true baseline in points of scale ``k`` and ``e_k(t)`` independent
normal rater/measurement noise (SD ``noise_sd``, points). ``B_MADRS`` is drawn from the cohort's
baseline distribution; the HAM-D17 and QIDS-SR16 baselines are the same patient's MADRS
baseline converted with published linking tables, so the three scales describe one patient.
Scaling by a common severity fraction follows Leucht et al. 2018 (a percentage improvement on the
HAM-D is about the same percentage on the MADRS).

Every draw for subject ``i`` comes from ``numpy.random.default_rng([seed, STREAM, i])`` in a fixed
order (baseline uniform, then noise for MADRS, HAM-D17, QIDS-SR16 over the time grid), so a
subject's scores do not depend on how the population is chunked.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr, ndtri

#: Random stream of the clinic layer (distinct from the population's covariate/eta draws).
STREAM = 7_001
SCALE_NAMES = ("madrs", "hamd17", "qids_sr16")


@dataclass(frozen=True)
class BaselineDistribution:
    """Baseline MADRS of a cohort: normal(mean, sd) truncated to [floor, ceiling] (points)."""

    mean: float
    sd: float
    floor: float
    ceiling: float
    source: str


#: Baseline MADRS by cohort.
BASELINES: dict[str, BaselineDistribution] = {
    "trd": BaselineDistribution(
        mean=31.9, sd=6.7, floor=20.0, ceiling=60.0,
        source="mean 31.9, SD 6.7: baseline MADRS of 233 highly treatment-resistant outpatients, "
               "Carmody TJ et al. 2006 J Affect Disord 95:115-118 (PMID 16707162); floor 20: "
               "assumption: a moderate-severity inclusion threshold that removes <4% of that "
               "enrolled distribution (trials vary: MADRS >= 25 in an Ottawa TRD ketamine trial "
               "listed by Cochrane 2021, PMC8434915; esketamine TRANSFORM baselines were higher, "
               "36.7-37.7, clinical_outcomes.csv transform_by_sex); ceiling 60: scale maximum"),
}


@dataclass(frozen=True)
class Scale:
    """A rating scale: range (points), measurement-noise SD (points), default remission cut-off
    (score <= ``remission_max``) and the anchors linking it to the MADRS.

    ``anchors`` are (score on this scale, MADRS score) pairs, increasing; conversion interpolates
    linearly between them and extrapolates with the last segment's slope.
    """

    name: str
    label: str
    max_score: int
    noise_sd: float
    noise_source: str
    remission_max: float
    remission_source: str
    anchors: tuple[tuple[float, float], ...]
    anchors_source: str


SCALES: dict[str, Scale] = {
    "madrs": Scale(
        name="madrs", label="MADRS", max_score=60, noise_sd=1.8,
        noise_source="derived: SEM = SD*sqrt(1-ICC) with ICC 0.93 between raters doing "
                     "independent interviews (SIGMA; Williams JBW, Kobak KA 2008 Br J Psychiatry "
                     "192:52-58) and SD 6.7 (TRD baseline, Carmody 2006 J Affect Disord) = 1.8",
        remission_max=10.0,
        remission_source="MADRS <= 10: assumption: the brief's default, common in ketamine "
                         "trials; TRANSFORM-1/3 used <= 12 (clinical_outcomes.csv)",
        anchors=((0.0, 0.0), (60.0, 60.0)),
        anchors_source="identity",
    ),
    "hamd17": Scale(
        name="hamd17", label="HAM-D17", max_score=52, noise_sd=2.0,
        noise_source="derived: MADRS SEM 1.8 x sqrt(2) / 1.3 = 2.0 HAM-D points; the MADRS has "
                     "about twice the measurement precision of the HRSD17 at average severity "
                     "(Carmody T et al. 2006 Eur Neuropsychopharmacol 16:601, PMC2151980) and "
                     "1 HAM-D point ~ 1.3 MADRS points (Leucht 2018)",
        remission_max=7.0,
        remission_source="HAM-D17 <= 7: STAR*D equivalence QIDS-SR16 <= 5 ~ HRSD17 <= 7 (Rush AJ "
                         "et al. 2006 Am J Psychiatry; clinical_outcomes.csv stard_rush2006)",
        anchors=((0.0, 0.0), (10.0, 13.0), (20.0, 26.0), (30.0, 39.0), (40.0, 52.5)),
        anchors_source="equipercentile linking in 4388 patients: HAM-D 10/20/30/40 = MADRS "
                       "13/26/39/52-53 (Leucht S et al. 2018 J Affect Disord 226:326-331, "
                       "PMID 29031182); 0 = 0: assumption",
    ),
    "qids_sr16": Scale(
        name="qids_sr16", label="QIDS-SR16", max_score=27, noise_sd=1.35,
        noise_source="derived: SEM = 3.6*sqrt(1-0.86) = 1.35 with Cronbach alpha 0.86 (Rush AJ et "
                     "al. 2003 Biol Psychiatry 54:573; as recalled, not verified in the shared "
                     "data) and SD 3.6 (TRD baseline, Carmody 2006 J Affect Disord)",
        remission_max=5.0,
        remission_source="QIDS-SR16 <= 5: STAR*D (Rush AJ et al. 2006; clinical_outcomes.csv "
                         "stard_rush2006)",
        anchors=((0.0, 0.0), (5.0, 7.5), (12.5, 21.9), (17.6, 31.9)),
        anchors_source="item-response-theory linking in 233 TRD outpatients (Carmody TJ et al. "
                       "2006 J Affect Disord 95:115, PMID 16707162): QIDS-SR16 5 = MADRS 7.5; "
                       "means 17.6 = 31.9 (baseline) and 12.5 = 21.9 (one year); 0 = 0: "
                       "assumption",
    ),
}

#: Share of the MADRS total carried by item 10 (suicidal thoughts, 0-6): assumption: an equal
#: share of the ten items (max 6 of 60); no published item-level trajectory was found.
SI_SHARE = 0.1
SI_MAX = 6


def _scale(name: str) -> Scale:
    try:
        return SCALES[name]
    except KeyError:
        raise ValueError(f"unknown scale {name!r}; allowed: {', '.join(SCALES)}") from None


def _interp(x: np.ndarray, xp: np.ndarray, fp: np.ndarray) -> np.ndarray:
    """Piecewise-linear through (xp, fp), extrapolated with the end segments' slopes."""
    y = np.interp(x, xp, fp)
    lo, hi = x < xp[0], x > xp[-1]
    y = np.where(lo, fp[0] + (x - xp[0]) * (fp[1] - fp[0]) / (xp[1] - xp[0]), y)
    return np.where(hi, fp[-1] + (x - xp[-1]) * (fp[-1] - fp[-2]) / (xp[-1] - xp[-2]), y)


def to_madrs(score, scale: str) -> np.ndarray:
    """A score on ``scale`` (points) as MADRS points (continuous, clipped to 0-60)."""
    s = _scale(scale)
    xp, fp = np.array(s.anchors).T
    return np.clip(_interp(np.asarray(score, float), xp, fp), 0.0, 60.0)


def from_madrs(madrs, scale: str) -> np.ndarray:
    """MADRS points as points of ``scale`` (continuous, clipped to the scale's range)."""
    s = _scale(scale)
    xp, fp = np.array(s.anchors).T
    return np.clip(_interp(np.asarray(madrs, float), fp, xp), 0.0, float(s.max_score))


def convert(score, from_scale: str, to_scale: str) -> np.ndarray:
    """A score (points) on ``from_scale`` as points of ``to_scale``, through the MADRS."""
    return from_madrs(to_madrs(score, from_scale), to_scale)


def _subjects(subjects) -> np.ndarray:
    ids = np.asarray(subjects, dtype=np.int64).ravel()
    if (ids < 0).any():
        raise ValueError("subject ids must be non-negative integers")
    return ids


def draw(subjects, n_times: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The clinic layer's random numbers: a uniform per subject (baseline) and standard-normal
    noise of shape (subject, scale, time) in the order of :data:`SCALE_NAMES`.

    ``subjects`` are global subject indices: subject ``i`` gets the same numbers in any chunk.
    """
    ids = _subjects(subjects)
    u = np.empty(ids.size)
    z = np.empty((ids.size, len(SCALE_NAMES), n_times))
    for k, i in enumerate(ids):
        rng = np.random.default_rng([int(seed), STREAM, int(i)])
        u[k] = rng.random()
        z[k] = rng.standard_normal((len(SCALE_NAMES), n_times))
    return u, z


def baseline_madrs(u: np.ndarray, cohort: str | BaselineDistribution = "trd") -> np.ndarray:
    """True baseline MADRS (points) from uniforms ``u`` by inverse-CDF truncated normal."""
    d = BASELINES[cohort] if isinstance(cohort, str) else cohort
    a, b = ndtr((d.floor - d.mean) / d.sd), ndtr((d.ceiling - d.mean) / d.sd)
    p = np.clip(a + np.asarray(u, float) * (b - a), 1e-12, 1 - 1e-12)
    return np.clip(d.mean + d.sd * ndtri(p), d.floor, d.ceiling)


def baselines(subjects, seed: int, cohort: str | BaselineDistribution = "trd"
              ) -> dict[str, np.ndarray]:
    """True baselines (points) of every scale for ``subjects``, the MADRS drawn, the others
    converted from it."""
    u, _ = draw(subjects, 0, seed)
    madrs = baseline_madrs(u, cohort)
    return {name: from_madrs(madrs, name) for name in SCALE_NAMES}


def score(true_points: np.ndarray, noise: np.ndarray, scale: str) -> np.ndarray:
    """A recorded total: clip(round(true_points + noise_sd * noise), 0, max), as int16."""
    s = _scale(scale)
    raw = np.rint(np.asarray(true_points, float) + s.noise_sd * np.asarray(noise, float))
    return np.clip(raw, 0, s.max_score).astype(np.int16)


def measure(severity, subjects, seed: int, cohort: str | BaselineDistribution = "trd",
            scales: Iterable[str] = SCALE_NAMES) -> dict[str, np.ndarray]:
    """Scores on each scale from latent severity.

    ``severity`` (subject x time, fraction of baseline) and ``subjects`` (global ids, one per
    row). Returns ``{scale: int16 scores (subject x time)}`` plus ``"<scale>_baseline_true"``
    (true baseline points per subject) for every scale asked for.
    """
    sev = np.atleast_2d(np.asarray(severity, float))
    ids = _subjects(subjects)
    if sev.shape[0] != ids.size:
        raise ValueError(f"severity has {sev.shape[0]} rows but {ids.size} subjects were given")
    if not np.isfinite(sev).all() or (sev < 0).any():
        raise ValueError("severity must be finite and >= 0 (fraction of baseline)")
    u, z = draw(ids, sev.shape[1], seed)
    madrs = baseline_madrs(u, cohort)
    out = {}
    for name in scales:
        k = SCALE_NAMES.index(_scale(name).name)
        base = from_madrs(madrs, name)
        out[name] = score(base[:, None] * sev, z[:, k, :], name)
        out[f"{name}_baseline_true"] = base
    return out


def suicidal_ideation(madrs_scores, share: float = SI_SHARE) -> np.ndarray:
    """MADRS item 10 (suicidal thoughts, 0-6) as ``share`` of the MADRS total, rounded."""
    return np.clip(np.rint(np.asarray(madrs_scores, float) * share), 0, SI_MAX).astype(np.int16)
