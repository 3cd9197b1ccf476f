"""Virtual patients: covariates and clinical attributes drawn from a cohort
(:mod:`ketasim.population.cohorts`), screened for a trial's criteria, with log-normal random
effects, seeded.

Draws: ``numpy.random.default_rng(seed)`` gives the covariates (weight, age, sex, ancestry) and
then one standard-normal random effect per model parameter, in that fixed order, so the same
population and model give the same subjects on any number of cores. The clinical attributes
(:data:`~ketasim.population.cohorts.ATTRIBUTES`, ``crp_mg_l``) come from a separate stream,
``default_rng([seed,`` :data:`~ketasim.streams.ATTRIBUTES` ``])``, so adding them left every
earlier population unchanged.

Screening (``madrs_min``, ``madrs_max``, ``exclude``) draws an unscreened population of
candidates and keeps the first ``n`` eligible; each keeps its candidate index as its subject id.
Each subject carries its true baseline MADRS (:data:`BASELINE`), drawn once from its id; the
screening selects on it and the clinic rates from it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

from ketasim import streams
from ketasim.clinical.scales import Rating, baseline_madrs, matched_baseline, rating
from ketasim.errors import ScenarioError
from ketasim.modeling.spec import Model
from ketasim.models.mechanism.mood import SEVERITY
from ketasim.population.cohorts import (
    ATTRIBUTES,
    COHORTS,
    COVARIATE_RANGES,
    FLAGS,
    SUBSTANCE_USE_OR_BIPOLAR,
    UNCONTROLLED_HYPERTENSION,
    unipolar_share,
)

MAX_SUBJECTS = 10_000_000
#: Each subject's true baseline MADRS (points), a patient attribute drawn once here for a model
#: the clinic rates (the clinic's stream, :func:`ketasim.clinical.scales.baseline_madrs`):
#: screening selects on it and the clinic rates the depression scales from it.
BASELINE = "madrs_baseline"

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
    ``baseline_mean`` and ``baseline_sd`` (MADRS points, together) give the recorded baseline
    of a trial's included patients: the baselines are drawn from the distribution that has them
    after the screening (:func:`ketasim.clinical.scales.matched_baseline`), not the cohort's.
    ``age_mean`` (years) and ``female_share`` (0-1) replace the cohort's mean age (same SD and
    range) and share of women, for a trial's recorded demographics.
    """

    n: int
    cohort: str = "trd"
    seed: int = 0
    fixed: Mapping[str, float] = field(default_factory=dict)
    madrs_min: float | None = None
    madrs_max: float | None = None
    exclude: tuple[str, ...] = ()
    baseline_mean: float | None = None
    baseline_sd: float | None = None
    age_mean: float | None = None
    female_share: float | None = None

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
        self._check_demographics()
        self._check_screening()

    def _check_demographics(self) -> None:
        lo, hi = COHORTS[self.cohort].age_range_y
        for key, low, high, what in (("age_mean", lo, hi, f"years within cohort {self.cohort}'s "
                                                          f"ages ({lo:g}-{hi:g})"),
                                     ("female_share", 0.0, 1.0, "a share from 0 to 1")):
            value = getattr(self, key)
            if value is not None and (isinstance(value, bool)
                                      or not isinstance(value, (int, float, np.number))
                                      or not low <= value <= high):
                raise ScenarioError(f"population.{key}: must be {what}, got {value!r}")

    @cached_property
    def rating(self) -> Rating:
        """How this population is rated: its cohort's, with the trial's own baseline MADRS
        distribution when ``baseline_mean`` and ``baseline_sd`` are given."""
        r = rating(self.cohort)
        if self.baseline_mean is None and self.baseline_sd is None:
            return r
        given = {k: getattr(self, k) for k in ("baseline_mean", "baseline_sd")}
        for key, value in given.items():
            if value is None:
                other = "baseline_sd" if key == "baseline_mean" else "baseline_mean"
                raise ScenarioError(f"population.{key}: needed with population.{other}")
            if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) \
                    or not np.isfinite(value):
                raise ScenarioError(f"population.{key}: must be a number of MADRS points, "
                                    f"got {value!r}")
        lo, hi = self._madrs_range
        return replace(r, madrs=matched_baseline(float(given["baseline_mean"]),
                                                 float(given["baseline_sd"]), lo, hi))

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
        _ = self.rating  # a trial's own baseline is checked (and fitted) now
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
        d = self.rating.madrs
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
        age_mean = c.age_mean_y if self.age_mean is None else float(self.age_mean)
        age = age_mean + c.age_sd_y * rng.standard_normal(n)
        outside = (age < lo) | (age > hi)
        while outside.any():  # resample: a truncated normal without bias at the bounds
            age[outside] = age_mean + c.age_sd_y * rng.standard_normal(outside.sum())
            outside = (age < lo) | (age > hi)
        p_female = c.p_female if self.female_share is None else float(self.female_share)
        female = (rng.random(n) < p_female).astype(float)
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
        :data:`ketasim.streams.ATTRIBUTES`: one row of uniforms per candidate (so candidate i's
        numbers do not depend on how many are drawn), one column per attribute, then CRP's."""
        k = COHORTS[self.cohort].clinical
        u = streams.rng(self.seed, streams.ATTRIBUTES).random(
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
        unipolar = unipolar_share(k.p_substance_use, k.p_bipolar, SUBSTANCE_USE_OR_BIPOLAR)
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
            ids, madrs = self._eligible(covariates)
            if ids.size == self.n:
                break
            count = self._candidates(int(np.ceil(count * min(4.0, 1.1 * self.n
                                                                / max(ids.size, 1)))))
        cov = model.eta_covariance()
        root = np.linalg.cholesky(cov + 1e-300 * np.eye(len(cov))) if model.correlations else \
            np.diag(np.sqrt(np.diag(cov)))
        eta = (rng.standard_normal((count, len(cov))) @ root.T)[ids]
        covariates = covariates.iloc[ids].reset_index(drop=True)
        if SEVERITY in model.outputs:  # a model the clinic rates
            covariates[BASELINE] = baseline_madrs(ids, self.seed, self.rating) \
                if madrs is None else madrs
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

    def _eligible(self, covariates: pd.DataFrame) -> tuple[np.ndarray, np.ndarray | None]:
        """Candidate indices of the first n (or fewer) candidates meeting the criteria, and,
        with a MADRS screening, their baseline MADRS (points; None without one)."""
        ids = np.flatnonzero((covariates[list(self.exclude)] == 0).all(axis=1).to_numpy())
        if self.madrs_min is None and self.madrs_max is None:
            return ids[:self.n], None
        lo, hi = self._madrs_range
        kept, scores, found = [], [], 0
        for start in range(0, ids.size, SCREEN_BLOCK):
            block = ids[start:start + SCREEN_BLOCK]
            madrs = baseline_madrs(block, self.seed, self.rating)
            inside = (madrs >= lo) & (madrs <= hi)
            kept.append(block[inside])
            scores.append(madrs[inside])
            found += kept[-1].size
            if found >= self.n:
                break
        if not kept:  # no candidate left after the exclusions
            return ids, None
        return np.concatenate(kept)[:self.n], np.concatenate(scores)[:self.n]

