"""The mechanism: brain concentration -> NMDA block -> cascade -> mood, composed onto a PK model.

:func:`with_mechanism` reads the PK model's effect-site outputs ``<species>_brain_um``: the S and
R enantiomers of ketamine and norketamine where the PK separates them, else total ketamine as the
racemate. Total norketamine, where present, is the proxy for HNK's optional NMDA-independent
action. docs/models/mechanism.md gives every equation and source.
"""

from __future__ import annotations

from ketasim.dosing import KETAMINE
from ketasim.modeling.spec import Model, compose
from ketasim.models.mechanism.antidepressant import antidepressant
from ketasim.models.mechanism.cascade import cascade
from ketasim.models.mechanism.expectancy import expectancy
from ketasim.models.mechanism.mood import mood
from ketasim.models.mechanism.receptor import receptor
from ketasim.models.mechanism.safety import safety

#: Suffix of a whole-chain model: a PK model with the mechanism layers composed onto it.
MECHANISM = "+mechanism"

_ENANTIOMERS = ("s_ketamine", "r_ketamine", "s_norketamine", "r_norketamine")
#: Midazolam as the active placebo: the routes it is given by (IV in the ketamine trials,
#: Murrough 2013; the others as in premedication practice).
MIDAZOLAM_ROUTES = ("iv_infusion", "iv_bolus", "im", "intranasal", "oral")


def species_of(pk: Model) -> tuple[str, ...]:
    """The NMDA-active species that ``pk`` provides at the effect site."""
    found = tuple(s for s in _ENANTIOMERS if f"{s}_brain_um" in pk.outputs)
    if any(s.endswith("_ketamine") for s in found):
        return found
    if "ketamine_brain_um" in pk.outputs:
        return ("ketamine", *found)
    raise ValueError(f"with_mechanism: model {pk.name} has no ketamine effect-site output "
                     "(<species>_brain_um)")


def with_mechanism(pk: Model) -> Model:
    """``pk`` composed with the receptor, cascade, mood, safety, expectancy and antidepressant
    layers: ``<pk.name>+mechanism``."""
    species = species_of(pk)
    hnk = "norketamine_brain_um" in pk.outputs
    links = {f"ce_{s}_um": f"{s}_brain_um" for s in species} | {
        "occ_int": "nmda_occupancy", "occ_pyr": "nmda_occupancy_pyramidal",
        "ampa_in": "ampa_drive", "monoamine_in": "monoamine_change",
        "synapse_in": "synapse_gain", "inflammation_in": "inflammation_change",
        "ce_ketamine_ng_ml": "ketamine_brain_ng_ml", "expectancy_in": "expectancy_effect",
        "antidepressant_in": "antidepressant_adaptation"}
    if hnk:
        links["nk_um"] = "norketamine_brain_um"
    felt = {s: pk.routes_for(s) for s in KETAMINE if pk.routes_for(s)}
    felt["midazolam"] = MIDAZOLAM_ROUTES
    return compose(f"{pk.name}{MECHANISM}", pk, receptor(species), cascade(hnk), mood(),
                   safety(), expectancy(felt), antidepressant(), links=links,
                   title=f"{pk.title} + mechanism")
