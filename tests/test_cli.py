"""Tests of the keras-resnets command, mostly run as a subprocess.

Predictions are checked against keras.applications' ResNet50 carrying the
same random weights, on images that the tests draw with Pillow.
"""

import dataclasses
import hashlib
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
from PIL import Image

from keras_resnets import cli, images, weights
from tests.h5_layout import write_keras2_h5

CLASSES = 1000
INPUT_SIZE = 224
# round(224 / 0.875) = 256: the center crop of a 256 x 256 image is the
# 224 x 224 square at offset 16, with no resizing.
CROP_SOURCE_SIZE = 256
CROP_OFFSET = 16

TOP_FILE = "resnet50_weights_tf_dim_ordering_tf_kernels.h5"
NO_TOP_FILE = "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5"


def _run(arguments, *, env=None, timeout=600):
    """Run `python -m keras_resnets ARGUMENTS` and return the CompletedProcess."""
    command_env = dict(os.environ)
    command_env["KERAS_RESNETS_OFFLINE"] = "1"
    command_env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    command_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "keras_resnets", *map(str, arguments)],
        capture_output=True,
        text=True,
        env=command_env,
        timeout=timeout,
    )


def _md5(path):
    return hashlib.md5(pathlib.Path(path).read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def reference_model():
    """keras.applications' ResNet50 with random weights: the oracle."""
    keras.utils.set_random_seed(0)
    return keras.applications.ResNet50(weights=None)


@pytest.fixture(scope="module")
def weights_file(reference_model, tmp_path_factory):
    """The reference model's weights in the official Keras 2 layout."""
    path = tmp_path_factory.mktemp("weights") / TOP_FILE
    return write_keras2_h5(reference_model, path)


@pytest.fixture(scope="module")
def labels_file(tmp_path_factory):
    """A class index in the official layout: class i is ("n%08d" % i, "class_i")."""
    path = tmp_path_factory.mktemp("labels") / "imagenet_class_index.json"
    path.write_text(json.dumps({str(i): [f"n{i:08d}", f"class_{i}"] for i in range(CLASSES)}))
    return path


def _smooth_rgb(size, seed):
    rng = np.random.default_rng(seed)
    rows, columns = np.mgrid[0:size, 0:size] / size
    channels = [
        np.sin(rows * rng.uniform(2, 9) + columns * rng.uniform(2, 9) + rng.uniform(0, 6))
        for _ in range(3)
    ]
    return ((np.stack(channels, axis=-1) + 1) * 127.5).astype(np.uint8)


def _center_crop(array):
    return array[CROP_OFFSET : CROP_OFFSET + INPUT_SIZE, CROP_OFFSET : CROP_OFFSET + INPUT_SIZE]


@pytest.fixture(scope="module")
def test_images(tmp_path_factory):
    """Write images of many modes and sizes; return {name: (path, expected RGB input)}.

    Each expected input is derived here from the pixels drawn, following the
    documented policy: center crop of 0.875 of the shorter side, resize,
    RGB with transparent pixels on white.
    """
    folder = tmp_path_factory.mktemp("images")
    cases = {}

    rgb = _smooth_rgb(CROP_SOURCE_SIZE, seed=1)
    Image.fromarray(rgb).save(folder / "rgb.png")
    cases["rgb"] = (folder / "rgb.png", _center_crop(rgb))

    gray = _smooth_rgb(CROP_SOURCE_SIZE, seed=2)[..., 0]
    Image.fromarray(gray, mode="L").save(folder / "gray.png")
    cases["gray"] = (folder / "gray.png", np.repeat(_center_crop(gray)[..., None], 3, axis=-1))

    gray16 = gray.astype(np.uint16) * 257
    Image.fromarray(gray16).save(folder / "gray16.png")
    cases["gray16"] = (folder / "gray16.png", np.repeat(_center_crop(gray)[..., None], 3, axis=-1))

    rgba = np.concatenate([_smooth_rgb(CROP_SOURCE_SIZE, seed=3), np.full((256, 256, 1), 255, np.uint8)], -1)
    rgba[:, 128:, 3] = 0
    Image.fromarray(rgba, mode="RGBA").save(folder / "rgba.png")
    rgba_expected = rgba[..., :3].copy()
    rgba_expected[:, 128:] = 255
    cases["rgba"] = (folder / "rgba.png", _center_crop(rgba_expected))

    palette = Image.fromarray(_smooth_rgb(CROP_SOURCE_SIZE, seed=4)).quantize(colors=16)
    palette.save(folder / "palette.png")
    cases["palette"] = (folder / "palette.png", _center_crop(np.asarray(palette.convert("RGB"))))

    Image.new("RGB", (1, 1), (10, 200, 30)).save(folder / "tiny.png")
    cases["tiny"] = (folder / "tiny.png", np.broadcast_to(np.array([10, 200, 30], np.uint8), (224, 224, 3)))

    # 4000 x 3000: the box is 0.875 * 3000 = 2625 pixels square, centered.
    huge = Image.fromarray(_smooth_rgb(1000, seed=5)).resize((4000, 3000))
    huge.save(folder / "huge.jpg", quality=90)
    with Image.open(folder / "huge.jpg") as decoded:
        left, top = (4000 - 2625) // 2, (3000 - 2625) // 2
        box = decoded.convert("RGB").crop((left, top, left + 2625, top + 2625))
        huge_expected = box.resize((224, 224), Image.Resampling.BILINEAR)
    cases["huge"] = (folder / "huge.jpg", np.asarray(huge_expected))
    return cases


def _reference_scores(reference_model, rgb_images):
    inputs = keras.applications.resnet50.preprocess_input(np.stack(rgb_images).astype("float32"))
    return reference_model.predict(inputs, verbose=0)


def _check_predictions(predictions, expected_scores, top):
    """Check reported (wnid, name, score) rows against the reference scores."""
    assert len(predictions) == top
    # Ties between random-weight scores may order classes differently, so
    # each reported score must match its class and be among the top scores.
    threshold = np.sort(expected_scores)[-top]
    for prediction in predictions:
        index = int(prediction["wnid"][1:])
        assert prediction["name"] == f"class_{index}"
        assert prediction["score"] == pytest.approx(float(expected_scores[index]), abs=1e-4)
        assert prediction["score"] >= threshold - 1e-4
    scores = [prediction["score"] for prediction in predictions]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.slow
def test_predict_images_of_every_mode(test_images, weights_file, labels_file, reference_model):
    names = list(test_images)
    result = _run(
        ["predict", *(test_images[name][0] for name in names), "--weights", weights_file,
         "--labels", labels_file, "--top", 3, "--json"]
    )
    assert result.returncode == 0, result.stderr

    document = json.loads(result.stdout)
    expected = _reference_scores(reference_model, [test_images[name][1] for name in names])
    assert document["model"] == "resnet50"
    assert [entry["image"] for entry in document["results"]] == [str(test_images[name][0]) for name in names]
    for name, entry, scores in zip(names, document["results"], expected):
        _check_predictions(entry["predictions"], scores, top=3)


@pytest.mark.slow
def test_predict_default_photo_text(weights_file, labels_file):
    # bfloat16 changes the scores, not the output format.
    result = _run(["predict", "--weights", weights_file, "--labels", labels_file, "--precision", "bfloat16"])
    assert result.returncode == 0, result.stderr

    lines = result.stdout.splitlines()
    assert lines[0].endswith("grace_hopper.jpg")
    assert len(lines) == 6
    for line in lines[1:]:
        wnid, name, score = line.split()
        assert line.startswith("  n")
        assert name == f"class_{int(wnid[1:])}"
        assert 0.0 <= float(score) <= 1.0


@pytest.mark.parametrize(
    "case, message",
    [
        ("missing", "Image file not found: .*missing.jpg"),
        ("not_an_image", "not an image file that Pillow can decode"),
        ("truncated", "truncated or corrupt"),
        ("folder", "is a folder, not an image file"),
    ],
)
def test_predict_bad_image_fails(case, message, tmp_path, labels_file):
    paths = {
        "missing": tmp_path / "missing.jpg",
        "not_an_image": tmp_path / "notes.jpg",
        "truncated": tmp_path / "truncated.png",
        "folder": tmp_path,
    }
    paths["not_an_image"].write_text("plain text, not pixels")
    Image.fromarray(_smooth_rgb(64, seed=6)).save(tmp_path / "whole.png")
    data = (tmp_path / "whole.png").read_bytes()
    paths["truncated"].write_bytes(data[: len(data) // 2])

    result = _run(["predict", paths[case], "--weights", "unused.h5", "--labels", labels_file])

    assert result.returncode == 1
    assert "keras-resnets predict: error:" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert re.search(message, result.stderr)


def test_predict_offline_without_weights_fails(tmp_path):
    empty_home = tmp_path / "keras_home"
    empty_home.mkdir()
    result = _run(["predict"], env={"KERAS_HOME": str(empty_home), "KERAS_RESNETS_OFFLINE": "1"})

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert f"Could not get file '{TOP_FILE}'" in result.stderr
    assert "offline mode (KERAS_RESNETS_OFFLINE=1)" in result.stderr
    assert "keras-resnets weights fetch resnet50" in result.stderr
    assert "KERAS_RESNETS_WEIGHTS_URL" in result.stderr
    assert list(empty_home.rglob("*.h5")) == []


def test_predict_model_without_official_weights_fails():
    result = _run(["predict", "--model", "resnet18"])
    assert result.returncode == 1
    assert "resnet18 has no official ImageNet weights" in result.stderr
    assert "--weights" in result.stderr


@pytest.mark.slow
def test_predict_from_weights_dir(
    tmp_path, monkeypatch, capsys, test_images, weights_file, labels_file, reference_model
):
    # The registry contains the official hashes. These entries let the
    # generated files stand in for the official ones.
    weights_dir = tmp_path / "weights"
    weights_dir.mkdir()
    shutil.copy(weights_file, weights_dir / TOP_FILE)
    shutil.copy(labels_file, weights_dir / weights.CLASS_INDEX_FILE.file_name)
    monkeypatch.setitem(
        weights.REGISTRY, TOP_FILE, dataclasses.replace(weights.REGISTRY[TOP_FILE], file_hash=_md5(weights_file))
    )
    monkeypatch.setattr(
        weights, "CLASS_INDEX_FILE", dataclasses.replace(weights.CLASS_INDEX_FILE, file_hash=_md5(labels_file))
    )
    monkeypatch.setenv("KERAS_RESNETS_WEIGHTS_DIR", str(weights_dir))
    monkeypatch.setenv("KERAS_RESNETS_OFFLINE", "1")
    image_path, expected_input = test_images["rgb"]

    status = cli.main(["predict", str(image_path), "--json"])

    assert status == 0
    document = json.loads(capsys.readouterr().out)
    assert document["weights"] == "imagenet"
    expected = _reference_scores(reference_model, [expected_input])[0]
    _check_predictions(document["results"][0]["predictions"], expected, top=5)


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["predict", "--top", "0"], "--top: must be a positive integer, got '0'"),
        (["predict", "--crop-fraction", "1.5"], r"--crop-fraction: must be a number in \(0, 1\]"),
        (["export", "resnet50"], "the following arguments are required: OUT"),
        (["export", "resnet50", "out", "--format", "onnx"], "invalid choice: 'onnx'"),
        (["nonsense"], "invalid choice: 'nonsense'"),
    ],
)
def test_invalid_usage_exits_2(arguments, message, capsys):
    with pytest.raises(SystemExit) as caught:
        cli.main(arguments)
    assert caught.value.code == 2
    assert re.search(message, capsys.readouterr().err)


@pytest.mark.parametrize("command", [[], ["predict"], ["summary"], ["export"], ["weights"]])
def test_help_of_every_command(command, capsys):
    with pytest.raises(SystemExit) as caught:
        cli.main([*command, "--help"])
    assert caught.value.code == 0
    output = capsys.readouterr().out
    assert output.startswith(f"usage: keras-resnets {' '.join(command)}".rstrip())
    assert "options:" in output


def test_help_lists_every_command(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    output = capsys.readouterr().out
    for command in ("predict", "summary", "export", "weights"):
        assert f"    {command}" in output


def test_console_script_version():
    script = shutil.which("keras-resnets")
    assert script is not None, "the keras-resnets console script is not installed; run pip install -e ."
    result = subprocess.run([script, "--version"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0
    assert result.stdout.strip() == f"keras-resnets {__import__('keras_resnets').__version__}"


def test_summary_json():
    result = _run(["summary", "resnet50", "resnet20", "--json"])
    assert result.returncode == 0, result.stderr

    resnet50, resnet20 = json.loads(result.stdout)
    reference = keras.applications.ResNet50(weights=None)
    assert resnet50["name"] == "resnet50"
    assert resnet50["total_params"] == reference.count_params()
    assert resnet50["depth"] == 50
    # ResNet paper table 1: 3.8 x 10^9 multiply-adds (called FLOPs there).
    assert abs(resnet50["multiply_adds"] - 3.8e9) / 3.8e9 < 0.025
    assert resnet50["flops"] == 2 * resnet50["multiply_adds"]
    assert resnet50["output_shape"] == [1000]
    assert resnet50["preprocessing"] == "caffe"
    assert resnet50["weight_files"] == [TOP_FILE, NO_TOP_FILE]
    # ResNet paper table 6: ResNet20 on CIFAR-10 has 0.27M parameters.
    assert abs(resnet20["trainable_params"] - 0.27e6) / 0.27e6 < 0.01
    assert resnet20["depth"] == 20
    assert resnet20["weight_files"] == []


def test_summary_text():
    result = _run(["summary", "resnet18"])
    assert result.returncode == 0, result.stderr
    lines = dict(line.split("  ", 1) for line in result.stdout.splitlines() if "  " in line.strip())
    assert lines["model"].strip() == "resnet18"
    assert lines["depth (conv + dense)"].strip() == "18"
    assert "FLOPs (2 x MACs)" in lines
    assert lines["weight files"].strip() == "none registered"


def test_summary_unknown_model_fails():
    result = _run(["summary", "resnet50", "resnet51"])
    assert result.returncode == 1
    assert "Unknown architecture 'resnet51'" in result.stderr
    assert result.stdout == ""


@pytest.fixture(scope="module")
def no_top_reference(tmp_path_factory):
    """keras.applications' ResNet50 without top at 64 x 64, and its weights file."""
    keras.utils.set_random_seed(1)
    model = keras.applications.ResNet50(
        weights=None, include_top=False, pooling="avg", input_shape=(64, 64, 3)
    )
    path = tmp_path_factory.mktemp("no_top") / NO_TOP_FILE
    return model, write_keras2_h5(model, path)


_PLAIN_TENSORFLOW_SCRIPT = textwrap.dedent(
    """
    import sys
    import numpy as np
    import tensorflow as tf

    model_path, input_path, output_path = sys.argv[1:]
    signature = tf.saved_model.load(model_path).signatures["serving_default"]
    outputs = signature(images=tf.constant(np.load(input_path)))["outputs"]
    np.save(output_path, outputs.numpy())
    assert not any(name.startswith("keras_resnets") for name in sys.modules)
    """
)


@pytest.mark.slow
def test_export_saved_model_serves_without_package(tmp_path, no_top_reference):
    reference, weights_path = no_top_reference
    output = tmp_path / "served"
    result = _run(
        ["export", "resnet50", output, "--weights", weights_path, "--no-top", "--pooling", "avg",
         "--image-size", 64, "--include-preprocessing"]
    )
    assert result.returncode == 0, result.stderr
    assert "serving_default(images: uint8 (None, None, None, 3)) -> {outputs: float32 (None, 2048)}" in result.stdout
    assert "tf.saved_model.load: max abs difference" in result.stdout
    assert "tolerance" in result.stdout

    # round(64 / 0.875) = 73; the center crop starts at (73 - 64) // 2 = 4.
    raw = np.random.default_rng(2).integers(0, 256, size=(2, 73, 73, 3), dtype=np.uint8)
    np.save(tmp_path / "raw.npy", raw)
    script = tmp_path / "serve.py"
    script.write_text(_PLAIN_TENSORFLOW_SCRIPT)
    served = subprocess.run(
        [sys.executable, str(script), str(output), str(tmp_path / "raw.npy"), str(tmp_path / "out.npy")],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
        cwd=tmp_path,
    )
    assert served.returncode == 0, served.stderr

    crop = raw[:, 4:68, 4:68].astype("float32")
    expected = reference.predict(keras.applications.resnet50.preprocess_input(crop), verbose=0)
    outputs = np.load(tmp_path / "out.npy")
    assert outputs.shape == (2, 2048)
    np.testing.assert_allclose(outputs, expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())


@pytest.mark.slow
def test_export_keras_optimized(tmp_path):
    output = tmp_path / "model.keras"
    result = _run(
        ["export", "resnet50v2", output, "--weights", "none", "--no-top", "--pooling", "avg",
         "--image-size", 64, "--optimize"]
    )
    assert result.returncode == 0, result.stderr
    assert "as keras" in result.stdout
    assert "keras.saving.load_model: max abs difference" in result.stdout

    reloaded = keras.saving.load_model(output)
    assert reloaded.output_shape == (None, 2048)
    # Folding removes every BatchNormalization that follows a convolution.
    assert not any(layer.name == "conv2_block1_1_bn" for layer in reloaded.layers)


def test_export_fails_on_mismatch(tmp_path, monkeypatch, capsys):
    # A reload that returns different weights must fail the check.
    real_load_model = keras.saving.load_model

    def load_other_weights(path):
        model = real_load_model(path)
        return keras.models.clone_model(model)

    monkeypatch.setattr(keras.saving, "load_model", load_other_weights)
    status = cli.main(
        ["export", "resnet18", str(tmp_path / "m.keras"), "--weights", "none", "--no-top",
         "--pooling", "avg", "--image-size", "32"]
    )
    assert status == 1
    error = capsys.readouterr().err
    assert "keras-resnets export: error: The exported keras artifact" in error
    assert "does not reproduce the model" in error


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--include-preprocessing"], "--include-preprocessing works only in SavedModels"),
        (["--pooling", "avg"], "--pooling applies only with --no-top"),
    ],
)
def test_export_invalid_combination_fails(extra, message, tmp_path):
    result = _run(["export", "resnet18", tmp_path / "m.keras", "--weights", "none", *extra])
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "m.keras").exists()


def test_export_existing_output_fails(tmp_path):
    output = tmp_path / "m.keras"
    output.write_text("keep")
    result = _run(["export", "resnet18", output, "--weights", "none"])
    assert result.returncode == 1
    assert "already exists" in result.stderr
    assert "--overwrite" in result.stderr
    assert output.read_text() == "keep"


def test_weights_list():
    result = _run(["weights", "list"])
    assert result.returncode == 0, result.stderr
    assert TOP_FILE in result.stdout
    assert "imagenet_class_index.json" in result.stdout


# Image loading for `predict` (keras_resnets.images), in-process.


def test_load_image_applies_exif_orientation(tmp_path):
    # EXIF orientation 6: the stored pixels must be turned 90 degrees
    # clockwise for display.
    stored = np.zeros((200, 300, 3), np.uint8)
    stored[:, :150] = (255, 0, 0)
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(stored).save(tmp_path / "rotated.jpg", exif=exif, quality=95)

    loaded = images.load_image(tmp_path / "rotated.jpg", (64, 64), crop_fraction=1.0)

    # After the turn, the red left half of the stored image is at the top.
    assert loaded[5, 32, 0] > 200
    assert loaded[58, 32, 0] < 60


@pytest.mark.parametrize(
    "mode, pixel, expected",
    [
        ("CMYK", (0, 255, 255, 0), (255, 0, 0)),
        ("LA", (100, 0), (255, 255, 255)),
        ("LA", (100, 255), (100, 100, 100)),
        ("1", 1, (255, 255, 255)),
        ("I;16", 65535, (255, 255, 255)),
    ],
)
def test_load_image_converts_mode(mode, pixel, expected, tmp_path):
    path = tmp_path / ("image.tiff" if mode == "CMYK" else "image.png")
    Image.new(mode, (5, 7), pixel).save(path)

    loaded = images.load_image(path, (4, 4))

    assert loaded.dtype == np.uint8
    assert loaded.shape == (4, 4, 3)
    assert tuple(loaded[2, 2]) == expected


def test_load_image_transparent_palette(tmp_path):
    palette_image = Image.new("P", (8, 8), 1)
    palette_image.putpalette([0, 0, 0, 200, 10, 10] + [0, 0, 0] * 254)
    palette_image.save(tmp_path / "palette.png", transparency=1)

    loaded = images.load_image(tmp_path / "palette.png", (4, 4))

    assert tuple(loaded[1, 1]) == (255, 255, 255)


def test_load_image_elongated(tmp_path):
    strip = np.zeros((2, 5000, 3), np.uint8)
    strip[:, 2490:2510] = 255
    Image.fromarray(strip).save(tmp_path / "strip.png")

    loaded = images.load_image(tmp_path / "strip.png", (224, 224))

    # The box is the centered 2 x 2 square of the strip, which is white.
    assert loaded.shape == (224, 224, 3)
    assert loaded.min() == 255


def test_load_image_non_square_target(tmp_path):
    Image.fromarray(_smooth_rgb(300, seed=7)).save(tmp_path / "square.png")
    loaded = images.load_image(tmp_path / "square.png", (48, 96), crop_fraction=1.0)
    assert loaded.shape == (48, 96, 3)


def test_center_crop_box_values():
    assert images.center_crop_box(256, 256, 224, 224, 0.875) == (16, 16, 224, 224)
    assert images.center_crop_box(3000, 4000, 224, 224, 0.875) == (187, 687, 2625, 2625)
    assert images.center_crop_box(1, 1, 224, 224, 0.875) == (0, 0, 1, 1)
    assert images.center_crop_box(100, 400, 50, 100, 1.0) == (0, 100, 100, 200)


def test_load_image_float_tiff_raises(tmp_path):
    Image.new("F", (4, 4), 0.5).save(tmp_path / "float.tiff")
    with pytest.raises(images.ImageLoadError, match="Floating-point images.*Convert the image"):
        images.load_image(tmp_path / "float.tiff", (4, 4))


@pytest.mark.parametrize(
    "arguments, error, message",
    [
        ({"size": (0, 4)}, ValueError, r"`size` must be a \(height, width\) pair.*Received: size=\(0, 4\)"),
        ({"crop_fraction": 0}, ValueError, r"`crop_fraction` must be in \(0, 1\].*Received: crop_fraction=0"),
        ({"crop_fraction": "all"}, TypeError, "`crop_fraction` must be a number.*of type str"),
    ],
)
def test_load_image_invalid_arguments(arguments, error, message, tmp_path):
    Image.new("RGB", (4, 4)).save(tmp_path / "image.png")
    call = {"size": (4, 4), **arguments}
    with pytest.raises(error, match=message):
        images.load_image(tmp_path / "image.png", call.pop("size"), **call)


def test_predict_weights_none_fails(capsys):
    assert cli.main(["predict", "--weights", "none"]) == 1
    assert "--weights none would classify with random ones" in capsys.readouterr().err


def test_predict_cifar_model_needs_labels(tmp_path, capsys):
    weights_path = tmp_path / "r20.weights.h5"
    weights_path.write_bytes(b"not read before the labels check")
    assert cli.main(["predict", "--model", "resnet20", "--weights", str(weights_path)]) == 1
    error = capsys.readouterr().err
    assert "resnet20 has 10 classes" in error
    assert "--labels" in error


def test_predict_missing_labels_file(tmp_path, capsys):
    weights_path = tmp_path / "r50.h5"
    weights_path.write_bytes(b"not read before the labels check")
    missing = tmp_path / "nope.json"
    assert cli.main(["predict", "--weights", str(weights_path), "--labels", str(missing)]) == 1
    error = capsys.readouterr().err
    assert f"Class index file not found: {missing}" in error
    assert "Errno" not in error


def test_export_model_without_official_weights(tmp_path, capsys):
    assert cli.main(["export", "resnet20", str(tmp_path / "m.keras")]) == 1
    error = capsys.readouterr().err
    assert "resnet20 has no official ImageNet weights" in error
    assert "--weights none" in error
    assert not (tmp_path / "m.keras").exists()


def test_export_into_unwritable_folder(capsys):
    # /proc accepts no new files, even for root.
    output = pathlib.Path("/proc/keras_resnets_test.keras")
    assert cli.main(["export", "resnet20", str(output), "--weights", "none"]) == 1
    error = capsys.readouterr().err
    assert f"Cannot write the export to {output}" in error
    assert ".keras_resnets_test.keras." not in error


def test_weights_fetch_offline_one_message(monkeypatch, capsys):
    monkeypatch.setenv("KERAS_RESNETS_OFFLINE", "1")
    assert cli.main(["weights", "fetch", "--all"]) == 1
    error = capsys.readouterr().err
    assert error.count("error:") == 1
    assert "offline mode is on (KERAS_RESNETS_OFFLINE=1)" in error
    assert "imagenet_class_index.json" in error
