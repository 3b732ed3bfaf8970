"""Tests of finding, verifying and downloading registered files.

Every download goes to a real HTTP server on 127.0.0.1 that the test starts
(tests/weights_server.py), through KERAS_RESNETS_WEIGHTS_URL. KERAS_HOME
points into tmp_path, so ~/.keras is never touched.
"""

import dataclasses
import hashlib
import io
import json
import os
import pathlib
import signal
import socket
import stat
import subprocess
import sys
import time

import keras
import numpy as np
import pytest

from keras_resnets import weights
from keras_resnets import weights_download
from tests import weights_server
from tests.h5_layout import write_keras2_h5

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]
OFFICIAL_HOST = "https://storage.googleapis.com"
TEST_FILE_NAME = "testnet_weights_tf_dim_ordering_tf_kernels.h5"
TEST_URL_PATH = "/tensorflow/keras-applications/resnet/" + TEST_FILE_NAME
ENV_NAMES = (
    "KERAS_RESNETS_WEIGHTS_DIR",
    "KERAS_RESNETS_WEIGHTS_URL",
    "KERAS_RESNETS_OFFLINE",
    "KERAS_RESNETS_DOWNLOAD_TIMEOUT",
)

# Runs the weights CLI in a subprocess with one extra registry entry, given
# as JSON in argv[1]; the remaining arguments go to the CLI.
CLI_WITH_TEST_ENTRY = """
import json, sys
from keras_resnets import weights, weights_cli
entry = weights.WeightFile(**json.loads(sys.argv[1]))
weights.REGISTRY[entry.file_name] = entry
sys.exit(weights_cli.main(sys.argv[2:]))
"""


def _md5(data):
    return hashlib.md5(data).hexdigest()


def _test_entry(body, **changes):
    fields = dict(
        file_name=TEST_FILE_NAME,
        url=OFFICIAL_HOST + TEST_URL_PATH,
        file_hash=_md5(body),
        hash_algorithm="md5",
        model="testnet",
        include_top=True,
    )
    fields.update(changes)
    return weights.WeightFile(**fields)


@pytest.fixture(scope="module")
def body():
    # Several download chunks long, so that drops and stalls happen mid-body.
    return np.random.default_rng(0).bytes(3 * (1 << 20) + 123)


@pytest.fixture
def entry(body, monkeypatch):
    test_entry = _test_entry(body)
    monkeypatch.setitem(weights.REGISTRY, test_entry.file_name, test_entry)
    return test_entry


@pytest.fixture(autouse=True)
def isolated_env(tmp_path, monkeypatch):
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    monkeypatch.setattr(weights_download, "_digest_memo", {})


@pytest.fixture
def cache(tmp_path):
    return tmp_path / "keras_home" / "models"


@pytest.fixture
def server(monkeypatch):
    with weights_server.FileServer() as file_server:
        monkeypatch.setenv("KERAS_RESNETS_WEIGHTS_URL", file_server.url + "/")
        yield file_server


def _closed_port_url():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def _assert_cache_clean(cache, file_name=TEST_FILE_NAME):
    assert not (cache / file_name).exists()
    leftovers = sorted(cache.glob(".*")) if cache.exists() else []
    assert leftovers == []


def _assert_actionable(message, entry, url, folders):
    assert entry.file_name in message
    assert url in message
    assert entry.file_hash in message
    for folder in folders:
        assert str(folder) in message
    assert "copy the file" in message
    assert "KERAS_RESNETS_WEIGHTS_URL" in message


# --- registry ----------------------------------------------------------------

OFFICIAL_MD5 = {
    "resnet50": ("2cb95161c43110f7111970584f804107", "4d473c1dd8becc155b73f8504c6f6626"),
    "resnet101": ("f1aeb4b969a6efcfb50fad2f0c20cfc5", "88cf7a10940856eca736dc7b7e228a21"),
    "resnet152": ("100835be76be38e30d865e96f2aaae62", "ee4c566cf9a93f14d82f913c2dc6dd0c"),
    "resnet50v2": ("3ef43a0b657b3be2300d5770ece849e0", "fac2f116257151a9d068a22e544a4917"),
    "resnet101v2": ("6343647c601c52e1368623803854d971", "c0ed64b8031c3730f411d2eb4eea35b5"),
    "resnet152v2": ("a49b44d1979771252814e80f8ec446f9", "ed17cf2e0169df9d443503ef94b23b33"),
}


@pytest.mark.parametrize("key", sorted(OFFICIAL_MD5))
@pytest.mark.parametrize("include_top", [True, False])
def test_registry_official_entry(key, include_top):
    entry = weights.imagenet_weights_file(key, include_top=include_top)
    suffix = "" if include_top else "_notop"
    file_name = f"{key}_weights_tf_dim_ordering_tf_kernels{suffix}.h5"
    assert entry.file_name == file_name
    assert entry.url == (
        "https://storage.googleapis.com/tensorflow/keras-applications/resnet/" + file_name
    )
    assert entry.file_hash == OFFICIAL_MD5[key][0 if include_top else 1]
    assert entry.hash_algorithm == "md5"
    assert entry.model == key
    assert entry.include_top is include_top
    assert weights.REGISTRY[file_name] is entry


def test_registry_class_index_entry():
    entry = weights.REGISTRY["imagenet_class_index.json"]
    assert entry.url == (
        "https://storage.googleapis.com/download.tensorflow.org/data/imagenet_class_index.json"
    )
    assert entry.file_hash == "c2c37ea517e94d9795004a39431a14cb"
    assert entry.model is None
    assert entry.include_top is None
    assert len(weights.REGISTRY) == 13


def test_registry_entry_frozen():
    entry = weights.imagenet_weights_file("resnet50", include_top=True)
    with pytest.raises(dataclasses.FrozenInstanceError):
        entry.file_hash = "0" * 32


def test_unknown_weights_key():
    with pytest.raises(ValueError, match=r"weights_key='resnet18'.*Registered weights keys: resnet101"):
        weights.imagenet_weights_file("resnet18", include_top=True)


def test_weight_file_validates_fields():
    with pytest.raises(ValueError, match=r"Received: hash_algorithm='sha1'"):
        weights.WeightFile(file_name="a.h5", url="https://x/a.h5", file_hash="0" * 40, hash_algorithm="sha1")
    with pytest.raises(ValueError, match=r"64-digit hex sha256 digest. Received: file_hash='abc'"):
        weights.WeightFile(file_name="a.h5", url="https://x/a.h5", file_hash="abc", hash_algorithm="sha256")
    with pytest.raises(ValueError, match=r"Received: file_name='../a.h5'"):
        weights.WeightFile(file_name="../a.h5", url="https://x/a.h5", file_hash="0" * 32)


# --- mirror URL rule ---------------------------------------------------------


def test_official_url_without_mirror():
    entry = weights.imagenet_weights_file("resnet50", include_top=False)
    assert weights.download_url(entry) == entry.url


@pytest.mark.parametrize("base", ["http://127.0.0.1:8000/mirror", "http://127.0.0.1:8000/mirror/"])
def test_mirror_url_keeps_official_path(base, monkeypatch):
    monkeypatch.setenv("KERAS_RESNETS_WEIGHTS_URL", base)
    entry = weights.imagenet_weights_file("resnet50", include_top=False)
    assert weights.download_url(entry) == (
        "http://127.0.0.1:8000/mirror/tensorflow/keras-applications/resnet/"
        "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5"
    )
    assert weights.download_url(weights.CLASS_INDEX_FILE) == (
        "http://127.0.0.1:8000/mirror/download.tensorflow.org/data/imagenet_class_index.json"
    )


@pytest.mark.parametrize(
    "base",
    ["https://mirror.example.com/weights", "http://localhost:1", "http://127.0.0.2:1", "http://[::1]:1"],
)
def test_mirror_accepted(base, monkeypatch):
    monkeypatch.setenv("KERAS_RESNETS_WEIGHTS_URL", base)
    url = weights.download_url(weights.CLASS_INDEX_FILE)
    assert url == base + "/download.tensorflow.org/data/imagenet_class_index.json"


@pytest.mark.parametrize(
    "base",
    [
        "http://mirror.example.com/weights",
        "http://10.0.0.1/weights",
        "ftp://127.0.0.1/weights",
        "file:///srv/weights",
        "mirror.example.com/weights",
    ],
)
def test_mirror_rejected(base, monkeypatch, entry):
    monkeypatch.setenv("KERAS_RESNETS_WEIGHTS_URL", base)
    with pytest.raises(ValueError, match="must be an https:// URL, or an http:// URL to a loopback") as info:
        weights.get_weights_file(entry)
    assert f"Received: KERAS_RESNETS_WEIGHTS_URL={base!r}" in str(info.value)


def test_mirror_with_query_rejected(monkeypatch, entry):
    monkeypatch.setenv("KERAS_RESNETS_WEIGHTS_URL", "https://mirror.example.com/?token=1")
    with pytest.raises(ValueError, match="without query or fragment"):
        weights.download_url(entry)


# --- downloads ---------------------------------------------------------------


def test_download_into_cache(server, entry, body, cache):
    server.add(TEST_URL_PATH, body)
    path = weights.get_weights_file(entry)
    assert path == cache / TEST_FILE_NAME
    assert path.read_bytes() == body
    assert server.requests == [TEST_URL_PATH]
    assert sorted(p.name for p in cache.iterdir()) == [TEST_FILE_NAME]


def test_second_call_uses_cache(server, entry, body, cache, monkeypatch):
    server.add(TEST_URL_PATH, body)
    first = weights.get_weights_file(entry)
    hashed = []
    original_hash_file = weights_download._hash_file
    monkeypatch.setattr(
        weights_download, "_hash_file", lambda *args: hashed.append(args) or original_hash_file(*args)
    )
    second = weights.get_weights_file(entry)
    assert second == first
    assert server.count(TEST_URL_PATH) == 1
    # The digest computed during the download is reused, not recomputed.
    assert hashed == []


def test_rewritten_cache_file_rehashed(server, entry, body, cache):
    server.add(TEST_URL_PATH, body)
    path = weights.get_weights_file(entry)
    path.write_bytes(body[:-1] + b"\x00")
    weights.get_weights_file(entry)
    assert server.count(TEST_URL_PATH) == 2
    assert path.read_bytes() == body


def test_downloaded_weights_load(server, cache, tmp_path, monkeypatch):
    # End to end: an official-layout file served, downloaded, verified, loaded.
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(4, 3, name="conv1_conv")(inputs)
    x = keras.layers.BatchNormalization(name="conv1_bn")(x)
    model = keras.Model(inputs, x)
    rng = np.random.default_rng(3)
    model.set_weights([rng.uniform(0.5, 1.5, w.shape).astype("float32") for w in model.get_weights()])
    source = write_keras2_h5(model, tmp_path / "source.h5")
    file_body = source.read_bytes()
    test_entry = _test_entry(file_body)
    monkeypatch.setitem(weights.REGISTRY, test_entry.file_name, test_entry)
    server.add(TEST_URL_PATH, file_body)

    target = keras.Model.from_config(model.get_config())
    weights.load_weights(target, weights.get_weights_file(test_entry))
    for expected, actual in zip(model.get_weights(), target.get_weights()):
        np.testing.assert_array_equal(actual, expected)


def test_download_without_content_length(server, entry, body):
    server.add(TEST_URL_PATH, body, behavior=weights_server.NO_LENGTH)
    assert weights.get_weights_file(entry).read_bytes() == body


def test_download_not_found(server, entry, cache):
    with pytest.raises(weights.WeightsUnavailableError, match=r"not found \(HTTP 404\)") as info:
        weights.get_weights_file(entry)
    url = server.url + TEST_URL_PATH
    _assert_actionable(str(info.value), entry, url, [cache])
    assert info.value.url == url
    assert info.value.file_name == TEST_FILE_NAME
    _assert_cache_clean(cache)


def test_download_dropped_halfway(server, entry, body, cache):
    server.add(TEST_URL_PATH, body, behavior=weights_server.DROP_HALFWAY)
    with pytest.raises(weights.WeightsUnavailableError, match=r"after \d+ of \d+ bytes \(truncated download\)") as info:
        weights.get_weights_file(entry)
    _assert_actionable(str(info.value), entry, server.url + TEST_URL_PATH, [cache])
    _assert_cache_clean(cache)


def test_download_hash_mismatch(server, entry, body, cache):
    server.add(TEST_URL_PATH, body[:-5] + b"XXXXX")
    with pytest.raises(weights.WeightsUnavailableError, match=f"hash mismatch: expected md5 {entry.file_hash}") as info:
        weights.get_weights_file(entry)
    _assert_actionable(str(info.value), entry, server.url + TEST_URL_PATH, [cache])
    _assert_cache_clean(cache)


def test_download_size_mismatch(server, body, cache):
    sized_entry = _test_entry(body, size=len(body) + 1)
    server.add(TEST_URL_PATH, body)
    with pytest.raises(weights.WeightsUnavailableError, match=f"size mismatch: expected {len(body) + 1} bytes"):
        weights.get_weights_file(sized_entry)
    _assert_cache_clean(cache)


@pytest.mark.parametrize(
    "behavior", [weights_server.STALL_BEFORE_HEADERS, weights_server.STALL_MID_BODY]
)
def test_download_stall_times_out(behavior, server, entry, body, cache, monkeypatch):
    monkeypatch.setenv("KERAS_RESNETS_DOWNLOAD_TIMEOUT", "0.5")
    server.add(TEST_URL_PATH, body, behavior=behavior)
    start = time.monotonic()
    with pytest.raises(weights.WeightsUnavailableError, match=r"timed out after 0.5 s without data") as info:
        weights.get_weights_file(entry)
    assert time.monotonic() - start < 10
    _assert_actionable(str(info.value), entry, server.url + TEST_URL_PATH, [cache])
    _assert_cache_clean(cache)


def test_connection_refused_fails_fast(entry, cache, monkeypatch):
    base = _closed_port_url()
    monkeypatch.setenv("KERAS_RESNETS_WEIGHTS_URL", base)
    start = time.monotonic()
    with pytest.raises(weights.WeightsUnavailableError, match="connection refused") as info:
        weights.get_weights_file(entry)
    assert time.monotonic() - start < 5
    _assert_actionable(str(info.value), entry, base + TEST_URL_PATH, [cache])
    _assert_cache_clean(cache)


def test_redirect_to_plain_http_rejected(server, entry, body, cache):
    server.add(TEST_URL_PATH, b"http://mirror.example.com/file.h5", behavior=weights_server.REDIRECT)
    with pytest.raises(weights.WeightsUnavailableError, match="redirect target must be an https:// URL"):
        weights.get_weights_file(entry)
    _assert_cache_clean(cache)


def test_redirect_to_loopback_followed(server, entry, body):
    server.add("/elsewhere.h5", body)
    server.add(TEST_URL_PATH, (server.url + "/elsewhere.h5").encode(), behavior=weights_server.REDIRECT)
    assert weights.get_weights_file(entry).read_bytes() == body
    assert server.requests == [TEST_URL_PATH, "/elsewhere.h5"]


def test_unwritable_cache_reported(server, entry, body, tmp_path, monkeypatch):
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("a file where KERAS_HOME should be")
    monkeypatch.setenv("KERAS_HOME", str(blocker))
    server.add(TEST_URL_PATH, body)
    with pytest.raises(weights.WeightsUnavailableError, match="cannot write to the cache folder .*Set KERAS_HOME to a writable folder"):
        weights.get_weights_file(entry)


def test_invalid_timeout_env(server, entry, monkeypatch):
    monkeypatch.setenv("KERAS_RESNETS_DOWNLOAD_TIMEOUT", "soon")
    with pytest.raises(ValueError, match=r"positive number of seconds. Received: KERAS_RESNETS_DOWNLOAD_TIMEOUT='soon'"):
        weights.get_weights_file(entry)


def test_invalid_offline_env(entry, monkeypatch):
    monkeypatch.setenv("KERAS_RESNETS_OFFLINE", "maybe")
    with pytest.raises(ValueError, match=r"Received: KERAS_RESNETS_OFFLINE='maybe'"):
        weights.get_weights_file(entry)


# --- offline mode and local copies -------------------------------------------


def test_offline_without_cache(server, entry, body, cache, monkeypatch):
    monkeypatch.setenv("KERAS_RESNETS_OFFLINE", "1")
    server.add(TEST_URL_PATH, body)
    with pytest.raises(weights.WeightsUnavailableError, match=r"offline mode \(KERAS_RESNETS_OFFLINE=1\)") as info:
        weights.get_weights_file(entry)
    assert server.requests == []
    _assert_actionable(str(info.value), entry, server.url + TEST_URL_PATH, [cache])
    _assert_cache_clean(cache)


def test_offline_with_cache(server, entry, body, cache, monkeypatch):
    cache.mkdir(parents=True)
    (cache / TEST_FILE_NAME).write_bytes(body)
    monkeypatch.setenv("KERAS_RESNETS_OFFLINE", "true")
    assert weights.get_weights_file(entry) == cache / TEST_FILE_NAME
    assert server.requests == []


def test_truncated_cache_replaced(server, entry, body, cache):
    cache.mkdir(parents=True)
    (cache / TEST_FILE_NAME).write_bytes(body[: len(body) // 3])
    server.add(TEST_URL_PATH, body)
    path = weights.get_weights_file(entry)
    assert path.read_bytes() == body
    assert server.count(TEST_URL_PATH) == 1


def test_truncated_cache_offline_reported(entry, body, cache, monkeypatch):
    cache.mkdir(parents=True)
    (cache / TEST_FILE_NAME).write_bytes(body[: len(body) // 3])
    monkeypatch.setenv("KERAS_RESNETS_OFFLINE", "1")
    with pytest.raises(weights.WeightsUnavailableError, match="offline mode") as info:
        weights.get_weights_file(entry)
    message = str(info.value)
    assert f"{cache / TEST_FILE_NAME} failed its md5 check (hash mismatch" in message
    assert "was deleted" in message
    _assert_actionable(message, entry, entry.url, [cache])
    _assert_cache_clean(cache)


def test_truncated_cache_failed_download(server, entry, body, cache):
    cache.mkdir(parents=True)
    (cache / TEST_FILE_NAME).write_bytes(body[:100])
    with pytest.raises(weights.WeightsUnavailableError, match="HTTP 404") as info:
        weights.get_weights_file(entry)
    assert "failed its md5 check" in str(info.value)
    _assert_cache_clean(cache)


def test_weights_dir_without_network(entry, body, cache, tmp_path, monkeypatch):
    local = tmp_path / "local_weights"
    local.mkdir()
    (local / TEST_FILE_NAME).write_bytes(body)
    monkeypatch.setenv("KERAS_RESNETS_WEIGHTS_DIR", str(local))
    monkeypatch.setenv("KERAS_RESNETS_WEIGHTS_URL", _closed_port_url())
    assert weights.get_weights_file(entry) == local / TEST_FILE_NAME
    _assert_cache_clean(cache)


def test_weights_dir_precedes_cache(entry, body, cache, tmp_path, monkeypatch):
    local = tmp_path / "local_weights"
    local.mkdir()
    (local / TEST_FILE_NAME).write_bytes(body)
    cache.mkdir(parents=True)
    (cache / TEST_FILE_NAME).write_bytes(body)
    monkeypatch.setenv("KERAS_RESNETS_WEIGHTS_DIR", str(local))
    assert weights.get_weights_file(entry) == local / TEST_FILE_NAME


def test_bad_weights_dir_file_kept(server, entry, body, cache, tmp_path, monkeypatch):
    local = tmp_path / "local_weights"
    local.mkdir()
    bad = local / TEST_FILE_NAME
    bad.write_bytes(b"corrupt copy")
    monkeypatch.setenv("KERAS_RESNETS_WEIGHTS_DIR", str(local))
    server.add(TEST_URL_PATH, body)
    assert weights.get_weights_file(entry) == cache / TEST_FILE_NAME
    # The user's folder is read only: the bad copy stays untouched.
    assert bad.read_bytes() == b"corrupt copy"


def test_bad_weights_dir_file_offline(entry, body, cache, tmp_path, monkeypatch):
    local = tmp_path / "local_weights"
    local.mkdir()
    (local / TEST_FILE_NAME).write_bytes(b"corrupt copy")
    monkeypatch.setenv("KERAS_RESNETS_WEIGHTS_DIR", str(local))
    monkeypatch.setenv("KERAS_RESNETS_OFFLINE", "1")
    with pytest.raises(weights.WeightsUnavailableError, match="offline mode") as info:
        weights.get_weights_file(entry)
    message = str(info.value)
    assert "failed its md5 check" in message
    assert "was ignored" in message
    _assert_actionable(message, entry, entry.url, [local, cache])


def test_weights_dir_must_exist(entry, tmp_path, monkeypatch):
    missing = tmp_path / "no_such_folder"
    monkeypatch.setenv("KERAS_RESNETS_WEIGHTS_DIR", str(missing))
    with pytest.raises(ValueError, match=r"must name an existing folder. Received: KERAS_RESNETS_WEIGHTS_DIR="):
        weights.get_weights_file(entry)


def test_find_local_file(entry, body, cache):
    assert weights.find_local_file(entry) is None
    cache.mkdir(parents=True)
    (cache / TEST_FILE_NAME).write_bytes(body)
    assert weights.find_local_file(entry) == cache / TEST_FILE_NAME


def test_class_index_through_mirror(server, monkeypatch, cache):
    index = json.dumps({"0": ["n01440764", "tench"]}).encode()
    test_index = dataclasses.replace(weights.CLASS_INDEX_FILE, file_hash=_md5(index))
    monkeypatch.setattr(weights, "CLASS_INDEX_FILE", test_index)
    server.add("/download.tensorflow.org/data/imagenet_class_index.json", index)
    path = weights.class_index_path()
    assert path == cache / "imagenet_class_index.json"
    assert json.loads(path.read_text()) == {"0": ["n01440764", "tench"]}


def test_cache_dir_default(monkeypatch):
    monkeypatch.delenv("KERAS_HOME")
    monkeypatch.setenv("HOME", "/home/somebody")
    assert weights.cache_dir() == pathlib.Path("/home/somebody/.keras/models")


# --- progress bar ------------------------------------------------------------


class _FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_on_terminal(server, entry, body, monkeypatch):
    server.add(TEST_URL_PATH, body)
    terminal = _FakeTerminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    weights.get_weights_file(entry)
    assert "100% of 3.1 MB" in terminal.getvalue()


def test_progress_bar_quiet_otherwise(server, entry, body, capfd):
    server.add(TEST_URL_PATH, body)
    weights.get_weights_file(entry)
    captured = capfd.readouterr()
    assert captured.err == ""
    assert captured.out == ""


# --- several processes -------------------------------------------------------


def _subprocess_env(tmp_path, server_url, **extra):
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ENV_NAMES and key != "KERAS_HOME"
    }
    env.update(
        KERAS_HOME=str(tmp_path / "keras_home"),
        KERAS_RESNETS_WEIGHTS_URL=server_url,
        PYTHONPATH=str(REPO_ROOT),
        TF_CPP_MIN_LOG_LEVEL="3",
    )
    env.update(extra)
    return env


def test_concurrent_downloads(tmp_path, entry, body, cache, monkeypatch):
    # Two child processes and this process download the same file.
    children_count = 2
    entry_json = json.dumps(dataclasses.asdict(entry))
    with weights_server.FileServer() as file_server:
        # Each response waits until every downloader has sent its request,
        # so the downloads really overlap.
        file_server.add(
            TEST_URL_PATH, body, behavior=weights_server.WAIT_FOR_ALL, parties=children_count + 1
        )
        env = _subprocess_env(tmp_path, file_server.url)
        children = [
            subprocess.Popen(
                [sys.executable, "-c", CLI_WITH_TEST_ENTRY, entry_json, "fetch", "testnet"],
                env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            )
            for _ in range(children_count)
        ]
        monkeypatch.setenv("KERAS_RESNETS_WEIGHTS_URL", file_server.url)
        own_path = weights.get_weights_file(entry)
        results = [child.communicate(timeout=300) for child in children]
        assert file_server.count(TEST_URL_PATH) == children_count + 1
    assert own_path == cache / TEST_FILE_NAME
    for child, (stdout, stderr) in zip(children, results):
        assert child.returncode == 0, stderr
        assert stdout.strip() == str(cache / TEST_FILE_NAME)
    assert (cache / TEST_FILE_NAME).read_bytes() == body
    assert sorted(p.name for p in cache.iterdir()) == [TEST_FILE_NAME]


def test_interrupted_download_cleans_up(tmp_path, body, cache):
    entry_json = json.dumps(dataclasses.asdict(_test_entry(body)))
    with weights_server.FileServer() as file_server:
        file_server.add(TEST_URL_PATH, body, behavior=weights_server.STALL_MID_BODY)
        child = subprocess.Popen(
            [sys.executable, "-c", CLI_WITH_TEST_ENTRY, entry_json, "fetch", "testnet"],
            env=_subprocess_env(tmp_path, file_server.url),
            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        file_server.wait_for_request(TEST_URL_PATH)
        # The temporary file exists while the download stalls.
        deadline = time.monotonic() + 30
        while not list(cache.glob(".*.part")) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(list(cache.glob(".*.part"))) == 1
        child.send_signal(signal.SIGINT)
        _, stderr = child.communicate(timeout=60)
    assert child.returncode != 0
    assert "KeyboardInterrupt" in stderr
    _assert_cache_clean(cache)


def test_download_gets_umask_permissions(server, entry, body, cache):
    server.add(TEST_URL_PATH, body)
    umask = os.umask(0o022)
    try:
        path = weights.get_weights_file(entry)
    finally:
        os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
