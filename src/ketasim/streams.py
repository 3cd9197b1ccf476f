"""Every random stream of ketasim, by name.

A stream is ``numpy.random.default_rng([seed, STREAM, ...])`` with the run's seed and the
stream's key, so that each layer draws its own numbers and adding a layer leaves the others
unchanged. Streams keyed by a subject (``[seed, STREAM, i]``) give subject ``i`` the same numbers
in any chunk. The population's covariates and random effects use ``default_rng(seed)`` itself;
``ketasim validate`` draws its parameter sets and resamples from ``default_rng(seed)`` of its own
seed.
"""

import numpy as np

#: Clinical attributes of the candidates (``population.sampling``): one row of uniforms each.
ATTRIBUTES = 8_001
#: Per subject: the MADRS baseline uniform, then the noise of the depression scales.
CLINIC = 7_001
#: Per subject: the baseline uniforms of the scales with their own baseline, then their noise.
OWN_SCALES = 7_002
#: Trial replicates (``trials.run``): which pooled patients, dropouts; per n and replicate.
TRIALS = 9_001
#: Sweeps (``sweep.run``): the population seed of each block of a scenario's patients.
SWEEP = 9_101


def rng(seed: int, stream: int, *keys: int) -> np.random.Generator:
    """The generator of ``stream`` for ``seed`` (and, e.g., a subject or replicate ``keys``)."""
    return np.random.default_rng([int(seed), stream, *(int(k) for k in keys)])
