#!/usr/bin/env python
"""Django's command-line utility. Puts platform/ (a source root, not a package) on sys.path."""

import os
import sys
from pathlib import Path


def main() -> None:
    root = Path(__file__).resolve().parent
    # platform/ holds the `config` package. It must come after the standard library's `platform`
    # module would be found, so it is a plain path entry and never a package named `platform`.
    sys.path.insert(1, str(root / "platform"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
