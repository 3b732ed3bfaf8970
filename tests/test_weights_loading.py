"""Tests of keras_resnets.weights.load_weights on every supported file layout.

keras.applications' ResNet50 is the model under test here: it has the layer
names, order and weight shapes of the package's own models.
"""

import zipfile

import h5py
import keras
import numpy as np
import pytest

from keras_resnets import weights
from tests.h5_layout import write_keras2_h5

INPUT_SHAPE = (32, 32, 3)


def _resnet50(include_top=False, classes=1000):
    return keras.applications.ResNet50(
        weights=None, include_top=include_top, classes=classes, input_shape=INPUT_SHAPE
    )


def _randomize(model, seed):
    # Distinct values in every weight, BN statistics included, so that a
    # weight left unloaded or loaded into the wrong slot shows up.
    rng = np.random.default_rng(seed)
    model.set_weights(
        [rng.uniform(0.5, 1.5, size=w.shape).astype(w.dtype) for w in model.get_weights()]
    )
    return model


def _assert_same_weights(expected_model, actual_model):
    expected = {w.path: w.numpy() for w in expected_model.weights}
    actual = {w.path: w.numpy() for w in actual_model.weights}
    assert len(expected) == len(actual)
    for layer_e, layer_a in zip(expected_model.layers, actual_model.layers):
        assert layer_e.name == layer_a.name
        for w_e, w_a in zip(layer_e.weights, layer_a.weights):
            np.testing.assert_array_equal(
                w_a.numpy(), w_e.numpy(), err_msg=f"{layer_e.name}/{w_e.name}"
            )


def _text(value):
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _snapshot(model):
    return [w.copy() for w in model.get_weights()]


def _assert_unchanged(model, snapshot):
    current = model.get_weights()
    assert len(current) == len(snapshot)
    for before, after in zip(snapshot, current):
        np.testing.assert_array_equal(after, before)


@pytest.fixture(scope="module")
def source_model():
    return _randomize(_resnet50(), seed=1)


@pytest.fixture(scope="module")
def keras2_file(source_model, tmp_path_factory):
    path = tmp_path_factory.mktemp("keras2") / "resnet50_notop.h5"
    return write_keras2_h5(source_model, path)


@pytest.fixture(scope="module")
def target_model():
    return _resnet50()


@pytest.fixture
def fresh_model(target_model):
    # One model for the module, given new weights before each test, because
    # building a ResNet50 takes seconds.
    return _randomize(target_model, seed=2)


def test_writer_layout_loads_in_keras(source_model, keras2_file):
    # Keras' own legacy HDF5 loader is the oracle for the test writer.
    oracle = _resnet50()
    oracle.load_weights(keras2_file)
    _assert_same_weights(source_model, oracle)


def test_writer_layout_attributes(source_model, keras2_file):
    with h5py.File(keras2_file, "r") as h5_file:
        assert _text(h5_file.attrs["backend"]) == "tensorflow"
        assert _text(h5_file.attrs["keras_version"]).startswith("2.")
        names = [_text(name) for name in h5_file.attrs["layer_names"]]
        assert names == [layer.name for layer in source_model.layers]
        conv_names = [_text(n) for n in h5_file["conv1_conv"].attrs["weight_names"]]
        assert conv_names == ["conv1_conv/kernel:0", "conv1_conv/bias:0"]
        bn_names = [_text(n) for n in h5_file["conv1_bn"].attrs["weight_names"]]
        assert bn_names == [
            "conv1_bn/gamma:0",
            "conv1_bn/beta:0",
            "conv1_bn/moving_mean:0",
            "conv1_bn/moving_variance:0",
        ]
        assert h5_file["conv1_conv/conv1_conv/kernel:0"].shape == (7, 7, 3, 64)
        assert len(h5_file["pool1_pool"].attrs["weight_names"]) == 0


def test_load_keras2_h5(source_model, keras2_file, fresh_model):
    weights.load_weights(fresh_model, keras2_file)
    _assert_same_weights(source_model, fresh_model)


def test_load_keras2_h5_str_path(source_model, keras2_file, fresh_model):
    weights.load_weights(fresh_model, str(keras2_file))
    _assert_same_weights(source_model, fresh_model)


def test_load_keras2_full_model_h5(source_model, fresh_model, tmp_path):
    # model.save("x.h5") nests the Keras 2.x layout in a `model_weights` group.
    path = tmp_path / "full_model.h5"
    source_model.save(path)
    with h5py.File(path, "r") as h5_file:
        assert "model_weights" in h5_file
    weights.load_weights(fresh_model, path)
    _assert_same_weights(source_model, fresh_model)


def test_load_weights_h5_round_trip(source_model, fresh_model, tmp_path):
    path = tmp_path / "model.weights.h5"
    source_model.save_weights(path)
    weights.load_weights(fresh_model, path)
    _assert_same_weights(source_model, fresh_model)


def test_load_weights_h5_without_names(source_model, fresh_model, tmp_path):
    # Keras 3 releases before the `name` attribute identify layers by save key.
    path = tmp_path / "model.weights.h5"
    source_model.save_weights(path)
    with h5py.File(path, "r+") as h5_file:
        for group in h5_file["layers"].values():
            if "name" in group["vars"].attrs:
                del group["vars"].attrs["name"]
        assert "name" not in h5_file["layers/conv2d/vars"].attrs
    weights.load_weights(fresh_model, path)
    _assert_same_weights(source_model, fresh_model)


def test_load_keras_archive_round_trip(source_model, fresh_model, tmp_path):
    path = tmp_path / "model.keras"
    source_model.save(path)
    weights.load_weights(fresh_model, path)
    _assert_same_weights(source_model, fresh_model)


def test_format_detected_from_content(source_model, keras2_file, fresh_model, tmp_path):
    misnamed = tmp_path / "weights.bin"
    misnamed.write_bytes(keras2_file.read_bytes())
    weights.load_weights(fresh_model, misnamed)
    _assert_same_weights(source_model, fresh_model)


def test_notop_file_into_top_model(keras2_file):
    model = _randomize(_resnet50(include_top=True, classes=10), seed=3)
    before = _snapshot(model)
    with pytest.raises(weights.WeightsMismatchError, match="first: layer 'predictions' is missing") as info:
        weights.load_weights(model, keras2_file)
    assert str(keras2_file) in str(info.value)
    assert info.value.mismatches == ["layer 'predictions' is missing from the file"]
    assert info.value.path == keras2_file
    _assert_unchanged(model, before)


def test_wrong_classes_shape_mismatch(tmp_path):
    source = _randomize(_resnet50(include_top=True, classes=10), seed=4)
    path = write_keras2_h5(source, tmp_path / "ten_classes.h5")
    model = _randomize(_resnet50(include_top=True, classes=5), seed=5)
    before = _snapshot(model)
    with pytest.raises(weights.WeightsMismatchError, match=r"shape \(2048, 10\) in the file") as info:
        weights.load_weights(model, path)
    first = info.value.mismatches[0]
    assert first.startswith("layer 'predictions' weight 'kernel'")
    assert "(2048, 5) in the model" in first
    assert "layer 'predictions' weight 'bias': shape (10,) in the file" in info.value.mismatches[1]
    assert len(info.value.mismatches) == 2
    _assert_unchanged(model, before)


def test_wrong_model_lists_missing_and_unexpected(keras2_file):
    model = _randomize(
        keras.applications.ResNet50V2(weights=None, include_top=False, input_shape=INPUT_SHAPE),
        seed=6,
    )
    before = _snapshot(model)
    with pytest.raises(weights.WeightsMismatchError, match="does not fit model 'resnet50v2'") as info:
        weights.load_weights(model, keras2_file)
    mismatches = info.value.mismatches
    # Model order first: V2's stem conv has a bias like V1's, so the first
    # difference is the pre-activation BN of the first block.
    assert mismatches[0] == "layer 'conv2_block1_preact_bn' is missing from the file"
    assert "unexpected layer 'conv1_bn' in the file (4 weights)" in mismatches
    assert "... and" in str(info.value)
    _assert_unchanged(model, before)


def test_weight_count_mismatch(tmp_path):
    inputs = keras.Input((4,))
    outputs = keras.layers.Dense(3, name="dense")(inputs)
    source = keras.Model(inputs, outputs)
    path = write_keras2_h5(source, tmp_path / "with_bias.h5")
    outputs = keras.layers.Dense(3, use_bias=False, name="dense")(inputs)
    model = keras.Model(inputs, outputs)
    before = _snapshot(model)
    with pytest.raises(weights.WeightsMismatchError, match="'dense' has 2 weights in the file but 1 in the model"):
        weights.load_weights(model, path)
    _assert_unchanged(model, before)


def test_keras3_mismatch_leaves_model(tmp_path):
    source = _randomize(_resnet50(include_top=True, classes=10), seed=7)
    path = tmp_path / "ten_classes.weights.h5"
    source.save_weights(path)
    model = _randomize(_resnet50(), seed=8)
    before = _snapshot(model)
    with pytest.raises(weights.WeightsMismatchError, match="unexpected layer 'predictions' in the file"):
        weights.load_weights(model, path)
    _assert_unchanged(model, before)


def test_nested_model_rejected(tmp_path):
    inner_input = keras.Input((4,))
    inner = keras.Model(inner_input, keras.layers.Dense(3, name="inner_dense")(inner_input), name="inner")
    outer_input = keras.Input((4,))
    outer = keras.Model(outer_input, inner(outer_input), name="outer")
    path = tmp_path / "nested.weights.h5"
    outer.save_weights(path)
    with pytest.raises(weights.InvalidWeightsFileError, match="stores nested weights under layer 'functional'") as info:
        weights.load_weights(outer, path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize(
    "content",
    [b"", b"not an HDF5 file at all\n" * 10, b"\x89HDF\r\n\x1a\n" + b"\x00" * 100],
    ids=["empty", "text", "bad_hdf5_header"],
)
def test_non_hdf5_file_names_path(content, tmp_path, fresh_model):
    path = tmp_path / "broken.h5"
    path.write_bytes(content)
    before = _snapshot(fresh_model)
    with pytest.raises(weights.InvalidWeightsFileError, match="not a valid HDF5 file") as info:
        weights.load_weights(fresh_model, path)
    assert str(path) in str(info.value)
    assert info.value.path == path
    _assert_unchanged(fresh_model, before)


def test_truncated_h5_names_path(keras2_file, tmp_path, fresh_model):
    path = tmp_path / "truncated.h5"
    content = keras2_file.read_bytes()
    path.write_bytes(content[: len(content) // 2])
    before = _snapshot(fresh_model)
    with pytest.raises(weights.InvalidWeightsFileError, match="truncated or corrupt") as info:
        weights.load_weights(fresh_model, path)
    assert str(path) in str(info.value)
    _assert_unchanged(fresh_model, before)


def test_truncated_keras_archive_names_path(source_model, tmp_path, fresh_model):
    complete = tmp_path / "complete.keras"
    source_model.save(complete)
    path = tmp_path / "truncated.keras"
    content = complete.read_bytes()
    # Keep the zip's end record so the file is still recognized as a zip,
    # but lose part of the weights member.
    path.write_bytes(content[:1000] + content[-2000:])
    with pytest.raises(weights.InvalidWeightsFileError, match="truncated or corrupt") as info:
        weights.load_weights(fresh_model, path)
    assert str(path) in str(info.value)


def test_zip_without_weights_member(tmp_path, fresh_model):
    path = tmp_path / "other.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(weights.InvalidWeightsFileError, match="no 'model.weights.h5' member") as info:
        weights.load_weights(fresh_model, path)
    assert str(path) in str(info.value)


def test_hdf5_without_keras_layout(tmp_path, fresh_model):
    path = tmp_path / "plain.h5"
    with h5py.File(path, "w") as h5_file:
        h5_file.create_dataset("data", data=np.zeros(3))
    with pytest.raises(weights.InvalidWeightsFileError, match="no known Keras weights layout") as info:
        weights.load_weights(fresh_model, path)
    assert str(path) in str(info.value)
    assert "Top-level keys: data" in str(info.value)


def test_theano_file_rejected(source_model, tmp_path, fresh_model):
    path = write_keras2_h5(source_model, tmp_path / "theano.h5", backend="theano")
    before = _snapshot(fresh_model)
    with pytest.raises(weights.InvalidWeightsFileError, match="Theano backend"):
        weights.load_weights(fresh_model, path)
    _assert_unchanged(fresh_model, before)


def test_missing_dataset_rejected(keras2_file, tmp_path, fresh_model):
    path = tmp_path / "incomplete.h5"
    path.write_bytes(keras2_file.read_bytes())
    with h5py.File(path, "r+") as h5_file:
        del h5_file["conv1_conv/conv1_conv/bias:0"]
    before = _snapshot(fresh_model)
    with pytest.raises(weights.InvalidWeightsFileError, match="weight 'conv1_conv/bias:0' of layer 'conv1_conv'"):
        weights.load_weights(fresh_model, path)
    _assert_unchanged(fresh_model, before)


def test_missing_path(tmp_path, fresh_model):
    path = tmp_path / "absent.h5"
    with pytest.raises(FileNotFoundError, match="Weights file not found: .*absent.h5"):
        weights.load_weights(fresh_model, path)


def test_directory_path(tmp_path, fresh_model):
    with pytest.raises(weights.InvalidWeightsFileError, match="is not a regular file"):
        weights.load_weights(fresh_model, tmp_path)


def test_path_type_checked(fresh_model):
    with pytest.raises(TypeError, match=r"Received: path=42 of type int"):
        weights.load_weights(fresh_model, 42)
