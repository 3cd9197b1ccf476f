"""The mechanism: brain concentration -> NMDA block -> cascade -> mood, composed onto a PK model.

:func:`with_mechanism` reads the PK model's effect-site outputs ``<species>_brain_um``: the S and
R enantiomers of ketamine and norketamine where the PK separates them, else total ketamine as the
racemate. Total norketamine, where present, is the proxy for HNK's optional NMDA-independent
action. docs/models/mechanism.md gives every equation and source.
"""

from __future__ import annotations

from ketasim.modeling.spec import Model, compose
from ketasim.models.mechanism.cascade import cascade
from ketasim.models.mechanism.mood import mood
from ketasim.models.mechanism.receptor import receptor
from ketasim.models.mechanism.safety import safety

_ENANTIOMERS = ("s_ketamine", "r_ketamine", "s_norketamine", "r_norketamine")


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
    """``pk`` composed with the receptor, cascade and mood layers: ``<pk.name>+mechanism``."""
    species = species_of(pk)
    hnk = "norketamine_brain_um" in pk.outputs
    links = {f"ce_{s}_um": f"{s}_brain_um" for s in species} | {
        "occ_int": "nmda_occupancy", "occ_pyr": "nmda_occupancy_pyramidal",
        "ampa_in": "ampa_drive", "monoamine_in": "monoamine_change",
        "synapse_in": "synapse_gain", "inflammation_in": "inflammation_change",
        "ce_ketamine_ng_ml": "ketamine_brain_ng_ml"}
    if hnk:
        links["nk_um"] = "norketamine_brain_um"
    return compose(f"{pk.name}+mechanism", pk, receptor(species), cascade(hnk), mood(),
                   safety(), links=links, title=f"{pk.title} + mechanism")
