"""Rating scales: from latent severity to the scores a clinic records.

The mechanism gives ``depression_severity`` per subject x time as a fraction of each patient's
untreated baseline (1 = baseline, 0 = symptom-free). A rating on scale ``k`` is

    score_k(t) = clip(round(B_k * severity(t) + e_k(t)), 0, max_k)

with ``B_k`` the patient's true baseline in points of scale ``k`` and ``e_k(t)`` independent
normal rater/measurement noise (SD ``noise_sd``, points).

Depression scales (:data:`SCALE_NAMES`): ``B_MADRS`` is drawn from the cohort's baseline
distribution; the HAM-D17 and QIDS-SR16 baselines are the same patient's MADRS baseline converted
with published linking tables, so the three scales describe one patient. Scaling by a common
severity fraction follows Leucht et al. 2018 (a percentage improvement on the HAM-D is about the
same percentage on the MADRS).

Scales with their own baseline (:data:`OWN_SCALE_NAMES`): the indication scales PCL-5 (PTSD),
LSAS (social anxiety), HAM-A (anxiety), Y-BOCS (OCD), and the Scale for Suicidal Ideation (SSI),
rated for every cohort. Each has its own baseline distribution per cohort (:data:`RATINGS`), drawn
independently of the MADRS, and follows the same depression severity fraction. That one latent
severity drives them is an assumption: the mechanism models depression only. It rests on ketamine
trials in these indications reporting improvement within a day, like in depression
(clinical_outcomes.csv: feder2014_ptsd, IES-R lower than after midazolam 24 h after one infusion;
glue2017_anxiety, anxiolysis within 1 h lasting up to 7 days; rodriguez2013_ocd, obsessions
improved during the infusion; grunebaum2018, SSI lower than after midazolam at 24 h), while others
found little or no effect on the indication (bloch2012_ocd, OCD improvement < 12% at 1-3 days;
abdallah2022_ptsd, no group-by-time effect on the PCL-5), which this assumption cannot show.

Every draw for subject ``i`` comes from ``numpy.random.default_rng([seed, stream, i])`` in a fixed
order, so a subject's scores do not depend on how the population is chunked: stream
:data:`ketasim.streams.CLINIC` gives the MADRS baseline uniform, then noise for MADRS, HAM-D17,
QIDS-SR16 over the time grid; stream :data:`ketasim.streams.OWN_SCALES` gives one baseline
uniform per scale of :data:`OWN_SCALE_NAMES`, then their noise, in that order.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import cast

import numpy as np
from scipy.special import ndtr, ndtri

from ketasim import streams
from ketasim.errors import ScenarioError

SCALE_NAMES = ("madrs", "hamd17", "qids_sr16")
#: Scales with their own baseline distribution per cohort, in the order of their draws.
OWN_SCALE_NAMES = ("pcl5", "lsas", "hama", "ybocs", "ssi")


@dataclass(frozen=True)
class BaselineDistribution:
    """Baseline of a cohort on one scale (points): a latent normal(mean, sd) restricted to
    [floor, ceiling], by truncation (values outside are redrawn) or, if ``censored``, by
    clipping (a share of patients sits on a bound, e.g. no suicidal ideation)."""

    mean: float
    sd: float
    floor: float
    ceiling: float
    source: str
    censored: bool = False


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
    """A rating scale: range (points), measurement-noise SD (points), response (a reduction of
    at least ``response_fraction`` of the baseline score), remission cut-off (score <=
    ``remission_max``; None where none is conventional) and, for the depression scales, the
    anchors linking it to the MADRS.

    ``anchors`` are (score on this scale, MADRS score) pairs, increasing; conversion interpolates
    linearly between them and extrapolates with the last segment's slope. Empty: not linked.
    """

    name: str
    label: str
    max_score: int
    noise_sd: float
    noise_source: str
    response_fraction: float
    response_source: str
    remission_max: float | None
    remission_source: str
    anchors: tuple[tuple[float, float], ...] = ()
    anchors_source: str = "not linked to the MADRS: own baseline per cohort"


_HALF = ("reduction >= 50% of baseline: the definition of the trials in clinical_outcomes.csv "
         "(e.g. Murrough 2013, Han 2016)")

SCALES: dict[str, Scale] = {
    "madrs": Scale(
        name="madrs", label="MADRS", max_score=60, noise_sd=1.8,
        noise_source="derived: SEM = SD*sqrt(1-ICC) with ICC 0.93 between raters doing "
                     "independent interviews (SIGMA; Williams JBW, Kobak KA 2008 Br J Psychiatry "
                     "192:52-58) and SD 6.7 (TRD baseline, Carmody 2006 J Affect Disord) = 1.8",
        response_fraction=0.5, response_source=_HALF,
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
        response_fraction=0.5, response_source=_HALF,
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
        response_fraction=0.5, response_source=_HALF,
        remission_max=5.0,
        remission_source="QIDS-SR16 <= 5: STAR*D (Rush AJ et al. 2006; clinical_outcomes.csv "
                         "stard_rush2006)",
        anchors=((0.0, 0.0), (5.0, 7.5), (12.5, 21.9), (17.6, 31.9)),
        anchors_source="item-response-theory linking in 233 TRD outpatients (Carmody TJ et al. "
                       "2006 J Affect Disord 95:115, PMID 16707162): QIDS-SR16 5 = MADRS 7.5; "
                       "means 17.6 = 31.9 (baseline) and 12.5 = 21.9 (one year); 0 = 0: "
                       "assumption",
    ),
    "pcl5": Scale(
        name="pcl5", label="PCL-5", max_score=80, noise_sd=4.2,
        noise_source="derived: SEM = 10*sqrt(1-0.82) = 4.2 with test-retest r 0.82 (Blevins CA "
                     "et al. 2015 J Trauma Stress 28:489) and SD 10 (the ptsd baseline below)",
        response_fraction=0.30,
        response_source="reduction >= 30%: the CAPS-5 responder definition of feder2021_ptsd "
                        "(clinical_outcomes.csv; threshold from the Mount Sinai press release), "
                        "applied to the PCL-5 (assumption: the PCL-5 trial abdallah2022_ptsd has "
                        "no responder definition in the shared data)",
        remission_max=None,
        remission_source="none: no conventional remission cut-off on the PCL-5; its recommended "
                         "cut-offs 31-33 screen for probable PTSD (Forkus SR et al. 2022 Clin "
                         "Psychol (New York) 30:110, PMC10292741)",
    ),
    "lsas": Scale(
        name="lsas", label="LSAS", max_score=144, noise_sd=5.1,
        noise_source="derived: SEM = 16*sqrt(1-0.90) = 5.1 with SD 16 (the social_anxiety "
                     "baseline below) and reliability 0.90: assumption: internal consistency "
                     "and temporal stability are reported as excellent without a number in the "
                     "sources read (Heimberg RG et al. 1999 Psychol Med 29:199; Beard C et al. "
                     "2011 J Anxiety Disord 25:722, PMC3089666)",
        response_fraction=0.35,
        response_source="reduction > 35%: taylor2018_sad (Taylor JH et al. 2018 "
                        "Neuropsychopharmacology 43:325); counted here as >= 35% (a tie at "
                        "exactly 35% responds)",
        remission_max=30.0,
        remission_source="LSAS <= 30: optimal remission cut-off of the clinician-administered "
                         "LSAS (von Glischinski M et al. 2018 Clin Psychol Psychother 25:465); "
                         "30 also separates SAD from no SAD (Mennin DS et al. 2002 J Anxiety "
                         "Disord 16:661)",
    ),
    "hama": Scale(
        name="hama", label="HAM-A", max_score=56, noise_sd=1.9,
        noise_source="derived: SEM = 5*sqrt(1-0.85) = 1.9 with SD 5 (the anxiety baseline "
                     "below) and reliability 0.85: assumption: inter-rater and test-retest "
                     "reliability are reported as high without a number in the abstract read "
                     "(Shear MK et al. 2001 Depress Anxiety 13:166)",
        response_fraction=0.5,
        response_source="reduction >= 50%: the usual definition in anxiety trials; Glue's "
                         "ketamine protocol admitted patients with >= 50% reduction to "
                         "maintenance (trial summary read at moreblossom.com; "
                         "glue2018_anxiety_maint); glue2017_anxiety states no definition in the "
                         "shared data",
        remission_max=7.0,
        remission_source="HAM-A <= 7: no or minimal anxiety (Matza LS et al. 2010 Int J Methods "
                         "Psychiatr Res 19:223, PMC6878292)",
    ),
    "ybocs": Scale(
        name="ybocs", label="Y-BOCS", max_score=40, noise_sd=1.7,
        noise_source="derived: SEM = 4.5*sqrt(1-0.85) = 1.7 with SD 4.5 (the ocd baseline "
                     "below) and reliability 0.85: assumption: between the inter-rater r 0.98 "
                     "on shared interviews (Goodman WK et al. 1989) and the lower test-retest "
                     "reliability over 7 weeks (Woody SR et al. 1995 Behav Res Ther 33:597)",
        response_fraction=0.35,
        response_source="reduction >= 35%: rodriguez2013_ocd (Rodriguez CI et al. 2013 "
                        "Neuropsychopharmacology 38:2475; bloch2012_ocd used > 35%), the "
                        "international consensus definition (Mataix-Cols D et al. 2016 World "
                        "Psychiatry 15:80)",
        remission_max=12.0,
        remission_source="Y-BOCS <= 12: remission in the international consensus (Mataix-Cols "
                         "2016, as applied by Elsner B et al. 2020 Clin Psychol Eur 2:e2785); "
                         "<= 12 best predicted wellness in 288 patients (Farris SG et al. 2013 J "
                         "Clin Psychiatry 74:685)",
    ),
    "ssi": Scale(
        name="ssi", label="SSI", max_score=38, noise_sd=2.4,
        noise_source="derived: SEM = 6*sqrt(1-0.84) = 2.4 with Cronbach alpha 0.84 in 444 "
                     "current ideators (Beck AT, Brown GK, Steer RA 1997 Behav Res Ther 35:1039) "
                     "and SD 6 (the suicidal_ideation baseline below); range 0-38: 19 items "
                     "scored 0-2 (grunebaum2018, NCT01700829 outcome description)",
        response_fraction=0.5,
        response_source="reduction >= 50%: grunebaum2018 (Grunebaum MF et al. 2018 Am J "
                        "Psychiatry, clinical_outcomes.csv)",
        remission_max=3.0,
        remission_source="SSI <= 3: full suicidal remission of Abbar M et al. 2022 BMJ "
                         "376:e067194 (PMC8808464); below the SSI >= 4 inclusion of grunebaum2018",
    ),
}

#: Share of the MADRS total carried by item 10 (suicidal thoughts, 0-6): assumption: an equal
#: share of the ten items (max 6 of 60); no published item-level trajectory was found.
SI_SHARE = 0.1
SI_MAX = 6


@dataclass(frozen=True)
class Rating:
    """How a cohort is rated: baseline distributions (points) of the MADRS (HAM-D17 and
    QIDS-SR16 follow from it) and of its scales with their own baseline (``own``, always with
    SSI), and ``primary``, the indication scale reported in the endpoints (None: depression)."""

    madrs: BaselineDistribution
    own: Mapping[str, BaselineDistribution]
    primary: str | None = None


_SSI_TRD = BaselineDistribution(
    mean=4.22, sd=9.15, floor=0.0, ceiling=38.0, censored=True,
    source="latent normal(4.22, 9.15) clipped to 0-38: derived so the baselines have mean 6.1 "
           "and SD 6.7, the Beck Scale for Suicide Ideation of 57 TRD patients (ketamine 6.11, "
           "SD 6.76, n 36; midazolam 6.19, SD 6.68, n 21; Price RB et al. 2014 Depress Anxiety "
           "31:335, PMC4112410 Table 2, the murrough2013_ajp trial); its self-report and the "
           "clinician SSI share items and range and correlate > 0.90 (Beck AT et al. 1988 J Clin "
           "Psychol 44:499); clipping puts 32% at 0 (assumption: a share without ideation, as a "
           "truncated normal cannot have an SD above its mean)")


#: Rated like TRD patients: their MADRS and SSI baselines.
_AS_TRD = Rating(BASELINES["trd"], {"ssi": _SSI_TRD})


def _indication(scale: str, baseline: BaselineDistribution) -> Rating:
    """A cohort of an indication: MADRS from the TRD distribution (assumption: the shared data
    give no MADRS baseline of these trials) and SSI at the TRD level (assumption: no SSI
    baseline of these trials was found) unless ``scale`` is the SSI."""
    return Rating(_AS_TRD.madrs, {**_AS_TRD.own, scale: baseline}, scale)


#: How each cohort of ``population.COHORTS`` is rated.
RATINGS: dict[str, Rating] = {
    "trd": _AS_TRD,
    # assumption: healthy volunteers are rated like TRD patients until cohorts carry baseline
    # severity (the mechanism's severity is a fraction of each patient's own baseline)
    "healthy": _AS_TRD,
    "ptsd": _indication("pcl5", BaselineDistribution(
        mean=47.07, sd=12.6, floor=33.0, ceiling=80.0,
        source="latent normal(47.07, 12.6) truncated to 33-80: derived so the baselines have "
               "mean 50 and SD 10: assumption: abdallah2022_ptsd's baseline PCL-5 is not in the "
               "shared data nor in the sources found, and a sample treated for PTSD lies well "
               "above the probable-PTSD cut-off; floor 33: the top of the recommended cut-offs "
               "31-33 (Forkus 2022 review, PMC10292741), assumption: enrolled patients score "
               "above it; ceiling 80: scale maximum")),
    "social_anxiety": _indication("lsas", BaselineDistribution(
        mean=77.48, sd=21.23, floor=60.0, ceiling=144.0,
        source="latent normal(77.48, 21.23) truncated to 60-144: derived so the baselines have "
               "mean 85 and SD 16: assumption: taylor2018_sad's baseline LSAS is not in the "
               "shared data nor in the sources found; floor 60: its inclusion LSAS > 60 "
               "(NCT02083926), the generalized-subtype cut-off (Mennin 2002); ceiling 144: "
               "scale maximum")),
    "anxiety": _indication("hama", BaselineDistribution(
        mean=22.51, sd=5.95, floor=15.0, ceiling=56.0,
        source="latent normal(22.51, 5.95) truncated to 15-56: derived so the baselines have "
               "mean 23.7, the baseline HAM-A of 144 GAD trial patients (Matza 2010, "
               "PMC6878292), and SD 5 (assumption: not in the abstract); glue2017_anxiety's own "
               "baseline is not in the shared data; floor 15: lower bound of moderate anxiety "
               "(Matza 2010), assumption: patients treated for refractory anxiety are at least "
               "moderately anxious; ceiling 56: scale maximum")),
    "ocd": _indication("ybocs", BaselineDistribution(
        mean=25.66, sd=4.81, floor=16.0, ceiling=40.0,
        source="latent normal(25.66, 4.81) truncated to 16-40: derived so the baselines have "
               "mean 25.9, the baseline Y-BOCS pooled over 4 OCD trials, n 288 (Farris 2013, "
               "PMC3959901), and SD 4.5 (assumption: not in the abstract); the baselines of "
               "rodriguez2013_ocd and bloch2012_ocd are not in the shared data; floor 16: "
               "assumption: a usual moderate-severity inclusion threshold; ceiling 40: scale "
               "maximum")),
    "suicidal_ideation": _indication("ssi", BaselineDistribution(
        mean=13.95, sd=6.92, floor=4.0, ceiling=38.0,
        source="latent normal(13.95, 6.92) truncated to 4-38: derived so the baselines have "
               "mean 15 and SD 6: assumption: grunebaum2018's baseline SSI is not in the shared "
               "data nor in the sources found (recalled as about 15, not verified); floor 4: its "
               "inclusion SSI >= 4 (Grunebaum 2018 abstract); ceiling 38: scale maximum")),
    # assumption: rated like TRD; no MADRS or SSI baselines of depressed adolescents were read,
    # and TRANSFORM-3's elderly baselines (MADRS 34.5-35.7 by arm and sex, PMC8921149 Table 4)
    # lie within the TRD distribution's spread
    "adolescent": _AS_TRD,
    "elderly": _AS_TRD,
}


def get_scale(name: str) -> Scale:
    """The scale called ``name``; ValueError listing the allowed names if there is none."""
    try:
        return SCALES[name]
    except KeyError:
        raise ValueError(f"unknown scale {name!r}; allowed: {', '.join(SCALES)}") from None


def rating(cohort: str) -> Rating:
    """How ``cohort`` is rated; ValueError listing the allowed cohorts if unknown."""
    try:
        return RATINGS[cohort]
    except KeyError:
        raise ValueError(f"unknown cohort {cohort!r}; allowed: {', '.join(RATINGS)}") from None


def _anchors(name: str) -> tuple[np.ndarray, np.ndarray]:
    s = get_scale(name)
    if not s.anchors:
        raise ValueError(f"scale {name!r} is not linked to the MADRS; linked: "
                         f"{', '.join(SCALE_NAMES)}")
    xp, fp = np.array(s.anchors).T
    return xp, fp


def _interp(x: np.ndarray, xp: np.ndarray, fp: np.ndarray) -> np.ndarray:
    """Piecewise-linear through (xp, fp), extrapolated with the end segments' slopes."""
    y = np.interp(x, xp, fp)
    lo, hi = x < xp[0], x > xp[-1]
    y = np.where(lo, fp[0] + (x - xp[0]) * (fp[1] - fp[0]) / (xp[1] - xp[0]), y)
    return np.where(hi, fp[-1] + (x - xp[-1]) * (fp[-1] - fp[-2]) / (xp[-1] - xp[-2]), y)


def to_madrs(score, scale: str) -> np.ndarray:
    """A score on ``scale`` (points) as MADRS points (continuous, clipped to 0-60)."""
    xp, fp = _anchors(scale)
    return np.clip(_interp(np.asarray(score, float), xp, fp), 0.0, 60.0)


def from_madrs(madrs, scale: str) -> np.ndarray:
    """MADRS points as points of ``scale`` (continuous, clipped to the scale's range)."""
    xp, fp = _anchors(scale)
    return np.clip(_interp(np.asarray(madrs, float), fp, xp), 0.0,
                   float(get_scale(scale).max_score))


def convert(score, from_scale: str, to_scale: str) -> np.ndarray:
    """A score (points) on ``from_scale`` as points of ``to_scale``, through the MADRS."""
    return from_madrs(to_madrs(score, from_scale), to_scale)


def _subjects(subjects) -> np.ndarray:
    ids = np.asarray(subjects, dtype=np.int64).ravel()
    if (ids < 0).any():
        raise ValueError("subject ids must be non-negative integers")
    return ids


def _draw(subjects, n_times: int, seed: int, stream: int, n_uniforms: int, n_scales: int
          ) -> tuple[np.ndarray, np.ndarray]:
    """Per subject, from ``default_rng([seed, stream, i])``: ``n_uniforms`` uniforms, then
    standard-normal noise of shape (scale, time)."""
    ids = _subjects(subjects)
    u = np.empty((ids.size, n_uniforms))
    z = np.empty((ids.size, n_scales, n_times))
    for k, i in enumerate(ids):
        rng = streams.rng(seed, stream, i)
        u[k] = rng.random(n_uniforms)
        z[k] = rng.standard_normal((n_scales, n_times))
    return u, z


def draw(subjects, n_times: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The depression scales' random numbers: a uniform per subject (MADRS baseline) and
    standard-normal noise of shape (subject, scale, time) in the order of :data:`SCALE_NAMES`.

    ``subjects`` are global subject indices: subject ``i`` gets the same numbers in any chunk.
    """
    u, z = _draw(subjects, n_times, seed, streams.CLINIC, 1, len(SCALE_NAMES))
    return u[:, 0], z


def draw_own(subjects, n_times: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The random numbers of the scales with their own baseline (stream
    :data:`ketasim.streams.OWN_SCALES`): uniforms (subject, scale) for the baselines and
    standard-normal noise (subject, scale, time), in the order of :data:`OWN_SCALE_NAMES`
    whichever scales a cohort uses."""
    n = len(OWN_SCALE_NAMES)
    return _draw(subjects, n_times, seed, streams.OWN_SCALES, n, n)


def baseline_madrs(subjects, seed: int, cohort: str | Rating = "trd") -> np.ndarray:
    """True baseline MADRS (points) of ``subjects`` (global ids): the same numbers
    :func:`measure` rates them from, whatever the chunk (population screening reads them)."""
    r = rating(cohort) if isinstance(cohort, str) else cohort
    u, _ = draw(subjects, 0, seed)
    return from_madrs(baseline(u, r.madrs), "madrs")


def matched_baseline(mean: float, sd: float, lo: float, hi: float,
                     field: str = "population") -> BaselineDistribution:
    """A trial's own baseline MADRS distribution: the normal truncated to ``lo``-``hi`` (the
    trial's inclusion range, points; the whole scale without one) whose true baselines have
    the recorded ``mean`` and ``sd`` (points) once the MADRS measurement noise is added.

    Moment matching of a truncated normal (``scipy.stats.truncnorm``): the trial reports the
    recorded scores of the patients it included, so the true baselines' SD is
    sqrt(sd^2 - noise^2) and their range that of the screening. A one-line error naming
    ``{field}.baseline_sd`` when no normal gives these moments inside the range.
    """
    from scipy.optimize import least_squares
    from scipy.stats import truncnorm

    noise = SCALES["madrs"].noise_sd
    if not lo < mean < hi:
        raise ScenarioError(f"{field}.baseline_mean: {mean:g} is outside the baselines the "
                            f"population can have ({lo:g}-{hi:g} MADRS points)")
    if not sd > noise:
        raise ScenarioError(f"{field}.baseline_sd: must be above the MADRS measurement noise "
                            f"({noise:g} points), got {sd:g}")
    target = np.array([mean, np.sqrt(sd**2 - noise**2)])

    def moments(x: np.ndarray) -> np.ndarray:
        scale = np.exp(x[1])
        m, v = truncnorm.stats((lo - x[0]) / scale, (hi - x[0]) / scale, loc=x[0],
                               scale=scale, moments="mv")
        return np.array([float(m), float(np.sqrt(v))]) - target

    fit = least_squares(moments, [mean, np.log(target[1])], x_scale=[10.0, 1.0])
    if np.abs(fit.fun).max() > 1e-3:
        raise ScenarioError(f"{field}.baseline_sd: no baseline distribution has mean {mean:g} "
                            f"and SD {sd:g} within {lo:g}-{hi:g} MADRS points (at most "
                            f"{(hi - lo) / np.sqrt(12):.3g} on this range)")
    return BaselineDistribution(
        mean=float(fit.x[0]), sd=float(np.exp(fit.x[1])), floor=lo, ceiling=hi,
        source=f"the trial's recorded baseline MADRS {mean:g} (SD {sd:g}) within {lo:g}-{hi:g}: "
               "latent normal by moment matching, measurement noise removed")


def baseline(u, dist: BaselineDistribution) -> np.ndarray:
    """True baselines (points) from uniforms ``u`` by the inverse CDF of ``dist``."""
    u = np.asarray(u, float)
    if dist.censored:
        p = np.clip(u, 1e-12, 1 - 1e-12)
    else:
        a = ndtr((dist.floor - dist.mean) / dist.sd)
        b = ndtr((dist.ceiling - dist.mean) / dist.sd)
        p = np.clip(a + u * (b - a), 1e-12, 1 - 1e-12)
    return np.clip(dist.mean + dist.sd * ndtri(p), dist.floor, dist.ceiling)


def _rated(ids: np.ndarray, n_times: int, seed: int, cohort: str | Rating,
           scales: Iterable[str], madrs_baseline: np.ndarray | None = None
           ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per scale name: true baselines (points, per subject; the depression scales' from
    ``madrs_baseline`` when given, the population's attribute) and standard-normal noise
    (subject x time). Each random stream is drawn only if a scale of it is asked for."""
    r = rating(cohort) if isinstance(cohort, str) else cohort
    names = [get_scale(name).name for name in scales]
    missing = [n for n in names if n not in SCALE_NAMES and n not in r.own]
    if missing:
        raise ValueError(f"scales {missing} have no baseline in this cohort; its scales: "
                         f"{', '.join((*SCALE_NAMES, *r.own))}")
    linked = draw(ids, n_times, seed) if set(names) & set(SCALE_NAMES) else None
    own = draw_own(ids, n_times, seed) if set(names) - set(SCALE_NAMES) else None
    out = {}
    for name in names:  # linked and own are drawn above whenever a scale of theirs is asked for
        if name in SCALE_NAMES:
            u, z = cast(tuple[np.ndarray, np.ndarray], linked)
            k = SCALE_NAMES.index(name)
            madrs = baseline(u, r.madrs) if madrs_baseline is None else madrs_baseline
            out[name] = from_madrs(madrs, name), z[:, k, :]
        else:
            u, z = cast(tuple[np.ndarray, np.ndarray], own)
            k = OWN_SCALE_NAMES.index(name)
            out[name] = baseline(u[:, k], r.own[name]), z[:, k, :]
    return out


def baselines(subjects, seed: int, cohort: str | Rating = "trd") -> dict[str, np.ndarray]:
    """True baselines (points) for ``subjects`` on every scale the cohort is rated on: the
    MADRS drawn, HAM-D17 and QIDS-SR16 converted from it, and the cohort's own scales."""
    r = rating(cohort) if isinstance(cohort, str) else cohort
    rated = _rated(_subjects(subjects), 0, seed, r, (*SCALE_NAMES, *r.own))
    return {name: base for name, (base, _) in rated.items()}


def score(true_points: np.ndarray, noise: np.ndarray, scale: str) -> np.ndarray:
    """A recorded total: clip(round(true_points + noise_sd * noise), 0, max), as int16."""
    s = get_scale(scale)
    raw = np.rint(np.asarray(true_points, float) + s.noise_sd * np.asarray(noise, float))
    return np.clip(raw, 0, s.max_score).astype(np.int16)


#: Severity this far below 0 is solver error near a symptom-free state and is rated as 0.
SEVERITY_ATOL = 1e-6


def measure(severity, subjects, seed: int, cohort: str | Rating = "trd",
            scales: Iterable[str] = SCALE_NAMES, madrs_baseline=None) -> dict[str, np.ndarray]:
    """Scores on each scale from latent severity.

    ``severity`` (subject x time, fraction of baseline) and ``subjects`` (global ids, one per
    row); ``scales`` may name the cohort's own scales (:attr:`Rating.own`) besides the
    depression scales; ``madrs_baseline``: the subjects' true baseline MADRS (points), the
    population's attribute (:data:`ketasim.population.sampling.BASELINE`), which gives the
    depression scales' baselines (drawn from the same numbers when omitted). Returns
    ``{scale: int16 scores (subject x time)}`` plus ``"<scale>_baseline_true"`` (true baseline
    points per subject) for every scale asked for.
    """
    sev = np.atleast_2d(np.asarray(severity, float))
    ids = _subjects(subjects)
    if sev.shape[0] != ids.size:
        raise ValueError(f"severity has {sev.shape[0]} rows but {ids.size} subjects were given")
    if not np.isfinite(sev).all() or (sev < -SEVERITY_ATOL).any():
        raise ValueError("severity must be finite and >= 0 (fraction of baseline)")
    sev = np.maximum(sev, 0.0)
    given = None if madrs_baseline is None else np.asarray(madrs_baseline, float).ravel()
    if given is not None and given.size != ids.size:
        raise ValueError(f"madrs_baseline has {given.size} values but {ids.size} subjects "
                         "were given")
    out = {}
    for name, (base, z) in _rated(ids, sev.shape[1], seed, cohort, scales, given).items():
        out[name] = score(base[:, None] * sev, z, name)
        out[f"{name}_baseline_true"] = base
    return out


def suicidal_ideation(madrs_scores, share: float = SI_SHARE) -> np.ndarray:
    """MADRS item 10 (suicidal thoughts, 0-6) as ``share`` of the MADRS total, rounded."""
    return np.clip(np.rint(np.asarray(madrs_scores, float) * share), 0, SI_MAX).astype(np.int16)
