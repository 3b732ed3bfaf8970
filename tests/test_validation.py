"""Argument validation of the builders, compared with keras.applications."""

import pathlib
import warnings

import keras
import numpy as np
import pytest
from keras.applications import resnet as keras_resnet

import keras_resnets
from keras_resnets import architectures, imagenet_utils
from keras_resnets.validation import obtain_input_shape

# Small shapes keep the cases that do build fast.
SMALL = (32, 32, 3)


def keras_error_type(**kwargs):
    """Return the exception type keras.applications raises for these arguments."""
    try:
        keras_resnet.ResNet50(**kwargs)
    except Exception as error:  # noqa: BLE001 - the type is what is compared
        return type(error)
    return None


# Checks keras.applications also makes: the same exception type, and a
# message that names the argument, the received value and a fix.
KERAS_CHECKED = [
    (
        dict(weights="no/such/file.h5"),
        r"no file exists at 'no/such/file.h5'.*weights=None.*Received: weights='no/such/file.h5'",
    ),
    (
        dict(weights="imagenet", classes=10),
        r"`classes` must be 1000.*include_top=False.*Received: classes=10",
    ),
    (
        dict(weights="imagenet", input_shape=(64, 64, 3)),
        r"`input_shape` must be \(224, 224, 3\).*include_top=False.*Received: input_shape=\(64, 64, 3\)",
    ),
    (
        dict(weights="imagenet", include_top=False, input_shape=(64, 64, 1)),
        r"need inputs with 3 channels.*weights=None.*Received: input_shape=\(64, 64, 1\)",
    ),
    (
        dict(weights=None, include_top=False, input_shape=(16, 64, 3)),
        r"at least 32x32.*Received: input_shape=\(16, 64, 3\)",
    ),
    (
        dict(weights=None, input_shape=(64, 64)),
        r"tuple of three integers.*Received: input_shape=\(64, 64\)",
    ),
    (
        dict(weights=None, include_top=True, input_shape=(None, None, 3)),
        r"must be fully known.*include_top=False.*Received: input_shape=\(None, None, 3\)",
    ),
    (
        dict(weights="imagenet", classifier_activation="sigmoid"),
        r"Only None and 'softmax'.*include_top=False.*Received: classifier_activation='sigmoid'",
    ),
]


@pytest.mark.parametrize("kwargs, message", KERAS_CHECKED)
def test_same_error_type_as_keras(kwargs, message):
    expected_type = keras_error_type(**kwargs)
    assert expected_type is ValueError, f"keras.applications raised {expected_type}"
    with pytest.raises(ValueError, match=message):
        keras_resnets.ResNet50(**kwargs)


# Checks keras.applications lacks or fails with an unrelated error.
EXTRA_CHECKS = [
    (
        dict(weights=None, include_top=False, pooling="mean", input_shape=SMALL),
        ValueError,
        r"`pooling` must be None.*'avg'.*'max'.*Received: pooling='mean'",
    ),
    (dict(weights=None, classes=0), ValueError, r"positive integer.*Received: classes=0"),
    (dict(weights=None, classes=-3), ValueError, r"Received: classes=-3"),
    (dict(weights=None, classes=10.0), TypeError, r"positive integer.*Received: classes=10.0"),
    (dict(weights=None, classes=True), TypeError, r"Received: classes=True"),
    (dict(weights=None, classes="10"), TypeError, r"Received: classes='10'"),
    (dict(weights=None, include_top="yes"), TypeError, r"`include_top` must be True.*Received: include_top='yes'"),
    (dict(weights=None, include_top=1), TypeError, r"Received: include_top=1"),
    (dict(weights=3), TypeError, r"str or pathlib.Path.*Received: weights=3 of type int"),
    (dict(weights=["imagenet"]), TypeError, r"Received: weights=\['imagenet'\] of type list"),
    (
        dict(weights=None, classifier_activation="softmaxx"),
        ValueError,
        r"name of a Keras activation.*Received: classifier_activation='softmaxx'",
    ),
    (
        dict(weights=None, classifier_activation=5),
        TypeError,
        r"Received: classifier_activation=5 of type int",
    ),
    (
        dict(weights=None, input_tensor=np.zeros((1, 32, 32, 3), "float32")),
        TypeError,
        r"`input_tensor` must be a Keras tensor.*Received: input_tensor of type ndarray",
    ),
    (
        dict(weights=None, input_tensor=[1, 2, 3]),
        TypeError,
        r"Received: input_tensor of type list",
    ),
    (dict(weights=None, input_shape=[64, "64", 3]), TypeError, r"contain integers.*Received: input_shape=\[64, '64', 3\]"),
    (dict(weights=None, input_shape=64), TypeError, r"tuple of three integers.*Received: input_shape=64 of type int"),
    (dict(weights=None, input_shape=(64, 0, 3)), ValueError, r"positive sizes.*Received: input_shape=\(64, 0, 3\)"),
    (dict(weights=None, name=""), TypeError, r"non-empty string.*Received: name=''"),
    (dict(weights=None, name=7), TypeError, r"Received: name=7"),
]


@pytest.mark.parametrize("kwargs, error_type, message", EXTRA_CHECKS)
def test_extra_checks(kwargs, error_type, message):
    with pytest.raises(error_type, match=message):
        keras_resnets.ResNet50(**kwargs)


def test_unknown_pooling_keras_lets_through():
    # The reason for the extra check: keras.applications returns the 4-D map.
    keras.utils.clear_session()
    model = keras_resnet.ResNet50(weights=None, include_top=False, pooling="mean", input_shape=SMALL)
    assert len(model.output.shape) == 4


def test_weights_folder_raises(tmp_path):
    with pytest.raises(ValueError, match=r"is a folder.*Received: weights="):
        keras_resnets.ResNet50(weights=str(tmp_path))


def test_weights_path_object_accepted(tmp_path):
    missing = tmp_path / "missing.h5"
    with pytest.raises(ValueError, match=r"no file exists at"):
        keras_resnets.ResNet50(weights=missing)


def test_input_tensor_of_wrong_rank_raises():
    with pytest.raises(ValueError, match=r"rank 4.*Received: input_tensor with shape \(None, 32, 32\)"):
        keras_resnets.ResNet50(weights=None, input_tensor=keras.Input((32, 32)))


def test_own_weights_allow_any_activation(tmp_path):
    # keras.applications rejects 'sigmoid' for any weights file; a file of
    # one's own may come with any head.
    model = keras_resnets.ResNet50V2(weights=None, input_shape=SMALL, classes=3)
    path = tmp_path / "own.weights.h5"
    model.save_weights(path)
    loaded = keras_resnets.ResNet50V2(
        weights=str(path), input_shape=SMALL, classes=3, classifier_activation="sigmoid"
    )
    assert loaded.get_layer("predictions").activation is keras.activations.sigmoid


def test_checks_run_before_any_layer_is_made():
    # A failed call must not consume layer names: the next model built
    # in the session keeps the default names.
    keras.utils.clear_session()
    with pytest.raises(ValueError):
        keras_resnets.ResNet50(weights=None, include_top=False, pooling="mean", input_shape=SMALL)
    model = keras_resnets.ResNet50V2(weights=None, include_top=False, input_shape=SMALL)
    assert "max_pooling2d" in [layer.name for layer in model.layers]


def test_callable_activation_without_imagenet():
    model = keras_resnets.ResNet50(
        weights=None, input_shape=SMALL, classes=4, classifier_activation=keras.activations.sigmoid
    )
    assert model.output.shape == (None, 4)


def test_unusual_channels_warn_at_caller():
    with pytest.warns(UserWarning, match=r"1 or 3 input channels.*5 channels") as record:
        keras_resnets.ResNet50(weights=None, include_top=False, input_shape=(32, 32, 5))
    assert record[0].filename == __file__


def test_three_channels_do_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        keras_resnets.ResNet50(weights=None, include_top=False, input_shape=SMALL)


@pytest.mark.parametrize(
    "include_top, input_shape",
    [(True, None), (False, None), (True, (64, 80, 1)), (False, (None, None, 3)), (False, (40, 50, 4))],
)
def test_resolved_input_shape_matches_keras(include_top, input_shape, data_format):
    if data_format == "channels_first" and input_shape is not None:
        input_shape = (input_shape[2], input_shape[0], input_shape[1])
    kwargs = dict(weights=None, include_top=include_top, input_shape=input_shape)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        keras.utils.clear_session()
        reference = keras_resnet.ResNet50(**kwargs)
        resolved = obtain_input_shape(
            input_shape,
            default_size=224,
            min_size=32,
            data_format=data_format,
            require_flatten=include_top,
            weights=None,
        )
    assert resolved == tuple(reference.input.shape[1:])


def test_obtain_input_shape_with_imagenet():
    def resolve(input_shape, require_flatten, data_format="channels_last"):
        return obtain_input_shape(
            input_shape, default_size=224, min_size=32, data_format=data_format,
            require_flatten=require_flatten, weights="imagenet",
        )

    assert resolve(None, True) == (224, 224, 3)
    assert resolve(None, True, "channels_first") == (3, 224, 224)
    assert resolve(None, False) == (None, None, 3)
    assert resolve((100, 120, 3), False) == (100, 120, 3)
    with pytest.raises(ValueError, match=r"must be \(3, 224, 224\)"):
        resolve((224, 224, 3), True, "channels_first")


def test_imagenet_utils_exports_obtain_input_shape():
    assert imagenet_utils.obtain_input_shape is obtain_input_shape


def test_builders_match_table():
    # Every row has a public builder of that name, and every builder a row.
    for name, row in architectures.ARCHITECTURES.items():
        builder = getattr(keras_resnets, name)
        assert builder.__name__ == name
        assert row.builder == name
    import inspect

    builder_names = {
        name
        for name in keras_resnets.__all__
        if inspect.isfunction(getattr(keras_resnets, name)) and name[0].isupper()
    }
    assert builder_names == set(architectures.ARCHITECTURES)


def test_signature_matches_keras():
    import inspect

    from keras.applications import resnet_v2 as keras_resnet_v2

    pairs = [
        (keras_resnets.ResNet50, keras_resnet.ResNet50),
        (keras_resnets.ResNet101, keras_resnet.ResNet101),
        (keras_resnets.ResNet152, keras_resnet.ResNet152),
        (keras_resnets.ResNet50V2, keras_resnet_v2.ResNet50V2),
        (keras_resnets.ResNet101V2, keras_resnet_v2.ResNet101V2),
        (keras_resnets.ResNet152V2, keras_resnet_v2.ResNet152V2),
    ]
    for ours, reference in pairs:
        ours_parameters = inspect.signature(ours).parameters
        reference_parameters = inspect.signature(reference).parameters
        assert list(ours_parameters) == list(reference_parameters)
        for name, parameter in ours_parameters.items():
            assert parameter.default == reference_parameters[name].default, (ours.__name__, name)


def test_unknown_architecture_lookup():
    assert architectures.get_architecture("resnet101v2").builder == "ResNet101V2"
    with pytest.raises(ValueError, match=r"Unknown architecture 'resnet51'.*resnet50.*Received: name='resnet51'"):
        architectures.get_architecture("resnet51")


def test_pathlib_weights_load(tmp_path):
    model = keras_resnets.ResNet50(weights=None, include_top=False, input_shape=SMALL)
    path = pathlib.Path(tmp_path) / "w.weights.h5"
    model.save_weights(path)
    loaded = keras_resnets.ResNet50(weights=path, include_top=False, input_shape=SMALL)
    for loaded_weight, weight in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(loaded_weight, weight)


def test_weights_array_rejected():
    with pytest.raises(TypeError, match=r"Received: weights=array\(\['imagenet'\].*of type ndarray"):
        keras_resnets.ResNet50(weights=np.array(["imagenet"]))


def test_name_with_slash_rejected():
    with pytest.raises(ValueError, match=r"must not contain '/'.*Received: name='a/b'"):
        keras_resnets.ResNet50(weights=None, name="a/b")


@pytest.mark.parametrize("input_shape", [(64, 64, None), (None, None, None)])
def test_unknown_channels_rejected(input_shape):
    with pytest.raises(ValueError, match=r"channel count of `input_shape` must be known.*Received: input_shape"):
        keras_resnets.ResNet50(weights=None, include_top=False, input_shape=input_shape)


def test_unknown_channels_of_tensor_rejected():
    with pytest.raises(ValueError, match=r"channel count of `input_tensor` must be known"):
        keras_resnets.ResNet50(weights=None, include_top=False, input_tensor=keras.Input((None, None, None)))


def test_small_input_tensor_rejected():
    with pytest.raises(ValueError, match=r"at least 32x32.*Received: input_tensor with shape \(None, 8, 8, 3\)"):
        keras_resnets.ResNet50(weights=None, include_top=False, input_tensor=keras.Input((8, 8, 3)))


def test_input_tensor_channels_warn():
    with pytest.warns(UserWarning, match=r"`input_tensor` has 4 channels") as record:
        keras_resnets.ResNet50(weights=None, include_top=False, input_tensor=keras.Input((64, 64, 4)))
    assert record[0].filename == __file__


def test_input_tensor_channels_with_imagenet_rejected():
    with pytest.raises(ValueError, match=r"need inputs with 3 channels.*1x1 Conv2D.*\(None, 64, 64, 1\)"):
        keras_resnets.ResNet50(weights="imagenet", include_top=False, input_tensor=keras.Input((64, 64, 1)))


def test_channels_last_shape_under_channels_first():
    keras.config.set_image_data_format("channels_first")
    with pytest.raises(ValueError, match=r"data format is channels_first.*\(channels, height, width\)"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            keras_resnets.ResNet50(weights=None, include_top=False, input_shape=(64, 64, 3))
