"""localstripe, keeping its store in the file named by LOCALSTRIPE_STORE.

localstripe itself always loads and saves /tmp/localstripe.pickle, one file for every checkout
(and every test run) on the machine: a fresh clone would show another one's customers. The
arguments are localstripe's own (`--port`, `--from-scratch`).
"""

import os
import pickle
import sys
from pathlib import Path

from localstripe import resources, server


def _load(store: resources.Store, path: Path) -> None:
    try:
        with path.open("rb") as f:
            saved = pickle.load(f)  # noqa: S301 (our own file, written below)
    except FileNotFoundError:
        return
    store.clear()
    store.update(saved)


def _dump(store: resources.Store, path: Path) -> None:
    # Written aside then renamed: a run stopped mid-write keeps the previous store.
    partial = path.with_name(path.name + ".partial")
    with partial.open("wb") as f:
        pickle.dump(dict(store), f, protocol=pickle.HIGHEST_PROTOCOL)
    partial.replace(path)


def main() -> None:
    store_path = os.environ.get("LOCALSTRIPE_STORE")
    if not store_path:
        sys.exit("LOCALSTRIPE_STORE must name the file that keeps localstripe's data.")
    path = Path(store_path).resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    resources.Store.try_load_from_disk = lambda store: _load(store, path)
    resources.Store.dump_to_disk = lambda store: _dump(store, path)
    server.start()


if __name__ == "__main__":
    main()
