"""`python -m webui_daemon`: run the daemon (the same as `webui serve`)."""

import argparse
import gc
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="webui-daemon", description=__doc__)
    parser.add_argument("--socket", type=Path, help="Unix socket path")
    parser.add_argument("--no-socket", action="store_true", help="serve TCP only")
    parser.add_argument("--host", help="TCP address (with --port)")
    parser.add_argument("--port", type=int, help="also listen on TCP")
    parser.add_argument("--data-dir", type=Path, help="data folder (env DATA_DIR)")
    parser.add_argument("--shared", action="store_true", help="serve several local users")
    parser.add_argument("--group", help="group that may use the shared socket")
    parser.add_argument(
        "--local-users",
        choices=["trusted", "restricted"],
        help="what local accounts may do without an admin (env WEBUI_LOCAL_USERS)",
    )
    parser.add_argument("--log-level", help="debug, info, warning, error")
    args = parser.parse_args(argv)

    # No collections while the daemon's modules load: they make objects that all live as long
    # as it does (a quarter of the import time went to collecting them). The lifespan freezes
    # what it built and turns collection back on.
    gc.disable()
    from webui_daemon.server import ServeOptions, run

    return run(ServeOptions(**vars(args)))


if __name__ == "__main__":
    sys.exit(main())
