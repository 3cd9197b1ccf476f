"""Non-compartmental analysis (NCA) of concentration-time profiles (time in h, conc in ng/mL).

Methods: Gabrielsson & Weiner, Pharmacokinetic and Pharmacodynamic Data Analysis, 5th ed., ch. 2.
* AUC: linear-up / log-down trapezoidal rule (linear where concentrations rise or touch zero,
  logarithmic where they fall; exact for a mono-exponential decline). AUCs start at the first
  sample: there is no back-extrapolation to the dose, so include a time-0 sample.
* lambda_z: least-squares line through ln(conc) of the last n >= 3 positive samples after Cmax,
  n chosen by the "best fit" rule of Phoenix WinNonlin (6.4 User's Guide, lambda_z
  estimation): the largest adjusted R², fits within 1e-4 of it counting as equal and the one
  with more points winning. Not estimable with fewer than 3 such samples or a slope >= 0.
* AUC0-inf = AUC0-tlast + Clast / lambda_z, Clast being the last positive concentration.
"""

import csv
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ketasim.errors import KetasimError

#: Fits whose adjusted R² is within this of the best count as equally good (WinNonlin).
R2_TOLERANCE = 1e-4
#: ``exposures`` leaves out simulated concentrations <= this fraction of the subject's Cmax:
#: solver round-off, not kinetics (noise is near 1e-11 ng/mL at the engine's default tolerances).
SIM_FLOOR = 1e-6
#: Above this share AUC0-inf is flagged: AUC0-t should cover at least 80% of it (EMA Guideline
#: on the investigation of bioequivalence, CPMP/EWP/QWP/1401/98 Rev. 1, 2010).
MAX_EXTRAP_PCT = 20.0
#: NCA table columns after ID (and ANALYTE); ``note`` says why a value is missing or doubtful.
COLUMNS = ("cmax_ng_ml", "tmax_h", "tlast_h", "clast_ng_ml", "auc_0_t_ng_h_ml",
           "lambda_z_per_h", "half_life_h", "auc_0_inf_ng_h_ml", "auc_extrap_pct", "r2_adj",
           "n_lambda_z", "note")


def cmax_tmax(conc: np.ndarray, time_h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Peak concentration and its (first) time along the last axis."""
    i = np.argmax(conc, axis=-1)
    return np.take_along_axis(conc, i[..., None], axis=-1)[..., 0], time_h[i]


def _areas(conc: np.ndarray, time_h: np.ndarray) -> np.ndarray:
    """Area of every sampling interval (conc x h), linear-up / log-down."""
    c1, c2 = conc[..., :-1], conc[..., 1:]
    dt = np.diff(time_h)
    falling = (c2 < c1) & (c2 > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_part = (c1 - c2) / np.log1p((c1 - c2) / c2) * dt  # log1p: accurate as c2 -> c1
    return np.where(falling, log_part, (c1 + c2) / 2 * dt)


def auc(conc: np.ndarray, time_h: np.ndarray) -> np.ndarray:
    """AUC from the first to the last time (concentration x h), linear-up / log-down."""
    return _areas(conc, time_h).sum(axis=-1)


def _clast(conc, time_h, floor, areas):
    """Clast (ng/mL), tlast (h) of the last sample > floor (NaN if none); AUC0-tlast of areas."""
    above = conc > np.asarray(floor)[..., None]
    i, found = time_h.size - 1 - np.argmax(above[..., ::-1], axis=-1), above.any(axis=-1)
    areas = np.where(np.arange(time_h.size - 1) < i[..., None], areas, 0.0)
    clast = np.take_along_axis(conc, i[..., None], axis=-1)[..., 0]
    return np.where(found, clast, np.nan), np.where(found, time_h[i], np.nan), areas.sum(-1)


def _terminal(conc, time_h, floor):
    """lambda_z (1/h), adjusted R², points used (NaN, NaN, 0 if not estimable) and candidate
    points, along the last axis; samples <= floor are left out."""
    k = np.arange(time_h.size)
    use = (k > np.argmax(conc, axis=-1)[..., None]) & (conc > np.asarray(floor)[..., None])
    cols = np.flatnonzero(use.reshape(-1, k.size).any(axis=0))  # work on the used span only
    span = slice(cols[0], cols[-1] + 1) if cols.size else slice(0, 1)
    use, conc, time_h = use[..., span], conc[..., span], time_h[span]
    last = time_h.size - 1 - np.argmax(use[..., ::-1], axis=-1)[..., None]
    clast = np.take_along_axis(conc, last, axis=-1)
    x = np.where(use, time_h - time_h[-1], 0.0)  # centred on the end: a flat tail has slope 0
    with np.errstate(divide="ignore", invalid="ignore"):
        y = np.where(use, np.log(np.where(use, conc / clast, 1.0)), 0.0)

    def tail(a):  # sums over the samples from each start index to the end
        return np.cumsum(a[..., ::-1], axis=-1)[..., ::-1]

    n, sx, sy = tail(use), tail(x), tail(y)
    with np.errstate(divide="ignore", invalid="ignore"):
        sxx, sxy = tail(x * x) - sx * sx / n, tail(x * y) - sx * sy / n
        syy = tail(y * y) - sy * sy / n
        r2 = np.where(syy > 0, 1 - np.maximum(syy - sxy * sxy / sxx, 0) / syy, 1.0)
        adj = np.where(use & (n >= 3), 1 - (1 - r2) * (n - 1) / (n - 2), -np.inf)
        slope = sxy / sxx
    good = use & (n >= 3) & (adj >= adj.max(axis=-1, keepdims=True) - R2_TOLERANCE)
    start = np.argmax(good, axis=-1)[..., None]  # the first start has the most points
    slope, adj, used = (np.take_along_axis(a, start, -1)[..., 0] for a in (slope, adj, n))
    ok = (n[..., 0] >= 3) & (slope < 0)
    return np.where(ok, -slope, np.nan), np.where(ok, adj, np.nan), np.where(ok, used, 0), n[..., 0]


def _profile(conc, time_h) -> tuple[np.ndarray, np.ndarray]:
    """``conc`` (ng/mL) and ``time_h`` (h) as float arrays, checked for one or more profiles."""
    c, t = np.asarray(conc, dtype=float), np.asarray(time_h, dtype=float)
    if t.ndim != 1 or t.size < 2 or not np.isfinite(t).all() or (np.diff(t) <= 0).any():
        raise KetasimError("time_h: need >= 2 finite, strictly increasing times in h")
    if c.ndim < 1 or c.shape[-1] != t.size or not np.isfinite(c).all() or (c < 0).any():
        raise KetasimError(f"conc: need a finite value >= 0 ng/mL per time ({t.size} times)")
    return c, t


@dataclass(frozen=True)
class TerminalPhase:
    """Terminal phase of one profile; NaN, 0 points and a ``reason`` if not estimable, else ""."""

    lambda_z_per_h: float
    half_life_h: float
    n_points: int
    r2_adj: float
    reason: str


def terminal_phase(conc, time_h) -> TerminalPhase:
    """Terminal log-linear phase of one profile (WinNonlin best fit; see the module notes)."""
    c, t = _profile(conc, time_h)
    if c.ndim != 1:
        raise KetasimError("conc: expected one profile (a 1-D array)")
    lam, adj, n, candidates = (v.item() for v in _terminal(c, t, 0.0))
    why = "terminal slope is not negative" if candidates >= 3 else \
        f"{candidates} positive samples after Cmax, need 3"
    return TerminalPhase(lam, float(np.log(2) / lam), n, adj,
                         "" if n else f"lambda_z not estimable: {why}")


def auc_inf(conc, time_h, lambda_z_per_h) -> tuple[np.ndarray, np.ndarray]:
    """AUC0-inf = AUC0-tlast + Clast/lambda_z (ng*h/mL) and its extrapolated part (%), along
    the last axis; NaN where lambda_z (1/h) is NaN."""
    c, t = _profile(conc, time_h)
    clast, _, auc_t = _clast(c, t, 0.0, _areas(c, t))
    lam = np.asarray(lambda_z_per_h, dtype=float)
    if ((lam <= 0) | (lam == np.inf)).any():
        raise KetasimError("lambda_z_per_h: must be > 0 and finite (or NaN: not estimable)")
    return auc_t + clast / lam, 100 * (clast / lam) / (auc_t + clast / lam)


def exposures(data, analytes: Mapping[str, tuple[str, str | None]]
              ) -> dict[str, dict[str, np.ndarray]]:
    """Per subject, for every plasma analyte of a simulated Dataset (``analytes``: name ->
    its concentration output, ng/mL, and plasma AUC output, ng*h/mL, or None; see
    ``models.pk.analytes.plasma_analytes``): Cmax (ng/mL), Tmax (h), AUC over the output window
    and from its start to infinity (ng*h/mL), terminal half-life (h); the last two NaN where
    not estimable (see :data:`SIM_FLOOR`)."""
    time, found = data["time"].to_numpy(), {}
    for analyte, (name, cumulative) in analytes.items():
        conc = data[name].to_numpy()
        (cmax, tmax), areas = cmax_tmax(conc, time), _areas(conc, time)
        floor = SIM_FLOOR * np.maximum(cmax, 0)
        lam, (clast, _, auc_t) = _terminal(conc, time, floor)[0], _clast(conc, time, floor,
                                                                          areas)
        auc_window, auc_inf = areas.sum(axis=-1), auc_t + clast / lam
        if cumulative is not None:  # integrated with the states: exact on any output grid
            cum = data[cumulative].to_numpy()
            auc_window = cum[..., -1] - cum[..., 0]
            auc_inf = auc_window + np.maximum(conc[..., -1], 0) / lam
        found[analyte] = {
            "cmax_ng_ml": cmax, "tmax_h": tmax, "auc_ng_h_ml": auc_window,
            "half_life_h": np.log(2) / lam, "auc_inf_ng_h_ml": auc_inf}
    return found


class Exposure:
    """Collects :func:`exposures` of ``analytes`` chunk by chunk: one value per subject."""

    def __init__(self, analytes: Mapping[str, tuple[str, str | None]]) -> None:
        self.analytes = analytes
        self.parts: list[dict[str, dict[str, np.ndarray]]] = []

    def add(self, chunk) -> None:
        self.parts.append(exposures(chunk, self.analytes))

    def result(self) -> dict[str, dict[str, np.ndarray]]:
        first = self.parts[0]
        return {a: {m: np.concatenate([p[a][m] for p in self.parts]) for m in first[a]}
                for a in first}


def _row(mask: pd.Series):
    """Label of the first row where ``mask`` holds, or None."""
    return mask.idxmax() if mask.any() else None


def _checked(frame, source: str, rows=None) -> pd.DataFrame:
    """The table as ID (str), optional ANALYTE (str), TIME (h) and CONC (ng/mL), validated;
    errors name ``source`` and the row (``rows``: row labels, default 1-based positions)."""
    if not isinstance(frame, pd.DataFrame):
        raise KetasimError(f"{source}: expected a pandas DataFrame, not {type(frame).__name__}")
    folded = [str(c).strip().upper() for c in frame.columns]
    keep = [c for c in ("ID", "ANALYTE", "TIME", "CONC") if c in folded]
    if twice := [c for c in keep if folded.count(c) > 1]:
        raise KetasimError(f"{source}: column {twice[0]} appears twice (case-insensitive)")
    if missing := [c for c in ("ID", "TIME", "CONC") if c not in keep]:
        raise KetasimError(f"{source}: missing column(s) {', '.join(missing)} (found: "
                           f"{', '.join(map(str, frame.columns)) or 'none'})")
    if frame.empty:
        raise KetasimError(f"{source}: no data rows")
    data = frame.iloc[:, [folded.index(c) for c in keep]].set_axis(keep, axis=1).copy()
    data.index = range(1, len(data) + 1) if rows is None else rows
    for col in keep:
        data[col] = text = data[col].astype(str).str.strip().where(data[col].notna(), "")
        if (r := _row(text.eq(""))) is not None:
            raise KetasimError(f"{source}: row {r}: {col} is blank" + (
                "; blank (BLQ) is not supported: enter 0 or drop the row" if col == "CONC" else ""))
        if col in ("TIME", "CONC"):
            data[col] = value = pd.to_numeric(text, errors="coerce").astype(float)
            if (r := _row(~np.isfinite(value))) is not None:
                raise KetasimError(f"{source}: row {r}: {col} must be a finite number "
                                   f"({'h' if col == 'TIME' else 'ng/mL'}), got {text[r][:40]!r}")
            if (r := _row(value < 0)) is not None:
                raise KetasimError(f"{source}: row {r}: {col} must be >= 0, got {value[r]:g}")
    keys = [c for c in ("ID", "ANALYTE") if c in keep]
    if (r := _row(data.duplicated([*keys, "TIME"]))) is not None:
        raise KetasimError(f"{source}: row {r}: repeats the {'/'.join(keys)} and TIME "
                           f"({data.at[r, 'TIME']:g} h) of an earlier row")
    if (r := _row(data.groupby(keys)["TIME"].transform("size") < 2)) is not None:
        raise KetasimError(f"{source}: row {r}: the only sample of {'/'.join(keys)} "
                           f"{'/'.join(data.loc[r, keys])}; NCA needs at least 2")
    return data


def read_concentrations(path) -> pd.DataFrame:
    """Read and validate a concentration CSV: columns ID, TIME (h), CONC (ng/mL) and optional
    ANALYTE, names case-insensitive, other columns ignored. Blank CONC (e.g. BLQ) is refused.
    Rows in errors count from 1 after the header."""
    path = Path(path)
    if not path.is_file() or path.suffix.lower() != ".csv":
        raise KetasimError(f"{path}: " + ("no such file" if not path.exists() else
                                          "not a .csv file"))
    records, rows = [], []
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            header = next(reader, [])
            for record in reader:
                if not any(cell.strip() for cell in record):
                    continue
                if len(record) != len(header):
                    raise KetasimError(f"{path}: row {reader.line_num - 1}: {len(record)} "
                                       f"fields, but the header has {len(header)}")
                records.append(record)
                rows.append(reader.line_num - 1)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise KetasimError(f"{path}: not a readable UTF-8 CSV file ({exc})") from None
    except OSError as exc:
        raise KetasimError(f"{path}: cannot read ({exc.strerror})") from None
    return _checked(pd.DataFrame(records, columns=header), str(path), rows)


def nca_table(frame: pd.DataFrame) -> pd.DataFrame:
    """NCA of a long table (ID, TIME h, CONC ng/mL, optional ANALYTE): one row per ID (x
    ANALYTE), in order of appearance, with the :data:`COLUMNS` (NaN where not estimable)."""
    data = _checked(frame, "table")
    keys = [c for c in ("ID", "ANALYTE") if c in data]
    rows = []
    for key, group in data.groupby(keys, sort=False):
        group = group.sort_values("TIME")
        c, t = group["CONC"].to_numpy(), group["TIME"].to_numpy()
        (cmax, tmax), (clast, tlast, auc_t) = cmax_tmax(c, t), _clast(c, t, 0.0, _areas(c, t))
        tp = terminal_phase(c, t)
        total, pct = auc_inf(c, t, tp.lambda_z_per_h)
        note = tp.reason or (f"AUC0-inf is {pct:.3g}% extrapolated (> {MAX_EXTRAP_PCT:g}%)"
                             if pct > MAX_EXTRAP_PCT else "")
        rows.append((*key, *map(float, (cmax, tmax, tlast, clast, auc_t)), tp.lambda_z_per_h,
                     tp.half_life_h, float(total), float(pct), tp.r2_adj, tp.n_points, note))
    return pd.DataFrame(rows, columns=[*keys, *COLUMNS])
