"""The command line: help on every subcommand, parameter errors, delegation."""

from __future__ import annotations

import subprocess
import sys
import types

import pytest

from kosresearch.cli import main


@pytest.mark.parametrize("args", [[], ["run"], ["simulate"], ["validate"]])
def test_every_subcommand_has_help_through_python_dash_m(args):
    done = subprocess.run([sys.executable, "-m", "kosresearch", *args, "--help"], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "usage: kosresearch" in done.stdout


def test_run_help_lists_the_documented_options(capsys):
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    out = capsys.readouterr().out
    for option in ("--data", "--regions", "--notebooks", "--out", "--jobs", "--lang", "--show-code"):
        assert option in out


def test_an_unknown_region_exits_2_with_the_valid_regions(tmp_path, capsys):
    folder = tmp_path / "data" / "stores" / "region=east"
    folder.mkdir(parents=True)
    with pytest.raises(SystemExit) as exc:
        main(["run", "--data", str(tmp_path / "data"), "--regions", "mars", "--out", str(tmp_path / "out")])
    assert exc.value.code == 2
    assert "unknown region(s) ['mars']; valid regions: ['east']" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("args", "message"), [(["--jobs", "0"], "--jobs='0' must be an integer >= 1"),
                                               (["--lang", "fr"], "invalid choice: 'fr'")])
def test_bad_options_exit_2(args, message, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["run", *args])
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_simulate_delegates_to_simulate_to_disk(monkeypatch, tmp_path, capsys):
    calls = []
    fake = types.ModuleType("kosresearch.data.simulate")
    fake.simulate_to_disk = lambda preset, out, *, seed: calls.append((preset, out, seed))
    monkeypatch.setitem(sys.modules, "kosresearch.data.simulate", fake)
    assert main(["simulate", "--preset", "medium", "--out", str(tmp_path), "--seed", "7"]) == 0
    assert calls == [("medium", str(tmp_path), 7)]
    assert "wrote preset 'medium' (seed 7)" in capsys.readouterr().out


def test_validate_prints_the_report_and_exits_1_when_there_are_problems(monkeypatch, tmp_path, capsys):
    import pandas as pd

    seen = {}

    def fake_report(source, *, regions=None):
        seen.update(source=source, regions=regions)
        return pd.DataFrame({"table": ["orders"], "column": ["amount"], "check": ["below_minimum"], "n_bad": [3],
                             "examples": [[-1.0]], "message": ["orders.amount: 3 rows are below the minimum 0"]})

    fake = types.ModuleType("kosresearch.data.validate")
    fake.validation_report = fake_report
    monkeypatch.setitem(sys.modules, "kosresearch.data.validate", fake)
    assert main(["validate", "--data", str(tmp_path), "--regions", "east, south"]) == 1
    assert seen == {"source": tmp_path, "regions": ["east", "south"]}
    assert "orders.amount: 3 rows are below the minimum 0" in capsys.readouterr().out


def test_validate_says_so_when_the_data_are_clean(monkeypatch, tmp_path, capsys):
    import pandas as pd

    fake = types.ModuleType("kosresearch.data.validate")
    fake.validation_report = lambda source, *, regions=None: pd.DataFrame(columns=["table", "message"])
    monkeypatch.setitem(sys.modules, "kosresearch.data.validate", fake)
    assert main(["validate", "--data", str(tmp_path)]) == 0
    assert "no problems found" in capsys.readouterr().out
