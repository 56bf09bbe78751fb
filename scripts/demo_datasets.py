"""Write the demo courses' synthetic datasets and artifacts (courses/demo/courses/<code>/files/),
the files their lessons and assignments use. Each module of scripts/demo_data/ defines
`files() -> {path under courses/demo/courses/: bytes}`; every one is deterministic (a fixed seed,
no clock), so running this again writes the same bytes, and `--check` says which file differs
from what is committed. Every row and line is generated: nothing comes from a real patient or
a real person.

    .venv/bin/python scripts/demo_datasets.py            # write them
    .venv/bin/python scripts/demo_datasets.py --check    # compare, write nothing (exit 1 if any differs)"""

import importlib
import pkgutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "courses" / "demo" / "courses"


def generated() -> dict[str, bytes]:
    """Every generator's files, by path under courses/demo/courses/. Two generators writing one
    path is an error."""
    sys.path.insert(0, str(ROOT))
    import scripts.demo_data as package

    out: dict[str, bytes] = {}
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"scripts.demo_data.{info.name}")
        for path, data in module.files().items():
            if path in out:
                raise SystemExit(f"scripts/demo_data/{info.name}.py: {path} is generated twice")
            out[path] = data
    return dict(sorted(out.items()))


def main(argv: list[str]) -> int:
    check = "--check" in argv
    differ = 0
    for path, data in generated().items():
        target = DEMO / path
        same = target.is_file() and target.read_bytes() == data
        if check:
            if not same:
                differ += 1
                sys.stdout.write(f"{path}: differs from the generator's output\n")
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if not same:
            target.write_bytes(data)
        sys.stdout.write(f"{path}: {len(data)} bytes\n")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
