"""preprocess_input and decode_predictions against keras.applications."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras.applications import imagenet_utils as keras_imagenet_utils
from keras.applications import resnet as keras_resnet
from keras.applications import resnet_v2 as keras_resnet_v2

from keras_resnets import imagenet_utils, resnet, resnet50, resnet_v2

MODES = ["caffe", "tf", "torch"]


def sample_images(ndim, data_format, dtype, seed=0):
    shape = (2, 5, 6, 3) if ndim == 4 else (5, 6, 3)
    images = np.random.default_rng(seed).integers(0, 256, shape)
    if data_format == "channels_first":
        images = np.moveaxis(images, -1, 1 if ndim == 4 else 0)
    return images.astype(dtype)


def keras_reference(images, data_format, mode):
    """keras.applications' result on a float32 copy (its correct path)."""
    return keras_imagenet_utils.preprocess_input(
        images.astype("float32"), data_format=data_format, mode=mode
    )


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("ndim", [3, 4])
@pytest.mark.parametrize("dtype", ["float32", "float64", "uint8", "int32"])
def test_numpy_matches_keras(mode, ndim, dtype, data_format):
    images = sample_images(ndim, data_format, dtype)
    expected = keras_reference(images, data_format, mode)
    result = imagenet_utils.preprocess_input(images, data_format=data_format, mode=mode)

    assert isinstance(result, np.ndarray)
    assert result.dtype == np.float32
    assert result.shape == images.shape
    np.testing.assert_allclose(result, expected, rtol=1e-6, atol=1e-4)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", ["float32", "uint8", "int32"])
def test_tensor_matches_keras_float_result(mode, dtype, data_format):
    images = sample_images(4, data_format, dtype)
    expected = keras_reference(images, data_format, mode)
    result = imagenet_utils.preprocess_input(
        tf.constant(images), data_format=data_format, mode=mode
    )

    assert keras.ops.is_tensor(result)
    assert keras.backend.standardize_dtype(result.dtype) == "float32"
    np.testing.assert_allclose(keras.ops.convert_to_numpy(result), expected, rtol=1e-6, atol=1e-4)


def test_keras_uint8_tensor_is_wrong():
    # Why integer tensors are converted first: keras.applications does not.
    images = tf.constant(sample_images(4, "channels_last", "uint8"))
    with pytest.raises(Exception):
        keras_imagenet_utils.preprocess_input(images, mode="tf")
    result = imagenet_utils.preprocess_input(images, mode="tf")
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(result),
        keras_reference(keras.ops.convert_to_numpy(images), "channels_last", "tf"),
        atol=1e-6,
    )


@pytest.mark.parametrize("mode", MODES)
def test_symbolic_tensor_in_functional_model(mode, data_format):
    images = sample_images(4, data_format, "float32")
    image_input = keras.Input(images.shape[1:])
    model = keras.Model(
        image_input, imagenet_utils.preprocess_input(image_input, data_format=data_format, mode=mode)
    )

    result = model.predict(images, verbose=0)
    np.testing.assert_allclose(result, keras_reference(images, data_format, mode), rtol=1e-6, atol=1e-4)


def test_uint8_symbolic_input():
    images = sample_images(4, "channels_last", "uint8")
    image_input = keras.Input(images.shape[1:], dtype="uint8")
    output = imagenet_utils.preprocess_input(image_input, mode="caffe")
    assert keras.backend.standardize_dtype(output.dtype) == "float32"
    model = keras.Model(image_input, output)
    np.testing.assert_allclose(
        model.predict(images, verbose=0), keras_reference(images, "channels_last", "caffe"), atol=1e-4
    )


@pytest.mark.parametrize("mode", MODES)
def test_caller_array_unchanged(mode):
    images = sample_images(4, "channels_last", "float32")
    original = images.copy()
    result = imagenet_utils.preprocess_input(images, mode=mode)

    np.testing.assert_array_equal(images, original)
    assert not np.shares_memory(result, images)


def test_keras_modifies_in_place():
    # The documented difference from keras.applications.
    images = sample_images(4, "channels_last", "float32")
    original = images.copy()
    keras_imagenet_utils.preprocess_input(images, mode="tf")
    assert not np.array_equal(images, original)


def test_dtype_follows_policy():
    images = sample_images(4, "channels_last", "uint8")
    keras.config.set_dtype_policy("mixed_bfloat16")
    assert imagenet_utils.preprocess_input(images).dtype == np.float32
    keras.config.set_dtype_policy("float64")
    assert imagenet_utils.preprocess_input(images).dtype == np.float64
    tensor_result = imagenet_utils.preprocess_input(tf.constant(images))
    assert keras.backend.standardize_dtype(tensor_result.dtype) == "float64"


@pytest.mark.parametrize(
    "ours, reference",
    [
        (resnet.preprocess_input, keras_resnet.preprocess_input),
        (resnet50.preprocess_input, keras_resnet.preprocess_input),
        (resnet_v2.preprocess_input, keras_resnet_v2.preprocess_input),
    ],
)
def test_module_wrappers_match_keras(ours, reference, data_format):
    images = sample_images(4, data_format, "float32")
    np.testing.assert_allclose(
        ours(images, data_format=data_format),
        reference(images.copy(), data_format=data_format),
        rtol=1e-6,
        atol=1e-4,
    )


def test_invalid_mode():
    with pytest.raises(ValueError, match=r"`mode` must be 'caffe'.*Received: mode='pytorch'"):
        imagenet_utils.preprocess_input(np.zeros((4, 4, 3)), mode="pytorch")


def test_invalid_data_format():
    with pytest.raises(ValueError, match=r"`data_format` must be.*Received: data_format='NHWC'"):
        imagenet_utils.preprocess_input(np.zeros((4, 4, 3)), data_format="NHWC")


@pytest.mark.parametrize("shape", [(4, 3), (1, 2, 4, 4, 3)])
def test_invalid_rank(shape):
    with pytest.raises(ValueError, match=r"rank 3 or a batch of rank 4.*Received: input with shape"):
        imagenet_utils.preprocess_input(np.zeros(shape))


def test_wrong_channel_axis():
    with pytest.raises(ValueError, match=r"needs 3 color channels on axis 3 \(channels_last\).*has 4"):
        imagenet_utils.preprocess_input(np.zeros((1, 8, 8, 4)), mode="caffe")
    # tf mode scales every value, so any channel count works.
    assert imagenet_utils.preprocess_input(np.zeros((1, 8, 8, 4)), mode="tf").shape == (1, 8, 8, 4)


@pytest.fixture
def class_index(tmp_path, monkeypatch):
    """A generated class index in the official file's format."""
    index = {str(i): [f"n{i:08d}", f"class_{i}"] for i in range(1000)}
    path = tmp_path / "imagenet_class_index.json"
    path.write_text(json.dumps(index))
    calls = []

    def fake_class_index_path():
        calls.append(1)
        return path

    from keras_resnets import weights

    monkeypatch.setattr(weights, "class_index_path", fake_class_index_path)
    monkeypatch.setattr(imagenet_utils, "_class_index", None)
    return calls


def test_decode_predictions_sorted(class_index):
    scores = np.random.default_rng(0).uniform(0, 1, (3, 1000)).astype("float32")
    decoded = imagenet_utils.decode_predictions(scores, top=4)

    assert len(decoded) == 3
    for sample_scores, sample in zip(scores, decoded):
        assert len(sample) == 4
        expected_classes = np.argsort(sample_scores)[::-1][:4]
        assert [wnid for wnid, _, _ in sample] == [f"n{i:08d}" for i in expected_classes]
        assert [name for _, name, _ in sample] == [f"class_{i}" for i in expected_classes]
        assert [score for _, _, score in sample] == pytest.approx(sample_scores[expected_classes])


def test_decode_predictions_reads_index_once(class_index):
    scores = np.eye(1000, dtype="float32")[:2]
    first = imagenet_utils.decode_predictions(scores, top=1)
    second = resnet.decode_predictions(keras.ops.convert_to_tensor(scores), top=1)

    assert first == second
    assert first[1][0][:2] == ("n00000001", "class_1")
    assert len(class_index) == 1


@pytest.mark.parametrize("shape", [(1000,), (2, 10), (2, 1000, 1)])
def test_decode_predictions_bad_shape(shape, class_index):
    with pytest.raises(ValueError, match=r"shape \(samples, 1000\).*Received: preds with shape"):
        imagenet_utils.decode_predictions(np.zeros(shape))


@pytest.mark.parametrize("top", [0, -1])
def test_decode_predictions_bad_top(top, class_index):
    with pytest.raises(ValueError, match=r"`top` must be a positive integer.*Received: top="):
        imagenet_utils.decode_predictions(np.zeros((1, 1000)), top=top)


@pytest.mark.parametrize(
    "bad", [None, np.array(["a", "b", "c"]), np.zeros((2, 4, 4, 3), complex), [["x"]]]
)
def test_non_numeric_input_rejected(bad):
    with pytest.raises(TypeError, match=r"expects images as numbers.*Received:"):
        imagenet_utils.preprocess_input(bad)


def test_string_tensor_rejected():
    with pytest.raises(TypeError, match=r"Received: a tensor of dtype string"):
        imagenet_utils.preprocess_input(tf.constant([[["a", "b", "c"]]]))


def test_unknown_rank_tensor_rejected():
    @tf.function(input_signature=[tf.TensorSpec(None, tf.float32)])
    @tf.autograph.experimental.do_not_convert
    def preprocess(images):
        return imagenet_utils.preprocess_input(images)

    with pytest.raises(ValueError, match=r"rank of the input tensor to be known"):
        preprocess(tf.zeros((1, 4, 4, 3)))


def test_decode_predictions_numpy_integer_top(class_index):
    decoded = imagenet_utils.decode_predictions(np.eye(1000, dtype="float32")[:1], top=np.int64(2))
    assert len(decoded[0]) == 2


@pytest.mark.parametrize("top", [None, 2.0, "5"])
def test_decode_predictions_top_type(top, class_index):
    with pytest.raises(TypeError, match=r"`top` must be a positive integer.*Received: top="):
        imagenet_utils.decode_predictions(np.zeros((1, 1000)), top=top)
