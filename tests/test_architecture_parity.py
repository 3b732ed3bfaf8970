"""The six ResNets against keras.applications: structure, outputs, inputs."""

import keras
import numpy as np
import pytest
from keras.applications import resnet as keras_resnet
from keras.applications import resnet_v2 as keras_resnet_v2

import keras_resnets
from tests.h5_layout import write_keras2_h5

# Parameter counts published in the keras.applications documentation
# (https://keras.io/api/applications/), 1000-class top included.
PUBLISHED_PARAMS = {
    "ResNet50": 25_636_712,
    "ResNet101": 44_707_176,
    "ResNet152": 60_419_944,
    "ResNet50V2": 25_613_800,
    "ResNet101V2": 44_675_560,
    "ResNet152V2": 60_380_648,
}

REFERENCE_BUILDERS = {
    "ResNet50": keras_resnet.ResNet50,
    "ResNet101": keras_resnet.ResNet101,
    "ResNet152": keras_resnet.ResNet152,
    "ResNet50V2": keras_resnet_v2.ResNet50V2,
    "ResNet101V2": keras_resnet_v2.ResNet101V2,
    "ResNet152V2": keras_resnet_v2.ResNet152V2,
}

MODEL_NAMES = sorted(PUBLISHED_PARAMS)


def build_pair(model_name, **kwargs):
    """Build our model and keras.applications' with the same arguments.

    The session is cleared before each so that auto-generated layer names
    (V2's shortcut max pooling) start from the same counter.
    """
    keras.utils.clear_session()
    ours = getattr(keras_resnets, model_name)(**kwargs)
    keras.utils.clear_session()
    reference = REFERENCE_BUILDERS[model_name](**kwargs)
    return ours, reference


def randomize_weights(model, seed=0):
    """Give every weight, BatchNorm statistics included, non-trivial values."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            gamma, beta, mean, variance = layer.get_weights()
            layer.set_weights(
                [
                    rng.uniform(0.5, 1.5, gamma.shape).astype("float32"),
                    rng.normal(0.0, 0.2, beta.shape).astype("float32"),
                    rng.normal(0.0, 0.2, mean.shape).astype("float32"),
                    rng.uniform(0.5, 2.0, variance.shape).astype("float32"),
                ]
            )
        elif layer.weights:
            # He-style scale keeps activations of the deep stacks finite.
            new_weights = []
            for weight in layer.get_weights():
                fan_in = int(np.prod(weight.shape[:-1])) or 1
                new_weights.append(
                    rng.normal(0.0, np.sqrt(1.0 / fan_in), weight.shape).astype("float32")
                )
            layer.set_weights(new_weights)


def calibrate_top(model, images):
    """Scale the top layer so the softmax of `images` is far from saturated.

    Random weights make deep stacks' features large; without this the
    scores would be one-hot and hide any difference.
    """
    features = keras.Model(model.inputs, model.get_layer("avg_pool").output).predict(
        images, verbose=0
    )
    top = model.get_layer("predictions")
    kernel, bias = top.get_weights()
    logits_scale = np.std(features @ kernel) + 1e-12
    top.set_weights([kernel / logits_scale, bias * 0.0])


def layer_signature(model):
    return [(layer.name, type(layer).__name__) for layer in model.layers]


def weight_signature(model):
    return [
        (layer.name, variable.path.split("/")[-1], tuple(variable.shape))
        for layer in model.layers
        for variable in layer.weights
    ]


@pytest.mark.parametrize("model_name", MODEL_NAMES)
def test_structure_matches_keras(model_name):
    ours, reference = build_pair(model_name, weights=None)

    assert layer_signature(ours) == layer_signature(reference)
    assert weight_signature(ours) == weight_signature(reference)
    assert ours.name == reference.name
    assert ours.count_params() == reference.count_params()
    assert ours.count_params() == PUBLISHED_PARAMS[model_name]
    for ours_layer, reference_layer in zip(ours.layers, reference.layers):
        assert ours_layer.get_config() == reference_layer.get_config(), ours_layer.name


@pytest.mark.parametrize("model_name", MODEL_NAMES)
def test_topological_order_matches_keras(model_name):
    # Keras 3 loads legacy HDF5 files by the order of weighted layers.
    ours, reference = build_pair(
        model_name, weights=None, include_top=False, input_shape=(64, 64, 3)
    )
    ours_order = [layer.name for layer in ours.layers if layer.weights]
    reference_order = [layer.name for layer in reference.layers if layer.weights]
    assert ours_order == reference_order


@pytest.mark.parametrize("model_name", MODEL_NAMES)
def test_outputs_match_keras_from_official_file(model_name, data_format, tmp_path):
    shape = (3, 64, 64) if data_format == "channels_first" else (64, 64, 3)
    keras.utils.clear_session()
    source = REFERENCE_BUILDERS[model_name](weights=None, input_shape=shape)
    images = np.random.default_rng(1).uniform(-1.0, 1.0, (2, *shape)).astype("float32")
    randomize_weights(source)
    calibrate_top(source, images)
    weights_path = write_keras2_h5(source, tmp_path / f"{model_name}.h5")

    ours, reference = build_pair(model_name, weights=str(weights_path), input_shape=shape)
    ours_output = ours.predict(images, verbose=0)
    reference_output = reference.predict(images, verbose=0)

    assert ours_output.shape == (2, 1000)
    # A saturated softmax would hide differences: the scores must vary.
    assert ours_output.max() < 0.99
    np.testing.assert_allclose(ours_output, reference_output, rtol=0, atol=1e-5)
    # Small scores are compared relatively, so they count too.
    np.testing.assert_allclose(ours_output, reference_output, rtol=1e-3, atol=1e-30)
    for ours_weight, source_weight in zip(ours.get_weights(), source.get_weights()):
        np.testing.assert_array_equal(ours_weight, source_weight)


@pytest.mark.parametrize("pooling", [None, "avg", "max"])
@pytest.mark.parametrize("model_name", ["ResNet50", "ResNet50V2"])
def test_pooling_outputs_match_keras(model_name, pooling, data_format):
    shape = (3, 96, 96) if data_format == "channels_first" else (96, 96, 3)
    ours, reference = build_pair(
        model_name, weights=None, include_top=False, pooling=pooling, input_shape=shape
    )
    reference.set_weights(ours.get_weights())
    images = np.random.default_rng(2).uniform(0, 1, (2, *shape)).astype("float32")

    assert ours.output.shape == reference.output.shape
    assert [layer.name for layer in ours.layers][-1] == reference.layers[-1].name
    np.testing.assert_allclose(
        ours.predict(images, verbose=0), reference.predict(images, verbose=0), rtol=1e-5, atol=1e-5
    )


def test_unknown_size_without_top(data_format):
    model = keras_resnets.ResNet50(weights=None, include_top=False)
    expected = (None, 3, None, None) if data_format == "channels_first" else (None, None, None, 3)
    assert model.input.shape == expected
    output_shape = (None, 2048, None, None) if data_format == "channels_first" else (None, None, None, 2048)
    assert model.output.shape == output_shape


@pytest.mark.parametrize("model_name", ["ResNet101", "ResNet152V2"])
def test_keras_tensor_with_predecessors(model_name):
    image = keras.Input((64, 64, 3), name="raw_image")
    scaled = keras.layers.Rescaling(1.0 / 255, name="scale")(image)
    ours, reference = build_pair(
        model_name, weights=None, include_top=False, pooling="avg", input_tensor=scaled
    )

    assert ours.inputs[0] is image
    assert layer_signature(ours) == layer_signature(reference)
    assert ours.get_layer("scale") is not None
    reference.set_weights(ours.get_weights())
    images = np.random.default_rng(3).uniform(0, 255, (2, 64, 64, 3)).astype("float32")
    np.testing.assert_allclose(
        ours.predict(images, verbose=0), reference.predict(images, verbose=0), rtol=1e-5, atol=1e-5
    )


def test_backend_tensor_fixes_input_shape():
    images = keras.ops.convert_to_tensor(
        np.random.default_rng(4).uniform(0, 1, (2, 48, 48, 3)).astype("float32")
    )
    model = keras_resnets.ResNet50(weights=None, include_top=False, input_tensor=images)

    assert model.input.shape == (None, 48, 48, 3)
    output = model(images)
    assert tuple(output.shape) == (2, 2, 2, 2048)


def test_input_shape_conflicting_with_tensor_raises():
    image = keras.Input((64, 64, 3))
    with pytest.raises(ValueError, match=r"does not match the shape of `input_tensor`.*input_shape=\(32, 32, 3\)"):
        keras_resnets.ResNet50(
            weights=None, include_top=False, input_tensor=image, input_shape=(32, 32, 3)
        )


@pytest.mark.parametrize("channels", [1, 4])
def test_channel_counts_without_imagenet(channels, data_format, recwarn):
    shape = (channels, 64, 64) if data_format == "channels_first" else (64, 64, channels)
    ours, reference = build_pair("ResNet50V2", weights=None, input_shape=shape, classes=7)

    unusual = [w for w in recwarn.list if "1 or 3 input channels" in str(w.message)]
    ours_warnings = [w for w in unusual if "Check that the data format" in str(w.message)]
    if channels == 4:
        assert len(unusual) == 2, "both libraries warn for 4 channels"
        assert len(ours_warnings) == 1
        # The warning points at the caller, not at library internals.
        assert ours_warnings[0].filename == __file__
    else:
        assert not unusual
    assert weight_signature(ours) == weight_signature(reference)
    assert ours.output.shape == (None, 7)


def test_keras_file_round_trip_without_custom_objects(tmp_path):
    model = keras_resnets.ResNet50V2(weights=None, input_shape=(64, 64, 3), classes=5)
    randomize_weights(model)
    path = tmp_path / "model.keras"
    model.save(path)

    # A fresh session proves no keras_resnets object is needed to load.
    keras.utils.clear_session()
    loaded = keras.saving.load_model(path)
    images = np.random.default_rng(5).uniform(-1, 1, (2, 64, 64, 3)).astype("float32")
    np.testing.assert_allclose(
        loaded.predict(images, verbose=0), model.predict(images, verbose=0), rtol=1e-6, atol=1e-6
    )
    assert loaded.name == "resnet50v2"


def test_get_config_round_trip():
    model = keras_resnets.ResNet101(weights=None, include_top=False, input_shape=(64, 64, 3))
    clone = keras.Model.from_config(model.get_config())

    assert layer_signature(clone) == layer_signature(model)
    assert clone.count_params() == model.count_params()
    assert clone.get_config() == model.get_config()


def test_only_builtin_layers():
    model = keras_resnets.ResNet152V2(weights=None, include_top=False, input_shape=(64, 64, 3))
    modules = {type(layer).__module__.split(".")[0] for layer in model.layers}
    assert modules == {"keras"}
    assert all(
        keras.saving.get_registered_object(type(layer).__name__) is None for layer in model.layers
    )
