"""The ketamine system's models, by name."""

from ketasim.errors import KetasimError
from ketasim.modeling.spec import Model
from ketasim.models.pk import domino1982

_MODELS: dict[str, Model] = {m.name: m for m in (domino1982.MODEL,)}

MODEL_NAMES: tuple[str, ...] = tuple(_MODELS)
#: The model a scenario uses when it names none.
DEFAULT_MODEL = "domino1982"


def get_model(name: str) -> Model:
    """The model called ``name``; a one-line error lists the known names otherwise."""
    try:
        return _MODELS[name]
    except KeyError:
        raise KetasimError(f"model: unknown {name!r}; allowed: {', '.join(MODEL_NAMES)}") \
            from None
