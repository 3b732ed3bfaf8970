"""Tests of keras_resnets.inference: folding, bfloat16, Predictor, FLOP counting.

Models are small (32x32 or 64x64 inputs, batch 2-8) and have random weights
with random BatchNormalization statistics, so that a wrong fold changes the
outputs. Reference outputs always come from the unmodified source model.
"""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_resnets
from keras_resnets import imagenet_utils
from keras_resnets import inference
from keras_resnets import weights as weights_lib
from keras_resnets.inference import Predictor, count_flops, optimize_for_inference

BUILDERS = {
    "resnet50": keras_resnets.ResNet50,
    "resnet101": keras_resnets.ResNet101,
    "resnet152": keras_resnets.ResNet152,
    "resnet50v2": keras_resnets.ResNet50V2,
    "resnet101v2": keras_resnets.ResNet101V2,
    "resnet152v2": keras_resnets.ResNet152V2,
}

# The folded arithmetic is exact up to float32 rounding; measured maximum
# relative differences are about 1e-6.
FLOAT32_RELATIVE_TOLERANCE = 1e-4


def randomize_statistics(model, seed=0):
    """Give every BatchNormalization and convolution bias of `model` random values."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            weights = []
            for variable in layer.weights:
                size = variable.shape[0]
                name = variable.name
                if name == "gamma":
                    weights.append(rng.uniform(0.5, 1.5, size))
                elif name == "moving_variance":
                    weights.append(rng.uniform(0.5, 2.0, size))
                else:
                    weights.append(rng.normal(0.0, 0.2, size))
            layer.set_weights(weights)
        elif isinstance(layer, keras.layers.Conv2D) and layer.use_bias:
            kernel = layer.kernel.numpy()
            layer.set_weights([kernel, rng.normal(0.0, 0.1, layer.filters)])
    return model


def random_images(shape, seed=1):
    return np.random.default_rng(seed).uniform(-1.0, 1.0, shape).astype("float32")


def assert_close(actual, expected, tolerance=FLOAT32_RELATIVE_TOLERANCE):
    """Assert that the largest difference is within `tolerance` of the largest |expected|."""
    actual = np.asarray(actual)
    expected = np.asarray(expected)
    assert actual.shape == expected.shape
    scale = np.max(np.abs(expected))
    assert scale > 0
    difference = np.max(np.abs(actual - expected))
    assert difference <= tolerance * scale, f"max difference {difference} vs scale {scale}"


def batch_normalization_after_convolution(model):
    """Return the names of BatchNormalization layers whose input is a convolution's output.

    Reads the serialized graph: each inbound node names the layer that made
    each of its input tensors.
    """
    class_names = {entry["name"]: entry["class_name"] for entry in model.get_config()["layers"]}
    names = []
    for entry in model.get_config()["layers"]:
        if entry["class_name"] != "BatchNormalization":
            continue
        for node in entry["inbound_nodes"]:
            source_name = node["args"][0]["config"]["keras_history"][0]
            if class_names[source_name] in ("Conv1D", "Conv2D", "Conv3D"):
                names.append(entry["name"])
    return names


def is_preactivation_norm(name):
    return name.endswith("_preact_bn") or name == "post_bn"


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_folding_matches_every_builder(name):
    model = randomize_statistics(BUILDERS[name](weights=None, input_shape=(32, 32, 3), include_top=False))
    images = random_images((2, 32, 32, 3))
    expected = model(images, training=False)

    folded = optimize_for_inference(model)

    assert_close(folded(images), expected)
    assert batch_normalization_after_convolution(folded) == []


@pytest.mark.parametrize("name", ["resnet50", "resnet50v2"])
@pytest.mark.parametrize("include_top", [True, False])
def test_folding_keeps_names_and_preact_norms(name, include_top):
    model = randomize_statistics(
        BUILDERS[name](weights=None, input_shape=(64, 64, 3), include_top=include_top, classes=10)
    )
    images = random_images((2, 64, 64, 3))
    expected = model.predict(images, verbose=0)

    folded = optimize_for_inference(model)

    assert_close(folded.predict(images, verbose=0), expected)
    source_names = [layer.name for layer in model.layers]
    folded_names = [layer.name for layer in folded.layers]
    removed = [layer_name for layer_name in source_names if layer_name not in folded_names]
    assert [layer_name for layer_name in source_names if layer_name not in removed] == folded_names
    assert removed
    assert all(layer_name.endswith("_bn") for layer_name in removed)
    assert not any(is_preactivation_norm(layer_name) for layer_name in removed)
    kept_norms = [
        layer.name for layer in folded.layers if isinstance(layer, keras.layers.BatchNormalization)
    ]
    expected_kept = [layer_name for layer_name in source_names if is_preactivation_norm(layer_name)]
    assert kept_norms == expected_kept
    assert folded.name == model.name


def test_folding_leaves_source_untouched():
    model = randomize_statistics(keras_resnets.ResNet50(weights=None, input_shape=(32, 32, 3), include_top=False))
    weights_before = [weight.copy() for weight in model.get_weights()]
    layer_count = len(model.layers)
    images = random_images((2, 32, 32, 3))
    expected = model(images, training=False).numpy()

    folded = optimize_for_inference(model, precision="bfloat16")

    assert len(model.layers) == layer_count
    for before, after in zip(weights_before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(before, after)
    assert all(layer.dtype_policy.name == "float32" for layer in model.layers)
    np.testing.assert_array_equal(model(images, training=False).numpy(), expected)
    assert not any(folded_variable is variable for folded_variable in folded.weights for variable in model.weights)


def test_folding_channels_first(data_format):
    # keras with the TensorFlow backend runs channels_first convolutions on
    # CPU by transposing, so both formats can be checked here.
    shape = (3, 32, 32) if data_format == "channels_first" else (32, 32, 3)
    model = randomize_statistics(keras_resnets.ResNet50V2(weights=None, input_shape=shape, include_top=False))
    axis = 1 if data_format == "channels_first" else 3
    assert model.get_layer("conv2_block1_1_bn").axis == axis
    images = random_images((2, *shape))

    folded = optimize_for_inference(model)

    assert_close(folded(images), model(images, training=False))
    assert batch_normalization_after_convolution(folded) == []
    assert folded.get_layer("conv2_block1_1_conv").data_format == data_format


def test_folding_input_tensor_model():
    inputs = keras.Input((32, 32, 3), name="pixels")
    scaled = keras.layers.Rescaling(1.0 / 127.5, offset=-1.0, name="scale")(inputs)
    model = randomize_statistics(keras_resnets.ResNet50(weights=None, input_tensor=scaled, include_top=False))
    images = np.random.default_rng(3).uniform(0, 255, (2, 32, 32, 3)).astype("float32")

    folded = optimize_for_inference(model)

    assert folded.inputs[0].name == "pixels"
    assert "scale" in [layer.name for layer in folded.layers]
    assert_close(folded(images), model(images, training=False))


def small_graph_model():
    """Return a model whose graph has each case that must or must not fold."""
    inputs = keras.Input((16, 16, 4))
    # Folds: convolution without bias, normalization without gamma and beta.
    x = keras.layers.Conv2D(8, 3, padding="same", use_bias=False, name="plain_conv")(inputs)
    x = keras.layers.BatchNormalization(center=False, scale=False, name="plain_bn")(x)
    x = keras.layers.ReLU(name="plain_relu")(x)
    # Does not fold: the convolution's output has a second reader.
    branch = keras.layers.Conv2D(8, 1, name="shared_output_conv")(x)
    normalized = keras.layers.BatchNormalization(name="shared_output_bn")(branch)
    x = keras.layers.Add(name="add")([branch, normalized])
    # Does not fold: an activation sits inside the convolution.
    x = keras.layers.Conv2D(8, 3, activation="relu", name="activated_conv")(x)
    x = keras.layers.BatchNormalization(name="activated_bn")(x)
    # Does not fold: the normalization runs over a spatial axis.
    x = keras.layers.Conv2D(14, 1, name="spatial_conv")(x)
    x = keras.layers.BatchNormalization(axis=1, name="spatial_bn")(x)
    # Folds, and is the model output.
    x = keras.layers.Conv2D(6, 1, name="last_conv")(x)
    outputs = keras.layers.BatchNormalization(epsilon=0.1, name="last_bn")(x)
    return keras.Model(inputs, outputs, name="graph_cases")


def test_folding_graph_cases():
    model = randomize_statistics(small_graph_model())
    images = random_images((2, 16, 16, 4))

    folded = optimize_for_inference(model)

    names = [layer.name for layer in folded.layers]
    assert "plain_bn" not in names
    assert "last_bn" not in names
    for kept in ("shared_output_bn", "activated_bn", "spatial_bn"):
        assert kept in names
    assert folded.get_layer("plain_conv").use_bias
    assert folded.layers[-1].name == "last_conv"
    assert_close(folded(images), model(images, training=False))


def test_folding_shared_layer_stays_shared():
    inputs = keras.Input((8, 8, 3))
    convolution = keras.layers.Conv2D(3, 3, padding="same", name="shared_conv")
    normalization = keras.layers.BatchNormalization(name="after_shared")
    first = convolution(inputs)
    second = convolution(keras.layers.ReLU(name="relu")(first))
    outputs = normalization(second)
    model = randomize_statistics(keras.Model(inputs, outputs))
    images = random_images((2, 8, 8, 3))

    folded = optimize_for_inference(model)

    assert [layer.name for layer in folded.layers].count("shared_conv") == 1
    assert "after_shared" in [layer.name for layer in folded.layers]
    assert_close(folded(images), model(images, training=False))


def test_folding_nested_model_copied_unchanged():
    inner_inputs = keras.Input((8, 8, 3))
    inner_outputs = keras.layers.BatchNormalization(name="inner_bn")(
        keras.layers.Conv2D(4, 3, name="inner_conv")(inner_inputs)
    )
    inner = keras.Model(inner_inputs, inner_outputs, name="inner")
    inputs = keras.Input((8, 8, 3))
    outputs = keras.layers.GlobalAveragePooling2D(name="pool")(inner(inputs))
    model = keras.Model(inputs, outputs)
    randomize_statistics(inner)
    images = random_images((2, 8, 8, 3))

    folded = optimize_for_inference(model, precision="bfloat16")

    nested = folded.get_layer("inner")
    assert nested is not inner
    assert [layer.name for layer in nested.layers] == [layer.name for layer in inner.layers]
    assert_close(folded(images), model(images, training=False), tolerance=2e-2)


def test_bfloat16_policies_and_float32_output():
    model = keras_resnets.ResNet50V2(weights=None, input_shape=(32, 32, 3), classes=10)

    fast = optimize_for_inference(model, precision="bfloat16")

    assert fast.get_layer("predictions").dtype_policy.name == "float32"
    assert fast.get_layer("conv2_block1_1_conv").dtype_policy.name == "mixed_bfloat16"
    assert fast.get_layer("post_bn").dtype_policy.name == "mixed_bfloat16"
    outputs = fast(random_images((2, 32, 32, 3)))
    assert keras.backend.standardize_dtype(outputs.dtype) == "float32"


def test_bfloat16_features_model_outputs_float32():
    model = keras_resnets.ResNet50(weights=None, input_shape=(32, 32, 3), include_top=False)

    fast = optimize_for_inference(model, precision="bfloat16")

    assert fast.get_layer("conv5_block3_out").dtype_policy.name == "float32"
    outputs = fast(random_images((2, 32, 32, 3)))
    assert keras.backend.standardize_dtype(outputs.dtype) == "float32"


@pytest.mark.parametrize("name", ["resnet50", "resnet50v2"])
def test_bfloat16_top1_agreement(name):
    # Measured on this input set: 64 of 64 agree, largest logit difference
    # about 5e-3 of the largest |logit|. The bounds leave room for other
    # CPUs' bfloat16 kernels.
    model = randomize_statistics(
        BUILDERS[name](weights=None, input_shape=(64, 64, 3), classes=10, classifier_activation=None)
    )
    images = random_images((64, 64, 64, 3), seed=2)
    expected = model.predict(images, verbose=0)

    fast = optimize_for_inference(model, precision="bfloat16")
    actual = fast.predict(images, verbose=0)

    agreement = np.mean(np.argmax(actual, axis=1) == np.argmax(expected, axis=1))
    assert agreement >= 60 / 64
    assert_close(actual, expected, tolerance=2e-2)


def test_precision_invalid_raises():
    model = keras_resnets.ResNet50(weights=None, input_shape=(32, 32, 3), include_top=False)
    with pytest.raises(ValueError, match=r"precision.*Received: precision='float16'"):
        optimize_for_inference(model, precision="float16")


def test_sequential_model_raises():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    with pytest.raises(TypeError, match="Functional keras.Model.*Received: model of type Sequential"):
        optimize_for_inference(model)


def test_subclassed_model_raises():
    class Doubler(keras.Model):
        def call(self, inputs):
            return inputs * 2

    with pytest.raises(TypeError, match="Received: model of type Doubler"):
        optimize_for_inference(Doubler())


def test_saved_model_export_reloads(tmp_path):
    model = randomize_statistics(keras_resnets.ResNet50(weights=None, input_shape=(32, 32, 3), include_top=False))
    images = random_images((2, 32, 32, 3))
    expected = model(images, training=False).numpy()
    folded = optimize_for_inference(model)

    folded.export(str(tmp_path / "saved"), verbose=False)
    reloaded = tf.saved_model.load(str(tmp_path / "saved"))

    assert_close(reloaded.serve(tf.constant(images)).numpy(), expected)


def test_predictor_matches_model_predict():
    model = randomize_statistics(keras_resnets.ResNet50(weights=None, input_shape=(32, 32, 3), classes=10))
    images = random_images((5, 32, 32, 3))
    expected = model.predict(images, verbose=0)

    predictor = Predictor(model, batch_size=2)

    actual = predictor.predict(images)
    assert isinstance(actual, np.ndarray)
    assert_close(actual, expected)
    # One graph of fixed batch shape serves full and padded batches.
    assert tuple(predictor._serve.inputs[0].shape) == (2, 32, 32, 3)
    assert_close(predictor.predict(images[:1]), expected[:1])


def test_predictor_ignores_later_weight_changes():
    model = randomize_statistics(keras_resnets.ResNet50(weights=None, input_shape=(32, 32, 3), classes=10))
    images = random_images((2, 32, 32, 3))
    predictor = Predictor(model, batch_size=2)
    before = predictor.predict(images)

    for variable in predictor.model.weights:
        variable.assign(keras.ops.zeros_like(variable))

    np.testing.assert_array_equal(predictor.predict(images), before)


def test_predictor_bfloat16_close_to_float32():
    model = randomize_statistics(
        keras_resnets.ResNet50V2(weights=None, input_shape=(32, 32, 3), classes=10, classifier_activation=None)
    )
    images = random_images((4, 32, 32, 3))
    expected = model.predict(images, verbose=0)

    predictor = Predictor(model, precision="bfloat16", batch_size=4)

    actual = predictor.predict(images)
    assert actual.dtype == np.float32
    assert_close(actual, expected, tolerance=2e-2)


def test_predictor_empty_input():
    model = keras_resnets.ResNet50(weights=None, input_shape=(32, 32, 3), classes=10)
    predictor = Predictor(model, batch_size=2)

    result = predictor.predict(np.zeros((0, 32, 32, 3), dtype="float32"))

    assert result.shape == (0, 10)


def test_predictor_wrong_shape_raises():
    model = keras_resnets.ResNet50(weights=None, input_shape=(32, 32, 3), classes=10)
    predictor = Predictor(model, batch_size=2)
    with pytest.raises(ValueError, match=r"shape \(samples, 32, 32, 3\).*Received: x with shape \(32, 32, 3\)"):
        predictor.predict(np.zeros((32, 32, 3), dtype="float32"))


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"batch_size": 0}, "Received: batch_size=0"),
        ({"batch_size": 2.0}, "Received: batch_size=2.0"),
        ({"preprocessing": "imagenet"}, "Received: preprocessing='imagenet'"),
        ({"precision": "int8"}, "Received: precision='int8'"),
    ],
)
def test_predictor_invalid_arguments_raise(arguments, message):
    model = keras_resnets.ResNet50(weights=None, input_shape=(32, 32, 3), classes=10)
    with pytest.raises(ValueError, match=message):
        Predictor(model, **arguments)


def test_predictor_unknown_input_shape_raises():
    model = keras_resnets.ResNet50(weights=None, include_top=False, input_shape=(None, None, 3))
    with pytest.raises(ValueError, match=r"Received: model input shape \(None, None, None, 3\)"):
        Predictor(model)


def test_predictor_default_preprocessing():
    v1 = keras_resnets.ResNet50(weights=None, input_shape=(32, 32, 3), include_top=False)
    v2 = keras_resnets.ResNet50V2(weights=None, input_shape=(32, 32, 3), include_top=False)

    assert Predictor(v1, batch_size=1).preprocessing == "caffe"
    assert Predictor(v2, batch_size=1).preprocessing == "tf"


@pytest.mark.parametrize("builder_name", ["ResNet18", "ResNet18V2", "ResNeXt50", "ResNet20"])
def test_predictor_preprocessing_from_table(builder_name):
    model = getattr(keras_resnets, builder_name)(weights=None, input_shape=(32, 32, 3), include_top=False)
    expected = keras_resnets.ARCHITECTURES[builder_name].preprocessing
    assert Predictor(model, batch_size=1).preprocessing == expected


def test_predictor_renamed_model_needs_preprocessing():
    model = keras_resnets.ResNet50V2(
        weights=None, input_shape=(32, 32, 3), include_top=False, name="backbone"
    )
    with pytest.raises(ValueError, match=r"preprocessing model 'backbone' expects.*preprocessing='caffe'"):
        Predictor(model, batch_size=1)
    assert Predictor(model, batch_size=1, preprocessing="tf").preprocessing == "tf"


@pytest.fixture
def made_up_class_index(tmp_path, monkeypatch):
    """Serve a class index with made-up labels instead of the downloaded official file."""
    index = {str(i): [f"n{i:08d}", f"class_{i}"] for i in range(1000)}
    path = tmp_path / "imagenet_class_index.json"
    path.write_text(json.dumps(index), encoding="utf-8")
    monkeypatch.setattr(weights_lib, "class_index_path", lambda: str(path))
    monkeypatch.setattr(imagenet_utils, "_class_index", None)
    return index


def test_classify_matches_manual_pipeline(made_up_class_index, tmp_path):
    model = randomize_statistics(keras_resnets.ResNet50V2(weights=None, input_shape=(32, 32, 3)))
    rng = np.random.default_rng(4)
    image_array = rng.integers(0, 256, (40, 48, 3), dtype=np.uint8)
    same_size = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
    path = tmp_path / "photo.png"
    keras.utils.save_img(path, same_size)

    predictor = Predictor(model, batch_size=2)
    results = predictor.classify([image_array, str(path), keras.utils.load_img(path)], top=3)

    resized = keras.ops.image.resize(image_array.astype("float32"), (32, 32), interpolation="bilinear")
    batch = np.stack([keras.ops.convert_to_numpy(resized), same_size, same_size]).astype("float32")
    probabilities = model.predict(batch / 127.5 - 1.0, verbose=0)
    assert len(results) == 3
    for result, scores in zip(results, probabilities, strict=True):
        assert len(result) == 3
        expected_class = int(np.argmax(scores))
        assert result[0][0] == f"n{expected_class:08d}"
        assert result[0][1] == f"class_{expected_class}"
        assert result[0][2] == pytest.approx(scores[expected_class], rel=1e-3)
    # The file and the PIL image are the same picture.
    assert results[1] == results[2]


def test_classify_invalid_image_raises():
    model = keras_resnets.ResNet50(weights=None, input_shape=(32, 32, 3))
    predictor = Predictor(model, batch_size=1)
    with pytest.raises(ValueError, match=r"\(height, width, 3\).*Received: images\[0\] with shape \(32, 32\)"):
        predictor.classify(np.zeros((32, 32), dtype=np.uint8))
    with pytest.raises(TypeError, match=r"Received: images\[1\] of type int"):
        predictor.classify([np.zeros((32, 32, 3)), 7])


def test_count_flops_small_model_by_hand():
    inputs = keras.Input((10, 10, 3))
    x = keras.layers.Conv2D(4, 3, strides=2, padding="same", use_bias=False)(inputs)
    x = keras.layers.Conv2D(6, 1, groups=2)(x)
    x = keras.layers.DepthwiseConv2D(3, padding="same")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(5)(x)
    model = keras.Model(inputs, outputs)

    # 5x5x4 outputs of 3x3x3 windows; 5x5x6 outputs of 1x1x2 windows;
    # 5x5x6 outputs of 3x3 windows; 6x5 dense weights.
    expected_multiply_adds = 5 * 5 * 4 * 27 + 5 * 5 * 6 * 2 + 5 * 5 * 6 * 9 + 6 * 5
    assert count_flops(model) == 2 * expected_multiply_adds


@pytest.mark.parametrize(("name", "published_giga_multiply_adds"), [("resnet50", 3.8), ("resnet101", 7.6)])
def test_count_flops_matches_published(name, published_giga_multiply_adds):
    # He et al., "Deep Residual Learning for Image Recognition" (2016),
    # Table 1, lists multiply-adds at 224x224, rounded to two digits.
    model = BUILDERS[name](weights=None)

    giga_multiply_adds = count_flops(model) / 2 / 1e9

    assert giga_multiply_adds == pytest.approx(published_giga_multiply_adds, rel=0.03)


def test_count_flops_unknown_shape_raises():
    model = keras_resnets.ResNet50(weights=None, include_top=False, input_shape=(None, None, 3))
    with pytest.raises(ValueError, match="needs fully known input shapes.*'conv1_conv'"):
        count_flops(model)


def test_configure_threads_invalid_raises():
    with pytest.raises(ValueError, match="Received: intra_op_threads=0"):
        inference.configure_cpu_threads(intra_op_threads=0)
