"""Errors that ketasim raises for bad input: one line, naming the field."""


class KetasimError(ValueError):
    """Bad input to ketasim; the message is one line and names the offending field."""


class ScenarioError(KetasimError):
    """A scenario (file, table or Python objects) that cannot be simulated."""
