"""ResNet18/34 (V1, V2), ResNeXt and the CIFAR ResNets: counts, shapes, options."""

import inspect
import re

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_resnets
from keras_resnets import architectures, blocks, cifar, resnet_basic, resnext

IMAGENET_BUILDERS = ["ResNet18", "ResNet34", "ResNet18V2", "ResNet34V2", "ResNeXt50", "ResNeXt101"]
CIFAR_BUILDERS = ["ResNet20", "ResNet32", "ResNet44", "ResNet56", "ResNet110"]
NEW_BUILDERS = IMAGENET_BUILDERS + CIFAR_BUILDERS

# torchvision's published counts (resnet18, resnet34, resnext50_32x4d and
# the 32x4d ResNeXt-101 of the ResNeXt paper), 1000-class top included.
PUBLISHED_EXACT = {"ResNet18": 11_689_512, "ResNet34": 21_797_672}
# Xie et al. 2017, table 1 and 3: 25.0M and 44.2M; the models must be
# within 0.5% of them.
PUBLISHED_RESNEXT = {"ResNeXt50": 25.0e6, "ResNeXt101": 44.2e6}
# He et al. 2016, table 6 (CIFAR-10), in millions as printed there.
PUBLISHED_CIFAR = {
    "ResNet20": "0.27",
    "ResNet32": "0.46",
    "ResNet44": "0.66",
    "ResNet56": "0.85",
    "ResNet110": "1.7",
}


def trainable_count(model):
    return sum(int(np.prod(variable.shape)) for variable in model.trainable_weights)


def image_shape(size, data_format, channels=3):
    if data_format == "channels_first":
        return (channels, size, size)
    return (size, size, channels)


def random_images(shape, seed=0, batch=2):
    return np.random.default_rng(seed).uniform(-1.0, 1.0, (batch, *shape)).astype("float32")


def randomize_batch_norm(model, seed=0):
    """Give BatchNorm layers non-trivial statistics so inference is not an identity."""
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


def basic_resnet_params(depths, *, preact, projections=True, classes=1000):
    """Count the trainable parameters of an ImageNet basic-block ResNet by hand.

    Written from the layout (torchvision's for V1, the pre-activation
    paper's for V2), independently of the package's code.
    """
    widths = (64, 128, 256, 512)
    total = 7 * 7 * 3 * 64 + (0 if preact else 2 * 64)
    in_width = 64
    for width, depth in zip(widths, depths):
        for index in range(depth):
            block_in = in_width if index == 0 else width
            total += 3 * 3 * block_in * width + 3 * 3 * width * width
            if preact:
                total += 2 * block_in + 2 * width
            else:
                total += 2 * width + 2 * width
            if block_in != width and projections:
                total += block_in * width + (0 if preact else 2 * width)
        in_width = width
    if preact:
        total += 2 * 512
    return total + 512 * classes + classes


def build(builder_name, **kwargs):
    return getattr(keras_resnets, builder_name)(**kwargs)


# Parameter counts


@pytest.mark.parametrize("builder_name", sorted(PUBLISHED_EXACT))
def test_basic_v1_params_equal_published(builder_name):
    model = build(builder_name)
    assert trainable_count(model) == PUBLISHED_EXACT[builder_name]


@pytest.mark.parametrize(
    "builder_name, depths, preact",
    [
        ("ResNet18", (2, 2, 2, 2), False),
        ("ResNet34", (3, 4, 6, 3), False),
        ("ResNet18V2", (2, 2, 2, 2), True),
        ("ResNet34V2", (3, 4, 6, 3), True),
    ],
)
def test_basic_params_equal_hand_count(builder_name, depths, preact):
    model = build(builder_name)
    assert trainable_count(model) == basic_resnet_params(depths, preact=preact)


@pytest.mark.parametrize("builder_name", sorted(PUBLISHED_RESNEXT))
def test_resnext_params_near_paper(builder_name):
    model = build(builder_name)
    published = PUBLISHED_RESNEXT[builder_name]
    assert abs(trainable_count(model) - published) / published < 0.005


@pytest.mark.parametrize("builder_name", CIFAR_BUILDERS)
def test_cifar_params_match_paper_rounding(builder_name):
    model = build(builder_name)
    published = PUBLISHED_CIFAR[builder_name]
    decimals = len(published.split(".")[1])
    assert f"{trainable_count(model) / 1e6:.{decimals}f}" == published


def test_resnet20_exact_params():
    # Stem 3*3*3*16 + BN 32; stage widths 16, 32, 64 with 3 blocks of two
    # 3x3 convolutions and BNs; 64*10 + 10 top. Option A adds nothing.
    expected = (
        (3 * 3 * 3 * 16 + 32)
        + 6 * (3 * 3 * 16 * 16 + 32)
        + (3 * 3 * 16 * 32 + 64) + 5 * (3 * 3 * 32 * 32 + 64)
        + (3 * 3 * 32 * 64 + 128) + 5 * (3 * 3 * 64 * 64 + 128)
        + 64 * 10 + 10
    )
    assert trainable_count(keras_resnets.ResNet20()) == expected == 269_722


def test_projection_option_adds_only_projections():
    zero_pad = keras_resnets.ResNet20()
    projection = keras_resnets.ResNet20(shortcut="projection")
    # Two 1x1 projections with BatchNorm: 16 -> 32 and 32 -> 64 channels.
    expected_extra = (16 * 32 + 2 * 32) + (32 * 64 + 2 * 64)
    assert trainable_count(projection) - trainable_count(zero_pad) == expected_extra


def test_zero_pad_shortcut_has_no_weights(data_format):
    model = keras_resnets.ResNet20(input_shape=image_shape(32, data_format))
    shortcut_layers = [layer for layer in model.layers if "_0_" in layer.name]

    assert sorted(layer.name for layer in shortcut_layers) == [
        "conv3_block1_0_pad",
        "conv3_block1_0_pool",
        "conv3_block1_0_zeros",
        "conv4_block1_0_pad",
        "conv4_block1_0_pool",
        "conv4_block1_0_zeros",
    ]
    assert all(not layer.weights for layer in shortcut_layers)
    assert trainable_count(model) == trainable_count(keras_resnets.ResNet20(residual=False))


# Option A: numerical check


def test_zero_pad_shortcut_values(data_format):
    model = keras_resnets.ResNet20(
        include_top=False, input_shape=image_shape(32, data_format)
    )
    randomize_batch_norm(model)
    probe = keras.Model(
        model.input,
        [
            model.get_layer("conv2_block3_out").output,
            model.get_layer("conv3_block1_0_pad").output,
        ],
    )
    block_input, shortcut = probe.predict(random_images(image_shape(32, data_format)), verbose=0)

    if data_format == "channels_first":
        block_input = block_input.transpose(0, 2, 3, 1)
        shortcut = shortcut.transpose(0, 2, 3, 1)
    assert block_input.shape == (2, 32, 32, 16)
    assert shortcut.shape == (2, 16, 16, 32)
    # The block input is post-ReLU: some, not all, values are positive.
    assert 0 < (block_input > 0).mean() < 1
    np.testing.assert_array_equal(shortcut[..., :16], block_input[:, ::2, ::2, :])
    np.testing.assert_array_equal(shortcut[..., 16:], np.zeros((2, 16, 16, 16), "float32"))


# Plain networks


@pytest.mark.parametrize("builder_name", ["ResNet18", "ResNet34", *CIFAR_BUILDERS])
def test_plain_variant_has_no_add(builder_name):
    residual = build(builder_name, include_top=False, input_shape=(32, 32, 3))
    plain = build(builder_name, include_top=False, input_shape=(32, 32, 3), residual=False)

    assert any(isinstance(layer, keras.layers.Add) for layer in residual.layers)
    assert not any(isinstance(layer, keras.layers.Add) for layer in plain.layers)
    assert not any("_0_" in layer.name for layer in plain.layers)
    assert plain.name == residual.name.replace("resnet", "plain")
    # The same convolutions, in the same order, minus the shortcuts.
    plain_convs = [layer.name for layer in plain.layers if isinstance(layer, keras.layers.Conv2D)]
    residual_convs = [
        layer.name
        for layer in residual.layers
        if isinstance(layer, keras.layers.Conv2D) and "_0_" not in layer.name
    ]
    assert plain_convs == residual_convs


def test_plain_resnet18_params():
    model = keras_resnets.ResNet18(residual=False)
    expected = basic_resnet_params((2, 2, 2, 2), preact=False, projections=False)
    assert trainable_count(model) == expected == 11_515_688


def test_plain_name_can_be_overridden():
    model = keras_resnets.ResNet20(residual=False, name="baseline", include_top=False)
    assert model.name == "baseline"
    assert keras_resnets.ResNet56(include_top=False).name == "resnet56"


# Output shapes for every builder, top and pooling, both data formats


def expected_feature_shape(builder_name, size, data_format):
    if builder_name in CIFAR_BUILDERS:
        channels, stride = 64, 4
    elif builder_name.startswith("ResNeXt"):
        channels, stride = 2048, 32
    else:
        channels, stride = 512, 32
    spatial = -(-size // stride)
    if data_format == "channels_first":
        return (None, channels, spatial, spatial)
    return (None, spatial, spatial, channels)


@pytest.mark.parametrize("builder_name", NEW_BUILDERS)
def test_output_shapes(builder_name, data_format):
    shape = image_shape(64, data_format)
    features = build(builder_name, include_top=False, input_shape=shape)
    assert features.output.shape == expected_feature_shape(builder_name, 64, data_format)
    width = features.output.shape[1 if data_format == "channels_first" else -1]

    for pooling in ("avg", "max"):
        pooled = build(builder_name, include_top=False, pooling=pooling, input_shape=shape)
        assert pooled.output.shape == (None, width)
        assert pooled.layers[-1].name == f"{pooling}_pool"

    top = build(builder_name, input_shape=shape, classes=7)
    assert top.output.shape == (None, 7)
    assert top.layers[-1].name == "predictions"


@pytest.mark.slow
@pytest.mark.parametrize("builder_name", ["ResNet18", "ResNet18V2", "ResNeXt50", "ResNet20"])
def test_channels_first_matches_channels_last(builder_name):
    keras.config.set_image_data_format("channels_last")
    last = build(builder_name, include_top=False, pooling="avg", input_shape=(32, 32, 3))
    randomize_batch_norm(last)
    keras.config.set_image_data_format("channels_first")
    first = build(builder_name, include_top=False, pooling="avg", input_shape=(3, 32, 32))
    # Kernels have the same layout in both formats.
    first.set_weights(last.get_weights())

    images = random_images((32, 32, 3), seed=3)
    expected = last.predict(images, verbose=0)
    actual = first.predict(images.transpose(0, 3, 1, 2), verbose=0)

    assert expected.std() > 1e-3
    np.testing.assert_allclose(actual, expected, rtol=1e-4, atol=1e-4)


def test_cifar_default_input_shape(data_format):
    model = keras_resnets.ResNet20()
    assert model.input.shape == (None, *image_shape(32, data_format))
    assert model.output.shape == (None, 10)


def test_cifar_accepts_small_inputs():
    model = keras_resnets.ResNet20(include_top=False, input_shape=(8, 8, 3))
    assert model.output.shape == (None, 2, 2, 64)
    with pytest.raises(ValueError, match=r"at least 8x8.*input_shape=\(7, 7, 3\)"):
        keras_resnets.ResNet20(include_top=False, input_shape=(7, 7, 3))


# Layer names and layout


BLOCK_LAYER = re.compile(
    r"^conv[2-5]_block\d+_(?:[0-3]_(?:conv|bn|relu|pad|pool|zeros)|preact_(?:bn|relu)|add|out)$"
)
STEM_AND_HEAD = {
    "conv1_pad", "conv1_conv", "conv1_bn", "conv1_relu", "pool1_pad", "pool1_pool",
    "post_bn", "post_relu", "avg_pool", "max_pool", "predictions",
}


@pytest.mark.parametrize("builder_name", NEW_BUILDERS)
def test_layer_names_follow_scheme(builder_name):
    model = build(builder_name, include_top=False, input_shape=(32, 32, 3))
    unnamed = [
        layer.name
        for layer in model.layers[1:]
        if not (BLOCK_LAYER.match(layer.name) or layer.name in STEM_AND_HEAD)
    ]
    assert unnamed == []


def test_resnet18_block_layout():
    model = keras_resnets.ResNet18(include_top=False, input_shape=(64, 64, 3))
    names = [layer.name for layer in model.layers]

    # Stage 2 keeps 64 channels at stride 1: identity shortcuts only.
    assert "conv2_block1_0_conv" not in names
    assert sorted(name for name in names if name.startswith("conv3_block1")) == [
        "conv3_block1_0_bn",
        "conv3_block1_0_conv",
        "conv3_block1_1_bn",
        "conv3_block1_1_conv",
        "conv3_block1_1_pad",
        "conv3_block1_1_relu",
        "conv3_block1_2_bn",
        "conv3_block1_2_conv",
        "conv3_block1_add",
        "conv3_block1_out",
    ]
    first_conv = model.get_layer("conv3_block1_1_conv")
    assert first_conv.strides == (2, 2)
    assert model.get_layer("conv3_block1_2_conv").strides == (1, 1)
    assert model.get_layer("conv3_block1_0_conv").strides == (2, 2)
    convolutions = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert not any(layer.use_bias for layer in convolutions)


def test_strided_conv_pads_symmetrically():
    # torchvision pads a stride-2 3x3 convolution by one pixel on every
    # side; TensorFlow's "same" would pad only bottom and right on even
    # inputs. A kernel that reads only its top-left tap shows the difference.
    model = keras_resnets.ResNet18(include_top=False, input_shape=(64, 64, 3))
    conv = model.get_layer("conv3_block1_1_conv")
    kernel = np.zeros(conv.kernel.shape, "float32")
    kernel[0, 0, :, :] = 1.0
    conv.kernel.assign(kernel)
    probe = keras.Model(model.input, [conv.input, conv.output])
    padded_input, output = probe.predict(random_images((64, 64, 3)), verbose=0)

    # The layer input is already padded: row and column 0 are the padding.
    assert padded_input.shape == (2, 18, 18, 64)
    np.testing.assert_array_equal(padded_input[:, 0, :, :], 0.0)
    np.testing.assert_array_equal(padded_input[:, :, 0, :], 0.0)
    assert output.shape == (2, 8, 8, 128)
    np.testing.assert_array_equal(output[:, 0, 0, :], 0.0)
    np.testing.assert_allclose(
        output[:, 1, 1, 0], padded_input[:, 2, 2, :].sum(axis=-1), rtol=1e-5
    )


def test_resnext_uses_grouped_conv2d():
    model = keras_resnets.ResNeXt50(include_top=False, input_shape=(32, 32, 3))
    grouped = model.get_layer("conv2_block1_2_conv")

    assert type(grouped) is keras.layers.Conv2D
    assert grouped.groups == 32
    assert tuple(grouped.kernel.shape) == (3, 3, 4, 128)
    assert model.get_layer("conv2_block1_3_conv").filters == 256
    assert model.get_layer("conv5_block3_2_conv").groups == 32
    assert tuple(model.get_layer("conv5_block3_2_conv").kernel.shape) == (3, 3, 32, 1024)
    # ResNeXt strides on the grouped 3x3 convolution.
    assert model.get_layer("conv3_block1_1_conv").strides == (1, 1)
    assert model.get_layer("conv3_block1_2_conv").strides == (2, 2)
    assert not any(isinstance(layer, keras.layers.Lambda) for layer in model.layers)


def test_grouped_conv_matches_per_group_convolution():
    # Group g of the output must read only input channels of group g.
    model = keras_resnets.ResNeXt50(include_top=False, input_shape=(32, 32, 3))
    conv = model.get_layer("conv2_block1_2_conv")
    probe = keras.Model(model.input, [conv.input, conv.output])
    layer_input, output = probe.predict(random_images((32, 32, 3), seed=4), verbose=0)

    kernel = conv.kernel.numpy()
    group_in, group_out = 4, 4
    for group in (0, 31):
        group_input = layer_input[..., group * group_in:(group + 1) * group_in]
        group_kernel = kernel[..., group * group_out:(group + 1) * group_out]
        expected = tf.nn.conv2d(group_input, group_kernel, strides=1, padding="SAME").numpy()
        np.testing.assert_allclose(
            output[..., group * group_out:(group + 1) * group_out], expected, rtol=1e-4, atol=1e-5
        )


def test_only_builtin_layers():
    for builder_name in ["ResNet18V2", "ResNeXt50", "ResNet20"]:
        model = build(builder_name, include_top=False, input_shape=(32, 32, 3))
        modules = {type(layer).__module__.split(".")[0] for layer in model.layers}
        assert modules == {"keras"}, builder_name
        assert not any(isinstance(layer, keras.layers.Lambda) for layer in model.layers)


# Weights


@pytest.mark.parametrize("builder_name", NEW_BUILDERS)
def test_imagenet_weights_raise(builder_name):
    with pytest.raises(
        ValueError, match=rf"No official Keras ImageNet weights exist for {builder_name}\..*weights=None"
    ):
        build(builder_name, weights="imagenet")


@pytest.mark.parametrize("builder_name", NEW_BUILDERS)
def test_default_weights_is_none(builder_name):
    signature = inspect.signature(getattr(keras_resnets, builder_name))
    assert signature.parameters["weights"].default is None


@pytest.mark.parametrize("builder_name", ["ResNet18", "ResNet20"])
def test_weights_path_loads(builder_name, tmp_path):
    source = build(builder_name, input_shape=(32, 32, 3), classes=5)
    randomize_batch_norm(source)
    path = tmp_path / "source.weights.h5"
    source.save_weights(path)

    loaded = build(builder_name, input_shape=(32, 32, 3), classes=5, weights=str(path))
    images = random_images((32, 32, 3), seed=5)
    for loaded_weight, source_weight in zip(loaded.get_weights(), source.get_weights()):
        np.testing.assert_array_equal(loaded_weight, source_weight)
    np.testing.assert_allclose(
        loaded.predict(images, verbose=0), source.predict(images, verbose=0), rtol=1e-6, atol=1e-6
    )


# Saving and export


SAVE_CASES = [
    ("ResNet18", {}),
    ("ResNet18V2", {}),
    ("ResNeXt50", {}),
    ("ResNet20", {}),
    ("ResNet20", {"residual": False}),
]


@pytest.mark.slow
@pytest.mark.parametrize("builder_name, options", SAVE_CASES)
def test_keras_file_round_trip(builder_name, options, tmp_path):
    model = build(builder_name, input_shape=(32, 32, 3), classes=5, **options)
    randomize_batch_norm(model)
    path = tmp_path / "model.keras"
    model.save(path)

    keras.utils.clear_session()
    loaded = keras.saving.load_model(path)
    images = random_images((32, 32, 3), seed=6)
    np.testing.assert_allclose(
        loaded.predict(images, verbose=0), model.predict(images, verbose=0), rtol=1e-6, atol=1e-6
    )
    assert loaded.name == model.name
    assert [layer.name for layer in loaded.layers] == [layer.name for layer in model.layers]


@pytest.mark.slow
@pytest.mark.parametrize("builder_name", ["ResNet18", "ResNet18V2", "ResNeXt50", "ResNet20"])
def test_saved_model_export(builder_name, tmp_path):
    model = build(builder_name, input_shape=(32, 32, 3), classes=5)
    randomize_batch_norm(model)
    export_dir = tmp_path / "saved_model"
    model.export(str(export_dir), verbose=False)

    keras.utils.clear_session()
    reloaded = tf.saved_model.load(str(export_dir))
    images = random_images((32, 32, 3), seed=7)
    np.testing.assert_allclose(
        reloaded.serve(tf.constant(images)).numpy(),
        model.predict(images, verbose=0),
        rtol=1e-5,
        atol=1e-5,
    )


def test_get_config_round_trip():
    model = keras_resnets.ResNet32(shortcut="zero_pad", include_top=False)
    clone = keras.Model.from_config(model.get_config())
    assert clone.get_config() == model.get_config()
    assert clone.count_params() == model.count_params()


# Options and errors


def test_options_in_signature():
    signature = inspect.signature(keras_resnets.ResNet20)
    assert signature.parameters["shortcut"].default == "zero_pad"
    assert signature.parameters["shortcut"].kind is inspect.Parameter.KEYWORD_ONLY
    assert signature.parameters["residual"].default is True
    assert signature.parameters["name"].default is None
    assert inspect.signature(keras_resnets.ResNet18).parameters["shortcut"].default == "projection"

    keras_signature = inspect.signature(keras_resnets.ResNet50)
    assert "shortcut" not in keras_signature.parameters
    assert "residual" not in keras_signature.parameters
    assert keras_signature.parameters["name"].default == "resnet50"


def test_docstrings_describe_options():
    assert "shortcut:" in keras_resnets.ResNet20.__doc__
    assert "residual:" in keras_resnets.ResNet20.__doc__
    assert '"plain20"' in keras_resnets.ResNet20.__doc__
    assert "shortcut:" not in keras_resnets.ResNeXt50.__doc__
    assert "No official Keras\n        ImageNet weights exist for ResNeXt50" in keras_resnets.ResNeXt50.__doc__
    assert "keras_resnets.cifar.preprocess_input" in keras_resnets.ResNet20.__doc__


def test_zero_pad_on_imagenet_basic():
    model = keras_resnets.ResNet18(shortcut="zero_pad", include_top=False, input_shape=(32, 32, 3))
    assert "conv3_block1_0_pad" in [layer.name for layer in model.layers]
    assert trainable_count(model) == trainable_count(
        keras_resnets.ResNet18(residual=False, include_top=False, input_shape=(32, 32, 3))
    )


@pytest.mark.parametrize(
    "builder_name, option",
    [
        ("ResNet50", {"shortcut": "zero_pad"}),
        ("ResNet50V2", {"residual": False}),
        ("ResNet18V2", {"residual": False}),
        ("ResNeXt50", {"shortcut": "projection"}),
        ("ResNet20", {"groups": 2}),
    ],
)
def test_unsupported_option_raises(builder_name, option):
    (key, value), = option.items()
    with pytest.raises(
        TypeError,
        match=rf"{builder_name}\(\) got an unexpected keyword argument '{key}'\..*Received: {key}=",
    ):
        build(builder_name, weights=None, include_top=False, **option)


def test_unsupported_option_lists_accepted():
    with pytest.raises(TypeError, match=r"architecture options are: none"):
        keras_resnets.ResNeXt50(include_top=False, residual=False)
    with pytest.raises(TypeError, match=r"architecture options are: `shortcut`, `residual`"):
        keras_resnets.ResNet20(depth=20)


def test_unknown_shortcut_raises():
    with pytest.raises(ValueError, match=r"`shortcut` must be 'projection'.*Received: shortcut='B'"):
        keras_resnets.ResNet20(shortcut="B")


def test_shortcut_type_raises():
    with pytest.raises(TypeError, match=r"`shortcut` must be one of .*Received: shortcut=1 of type int"):
        keras_resnets.ResNet20(shortcut=1)


def test_residual_type_raises():
    with pytest.raises(TypeError, match=r"`residual` must be True .*Received: residual='no'"):
        keras_resnets.ResNet18(residual="no")


def test_shortcut_with_plain_raises():
    with pytest.raises(
        ValueError, match=r"only applies to residual blocks.*shortcut='projection', residual=False"
    ):
        keras_resnets.ResNet20(residual=False, shortcut="projection")


def test_common_arguments_still_validated():
    with pytest.raises(ValueError, match=r"`pooling` must be None.*pooling='mean'"):
        keras_resnets.ResNet20(include_top=False, pooling="mean")
    with pytest.raises(TypeError, match=r"`classes` must be a positive integer.*classes='10'"):
        keras_resnets.ResNeXt50(classes="10")


def test_zero_pad_needs_width_multiple():
    x = keras.Input((8, 8, 24))
    stage = architectures.Stage(name="conv3", filters=32, blocks=1, stride=2)
    with pytest.raises(ValueError, match=r"multiple of its input width \(24\).*shortcut='projection'"):
        blocks.stack_stage(
            x, stage, family=blocks.FAMILIES["basic"], use_bias=False, shortcut="zero_pad"
        )


# The table


def test_every_row_has_a_builder():
    modules = [keras_resnets.resnet, keras_resnets.resnet_v2, resnet_basic, resnext, cifar]
    public = {name for module in modules for name in module.__all__ if name[0].isupper()}
    assert public == set(architectures.ARCHITECTURES)
    for name in architectures.ARCHITECTURES:
        assert getattr(keras_resnets, name).__name__ == name
        assert name in keras_resnets.__all__


def test_rows_are_consistent():
    for row in architectures.ARCHITECTURES.values():
        family = blocks.FAMILIES[row.block]
        assert (row.groups != 1) == family.grouped, row.builder
        assert family.preact == row.preact, row.builder
        assert row.shortcut in blocks.SHORTCUTS, row.builder
        assert set(row.options) <= set(architectures.OPTIONS), row.builder
        assert (row.weights_key is None) == (row.builder in NEW_BUILDERS), row.builder


def test_row_with_invalid_options_raises():
    with pytest.raises(ValueError, match=r"Row Broken lists unknown options \['depth'\]"):
        architectures.Architecture(
            builder="Broken", default_name="broken", block="basic", stages=(), options=("depth",)
        )
    with pytest.raises(ValueError, match=r"Row BrokenV2 cannot offer `residual`"):
        architectures.Architecture(
            builder="BrokenV2",
            default_name="brokenv2",
            block="preact_basic",
            stages=(),
            options=("residual",),
        )


def test_lookup_by_model_name():
    assert architectures.get_architecture("resnext101").builder == "ResNeXt101"
    assert architectures.get_architecture("ResNet110").default_classes == 10
    with pytest.raises(ValueError, match=r"Unknown architecture 'resnet19'.*name='resnet19'"):
        architectures.get_architecture("resnet19")
