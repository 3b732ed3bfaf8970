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

from keras_resnets.cifar import ResNet20, ResNet32, ResNet44, ResNet56, ResNet110
from keras_resnets.features import StageInfo, feature_extractor, stage_info
from keras_resnets.resnet_basic import ResNet18, ResNet34, ResNet18V2, ResNet34V2
from keras_resnets.resnext import ResNeXt50, ResNeXt101

__all__ += [
    "ResNet18",
    "ResNet34",
    "ResNet18V2",
    "ResNet34V2",
    "ResNeXt50",
    "ResNeXt101",
    "ResNet20",
    "ResNet32",
    "ResNet44",
    "ResNet56",
    "ResNet110",
    "StageInfo",
    "feature_extractor",
    "stage_info",
]
from keras_resnets.inference import optimize_for_inference
