"""Print the demo logins in a frame once the web server answers, so `make run` ends with them
instead of burying them under the servers' start-up log. Started in the background by
scripts/run.sh; standard library only (it runs beside the servers, not inside Django).

    python scripts/demo_banner.py --url http://127.0.0.1:8000 --file var/demo-logins.txt \
        [--parent PID] [--timeout 120] [--settle 3]

It polls URL/readyz until it answers 200, waits `settle` seconds more (the worker and beat print
their own start-up lines meanwhile), then prints the file in a frame. It gives up, saying so,
after `timeout` seconds, and quietly once the process `parent` (honcho) is gone."""

import argparse
import os
import sys
import time
import unicodedata
import urllib.error
import urllib.request
from pathlib import Path


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/readyz", timeout=5) as response:  # noqa: S310 - our own http URL
            return response.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _width(text: str) -> int:
    """Columns a terminal gives `text` (East Asian wide characters take two)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def framed(text: str) -> str:
    lines = text.rstrip("\n").splitlines()
    inner = max(_width(line) for line in lines)
    top = "╔" + "═" * (inner + 4) + "╗"
    body = ["║  " + line + " " * (inner - _width(line)) + "  ║" for line in lines]
    bottom = "╚" + "═" * (inner + 4) + "╝"
    return "\n".join(["", top, *body, bottom, ""]) + "\n"


def _alive(pid: int | None) -> bool:
    if pid is None:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _say(text: str) -> None:
    sys.stdout.write(f"\n{text}\n\n")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--file", required=True, type=Path)
    parser.add_argument("--parent", type=int, default=None)
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--settle", type=float, default=3.0)
    parser.add_argument("--interval", type=float, default=0.5)
    args = parser.parse_args(argv)
    url = args.url.rstrip("/")
    deadline = time.monotonic() + args.timeout
    while not answers(url):
        if not _alive(args.parent):
            return 0
        if time.monotonic() > deadline:
            _say(f"The web server did not answer at {url}/readyz within {args.timeout:.0f} s; "
                 f"the demo logins are in {args.file}")  # fmt: skip
            return 1
        time.sleep(args.interval)
    time.sleep(args.settle)
    if not _alive(args.parent):
        return 0
    try:
        text = args.file.read_text(encoding="utf-8")
    except OSError as exc:
        _say(f"Kafaat is running at {url}/ (no demo logins to show: {exc})")
        return 1
    sys.stdout.write(framed(text + f"\n(written to {args.file}, readable by you alone; Ctrl-C stops everything)"))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
