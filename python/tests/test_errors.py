"""Errors: the command line's checks and messages, raised as exceptions that carry the
file, line, column and field."""

from pathlib import Path

import pytest

import microsim


def test_a_bad_field_in_a_dict_scenario_names_the_field():
    with pytest.raises(microsim.ScenarioError) as e:
        microsim.run(model="gift_lottery", params={"items": 10, "bins": 0}, progress=False)
    err = e.value
    assert err.field == "model.bins" and err.kind == "invalid"
    assert err.file == "<dict>" and err.line is not None
    assert "model.bins" in str(err)
    assert isinstance(err, ValueError) and isinstance(err, microsim.MicrosimError)


def test_an_unknown_field_is_refused_with_what_is_accepted():
    with pytest.raises(microsim.ScenarioError) as e:
        microsim.run(model="gift_lottery", params={"itemz": 10}, progress=False)
    assert e.value.kind == "schema"
    assert "itemz" in str(e.value) and e.value.hint


def test_an_override_names_the_field_and_the_override():
    with pytest.raises(microsim.ScenarioError) as e:
        microsim.run("scenarios/mamma_mia.toml", set={"model.items": -5}, progress=False)
    err = e.value
    assert err.field == "model.items"
    assert err.set == "model.items=-5"
    assert err.file == "scenarios/mamma_mia.toml"


def test_an_error_in_a_file_says_the_line_and_column(tmp_path):
    Path("bad.toml").write_text('[scenario]\nmodel = "pi"\n\n[model]\npoints = "many"\n')
    with pytest.raises(microsim.ScenarioError) as e:
        microsim.run("bad.toml", progress=False)
    err = e.value
    assert err.file == "bad.toml" and err.line == 5 and err.column is not None
    assert err.field == "model.points"
    assert str(err).startswith("bad.toml:5:")


def test_a_missing_file_is_an_io_error_with_a_hint():
    with pytest.raises(microsim.ScenarioError) as e:
        microsim.run("nope.toml", progress=False)
    assert e.value.kind == "io" and e.value.hint and e.value.file == "nope.toml"


def test_an_unknown_model_lists_the_models():
    with pytest.raises(microsim.ScenarioError) as e:
        microsim.run(model="nonesuch", progress=False)
    assert e.value.field == "scenario.model" and "gift_lottery" in e.value.hint


def test_a_replication_beyond_the_scenario_is_refused():
    with pytest.raises(microsim.ScenarioError, match="has 10 replications"):
        microsim.run("scenarios/mamma_mia.toml", replication=10, progress=False)


def test_a_named_out_holding_a_result_is_refused_unless_forced():
    small = {"points": 1000, "tasks": 10}
    microsim.run(model="pi", params=small, out="r", progress=False)
    with pytest.raises(microsim.ScenarioError) as e:
        microsim.run(model="pi", params=small, out="r", progress=False)
    assert e.value.kind == "usage" and "force" in str(e.value)
    microsim.run(model="pi", params=small, out="r", force=True, progress=False)


def test_too_much_memory_is_refused_before_running():
    with pytest.raises(microsim.ScenarioError) as e:
        microsim.run(model="gift_lottery", params={"items": 100_000_000}, max_memory="10M",
                     progress=False)
    assert e.value.kind == "too_large"


def test_arguments_python_gets_wrong():
    with pytest.raises(TypeError, match="not both"):
        microsim.run("scenarios/pi.toml", model="pi")
    with pytest.raises(TypeError, match="goes with model="):
        microsim.run("scenarios/pi.toml", params={"points": 1})
    with pytest.raises(TypeError, match="sweep= takes a dict"):
        microsim.run("scenarios/pi.toml", sweep=[1, 2])
    with pytest.raises(microsim.ScenarioError, match="not a whole number"):
        microsim.run("scenarios/pi.toml", replications=-1)
    with pytest.raises(TypeError, match="no TOML form"):
        microsim.run(model="pi", params={"points": object()})


def test_load_of_something_else_says_what_it_is(tmp_path):
    Path("empty").mkdir()
    with pytest.raises(microsim.ScenarioError, match="no summary.json"):
        microsim.load("empty")
    with pytest.raises(FileNotFoundError):
        microsim.load("missing")
