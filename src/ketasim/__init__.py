"""ketasim: simulate ketamine's antidepressant action from dose to depression scores."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("ketasim")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0+unknown"
