"""The README's Python example runs as written (a user's first contact with the API)."""
from __future__ import annotations

import re
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")


def test_readme_python_block_runs():
    text = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert blocks, "README has no python example"
    ns: dict = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exec(compile(blocks[0], "README.md", "exec"), ns)  # noqa: S102 - our own README
    res = ns["res"]
    assert res.design == "cs" and res.event_study is not None
    assert res.n_units >= 100  # a cross-country panel, not a toy
