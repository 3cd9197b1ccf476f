"""Covariance of the calibrated parameters from the curvature of the calibration's likelihood;
writes src/ketasim/evidence/data/parameter_uncertainty.json (read by ``ketasim validate``).

    .venv/bin/python scripts/uncertainty.py [--n 300] [--seed 1] [--step 0.1] [--floor 1]

The parameters are those ``scripts/calibrate.py`` fits (``FITTED`` and ``cv``), at the values the
model carries now (``racemic_sr+mechanism``; ``cv`` is w_slow's). On x = ln(value), the Hessian
H of ``calibrate.objective`` (summed negative log-likelihood of the fitted targets) is taken by
central differences with step ``--step``, using the calibration's virtual patients (common
random numbers: ``--n`` patients, ``--seed``) in every evaluation; the covariance of x is H^-1.
The objective is a Monte Carlo estimate (rates are step functions of the parameters at a finite
n), so the step must be wide (default 0.1, a 10% change) for the differences to measure the
likelihood's curvature rather than its noise. Eigenvalues of H below ``--floor`` (per unit of
x squared) are raised to it so that the covariance is positive definite and no direction has an
SD above 1/sqrt(floor) on the log scale. Re-run after every refit (a test checks the values).
Takes about 1 + 2p + 2p(p - 1) = 51 evaluations (p = 5), ~1.5 s each at n = 300.
"""

from __future__ import annotations

import argparse
import datetime
import itertools
import json
import math
import time
from pathlib import Path

import numpy as np

from ketasim.evidence.calibrate import BOUNDS, MODEL_NAME, objective, select_targets
from ketasim.evidence.validate import UNCERTAINTY_FILE, current_values

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src" / "ketasim" / "evidence" / "data" / UNCERTAINTY_FILE


def hessian(f, x0: np.ndarray, h: float) -> tuple[np.ndarray, np.ndarray, float]:
    """Central-difference Hessian and gradient of ``f`` at ``x0`` (step ``h``), and f(x0)."""
    p = x0.size
    e = np.eye(p) * h
    f0 = f(x0)
    plus = np.array([f(x0 + e[i]) for i in range(p)])
    minus = np.array([f(x0 - e[i]) for i in range(p)])
    hess = np.diag((plus - 2 * f0 + minus) / h**2)
    for i, j in itertools.combinations(range(p), 2):
        hess[i, j] = hess[j, i] = (f(x0 + e[i] + e[j]) - f(x0 + e[i] - e[j])
                                   - f(x0 - e[i] + e[j]) + f(x0 - e[i] - e[j])) / (4 * h**2)
    return hess, (plus - minus) / (2 * h), f0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=300,
                    help="virtual patients per evaluation (the calibration's: calibration.md)")
    ap.add_argument("--seed", type=int, default=1, help="the calibration's seed")
    ap.add_argument("--step", type=float, default=0.1, help="finite-difference step on ln(value)")
    ap.add_argument("--floor", type=float, default=1.0,
                    help="smallest Hessian eigenvalue kept (per ln-unit squared)")
    args = ap.parse_args()
    values = current_values()
    names = list(values)
    targets, _ = select_targets()
    evaluations = [0]

    def f(x: np.ndarray) -> float:
        evaluations[0] += 1
        return objective(dict(zip(names, np.exp(x), strict=True)), targets, args.n, args.seed)

    t0 = time.time()
    hess, grad, f0 = hessian(f, np.log([values[k] for k in names]), args.step)
    eig, vec = np.linalg.eigh(hess)
    kept = np.maximum(eig, args.floor)
    cov = (vec / kept) @ vec.T
    sd = np.sqrt(np.diag(cov))
    at_bound = [k for k in names if any(abs(math.log(values[k] / b)) < args.step
                                        for b in BOUNDS[k])]
    doc = {
        "model": MODEL_NAME,
        "names": names,
        "values": values,
        "scale": "natural log of each parameter's value (declared units); cv is the "
                 "coefficient of variation of w_fast, w_slow and w_expectancy",
        "covariance": cov.tolist(),
        "sd": dict(zip(names, sd.tolist(), strict=True)),
        "correlation": (cov / np.outer(sd, sd)).tolist(),
        "method": (
            f"inverse of the central-difference Hessian of calibrate.objective (negative "
            f"log-likelihood of the fitted targets) on ln(value), step {args.step} (wide enough "
            f"for the Monte Carlo objective: rates are step functions of the parameters at a "
            f"finite n), common random numbers ({args.n} virtual TRD patients, seed "
            f"{args.seed}); Hessian eigenvalues below {args.floor:g} raised to it (positive "
            f"definite; at most SD {1 / math.sqrt(args.floor):.3g} on the log scale in any "
            f"direction); {', '.join(names)} at the model's current values"
            + (f"; {', '.join(at_bound)} within one step of a bound of the fit, where the "
               "gradient need not be zero (see gradient)" if at_bound else "")),
        "hessian": hess.tolist(),
        "hessian_eigenvalues": eig.tolist(),
        "eigenvalues_floored": int((eig < args.floor).sum()),
        "gradient": dict(zip(names, grad.tolist(), strict=True)),
        # -H^-1 g: where the local quadratic has its minimum, from the fitted values (log scale)
        "newton_step": dict(zip(names, (-cov @ grad).tolist(), strict=True)),
        "objective": f0,
        "step": args.step,
        "eigenvalue_floor": args.floor,
        "n_subjects": args.n,
        "seed": args.seed,
        "evaluations": evaluations[0],
        "seconds": round(time.time() - t0, 1),
        "date": datetime.date.today().isoformat(),
        "generated_by": "scripts/uncertainty.py",
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(doc, indent=1) + "\n")
    print(json.dumps({k: doc[k] for k in ("values", "sd", "hessian_eigenvalues", "gradient",
                                           "newton_step", "objective", "seconds")}, indent=1))
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
