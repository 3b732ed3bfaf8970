"""ResNet50, a drop-in for `keras.applications.resnet50`."""

from keras_resnets.resnet import ResNet50, decode_predictions, preprocess_input

__all__ = ["ResNet50", "preprocess_input", "decode_predictions"]
