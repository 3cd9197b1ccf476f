"""Cohorts: covariate distributions and clinical attributes of patient groups, each number
with its source (a citation, or "assumption" with a reason)."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy.special import ndtri


@dataclass(frozen=True)
class Clinical:
    """Clinical attributes of a cohort, with their sources: shares (0-1) with bipolar (rather
    than unipolar) disorder, a comorbid anxiety disorder, a history of psychosis and a substance
    use disorder; C-reactive protein (mg/L), log-normal (``crp_median_mg_l``, ``crp_log_sd``);
    ``hypertension_scale`` multiplies the general population's share with uncontrolled
    hypertension at each age (:data:`UNCONTROLLED_HYPERTENSION`)."""

    p_bipolar: float
    p_anxiety: float
    p_psychosis: float
    p_substance_use: float
    crp_median_mg_l: float
    crp_log_sd: float
    source: str
    hypertension_scale: float = 1.0


def _crp(above_1: float, above_3: float) -> tuple[float, float]:
    """Median (mg/L) and log-SD of the log-normal CRP with shares ``above_1`` above 1 mg/L and
    ``above_3`` above 3 mg/L."""
    z1, z3 = ndtri(1.0 - above_1), ndtri(1.0 - above_3)
    log_sd = float(np.log(3.0) / (z3 - z1))
    return float(np.exp(-z1 * log_sd)), log_sd


def _without(p: float, odds_ratio: float) -> float:
    """The share whose odds are those of ``p`` divided by ``odds_ratio``."""
    odds = p / (1.0 - p) / odds_ratio
    return odds / (1.0 + odds)


#: CRP of depressed patients: 58% above 1 mg/L and 27% above 3 mg/L, unrelated to sample source,
#: antidepressant treatment or age (meta-analysis of 37 studies, 13,541 patients; Osimo EF et
#: al. 2019 Psychol Med 49:1958, PMID 31258105): median 1.31 mg/L, log-SD 1.35.
CRP_DEPRESSED = _crp(0.58, 0.27)
#: CRP of matched controls: the same meta-analysis's odds ratios for depression, 1.47 (> 1 mg/L)
#: and 1.46 (> 3 mg/L), give 48% and 20% above: median 0.95 mg/L, log-SD 1.38 (derived).
CRP_CONTROL = _crp(_without(0.58, 1.47), _without(0.27, 1.46))
_OSIMO = "CRP: Osimo 2019 meta-analysis (CRP_DEPRESSED)"

#: Uncontrolled hypertension (blood pressure >= 140/90 mmHg, treated or not) by age: lower age
#: bound (y) and share. Adults: hypertension in 7.5% (18-39 y), 33.2% (40-59 y) and 63.1%
#: (>= 60 y), controlled in 48.3% of them (NHANES 2015-2016, Fryar CD et al. 2017 NCHS Data
#: Brief 289), so uncontrolled in 51.7% of each band (assumption: control does not depend on age;
#: it rose with age in men only). Under 18: 3.5% of children and adolescents have hypertension
#: (Flynn JT et al. 2017 Pediatrics 140:e20171904, as recalled, not verified in the sources
#: read), all counted as uncontrolled (assumption: rarely treated).
UNCONTROLLED_HYPERTENSION = ((0.0, 0.035), (18.0, 0.075 * 0.517), (40.0, 0.332 * 0.517),
                             (60.0, 0.631 * 0.517))
#: Odds ratio of a substance use disorder in bipolar against unipolar depression: 3.5, between
#: the ratios of the ECA odds ratios against the general population, bipolar over major
#: depression, for alcohol (5.6 / 1.3 = 4.3) and drug use disorders (11.1 / 3.8 = 2.9) (Regier
#: DA et al. 1990 JAMA 264:2511, as summarised in a textbook chapter read; derived).
SUBSTANCE_USE_OR_BIPOLAR = 3.5

#: What the trd cohort means: the esketamine trials' definition (e.g. TRANSFORM-3, Ochs-Ross R et
#: al. 2020 Am J Geriatr Psychiatry 28:121), also the GSRD's (Kautzky A et al. 2019 Acta
#: Psychiatr Scand 139:78, with MADRS >= 22).
TRD_DEFINITION = ("treatment-resistant depression: at least two failed adequate antidepressant "
                  "trials in the current episode")
_TRD_CLINICAL = Clinical(
    p_bipolar=14 / 49, p_anxiety=0.212, p_psychosis=0.109, p_substance_use=0.28,
    crp_median_mg_l=CRP_DEPRESSED[0], crp_log_sd=CRP_DEPRESSED[1],
    source="bipolar 14 of 49 TRD inpatients given IV ketamine (Szarmach J et al. 2020 "
    "Neuropsychiatr Dis Treat 16:2539; a small sample); comorbid anxiety disorder 21.2% of 1346 "
    "MDD patients of the GSRD, a European multicentre study of treatment resistance (Dold M et "
    "al. 2017 J Psychiatr Res 91:1); psychotic features 10.92% of 1410 GSRD MDD patients (Dold M "
    "et al. 2019 J Clin Psychiatry 80:17m12090); substance use disorder symptoms 28% (419 of "
    "1484) of STAR*D outpatients with MDD (Davis LL et al. 2005 Compr Psychiatry 46:81; "
    "assumption: TRD as MDD outpatients, a self-report screen); " + _OSIMO)
#: Clinical attributes of the indication cohorts: as trd (assumption: no source read for these
#: patients) except where a cohort says otherwise.
_CLINICAL_AS_TRD = "clinical attributes as trd (assumption: not in the sources read)"


@dataclass(frozen=True)
class Cohort:
    """Covariate distributions of a patient group, each with its source.

    Weight (kg) is log-normal (median, CV), the median by age and sex where ``weight_by_age``
    gives (age y, boys' median kg, girls' median kg) rows (interpolated); age (years) is normal,
    truncated to its range; sex, Asian and Japanese ancestry are Bernoulli (``p_japanese`` is a
    share of the Asian); ``clinical`` gives the clinical attributes.
    """

    weight_median_kg: float
    weight_cv: float
    age_mean_y: float
    age_sd_y: float
    age_range_y: tuple[float, float]
    p_female: float
    source: str
    p_asian: float = 0.0
    p_japanese: float = 0.0
    clinical: Clinical = _TRD_CLINICAL
    weight_by_age: tuple[tuple[float, float, float], ...] = ()


_PEREZ_RUIXO = ("Perez-Ruixo et al. 2021, Clin Pharmacokinet 60:501 (820 subjects, 564 with "
                "TRD: median weight 74 kg, range 39-170; median age 45 y, range 18-86; 58.4% "
                "female)")

_TRD = Cohort(
    weight_median_kg=74.0, weight_cv=0.22, age_mean_y=45.0, age_sd_y=12.0,
    age_range_y=(18.0, 86.0), p_female=0.584,
    source=TRD_DEFINITION + "; " + _PEREZ_RUIXO + "; spreads (weight CV 22%, age SD 12 y) are "
    "assumptions chosen to match the reported ranges; covariates drawn independently "
    "(assumption); no Asian ancestry (assumption: a Western trial population)")
#: Weight and ancestry of the indication cohorts: as trd (assumption: not in the sources read).
_AS_TRD = "; weight and ancestry as trd (assumption: not reported in the sources read)"
#: Median weight (kg) at ages 12-18 y, boys and girls: the CDC 2000 growth charts' weight-for-age
#: M at 144.5, 156.5, ..., 216.5 months (Kuczmarski RJ et al. 2002 Vital Health Stat 11(246);
#: wtage.csv); their S (coefficient of variation) is 0.16-0.20 at these ages.
_CDC_WEIGHT = ((12.0, 40.67, 41.83), (13.0, 45.81, 45.98), (14.0, 51.23, 49.49),
               (15.0, 56.49, 52.14), (16.0, 61.10, 53.95), (17.0, 64.70, 55.18),
               (18.0, 67.29, 56.23))


def _indication(p_anxiety: float | None = None, source: str = "") -> Clinical:
    """trd's clinical attributes for an indication cohort, with its own share with a comorbid
    anxiety disorder (``p_anxiety``, from ``source``) if given."""
    if p_anxiety is None:
        return replace(_TRD_CLINICAL, source=_CLINICAL_AS_TRD)
    return replace(_TRD_CLINICAL, p_anxiety=p_anxiety,
                   source=f"{source}; otherwise {_CLINICAL_AS_TRD}")


#: Cohorts of people without a disorder to treat: a scenario in them runs PK only by default.
HEALTHY_COHORTS = ("healthy",)
COHORTS: dict[str, Cohort] = {
    "trd": _TRD,
    "healthy": Cohort(
        weight_median_kg=74.0, weight_cv=0.18, age_mean_y=30.0, age_sd_y=8.0,
        age_range_y=(18.0, 55.0), p_female=0.5,
        source="assumption: typical phase-I volunteer panel; weight from " + _PEREZ_RUIXO,
        clinical=Clinical(
            p_bipolar=0.0, p_anxiety=0.0, p_psychosis=0.0, p_substance_use=0.0,
            crp_median_mg_l=CRP_CONTROL[0], crp_log_sd=CRP_CONTROL[1], hypertension_scale=0.0,
            source="no psychiatric disorder, substance use disorder or uncontrolled "
            "hypertension (assumption: volunteers are screened for them); CRP of the matched "
            "controls of Osimo 2019 (CRP_CONTROL)")),
    "ptsd": replace(
        _TRD, age_mean_y=38.9, age_sd_y=13.2, age_range_y=(18.0, 70.0), p_female=23 / 30,
        source="age 38.9 y (SD 13.2), 23 of 30 female: chronic-PTSD ketamine trial "
        "feder2021_ptsd (NCT02397889 results); age 18-70: inclusion of abdallah2022_ptsd "
        "(NCT02655692), whose veterans and service members were mostly men (share not in the "
        "sources read)" + _AS_TRD, clinical=_indication()),
    "social_anxiety": replace(
        _TRD, age_mean_y=30.0, age_sd_y=10.0, age_range_y=(18.0, 65.0), p_female=0.5,
        source="age 18-65: inclusion of taylor2018_sad (NCT02083926); mean age 30 y (SD 10) "
        "and 50% female: assumption: its demographics are not in the shared data nor the "
        "sources found" + _AS_TRD,
        clinical=_indication(p_anxiety=1.0,
                             source="anxiety disorder: all (social anxiety disorder is one)")),
    "anxiety": replace(
        _TRD, age_mean_y=35.7, age_sd_y=11.0, age_range_y=(18.0, 65.0), p_female=0.563,
        source="mean age 35.7 y, 56.3% female: 144 GAD trial patients (Matza LS et al. 2010 "
        "Int J Methods Psychiatr Res 19:223, PMC6878292); age SD 11 y and range 18-65: "
        "assumption; glue2017_anxiety's demographics are not in the shared data"
        + _AS_TRD,
        clinical=_indication(p_anxiety=1.0,
                             source="anxiety disorder: all (generalized anxiety disorder is "
                             "one)")),
    "ocd": replace(
        _TRD, age_mean_y=41.7, age_sd_y=13.5, age_range_y=(18.0, 65.0), p_female=0.4,
        source="age 41.7 y (SD 13.5), all 18-65, 4 of 10 female: bloch2012_ocd (NCT01349231 "
        "results)" + _AS_TRD,
        clinical=_indication(p_anxiety=0.758,
                             source="anxiety disorder 75.8%: lifetime, in respondents with "
                             "lifetime OCD of the NCS-R (Ruscio AM et al. 2010 Mol Psychiatry "
                             "15:53; as recalled, not verified in the abstract read)")),
    "suicidal_ideation": replace(
        _TRD, age_mean_y=39.6, age_sd_y=13.2, age_range_y=(18.0, 65.0), p_female=0.6,
        source="age 39.6 y (SD 13.2) and 60% female: grunebaum2018's arms pooled (ketamine "
        "38.4, SD 13.2, 55% female; midazolam 40.7, SD 13.1, 65%; n 40 each; Cochrane 2021 "
        "characteristics table, PMC8434915); age 18-65: assumption: adult trial range"
        + _AS_TRD, clinical=_indication()),

    "adolescent": replace(
        _TRD, weight_cv=0.18, age_mean_y=15.0, age_sd_y=2.0, age_range_y=(12.0, 18.0),
        p_female=2 / 3, weight_by_age=_CDC_WEIGHT,
        source="depressed adolescents, 12 to 17 y (up to the 18th birthday): age normal(15, 2) "
        "truncated to 12-18 y and 2 girls to 1 boy: assumption (depression is about twice as "
        "common in adolescent girls); weight: CDC 2000 medians by age and sex (_CDC_WEIGHT), CV "
        "18% (their S, 0.16-0.20); no Asian ancestry (assumption)",
        clinical=replace(
            _TRD_CLINICAL, p_bipolar=0.05, p_anxiety=0.55, p_psychosis=0.053,
            p_substance_use=0.10,
            source="comorbid anxiety 55%: within 47-59% by race/ethnicity of 12-17 year olds "
            "with depression (National Survey of Children's Health 2011-2012; Weller BE et al. "
            "2018 J Adolesc Health 62:716); psychotic features 5.3% of 1112 adult MDD "
            "outpatients (Gaudiano BA et al. 2009 Depress Anxiety 26:54, PMC2601715; assumption: "
            "as adults); bipolar 5% and substance use disorder 10%: assumption (bipolar onset "
            "and substance use disorders are rarer before 18 than in adult TRD); " + _OSIMO
            + " (adults; assumption: as adolescents)")),
    "elderly": replace(
        _TRD, age_mean_y=70.0, age_sd_y=4.5, age_range_y=(65.0, 90.0), p_female=85 / 137,
        source="TRANSFORM-3, esketamine in TRD at >= 65 y (Ochs-Ross 2020): age >= 65 "
        "(inclusion), 85 of 137 female (Table 4 of PMC8921149); age normal(70, 4.5) truncated "
        "to 65-90 y: assumption (its age distribution is not in the sources read; it analysed "
        "65-74 against >= 75 y)" + _AS_TRD,
        clinical=replace(_TRD_CLINICAL, source=_CLINICAL_AS_TRD + "; uncontrolled hypertension "
                         "from age (UNCONTROLLED_HYPERTENSION)")),
}

#: The clinical 0/1 attributes, in the order of their draws (bipolar: 1 bipolar, 0 unipolar;
#: anxiety: a comorbid anxiety disorder; psychosis: a history of psychosis; substance_use: a
#: substance use disorder; hypertension: uncontrolled hypertension); a screening may exclude
#: any of them. ``crp_mg_l`` (C-reactive protein, mg/L) is drawn after them.
ATTRIBUTES = ("bipolar", "anxiety", "psychosis", "substance_use", "hypertension")
#: Every covariate with the range a user may fix it to: weight (kg), age (years), and 0/1
#: flags for sex, ancestry (Japanese implies Asian) and co-medication with a CYP3A inhibitor
#: (e.g. clarithromycin), a CYP3A inducer (e.g. rifampicin) or a CYP2B6 inhibitor
#: (e.g. ticlopidine); the clinical attributes (0/1) and CRP (mg/L; up to 500, assumption: a
#: plausibility bound above severe infection). Cohorts give nobody co-medication; a user fixes it.
COVARIATE_RANGES = {"weight_kg": (1.0, 400.0), "age_y": (0.0, 120.0), "female": (0.0, 1.0),
                    "asian": (0.0, 1.0), "japanese": (0.0, 1.0), "cyp3a_inhibitor": (0.0, 1.0),
                    "cyp3a_inducer": (0.0, 1.0), "cyp2b6_inhibitor": (0.0, 1.0),
                    **dict.fromkeys(ATTRIBUTES, (0.0, 1.0)), "crp_mg_l": (0.0, 500.0)}
FLAGS = ("female", "asian", "japanese", "cyp3a_inhibitor", "cyp3a_inducer", "cyp2b6_inhibitor",
         *ATTRIBUTES)


def unipolar_share(total: float, p_bipolar: float, odds_ratio: float) -> float:
    """Share with a condition among the unipolar such that the cohort's share is ``total`` when
    the bipolar (share ``p_bipolar``) have ``odds_ratio`` times the odds (a quadratic's root)."""
    a = (1.0 - p_bipolar) * (odds_ratio - 1.0)
    b = p_bipolar * odds_ratio + 1.0 - p_bipolar - total * (odds_ratio - 1.0)
    if a == 0.0:
        return total / b
    return float((-b + np.sqrt(b * b + 4.0 * a * total)) / (2.0 * a))
