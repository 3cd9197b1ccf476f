"""From NMDA block to synapses: disinhibition, glutamate surge, AMPA, BDNF, mTORC1, proteins,
spines; with chronic stress, inflammation and a secondary monoamine rise.

Levels are changes from the patient's pre-dose baseline (0 = baseline) unless named ``_rel``
(ratio to baseline, 1 = baseline); spine densities are fractions of a healthy density. Time in h.

- disinhibition D = O_int * (1 - O_pyr): block on interneurons disinhibits pyramidal cells,
  direct block of pyramidal cells cancels it at anaesthetic occupancy (the inverted U);
- glutamate G = 1 + E, its excess E over baseline the state (so that the error control of the
  solver sees the surge, not the baseline of 1): dE/dt = (glu_gain * max(D - glu_adapt * H, 0)
  + hnk - E) / tau_glu, with a slower homeostatic adaptation dH/dt = (D - H) / tau_glu_adapt
  that makes the surge transient;
- AMPA drive a = E * (1 - ampa_block);
- BDNF released B: dB/dt = (bdnf_val66met * a * (1 + eef2_gain * O_int) - B) / tau_bdnf
  (release needs AMPA activity; resting NMDA block de-represses BDNF translation via eEF2);
- TrkB -> mTORC1 M: dM/dt = ((1 - rapamycin) * (1 - bdnf_block) * B - M) / tau_mtor;
- synaptic proteins P: dP/dt = (M - P) / tau_protein;
- spines: chronic stress removes ``stress * stress_synapse_loss`` of the healthy density; new
  labile spines N form in that room, N decays or consolidates into the stable pool S, which
  chronic stress erodes again:
  dN/dt = k_spine * P * room / (1 + inflammation_blunting * I) - N / tau_spine_new
          - k_consolidate * N,
  dS/dt = k_consolidate * N - S / tau_spine_stable,  room = stress * stress_synapse_loss - N - S;
- inflammation I = inflammation * exp(R - L): one dose raises IL-6 for days (R), repeated doses
  lower it over weeks (L), both driven by interneuron occupancy as an exposure proxy;
- monoamine release Q: dQ/dt = (a - Q) / tau_mono (AMPA-dependent, Moghaddam 1997).
"""

from __future__ import annotations

from ketasim.modeling.spec import Model, Parameter, State

_LATER = "calibrated later"
_SWITCH = "switch (0 = off, 1 = full)"

PARAMETERS = (
    # glutamate surge
    Parameter("glu_gain", 1.5, "1",
              "assumption: chosen so that a 0.5 mg/kg / 40-min infusion raises glutamate by "
              "+13 to +38% (Abdallah 2018 Neuropsychopharmacology 43:2154, +13% cycling; Milak "
              "2016 Mol Psychiatry 21:320, +37.8% Glx)",
              description=f"glutamate rise per unit disinhibition ({_LATER})"),
    Parameter("tau_glu", 10.0, "min",
              "mechanism.md Step 2 proposal: surge rise tau 10-15 min (peak at ~26 min of a "
              "40-min infusion, Milak 2016)",
              description="glutamate time constant"),
    Parameter("tau_glu_adapt", 0.15, "h",
              "assumption: homeostatic re-inhibition makes the surge transient so that it peaks "
              "during the infusion (Milak 2016: ~26 min) and tracks brain drug down (mechanism.md "
              "Step 2: decay tau 0.5-1 h)",
              description=f"adaptation time constant ({_LATER})"),
    Parameter("glu_adapt", 0.9, "1",
              "assumption: as tau_glu_adapt; fraction of the disinhibition that adaptation "
              "cancels at steady state",
              description=f"adaptation strength, 0-1 ({_LATER})"),
    Parameter("benzodiazepine", 0.0, "1",
              f"{_SWITCH}: daily benzodiazepine above 8 mg diazepam-equivalent; higher doses "
              "attenuate ketamine's effect (Andrashko 2020, Front Psychiatry 11:844, n = 47; "
              "Feeney 2023, J Clin Psychiatry 84:22m14491, n = 99, at day 1)",
              description="concomitant benzodiazepine (GABA-A enhancement dampens the "
                          "disinhibition surge)"),
    Parameter("benzodiazepine_blunting", 0.5, "1",
              "assumption: the studies report an attenuated response without a magnitude "
              "usable here; halving the glutamate surge is a placeholder to calibrate",
              description="fraction of the glutamate surge removed by a benzodiazepine"),
    Parameter("ampa_block", 0.0, "1",
              f"{_SWITCH}: NBQX (Maeng 2008 Biol Psychiatry, PMID 17643398; Lepack 2015 IJNP "
              "18:pyu033)", description="AMPA receptor blockade"),
    # BDNF
    Parameter("tau_bdnf", 2.0, "h",
              "mechanism.md Step 4: BDNF/eEF2 changes within hours, absent at 8 h and 24 h "
              "(Autry 2011 Nature 475:91; Gideons 2014 PNAS, LOW CONFIDENCE mirror); lower end "
              "of the proposed 2-4 h", description="BDNF time constant"),
    Parameter("eef2_gain", 1.0, "1",
              "assumption: Autry 2011 (resting NMDA block -> eEF2 dephosphorylation -> BDNF "
              "translation; magnitude not captured): at full occupancy translation doubles the "
              "releasable BDNF", description=f"translation boost per unit occupancy ({_LATER})"),
    Parameter("bdnf_val66met", 1.0, "1",
              "Val/Val = 1. Met carriers respond less (Laje 2012 Biol Psychiatry 72:e27; Liu "
              "2012 Biol Psychiatry, Met/Met synaptogenesis markedly impaired); assumption for "
              "other genotypes: Val/Met 0.7, Met/Met 0.3 (no release fraction captured)",
              description="activity-dependent BDNF release relative to Val/Val"),
    Parameter("bdnf_block", 0.0, "1",
              f"{_SWITCH}: anti-BDNF antibody in mPFC blocks the 24-h effect (Lepack 2015)",
              description="scavenging of released BDNF"),
    # TrkB - mTORC1 - proteins
    Parameter("tau_mtor", 1.0, "h",
              "mechanism.md suggested structure 6: tau_M ~ 1 h (Li 2010 Science 329:959, rapid "
              "activation; minutes not digitised)", description="mTORC1 time constant"),
    Parameter("rapamycin", 0.0, "1",
              f"{_SWITCH}: rapamycin blocks synaptogenesis and the behavioural effect (Li 2010)",
              description="mTORC1 inhibition"),
    Parameter("tau_protein", 8.0, "h",
              "mechanism.md suggested structure 7: tau_P 6-24 h (proposal; Li 2010 proteins "
              "precede spines); lower part of the range so that severity is lowest near 24-36 h "
              "(Coyle & Laws 2015 Hum Psychopharmacol 30:152: peak at 24 h)",
              description=f"synaptic protein time constant ({_LATER})"),
    # spines
    Parameter("k_spine", 3.0, "1/h",
              "assumption: chosen so that a 0.5 mg/kg infusion regrows about half (here 60%) of "
              "the stress-lost spines at 24 h (Moda-Sava 2019 Science 364:eaat8078 via a "
              "non-scholarly summary, LOW CONFIDENCE)",
              description=f"spine formation per unit synaptic protein and room ({_LATER})"),
    Parameter("tau_spine_new", 10.0, "day",
              "Duman 2014 Dialogues Clin Neurosci 16:11, Fig. 2 legend: ketamine-induced "
              "synapses lost after ~10 days (mechanism.md proposes 7-14 d)",
              description="lifetime of new, labile spines"),
    Parameter("k_consolidate", 0.01, "1/day",
              "assumption: a fraction of new spines persists (Phoumthipphavong 2016 eNeuro 3:2, "
              "qualitative) so that repeated dosing builds a stable pool",
              description=f"consolidation rate of new spines into the stable pool ({_LATER})"),
    Parameter("tau_spine_stable", 21.0, "day",
              "assumption: chronic stress removes spines over 2-3 weeks (mechanism.md Step 7, "
              "PMC7029687); rescued stable spines are eroded again on that time scale",
              description=f"return of the stable pool to the stressed baseline ({_LATER})"),
    Parameter("stress", 1.0, "1",
              "assumption: 1 = chronically stressed / treatment-resistant patient (TRD "
              "default), 0 = healthy", description="chronic stress load, 0-1 (per patient)"),
    Parameter("stress_synapse_loss", 0.3, "1",
              "assumption: % synapse loss in stress / MDD not captured (mechanism.md Gaps; Kang "
              "2012 Nat Med 18:1413 reports lower dlPFC synapse number, % not captured)",
              description=f"fraction of healthy spine density lost at stress = 1 ({_LATER})"),
    # inflammation
    Parameter("inflammation", 0.3, "1",
              "assumption: 0 = no inflammation, 1 = low-grade inflammation (CRP > 3 mg/L, 27% "
              "of MDD, Osimo 2019 Psychol Med 49:1958); 0.3 as a population-average TRD "
              "patient", description="baseline inflammation index (per patient)"),
    Parameter("inflammation_blunting", 1.0, "1",
              "assumption: high inflammation weakens the antidepressant response (LGI "
              "reanalysis of 167 TRD patients, PMID 39706223 to verify); strength not captured",
              description=f"spine formation divided by 1 + this * inflammation ({_LATER})"),
    Parameter("k_il6_rise", 0.25, "1/h",
              "assumption: a single infusion raises IL-6 at 230 min, day 1 and day 3 (Park "
              "2017 J Psychiatr Res 84:113); size not captured, chosen for a ~+30% rise",
              description=f"IL-6 rise per unit occupancy ({_LATER})"),
    Parameter("tau_il6_rise", 1.0, "day",
              "assumption: Park 2017 (raised 230 min to 3 d after one dose)",
              description="decay of the acute IL-6 rise"),
    Parameter("k_il6_fall", 0.05, "1/h",
              "assumption: six infusions lower IL-6 at day 13 and 26 (Zhan 2020 Transl "
              "Psychiatry 10:246); chosen so that six doses net a fall and one dose a rise",
              description=f"cumulative IL-6 lowering per unit occupancy ({_LATER})"),
    Parameter("tau_il6_fall", 14.0, "day",
              "assumption: Zhan 2020 (lowered at d13 and d26 of a 2-week course)",
              description="persistence of the IL-6 lowering"),
    # monoamines
    Parameter("tau_mono", 1.0, "h",
              "assumption: PFC dopamine release follows the AMPA-dependent glutamate rise "
              "(Moghaddam 1997 J Neurosci 17:2921, blocked by CNQX); time course not captured",
              description="monoamine release time constant"),
)

#: HNK's proposed NMDA-independent action, only where the PK provides norketamine (the proxy).
HNK_PARAMETERS = (
    Parameter("hnk_nmda_independent", 0.0, "1",
              f"{_SWITCH}, off by default: (2R,6R)-HNK's proposed NMDA-independent AMPA "
              "activation via presynaptic glutamate release (Farmer 2020 intro, pk_parameters.md "
              "C2, qualitative); HNK is not in the PK, total norketamine (its precursor) stands "
              "in", description="HNK action, acting through norketamine as proxy"),
    Parameter("hnk_gain", 0.2, "1",
              "assumption: no HNK potency found (pk_parameters.md C2)",
              description=f"maximal glutamate rise from the HNK action ({_LATER})"),
    Parameter("hnk_ec50", 1.0, "umol/L",
              "assumption: no HNK potency found (pk_parameters.md C2)",
              description=f"norketamine concentration for half the HNK action ({_LATER})"),
)

_STATES = (
    State("glutamate_excess", "1", 0.0, "extracellular glutamate above baseline, fraction of "
          "baseline"),
    State("glu_adaptation", "1", description="homeostatic adaptation of the surge"),
    State("bdnf", "1", description="released BDNF above baseline"),
    State("mtorc1", "1", description="TrkB-mTORC1 activation above baseline"),
    State("synaptic_proteins", "1", description="synaptic proteins above baseline"),
    State("spines_new", "1", description="new labile spines, fraction of healthy density"),
    State("spines_stable_gain", "1",
          description="stable spines above the stressed baseline, fraction of healthy density"),
    State("il6_rise", "1", description="log-fold acute IL-6 rise"),
    State("il6_fall", "1", description="log-fold cumulative IL-6 lowering"),
    State("monoamines", "1", description="monoamine release above baseline"),
)


def cascade(hnk: bool) -> Model:
    """The cascade layer. Ports ``occ_int`` and ``occ_pyr`` (NMDA occupancy, 0-1), and with
    ``hnk`` also ``nk_um`` (total norketamine at the effect site, uM: the HNK proxy)."""
    hnk_term = " + hnk_nmda_independent * hnk_gain * hill(nk_um, hnk_ec50, 1)" if hnk else ""
    # every output is relative to baseline or a change of a relative level (unit 1)
    outputs = {
        "glutamate_rel": "1 + glutamate_excess",
        "ampa_drive": "ampa",
        "bdnf_rel": "1 + trkb",
        "mtorc1_rel": "1 + mtorc1",
        "synaptic_proteins_rel": "1 + synaptic_proteins",
        "spine_density_rel": "1 - stress * stress_synapse_loss + spines_new + "
                             "spines_stable_gain",
        "new_spines_rel": "spines_new",
        "synapse_gain": "spines_new + spines_stable_gain",
        "inflammation_index": "inflammation_now",
        "inflammation_change": "inflammation_now - inflammation",
        "monoamine_rel": "1 + monoamines",
        "monoamine_change": "monoamines"}
    return Model(
        name="cascade", title="glutamate-BDNF-mTORC1-synapse cascade",
        reference="mechanism.md Steps 2-8 and 10 (see docs/models/mechanism.md)",
        states=_STATES, parameters=PARAMETERS + (HNK_PARAMETERS if hnk else ()),
        assignments=(
            ("disinhibition", "occ_int * (1 - occ_pyr)"),
            ("ampa", "glutamate_excess * (1 - ampa_block)"),
            ("trkb", "(1 - bdnf_block) * bdnf"),
            ("inflammation_now", "inflammation * exp(il6_rise - il6_fall)"),
            ("spine_room", "stress * stress_synapse_loss - spines_new - spines_stable_gain")),
        odes={
            "glutamate_excess": "(glu_gain * (1 - benzodiazepine_blunting * benzodiazepine) * "
                                "max(disinhibition - glu_adapt * glu_adaptation, 0)"
                                f"{hnk_term} - glutamate_excess) / tau_glu",
            "glu_adaptation": "(disinhibition - glu_adaptation) / tau_glu_adapt",
            "bdnf": "(bdnf_val66met * ampa * (1 + eef2_gain * occ_int) - bdnf) / tau_bdnf",
            "mtorc1": "((1 - rapamycin) * trkb - mtorc1) / tau_mtor",
            "synaptic_proteins": "(mtorc1 - synaptic_proteins) / tau_protein",
            "spines_new": "k_spine * synaptic_proteins * spine_room / "
                          "(1 + inflammation_blunting * inflammation_now)"
                          " - spines_new / tau_spine_new - k_consolidate * spines_new",
            "spines_stable_gain": "k_consolidate * spines_new - spines_stable_gain / "
                                  "tau_spine_stable",
            "il6_rise": "k_il6_rise * occ_int - il6_rise / tau_il6_rise",
            "il6_fall": "k_il6_fall * occ_int - il6_fall / tau_il6_fall",
            "monoamines": "(ampa - monoamines) / tau_mono"},
        outputs=outputs,
        output_units=dict.fromkeys(outputs, "1"),
        ports=("occ_int", "occ_pyr", *(("nk_um",) if hnk else ())))
