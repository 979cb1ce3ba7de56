"""Schemathesis over the daemon's whole OpenAPI document, as an admin and as a plain user.

Run: python -m bench.fuzz_api [--max-examples 50] [--max-time 1200] [--workers 2] [--seed N]

Starts a daemon (with a stand-in Ollama and a stand-in OpenAI-compatible server, so the relays
have providers to talk to), signs up an admin and adds a plain user, then runs `schemathesis
run` once per token, each with a max-examples setting and half of --max-time (schemathesis
keeps fuzzing until its time is spent). Prints the number of requests and of 5xx answers (the
bar is 0) with each 5xx request, the answers by status, the answers whose status the document
does not list, and whether the daemon's log has a traceback; exits 1 on any 5xx or traceback
(and keeps the reports then).
tests/api/test_fuzz_api.py runs the same thing with a few examples per operation.
"""

import argparse
import base64
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from tests.daemon_proc import DaemonProc, start_daemon
from tests.standins import StandIn, provider_env, start_ollama, start_openai

# Operations left out, each because it would spoil the rest of the run rather than test
# anything (schemathesis names an operation "METHOD /path").
EXCLUDED = {
    # Stops the daemon: nothing would answer after it.
    "POST /api/webui/shutdown": "stops the daemon",
    # Revokes the calling token: every request after it would be a 401.
    "POST /api/v1/auths/signout": "revokes the calling token",
    "GET /api/v1/auths/signout": "revokes the calling token",
    # Could delete or demote the calling user (the fuzzer sees user ids in answers).
    "DELETE /api/v1/users/{user_id}": "could delete the calling user",
    "POST /api/v1/users/{user_id}/update": "could demote or rename the calling user",
    # Point the daemon's providers at whatever URL the fuzzer writes: every relay after it
    # would wait on a host that does not answer, then answer 500 as Open WebUI does.
    "POST /ollama/config/update": "replaces the provider connections",
    "POST /openai/config/update": "replaces the provider connections",
    # Switches the embedding engine or model: every file is re-indexed (minutes of CPU), with
    # an engine at a URL from the body.
    "POST /api/v1/retrieval/embedding/update": "replaces the embedding engine (re-indexes)",
    # Connect to the URL in the body: 500 by design (Open WebUI's) when nothing answers there.
    "POST /ollama/verify": "connects to a URL from the body",
    "POST /openai/verify": "connects to a URL from the body",
}

MODEL = "standin:latest"


@dataclass
class Result:
    """What one or more schemathesis runs sent and got."""

    operations: str = ""  # "selected/total"
    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)  # "status METHOD url body"
    undocumented: Counter[str] = field(default_factory=Counter)  # "METHOD /path -> status"
    exit_codes: list[int] = field(default_factory=list)
    seconds: float = 0.0

    def add(self, other: "Result") -> None:
        self.requests += other.requests
        self.statuses.update(other.statuses)
        self.server_errors.extend(other.server_errors)
        self.undocumented.update(other.undocumented)
        self.exit_codes.extend(other.exit_codes)
        self.seconds += other.seconds


def _events(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    with path.open() as lines:
        for line in lines:
            event = json.loads(line)
            name = next(iter(event))
            yield name, event[name]


def _request_text(request: dict[str, Any]) -> str:
    text = f"{request['method']} {request['uri']}"
    body = request.get("body")
    if isinstance(body, dict) and "$base64" in body:
        raw = base64.b64decode(body["$base64"])
        text += " " + raw.decode("utf-8", "backslashreplace")[:2000]
    elif body:
        text += " " + str(body)[:2000]
    return text


def read_report(path: Path) -> Result:
    """Requests, statuses and failures from schemathesis's NDJSON event report."""
    result = Result()
    for name, event in _events(path):
        if name == "LoadingFinished":
            operations = event["statistic"]["operations"]
            result.operations = f"{operations['selected']}/{operations['total']}"
        if name != "ScenarioFinished":
            continue
        recorder = event["recorder"]
        interactions = recorder.get("interactions", {})
        for interaction in interactions.values():
            response = interaction.get("response")
            if response is None:  # the request failed on the network
                result.statuses[0] += 1
                continue
            result.requests += 1
            status = int(response["status_code"])
            result.statuses[status] += 1
            if status >= 500:
                result.server_errors.append(f"{status} {_request_text(interaction['request'])}")
        for case_id, checks in recorder.get("checks", {}).items():
            for check in checks:
                if check["name"] == "status_code_conformance" and check["status"] == "failure":
                    response = (interactions.get(case_id) or {}).get("response") or {}
                    status = response.get("status_code", "?")
                    result.undocumented[f"{recorder['label']} -> {status}"] += 1
    return result


def run_schemathesis(
    base_url: str,
    token: str,
    report: Path,
    *,
    max_examples: int,
    max_time: float | None,
    workers: int = 2,
    seed: int | None = None,
    phases: str = "examples,coverage,fuzzing",
    timeout: float | None = None,
) -> Result:
    """One `schemathesis run` with a Bearer token; the NDJSON report goes to `report`."""
    cmd = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        f"{base_url}/openapi.json",
        "--header",
        f"Authorization: Bearer {token}",
        "--max-examples",
        str(max_examples),
        "--phases",
        phases,
        "--checks",
        "not_a_server_error,status_code_conformance",
        "--continue-on-failure",
        "--workers",
        str(workers),
        "--request-timeout",
        "30",
        "--report",
        "ndjson",
        "--report-ndjson-path",
        str(report),
        "--warnings",
        "off",
    ]
    if max_time is not None:
        cmd += ["--max-time", str(max(1, int(max_time)))]
    if seed is not None:
        cmd += ["--seed", str(seed)]
    for name in EXCLUDED:
        cmd += ["--exclude-name", name]
    start = time.monotonic()
    # In the report's folder: schemathesis and hypothesis keep their caches in the working one.
    done = subprocess.run(
        cmd, cwd=report.parent, capture_output=True, text=True, timeout=timeout, check=False
    )
    result = read_report(report) if report.exists() else Result()
    result.exit_codes.append(done.returncode)
    result.seconds = time.monotonic() - start
    if not report.exists():
        raise RuntimeError(f"schemathesis wrote no report:\n{done.stdout}\n{done.stderr}")
    return result


def sign_up_pair(daemon: DaemonProc) -> dict[str, str]:
    """An admin (the first sign-up) and a plain user (added by the admin): role -> token."""
    with httpx.Client(base_url=daemon.base_url, timeout=30) as c:
        r = c.post(
            "/api/v1/auths/signup",
            json={"name": "Admin", "email": "admin@example.com", "password": "pw-123456"},
        )
        r.raise_for_status()
        admin = r.json()["token"]
        r = c.post(
            "/api/v1/auths/add",
            headers={"Authorization": f"Bearer {admin}"},
            json={
                "name": "User",
                "email": "user@example.com",
                "password": "pw-123456",
                "role": "user",
            },
        )
        r.raise_for_status()
        return {"admin": admin, "user": r.json()["token"]}


def start_fuzz_daemon(tmp: Path) -> tuple[DaemonProc, list[StandIn]]:
    """A daemon with a stand-in Ollama and a stand-in OpenAI-compatible provider: with none
    (or one disabled) every relay would answer 500 or 503, as Open WebUI does."""
    ollama = start_ollama(models=[MODEL], reply="Hello from the stand-in.")
    openai = start_openai(models=["gpt-standin"], reply="Hello from the stand-in.")
    env = {"DEFAULT_USER_ROLE": "user", **provider_env(ollama=[ollama], openai=[openai])}
    return start_daemon(tmp, env=env), [ollama, openai]


def fuzz(
    daemon: DaemonProc,
    tokens: dict[str, str],
    workdir: Path,
    *,
    max_examples: int,
    max_time: float | None,
    workers: int = 2,
    seed: int | None = None,
    phases: str = "examples,coverage,fuzzing",
    timeout: float | None = None,
) -> dict[str, Result]:
    """One schemathesis run per token (admin first), each with `max_time` seconds."""
    results = {}
    for role, token in tokens.items():
        results[role] = run_schemathesis(
            daemon.base_url,
            token,
            workdir / f"schemathesis-{role}.ndjson",
            max_examples=max_examples,
            max_time=max_time,
            workers=workers,
            seed=seed,
            phases=phases,
            timeout=timeout,
        )
    return results


def _print(results: dict[str, Result], daemon: DaemonProc) -> int:
    total = Result()
    for role, result in results.items():
        total.add(result)
        statuses = ", ".join(f"{s}: {n}" for s, n in sorted(result.statuses.items()))
        print(
            f"{role:>5}: {result.operations} operations, "
            f"{result.requests} requests in {result.seconds:.0f} s, "
            f"{len(result.server_errors)} 5xx (schemathesis exit {result.exit_codes[0]}); "
            f"{statuses}"
        )
    print(f"total: {total.requests} requests, {len(total.server_errors)} 5xx")
    for line in total.server_errors[:50]:
        print("  5xx:", line)
    if total.undocumented:
        print(
            f"answers with a status the document does not list: {sum(total.undocumented.values())}"
        )
        for label, count in total.undocumented.most_common(40):
            print(f"  {label} ({count})")
    log = daemon.log()
    traceback = "Traceback" in log
    print(f"daemon log: {'TRACEBACK' if traceback else 'no traceback'} ({daemon.log_path})")
    return 1 if total.server_errors or traceback else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--max-examples", type=int, default=50)
    parser.add_argument("--max-time", type=float, default=1200, help="seconds, both runs")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int)
    parser.add_argument("--phases", default="examples,coverage,fuzzing")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="fuzz-api-"))
    daemon, standins = start_fuzz_daemon(tmp)
    try:
        tokens = sign_up_pair(daemon)
        print(
            f"excluded ({len(EXCLUDED)}): " + "; ".join(f"{k} ({v})" for k, v in EXCLUDED.items())
        )
        results = fuzz(
            daemon,
            tokens,
            tmp,
            max_examples=args.max_examples,
            max_time=args.max_time / len(tokens),
            workers=args.workers,
            seed=args.seed,
            phases=args.phases,
        )
    finally:
        daemon.stop()
        for standin in standins:
            standin.stop()
    status = _print(results, daemon)
    if status == 0:
        shutil.rmtree(tmp, ignore_errors=True)  # the reports run to hundreds of MB
    else:
        print(f"reports and the daemon's data kept in {tmp}")
    sys.exit(status)


if __name__ == "__main__":
    main()
