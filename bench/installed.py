"""Start-up benchmarks measure the program as installed: with its bytecode compiled.

`pip install` compiles every module of a wheel to bytecode, and Python writes the bytecode of
an editable install on the first run. A process started with PYTHONDONTWRITEBYTECODE=1 (as
some shells and CI images set) never writes it: every run then compiles our ~300 modules from
source, ~60 ms of `webui status`, which no installed copy pays. `compile_sources()` does what
the install does, once, before the timed runs.
"""

import compileall
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"


def compile_sources() -> str:
    """Compile the sources' bytecode where it is missing or stale; one line saying so."""
    ok = compileall.compile_dir(SRC, quiet=1, workers=0)
    return f"bytecode of {SRC} compiled as an install does ({'ok' if ok else 'FAILED'})"
