"""Run notebooks/03_residual_vs_plain.ipynb on a fresh kernel, in its short form."""

import json
import pathlib

import nbformat
import pytest
from nbclient import NotebookClient

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOK = REPO_ROOT / "notebooks" / "03_residual_vs_plain.ipynb"
SHORT_RUN = {"EPOCHS": 3, "SUBSET": 256, "SEED": 0}


def run_notebook(output_dir, timeout=600, **overrides):
    """Execute the notebook with parameter overrides.

    Returns the summary that the notebook wrote and the executed notebook.

    The overrides go into a new cell right after the cell tagged
    `parameters`, the way papermill injects parameters. `timeout` is the
    limit for each cell, in seconds.
    """
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    tagged = [
        index
        for index, cell in enumerate(notebook.cells)
        if "parameters" in cell.metadata.get("tags", [])
    ]
    assert len(tagged) == 1, "the notebook needs exactly one cell tagged 'parameters'"
    values = {**overrides, "OUTPUT_DIR": str(output_dir)}
    source = "\n".join(f"{name} = {value!r}" for name, value in values.items())
    notebook.cells.insert(tagged[0] + 1, nbformat.v4.new_code_cell(source))

    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    )
    client.execute()
    with open(output_dir / "summary.json") as summary_file:
        return json.load(summary_file), notebook


def test_committed_notebook_has_no_outputs():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code_cells
    for cell in code_cells:
        assert cell.outputs == []
        assert cell.execution_count is None


@pytest.mark.slow
def test_short_run_shows_degradation(tmp_path):
    summary, executed = run_notebook(tmp_path, **SHORT_RUN)

    histories = summary["histories"]
    assert sorted(histories) == ["ResNet-20", "ResNet-56", "plain-20", "plain-56"]
    for label, history in histories.items():
        assert len(history["loss"]) == SHORT_RUN["EPOCHS"], label
        assert all(0.0 < loss < 20.0 for loss in history["loss"]), label
    assert summary["parameters"]["subset"] == SHORT_RUN["SUBSET"]

    final = {label: history["loss"][-1] for label, history in histories.items()}
    # Held with this short run for seeds 0 to 5, by margins of at least 0.7.
    assert final["ResNet-56"] < final["plain-56"]
    assert final["plain-56"] > final["plain-20"]

    # The figure: two panels with two curves each, drawing the histories.
    plot = summary["plot"]
    assert sorted(plot) == ["Plain networks", "Residual networks"]
    assert sorted(plot["Plain networks"]) == ["plain-20", "plain-56"]
    assert sorted(plot["Residual networks"]) == ["ResNet-20", "ResNet-56"]
    for panel in plot.values():
        for label, values in panel.items():
            assert values == histories[label]["loss"]
    png = (tmp_path / "curves.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")

    # The check cell prints what the summary shows.
    printed = "".join(
        output.get("text", "") for cell in executed.cells for output in cell.get("outputs", [])
    )
    assert "plain-56 trains worse than plain-20:   True" in printed
    assert "ResNet-56 trains better than plain-56: True" in printed
