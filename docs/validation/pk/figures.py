"""Figures of the PK library's validation (docs/validation/pk/README.md).

Run from the repository root: ``.venv/bin/python docs/validation/pk/figures.py``. Writes
racemic_sr_depression_infusion.png, racemic_sr_routes.png, iv_models.png and interactions.png
next to this script. Lines are typical subjects (no inter-individual variability).
"""

import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import FormatStrFormatter

from ketasim import MODEL_NAMES, Dose, Population, Regimen, get_model, simulate

HERE = Path(__file__).parent
TIMES = np.linspace(0.0, 8.0, 8 * 60 + 1)  # 1-min grid
LONG = np.concatenate([TIMES, [24.0, 48.0, 96.0, 240.0]])  # last AUC ~ AUC0-inf
ADULT = {"weight_kg": 70.0, "age_y": 40.0}
CHILD = {"weight_kg": 20.0, "age_y": 8.0}
N_SUBJECTS = 1000
#: Zanos et al. 2018, Pharmacol Rev 70:621, Table 1 (pk_parameters.md B1): venous Cmax after
#: 0.5 mg/kg over 40 min (Zarate 2006), and the plasma range of dissociation (Krystal 1994).
ZARATE_CMAX = 185.0
KRYSTAL = (100.0, 250.0)
INFUSION = Dose("racemic", "iv_infusion", 0.5, per_kg=True, duration_h=40 / 60)
SR = get_model("racemic_sr")
SOURCE = {p.name: p.source for p in SR.parameters}
VALUE = {p.name: p.value for p in SR.parameters}


def cite(source: str) -> str:
    """'Author year' from a parameter's source, or the assumption's last clause."""
    found = re.match(r"\D*?\d{4}", source)
    return found.group(0) if found else "assumption: " + source.split("; ")[-1]


def run(model, doses, fixed=ADULT, times=TIMES, n=None):
    """The typical subject with ``fixed`` covariates, or ``n`` subjects of the trd cohort."""
    if n is None:
        return simulate(model.typical(), Regimen(tuple(doses)), Population(1, fixed=fixed),
                        times)
    return simulate(model, Regimen(tuple(doses)), Population(n, cohort="trd", seed=1), times)


def curve(ax, res, output, label, color, pop=None, **style):
    """``output`` of the typical subject ``res``; shaded 5-95% of ``pop`` if given."""
    time = res["time"].to_numpy()
    ax.plot(time, res[output].to_numpy()[0], color=color, label=label, **{"lw": 1.6, **style})
    if pop is not None:
        lo, hi = np.percentile(pop[output].to_numpy(), [5, 95], axis=0)
        ax.fill_between(time, lo, hi, color=color, alpha=0.15, lw=0)


def axes_in_hours(ax, ylabel, title, headroom=None):
    """Hours on x; with ``headroom``, y from 0 with that share of space above the curves."""
    ax.set(xlim=(0, 8), xticks=range(9), xlabel="time after the start of dosing (h)",
           ylabel=ylabel, title=title)
    ax.grid(alpha=0.3)
    if headroom:
        ax.set_ylim(0, ax.get_ylim()[1] * (1 + headroom))


def zarate(ax):
    ax.plot([40 / 60], [ZARATE_CMAX], "D", ms=8, mfc="none", mec="k", mew=1.8, ls="none",
            label="Zarate 2006: Cmax 185 ng/mL (Zanos 2018 Table 1),\ndrawn at the end of "
                  "infusion")


def depression_infusion():
    typical = run(SR, [INFUSION])
    pop = run(SR, [INFUSION], n=N_SUBJECTS)
    fig, axes = plt.subplots(1, 3, figsize=(16, 5.2))
    ax = axes[0]
    ax.axhspan(*KRYSTAL, color="0.6", alpha=0.25, lw=0,
               label="Krystal 1994: dissociation at 100-250 ng/mL\n(Zanos 2018 Table 1)")
    curve(ax, typical, "ketamine_plasma_ng_ml", "plasma (venous)", "tab:blue", pop)
    curve(ax, typical, "ketamine_brain_ng_ml", "brain (effect site, t1/2 ke0 6.1 min)",
          "tab:purple", pop, ls="--")
    zarate(ax)
    axes_in_hours(ax, "total ketamine (ng/mL)", "total ketamine (S + R)", 0.45)
    curve(axes[1], typical, "s_ketamine_plasma_ng_ml", "S-ketamine", "tab:red", pop)
    curve(axes[1], typical, "r_ketamine_plasma_ng_ml", "R-ketamine", "tab:green", pop, ls="--")
    axes_in_hours(axes[1], "plasma ketamine enantiomer (ng/mL)",
                  "S and R ketamine (R clearance 17% lower, Persson 2002)", 0.1)
    curve(axes[2], typical, "norketamine_plasma_ng_ml", "total norketamine", "tab:orange", pop)
    axes_in_hours(axes[2], "plasma norketamine (ng/mL)", "total norketamine (S + R)", 0.1)
    for ax in axes:
        ax.legend(loc="upper right", fontsize=8.5)
    fig.suptitle("racemic_sr: 0.5 mg/kg racemic ketamine IV over 40 min. Lines: typical 70-kg "
                 f"subject; shaded: 5-95% of {N_SUBJECTS} subjects ('trd' cohort, seed 1, "
                 "weights as drawn)", fontsize=11)
    return fig


def routes():
    fig, axes = plt.subplots(1, 2, figsize=(15, 6.2))
    f_param = {"im": "F_im", "subcutaneous": "F_sc", "oral": "F_oral", "sublingual": "F_sl",
               "intranasal": "F_in_10mg"}
    styles = ("-", "--", ":", "-", "--", "-.")
    for k, route in enumerate(r for r in SR.routes_for("racemic") if r != "iv_infusion"):
        res = run(SR, [Dose("racemic", route, 25.0)])
        if route == "iv_bolus":
            label = "iv_bolus: F 100% (reference)"
        else:
            f = VALUE[f_param[route]]
            if route == "intranasal":  # dose-dependent: F_in_10mg * (dose / 10 mg) ** slope
                f *= (25.0 / 10.0) ** VALUE["F_in_slope"]
            label = f"{route}: F {f:.0%} ({cite(SOURCE[f_param[route]])})"
            label += "; same curve as im" if route == "subcutaneous" else ""
        for ax, analyte in zip(axes, ("ketamine", "norketamine"), strict=True):
            curve(ax, res, f"{analyte}_plasma_ng_ml", label, f"C{k}", ls=styles[k])
    for ax, analyte in zip(axes, ("ketamine", "norketamine"), strict=True):
        ax.set_yscale("log")
        ax.set_ylim(1, 300)
        ax.yaxis.set_major_formatter(FormatStrFormatter("%g"))
        axes_in_hours(ax, f"plasma {analyte}, S + R (ng/mL, log scale)",
                      f"total {analyte}" + (" (routes as on the left)" if ax is axes[1] else ""))
    axes[0].legend(loc="upper right", fontsize=9, title="route: bioavailability (source)")
    fig.suptitle("racemic_sr: 25 mg racemic ketamine by each route, typical 70-kg adult. "
                 "Intranasal F is dose-dependent (17% at 10 mg; 13% at 25 mg)", fontsize=11)
    return fig


def iv_models():
    fig, axes = plt.subplots(1, 2, figsize=(15, 5.6), sharey=True)
    iv = [n for n in MODEL_NAMES if "iv_infusion" in get_model(n).routes_for("racemic")]
    for k, name in enumerate(iv):
        model = get_model(name)
        child = model.valid.get("age_y", (0, 99))[1] <= 18
        res = run(model, [INFUSION], CHILD if child else ADULT, LONG)
        cmax = float(res["ketamine_plasma_ng_ml"].max())
        # clearance = dose / AUC0-inf (mg / (ng*h/mL) = 1000 L/h); AUC to 240 h
        cl = 0.5 * res["weight_kg"].item() / res["ketamine_plasma_auc_ng_h_ml"][0, -1].item()
        style = {"ls": (0, (1, 1.5)), "lw": 3, "zorder": 3} if name == "racemic_sr" else {}
        curve(axes[int(child)], res, "ketamine_plasma_ng_ml",
              f"{name}: Cmax {cmax:.0f} ng/mL, CL {cl * 1000:.0f} L/h", f"C{k}", **style)
    zarate(axes[0])
    axes_in_hours(axes[0], "plasma ketamine (ng/mL)",
                  "adult models: 70 kg, 40 y (racemic_sr has Clements' disposition)")
    axes_in_hours(axes[1], "plasma ketamine (ng/mL)", "children's models: 20 kg, 8 y")
    for ax in axes:
        ax.set_ylim(0, 520)
        ax.legend(loc="upper right", fontsize=9)
    fig.suptitle("Every built-in model taking racemic IV: 0.5 mg/kg over 40 min (typical "
                 "subjects); CL = dose / AUC0-inf of each subject", fontsize=11)
    return fig


def interactions():
    fig, axes = plt.subplots(1, 2, figsize=(15, 5.8))
    dose = [Dose("racemic", "oral", 0.2, per_kg=True)]
    flags = {"cyp3a_inhibitor": ("cyp3a_inhibitor_oral_auc", "clarithromycin"),
             "cyp2b6_inhibitor": ("cyp2b6_inhibitor_oral_auc", "ticlopidine"),
             "cyp3a_inducer": ("cyp3a_inducer_oral_auc", "rifampicin")}
    base = run(SR, dose, times=LONG)
    auc = {a: float(base[f"{a}_plasma_auc_ng_h_ml"][0, -1]) for a in ("ketamine", "norketamine")}
    for ax, a in zip(axes, auc, strict=True):
        curve(ax, base, f"{a}_plasma_ng_ml", "no co-medication", "k")
    for k, (flag, (param, drug)) in enumerate(flags.items()):
        res = run(SR, dose, {**ADULT, flag: 1}, times=LONG)
        fold = {a: float(res[f"{a}_plasma_auc_ng_h_ml"][0, -1]) / auc[a] for a in auc}
        curve(axes[0], res, "ketamine_plasma_ng_ml",
              f"{flag}=1 (e.g. {drug}): published AUC x{VALUE[param]:g} "
              f"({cite(SOURCE[param])}); model x{fold['ketamine']:.2f}", f"C{k}")
        curve(axes[1], res, "norketamine_plasma_ng_ml", f"{flag}=1: model AUC "
              f"x{fold['norketamine']:.2f}, NK/K AUC ratio "
              f"x{fold['norketamine'] / fold['ketamine']:.2f}", f"C{k}")
    for ax, a in zip(axes, auc, strict=True):
        axes_in_hours(ax, f"plasma {a}, S + R (ng/mL)", f"total {a}", 0.4)
        ax.legend(loc="upper right", fontsize=8.5)
    fig.suptitle("racemic_sr: 0.2 mg/kg oral racemic ketamine, typical 70-kg adult, with and "
                 "without co-medication (published folds: oral S-ketamine AUC0-inf; "
                 "model: AUC0-240h)", fontsize=11)
    return fig


def main() -> None:
    for name, make in (("racemic_sr_depression_infusion", depression_infusion),
                       ("racemic_sr_routes", routes), ("iv_models", iv_models),
                       ("interactions", interactions)):
        fig = make()
        fig.tight_layout()
        fig.savefig(HERE / f"{name}.png", dpi=100)
        plt.close(fig)


if __name__ == "__main__":
    main()
