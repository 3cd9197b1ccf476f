"""The ketamine system's models, by name, or from a user's TOML declaration file.

``<pk>+mechanism`` is the PK model ``<pk>`` with the mechanism layers (receptor, cascade, mood)
composed onto it; its mechanism parameters are not calibrated yet (docs/models/mechanism.md).
"""

from ketasim.errors import KetasimError
from ketasim.modeling.files import load_model_file
from ketasim.modeling.spec import Model
from ketasim.models.mechanism import with_mechanism
from ketasim.models.pk import domino1982, perez_ruixo2021, published, racemic_sr
from ketasim.models.pk.analytes import finish

#: Built-in models, in order of preference: a scenario without a model takes the first one
#: that accepts all its doses.
_MODELS: dict[str, Model] = {m.name: finish(m) for m in (
    racemic_sr.MODEL, perez_ruixo2021.MODEL, domino1982.MODEL, published.CLEMENTS,
    published.KAMP, published.HERD, published.HORNIK)}
_MODELS |= {m.name: m for m in (with_mechanism(_MODELS["racemic_sr"]),
                                with_mechanism(_MODELS["perez_ruixo2021"]))}

MODEL_NAMES: tuple[str, ...] = tuple(_MODELS)
#: The default model for racemic ketamine (docs/models/racemic_sr.md says why).
DEFAULT_MODEL = "racemic_sr"


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
