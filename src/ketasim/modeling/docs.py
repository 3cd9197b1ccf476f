"""A model's reference page (Markdown), generated from its declaration."""

from ketasim.dosing import SUBSTANCES
from ketasim.modeling.spec import Model


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    return ["| " + " | ".join(cell.replace("|", "/") for cell in row) + " |"
            for row in (header, ("---",) * len(header), *rows)]


def parameter_rows(model: Model) -> list[tuple[str, ...]]:
    """(name, value, unit, variability, source) of every parameter."""
    return [(p.name, f"{p.value:g}", p.unit,
             "-" if p.cv is None else f"{p.cv:.0%}: {p.cv_source}", p.source)
            for p in model.parameters]


def model_page(model: Model) -> str:
    """Title, reference, routes, population, notes, outputs and parameters of ``model``."""
    routes = [(s, ", ".join(model.routes_for(s))) for s in SUBSTANCES if model.routes_for(s)]
    valid = ", ".join(f"{k} {lo:g}-{hi:g}" for k, (lo, hi) in model.valid.items()) or "not given"
    lines = [f"# {model.name}: {model.title}", "",
             "Generated from the model's declaration by `make docs`; do not edit.", "",
             f"**Reference.** {model.reference}", "",
             "**Routes.** " + "; ".join(f"{s}: {r}" for s, r in routes), "",
             f"**Population it was built on.** {valid} (others are simulated with a warning).",
             ""]
    if model.notes:
        lines += [f"**Notes.** {' '.join(model.notes.splitlines())}", ""]
    lines += [f"**States.** {', '.join(f'{s.name} ({s.unit})' for s in model.states)}", "",
              f"**Outputs.** {', '.join(model.output_names)}", "", "## Parameters", ""]
    lines += _table(("parameter", "value", "unit", "IIV (CV)", "source"), parameter_rows(model))
    return "\n".join(lines) + "\n"
