"""`webui status`: is the server there, what is it, where does it keep data, who am I to it,
and (for admins) each provider connection with its origin, health and model count."""

import asyncio
from collections.abc import Awaitable
from typing import Any, TypeVar, cast

import typer

from webui_daemon.schemas.connections import ConnectionsState
from webui_tui.cli.output import JsonFlag, note, print_json, say
from webui_tui.cli.runtime import call, resolve_target
from webui_tui.client.api import WebUIClient
from webui_tui.client.discovery import Target
from webui_tui.client.env_check import env_urls, missing_line
from webui_tui.client.errors import AuthFailed, DaemonUnreachable, Forbidden, RequestFailed

T = TypeVar("T")

_SOURCES = {
    "default": "per-user default",
    "shared": "shared daemon",
    "WEBUI_SOCKET": "from WEBUI_SOCKET",
    "WEBUI_URL": "from WEBUI_URL",
    "argument": "given",
}


async def _soft(work: Awaitable[T]) -> T | RequestFailed:
    """The answer, or the refusal: status reports a refusal instead of failing on it."""
    try:
        return await work
    except RequestFailed as exc:
        return exc


def _settled(outcome: T | BaseException) -> T:
    """A gathered result; refusals stay results, anything else (unreachable) is raised."""
    if isinstance(outcome, BaseException) and not isinstance(outcome, RequestFailed):
        raise outcome
    return cast(T, outcome)


async def collect(client: WebUIClient) -> dict[str, Any]:
    """Everything status shows, as one JSON-ready dict."""
    version = await client.version()  # the first call: starts the daemon if needed
    # return_exceptions: should the connection drop, neither task's error goes unretrieved.
    got_info, got_me, got_conns = await asyncio.gather(
        _soft(client.daemon_info()),
        _soft(client.whoami()),
        _soft(client.connection_states()),
        return_exceptions=True,
    )
    info, me = _settled(got_info), _settled(got_me)
    conns = _settled(got_conns)
    target = client.target
    report: dict[str, Any] = {
        "reachable": True,
        "address": target.address,
        "transport": "unix" if target.is_socket else "http",
        "source": target.source,
        "server": "webui" if version.webui_version else "open-webui",
        "version": version.webui_version,
        "api_version": version.version,
        "data_dir": None,
        "pid": None,
        "uptime_s": None,
        "rss_bytes": None,
        "listening": None,
        "peer_uid": None,
        "user": None,
        "identified_by": None,
        "connections": None,
        "env_overridden": None,
        "env_missing": None,
        "problem": None,
    }
    if isinstance(conns, ConnectionsState):
        report["connections"] = [c.model_dump() for c in conns.connections]
        report["env_overridden"] = conns.env_overridden
        report["env_missing"] = missing_line(conns, env_urls())
    elif isinstance(conns, RequestFailed) and not isinstance(conns, AuthFailed | Forbidden):
        report["problem"] = conns.message
    if isinstance(info, RequestFailed):
        report["problem"] = info.message
    elif info is not None:
        report |= {
            "data_dir": info.data_dir,
            "pid": info.pid,
            "uptime_s": info.uptime_s,
            "rss_bytes": info.rss_bytes,
            "listening": {
                "socket": info.socket,
                "tcp": info.tcp,
                "shared": info.shared,
                "local_users": info.local_users,
            },
            "peer_uid": info.peer_uid,
        }
    if isinstance(me, RequestFailed):
        report["problem"] = me.message
    else:
        report["user"] = {"id": me.id, "name": me.name, "email": me.email, "role": me.role}
        # On the socket without a token the daemon knows us by our OS account (SO_PEERCRED).
        token = client.token or ""
        report["identified_by"] = (
            "api-key" if token.startswith("sk-") else "token" if token else "os-account"
        )
    return report


_LOCAL_USERS = {
    "trusted": "trusted: every model no record restricts; own knowledge, prompts, notes",
    "restricted": "restricted: Open WebUI's rules (model access records, default permissions)",
}


def _human(report: dict[str, Any]) -> None:
    if report["server"] == "webui":
        say(f"webui daemon {report['version']} (Open WebUI API {report['api_version']}), running")
    else:
        say(f"Open WebUI server {report['api_version']}, reachable")
    kind = "unix socket" if report["transport"] == "unix" else "URL"
    rows = [("address", f"{report['address']} ({kind}, {_SOURCES[report['source']]})")]
    if report["data_dir"]:
        rows.append(("data dir", report["data_dir"]))
        rows.append(("pid", str(report["pid"])))
        if report["uptime_s"] is not None:
            rows.append(("uptime", duration(report["uptime_s"])))
        if report["rss_bytes"] is not None:
            rows.append(("memory", f"{report['rss_bytes'] / 2**20:.1f} MiB resident (RSS)"))
        listening = report["listening"]
        if listening["tcp"]:
            rows.append(("tcp", listening["tcp"]))
        if listening["shared"]:
            rows.append(("shared", "yes: serves several local users"))
            rows.append(("local users", _LOCAL_USERS[listening["local_users"]]))
    user = report["user"]
    if user:
        by = "by API key" if report["identified_by"] == "api-key" else "by token"
        if report["identified_by"] == "os-account":
            uid = report["peer_uid"]
            by = "by your OS account" + (f", uid {uid}" if uid is not None else "")
        rows.append(("you", f"{user['name']} <{user['email']}>, {user['role']} ({by})"))
    else:
        hint = f" (`webui login {report['address']}`)" if report["transport"] == "http" else ""
        rows.append(("you", f"not signed in{hint}"))
    if report["problem"]:
        rows.append(("note", report["problem"]))
    for key, value in rows:
        say(f"  {key:<9} {value}")
    if report["connections"] is not None:
        _connections(report["connections"])
    if report["env_missing"]:
        note(report["env_missing"])


def connection_health(conn: dict[str, Any]) -> str:
    """`up, 3 models`, `down: refused`, `off`."""
    if conn["health"] == "up":
        count = conn["models"]
        return "up" if count is None else f"up, {count} model{'' if count == 1 else 's'}"
    if conn["health"] == "down":
        return f"down: {conn['reason']}" if conn["reason"] else "down"
    return "off"


def _connections(conns: list[dict[str, Any]]) -> None:
    if not conns:
        say("  providers none configured (`webui connections add URL`)")
        return
    for number, conn in enumerate(conns):
        label = "providers" if number == 0 else ""
        health = connection_health(conn)
        say(f"  {label:<9} {conn['type']:<6} {conn['url']}  ({conn['origin']}; {health})")


def duration(seconds: float) -> str:
    """`3 d 4 h`, `2 h 5 min`, `4 min 10 s`, `12 s`: the two largest units."""
    whole = int(seconds)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {secs} s"
    return f"{secs} s"


def status(ctx: typer.Context, json_out: JsonFlag = False) -> None:
    """Show whether the daemon runs, its version, where it lives, and who you are to it."""
    target = resolve_target()
    try:
        report = call(ctx, collect, target=target, quick=True)
    except DaemonUnreachable as exc:
        if json_out:
            print_json(_unreachable(target, exc))
        raise
    if json_out:
        print_json(report)
    else:
        _human(report)


def _unreachable(target: Target, exc: DaemonUnreachable) -> dict[str, Any]:
    return {
        "reachable": False,
        "address": target.address,
        "transport": "unix" if target.is_socket else "http",
        "source": target.source,
        "problem": exc.message,
    }
