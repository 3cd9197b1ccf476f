"""Virtual patients: covariates from a cohort and log-normal random effects, seeded.

Every draw comes from ``numpy.random.default_rng(seed)`` in a fixed order (covariates, then one
standard-normal random effect per model parameter), so the same population and model give the
same subjects on any number of cores.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from ketasim.errors import ScenarioError
from ketasim.modeling.spec import Model

MAX_SUBJECTS = 10_000_000


@dataclass(frozen=True)
class Cohort:
    """Covariate distributions of a patient group, each with its source.

    Weight (kg) is log-normal (median, CV); age (years) is normal, truncated to its range;
    sex, Asian and Japanese ancestry are Bernoulli (``p_japanese`` is a share of the Asian).
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


_PEREZ_RUIXO = ("Perez-Ruixo et al. 2021, Clin Pharmacokinet 60:501 (820 subjects, 564 with "
                "TRD: median weight 74 kg, range 39-170; median age 45 y, range 18-86; 58.4% "
                "female)")

_TRD = Cohort(
    weight_median_kg=74.0, weight_cv=0.22, age_mean_y=45.0, age_sd_y=12.0,
    age_range_y=(18.0, 86.0), p_female=0.584,
    source=_PEREZ_RUIXO + "; spreads (weight CV 22%, age SD 12 y) are assumptions chosen "
    "to match the reported ranges; covariates drawn independently (assumption); no Asian "
    "ancestry (assumption: a Western trial population)")
#: Weight and ancestry of the indication cohorts: as trd (assumption: not in the sources read).
_AS_TRD = "; weight and ancestry as trd (assumption: not reported in the sources read)"

COHORTS: dict[str, Cohort] = {
    "trd": _TRD,
    "healthy": Cohort(
        weight_median_kg=74.0, weight_cv=0.18, age_mean_y=30.0, age_sd_y=8.0,
        age_range_y=(18.0, 55.0), p_female=0.5,
        source="assumption: typical phase-I volunteer panel; weight from " + _PEREZ_RUIXO),
    "ptsd": replace(
        _TRD, age_mean_y=38.9, age_sd_y=13.2, age_range_y=(18.0, 70.0), p_female=23 / 30,
        source="age 38.9 y (SD 13.2), 23 of 30 female: chronic-PTSD ketamine trial "
        "feder2021_ptsd (NCT02397889 results); age 18-70: inclusion of abdallah2022_ptsd "
        "(NCT02655692), whose veterans and service members were mostly men (share not in the "
        "sources read)" + _AS_TRD),
    "social_anxiety": replace(
        _TRD, age_mean_y=30.0, age_sd_y=10.0, age_range_y=(18.0, 65.0), p_female=0.5,
        source="age 18-65: inclusion of taylor2018_sad (NCT02083926); mean age 30 y (SD 10) "
        "and 50% female: assumption: its demographics are not in the shared data nor the "
        "sources found" + _AS_TRD),
    "anxiety": replace(
        _TRD, age_mean_y=35.7, age_sd_y=11.0, age_range_y=(18.0, 65.0), p_female=0.563,
        source="mean age 35.7 y, 56.3% female: 144 GAD trial patients (Matza LS et al. 2010 "
        "Int J Methods Psychiatr Res 19:223, PMC6878292); age SD 11 y and range 18-65: "
        "assumption; glue2017_anxiety's demographics are not in the shared data"
        + _AS_TRD),
    "ocd": replace(
        _TRD, age_mean_y=41.7, age_sd_y=13.5, age_range_y=(18.0, 65.0), p_female=0.4,
        source="age 41.7 y (SD 13.5), all 18-65, 4 of 10 female: bloch2012_ocd (NCT01349231 "
        "results)" + _AS_TRD),
    "suicidal_ideation": replace(
        _TRD, age_mean_y=39.6, age_sd_y=13.2, age_range_y=(18.0, 65.0), p_female=0.6,
        source="age 39.6 y (SD 13.2) and 60% female: grunebaum2018's arms pooled (ketamine "
        "38.4, SD 13.2, 55% female; midazolam 40.7, SD 13.1, 65%; n 40 each; Cochrane 2021 "
        "characteristics table, PMC8434915); age 18-65: assumption: adult trial range"
        + _AS_TRD),
}

#: Every covariate with the range a user may fix it to: weight (kg), age (years), and 0/1
#: flags for sex, ancestry (Japanese implies Asian) and co-medication with a CYP3A inhibitor
#: (e.g. clarithromycin), a CYP3A inducer (e.g. rifampicin) or a CYP2B6 inhibitor
#: (e.g. ticlopidine). Cohorts give nobody co-medication; a user fixes it.
COVARIATE_RANGES = {"weight_kg": (1.0, 400.0), "age_y": (0.0, 120.0), "female": (0.0, 1.0),
                    "asian": (0.0, 1.0), "japanese": (0.0, 1.0), "cyp3a_inhibitor": (0.0, 1.0),
                    "cyp3a_inducer": (0.0, 1.0), "cyp2b6_inhibitor": (0.0, 1.0)}
FLAGS = ("female", "asian", "japanese", "cyp3a_inhibitor", "cyp3a_inducer", "cyp2b6_inhibitor")


@dataclass(frozen=True)
class Subjects:
    """Drawn subjects: covariates (one row each) and the kernel's parameter matrix."""

    covariates: pd.DataFrame
    eta: np.ndarray
    params: np.ndarray


@dataclass(frozen=True)
class Population:
    """``n`` virtual patients of a cohort; ``fixed`` sets a covariate for everyone."""

    n: int
    cohort: str = "trd"
    seed: int = 0
    fixed: Mapping[str, float] = field(default_factory=dict)

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

    def draw_covariates(self, rng: np.random.Generator) -> pd.DataFrame:
        """Covariates of every subject, one column each of :data:`COVARIATE_RANGES`."""
        c = COHORTS[self.cohort]
        sigma = np.sqrt(np.log1p(c.weight_cv**2))
        weight = c.weight_median_kg * np.exp(sigma * rng.standard_normal(self.n))
        lo, hi = c.age_range_y
        age = c.age_mean_y + c.age_sd_y * rng.standard_normal(self.n)
        outside = (age < lo) | (age > hi)
        while outside.any():  # resample: a truncated normal without bias at the bounds
            age[outside] = c.age_mean_y + c.age_sd_y * rng.standard_normal(outside.sum())
            outside = (age < lo) | (age > hi)
        female = (rng.random(self.n) < c.p_female).astype(float)
        asian = rng.random(self.n) < c.p_asian
        japanese = asian & (rng.random(self.n) < c.p_japanese)
        none = np.zeros(self.n)
        table = pd.DataFrame({"weight_kg": weight, "age_y": age, "female": female,
                              "asian": asian.astype(float), "japanese": japanese.astype(float),
                              "cyp3a_inhibitor": none, "cyp3a_inducer": none,
                              "cyp2b6_inhibitor": none})
        for name, value in self.fixed.items():
            table[name] = float(value)
        if self.fixed.get("japanese") == 1:
            table["asian"] = 1.0
        return table

    def sample(self, model: Model) -> Subjects:
        """Draw the subjects for ``model``: covariates, random effects, parameter matrix."""
        rng = np.random.default_rng(self.seed)
        covariates = self.draw_covariates(rng)
        cov = model.eta_covariance()
        root = np.linalg.cholesky(cov + 1e-300 * np.eye(len(cov))) if model.correlations else \
            np.diag(np.sqrt(np.diag(cov)))
        eta = rng.standard_normal((self.n, len(cov))) @ root.T
        typical = np.array([p.model_value[0] for p in model.parameters])
        missing = set(model.covariate_names) - set(covariates)
        if missing:
            raise ScenarioError(f"population: model {model.name} needs covariates "
                                f"{sorted(missing)} that cohort {self.cohort} does not have")
        params = np.hstack([typical * np.exp(eta),
                            covariates[list(model.covariate_names)].to_numpy(float)])
        return Subjects(covariates, eta, np.ascontiguousarray(params))
