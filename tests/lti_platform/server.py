"""Runs the test platform: `python -m tests.lti_platform.server --port N --state-dir DIR`
(cwd = the repository root, PYTHONPATH = the repository root only: it imports no Kafaat app).
A threaded WSGI server on localhost; a fresh RSA platform key each start."""

import argparse
import os
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--state-dir", type=Path, required=True)
    parser.add_argument("--tool-base", help="point the pre-made client at this tool (http://localhost:PORT)")
    args = parser.parse_args(argv)

    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.lti_platform.settings"
    import django

    django.setup()
    from django.core.servers.basehttp import run
    from django.core.wsgi import get_wsgi_application

    from . import store as store_module

    args.state_dir.mkdir(parents=True, exist_ok=True)
    store_module.STORE = store_module.Store(issuer=f"http://localhost:{args.port}", state_dir=args.state_dir)
    if args.tool_base:
        store_module.STORE.registrations[store_module.PREMADE_CLIENT_ID] = store_module.tool_registration(
            client_id=store_module.PREMADE_CLIENT_ID,
            deployment_id=store_module.PREMADE_DEPLOYMENT_ID,
            tool_base=args.tool_base,
        )
    sys.stderr.write(f"LTI test platform on http://localhost:{args.port}, state in {args.state_dir}\n")
    run("localhost", args.port, get_wsgi_application(), threading=True)


if __name__ == "__main__":
    main()
