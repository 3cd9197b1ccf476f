"""What every PK model reports: totals, molar units and brain (effect-site) concentrations.

A PK layer outputs plasma concentrations ``<analyte>_plasma_ng_ml``, enantiomers as
``s_<analyte>`` and ``r_<analyte>``. :func:`finish` composes it with a layer that adds

- ``<analyte>_plasma_ng_ml`` totals (S + R of what the model tracks), so ``ketamine`` is always
  total ketamine and ``norketamine`` total norketamine;
- ``<x>_plasma_um`` for every plasma output (uM = ng/mL / molar mass);
- ``<x>_brain_ng_ml`` and ``<x>_brain_um``: the effect-site concentration (plasma-equivalent
  units; Sheiner et al. 1979), which the receptor layer reads. Effect sites equilibrate with
  plasma at rate ke0;
- ``<x>_plasma_auc_ng_h_ml``: the area under the plasma curve since t = 0, integrated with the
  states (exact to the solver's tolerance, whatever the output grid).
"""

from __future__ import annotations

import re

from ketasim.modeling.spec import Model, Parameter, State, compose

#: Molar masses, g/mol (PubChem computed molecular weights: ketamine C13H16ClNO, CID 3821;
#: norketamine C12H14ClNO; hydroxynorketamine C12H14ClNO2; dehydronorketamine C12H12ClNO).
MOLAR_MASS_G_PER_MOL = {"ketamine": 237.72, "norketamine": 223.70, "hnk": 239.70,
                        "dhnk": 221.68}

_KE0_SOURCE = ("Olofsen E et al. Anesthesiology 2012;117(2):353-364: S-ketamine blood-effect-site "
               "equilibration half-life 0-11.8 min across endpoints, mean 6.1 min; ke0 = ln 2 / "
               "6.1 min")
_KE0_ASSUMED = ("assumption: no effect-site equilibration measured for this analyte; taken "
                "equal to S-ketamine's (Olofsen 2012, mean 6.1 min)")
_PLASMA = re.compile(r"^(?:(s|r)_)?([a-z0-9]+)_plasma_ng_ml$")
#: A plasma concentration output is named ``<analyte>`` + this (a user's model file too).
PLASMA_SUFFIX = "_plasma_ng_ml"


def plasma_analytes(model: Model) -> dict[str, tuple[str, str | None]]:
    """Each plasma analyte of ``model`` (e.g. ``ketamine``, ``s_norketamine``): its plasma
    concentration output (ng/mL) and its plasma AUC output since t = 0 (ng*h/mL; None if the
    model has none). The one place that reads the output names this module gives."""
    found = {}
    for name in model.output_names:
        if name.endswith(PLASMA_SUFFIX) and model.output_units[name] == "ng/mL":
            analyte = name.removesuffix(PLASMA_SUFFIX)
            auc = f"{analyte}_plasma_auc_ng_h_ml"
            found[analyte] = (name, auc if auc in model.output_units else None)
    return found


def _base(analyte: str) -> str:
    return analyte.removeprefix("s_").removeprefix("r_")


def finish(pk: Model) -> Model:
    """``pk`` composed with totals, molar units and effect sites for each plasma output."""
    tracked = [o.removesuffix(PLASMA_SUFFIX) for o in pk.output_names if _PLASMA.match(o)]
    totals: dict[str, list[str]] = {}
    for analyte in tracked:
        base = _base(analyte)
        if base != analyte and base not in tracked:
            totals.setdefault(base, []).append(analyte)
    species = [*tracked, *totals]
    bases = sorted({_base(a) for a in species})
    unknown = set(bases) - set(MOLAR_MASS_G_PER_MOL)
    if unknown:
        raise ValueError(f"no molar mass for {sorted(unknown)}")
    ports = tuple(f"{a}_cp" for a in tracked)
    plasma = {a: f"{a}_cp" for a in tracked} | {
        b: " + ".join(f"{a}_cp" for a in parts) for b, parts in totals.items()}
    outputs: dict[str, str] = {}
    units: dict[str, str] = {}

    def put(name: str, text: str, unit: str) -> None:
        outputs[name], units[name] = text, unit

    for b in totals:
        put(f"{b}_plasma_ng_ml", plasma[b], "ng/mL")
    for a in species:
        put(f"{a}_plasma_um", f"({plasma[a]}) / {MOLAR_MASS_G_PER_MOL[_base(a)]}", "uM")
    for a in tracked:
        put(f"{a}_brain_ng_ml", f"{a}_ce", "ng/mL")
    for b, parts in totals.items():
        put(f"{b}_brain_ng_ml", " + ".join(f"{a}_ce" for a in parts), "ng/mL")
    for a in species:
        brain = outputs[f"{a}_brain_ng_ml"]
        put(f"{a}_brain_um", f"({brain}) / {MOLAR_MASS_G_PER_MOL[_base(a)]}", "uM")
    for a in tracked:
        put(f"{a}_plasma_auc_ng_h_ml", f"{a}_auc", "ng*h/mL")
    for b, parts in totals.items():
        put(f"{b}_plasma_auc_ng_h_ml", " + ".join(f"{a}_auc" for a in parts), "ng*h/mL")
    parameters = tuple(
        Parameter(f"t12_ke0_{b}", 6.1, "min", _KE0_SOURCE if b == "ketamine" else _KE0_ASSUMED,
                  description=f"blood-effect-site equilibration half-life of {b}")
        for b in bases if any(_base(a) == b for a in tracked))
    sites = Model(
        name=f"{pk.name}_sites", title="effect sites",
        reference="Sheiner LB et al. Clin Pharmacol Ther 1979;25:358-371 (effect compartment)",
        states=tuple(State(f"{a}_ce", "ng/mL", description=f"{a} at the effect site")
                     for a in tracked) + tuple(
            State(f"{a}_auc", "ng*h/mL", description=f"{a} plasma AUC since t = 0")
            for a in tracked),
        parameters=parameters,
        odes={f"{a}_ce": f"log(2) / t12_ke0_{_base(a)} * ({a}_cp - {a}_ce)" for a in tracked}
        | {f"{a}_auc": f"{a}_cp" for a in tracked},
        outputs=outputs, output_units=units, ports=ports)
    links = {f"{a}_cp": f"{a}_plasma_ng_ml" for a in tracked}
    return compose(pk.name, pk, sites, links=links, title=pk.title)
