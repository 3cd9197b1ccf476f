"""NMDA receptor block by ketamine and norketamine: competitive, use-dependent, trapping.

Each active species i at the effect site (concentration C_i, uM, plasma-equivalent) occupies the
channel site with its published affinity K_i; species compete for one site, so the equilibrium
block is X / (1 + X) with X = sum_i C_i / K_i. Ketamine is a full trapping open-channel blocker:
it enters and leaves only while the channel is open, so block and unblock both run at a rate set
by how often channels open, and the blocker stays trapped after the drug has gone:

    d(block)/dt = k_unblock * (X * (1 - block) - block)        (per h; block 0-1)

Interneurons (tonically active, channels open more often at rest) are blocked at lower
concentrations than pyramidal cells: X_pyr = X_int / pyramidal_potency_ratio, and their channels
open less often (open_ratio_pyramidal), so pyramidal block is also slower.
"""

from __future__ import annotations

from ketasim.modeling.spec import Model, Parameter, State

_EBERT = ("Ebert et al. 1997 (abstract, https://medluna.com/article/9311667), Ki from [3H]MK-801 "
          "binding in rat brain homogenate, via pk_parameters.md C1")
_KAPUR = ("Kapur & Seeman 2002, Mol Psychiatry (abstract), racemic ketamine NMDA Ki, via "
          "pk_parameters.md C1")
#: Affinity (Ki, uM) and its source per species the PK layer may provide. Total "ketamine" is
#: used only by PK models that do not separate the enantiomers (then taken as racemic).
KI_UM = {"s_ketamine": (0.30, _EBERT), "r_ketamine": (1.4, _EBERT),
         "s_norketamine": (1.7, _EBERT), "r_norketamine": (13.0, _EBERT),
         "ketamine": (0.5, _KAPUR)}

_NO_RATES = ("pk_parameters.md C1: explicit kon/koff of ketamine NOT FOUND")
PARAMETERS = (
    Parameter("t12_untrap", 10.0, "min",
              f"assumption: {_NO_RATES}; chosen so that block equilibrates within ~10 min at "
              "antidepressant concentrations (rate k_unblock * (1 + X)) and trapped block "
              "outlasts the brain concentration by tens of minutes",
              description="half-life of trapped block in interneurons once the drug is gone "
                          "(calibrated later)"),
    Parameter("pyramidal_potency_ratio", 10.0, "1",
              "assumption: mechanism.md Step 1 (interneuron bias, Gerhard 2020 JCI; Homayoun & "
              "Moghaddam 2007 J Neurosci); the sermeor/SynapticPlasticityModelling template "
              "gives excitatory neurons 0.1x the NMDA dependency of inhibitory neurons",
              description="K_pyramidal / K_interneuron (calibrated later)"),
    Parameter("open_ratio_pyramidal", 0.3, "1",
              "assumption: pyramidal cells fire less at rest than fast-spiking interneurons "
              "(Homayoun & Moghaddam 2007, qualitative), so their channels open less often",
              description="channel opening frequency of pyramidal cells relative to "
                          "interneurons (calibrated later)"),
    Parameter("interneuron_nmda_knockdown", 0.0, "1",
              "switch: Gerhard DM et al. 2020 J Clin Invest 130:1336 (GluN2B knock-down on "
              "GABA interneurons abolishes the antidepressant effect)",
              description="1 removes the drug's target on interneurons (pyramidal-only block)"),
)


def receptor(species: tuple[str, ...]) -> Model:
    """The receptor layer for the ``species`` a PK model provides (keys of :data:`KI_UM`).

    Ports ``ce_<species>_um`` (uM at the effect site); outputs ``nmda_occupancy``
    (interneurons, 0-1) and ``nmda_occupancy_pyramidal`` (0-1).
    """
    if not species or set(species) - set(KI_UM):
        raise ValueError(f"receptor: species must be among {sorted(KI_UM)}, got {species}")
    ki = tuple(Parameter(f"ki_nmda_{s}", KI_UM[s][0], "umol/L", KI_UM[s][1],
                         description=f"NMDA receptor affinity of {s.replace('_', '-')}")
               for s in species)
    x = " + ".join(f"ce_{s}_um / ki_nmda_{s}" for s in species)
    return Model(
        name="nmda_receptor", title="NMDA receptor: competitive trapping block",
        reference="Ebert 1997; Gerhard 2020; Homayoun & Moghaddam 2007 (see docs/models/"
                  "mechanism.md)",
        states=(State("nmda_block_int", "1", description="blocked (trapped) fraction of "
                      "interneuron NMDA receptors"),
                State("nmda_block_pyr", "1", description="blocked (trapped) fraction of "
                      "pyramidal-cell NMDA receptors")),
        parameters=(*ki, *PARAMETERS),
        assignments=(("nmda_x_int", f"(1 - interneuron_nmda_knockdown) * ({x})"),
                     ("nmda_x_pyr", f"({x}) / pyramidal_potency_ratio"),
                     ("k_unblock", "log(2) / t12_untrap")),
        odes={"nmda_block_int":
              "k_unblock * (nmda_x_int * (1 - nmda_block_int) - nmda_block_int)",
              "nmda_block_pyr": "k_unblock * open_ratio_pyramidal * "
                                "(nmda_x_pyr * (1 - nmda_block_pyr) - nmda_block_pyr)"},
        outputs={"nmda_occupancy": "nmda_block_int",
                 "nmda_occupancy_pyramidal": "nmda_block_pyr"},
        output_units={"nmda_occupancy": "1", "nmda_occupancy_pyramidal": "1"},
        ports=tuple(f"ce_{s}_um" for s in species))
