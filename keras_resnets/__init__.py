"""ResNet models on the Keras 3 Functional API, drop-in for keras.applications.

Public names are imported on first use, so `import keras_resnets` (and the
`keras-resnets --help` or `weights` commands) does not start Keras and
TensorFlow until a model is needed.
"""

import importlib
import typing

__version__ = "0.1.0"

# Public name -> module that defines it.
_EXPORTS = {
    "ARCHITECTURES": "keras_resnets.architectures",
    "ResNet50": "keras_resnets.resnet",
    "ResNet101": "keras_resnets.resnet",
    "ResNet152": "keras_resnets.resnet",
    "ResNet50V2": "keras_resnets.resnet_v2",
    "ResNet101V2": "keras_resnets.resnet_v2",
    "ResNet152V2": "keras_resnets.resnet_v2",
    "ResNet18": "keras_resnets.resnet_basic",
    "ResNet34": "keras_resnets.resnet_basic",
    "ResNet18V2": "keras_resnets.resnet_basic",
    "ResNet34V2": "keras_resnets.resnet_basic",
    "ResNeXt50": "keras_resnets.resnext",
    "ResNeXt101": "keras_resnets.resnext",
    "ResNet20": "keras_resnets.cifar",
    "ResNet32": "keras_resnets.cifar",
    "ResNet44": "keras_resnets.cifar",
    "ResNet56": "keras_resnets.cifar",
    "ResNet110": "keras_resnets.cifar",
    "StageInfo": "keras_resnets.features",
    "feature_extractor": "keras_resnets.features",
    "stage_info": "keras_resnets.features",
    "optimize_for_inference": "keras_resnets.inference",
}
_SUBMODULES = ("imagenet_utils", "resnet", "resnet50", "resnet_v2", "weights", "inference")

__all__ = [*_EXPORTS, "imagenet_utils"]

if typing.TYPE_CHECKING:  # Lets IDEs and type checkers see the names.
    from keras_resnets import imagenet_utils
    from keras_resnets.architectures import ARCHITECTURES
    from keras_resnets.cifar import ResNet20, ResNet32, ResNet44, ResNet56, ResNet110
    from keras_resnets.features import StageInfo, feature_extractor, stage_info
    from keras_resnets.inference import optimize_for_inference
    from keras_resnets.resnet import ResNet50, ResNet101, ResNet152
    from keras_resnets.resnet_basic import ResNet18, ResNet18V2, ResNet34, ResNet34V2
    from keras_resnets.resnet_v2 import ResNet50V2, ResNet101V2, ResNet152V2
    from keras_resnets.resnext import ResNeXt50, ResNeXt101


def __getattr__(name):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f"keras_resnets.{name}")
    else:
        raise AttributeError(f"module 'keras_resnets' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__():
    return sorted({*globals(), *__all__})
