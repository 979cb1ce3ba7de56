"""Who is on the other end of a Unix socket (SO_PEERCRED, SO_PEERGROUPS), the OS account behind
a uid, and whether the daemon serves that caller at all (`PeerPolicy`)."""

import array
import grp
import pwd
import socket
import struct
from dataclasses import dataclass

# Linux's SO_PEERGROUPS (since 4.13): the peer's supplementary groups as they were at connect();
# Python's socket module does not name it.
SO_PEERGROUPS = getattr(socket, "SO_PEERGROUPS", 59)


@dataclass(frozen=True, slots=True)
class PeerCredentials:
    pid: int
    uid: int
    gid: int


def peer_credentials(sock: socket.socket) -> PeerCredentials | None:
    """The kernel's record of the connecting process (Linux); None where unavailable."""
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None or sock.family != socket.AF_UNIX:
        return None
    try:
        raw = sock.getsockopt(socket.SOL_SOCKET, option, struct.calcsize("3i"))
    except OSError:
        return None
    pid, uid, gid = struct.unpack("3i", raw)
    return PeerCredentials(pid, uid, gid)


def peer_groups(sock: socket.socket) -> frozenset[int] | None:
    """The connecting process's supplementary group ids (Linux); None where unavailable."""
    size = 64
    while size <= 65536:
        try:
            raw = sock.getsockopt(socket.SOL_SOCKET, SO_PEERGROUPS, size * 4)
        except OSError as exc:
            if exc.errno == 34:  # ERANGE: more groups than room; ask again with more
                size *= 4
                continue
            return None
        return frozenset(array.array("I", raw[: len(raw) - len(raw) % 4]))
    return None


@dataclass(frozen=True, slots=True)
class PeerPolicy:
    """Who may use the socket, decided by the daemon itself and not only by the file's mode (a
    mode loosened by hand, or a folder someone else controls, must not let strangers in).

    A per-user socket serves its owner only; a shared socket also serves the processes that are
    in its group (primary or supplementary, as the kernel checks the file mode). root passes
    the file mode anyway and may read the data folder directly, so it is served (as an admin)."""

    owner_uid: int
    group_gid: int | None = None  # None: a per-user socket

    def admits(self, creds: PeerCredentials, groups: frozenset[int] | None) -> bool:
        if creds.uid in (self.owner_uid, 0):
            return True
        if self.group_gid is None:
            return False
        return creds.gid == self.group_gid or self.group_gid in (groups or ())

    def refusal(self, creds: PeerCredentials) -> str:
        who = os_user_name(creds.uid)
        if self.group_gid is None:
            owner = os_user_name(self.owner_uid)
            return f"this webui daemon serves only {owner}; {who} needs a daemon of their own"
        return (
            f"this webui daemon serves the members of group {group_name(self.group_gid)}; "
            f"{who} is not one (an administrator can add them)"
        )


def group_name(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return f"gid{gid}"


def os_user_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid{uid}"
