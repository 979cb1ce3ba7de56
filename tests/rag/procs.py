"""Reading a daemon's process tree from /proc: its children (the knowledge worker), their RSS."""

from pathlib import Path


def status_mb(pid: int, key: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no {key} for {pid}")


def children(pid: int) -> list[int]:
    """Live (not zombie) processes whose parent is `pid`."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def state(pid: int) -> str:
    """The process's state letter (Z: a zombie nobody reaped); "" when it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return ""


def tree_rss_mb(pid: int) -> float:
    """RSS of the process and its live children."""
    total = status_mb(pid)
    for child in children(pid):
        if state(child) not in ("", "Z"):
            try:
                total += status_mb(child)
            except (OSError, AssertionError):
                continue
    return total


def mapped(pid: int, *names: str) -> list[str]:
    """Shared libraries of the process whose path contains one of `names`."""
    found = set()
    for line in Path(f"/proc/{pid}/maps").read_text().splitlines():
        parts = line.split()
        if len(parts) >= 6 and any(n in parts[5] for n in names):
            found.add(parts[5])
    return sorted(found)
