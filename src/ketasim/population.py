"""Virtual patients: covariates and clinical attributes from a cohort, screened for a
trial's criteria, with log-normal random effects, seeded.

Draws: ``numpy.random.default_rng(seed)`` gives the covariates (weight, age, sex, ancestry) and
then one standard-normal random effect per model parameter, in that fixed order, so the same
population and model give the same subjects on any number of cores. The clinical attributes
(:data:`ATTRIBUTES`, ``crp_mg_l``) come from a separate stream, ``default_rng([seed,``
:data:`ATTRIBUTE_STREAM` ``])``, so adding them left every earlier population unchanged.

Screening (``madrs_min``, ``madrs_max``, ``exclude``) draws an unscreened population of
candidates and keeps the first ``n`` eligible; each keeps its candidate index as its subject id.
The clinic layer draws a subject's scores from its id (``scales.draw``), so the baseline MADRS a
candidate was screened on is the one the clinic rates it from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

from ketasim.clinical.scales import baseline_madrs, rating
from ketasim.errors import ScenarioError
from ketasim.modeling.spec import Model

MAX_SUBJECTS = 10_000_000


@dataclass(frozen=True)
class Clinical:
    """Clinical attributes of a cohort, with their sources: shares (0-1) with bipolar (rather
    than unipolar) disorder, a comorbid anxiety disorder, a history of psychosis and a substance
    use disorder; C-reactive protein (mg/L), log-normal (``crp_median_mg_l``, ``crp_log_sd``);
    ``hypertension_scale`` multiplies the general population's share with uncontrolled
    hypertension at each age (:data:`UNCONTROLLED_HYPERTENSION`)."""

    p_bipolar: float
    p_anxiety: float
    p_psychosis: float
    p_substance_use: float
    crp_median_mg_l: float
    crp_log_sd: float
    source: str
    hypertension_scale: float = 1.0


def _crp(above_1: float, above_3: float) -> tuple[float, float]:
    """Median (mg/L) and log-SD of the log-normal CRP with shares ``above_1`` above 1 mg/L and
    ``above_3`` above 3 mg/L."""
    z1, z3 = ndtri(1.0 - above_1), ndtri(1.0 - above_3)
    log_sd = float(np.log(3.0) / (z3 - z1))
    return float(np.exp(-z1 * log_sd)), log_sd


def _without(p: float, odds_ratio: float) -> float:
    """The share whose odds are those of ``p`` divided by ``odds_ratio``."""
    odds = p / (1.0 - p) / odds_ratio
    return odds / (1.0 + odds)


#: CRP of depressed patients: 58% above 1 mg/L and 27% above 3 mg/L, unrelated to sample source,
#: antidepressant treatment or age (meta-analysis of 37 studies, 13,541 patients; Osimo EF et
#: al. 2019 Psychol Med 49:1958, PMID 31258105): median 1.31 mg/L, log-SD 1.35.
CRP_DEPRESSED = _crp(0.58, 0.27)
#: CRP of matched controls: the same meta-analysis's odds ratios for depression, 1.47 (> 1 mg/L)
#: and 1.46 (> 3 mg/L), give 48% and 20% above: median 0.95 mg/L, log-SD 1.38 (derived).
CRP_CONTROL = _crp(_without(0.58, 1.47), _without(0.27, 1.46))
_OSIMO = "CRP: Osimo 2019 meta-analysis (CRP_DEPRESSED)"

#: Uncontrolled hypertension (blood pressure >= 140/90 mmHg, treated or not) by age: lower age
#: bound (y) and share. Adults: hypertension in 7.5% (18-39 y), 33.2% (40-59 y) and 63.1%
#: (>= 60 y), controlled in 48.3% of them (NHANES 2015-2016, Fryar CD et al. 2017 NCHS Data
#: Brief 289), so uncontrolled in 51.7% of each band (assumption: control does not depend on age;
#: it rose with age in men only). Under 18: 3.5% of children and adolescents have hypertension
#: (Flynn JT et al. 2017 Pediatrics 140:e20171904, as recalled, not verified in the sources
#: read), all counted as uncontrolled (assumption: rarely treated).
UNCONTROLLED_HYPERTENSION = ((0.0, 0.035), (18.0, 0.075 * 0.517), (40.0, 0.332 * 0.517),
                             (60.0, 0.631 * 0.517))
#: Odds ratio of a substance use disorder in bipolar against unipolar depression: 3.5, between
#: the ratios of the ECA odds ratios against the general population, bipolar over major
#: depression, for alcohol (5.6 / 1.3 = 4.3) and drug use disorders (11.1 / 3.8 = 2.9) (Regier
#: DA et al. 1990 JAMA 264:2511, as summarised in a textbook chapter read; derived).
SUBSTANCE_USE_OR_BIPOLAR = 3.5

#: What the trd cohort means: the esketamine trials' definition (e.g. TRANSFORM-3, Ochs-Ross R et
#: al. 2020 Am J Geriatr Psychiatry 28:121), also the GSRD's (Kautzky A et al. 2019 Acta
#: Psychiatr Scand 139:78, with MADRS >= 22).
TRD_DEFINITION = ("treatment-resistant depression: at least two failed adequate antidepressant "
                  "trials in the current episode")
_TRD_CLINICAL = Clinical(
    p_bipolar=14 / 49, p_anxiety=0.212, p_psychosis=0.109, p_substance_use=0.28,
    crp_median_mg_l=CRP_DEPRESSED[0], crp_log_sd=CRP_DEPRESSED[1],
    source="bipolar 14 of 49 TRD inpatients given IV ketamine (Szarmach J et al. 2020 "
    "Neuropsychiatr Dis Treat 16:2539; a small sample); comorbid anxiety disorder 21.2% of 1346 "
    "MDD patients of the GSRD, a European multicentre study of treatment resistance (Dold M et "
    "al. 2017 J Psychiatr Res 91:1); psychotic features 10.92% of 1410 GSRD MDD patients (Dold M "
    "et al. 2019 J Clin Psychiatry 80:17m12090); substance use disorder symptoms 28% (419 of "
    "1484) of STAR*D outpatients with MDD (Davis LL et al. 2005 Compr Psychiatry 46:81; "
    "assumption: TRD as MDD outpatients, a self-report screen); " + _OSIMO)
#: Clinical attributes of the indication cohorts: as trd (assumption: no source read for these
#: patients) except where a cohort says otherwise.
_CLINICAL_AS_TRD = "clinical attributes as trd (assumption: not in the sources read)"


@dataclass(frozen=True)
class Cohort:
    """Covariate distributions of a patient group, each with its source.

    Weight (kg) is log-normal (median, CV), the median by age and sex where ``weight_by_age``
    gives (age y, boys' median kg, girls' median kg) rows (interpolated); age (years) is normal,
    truncated to its range; sex, Asian and Japanese ancestry are Bernoulli (``p_japanese`` is a
    share of the Asian); ``clinical`` gives the clinical attributes.
    """

    weight_median_kg: float
    weight_cv: float
    age_mean_y: float
    age_sd_y: float
    age_range_y: tuple[float, float]
    p_female: float
    source: str
    p_asian: float = 0.0
    p_japanese: float = 0.0
    clinical: Clinical = _TRD_CLINICAL
    weight_by_age: tuple[tuple[float, float, float], ...] = ()


_PEREZ_RUIXO = ("Perez-Ruixo et al. 2021, Clin Pharmacokinet 60:501 (820 subjects, 564 with "
                "TRD: median weight 74 kg, range 39-170; median age 45 y, range 18-86; 58.4% "
                "female)")

_TRD = Cohort(
    weight_median_kg=74.0, weight_cv=0.22, age_mean_y=45.0, age_sd_y=12.0,
    age_range_y=(18.0, 86.0), p_female=0.584,
    source=TRD_DEFINITION + "; " + _PEREZ_RUIXO + "; spreads (weight CV 22%, age SD 12 y) are "
    "assumptions chosen to match the reported ranges; covariates drawn independently "
    "(assumption); no Asian ancestry (assumption: a Western trial population)")
#: Weight and ancestry of the indication cohorts: as trd (assumption: not in the sources read).
_AS_TRD = "; weight and ancestry as trd (assumption: not reported in the sources read)"
#: Median weight (kg) at ages 12-18 y, boys and girls: the CDC 2000 growth charts' weight-for-age
#: M at 144.5, 156.5, ..., 216.5 months (Kuczmarski RJ et al. 2002 Vital Health Stat 11(246);
#: wtage.csv); their S (coefficient of variation) is 0.16-0.20 at these ages.
_CDC_WEIGHT = ((12.0, 40.67, 41.83), (13.0, 45.81, 45.98), (14.0, 51.23, 49.49),
               (15.0, 56.49, 52.14), (16.0, 61.10, 53.95), (17.0, 64.70, 55.18),
               (18.0, 67.29, 56.23))


def _indication(p_anxiety: float | None = None, source: str = "") -> Clinical:
    """trd's clinical attributes for an indication cohort, with its own share with a comorbid
    anxiety disorder (``p_anxiety``, from ``source``) if given."""
    if p_anxiety is None:
        return replace(_TRD_CLINICAL, source=_CLINICAL_AS_TRD)
    return replace(_TRD_CLINICAL, p_anxiety=p_anxiety,
                   source=f"{source}; otherwise {_CLINICAL_AS_TRD}")


COHORTS: dict[str, Cohort] = {
    "trd": _TRD,
    "healthy": Cohort(
        weight_median_kg=74.0, weight_cv=0.18, age_mean_y=30.0, age_sd_y=8.0,
        age_range_y=(18.0, 55.0), p_female=0.5,
        source="assumption: typical phase-I volunteer panel; weight from " + _PEREZ_RUIXO,
        clinical=Clinical(
            p_bipolar=0.0, p_anxiety=0.0, p_psychosis=0.0, p_substance_use=0.0,
            crp_median_mg_l=CRP_CONTROL[0], crp_log_sd=CRP_CONTROL[1], hypertension_scale=0.0,
            source="no psychiatric disorder, substance use disorder or uncontrolled "
            "hypertension (assumption: volunteers are screened for them); CRP of the matched "
            "controls of Osimo 2019 (CRP_CONTROL)")),
    "ptsd": replace(
        _TRD, age_mean_y=38.9, age_sd_y=13.2, age_range_y=(18.0, 70.0), p_female=23 / 30,
        source="age 38.9 y (SD 13.2), 23 of 30 female: chronic-PTSD ketamine trial "
        "feder2021_ptsd (NCT02397889 results); age 18-70: inclusion of abdallah2022_ptsd "
        "(NCT02655692), whose veterans and service members were mostly men (share not in the "
        "sources read)" + _AS_TRD, clinical=_indication()),
    "social_anxiety": replace(
        _TRD, age_mean_y=30.0, age_sd_y=10.0, age_range_y=(18.0, 65.0), p_female=0.5,
        source="age 18-65: inclusion of taylor2018_sad (NCT02083926); mean age 30 y (SD 10) "
        "and 50% female: assumption: its demographics are not in the shared data nor the "
        "sources found" + _AS_TRD,
        clinical=_indication(p_anxiety=1.0,
                             source="anxiety disorder: all (social anxiety disorder is one)")),
    "anxiety": replace(
        _TRD, age_mean_y=35.7, age_sd_y=11.0, age_range_y=(18.0, 65.0), p_female=0.563,
        source="mean age 35.7 y, 56.3% female: 144 GAD trial patients (Matza LS et al. 2010 "
        "Int J Methods Psychiatr Res 19:223, PMC6878292); age SD 11 y and range 18-65: "
        "assumption; glue2017_anxiety's demographics are not in the shared data"
        + _AS_TRD,
        clinical=_indication(p_anxiety=1.0,
                             source="anxiety disorder: all (generalized anxiety disorder is "
                             "one)")),
    "ocd": replace(
        _TRD, age_mean_y=41.7, age_sd_y=13.5, age_range_y=(18.0, 65.0), p_female=0.4,
        source="age 41.7 y (SD 13.5), all 18-65, 4 of 10 female: bloch2012_ocd (NCT01349231 "
        "results)" + _AS_TRD,
        clinical=_indication(p_anxiety=0.758,
                             source="anxiety disorder 75.8%: lifetime, in respondents with "
                             "lifetime OCD of the NCS-R (Ruscio AM et al. 2010 Mol Psychiatry "
                             "15:53; as recalled, not verified in the abstract read)")),
    "suicidal_ideation": replace(
        _TRD, age_mean_y=39.6, age_sd_y=13.2, age_range_y=(18.0, 65.0), p_female=0.6,
        source="age 39.6 y (SD 13.2) and 60% female: grunebaum2018's arms pooled (ketamine "
        "38.4, SD 13.2, 55% female; midazolam 40.7, SD 13.1, 65%; n 40 each; Cochrane 2021 "
        "characteristics table, PMC8434915); age 18-65: assumption: adult trial range"
        + _AS_TRD, clinical=_indication()),

    "adolescent": replace(
        _TRD, weight_cv=0.18, age_mean_y=15.0, age_sd_y=2.0, age_range_y=(12.0, 18.0),
        p_female=2 / 3, weight_by_age=_CDC_WEIGHT,
        source="depressed adolescents, 12 to 17 y (up to the 18th birthday): age normal(15, 2) "
        "truncated to 12-18 y and 2 girls to 1 boy: assumption (depression is about twice as "
        "common in adolescent girls); weight: CDC 2000 medians by age and sex (_CDC_WEIGHT), CV "
        "18% (their S, 0.16-0.20); no Asian ancestry (assumption)",
        clinical=replace(
            _TRD_CLINICAL, p_bipolar=0.05, p_anxiety=0.55, p_psychosis=0.053,
            p_substance_use=0.10,
            source="comorbid anxiety 55%: within 47-59% by race/ethnicity of 12-17 year olds "
            "with depression (National Survey of Children's Health 2011-2012; Weller BE et al. "
            "2018 J Adolesc Health 62:716); psychotic features 5.3% of 1112 adult MDD "
            "outpatients (Gaudiano BA et al. 2009 Depress Anxiety 26:54, PMC2601715; assumption: "
            "as adults); bipolar 5% and substance use disorder 10%: assumption (bipolar onset "
            "and substance use disorders are rarer before 18 than in adult TRD); " + _OSIMO
            + " (adults; assumption: as adolescents)")),
    "elderly": replace(
        _TRD, age_mean_y=70.0, age_sd_y=4.5, age_range_y=(65.0, 90.0), p_female=85 / 137,
        source="TRANSFORM-3, esketamine in TRD at >= 65 y (Ochs-Ross 2020): age >= 65 "
        "(inclusion), 85 of 137 female (Table 4 of PMC8921149); age normal(70, 4.5) truncated "
        "to 65-90 y: assumption (its age distribution is not in the sources read; it analysed "
        "65-74 against >= 75 y)" + _AS_TRD,
        clinical=replace(_TRD_CLINICAL, source=_CLINICAL_AS_TRD + "; uncontrolled hypertension "
                         "from age (UNCONTROLLED_HYPERTENSION)")),
}

#: The clinical 0/1 attributes, in the order of their draws (bipolar: 1 bipolar, 0 unipolar;
#: anxiety: a comorbid anxiety disorder; psychosis: a history of psychosis; substance_use: a
#: substance use disorder; hypertension: uncontrolled hypertension); a screening may exclude
#: any of them. ``crp_mg_l`` (C-reactive protein, mg/L) is drawn after them.
ATTRIBUTES = ("bipolar", "anxiety", "psychosis", "substance_use", "hypertension")
#: Random stream of the clinical attributes (distinct from the covariates' and the clinic's).
ATTRIBUTE_STREAM = 8_001
#: Every covariate with the range a user may fix it to: weight (kg), age (years), and 0/1
#: flags for sex, ancestry (Japanese implies Asian) and co-medication with a CYP3A inhibitor
#: (e.g. clarithromycin), a CYP3A inducer (e.g. rifampicin) or a CYP2B6 inhibitor
#: (e.g. ticlopidine); the clinical attributes (0/1) and CRP (mg/L; up to 500, assumption: a
#: plausibility bound above severe infection). Cohorts give nobody co-medication; a user fixes it.
COVARIATE_RANGES = {"weight_kg": (1.0, 400.0), "age_y": (0.0, 120.0), "female": (0.0, 1.0),
                    "asian": (0.0, 1.0), "japanese": (0.0, 1.0), "cyp3a_inhibitor": (0.0, 1.0),
                    "cyp3a_inducer": (0.0, 1.0), "cyp2b6_inhibitor": (0.0, 1.0),
                    **dict.fromkeys(ATTRIBUTES, (0.0, 1.0)), "crp_mg_l": (0.0, 500.0)}
FLAGS = ("female", "asian", "japanese", "cyp3a_inhibitor", "cyp3a_inducer", "cyp2b6_inhibitor",
         *ATTRIBUTES)
#: A screening that keeps fewer than this share of candidates is refused (one in 10,000).
MIN_ELIGIBLE_SHARE = 1e-4
#: Most candidates a screening may draw (memory: one row of covariates and random effects each).
MAX_CANDIDATES = 20_000_000
#: Candidates drawn to estimate the share that ``exclude`` keeps.
PILOT = 100_000
#: Candidates whose baseline MADRS is drawn at a time while screening.
SCREEN_BLOCK = 65_536


@dataclass(frozen=True)
class Subjects:
    """Drawn subjects: covariates (one row each), the kernel's parameter matrix and each
    subject's global id (its candidate index: 0..n-1 without screening)."""

    covariates: pd.DataFrame
    eta: np.ndarray
    params: np.ndarray
    ids: np.ndarray


@dataclass(frozen=True)
class Population:
    """``n`` virtual patients of a cohort; ``fixed`` sets a covariate or attribute for everyone.

    A screening keeps patients whose true baseline MADRS (points, the clinic layer's draw) lies
    in ``madrs_min``-``madrs_max`` and who have none of the attributes in ``exclude``.
    """

    n: int
    cohort: str = "trd"
    seed: int = 0
    fixed: Mapping[str, float] = field(default_factory=dict)
    madrs_min: float | None = None
    madrs_max: float | None = None
    exclude: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if isinstance(self.n, bool) or not isinstance(self.n, (int, np.integer)) \
                or not 1 <= self.n <= MAX_SUBJECTS:
            raise ScenarioError(f"population.n: must be an integer from 1 to {MAX_SUBJECTS:,}, "
                                f"got {self.n!r}")
        if self.cohort not in COHORTS:
            raise ScenarioError(f"population.cohort: unknown {self.cohort!r}; allowed: "
                                f"{', '.join(COHORTS)}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer)) \
                or self.seed < 0:
            raise ScenarioError(f"population.seed: must be a non-negative integer, "
                                f"got {self.seed!r}")
        for name, value in self.fixed.items():
            if name not in COVARIATE_RANGES:
                raise ScenarioError(f"population.{name}: unknown covariate; allowed: "
                                    f"{', '.join(COVARIATE_RANGES)}")
            lo, hi = COVARIATE_RANGES[name]
            number = isinstance(value, (int, float)) and not isinstance(value, bool)
            if not (number and lo <= value <= hi) or (name in FLAGS and value not in (0, 1)):
                allowed = "0 or 1" if name in FLAGS else f"a number from {lo:g} to {hi:g}"
                raise ScenarioError(f"population.{name}: must be {allowed}, got {value!r}")
        self._check_screening()

    def _check_screening(self) -> None:
        if isinstance(self.exclude, str) or not isinstance(self.exclude, (list, tuple)):
            raise ScenarioError(f"population.exclude: expected a list of attributes, got "
                                f"{self.exclude!r}")
        for name in self.exclude:
            if name not in ATTRIBUTES:
                raise ScenarioError(f"population.exclude: unknown {name!r}; allowed: "
                                    f"{', '.join(ATTRIBUTES)}")
            if self.fixed.get(name) == 1:
                raise ScenarioError(f"population.exclude: excludes {name}, which "
                                    f"population.{name} = 1 gives everyone")
        object.__setattr__(self, "exclude", tuple(self.exclude))
        for key in ("madrs_min", "madrs_max"):
            value = getattr(self, key)
            if value is not None and (isinstance(value, bool)
                                      or not isinstance(value, (int, float, np.number))
                                      or not 0 <= value <= 60):
                raise ScenarioError(f"population.{key}: must be a MADRS score from 0 to 60, "
                                    f"got {value!r}")
        lo, hi = self._madrs_range
        if lo > hi:
            raise ScenarioError(f"population.madrs_min: {lo:g} is above population.madrs_max "
                                f"({hi:g})")
        madrs = [f"population.{k}" for k in ("madrs_min", "madrs_max")
                 if getattr(self, k) is not None]
        wanted = ([f"a baseline MADRS of {lo:g}-{hi:g}"] if madrs else []) + \
            ([f"none of {', '.join(self.exclude)}"] if self.exclude else [])
        for keys, share in ((madrs, self._madrs_share),
                            (["population.exclude"], self._attribute_share),
                            (["population.exclude", *madrs],
                             self._madrs_share * self._attribute_share)):
            if share < MIN_ELIGIBLE_SHARE:
                raise ScenarioError(
                    f"{', '.join(keys)}: only {share:.2g} of cohort {self.cohort} would be "
                    f"eligible ({' and '.join(wanted)}); screening needs at least "
                    f"{MIN_ELIGIBLE_SHARE:g}")
        if self.screened:
            self._candidates()  # too many candidates needed: refused now, not when sampling

    @property
    def screened(self) -> bool:
        """Whether a screening criterion is set."""
        return bool(self.exclude) or self.madrs_min is not None or self.madrs_max is not None

    @property
    def _madrs_range(self) -> tuple[float, float]:
        return (0.0 if self.madrs_min is None else float(self.madrs_min),
                60.0 if self.madrs_max is None else float(self.madrs_max))

    @cached_property
    def _madrs_share(self) -> float:
        """Share of the cohort's baseline MADRS distribution (a truncated normal) in range."""
        d = rating(self.cohort).madrs
        lo, hi = self._madrs_range
        lo, hi = max(lo, d.floor), min(hi, d.ceiling)
        if lo > hi:
            return 0.0
        cdf = ndtr((np.array([d.floor, lo, hi, d.ceiling]) - d.mean) / d.sd)
        return float((cdf[2] - cdf[1]) / (cdf[3] - cdf[0]))

    @cached_property
    def _attribute_share(self) -> float:
        """Share of :data:`PILOT` candidates with none of the excluded attributes."""
        if not self.exclude:
            return 1.0
        table = self.draw_covariates(np.random.default_rng(self.seed), PILOT)
        return float((table[list(self.exclude)] == 0).all(axis=1).mean())

    def draw_covariates(self, rng: np.random.Generator, count: int | None = None
                        ) -> pd.DataFrame:
        """Covariates and clinical attributes of ``count`` (default n) candidates, one column
        each of :data:`COVARIATE_RANGES`, fixed values applied."""
        n = self.n if count is None else count
        c = COHORTS[self.cohort]
        sigma = np.sqrt(np.log1p(c.weight_cv**2))
        z_weight = rng.standard_normal(n)
        lo, hi = c.age_range_y
        age = c.age_mean_y + c.age_sd_y * rng.standard_normal(n)
        outside = (age < lo) | (age > hi)
        while outside.any():  # resample: a truncated normal without bias at the bounds
            age[outside] = c.age_mean_y + c.age_sd_y * rng.standard_normal(outside.sum())
            outside = (age < lo) | (age > hi)
        female = (rng.random(n) < c.p_female).astype(float)
        asian = rng.random(n) < c.p_asian
        japanese = asian & (rng.random(n) < c.p_japanese)
        median = c.weight_median_kg
        if c.weight_by_age:
            ages, boys, girls = np.array(c.weight_by_age).T
            median = np.where(female == 1, np.interp(age, ages, girls), np.interp(age, ages, boys))
        none = np.zeros(n)
        table = pd.DataFrame({"weight_kg": median * np.exp(sigma * z_weight), "age_y": age,
                              "female": female, "asian": asian.astype(float),
                              "japanese": japanese.astype(float), "cyp3a_inhibitor": none,
                              "cyp3a_inducer": none, "cyp2b6_inhibitor": none})
        for name, value in self.fixed.items():
            if name in table:
                table[name] = float(value)
        if self.fixed.get("japanese") == 1:
            table["asian"] = 1.0
        return pd.concat([table, self._attributes(table["age_y"].to_numpy())], axis=1)

    def _attributes(self, age_y: np.ndarray) -> pd.DataFrame:
        """The clinical attributes of candidates aged ``age_y`` (years), from stream
        :data:`ATTRIBUTE_STREAM`: one row of uniforms per candidate (so candidate i's numbers
        do not depend on how many are drawn), one column per attribute, then CRP's."""
        k = COHORTS[self.cohort].clinical
        u = np.random.default_rng([self.seed, ATTRIBUTE_STREAM]).random(
            (age_y.size, len(ATTRIBUTES) + 1))
        out: dict[str, np.ndarray] = {}

        def draw(name: str, p) -> None:
            value = self.fixed.get(name)
            j = ATTRIBUTES.index(name)
            out[name] = (u[:, j] < p).astype(float) if value is None else \
                np.full(age_y.size, float(value))

        draw("bipolar", k.p_bipolar)
        draw("anxiety", k.p_anxiety)
        draw("psychosis", k.p_psychosis)
        unipolar = _unipolar_share(k.p_substance_use, k.p_bipolar, SUBSTANCE_USE_OR_BIPOLAR)
        odds = unipolar / (1.0 - unipolar) * SUBSTANCE_USE_OR_BIPOLAR
        draw("substance_use", np.where(out["bipolar"] == 1, odds / (1.0 + odds), unipolar))
        bounds, shares = np.array(UNCONTROLLED_HYPERTENSION).T
        draw("hypertension", k.hypertension_scale
             * shares[np.searchsorted(bounds, age_y, side="right") - 1])
        crp = self.fixed.get("crp_mg_l")
        out["crp_mg_l"] = k.crp_median_mg_l * np.exp(k.crp_log_sd * ndtri(u[:, -1])) \
            if crp is None else np.full(age_y.size, float(crp))
        return pd.DataFrame(out)

    def sample(self, model: Model) -> Subjects:
        """Draw the subjects for ``model``: covariates, random effects, parameter matrix; with a
        screening, the first n eligible of as many candidates as it takes."""
        count = self.n if not self.screened else self._candidates()
        while True:
            rng = np.random.default_rng(self.seed)
            covariates = self.draw_covariates(rng, count)
            ids = self._eligible(covariates)
            if ids.size == self.n:
                break
            count = self._candidates(int(np.ceil(count * min(4.0, 1.1 * self.n
                                                                / max(ids.size, 1)))))
        cov = model.eta_covariance()
        root = np.linalg.cholesky(cov + 1e-300 * np.eye(len(cov))) if model.correlations else \
            np.diag(np.sqrt(np.diag(cov)))
        eta = (rng.standard_normal((count, len(cov))) @ root.T)[ids]
        covariates = covariates.iloc[ids].reset_index(drop=True)
        typical = np.array([p.model_value[0] for p in model.parameters])
        missing = set(model.covariate_names) - set(covariates)
        if missing:
            raise ScenarioError(f"population: model {model.name} needs covariates "
                                f"{sorted(missing)} that cohort {self.cohort} does not have")
        params = np.hstack([typical * np.exp(eta),
                            covariates[list(model.covariate_names)].to_numpy(float)])
        return Subjects(covariates, eta, np.ascontiguousarray(params), ids)

    def _candidates(self, count: int | None = None) -> int:
        """Candidates to draw: ``count``, or enough for n eligible at the expected share (n
        plus 5 binomial SDs plus 10, over the share); refused above :data:`MAX_CANDIDATES`."""
        share = self._madrs_share * self._attribute_share
        if count is None:
            count = self.n if share >= 1.0 else \
                int(np.ceil((self.n + 5 * np.sqrt(self.n) + 10) / share))
        if count > MAX_CANDIDATES:
            raise ScenarioError(
                f"population.n: screening {self.n:,} patients at an eligible share of "
                f"{share:.2g} needs about {count:,} candidates, more than {MAX_CANDIDATES:,}; "
                "lower population.n or loosen population.exclude, madrs_min or madrs_max")
        return count

    def _eligible(self, covariates: pd.DataFrame) -> np.ndarray:
        """Candidate indices of the first n (or fewer) candidates meeting the criteria."""
        ids = np.flatnonzero((covariates[list(self.exclude)] == 0).all(axis=1).to_numpy())
        if self.madrs_min is None and self.madrs_max is None:
            return ids[:self.n]
        lo, hi = self._madrs_range
        kept, found = [], 0
        for start in range(0, ids.size, SCREEN_BLOCK):
            block = ids[start:start + SCREEN_BLOCK]
            madrs = baseline_madrs(block, self.seed, self.cohort)
            kept.append(block[(madrs >= lo) & (madrs <= hi)])
            found += kept[-1].size
            if found >= self.n:
                break
        return np.concatenate(kept)[:self.n] if kept else ids


def _unipolar_share(total: float, p_bipolar: float, odds_ratio: float) -> float:
    """Share with a condition among the unipolar such that the cohort's share is ``total`` when
    the bipolar (share ``p_bipolar``) have ``odds_ratio`` times the odds (a quadratic's root)."""
    a = (1.0 - p_bipolar) * (odds_ratio - 1.0)
    b = p_bipolar * odds_ratio + 1.0 - p_bipolar - total * (odds_ratio - 1.0)
    if a == 0.0:
        return total / b
    return float((-b + np.sqrt(b * b + 4.0 * a * total)) / (2.0 * a))
