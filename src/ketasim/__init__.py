"""ketasim: simulate ketamine's antidepressant action from dose to depression scores.

The public API: declare or pick a model, describe a regimen and a population, simulate.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("ketasim")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0+unknown"

from ketasim.analysis.nca import nca_table, read_concentrations
from ketasim.dosing import (
    Dose,
    Regimen,
    read_event_table,
    schedule,
    to_event_table,
    write_event_table,
)
from ketasim.errors import KetasimError, ScenarioError
from ketasim.modeling.sbml import to_sbml
from ketasim.modeling.spec import (
    Covariate,
    Deposit,
    Input,
    Model,
    Parameter,
    ResidualError,
    State,
    compose,
)
from ketasim.models import DEFAULT_MODEL, MODEL_NAMES, get_model
from ketasim.population.sampling import Population
from ketasim.scenario.files import load_scenario, parse_scenario
from ketasim.simulation.engine import iter_simulate, simulate
from ketasim.simulation.observations import observe
from ketasim.simulation.runner import run_scenario

__all__ = [
    "DEFAULT_MODEL", "MODEL_NAMES", "Covariate", "Deposit", "Dose", "Input", "KetasimError",
    "Model", "Parameter", "Population", "Regimen", "ResidualError", "ScenarioError", "State",
    "__version__", "compose", "get_model", "iter_simulate", "load_scenario", "nca_table",
    "observe", "parse_scenario", "read_concentrations", "read_event_table", "run_scenario",
    "schedule", "simulate", "to_event_table", "to_sbml", "write_event_table",
]
