"""`webui` entry point: answers `--version` before importing anything heavy, then runs Typer."""

import sys


def _wants_version(args: list[str]) -> bool:
    for arg in args:
        if arg in ("--version", "-V"):
            return True
        if not arg.startswith("-"):
            return False  # a subcommand: its own options follow
    return False


def _defer_schemas() -> None:
    """Build each pydantic model's validator when this process first uses it (pydantic's
    `defer_build`), not when its module is imported: the client defines some 130 wire models
    and one command uses a few, so building them all was about 40 % of a command's start
    (docs/benchmarks.md). Only this process's models are concerned: it is the CLI's own."""
    from pydantic import BaseModel

    BaseModel.model_config.setdefault("defer_build", True)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    if _wants_version(args):
        from webui_daemon import __version__  # version only: cheap to import

        print(f"webui {__version__}")
        return 0
    # httpx imports its own command line (click, rich.syntax, pygments: ~35 ms) whenever click
    # is installed, as it is beside uvicorn. We never run it; None here makes that import fail
    # softly, and httpx falls back to a stub.
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
    _defer_schemas()
    from webui_tui.cli.app import run

    return run(args)


if __name__ == "__main__":
    sys.exit(main())
