"""Test-wide settings.

Pseudonyms in displayed tables use a secret salt (``default_salt``), which on a
real machine lives under ``~/.config/kosresearch``. Tests must not write
outside ``tmp_path``, so they (and the notebook kernels they start, which
inherit the environment) use a fixed, non-secret test salt.
"""

from __future__ import annotations

import os

os.environ.setdefault("KOS_PSEUDONYM_SALT", "kosresearch-test-salt")
