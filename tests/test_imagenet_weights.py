"""weights="imagenet" end to end, with generated files in the official layout."""

import dataclasses
import hashlib

import keras
import numpy as np
import pytest
from keras.applications import resnet as keras_resnet
from keras.applications import resnet_v2 as keras_resnet_v2

import keras_resnets
from keras_resnets import weights as weights_lib
from tests.h5_layout import write_keras2_h5

REFERENCES = {"ResNet50": keras_resnet.ResNet50, "ResNet50V2": keras_resnet_v2.ResNet50V2}


@pytest.fixture
def weights_dir(tmp_path, monkeypatch):
    folder = tmp_path / "weights"
    folder.mkdir()
    monkeypatch.setenv("KERAS_RESNETS_WEIGHTS_DIR", str(folder))
    monkeypatch.setenv("KERAS_RESNETS_OFFLINE", "1")
    return folder


def install_generated_file(model_name, include_top, folder, monkeypatch):
    """Write random weights under the official name and register their hash.

    The official registry entry is left as it is; only the lookup used by
    the builders returns a copy with the generated file's MD5.
    """
    keras.utils.clear_session()
    source = REFERENCES[model_name](weights=None, include_top=include_top)
    rng = np.random.default_rng(0)
    source.set_weights([rng.normal(0, 0.05, w.shape).astype("float32") for w in source.get_weights()])
    official = weights_lib.imagenet_weights_file(model_name.lower(), include_top=include_top)
    path = write_keras2_h5(source, folder / official.file_name)
    digest = hashlib.md5(path.read_bytes()).hexdigest()
    generated = dataclasses.replace(official, file_hash=digest)
    original_lookup = weights_lib.imagenet_weights_file

    def lookup(weights_key, include_top):
        entry = original_lookup(weights_key, include_top)
        return generated if entry == official else entry

    monkeypatch.setattr(weights_lib, "imagenet_weights_file", lookup)
    return source


@pytest.mark.parametrize("model_name", ["ResNet50", "ResNet50V2"])
@pytest.mark.parametrize("include_top", [True, False])
def test_imagenet_from_weights_dir(model_name, include_top, weights_dir, monkeypatch):
    source = install_generated_file(model_name, include_top, weights_dir, monkeypatch)
    kwargs = {} if include_top else {"input_shape": (64, 64, 3)}
    model = getattr(keras_resnets, model_name)(weights="imagenet", include_top=include_top, **kwargs)

    for loaded, expected in zip(model.get_weights(), source.get_weights()):
        np.testing.assert_array_equal(loaded, expected)


def test_imagenet_after_adapter_layers(weights_dir, monkeypatch):
    source = install_generated_file("ResNet50", False, weights_dir, monkeypatch)
    image = keras.Input((64, 64, 1))
    rgb = keras.layers.Conv2D(3, 1, name="gray_to_rgb")(image)
    model = keras_resnets.ResNet50(weights="imagenet", include_top=False, input_tensor=rgb)

    assert model.inputs[0] is image
    np.testing.assert_array_equal(
        model.get_layer("conv1_conv").get_weights()[0], source.get_layer("conv1_conv").get_weights()[0]
    )
    assert model.get_layer("gray_to_rgb").get_weights()[0].shape == (1, 1, 1, 3)


def test_imagenet_missing_offline_raises(weights_dir):
    with pytest.raises(weights_lib.WeightsUnavailableError, match=r"resnet50_weights_tf_dim_ordering_tf_kernels_notop\.h5"):
        keras_resnets.ResNet50(weights="imagenet", include_top=False)


def test_imagenet_wrong_file_leaves_no_model(weights_dir, monkeypatch):
    # A file of the wrong architecture under the official name: the hash
    # matches the (patched) entry, so the loader's layer check must catch it.
    install_generated_file("ResNet50V2", False, weights_dir, monkeypatch)
    official_v1 = weights_lib.imagenet_weights_file("resnet50", include_top=False)
    v2_file = weights_dir / weights_lib.imagenet_weights_file("resnet50v2", include_top=False).file_name
    v1_path = weights_dir / official_v1.file_name
    v1_path.write_bytes(v2_file.read_bytes())
    digest = hashlib.md5(v1_path.read_bytes()).hexdigest()
    patched_lookup = weights_lib.imagenet_weights_file

    def lookup(weights_key, include_top):
        entry = patched_lookup(weights_key, include_top)
        return dataclasses.replace(entry, file_hash=digest) if entry == official_v1 else entry

    monkeypatch.setattr(weights_lib, "imagenet_weights_file", lookup)
    with pytest.raises(weights_lib.WeightsMismatchError, match=official_v1.file_name):
        keras_resnets.ResNet50(weights="imagenet", include_top=False)


def test_weights_path_after_adapter_layers(tmp_path):
    source = keras_resnet.ResNet50(weights=None, include_top=False, input_shape=(64, 64, 3))
    path = write_keras2_h5(source, tmp_path / "notop.h5")
    image = keras.Input((64, 64, 4))
    rgb = keras.layers.Conv2D(3, 1, name="adapter")(image)
    model = keras_resnets.ResNet50(weights=str(path), include_top=False, input_tensor=rgb)

    np.testing.assert_array_equal(
        model.get_layer("conv5_block3_3_conv").get_weights()[0],
        source.get_layer("conv5_block3_3_conv").get_weights()[0],
    )


def test_weights_path_of_whole_model_with_adapter(tmp_path):
    image = keras.Input((64, 64, 4))
    rgb = keras.layers.Conv2D(3, 1, name="adapter")(image)
    first = keras_resnets.ResNet50(weights=None, include_top=False, input_tensor=rgb)
    path = tmp_path / "whole.weights.h5"
    first.save_weights(path)

    keras.utils.clear_session()
    image = keras.Input((64, 64, 4))
    rgb = keras.layers.Conv2D(3, 1, name="adapter")(image)
    second = keras_resnets.ResNet50(weights=str(path), include_top=False, input_tensor=rgb)
    for loaded, expected in zip(second.get_weights(), first.get_weights()):
        np.testing.assert_array_equal(loaded, expected)


def test_weights_path_of_other_model_with_adapter(tmp_path):
    other = keras_resnet_v2.ResNet50V2(weights=None, include_top=False, input_shape=(64, 64, 3))
    path = write_keras2_h5(other, tmp_path / "v2.h5")
    image = keras.Input((64, 64, 4))
    rgb = keras.layers.Conv2D(3, 1, name="adapter")(image)
    with pytest.raises(weights_lib.WeightsMismatchError, match=r"v2\.h5"):
        keras_resnets.ResNet50(weights=str(path), include_top=False, input_tensor=rgb)
