"""Find, verify and download registered files.

Internal module: the public entry points are re-exported by
``keras_resnets.weights``.

Environment variables, read at every call:

* ``KERAS_RESNETS_WEIGHTS_DIR``: a folder searched first, holding files under
  their official names. Files there are read, never modified or deleted.
* ``KERAS_HOME``: the Keras home folder (default ``~/.keras``). Downloads go
  to its ``models`` subfolder, which keras.applications uses too.
* ``KERAS_RESNETS_WEIGHTS_URL``: base URL of a mirror laid out like the
  official servers. A file's mirror URL is this base followed by the path of
  its official URL, e.g. ``https://storage.googleapis.com/tensorflow/x.h5``
  becomes ``<base>/tensorflow/x.h5``. Only https is accepted, or http to a
  loopback address.
* ``KERAS_RESNETS_OFFLINE``: ``1`` (or ``true``, ``yes``) disables downloads.
* ``KERAS_RESNETS_DOWNLOAD_TIMEOUT``: seconds a download may wait for the
  connection or for the next bytes before it fails (default 30).
"""

import hashlib
import http.client
import ipaddress
import logging
import os
import pathlib
import socket
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request

__all__ = [
    "WeightsUnavailableError",
    "cache_dir",
    "download_url",
    "find_local_file",
    "get_weights_file",
]

logger = logging.getLogger("keras_resnets.weights")

WEIGHTS_DIR_ENV = "KERAS_RESNETS_WEIGHTS_DIR"
MIRROR_URL_ENV = "KERAS_RESNETS_WEIGHTS_URL"
OFFLINE_ENV = "KERAS_RESNETS_OFFLINE"
TIMEOUT_ENV = "KERAS_RESNETS_DOWNLOAD_TIMEOUT"
KERAS_HOME_ENV = "KERAS_HOME"

DEFAULT_TIMEOUT_SECONDS = 30.0
_CHUNK_BYTES = 1 << 20
_TEMP_SUFFIX = ".part"

# Digests of files already hashed in this process, keyed by
# (path, size, mtime_ns, inode, algorithm): a second model build reuses the
# digest instead of reading 100 MB again. A rewritten file changes its
# mtime or inode and is hashed again.
_digest_memo = {}


class WeightsUnavailableError(OSError):
    """Raised when a registered file can be neither found locally nor downloaded.

    It is an ``OSError`` because the cause is a missing file or a failed
    transfer, not a wrong argument. The message names the file, its URL, its
    expected hash, the folders searched, each failure, and how to provide
    the file.

    Attributes:
        file_name: the registered file name.
        url: the URL the file was (or would have been) downloaded from.
        reasons: one sentence per failed source, in search order.
    """

    def __init__(self, message, *, file_name, url, reasons):
        super().__init__(message)
        self.file_name = file_name
        self.url = url
        self.reasons = list(reasons)

    def __str__(self):
        return self.args[0]


def cache_dir():
    """Return the Keras cache folder for models, ``$KERAS_HOME/models``.

    ``KERAS_HOME`` is read at every call and defaults to ``~/.keras``. The
    folder is not created here.
    """
    keras_home = os.environ.get(KERAS_HOME_ENV)
    if keras_home:
        return pathlib.Path(keras_home).expanduser() / "models"
    return pathlib.Path("~/.keras").expanduser() / "models"


def weights_dir():
    """Return the folder named by ``KERAS_RESNETS_WEIGHTS_DIR``, or None if unset.

    Raises:
        ValueError: if the variable names something that is not a folder.
    """
    value = os.environ.get(WEIGHTS_DIR_ENV, "")
    if not value:
        return None
    folder = pathlib.Path(value).expanduser()
    if not folder.is_dir():
        raise ValueError(
            f"{WEIGHTS_DIR_ENV} must name an existing folder. "
            f"Received: {WEIGHTS_DIR_ENV}={value!r}. Create the folder, fix "
            "the path, or unset the variable."
        )
    return folder


def offline_mode():
    """Return True when ``KERAS_RESNETS_OFFLINE`` disables downloads.

    Raises:
        ValueError: if the variable has a value other than 1/0, true/false
            or yes/no.
    """
    value = os.environ.get(OFFLINE_ENV, "").strip().lower()
    if value in ("", "0", "false", "no"):
        return False
    if value in ("1", "true", "yes"):
        return True
    raise ValueError(
        f"{OFFLINE_ENV} must be 1 (or true, yes) to disable downloads, or 0 "
        f"(or false, no, empty). Received: {OFFLINE_ENV}="
        f"{os.environ[OFFLINE_ENV]!r}"
    )


def download_timeout():
    """Return the download timeout in seconds from ``KERAS_RESNETS_DOWNLOAD_TIMEOUT``.

    Raises:
        ValueError: if the variable is not a positive number.
    """
    value = os.environ.get(TIMEOUT_ENV, "").strip()
    if not value:
        return DEFAULT_TIMEOUT_SECONDS
    try:
        seconds = float(value)
    except ValueError:
        seconds = None
    if seconds is None or not seconds > 0 or seconds == float("inf"):
        raise ValueError(
            f"{TIMEOUT_ENV} must be a positive number of seconds. "
            f"Received: {TIMEOUT_ENV}={value!r}. Set it to e.g. 30, or unset "
            f"it for the default of {DEFAULT_TIMEOUT_SECONDS:g} s."
        )
    return seconds


def download_url(entry):
    """Return the URL that ``entry`` is downloaded from.

    Without ``KERAS_RESNETS_WEIGHTS_URL`` this is the official URL. With it,
    the mirror base URL is followed by the path of the official URL, so
    ``https://storage.googleapis.com/tensorflow/keras-applications/resnet/<file>``
    becomes ``<mirror>/tensorflow/keras-applications/resnet/<file>``.

    Raises:
        ValueError: if the mirror URL is not https, or http to a loopback
            address, or has a query or fragment.
    """
    mirror = os.environ.get(MIRROR_URL_ENV, "").strip()
    if not mirror:
        return entry.url
    _check_url_allowed(mirror, source=MIRROR_URL_ENV)
    official_path = urllib.parse.urlsplit(entry.url).path
    return mirror.rstrip("/") + "/" + official_path.lstrip("/")


def _check_url_allowed(url, *, source):
    """Raise ValueError unless ``url`` is https, or http to a loopback host."""
    parts = urllib.parse.urlsplit(url)
    if parts.query or parts.fragment:
        raise ValueError(
            f"{source} must be a base URL without query or fragment, because "
            f"file paths are appended to it. Received: {source}={url!r}"
        )
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and parts.hostname and _is_loopback(parts.hostname):
        return
    raise ValueError(
        f"{source} must be an https:// URL, or an http:// URL to a loopback "
        "address (localhost, 127.0.0.0/8, ::1), because plain http could be "
        "altered in transit. "
        f"Received: {source}={url!r}. Serve the mirror over https."
    )


def _is_loopback(hostname):
    if hostname.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        return False


def find_local_file(entry):
    """Return the first local copy of ``entry`` that passes its hash check, or None.

    Searches ``KERAS_RESNETS_WEIGHTS_DIR``, then the Keras cache. A copy that
    fails the check is logged and skipped in the weights folder, which is
    never modified. In the cache it is deleted, so that a download can
    replace it, so no file under the official name fails its check.

    Raises:
        ValueError: if ``KERAS_RESNETS_WEIGHTS_DIR`` names no folder.
    """
    path, _ = _search_local_copies(entry)
    return path


def _search_local_copies(entry):
    """Return (verified path or None, one sentence per rejected copy)."""
    problems = []
    for folder, is_cache in search_folders():
        candidate = folder / entry.file_name
        if not candidate.is_file():
            continue
        digest = file_digest(candidate, entry.hash_algorithm)
        if digest == entry.file_hash.lower():
            logger.debug("Using verified file %s", candidate)
            return candidate, problems
        problem = (
            f"{candidate} failed its {entry.hash_algorithm} check (hash "
            f"mismatch: expected {entry.file_hash}, got {digest})"
        )
        if is_cache:
            _remove_if_unchanged(candidate, digest, entry.hash_algorithm)
            problem += " and was deleted"
            logger.warning("%s", problem)
        else:
            problem += " and was ignored"
            logger.warning("%s. Replace it with a good copy.", problem)
        problems.append(problem)
    return None, problems


def search_folders():
    """Return ``[(folder, is_cache), ...]`` in search order.

    Raises:
        ValueError: if ``KERAS_RESNETS_WEIGHTS_DIR`` names no folder.
    """
    folders = []
    local = weights_dir()
    if local is not None:
        folders.append((local, False))
    folders.append((cache_dir(), True))
    return folders


def leftover_temp_files(folder, file_names):
    """Return the temporary files of unfinished downloads of ``file_names`` in ``folder``.

    A download that was killed (SIGKILL, power loss) cannot remove its
    temporary file. Every other failure removes it.
    """
    if not folder.is_dir():
        return []
    leftovers = []
    for path in folder.glob(f".*{_TEMP_SUFFIX}"):
        if any(path.name.startswith(f".{name}.") for name in file_names):
            leftovers.append(path)
    return sorted(leftovers)


def _describe_folders():
    lines = []
    value = os.environ.get(WEIGHTS_DIR_ENV, "")
    if value:
        lines.append(f"{pathlib.Path(value).expanduser()} ({WEIGHTS_DIR_ENV})")
    else:
        lines.append(f"({WEIGHTS_DIR_ENV} is not set)")
    lines.append(f"{cache_dir()} (Keras cache, $KERAS_HOME/models)")
    return lines


def get_weights_file(entry):
    """Return a local path of ``entry``'s file, verified against its hash.

    Uses a verified local copy if there is one, otherwise downloads the file
    into the Keras cache. A download lands under the official name only
    after its hash checked out.

    Args:
        entry: a ``keras_resnets.weights.WeightFile``.

    Returns:
        ``pathlib.Path`` of the verified file.

    Raises:
        WeightsUnavailableError: if no verified copy exists and the download
            is disabled or fails (not found, timed out, connection refused,
            truncated, hash mismatch).
        ValueError: if one of the environment variables is invalid.
    """
    path, problems = _search_local_copies(entry)
    if path is not None:
        return path
    if offline_mode():
        headline = f"offline mode ({OFFLINE_ENV}={os.environ[OFFLINE_ENV]}) skips the download"
        problems.append(headline)
        raise _unavailable_error(entry, download_url(entry), problems, headline)

    url = download_url(entry)
    try:
        return _download_verified(entry, url, cache_dir())
    except _DownloadFailed as failure:
        problems.append(f"download from {url} failed: {failure}")
        raise _unavailable_error(entry, url, problems, str(failure)) from failure


def _fetch_command(entry):
    if entry.model is None:
        return "keras-resnets weights fetch --class-index"
    if entry.include_top is False:
        return f"keras-resnets weights fetch {entry.model} --no-top"
    return f"keras-resnets weights fetch {entry.model}"


def _unavailable_error(entry, url, problems, headline):
    folders = "\n".join(f"  - {folder}" for folder in _describe_folders())
    reasons = "\n".join(f"  - {problem}" for problem in problems)
    mirror_url = "<mirror>/" + urllib.parse.urlsplit(entry.url).path.lstrip("/")
    message = (
        f"Could not get file '{entry.file_name}': {headline}.\n"
        f"URL: {url}\n"
        f"Expected {entry.hash_algorithm}: {entry.file_hash}\n"
        f"Folders searched:\n{folders}\n"
        f"Failures:\n{reasons}\n"
        "To fix this, either copy the file under this name into one of the "
        "folders above (on a machine with network access, "
        f"`{_fetch_command(entry)}` downloads it into the Keras cache), or set "
        f"{MIRROR_URL_ENV} to a mirror that serves it at {mirror_url}."
    )
    if entry.model is not None:
        message += (
            " To load a weights file of your own instead, pass its path: "
            "weights='/path/to/file.h5'."
        )
    return WeightsUnavailableError(
        message, file_name=entry.file_name, url=url, reasons=problems
    )


def file_digest(path, algorithm):
    """Return the hex digest of ``path``, reusing this process's earlier result.

    The memo key includes size, mtime and inode, so a file that was
    rewritten is hashed again.
    """
    key = _memo_key(path, algorithm)
    digest = _digest_memo.get(key)
    if digest is None:
        digest = _hash_file(path, algorithm)
        _digest_memo[key] = digest
    return digest


def _memo_key(path, algorithm):
    stat = os.stat(path)
    return (
        str(pathlib.Path(path).resolve()),
        stat.st_size,
        stat.st_mtime_ns,
        stat.st_ino,
        algorithm,
    )


def _new_hasher(algorithm):
    # usedforsecurity=False lets MD5 run on FIPS-restricted Python builds.
    # The hashes detect corrupt or wrong files, and https protects transfers.
    return hashlib.new(algorithm, usedforsecurity=False)


def _hash_file(path, algorithm):
    hasher = _new_hasher(algorithm)
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(_CHUNK_BYTES), b""):
            hasher.update(chunk)
    return hasher.hexdigest()


def _remove_if_unchanged(path, digest, algorithm):
    """Delete ``path`` unless another process replaced it since it was hashed."""
    try:
        current = file_digest(path, algorithm)
    except FileNotFoundError:
        return
    if current == digest:
        try:
            os.remove(path)
        except FileNotFoundError:
            pass


class _DownloadFailed(Exception):
    """Raised when a download attempt fails. The message names the failure."""


def _new_file_mode():
    """Return the mode a new file gets under the process umask (0o644 for umask 022)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _download_verified(entry, url, folder):
    """Download ``url`` into ``folder`` under ``entry.file_name`` if its hash matches."""
    # NOTE: the timeout limits each wait for data, not the whole download,
    # so a server that keeps sending a few bytes at a time is not cut off.
    timeout = download_timeout()
    target = folder / entry.file_name
    try:
        folder.mkdir(parents=True, exist_ok=True)
        # Each download writes its own temporary file in the target folder,
        # so the final os.replace is an atomic rename on one filesystem and
        # concurrent downloads of one file cannot corrupt each other.
        temp_file = tempfile.NamedTemporaryFile(
            dir=folder, prefix=f".{entry.file_name}.", suffix=_TEMP_SUFFIX, delete=False
        )
    except OSError as error:
        raise _DownloadFailed(
            f"cannot write to the cache folder {folder} ({error}). Set "
            f"{KERAS_HOME_ENV} to a writable folder"
        ) from error
    temp_path = pathlib.Path(temp_file.name)
    logger.info("Downloading %s from %s", entry.file_name, url)
    try:
        with temp_file:
            digest, received = _stream_to_file(url, temp_file, entry, timeout)
        if entry.size is not None and received != entry.size:
            raise _DownloadFailed(
                f"size mismatch: expected {entry.size} bytes, received {received}"
            )
        if digest != entry.file_hash.lower():
            raise _DownloadFailed(
                f"hash mismatch: expected {entry.hash_algorithm} "
                f"{entry.file_hash}, got {digest} for {received} bytes "
                "(wrong or corrupt file on the server)"
            )
        # NamedTemporaryFile creates the file readable by its owner only;
        # a shared cache needs the usual permissions, as keras' get_file gives.
        os.chmod(temp_path, _new_file_mode())
        os.replace(temp_path, target)
    except BaseException:
        # Also on KeyboardInterrupt: nothing partial may stay behind.
        _remove_quietly(temp_path)
        raise

    _digest_memo[_memo_key(target, entry.hash_algorithm)] = digest
    logger.info("Saved %s (%d bytes, %s verified)", target, received, entry.hash_algorithm)
    return target


def _remove_quietly(path):
    try:
        os.remove(path)
    except FileNotFoundError:
        pass


def _stream_to_file(url, file, entry, timeout):
    """Write the body of ``url`` to ``file`` and return (hex digest, byte count)."""
    hasher = _new_hasher(entry.hash_algorithm)
    received = 0
    try:
        with _open_url(url, timeout) as response:
            expected = _content_length(response)
            progress = _ProgressBar(entry.file_name, expected)
            try:
                while True:
                    chunk = response.read(_CHUNK_BYTES)
                    if not chunk:
                        break
                    file.write(chunk)
                    hasher.update(chunk)
                    received += len(chunk)
                    progress.update(received)
            finally:
                progress.close()
    except urllib.error.HTTPError as error:
        if error.code == 404:
            raise _DownloadFailed("not found (HTTP 404)") from error
        raise _DownloadFailed(f"HTTP error {error.code} {error.reason}") from error
    except urllib.error.URLError as error:
        raise _DownloadFailed(_describe_network_error(error.reason, timeout)) from error
    except (OSError, http.client.HTTPException) as error:
        raise _DownloadFailed(_describe_network_error(error, timeout)) from error

    if expected is not None and received != expected:
        raise _DownloadFailed(
            f"connection closed after {received} of {expected} bytes "
            "(truncated download)"
        )
    return hasher.hexdigest(), received


def _content_length(response):
    value = response.headers.get("Content-Length")
    if value is None or not value.strip().isdigit():
        return None
    return int(value)


def _describe_network_error(error, timeout):
    if isinstance(error, (TimeoutError, socket.timeout)):
        return f"timed out after {timeout:g} s without data ({TIMEOUT_ENV} sets the limit)"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, socket.gaierror):
        return f"host name lookup failed, no network or DNS ({error})"
    if isinstance(error, ConnectionResetError):
        return "connection reset by the server"
    if isinstance(error, str):
        return error
    return f"{type(error).__name__}: {error}"


class _CheckedRedirectHandler(urllib.request.HTTPRedirectHandler):
    """Follow redirects only to URLs the mirror rule would accept."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        try:
            _check_url_allowed(newurl, source="redirect target")
        except ValueError as error:
            raise urllib.error.URLError(str(error)) from error
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _open_url(url, timeout):
    hostname = urllib.parse.urlsplit(url).hostname or ""
    handlers = [_CheckedRedirectHandler()]
    if _is_loopback(hostname):
        # A loopback mirror is on this machine, so proxies from the
        # environment must not be used to reach it.
        handlers.append(urllib.request.ProxyHandler({}))
    opener = urllib.request.build_opener(*handlers)
    request = urllib.request.Request(url, headers={"User-Agent": "keras-resnets"})
    return opener.open(request, timeout=timeout)


class _ProgressBar:
    """Text progress bar on stderr, drawn only when stderr is a terminal."""

    _WIDTH = 30

    def __init__(self, label, total):
        self._label = label
        self._total = total
        self._enabled = sys.stderr is not None and sys.stderr.isatty()
        self._last_drawn = -1

    def update(self, received):
        if not self._enabled:
            return
        if self._total:
            fraction = min(received / self._total, 1.0)
            percent = int(fraction * 100)
            if percent == self._last_drawn:
                return
            self._last_drawn = percent
            filled = int(fraction * self._WIDTH)
            bar = "#" * filled + "-" * (self._WIDTH - filled)
            text = f"\r{self._label} [{bar}] {percent:3d}% of {self._total / 1e6:.1f} MB"
        else:
            text = f"\r{self._label} {received / 1e6:.1f} MB"
        sys.stderr.write(text)
        sys.stderr.flush()

    def close(self):
        if self._enabled:
            sys.stderr.write("\n")
            sys.stderr.flush()
