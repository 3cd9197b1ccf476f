"""Figure: Perez-Ruixo 2021 model after 28, 56 and 84 mg intranasal esketamine, against Table 4.

Run from the repository root: ``.venv/bin/python docs/validation/pk/perez_ruixo2021_figure.py``.
Writes ``perez_ruixo2021_intranasal.png`` next to this script.
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from ketasim.analysis.nca import auc, cmax_tmax
from ketasim.dosing import Dose, Regimen
from ketasim.models.pk.perez_ruixo2021 import MODEL
from ketasim.population.sampling import Population
from ketasim.simulation.engine import simulate

OUT = Path(__file__).with_name("perez_ruixo2021_intranasal.png")
TIMES = np.linspace(0.0, 24.0, 24 * 12 + 1)  # 5-min grid
DOSES = (28.0, 56.0, 84.0)
#: Perez-Ruixo 2021 Table 4 (as transcribed by nlmixr2lib), 18-60 y Caucasian: Cmax (ng/mL)
#: and AUC0-24 (ng*h/mL) of esketamine and noresketamine per dose.
TABLE4 = {28.0: (43.8, 147.3, 59.1, 274.4), 56.0: (72.5, 254.7, 119.7, 516.3),
          84.0: (101.0, 362.2, 180.0, 758.0)}
ANALYTES = (("s_ketamine_plasma_ng_ml", "esketamine"),
            ("s_norketamine_plasma_ng_ml", "noresketamine"))
N_SUBJECTS = 500


def main() -> None:
    fig, axes = plt.subplots(2, 3, figsize=(13, 7.5), sharey="row", sharex=True)
    for col, mg in enumerate(DOSES):
        reg = Regimen((Dose("esketamine", "intranasal", mg),))
        typical = simulate(MODEL.typical(), reg, Population(1, fixed={"age_y": 45.0}), TIMES)
        pop = simulate(MODEL, reg, Population(N_SUBJECTS, cohort="trd", seed=1), TIMES)
        for row, (output, label) in enumerate(ANALYTES):
            ax = axes[row, col]
            conc = pop[output].to_numpy()
            lo, med, hi = np.percentile(conc, [5, 50, 95], axis=0)
            ax.fill_between(TIMES, lo, hi, color="tab:blue", alpha=0.2,
                            label=f"5-95% of {N_SUBJECTS} subjects with IIV ('trd' cohort)")
            ax.plot(TIMES, med, color="tab:blue", lw=1.2, label="median")
            c = typical[output].to_numpy()[0]
            ax.plot(TIMES, c, color="k", lw=1.6, label="typical subject (45 y, non-Asian)")
            cmax, tmax = cmax_tmax(c, TIMES)
            published_cmax, published_auc = TABLE4[mg][2 * row], TABLE4[mg][2 * row + 1]
            ax.plot([tmax], [published_cmax], marker="o", ms=9, mfc="none", mec="tab:red",
                    mew=2, ls="none",
                    label="Table 4 Cmax, 18-60 y Caucasian\n(drawn at the model's Tmax)")
            ax.text(0.97, 0.95, f"Cmax {cmax:.1f} vs {published_cmax:.1f} ng/mL\n"
                    f"AUC0-24 {auc(c, TIMES):.0f} vs {published_auc:.0f} ng·h/mL\n"
                    "(typical vs Table 4)", transform=ax.transAxes, ha="right", va="top",
                    fontsize=8.5)
            ax.set_title(f"{label}, {mg:.0f} mg intranasal", fontsize=10)
            ax.set_xlim(0, 24)
            ax.set_xticks(range(0, 25, 4))
            ax.grid(alpha=0.3)
            if col == 0:
                ax.set_ylabel(f"{label} plasma (ng/mL)")
            if row == 1:
                ax.set_xlabel("time after dose (h)")
    axes[0, 0].legend(loc="center right", fontsize=8)
    fig.suptitle("Perez-Ruixo 2021 model (Table 3 as transcribed by nlmixr2lib) vs its Table 4; "
                 "dose given at once. Noresketamine AUC0-24 is 1.4-1.5x Table 4 "
                 "(docs/models/perez_ruixo2021.md)", fontsize=10)
    fig.tight_layout()
    fig.savefig(OUT, dpi=110)


if __name__ == "__main__":
    main()
