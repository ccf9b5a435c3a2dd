"""docs/data-contract.md is generated from the contract code and must not drift."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from kosresearch.data.contract import render_markdown

DOC = Path(__file__).resolve().parents[2] / "docs" / "data-contract.md"


def test_committed_contract_doc_matches_the_contract_code():
    assert DOC.read_text(encoding="utf-8") == render_markdown(), (
        "docs/data-contract.md is out of date; regenerate it with "
        "`python -m kosresearch.data.contract > docs/data-contract.md`"
    )


def test_the_module_prints_the_contract_doc():
    result = subprocess.run(
        [sys.executable, "-m", "kosresearch.data.contract"],
        capture_output=True,
        check=True,
        encoding="utf-8",
    )
    assert result.stdout == render_markdown()
