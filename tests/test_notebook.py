"""The exploration notebook runs top to bottom in a real kernel."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "explore.ipynb"


def _text(cell) -> str:
    return "".join(output.get("text", "") for output in cell.get("outputs", []))


def test_explore_notebook_executes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A kernel spec for this interpreter comes first on JUPYTER_PATH, so a "python3" kernel installed elsewhere on
    # the machine (without this project) is never the one that runs the notebook.
    spec = tmp_path / "kernels" / "python3"
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": "Python 3", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))

    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(
        notebook, kernel_name="python3", timeout=120, resources={"metadata": {"path": str(NOTEBOOK.parent)}}
    )
    client.execute()  # raises CellExecutionError, with the cell and traceback, if any cell fails

    printed = "\n".join(_text(cell) for cell in notebook.cells if cell.cell_type == "code")
    assert "Sarah Lee owns P001, P004; missing toner, serum, spf" in printed
    assert "assemble_results" in printed  # the streamed node updates
    # 53 offers and $637.70: one offer per need (docs/offers.md; hand-checked in tests/cli/test_batch_cli.py)
    assert "10 customers, 53 offers, potential revenue $637.70" in printed
