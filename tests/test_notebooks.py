"""Execute the notebooks top to bottom on a fresh kernel, with small parameters.

The cell tagged `parameters` keeps its defaults, and a cell inserted right
after it overrides them. With the small values here, each run took about
one minute on two CPU cores. The kernel inherits this process's
environment, so it sees an empty KERAS_HOME (from conftest) and
KERAS_RESNETS_OFFLINE=1.
"""

import dataclasses
import hashlib
import json
import pathlib
import re
import shutil

import keras
import nbformat
import numpy as np
import pytest
from nbclient import NotebookClient

from keras_resnets import weights
from tests.h5_layout import write_keras2_h5

NOTEBOOKS = pathlib.Path(__file__).resolve().parent.parent / "notebooks"
TOP_FILE = "resnet50_weights_tf_dim_ordering_tf_kernels.h5"
CLASS_INDEX_FILE = "imagenet_class_index.json"
# Seconds a single cell may run; training cells are the longest.
CELL_TIMEOUT = 900


def _run_notebook(name, parameters, tmp_path, setup=None):
    """Execute a notebook with overridden parameters; return it with outputs.

    Args:
        name: file name in `notebooks/`.
        parameters: names and values written into a cell after the
            `parameters` cell.
        tmp_path: working folder of the kernel.
        setup: optional code run in a cell before all others.
    """
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    tagged = [
        index
        for index, cell in enumerate(notebook.cells)
        if "parameters" in cell.metadata.get("tags", [])
    ]
    assert len(tagged) == 1, f"{name} must have exactly one cell tagged 'parameters'"

    overrides = "\n".join(f"{key} = {value!r}" for key, value in parameters.items())
    notebook.cells.insert(tagged[0] + 1, nbformat.v4.new_code_cell(overrides))
    if setup is not None:
        notebook.cells.insert(0, nbformat.v4.new_code_cell(setup))

    client = NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()
    return notebook


def _stream_text(notebook):
    return "".join(
        output.get("text", "")
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if output.output_type == "stream"
    )


def _image_count(notebook):
    return sum(
        "image/png" in output.get("data", {})
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
    )


@pytest.mark.parametrize("name", ["01_quickstart.ipynb", "02_transfer_learning.ipynb"])
def test_notebook_is_stored_without_outputs(name):
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    nbformat.validate(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == []
            assert cell.execution_count is None


@pytest.fixture
def offline(monkeypatch):
    monkeypatch.setenv("KERAS_RESNETS_OFFLINE", "1")


def _md5(path):
    return hashlib.md5(pathlib.Path(path).read_bytes()).hexdigest()


@pytest.mark.slow
def test_quickstart_with_registered_weights(tmp_path, monkeypatch, offline):
    # Official-layout files with random weights and a made-up class index
    # stand in for the official ones. The registry contains the official
    # hashes, so the setup cell registers theirs in the kernel.
    weights_dir = tmp_path / "weights"
    weights_dir.mkdir()
    keras.utils.set_random_seed(0)
    write_keras2_h5(keras.applications.ResNet50(weights=None), weights_dir / TOP_FILE)
    (weights_dir / CLASS_INDEX_FILE).write_text(
        json.dumps({str(i): [f"n{i:08d}", f"class_{i}"] for i in range(1000)})
    )
    monkeypatch.setenv("KERAS_RESNETS_WEIGHTS_DIR", str(weights_dir))
    setup = (
        "import dataclasses\n"
        "from keras_resnets import weights as _weights\n"
        f"_weights.REGISTRY[{TOP_FILE!r}] = dataclasses.replace(\n"
        f"    _weights.REGISTRY[{TOP_FILE!r}], file_hash={_md5(weights_dir / TOP_FILE)!r})\n"
        "_weights.CLASS_INDEX_FILE = dataclasses.replace(\n"
        f"    _weights.CLASS_INDEX_FILE, file_hash={_md5(weights_dir / CLASS_INDEX_FILE)!r})\n"
    )
    artifacts = tmp_path / "artifacts"
    artifacts.mkdir()

    notebook = _run_notebook(
        "01_quickstart.ipynb", {"OUTPUT_DIR": str(artifacts)}, tmp_path, setup=setup
    )

    text = _stream_text(notebook)
    assert "Built resnet50 with weights='imagenet'." in text
    assert "not available" not in text
    # Two top-5 listings: the original model and the reloaded SavedModel.
    listings = re.findall(r"^n(\d{8}) class_(\d+) +(\d\.\d{4})$", text, flags=re.MULTILINE)
    assert len(listings) == 10
    assert all(int(wnid) == int(index) for wnid, index, _ in listings)
    assert listings[:5] == listings[5:]
    assert re.search(r"^\.keras: max abs difference from the original model", text, re.MULTILINE)
    assert re.search(r"^SavedModel: max abs difference from the original model", text, re.MULTILINE)
    assert (artifacts / "resnet50.keras").is_file()
    assert (artifacts / "resnet50_savedmodel" / "saved_model.pb").is_file()
    assert _image_count(notebook) == 1


@pytest.mark.slow
def test_quickstart_offline_without_weights(tmp_path, offline):
    artifacts = tmp_path / "artifacts"
    artifacts.mkdir()

    notebook = _run_notebook("01_quickstart.ipynb", {"OUTPUT_DIR": str(artifacts)}, tmp_path)

    text = _stream_text(notebook)
    assert "The ImageNet weights are not available here" in text
    assert f"Could not get file '{TOP_FILE}'" in text
    # Without the class index, classes are listed by id.
    assert len(re.findall(r"^class \d+ +\d\.\d{4}$", text, flags=re.MULTILINE)) == 10
    assert (artifacts / "resnet50.keras").is_file()
    assert (artifacts / "resnet50_savedmodel" / "saved_model.pb").is_file()


def _calibrated_resnet18_weights(path, image_size):
    """Write ResNet18 no-top weights whose BatchNorm statistics match their inputs.

    Random weights keep BatchNormalization's initial statistics (mean 0,
    variance 1), which do not match the activations, so a network run in
    inference mode is badly scaled. Pretrained weights do not have that
    problem. One training-mode pass with momentum 0 sets every layer's
    statistics to those of a batch of random images, which makes these
    random weights behave like pretrained ones in that respect.
    """
    import keras_resnets

    keras.utils.set_random_seed(0)
    model = keras_resnets.ResNet18(
        include_top=False, weights=None, input_shape=(image_size, image_size, 3), pooling="avg"
    )
    batch_norms = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    for layer in batch_norms:
        layer.momentum = 0.0
    noise = np.random.default_rng(0).integers(0, 256, (64, image_size, image_size, 3))
    model(keras_resnets.imagenet_utils.preprocess_input(noise, mode="torch"), training=True)
    model.save_weights(path)
    return path


def _held_out_accuracy(text):
    match = re.search(r"^Held-out accuracy: (\d\.\d{3}) on (\d+) images", text, re.MULTILINE)
    assert match is not None, text[-2000:]
    assert int(match.group(2)) == 450
    return float(match.group(1))


SMALL_TRAINING = {"MODEL": "ResNet18", "IMAGE_SIZE": 32, "BATCH_SIZE": 32, "SEED": 0}


@pytest.mark.slow
def test_transfer_learning_with_pretrained_weights(tmp_path, offline):
    weights_path = _calibrated_resnet18_weights(tmp_path / "resnet18_notop.weights.h5", 32)
    parameters = {**SMALL_TRAINING, "WEIGHTS": str(weights_path), "HEAD_EPOCHS": 2, "FINE_TUNE_EPOCHS": 2}

    notebook = _run_notebook("02_transfer_learning.ipynb", parameters, tmp_path)

    text = _stream_text(notebook)
    assert "backbone with pretrained weights" in text
    assert "Phase 1: frozen backbone" in text
    assert "Phase 2: fine-tuning" in text
    # This run reached 0.83 when the test was written, and the same recipe
    # reached 0.80 to 0.91 with seeds 0 to 2. 0.6 is six times chance.
    assert _held_out_accuracy(text) > 0.6
    assert _image_count(notebook) == 2


@pytest.mark.slow
def test_transfer_learning_without_official_weights(tmp_path, offline):
    parameters = {**SMALL_TRAINING, "WEIGHTS": "imagenet", "HEAD_EPOCHS": 1, "FINE_TUNE_EPOCHS": 1}

    notebook = _run_notebook("02_transfer_learning.ipynb", parameters, tmp_path)

    text = _stream_text(notebook)
    assert "ResNet18 has no official ImageNet weights, so it trains from random initialization." in text
    assert "Training from scratch" in text
    assert "Phase 1" not in text
    # Two epochs from scratch reached 0.46 when the test was written.
    # Twice chance shows that the network learns.
    assert _held_out_accuracy(text) > 0.2
    assert _image_count(notebook) == 2
