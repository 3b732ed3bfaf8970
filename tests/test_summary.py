"""Tests of keras_resnets.summary: operation counts, depth and parameter counts."""

import keras
import pytest

from keras_resnets import summary


def _functional(inputs, outputs):
    return keras.Model(inputs, outputs)


def test_conv2d_same_padding_multiply_adds():
    inputs = keras.Input((8, 8, 2))
    outputs = keras.layers.Conv2D(4, 3, padding="same")(inputs)
    # 8 x 8 output positions x 4 filters x (3 x 3 x 2) kernel weights.
    assert summary.count_multiply_adds(_functional(inputs, outputs)) == 8 * 8 * 4 * 3 * 3 * 2


def test_strided_valid_conv_multiply_adds():
    inputs = keras.Input((9, 9, 3))
    outputs = keras.layers.Conv2D(5, 3, strides=2)(inputs)
    # Output is 4 x 4.
    assert summary.count_multiply_adds(_functional(inputs, outputs)) == 4 * 4 * 5 * 3 * 3 * 3


def test_grouped_conv_multiply_adds():
    inputs = keras.Input((6, 6, 8))
    outputs = keras.layers.Conv2D(8, 3, padding="same", groups=4)(inputs)
    # Each output channel reads 8 / 4 = 2 input channels.
    assert summary.count_multiply_adds(_functional(inputs, outputs)) == 6 * 6 * 8 * 3 * 3 * 2


def test_depthwise_and_separable_multiply_adds():
    inputs = keras.Input((5, 5, 4))
    depthwise = keras.layers.DepthwiseConv2D(3, padding="same")(inputs)
    separable = keras.layers.SeparableConv2D(6, 3, padding="same")(depthwise)
    model = _functional(inputs, separable)
    depthwise_macs = 5 * 5 * 4 * 3 * 3
    separable_macs = 5 * 5 * 4 * 3 * 3 + 5 * 5 * 4 * 6
    assert summary.count_multiply_adds(model) == depthwise_macs + separable_macs


def test_dense_on_sequence_multiply_adds():
    inputs = keras.Input((7, 3))
    outputs = keras.layers.Dense(4)(inputs)
    assert summary.count_multiply_adds(_functional(inputs, outputs)) == 7 * 3 * 4


def test_shared_layer_counted_per_call():
    dense = keras.layers.Dense(4)
    first = keras.Input((3,))
    second = keras.Input((3,))
    outputs = keras.layers.Add()([dense(first), dense(second)])
    assert summary.count_multiply_adds(keras.Model([first, second], outputs)) == 2 * 3 * 4


def test_nested_model_counted():
    inner_input = keras.Input((4, 4, 2))
    inner = keras.Model(inner_input, keras.layers.Conv2D(3, 1)(inner_input), name="inner")
    outer_input = keras.Input((4, 4, 2))
    features = keras.layers.Flatten()(inner(outer_input))
    outer = keras.Model(outer_input, keras.layers.Dense(5)(features))
    assert summary.count_multiply_adds(outer) == 4 * 4 * 3 * 2 + 4 * 4 * 3 * 5


def test_sequential_model_counted():
    model = keras.Sequential(
        [keras.Input((6, 6, 1)), keras.layers.Conv2D(2, 3), keras.layers.Flatten(), keras.layers.Dense(3)]
    )
    assert summary.count_multiply_adds(model) == 4 * 4 * 2 * 3 * 3 * 1 + 4 * 4 * 2 * 3


def test_flops_are_twice_multiply_adds():
    inputs = keras.Input((8, 8, 2))
    outputs = keras.layers.Conv2D(4, 3, padding="same")(inputs)
    assert summary.count_flops(_functional(inputs, outputs)) == 2 * 8 * 8 * 4 * 3 * 3 * 2


def test_uncounted_layers_add_nothing():
    inputs = keras.Input((4, 4, 2))
    x = keras.layers.BatchNormalization()(inputs)
    x = keras.layers.ReLU()(x)
    x = keras.layers.MaxPooling2D()(x)
    outputs = keras.layers.GlobalAveragePooling2D()(x)
    assert summary.count_multiply_adds(_functional(inputs, outputs)) == 0


def test_unknown_spatial_size_raises():
    inputs = keras.Input((None, None, 3))
    outputs = keras.layers.Conv2D(4, 3)(inputs)
    with pytest.raises(ValueError, match="fully known input shapes.*input_shape"):
        summary.count_flops(_functional(inputs, outputs))


def test_transposed_conv_raises():
    inputs = keras.Input((4, 4, 2))
    outputs = keras.layers.Conv2DTranspose(3, 3)(inputs)
    with pytest.raises(ValueError, match="Cannot count the operations of layer.*Conv2DTranspose"):
        summary.count_multiply_adds(_functional(inputs, outputs))


def test_subclassed_model_raises():
    class Doubler(keras.Model):
        def call(self, inputs):
            return inputs * 2

    model = Doubler()
    model(keras.ops.zeros((1, 3)))
    with pytest.raises(TypeError, match="Functional or Sequential model.*Doubler"):
        summary.count_flops(model)


def test_non_model_raises():
    with pytest.raises(TypeError, match="needs a keras.Model.*str"):
        summary.count_flops("resnet50")


def test_weighted_depth_skips_shortcuts():
    inputs = keras.Input((8, 8, 4))
    main = keras.layers.Conv2D(4, 3, padding="same")(inputs)
    main = keras.layers.Conv2D(4, 3, padding="same")(main)
    shortcut = keras.layers.Conv2D(4, 1)(inputs)
    x = keras.layers.Add()([main, shortcut])
    outputs = keras.layers.Dense(2)(keras.layers.GlobalAveragePooling2D()(x))
    assert summary.weighted_depth(_functional(inputs, outputs)) == 3


# The paper's table 1 counts multiply-adds and calls them FLOPs.
PAPER_MULTIPLY_ADDS = {"resnet50": 3.8e9, "resnet101": 7.6e9, "resnet152": 11.3e9}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(PAPER_MULTIPLY_ADDS))
def test_multiply_adds_match_resnet_paper(name):
    result = summary.summarize_architecture(name)
    published = PAPER_MULTIPLY_ADDS[name]
    # The paper rounds to two significant digits and our count includes the
    # classifier, so a few percent apart is expected.
    assert abs(result.multiply_adds - published) / published < 0.025
    assert result.flops == 2 * result.multiply_adds


# Builder names and the depth in each name.
NAMED_DEPTHS = {
    "ResNet18": 18,
    "ResNet34": 34,
    "ResNet50": 50,
    "ResNet101": 101,
    "ResNet152": 152,
    "ResNet50V2": 50,
    "ResNeXt50": 50,
    "ResNet20": 20,
    "ResNet56": 56,
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(NAMED_DEPTHS))
def test_weighted_depth_matches_model_name(name):
    assert summary.summarize_architecture(name).depth == NAMED_DEPTHS[name]


KERAS_APPLICATIONS_BUILDERS = {
    "resnet50": "ResNet50",
    "resnet101": "ResNet101",
    "resnet152": "ResNet152",
    "resnet50v2": "ResNet50V2",
    "resnet101v2": "ResNet101V2",
    "resnet152v2": "ResNet152V2",
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(KERAS_APPLICATIONS_BUILDERS))
def test_parameter_counts_match_keras_applications(name):
    reference = getattr(keras.applications, KERAS_APPLICATIONS_BUILDERS[name])(weights=None)
    expected_trainable = sum(int(keras.ops.size(weight)) for weight in reference.trainable_weights)

    result = summary.summarize_architecture(name)

    assert result.total_params == reference.count_params()
    assert result.trainable_params == expected_trainable
    assert result.non_trainable_params == reference.count_params() - expected_trainable
    assert result.layers == len(reference.layers)
    assert result.output_shape == tuple(reference.output_shape[1:])


def test_resnet50_summary_fields():
    result = summary.summarize_architecture("resnet50")
    assert result.name == "resnet50"
    assert result.input_shape == (224, 224, 3)
    assert result.preprocessing == "caffe"
    assert result.weight_files == (
        "resnet50_weights_tf_dim_ordering_tf_kernels.h5",
        "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5",
    )
    text = summary.format_summary(result)
    assert "parameters            25,636,712" in text
    assert "FLOPs (2 x MACs)" in text


def test_unregistered_weights_summary():
    result = summary.summarize_architecture("resnet20")
    assert result.weight_files == ()
    assert "none registered" in summary.format_summary(result)


def test_unknown_architecture_raises():
    with pytest.raises(ValueError, match="Unknown architecture 'resnet51'"):
        summary.summarize_architecture("resnet51")
