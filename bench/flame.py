"""Where gunicorn's workers spend their time on each signed-in page under wrk's load: py-spy
samples them (it needs root, or ptrace rights) while wrk runs, and the flame graph's widest
frames are printed, per page and per lever of bench/throughput.py.

    python bench/flame.py DOMAIN [LEVER ...]   (JSON line; the collapsed stacks and SVG flame
                                                graphs go to bench/results/flame/)
"""

import collections
import json
import re
import subprocess
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.server import ROOT, serve  # (sets the environment)
from bench.throughput import LEVERS, WORKERS, as_browser, pages_of, prepare, wrk

SECONDS = 10
RATE = 200  # samples per second and process
TOP = 12
SCAFFOLDING = re.compile(
    r"^process \d+:|[Mm]iddleware|wrapper|decorator|\binner\b|gunicorn/|django/core/handlers/|"
    r"<module>|\brun \(|wsgi\.py|_view_wrapper|importlib"
)
OUT = ROOT / "bench" / "results" / "flame"
# "function (path/to/file.py:line)" as py-spy writes a frame; its line number is dropped, so
# that one function is one entry.
FRAME = re.compile(r"^(?P<function>.*) \((?P<file>.*?)(?::\d+)?\)$")


def _entry(frame):
    match = FRAME.match(frame)
    if match is None:
        return frame
    file = match["file"]
    for marker in ("site-packages/", "wt-speed/", str(ROOT) + "/"):
        file = file.split(marker)[-1]
    return f"{match['function']} ({file})"


def widest(collapsed):
    """The frames in most samples (each counted once per stack), and the leaves (own time)."""
    total, inclusive, own = 0, collections.Counter(), collections.Counter()
    torn = ""
    for line in collapsed.splitlines():
        stack, _space, count = (torn + line).rpartition(" ")
        if not count.isdigit():
            # A frame read while the worker changed it (--nonblocking) may hold a line break:
            # its sample's stack goes on in the next line, which ends with the count.
            torn += line
            continue
        torn = ""
        if not stack:
            continue
        samples = int(count)
        frames = [_entry(frame) for frame in stack.split(";")]
        total += samples
        for frame in set(frames):
            inclusive[frame] += samples
        own[frames[-1]] += samples

    def share(counter):
        return [
            {"frame": frame, "percent": round(100 * samples / total, 1)}
            for frame, samples in counter.most_common()
        ]

    # The frames every request passes through (gunicorn, the WSGI handler, each middleware and
    # view decorator) are as wide as the requests under them and say nothing of the cost.
    return {
        "samples": total,
        "widest": [row for row in share(inclusive) if not SCAFFOLDING.search(row["frame"])][:TOP],
        "own_time": share(own)[:TOP],
    }


def record(name, server, path, cookie):
    """py-spy on the server and its workers while wrk loads `path`."""
    stem = re.sub(r"\W+", "-", name).strip("-")
    raw = OUT / f"{stem}.txt"
    load = threading.Thread(target=wrk, args=(path, cookie))
    load.start()
    for output, form in ((raw, "raw"), (OUT / f"{stem}.svg", "flamegraph")):
        if form == "flamegraph":  # a second, shorter sample for the picture only
            load.join()
            load = threading.Thread(target=wrk, args=(path, cookie))
            load.start()
        subprocess.run(
            [
                str(ROOT / ".venv" / "bin" / "py-spy"),
                "record",
                "--pid",
                str(server.pid),
                "--subprocesses",
                "--duration",
                str(SECONDS - 2),
                "--rate",
                str(RATE),
                "--format",
                form,
                "--output",
                str(output),
                "--nonblocking",
            ],
            check=True,
            capture_output=True,
        )
    load.join()
    return widest(raw.read_text())


def main(domain, levers):
    OUT.mkdir(parents=True, exist_ok=True)
    cookies, join_token = prepare(domain)
    result = {}
    for lever in levers:
        server = serve(LEVERS[lever], ["--workers", str(WORKERS)])
        try:
            admin = as_browser(cookies[lever, "admin"])
            member = as_browser(cookies[lever, "member"])
            pages = pages_of(admin, member, join_token)
            result[lever] = {
                page: record(f"{lever} {page}", server, path, cookie)
                for page, (path, cookie) in pages.items()
            }
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:] or ["baseline"])
