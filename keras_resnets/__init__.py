"""ResNet models on the Keras 3 Functional API, drop-in for keras.applications."""

__version__ = "0.1.0"

from keras_resnets import imagenet_utils
from keras_resnets.architectures import ARCHITECTURES
from keras_resnets.resnet import ResNet50, ResNet101, ResNet152
from keras_resnets.resnet_v2 import ResNet50V2, ResNet101V2, ResNet152V2

__all__ = [
    "ARCHITECTURES",
    "ResNet50",
    "ResNet101",
    "ResNet152",
    "ResNet50V2",
    "ResNet101V2",
    "ResNet152V2",
    "imagenet_utils",
]
