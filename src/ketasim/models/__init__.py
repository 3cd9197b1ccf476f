"""The ketamine system's models, by name, or from a user's TOML declaration file."""

from ketasim.errors import KetasimError
from ketasim.modeling.files import load_model_file
from ketasim.modeling.spec import Model
from ketasim.models.pk import domino1982

_MODELS: dict[str, Model] = {m.name: m for m in (domino1982.MODEL,)}

MODEL_NAMES: tuple[str, ...] = tuple(_MODELS)
#: The model a scenario uses when it names none.
DEFAULT_MODEL = "domino1982"


def get_model(name: str) -> Model:
    """The built-in model called ``name``, or the model declared in the file ``name``
    (ending in ``.toml``); a one-line error lists the known names otherwise."""
    if isinstance(name, str) and name.endswith(".toml"):
        return load_model_file(name)
    try:
        return _MODELS[name]
    except (KeyError, TypeError):
        raise KetasimError(f"model: unknown {name!r}; allowed: {', '.join(MODEL_NAMES)} or a "
                           "model file ending in .toml") from None
