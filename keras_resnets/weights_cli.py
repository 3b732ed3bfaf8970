"""The ``weights`` command: list, fetch, verify and locate registered files.

``register(subparsers)`` adds it to the ``keras-resnets`` command line.
``python -m keras_resnets.weights_cli <command>`` runs the same commands on
their own.
"""

import argparse
import logging
import os
import sys

from keras_resnets import weights
from keras_resnets import weights_download

__all__ = ["main", "register"]

_DESCRIPTION = (
    "Manage pretrained weight files. A file is looked up in "
    f"${weights_download.WEIGHTS_DIR_ENV}, then in the Keras cache "
    "($KERAS_HOME/models, default ~/.keras/models), then downloaded from the "
    f"official URL or from the mirror in ${weights_download.MIRROR_URL_ENV}."
)


def register(subparsers):
    """Add the ``weights`` command and its subcommands to ``subparsers``.

    Every leaf parser sets ``func``: call ``args.func(args)`` after parsing
    to run the command and get its exit status.

    Args:
        subparsers: the object returned by ``ArgumentParser.add_subparsers``.

    Returns:
        The ``weights`` parser.
    """
    parser = subparsers.add_parser(
        "weights", help="list, fetch, verify or locate pretrained weight files",
        description=_DESCRIPTION,
    )
    _add_commands(parser)
    return parser


def main(argv=None):
    """Run one ``weights`` subcommand and return its exit status.

    Args:
        argv: arguments after the command name; default ``sys.argv[1:]``.
    """
    parser = argparse.ArgumentParser(
        prog="python -m keras_resnets.weights_cli", description=_DESCRIPTION
    )
    _add_commands(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    return args.func(args)


def _model_keys():
    return sorted({entry.model for entry in weights.REGISTRY.values() if entry.model})


def _add_commands(parser):
    commands = parser.add_subparsers(dest="weights_command", metavar="COMMAND", required=True)

    list_parser = commands.add_parser(
        "list",
        help="list every registered file and whether a local copy exists",
        description=(
            "List every registered file: model, with or without top, size, "
            "expected hash and the local copy, if any. Local copies are not "
            "hashed here; run `verify` for that."
        ),
    )
    list_parser.set_defaults(func=_run_list)

    fetch_parser = commands.add_parser(
        "fetch",
        help="download and verify files into the Keras cache",
        description=(
            "Download files into the Keras cache ($KERAS_HOME/models) and "
            "check their hashes, e.g. to prepare a machine for offline use. "
            "Files that already have a verified local copy are not downloaded."
        ),
    )
    # MODEL is checked in _entries_to_fetch: argparse in Python 3.11 rejects
    # an empty nargs="*" list when `choices` is set.
    fetch_parser.add_argument(
        "models", nargs="*", metavar="MODEL",
        help=f"weights key of a model: {', '.join(_model_keys())}",
    )
    fetch_parser.add_argument(
        "--no-top", action="store_true",
        help="fetch the file without the classifier (include_top=False) "
        "instead of the one with it",
    )
    fetch_parser.add_argument(
        "--both", action="store_true",
        help="fetch both files of each MODEL: with and without the classifier",
    )
    fetch_parser.add_argument(
        "--class-index", action="store_true",
        help="also fetch the ImageNet class index used by decode_predictions",
    )
    fetch_parser.add_argument(
        "--all", action="store_true",
        help="fetch every registered file (all models, both variants, class index)",
    )
    fetch_parser.set_defaults(func=_run_fetch, fetch_parser=fetch_parser)

    verify_parser = commands.add_parser(
        "verify",
        help="re-check the hash of every local copy; exit 1 if one fails",
        description=(
            f"Hash every registered file found in ${weights_download.WEIGHTS_DIR_ENV} "
            "and in the Keras cache, and compare with the registered hash. "
            "Exits with status 1 if any copy fails. Nothing is deleted."
        ),
    )
    verify_parser.set_defaults(func=_run_verify)

    path_parser = commands.add_parser(
        "path",
        help="print where a model's file would be loaded from",
        description=(
            "Print the verified local path of a model's weights file and exit "
            "with status 0. If there is none, print what would be downloaded "
            "and where to, and exit with status 1."
        ),
    )
    path_parser.add_argument(
        "model", metavar="MODEL", choices=_model_keys(),
        help=f"weights key of a model: {', '.join(_model_keys())}",
    )
    path_parser.add_argument(
        "--no-top", action="store_true",
        help="the file without the classifier (include_top=False)",
    )
    path_parser.set_defaults(func=_run_path)


def _variant(entry):
    if entry.include_top is None:
        return "-"
    return "top" if entry.include_top else "no-top"


def _local_copy(entry):
    """Return the first local copy of ``entry`` without hashing it, or None."""
    for folder, _ in weights_download.search_folders():
        candidate = folder / entry.file_name
        if candidate.is_file():
            return candidate
    return None


def _run_list(args):
    rows = [("FILE", "MODEL", "VARIANT", "SIZE", "HASH", "LOCAL COPY")]
    try:
        for entry in weights.REGISTRY.values():
            local = _local_copy(entry)
            if local is not None:
                size = f"{os.path.getsize(local):,}"
            elif entry.size is not None:
                size = f"{entry.size:,}"
            else:
                size = "unknown"
            rows.append(
                (
                    entry.file_name,
                    entry.model or "(class index)",
                    _variant(entry),
                    size,
                    f"{entry.hash_algorithm}:{entry.file_hash}",
                    str(local) if local is not None else "not present",
                )
            )
    except ValueError as error:
        print(f"keras-resnets weights: error: {error}", file=sys.stderr)
        return 1
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
    return 0


def _entries_to_fetch(args):
    if args.all:
        if args.models or args.no_top or args.both:
            args.fetch_parser.error(
                "--all fetches every file, so it cannot be combined with "
                "MODEL, --no-top or --both"
            )
        return list(weights.REGISTRY.values())
    if args.no_top and args.both:
        args.fetch_parser.error("pass either --no-top or --both, not both")
    if not args.models and not args.class_index:
        args.fetch_parser.error("name at least one MODEL, or pass --class-index or --all")
    unknown = [model for model in args.models if model not in _model_keys()]
    if unknown:
        args.fetch_parser.error(
            f"unknown MODEL {', '.join(unknown)}. Choose from {', '.join(_model_keys())}"
        )

    if args.both:
        variants = (True, False)
    else:
        variants = (not args.no_top,)
    entries = [
        weights.imagenet_weights_file(model, include_top=include_top)
        for model in args.models
        for include_top in variants
    ]
    if args.class_index:
        entries.append(weights.CLASS_INDEX_FILE)
    return entries


def _run_fetch(args):
    entries = _entries_to_fetch(args)
    try:
        offline = weights_download.offline_mode()
    except ValueError as error:
        print(f"keras-resnets weights: error: {error}", file=sys.stderr)
        return 1
    if offline:
        # One line for all missing files: each would fail with the same
        # long message.
        missing = []
        for entry in entries:
            path = weights_download.find_local_file(entry)
            if path is None:
                missing.append(entry.file_name)
            else:
                print(path)
        if not missing:
            return 0
        print(
            "keras-resnets weights: error: offline mode is on "
            f"({weights_download.OFFLINE_ENV}={os.environ.get(weights_download.OFFLINE_ENV)}), "
            f"so fetch cannot download {', '.join(missing)}. Unset "
            f"{weights_download.OFFLINE_ENV}, or copy the files into the Keras "
            "cache or KERAS_RESNETS_WEIGHTS_DIR by hand.",
            file=sys.stderr,
        )
        return 1
    failures = 0
    for entry in entries:
        try:
            path = weights.get_weights_file(entry)
        except (weights.WeightsUnavailableError, ValueError) as error:
            failures += 1
            print(f"keras-resnets weights: error: {error}", file=sys.stderr)
            continue
        print(path)
    return 1 if failures else 0


def _run_verify(args):
    try:
        folders = weights_download.search_folders()
    except ValueError as error:
        print(f"keras-resnets weights: error: {error}", file=sys.stderr)
        return 1

    checked = 0
    failed = 0
    for entry in weights.REGISTRY.values():
        for folder, _ in folders:
            candidate = folder / entry.file_name
            if not candidate.is_file():
                continue
            checked += 1
            digest = weights_download.file_digest(candidate, entry.hash_algorithm)
            if digest == entry.file_hash.lower():
                print(f"OK      {candidate}")
            else:
                failed += 1
                print(
                    f"FAILED  {candidate}: hash mismatch, expected "
                    f"{entry.hash_algorithm} {entry.file_hash}, got {digest}"
                )
    for folder, is_cache in folders:
        if is_cache:
            for leftover in weights_download.leftover_temp_files(folder, weights.REGISTRY):
                print(
                    f"NOTE    {leftover}: temporary file of an interrupted "
                    "download, safe to delete"
                )

    searched = ", ".join(str(folder) for folder, _ in folders)
    copies = "local copy" if checked == 1 else "local copies"
    print(f"{checked} {copies} checked in {searched}: {failed} failed.")
    return 1 if failed else 0


def _run_path(args):
    entry = weights.imagenet_weights_file(args.model, include_top=not args.no_top)
    try:
        folders = weights_download.search_folders()
        offline = weights_download.offline_mode()
        url = weights.download_url(entry)
    except ValueError as error:
        print(f"keras-resnets weights: error: {error}", file=sys.stderr)
        return 1

    # Unlike loading, this only reports: a copy that fails its hash is
    # described, not deleted.
    for folder, _ in folders:
        candidate = folder / entry.file_name
        if not candidate.is_file():
            continue
        digest = weights_download.file_digest(candidate, entry.hash_algorithm)
        if digest == entry.file_hash.lower():
            print(candidate)
            return 0
        print(
            f"{candidate} fails its hash check (expected {entry.hash_algorithm} "
            f"{entry.file_hash}, got {digest}) and would not be used.",
            file=sys.stderr,
        )

    target = weights.cache_dir() / entry.file_name
    if offline:
        print(
            f"{entry.file_name} has no verified local copy, and offline mode "
            f"({weights_download.OFFLINE_ENV}=1) disables the download of {url}."
        )
    else:
        print(
            f"{entry.file_name} has no verified local copy. It would be "
            f"downloaded from {url} to {target}."
        )
    return 1


if __name__ == "__main__":
    sys.exit(main())
