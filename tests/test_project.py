"""Project set-up: environment.yml in sync with pyproject.toml, Makefile targets, CI, package data."""

from __future__ import annotations

import fnmatch
import os
import re
import tomllib

import yaml

from kosresearch.paths import project_root

ROOT = project_root()

#: conda-forge names that differ from the PyPI name
CONDA_TO_PYPI = {"python-duckdb": "duckdb"}


def _requirement(spec: str) -> tuple[str, str]:
    match = re.fullmatch(r"\s*([A-Za-z0-9_.\-]+)\s*(.*?)\s*", spec.split("#")[0])
    assert match, spec
    return match.group(1).lower().replace("_", "-"), match.group(2).replace(" ", "")


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_environment_yml_lists_the_same_packages_and_bounds_as_pyproject():
    project = _pyproject()["project"]
    wanted = dict(_requirement(s) for s in project["dependencies"])
    for extra in ("dev", "lab"):
        wanted |= dict(_requirement(s) for s in project["optional-dependencies"][extra])

    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    listed = {}
    for spec in conda:
        name, bound = _requirement(spec.replace("=", "==", 1) if re.fullmatch(r"[\w-]+=[\d.]+", spec) else spec)
        listed[CONDA_TO_PYPI.get(name, name)] = bound
    listed |= dict(_requirement(s) for s in pip if not s.startswith("-e"))
    python, pip_itself = listed.pop("python"), listed.pop("pip")

    assert listed == wanted
    assert python == "==3.11" and project["requires-python"] == ">=3.11"
    assert pip_itself == ""
    assert "-e .[dev,lab]" in pip, "the project itself is installed from pyproject.toml"


def test_the_makefile_has_the_documented_targets_and_a_venv_sentinel_on_pyproject():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    for target in ("report", "test", "lab", "bench", "golden", "sample", "clean"):
        assert re.search(rf"^{target}:", makefile, re.M), target
    assert re.search(r"^\$\(INSTALLED\): pyproject\.toml", makefile, re.M)
    assert "ipykernel install --sys-prefix --name kosresearch" in makefile


def test_ci_runs_make_test_and_nothing_else():
    script = ROOT / ".ci" / "run"
    assert os.access(script, os.X_OK)
    commands = [
        line.strip()
        for line in script.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert commands[-1] == "make test"
    assert all(c.startswith(("set ", "cd ")) for c in commands[:-1])


def test_the_readme_quick_start_is_make_report_and_make_test():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quick = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```(?:bash|sh)?\n(.*?)```", quick, re.S).group(1)
    commands = [line.split("#")[0].strip() for line in block.splitlines() if line.split("#")[0].strip()]
    assert commands == ["make report", "make test"]


def test_every_template_file_is_package_data():
    patterns = _pyproject()["tool"]["setuptools"]["package-data"]["kosresearch"]
    templates = ROOT / "kosresearch" / "report" / "templates"
    files = [p.relative_to(ROOT / "kosresearch").as_posix() for p in templates.rglob("*") if p.is_file()]
    assert files
    for name in files:
        assert any(fnmatch.fnmatch(name, pattern.replace("**/", "*")) for pattern in patterns), name


def test_importing_kosresearch_has_no_side_effects_and_exports_the_report_helpers():
    import subprocess
    import sys

    code = (
        "import sys, warnings, logging; before = list(warnings.filters); import kosresearch as k; "
        "assert warnings.filters == before; assert not logging.getLogger().handlers; "
        "assert 'matplotlib' not in sys.modules and 'pandas' not in sys.modules; "
        "assert all(n in dir(k) for n in ('publish_headlines', 'set_theme', 'md_text', 'load_region'))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    heavy = ("pandas", "matplotlib", "seaborn", "papermill", "nbconvert", "duckdb")
    code = f"import sys, kosresearch.report; assert not [m for m in {heavy!r} if m in sys.modules]"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, "importing kosresearch.report stays cheap: " + done.stderr
