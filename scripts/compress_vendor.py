"""Write the pre-compressed copies of the vendored static files (static/vendor/**/*.js, *.css):
`<file>.gz`, gzip level 9 with no name or time in the header, so the same input gives the same
bytes. WhiteNoise serves the .gz next to a file to every browser that accepts gzip, with no
collectstatic step (WHITENOISE_USE_FINDERS). Run it after changing a vendored file
(scripts/vendor_codemirror.sh runs it); tests/platform/test_static_compression.py fails when a .gz is
missing or stale.

    .venv/bin/python scripts/compress_vendor.py"""

import gzip
import sys
from pathlib import Path

VENDOR = Path(__file__).resolve().parent.parent / "static" / "vendor"
SUFFIXES = {".js", ".css"}


def vendored() -> list[Path]:
    return sorted(p for p in VENDOR.rglob("*") if p.is_file() and p.suffix in SUFFIXES)


def compressed(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=9, mtime=0)


def main() -> None:
    for path in vendored():
        target = path.with_name(path.name + ".gz")
        target.write_bytes(compressed(path.read_bytes()))
        sys.stdout.write(f"{target.relative_to(VENDOR.parent.parent)}: {target.stat().st_size} bytes\n")


if __name__ == "__main__":
    main()
