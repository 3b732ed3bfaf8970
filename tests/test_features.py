"""feature_extractor and stage_info on this package's models and keras.applications'."""

import keras
import numpy as np
import pytest
from keras.applications import resnet as keras_resnet
from keras.applications import resnet_v2 as keras_resnet_v2

import keras_resnets
from keras_resnets import features


def image_shape(size, data_format):
    return (3, size, size) if data_format == "channels_first" else (size, size, 3)


def random_images(shape, seed=0):
    return np.random.default_rng(seed).uniform(-1.0, 1.0, (2, *shape)).astype("float32")


def randomize_batch_norm(model, seed=0):
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


# (builder, expected {stage: (layer name, stride, channels)})
V1_STAGES = {
    "conv2": ("conv2_block3_out", 4, 256),
    "conv3": ("conv3_block4_out", 8, 512),
    "conv4": ("conv4_block6_out", 16, 1024),
    "conv5": ("conv5_block3_out", 32, 2048),
}
# keras.applications' V2 strides in the last block of stages 2-4.
V2_STAGES = {
    "conv2": ("conv2_block3_out", 8, 256),
    "conv3": ("conv3_block4_out", 16, 512),
    "conv4": ("conv4_block6_out", 32, 1024),
    "conv5": ("conv5_block3_out", 32, 2048),
}
BASIC18_STAGES = {
    "conv2": ("conv2_block2_out", 4, 64),
    "conv3": ("conv3_block2_out", 8, 128),
    "conv4": ("conv4_block2_out", 16, 256),
    "conv5": ("conv5_block2_out", 32, 512),
}
CIFAR20_STAGES = {
    "conv2": ("conv2_block3_out", 1, 16),
    "conv3": ("conv3_block3_out", 2, 32),
    "conv4": ("conv4_block3_out", 4, 64),
}

CASES = [
    (keras_resnets.ResNet50, V1_STAGES),
    (keras_resnets.ResNet50V2, V2_STAGES),
    (keras_resnet.ResNet50, V1_STAGES),
    (keras_resnet_v2.ResNet50V2, V2_STAGES),
    (keras_resnets.ResNet18, BASIC18_STAGES),
    (keras_resnets.ResNet18V2, BASIC18_STAGES),
    (keras_resnets.ResNeXt50, V1_STAGES),
    (keras_resnets.ResNet20, CIFAR20_STAGES),
]
CASE_IDS = [f"{builder.__module__.split('.')[0]}.{builder.__name__}" for builder, _ in CASES]


@pytest.mark.parametrize("builder, expected", CASES, ids=CASE_IDS)
def test_stage_info(builder, expected):
    model = builder(weights=None, include_top=False, input_shape=(64, 64, 3))
    infos = features.stage_info(model)

    assert list(infos) == list(expected)
    for stage, (layer_name, stride, channels) in expected.items():
        assert infos[stage] == features.StageInfo(
            name=stage, layer_name=layer_name, stride=stride, channels=channels
        )


@pytest.mark.parametrize("builder, expected", CASES, ids=CASE_IDS)
def test_features_equal_intermediate_layers(builder, expected, data_format):
    shape = image_shape(64, data_format)
    model = builder(weights=None, include_top=False, input_shape=shape)
    randomize_batch_norm(model)
    extractor = keras_resnets.feature_extractor(model)
    layer_names = [layer_name for layer_name, _, _ in expected.values()]
    reference = keras.Model(model.input, [model.get_layer(name).output for name in layer_names])

    images = random_images(shape, seed=1)
    outputs = extractor.predict(images, verbose=0)
    reference_outputs = reference.predict(images, verbose=0)

    assert isinstance(outputs, dict)
    assert sorted(outputs) == sorted(expected)
    for (stage, (_, stride, channels)), reference_output in zip(expected.items(), reference_outputs):
        size = 64 // stride
        if data_format == "channels_first":
            assert outputs[stage].shape == (2, channels, size, size)
        else:
            assert outputs[stage].shape == (2, size, size, channels)
        assert np.abs(reference_output).max() > 0
        np.testing.assert_array_equal(outputs[stage], reference_output)


def test_features_share_variables():
    model = keras_resnets.ResNet18(include_top=False, input_shape=(32, 32, 3))
    extractor = keras_resnets.feature_extractor(model, stages=("conv3",))

    model_variables = {id(variable) for variable in model.weights}
    assert extractor.weights
    assert all(id(variable) in model_variables for variable in extractor.weights)
    assert extractor.get_layer("conv3_block1_1_conv") is model.get_layer("conv3_block1_1_conv")

    images = random_images((32, 32, 3), seed=2)
    before = extractor.predict(images, verbose=0)["conv3"]
    conv = model.get_layer("conv3_block2_2_conv")
    conv.kernel.assign(conv.kernel.numpy() * 3.0)
    after = extractor.predict(images, verbose=0)["conv3"]
    assert not np.allclose(before, after)


def test_requested_stages_only():
    model = keras_resnets.ResNet50(weights=None, include_top=False, input_shape=(32, 32, 3))
    extractor = keras_resnets.feature_extractor(model, stages=["conv5", "conv3"])

    outputs = extractor(random_images((32, 32, 3)))
    assert sorted(outputs) == ["conv3", "conv5"]
    assert extractor.name == "resnet50_features"
    # Layers after conv5 (the top or pooling) are not part of the extractor.
    names = {layer.name for layer in extractor.layers}
    assert "conv5_block3_out" in names
    assert "conv3_block4_out" in names


def test_variable_input_size():
    model = keras_resnets.ResNet34(include_top=False)
    extractor = keras_resnets.feature_extractor(model)
    for size, conv5_size in [(32, 1), (97, 4)]:
        outputs = extractor(random_images((size, size, 3)))
        assert tuple(outputs["conv2"].shape) == (2, -(-size // 4), -(-size // 4), 64)
        assert tuple(outputs["conv5"].shape) == (2, conv5_size, conv5_size, 512)


def test_input_tensor_model():
    image = keras.Input((48, 48, 3), name="raw_image")
    scaled = keras.layers.Rescaling(1.0 / 127.5, offset=-1.0, name="scale")(image)
    model = keras_resnets.ResNeXt50(include_top=False, input_tensor=scaled)
    extractor = keras_resnets.feature_extractor(model, stages=("conv4",))
    infos = keras_resnets.stage_info(model)

    assert extractor.inputs[0] is image
    assert infos["conv4"].stride == 16
    reference = keras.Model(image, model.get_layer("conv4_block6_out").output)
    images = np.random.default_rng(3).uniform(0, 255, (2, 48, 48, 3)).astype("float32")
    np.testing.assert_array_equal(
        extractor.predict(images, verbose=0)["conv4"], reference.predict(images, verbose=0)
    )


def test_unknown_resolution_change_gives_no_stride():
    image = keras.Input((128, 128, 3))
    resized = keras.layers.Resizing(64, 64)(image)
    model = keras_resnets.ResNet18(include_top=False, input_tensor=resized)
    infos = keras_resnets.stage_info(model)

    assert infos["conv3"].stride is None
    assert infos["conv3"].channels == 128


def test_extractor_keras_file_round_trip(tmp_path):
    model = keras_resnets.ResNet20(include_top=False)
    randomize_batch_norm(model)
    extractor = keras_resnets.feature_extractor(model)
    path = tmp_path / "features.keras"
    extractor.save(path)

    keras.utils.clear_session()
    loaded = keras.saving.load_model(path)
    images = random_images((32, 32, 3), seed=4)
    expected = extractor.predict(images, verbose=0)
    actual = loaded.predict(images, verbose=0)
    assert sorted(actual) == ["conv2", "conv3", "conv4"]
    for stage in expected:
        np.testing.assert_allclose(actual[stage], expected[stage], rtol=1e-6, atol=1e-6)


# Errors


def test_unknown_stage_raises():
    model = keras_resnets.ResNet20(include_top=False)
    with pytest.raises(
        ValueError,
        match=r"Unknown stage 'conv5'\. Available stages of model 'resnet20': "
        r"'conv2', 'conv3', 'conv4'\. Received: stages=\('conv2', 'conv5'\)",
    ):
        keras_resnets.feature_extractor(model, stages=("conv2", "conv5"))


def test_repeated_stage_raises():
    model = keras_resnets.ResNet20(include_top=False)
    with pytest.raises(ValueError, match=r"must not name a stage twice.*stages=\('conv3', 'conv3'\)"):
        keras_resnets.feature_extractor(model, stages=("conv3", "conv3"))


def test_empty_stages_raise():
    model = keras_resnets.ResNet20(include_top=False)
    with pytest.raises(ValueError, match=r"at least one stage.*Received: stages=\(\)"):
        keras_resnets.feature_extractor(model, stages=())


def test_single_string_stage_raises():
    model = keras_resnets.ResNet20(include_top=False)
    with pytest.raises(TypeError, match=r"for one stage pass \('conv3',\)\. Received: stages='conv3'"):
        keras_resnets.feature_extractor(model, stages="conv3")


def test_non_model_raises():
    with pytest.raises(TypeError, match=r"`model` must be a Functional keras.Model.*type str"):
        keras_resnets.feature_extractor("resnet50")


def test_model_without_stages_raises():
    inputs = keras.Input((32, 32, 3))
    model = keras.Model(inputs, keras.layers.Conv2D(4, 3, name="conv")(inputs), name="tiny")
    with pytest.raises(ValueError, match=r"Model 'tiny' has no stage output layers"):
        keras_resnets.feature_extractor(model)


def test_sequential_strides():
    # A Sequential config lists no inbound nodes; each layer reads the last.
    model = keras.Sequential(
        [
            keras.Input((32, 32, 3)),
            keras.layers.Conv2D(8, 3, strides=2, padding="same", name="conv1_conv"),
            keras.layers.MaxPooling2D(2, name="pool1_pool"),
            keras.layers.Activation("relu", name="conv2_block1_out"),
            keras.layers.Conv2D(16, 3, strides=2, padding="same", name="conv3_block1_1_conv"),
            keras.layers.Activation("relu", name="conv3_block1_out"),
        ]
    )
    infos = keras_resnets.stage_info(model)

    assert infos["conv2"] == features.StageInfo("conv2", "conv2_block1_out", 4, 8)
    assert infos["conv3"] == features.StageInfo("conv3", "conv3_block1_out", 8, 16)
    outputs = keras_resnets.feature_extractor(model)(random_images((32, 32, 3)))
    assert tuple(outputs["conv3"].shape) == (2, 4, 4, 16)
