"""The model language: the whitelisting parser, declarations, composition, parameter tables."""

import math

import libsbml
import numpy as np
import pk_cases as pc
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ketasim.dosing import Dose, Regimen
from ketasim.errors import KetasimError
from ketasim.modeling.expr import parse
from ketasim.modeling.spec import Model, Parameter, State, compose, to_model_units
from ketasim.models import get_model
from ketasim.population.sampling import Population
from ketasim.simulation.engine import simulate


@pytest.mark.parametrize("text", [
    "__import__('os').system('true')", "x.real", "x[0]", "lambda: 1", "'a'", "x if y else z",
    "x < y", "exp(x, base=2)", "open(x)", "x @ y", "x // y", "x % y", "True", "[x]",
    "piecewise(a, b, c)", "exp", "exp(1, 2)", "x; y", "", "(x := 1)", "f'{x}'"])
def test_parser_rejects_anything_outside_the_whitelist(text):
    with pytest.raises(KetasimError) as err:
        parse(text, "rate")
    assert err.value.args[0].startswith("rate: ") and "\n" not in err.value.args[0]


def evaluate(text, **names):
    # the generated source comes from the checked tree; evaluating it here checks the codegen
    return eval(parse(text).to_python(), {"math": math}, names)  # noqa: S307


@pytest.mark.parametrize("text, names, expected", [
    ("-(a + b) * c ** 2 / 4", {"a": 1.0, "b": 2.0, "c": 3.0}, -6.75),
    ("exp(log(a)) + sqrt(b)", {"a": 2.5, "b": 16.0}, 6.5),
    ("min(a, b) - max(a, b)", {"a": 1.0, "b": 4.0}, -3.0),
    ("hill(x, x50, n)", {"x": 2.0, "x50": 2.0, "n": 3.0}, 0.5),
    ("hill(x, x50, n)", {"x": 6.0, "x50": 2.0, "n": 2.0}, 0.9),
    ("piecewise(a, t >= 3, b)", {"a": 1.0, "b": 2.0, "t": 3.0}, 1.0),
    ("piecewise(a, t >= 3, b)", {"a": 1.0, "b": 2.0, "t": 2.9}, 2.0),
    ("2 ** -1", {}, 0.5),
])
def test_generated_python_computes_the_expression(text, names, expected):
    assert evaluate(text, **names) == pytest.approx(expected, rel=1e-15)


@given(a=st.floats(0.01, 100), b=st.floats(0.01, 100), n=st.floats(0.5, 4))
@settings(max_examples=100, deadline=None, derandomize=True)
def test_sbml_formula_means_the_same_as_python(a, b, n):
    """libsbml parses our SBML rendering back to a tree that evaluates to the same value."""
    text = "hill(a, b, n) + max(a, b) * log(a) - piecewise(a, a < b, b) / sqrt(b)"
    sbml = parse(text).to_sbml()
    assert libsbml.parseL3Formula(sbml) is not None
    rendered = (sbml.replace("^", "**").replace("ln(", "math.log(").replace("sqrt(", "math.sqrt(")
                .replace("piecewise(a, (a < b), b)", "(a if a < b else b)")
                .replace("piecewise(a, (a > b), b)", "(a if a > b else b)"))
    expected = evaluate(text, a=a, b=b, n=n)
    assert eval(rendered, {"math": math}, {"a": a, "b": b, "n": n}) == pytest.approx(expected)  # noqa: S307


def test_names_of_an_expression_exclude_functions():
    assert parse("exp(-k * t) * hill(c, c50, n)").names == {"k", "t", "c", "c50", "n"}


def layer(**kw):
    base = dict(name="m", title="m", reference="test", states=(State("x", "mg"),),
                parameters=(Parameter("k", 1.0, "1/h", "test"),), odes={"x": "-k * x"},
                outputs={"x_out": "x"}, output_units={"x_out": "mg"})
    return Model(**(base | kw))


@pytest.mark.parametrize("kw, message", [
    ({"odes": {"x": "-k * y"}}, "unknown names"),
    ({"odes": {}}, "every state needs exactly one ODE"),
    ({"outputs": {"k": "x"}}, "declared twice"),
    ({"output_units": {}}, r"every output needs exactly one unit; outputs without one: "
                           r"\['x_out'\]"),
    ({"states": (State("np", "mg"),), "odes": {"np": "-k"}}, "not a valid name"),
    ({"states": (State("_x", "mg"),), "odes": {"_x": "-k"}}, "not a valid name"),
])
def test_bad_declarations_are_rejected(kw, message):
    with pytest.raises(KetasimError, match=message):
        layer(**kw)


@pytest.mark.parametrize("kw, message", [
    ({"value": float("nan")}, "finite"), ({"cv": -0.1}, "cv"), ({"source": " "}, "source"),
    ({"cv": 0.3}, "source"),
])
def test_bad_parameters_are_rejected(kw, message):
    with pytest.raises(KetasimError, match=message):
        Parameter(**({"name": "k", "value": 1.0, "unit": "1/h", "source": "x"} | kw))


@pytest.mark.parametrize("value, unit, expected", [
    (0.4381, "1/min", (26.286, "1/h")), (1.23, "L/min", (73.8, "L/h")),
    (20.0, "mL/min/kg", (1.2, "L/h/kg")), (500.0, "ug/kg", (0.5, "mg/kg")),
    (40.0, "min", (2 / 3, "h")), (54.0, "percent", (0.54, "dimensionless"))])
def test_parameters_are_converted_to_model_units(value, unit, expected):
    got = to_model_units(value, unit, "p")
    assert got[0] == pytest.approx(expected[0], rel=1e-12) and got[1] == expected[1]


def test_composed_effect_compartment_matches_closed_form():
    """A PK layer linked to an effect-site layer (ke0) through a named port."""
    pk = pc.model(1)
    effect = Model(name="effect", title="effect site", reference="test",
                   states=(State("ce", "ng/mL"),),
                   parameters=(Parameter("ke0", 2.0, "1/h", "test"),),
                   odes={"ce": "ke0 * (cp - ce)"}, outputs={"effect_site_ng_ml": "ce"},
                   output_units={"effect_site_ng_ml": "ng/mL"}, ports=("cp",))
    both = compose("pk_effect", pk, effect, links={"cp": "ketamine_plasma_ng_ml"})
    times = np.linspace(0, 12, 25)
    res = simulate(both, Regimen((Dose("racemic", "iv_bolus", 100.0),)), Population(1), times,
                   rtol=1e-9, atol=1e-12)
    k, ke0, c0 = pc.RATES["k10"], 2.0, 100.0 / pc.V1 * 1000
    expected = c0 * ke0 / (ke0 - k) * (np.exp(-k * times) - np.exp(-ke0 * times))
    np.testing.assert_allclose(res["effect_site_ng_ml"][0], expected, rtol=1e-6, atol=1e-9)


def test_compose_requires_every_port_bound_to_an_existing_output():
    effect = layer(name="e", ports=("cp",), odes={"x": "cp - x"}, outputs={"e_out": "x"},
                   output_units={"e_out": "mg"})
    with pytest.raises(KetasimError, match="no such output"):
        compose("c", pc.model(1), effect, links={"cp": "missing"})
    with pytest.raises(KetasimError, match="bind every port"):
        compose("c", pc.model(1), effect, links={})


def test_parameter_table_lists_value_unit_and_source_of_every_parameter():
    m = get_model("domino1982")
    table = m.parameter_table()
    assert list(table["name"]) == list(m.parameter_names)
    row = table.set_index("name").loc["k10"]
    assert (row["value"], row["unit"], row["model_unit"]) == (0.4381, "1/min", "1/h")
    assert row["model_value"] == pytest.approx(26.286)
    assert "PMID 7198883" in row["source"] and row["iiv_source"].startswith("assumption")


def test_with_parameters_changes_values_and_marks_the_source():
    m = get_model("domino1982").with_parameters(k10=0.5)
    p = dict(zip(m.parameter_names, m.parameters, strict=True))["k10"]
    assert p.value == 0.5 and p.source == "user value"
    with pytest.raises(KetasimError, match="unknown"):
        m.with_parameters(nope=1.0)


TEXTS = ["a * exp(-b * a)", "hill(a, b, 2.5)", "a ** b / (1 + a)", "sqrt(a) * log(b + a)",
         "min(a, b) * max(a, 2 * b)", "piecewise(a * a, a > b, b / a)", "-(a - b) ** 3",
         "a ** 2.0 ** b"]


@given(a=st.floats(0.2, 5), b=st.floats(0.2, 5), which=st.sampled_from(TEXTS))
@settings(max_examples=200, deadline=None, derandomize=True)
def test_symbolic_derivative_matches_central_difference(a, b, which):
    import ast

    assume(min(abs(a - b), abs(a - 2 * b)) > 1e-3)  # away from the kinks of min, max, piecewise
    e = parse(which)
    d = e.derivative(lambda n: ast.Constant(1.0) if n == "a" else None)
    step = 1e-6 * a
    numeric = (evaluate(which, a=a + step, b=b) - evaluate(which, a=a - step, b=b)) / (2 * step)
    exact = eval(d.to_python(), {"math": math}, {"a": a, "b": b})  # noqa: S307
    assert exact == pytest.approx(numeric, rel=1e-5, abs=1e-7)


def test_generated_jacobian_matches_finite_differences():
    """The kernel's exact Jacobian (used by the stiff solver) for a composed nonlinear model."""
    from ketasim.modeling import kernel

    effect = Model(name="effect", title="effect", reference="test",
                   states=(State("ce", "ng/mL"),),
                   parameters=(Parameter("ke0", 2.0, "1/h", "test"),
                               Parameter("ec50", 50.0, "ng/mL", "test")),
                   assignments=(("occ", "hill(ce, ec50, 1.5)"),),
                   odes={"ce": "ke0 * (cp - ce) * (1 - 0.5 * occ) * exp(-t / 10)"},
                   outputs={"occupancy": "occ"}, output_units={"occupancy": "1"},
                   ports=("cp",))
    m = compose("pk_effect", pc.model(2), effect, links={"cp": "ketamine_plasma_ng_ml"})
    k = kernel.load(m)
    p = np.array([pa.model_value[0] for pa in m.parameters])
    y, rate, t = np.array([30.0, 12.0, 40.0]), np.array([5.0, 0.0, 0.0]), 1.3
    jac, f1, f2 = np.empty((3, 3)), np.empty(3), np.empty(3)
    k.jac(t, y, p, rate, jac)
    for j in range(3):
        dy = np.zeros(3)
        dy[j] = 1e-6 * max(1.0, abs(y[j]))
        k.rhs(t, y + dy, p, rate, f1)
        k.rhs(t, y - dy, p, rate, f2)
        np.testing.assert_allclose(jac[:, j], (f1 - f2) / (2 * dy[j]), rtol=1e-6, atol=1e-9)
    dfdt = np.empty(3)
    k.dfdt(t, y, p, rate, dfdt)
    k.rhs(t + 1e-6, y, p, rate, f1)
    k.rhs(t - 1e-6, y, p, rate, f2)
    np.testing.assert_allclose(dfdt, (f1 - f2) / 2e-6, rtol=1e-6, atol=1e-9)
