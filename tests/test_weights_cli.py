"""Tests of the ``weights`` command line: list, fetch, verify, path.

Real runs go through ``python -m keras_resnets.weights_cli`` in a subprocess,
with KERAS_HOME in tmp_path and a loopback mirror started by the test.
Runs that need a file whose hash the test controls register a test entry
first (CLI_WITH_TEST_ENTRY). Help text and argument errors are checked in
process, which is faster.
"""

import argparse
import dataclasses
import hashlib
import json
import os
import pathlib
import subprocess
import sys

import pytest

from keras_resnets import weights
from keras_resnets import weights_cli
from keras_resnets import weights_download
from tests import weights_server

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]
TEST_FILE_NAME = "testnet_weights_tf_dim_ordering_tf_kernels.h5"
TEST_URL_PATH = "/tensorflow/keras-applications/resnet/" + TEST_FILE_NAME
RESNET50_NOTOP = "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5"
ENV_NAMES = (
    "KERAS_RESNETS_WEIGHTS_DIR",
    "KERAS_RESNETS_WEIGHTS_URL",
    "KERAS_RESNETS_OFFLINE",
    "KERAS_RESNETS_DOWNLOAD_TIMEOUT",
)
BODY = b"test weights body\n" * 1000

CLI_WITH_TEST_ENTRY = """
import json, sys
from keras_resnets import weights, weights_cli
entry = weights.WeightFile(**json.loads(sys.argv[1]))
weights.REGISTRY[entry.file_name] = entry
sys.exit(weights_cli.main(sys.argv[2:]))
"""


def _test_entry():
    return weights.WeightFile(
        file_name=TEST_FILE_NAME,
        url="https://storage.googleapis.com" + TEST_URL_PATH,
        file_hash=hashlib.md5(BODY).hexdigest(),
        model="testnet",
        include_top=True,
    )


@pytest.fixture(autouse=True)
def isolated_env(tmp_path, monkeypatch):
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    monkeypatch.setattr(weights_download, "_digest_memo", {})


@pytest.fixture
def cache(tmp_path):
    folder = tmp_path / "keras_home" / "models"
    folder.mkdir(parents=True)
    return folder


def _run(tmp_path, args, *, with_test_entry=False, **env_changes):
    env = {key: value for key, value in os.environ.items() if key not in ENV_NAMES}
    env.update(
        KERAS_HOME=str(tmp_path / "keras_home"),
        PYTHONPATH=str(REPO_ROOT),
        TF_CPP_MIN_LOG_LEVEL="3",
    )
    env.update(env_changes)
    if with_test_entry:
        entry_json = json.dumps(dataclasses.asdict(_test_entry()))
        command = [sys.executable, "-c", CLI_WITH_TEST_ENTRY, entry_json, *args]
    else:
        command = [sys.executable, "-m", "keras_resnets.weights_cli", *args]
    return subprocess.run(
        command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300
    )


# --- subprocess runs ---------------------------------------------------------


def test_list_shows_registry(tmp_path, cache):
    (cache / RESNET50_NOTOP).write_bytes(b"x" * 1234)
    result = _run(tmp_path, ["list"])
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["FILE", "MODEL", "VARIANT", "SIZE", "HASH", "LOCAL", "COPY"]
    assert len(lines) == 1 + len(weights.REGISTRY)
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    assert rows[RESNET50_NOTOP] == [
        RESNET50_NOTOP, "resnet50", "no-top", "1,234",
        "md5:4d473c1dd8becc155b73f8504c6f6626", str(cache / RESNET50_NOTOP),
    ]
    top_row = rows["resnet152v2_weights_tf_dim_ordering_tf_kernels.h5"]
    assert top_row[1:4] == ["resnet152v2", "top", "unknown"]
    assert top_row[-2:] == ["not", "present"]
    assert rows["imagenet_class_index.json"][1:3] == ["(class", "index)"]


def test_fetch_failure_exit_status(tmp_path, cache):
    with weights_server.FileServer() as server:
        result = _run(tmp_path, ["fetch", "resnet50", "--no-top"], KERAS_RESNETS_WEIGHTS_URL=server.url)
        assert server.requests == ["/tensorflow/keras-applications/resnet/" + RESNET50_NOTOP]
    assert result.returncode == 1
    assert result.stdout == ""
    assert "not found (HTTP 404)" in result.stderr
    assert RESNET50_NOTOP in result.stderr
    assert "4d473c1dd8becc155b73f8504c6f6626" in result.stderr
    assert str(cache) in result.stderr
    assert "keras-resnets weights fetch resnet50 --no-top" in result.stderr
    assert "KERAS_RESNETS_WEIGHTS_URL" in result.stderr
    assert list(cache.iterdir()) == []


def test_fetch_downloads_into_cache(tmp_path, cache):
    with weights_server.FileServer() as server:
        server.add(TEST_URL_PATH, BODY)
        result = _run(
            tmp_path, ["fetch", "testnet"], with_test_entry=True,
            KERAS_RESNETS_WEIGHTS_URL=server.url,
        )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(cache / TEST_FILE_NAME)
    assert (cache / TEST_FILE_NAME).read_bytes() == BODY
    assert f"Downloading {TEST_FILE_NAME} from {server.url}{TEST_URL_PATH}" in result.stderr


def test_verify_reports_bad_copy(tmp_path, cache):
    local = tmp_path / "local_weights"
    local.mkdir()
    (local / RESNET50_NOTOP).write_bytes(b"not the official file")
    (cache / TEST_FILE_NAME).write_bytes(BODY)
    leftover = cache / f".{TEST_FILE_NAME}.abc123.part"
    leftover.write_bytes(b"partial")
    result = _run(tmp_path, ["verify"], with_test_entry=True, KERAS_RESNETS_WEIGHTS_DIR=str(local))
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert f"OK      {cache / TEST_FILE_NAME}" in lines
    bad = [line for line in lines if line.startswith("FAILED")]
    assert len(bad) == 1
    assert bad[0].startswith(f"FAILED  {local / RESNET50_NOTOP}: hash mismatch")
    assert "expected md5 4d473c1dd8becc155b73f8504c6f6626" in bad[0]
    assert any(line.startswith(f"NOTE    {leftover}") for line in lines)
    assert lines[-1].startswith("2 local copies checked")
    assert lines[-1].endswith("1 failed.")
    # verify only reports: nothing is deleted.
    assert (local / RESNET50_NOTOP).exists()


# --- in process --------------------------------------------------------------


@pytest.fixture
def registered_entry(monkeypatch):
    entry = _test_entry()
    monkeypatch.setitem(weights.REGISTRY, entry.file_name, entry)
    return entry


def test_verify_all_good(cache, registered_entry, capsys):
    (cache / TEST_FILE_NAME).write_bytes(BODY)
    assert weights_cli.main(["verify"]) == 0
    output = capsys.readouterr().out.splitlines()
    assert output == [
        f"OK      {cache / TEST_FILE_NAME}",
        f"1 local copy checked in {cache}: 0 failed.",
    ]


def test_path_present(cache, registered_entry, capsys):
    (cache / TEST_FILE_NAME).write_bytes(BODY)
    assert weights_cli.main(["path", "testnet"]) == 0
    assert capsys.readouterr().out.strip() == str(cache / TEST_FILE_NAME)


def test_path_absent(cache, capsys, monkeypatch):
    monkeypatch.setenv("KERAS_RESNETS_WEIGHTS_URL", "https://mirror.example.com/w")
    assert weights_cli.main(["path", "resnet50", "--no-top"]) == 1
    assert capsys.readouterr().out.strip() == (
        f"{RESNET50_NOTOP} has no verified local copy. It would be downloaded from "
        f"https://mirror.example.com/w/tensorflow/keras-applications/resnet/{RESNET50_NOTOP} "
        f"to {cache / RESNET50_NOTOP}."
    )


@pytest.mark.parametrize(
    "command, expected",
    [
        ([], "re-check the hash of every local copy"),
        (["list"], "Local copies are not hashed here"),
        (["fetch"], "--no-top"),
        (["verify"], "Exits with status 1 if any copy fails"),
        (["path"], "what would be downloaded"),
    ],
)
def test_help_text(command, expected, capsys):
    with pytest.raises(SystemExit) as info:
        weights_cli.main([*command, "--help"])
    assert info.value.code == 0
    assert expected in " ".join(capsys.readouterr().out.split())


def test_register_adds_weights_command(cache, capsys):
    parser = argparse.ArgumentParser(prog="keras-resnets")
    weights_cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["weights", "path", "resnet50"])
    assert args.func(args) == 1
    assert "has no verified local copy" in capsys.readouterr().out


def test_path_offline(cache, capsys, monkeypatch):
    monkeypatch.setenv("KERAS_RESNETS_OFFLINE", "1")
    assert weights_cli.main(["path", "resnet101"]) == 1
    assert "offline mode (KERAS_RESNETS_OFFLINE=1) disables the download" in capsys.readouterr().out


def test_path_bad_copy_not_deleted(cache, capsys):
    bad = cache / RESNET50_NOTOP
    bad.write_bytes(b"wrong")
    assert weights_cli.main(["path", "resnet50", "--no-top"]) == 1
    captured = capsys.readouterr()
    assert f"{bad} fails its hash check" in captured.err
    assert bad.exists()


def test_path_unknown_model(capsys):
    with pytest.raises(SystemExit) as info:
        weights_cli.main(["path", "resnet18"])
    assert info.value.code == 2
    assert "invalid choice: 'resnet18'" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["fetch"], "name at least one MODEL, or pass --class-index or --all"),
        (["fetch", "resnet50", "--all"], "--all fetches every file"),
        (["fetch", "resnet50", "resnet18"], "unknown MODEL resnet18. Choose from resnet101"),
        (["fetch", "resnet50", "--no-top", "--both"], "pass either --no-top or --both, not both"),
    ],
)
def test_fetch_argument_errors(argv, message, capsys):
    with pytest.raises(SystemExit) as info:
        weights_cli.main(argv)
    assert info.value.code == 2
    assert message in capsys.readouterr().err


def test_fetch_offline_both_variants(cache, capsys, monkeypatch):
    monkeypatch.setenv("KERAS_RESNETS_OFFLINE", "1")
    assert weights_cli.main(["fetch", "resnet50", "--both", "--class-index"]) == 1
    errors = capsys.readouterr().err
    assert errors.count("offline mode is on") == 1
    assert "resnet50_weights_tf_dim_ordering_tf_kernels.h5" in errors
    assert RESNET50_NOTOP in errors
    assert "imagenet_class_index.json" in errors
    assert "Unset KERAS_RESNETS_OFFLINE" in errors


def test_fetch_offline_with_local_copy(cache, capsys, monkeypatch):
    monkeypatch.setenv("KERAS_RESNETS_OFFLINE", "1")
    body = b"class index of this test"
    entry = dataclasses.replace(weights.CLASS_INDEX_FILE, file_hash=hashlib.md5(body).hexdigest())
    monkeypatch.setattr(weights, "CLASS_INDEX_FILE", entry)
    cache.mkdir(parents=True, exist_ok=True)
    (cache / entry.file_name).write_bytes(body)
    assert weights_cli.main(["fetch", "--class-index"]) == 0
    assert capsys.readouterr().out.strip() == str(cache / entry.file_name)


def test_invalid_env_reported(monkeypatch, capsys):
    monkeypatch.setenv("KERAS_RESNETS_WEIGHTS_DIR", "/no/such/folder")
    assert weights_cli.main(["verify"]) == 1
    assert "KERAS_RESNETS_WEIGHTS_DIR must name an existing folder" in capsys.readouterr().err
