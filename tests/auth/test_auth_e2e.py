"""End to end through a real daemon over TCP: signup, signin, whoami, API keys, users, groups,
signout; then default roles, the signin rate limit, the start-up admin and the JWT secret."""

import sqlite3
import stat
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.daemon_proc import DaemonProc, start_daemon
from tests.daemons import daemon_fixture
from tests.support import (
    PASSWORD,
    add_user,
    assert_error,
    assert_no_traceback,
    bearer,
    signin,
    signup,
    tcp,
    whoami,
)

# The conftest `daemon` fixture runs with DEFAULT_USER_ROLE=user and a fixed WEBUI_SECRET_KEY.


@pytest.fixture(scope="module")
def admin(daemon: DaemonProc) -> dict[str, Any]:
    """The first user to sign up: the primary admin."""
    with tcp(daemon) as c:
        session = signup(c, "Ada Admin", "ada@example.com")
    assert session["role"] == "admin"
    return dict(session)


def _set_signup(daemon: DaemonProc, admin_token: str, enabled: bool) -> None:
    with tcp(daemon) as c:
        config = c.get("/api/v1/auths/admin/config", headers=bearer(admin_token)).json()
        config["ENABLE_SIGNUP"] = enabled
        r = c.post("/api/v1/auths/admin/config", headers=bearer(admin_token), json=config)
        assert r.status_code == 200, r.text
        assert r.json()["ENABLE_SIGNUP"] is enabled


# ---- signup ------------------------------------------------------------------------------------


def test_first_signup_is_admin_and_closes_signup(daemon: DaemonProc, admin: dict[str, Any]) -> None:
    assert admin["token_type"] == "Bearer"
    assert admin["email"] == "ada@example.com"
    assert admin["permissions"]["workspace"]["models"] is True  # admins hold every permission
    with tcp(daemon) as c:
        config = c.get("/api/v1/auths/admin/config", headers=bearer(admin["token"])).json()
        assert config["ENABLE_SIGNUP"] is False
        r = c.post(
            "/api/v1/auths/signup",
            json={"name": "Bob", "email": "bob@example.com", "password": PASSWORD},
        )
        assert_error(r, 403)


def test_admin_can_reopen_signup_and_new_users_get_the_default_role(
    daemon: DaemonProc, admin: dict[str, Any]
) -> None:
    _set_signup(daemon, admin["token"], True)
    try:
        with tcp(daemon) as c:
            bob = signup(c, "Bob", "Bob@Example.com")
            assert bob["role"] == "user"  # DEFAULT_USER_ROLE=user; no longer the first user
            assert bob["email"] == "bob@example.com"  # emails are normalised
            taken = c.post(
                "/api/v1/auths/signup",
                json={"name": "Bob 2", "email": "BOB@example.com", "password": PASSWORD},
            )
            assert "already registered" in assert_error(taken, 400)
            bad = c.post(
                "/api/v1/auths/signup",
                json={"name": "X", "email": "not-an-email", "password": PASSWORD},
            )
            assert "email" in assert_error(bad, 400).lower()
    finally:
        _set_signup(daemon, admin["token"], False)
    with tcp(daemon) as c:
        r = c.post(
            "/api/v1/auths/signup",
            json={"name": "Carol", "email": "carol@example.com", "password": PASSWORD},
        )
        assert_error(r, 403)


# ---- signin and whoami -------------------------------------------------------------------------


def test_signin_and_whoami_with_jwt_cookie_and_header(
    daemon: DaemonProc, admin: dict[str, Any]
) -> None:
    with tcp(daemon) as c:
        wrong = c.post(
            "/api/v1/auths/signin", json={"email": "ada@example.com", "password": "nope"}
        )
        assert "incorrect" in assert_error(wrong, 400)
        unknown = c.post(
            "/api/v1/auths/signin", json={"email": "nobody@example.com", "password": PASSWORD}
        )
        assert_error(unknown, 400)

        session = signin(c, "ADA@example.com")
        assert session["id"] == admin["id"]
        assert session["role"] == "admin"
        assert session["token"] != admin["token"]
        assert session["expires_at"] > time.time() + 3600
        token = session["token"]

        me = whoami(c, headers=bearer(token))
        assert me.status_code == 200, me.text
        assert me.json()["id"] == admin["id"]
        assert me.json()["email"] == "ada@example.com"
        assert me.json()["token"] == token
        assert "token=" in me.headers.get("set-cookie", "")  # the session cookie is refreshed

        assert_error(whoami(c), 401)  # TCP without credentials
        assert_error(whoami(c, headers=bearer("not-a-jwt")), 401)
        assert_error(whoami(c, headers={"Authorization": f"Basic {token}"}), 401)

    with tcp(daemon, cookies={"token": token}) as c:
        assert whoami(c).json()["id"] == admin["id"]
    with tcp(daemon) as c:
        # CUSTOM_API_KEY_HEADER (default x-api-key) is read last; a JWT works there too.
        assert whoami(c, headers={"x-api-key": token}).json()["id"] == admin["id"]


# ---- API keys ----------------------------------------------------------------------------------


def test_api_key_create_get_replace_delete(daemon: DaemonProc, admin: dict[str, Any]) -> None:
    h = bearer(admin["token"])
    with tcp(daemon) as c:
        assert_error(c.get("/api/v1/auths/api_key", headers=h), 404)

        first = c.post("/api/v1/auths/api_key", headers=h)
        assert first.status_code == 200, first.text
        key = first.json()["api_key"]
        assert key.startswith("sk-") and len(key) == 35
        int(key[3:], 16)
        assert c.get("/api/v1/auths/api_key", headers=h).json() == {"api_key": key}

        # The key authenticates like a token: Bearer, and the x-api-key header.
        assert whoami(c, headers=bearer(key)).json()["id"] == admin["id"]
        assert whoami(c, headers={"x-api-key": key}).json()["id"] == admin["id"]
        r = c.get("/api/v1/users/", headers={"x-api-key": key})
        assert r.status_code == 200, r.text

        # One key per user: creating again replaces it.
        second = c.post("/api/v1/auths/api_key", headers=h).json()["api_key"]
        assert second != key
        assert c.get("/api/v1/auths/api_key", headers=h).json() == {"api_key": second}
        assert_error(whoami(c, headers=bearer(key)), 401)
        assert whoami(c, headers=bearer(second)).status_code == 200

        r = c.delete("/api/v1/auths/api_key", headers=h)
        assert r.status_code == 200 and r.json() is True
        assert_error(whoami(c, headers=bearer(second)), 401)
        assert_error(c.get("/api/v1/auths/api_key", headers=h), 404)


def test_api_key_of_a_normal_user(daemon: DaemonProc, admin: dict[str, Any]) -> None:
    with tcp(daemon) as c:
        dora = add_user(c, admin["token"], "Dora", "dora@example.com", "user")
        key = c.post("/api/v1/auths/api_key", headers=bearer(dora["token"])).json()["api_key"]
        me = whoami(c, headers=bearer(key))
        assert me.status_code == 200, me.text
        assert me.json()["id"] == dora["id"] and me.json()["role"] == "user"
        # The key carries the user's role: no admin routes.
        assert_error(c.get("/api/v1/users/", headers=bearer(key)), 401)
        assert c.get("/api/v1/auths/api_key", headers=bearer(dora["token"])).json() == {
            "api_key": key
        }


# ---- users admin -------------------------------------------------------------------------------


def _seed_users(daemon: DaemonProc, count: int) -> list[str]:
    """Rows for the pagination test, written straight into the daemon's database (WAL allows a
    second writer): going through signup would cost an argon2 hash per user."""
    now = int(time.time())
    ids = [str(uuid.uuid4()) for _ in range(count)]
    with sqlite3.connect(daemon.data_dir / "webui.db", timeout=10) as db:
        db.executemany(
            "INSERT INTO user (id, email, name, role, profile_image_url, last_active_at, "
            "created_at, updated_at) VALUES (?, ?, ?, 'user', '/user.png', ?, ?, ?)",
            [
                (uid, f"seed{i:03d}@seed.test", f"Seed {i:03d}", now, now + 1000 + i, now)
                for i, uid in enumerate(ids)
            ],
        )
    db.close()
    return ids


def test_users_list_is_paginated(daemon: DaemonProc, admin: dict[str, Any]) -> None:
    seeded = _seed_users(daemon, 33)
    h = bearer(admin["token"])
    with tcp(daemon) as c:
        everyone = c.get("/api/v1/users/all", headers=h).json()
        total = everyone["total"]
        assert total == len(everyone["users"]) >= 35
        assert {u["id"] for u in everyone["users"]} >= set(seeded)

        page1 = c.get("/api/v1/users/", headers=h).json()
        page2 = c.get("/api/v1/users/", params={"page": 2}, headers=h).json()
        assert set(page1) == {"users", "total"}
        assert page1["total"] == page2["total"] == total
        assert len(page1["users"]) == 30
        assert len(page2["users"]) == total - 30
        ids1 = [u["id"] for u in page1["users"]]
        ids2 = [u["id"] for u in page2["users"]]
        assert not set(ids1) & set(ids2)
        # Default order: oldest first (the seeded rows were given the newest created_at).
        created = [u["created_at"] for u in page1["users"] + page2["users"]]
        assert created == sorted(created)
        assert ids2[-1] == seeded[-1]
        far = c.get("/api/v1/users/", params={"page": 99}, headers=h).json()
        assert far == {"users": [], "total": total}

        found = c.get("/api/v1/users/", params={"query": "seed00"}, headers=h).json()
        assert found["total"] == 10
        desc = c.get(
            "/api/v1/users/",
            params={"query": "seed", "order_by": "email", "direction": "desc"},
            headers=h,
        ).json()
        emails = [u["email"] for u in desc["users"]]
        assert emails == sorted(emails, reverse=True)
        assert emails[0] == "seed032@seed.test"
        for user in page1["users"]:
            assert "api_key" not in user and "password" not in user
            assert isinstance(user["group_ids"], list)


def test_users_get_update_delete(daemon: DaemonProc, admin: dict[str, Any]) -> None:
    h = bearer(admin["token"])
    with tcp(daemon) as c:
        eve = add_user(c, admin["token"], "Eve", "eve@example.com", "user")
        detail = c.get(f"/api/v1/users/{eve['id']}", headers=h)
        assert detail.status_code == 200, detail.text
        assert detail.json()["email"] == "eve@example.com"
        assert detail.json()["groups"] == []
        assert_error(c.get(f"/api/v1/users/{uuid.uuid4()}", headers=h), 400)

        # A role change is POST /users/{id}/update (0.12: every field optional).
        r = c.post(f"/api/v1/users/{eve['id']}/update", headers=h, json={"role": "admin"})
        assert r.status_code == 200, r.text
        assert r.json()["role"] == "admin"
        assert c.get("/api/v1/users/", headers=bearer(eve["token"])).status_code == 200

        # 0.6 bodies (all of role, name, email, profile_image_url) fit as well.
        r = c.post(
            f"/api/v1/users/{eve['id']}/update",
            headers=h,
            json={
                "role": "user",
                "name": "Eve Two",
                "email": "eve2@example.com",
                "profile_image_url": "/user.png",
            },
        )
        assert r.status_code == 200, r.text
        assert (r.json()["role"], r.json()["name"], r.json()["email"]) == (
            "user",
            "Eve Two",
            "eve2@example.com",
        )
        assert_error(c.get("/api/v1/users/", headers=bearer(eve["token"])), 401)
        taken = c.post(
            f"/api/v1/users/{eve['id']}/update", headers=h, json={"email": "ada@example.com"}
        )
        assert_error(taken, 400)

        # An admin may set a password; the user signs in with it.
        r = c.post(f"/api/v1/users/{eve['id']}/update", headers=h, json={"password": "new-pw-1"})
        assert r.status_code == 200, r.text
        assert signin(c, "eve2@example.com", "new-pw-1")["id"] == eve["id"]

        r = c.delete(f"/api/v1/users/{eve['id']}", headers=h)
        assert r.status_code == 200 and r.json() is True
        assert_error(c.get(f"/api/v1/users/{eve['id']}", headers=h), 400)
        assert_error(whoami(c, headers=bearer(eve["token"])), 401)  # tokens die with the user
        assert_error(c.delete(f"/api/v1/users/{eve['id']}", headers=h), 400)


def test_primary_admin_cannot_be_demoted_or_deleted(
    daemon: DaemonProc, admin: dict[str, Any]
) -> None:
    with tcp(daemon) as c:
        other = add_user(c, admin["token"], "Otto", "otto@example.com", "admin")
        h_other, h_primary = bearer(other["token"]), bearer(admin["token"])

        r = c.post(f"/api/v1/users/{admin['id']}/update", headers=h_other, json={"role": "user"})
        assert_error(r, 403)
        r = c.post(f"/api/v1/users/{admin['id']}/update", headers=h_primary, json={"role": "user"})
        assert_error(r, 403)
        assert_error(c.delete(f"/api/v1/users/{admin['id']}", headers=h_other), 403)
        assert_error(c.delete(f"/api/v1/users/{admin['id']}", headers=h_primary), 403)
        # Other admins may not touch the primary admin's account at all (as in Open WebUI):
        # a new password or email would hand them the account.
        for body in ({"name": "Ada"}, {"password": "taken-over"}, {"email": "mine@example.com"}):
            r = c.post(f"/api/v1/users/{admin['id']}/update", headers=h_other, json=body)
            assert_error(r, 403)
        assert signin(c, "ada@example.com")["name"] == "Ada Admin"
        # The primary admin may edit their own account, keeping the role.
        r = c.post(
            f"/api/v1/users/{admin['id']}/update",
            headers=h_primary,
            json={"name": "Ada", "role": "admin"},
        )
        assert r.status_code == 200 and (r.json()["name"], r.json()["role"]) == ("Ada", "admin")

        # Nobody deletes themselves.
        assert_error(c.delete(f"/api/v1/users/{other['id']}", headers=h_other), 403)
        assert whoami(c, headers=h_primary).json()["role"] == "admin"

        # Another admin can be demoted and deleted by the primary one.
        r = c.post(f"/api/v1/users/{other['id']}/update", headers=h_primary, json={"role": "user"})
        assert r.status_code == 200 and r.json()["role"] == "user"
        assert c.delete(f"/api/v1/users/{other['id']}", headers=h_primary).json() is True


# ---- groups ------------------------------------------------------------------------------------


def test_groups_lifecycle(daemon: DaemonProc, admin: dict[str, Any]) -> None:
    h = bearer(admin["token"])
    with tcp(daemon) as c:
        fay = add_user(c, admin["token"], "Fay", "fay@example.com", "user")
        gus = add_user(c, admin["token"], "Gus", "gus@example.com", "user")
        assert (
            c.get("/api/v1/users/permissions", headers=bearer(fay["token"])).json()["workspace"][
                "models"
            ]
            is False
        )

        r = c.post(
            "/api/v1/groups/create",
            headers=h,
            json={
                "name": "Modellers",
                "description": "may edit models",
                "permissions": {"workspace": {"models": True}},
            },
        )
        assert r.status_code == 200, r.text
        group = r.json()
        gid = group["id"]
        assert (group["name"], group["member_count"], group["user_ids"]) == ("Modellers", 0, [])
        assert group["user_id"] == admin["id"]
        other = c.post("/api/v1/groups/create", headers=h, json={"name": "Others"}).json()

        names = [g["name"] for g in c.get("/api/v1/groups/", headers=h).json()]
        assert {"Modellers", "Others"} <= set(names)

        r = c.post(
            f"/api/v1/groups/id/{gid}/users/add",
            headers=h,
            json={"user_ids": [fay["id"], gus["id"], str(uuid.uuid4())]},
        )
        assert r.status_code == 200, r.text
        assert sorted(r.json()["user_ids"]) == sorted([fay["id"], gus["id"]])  # unknown ignored
        assert r.json()["member_count"] == 2

        got = c.get(f"/api/v1/groups/id/{gid}", headers=h).json()
        assert got["member_count"] == 2
        detail = c.get(f"/api/v1/users/{fay['id']}", headers=h).json()
        assert detail["groups"] == [{"id": gid, "name": "Modellers"}]
        assert [g["id"] for g in c.get(f"/api/v1/users/{fay['id']}/groups", headers=h).json()] == [
            gid
        ]
        listed = c.get("/api/v1/users/", params={"query": "fay@"}, headers=h).json()
        assert listed["users"][0]["group_ids"] == [gid]

        # A member sees its own groups only, and gets the group's permissions.
        fh = bearer(fay["token"])
        assert [g["id"] for g in c.get("/api/v1/groups/", headers=fh).json()] == [gid]
        assert [g["id"] for g in c.get("/api/v1/users/groups", headers=fh).json()] == [gid]
        perms = c.get("/api/v1/users/permissions", headers=fh).json()
        assert perms["workspace"]["models"] is True
        assert_error(c.get(f"/api/v1/groups/id/{other['id']}", headers=fh), 401)
        assert_error(c.post("/api/v1/groups/create", headers=fh, json={"name": "x"}), 401)

        r = c.post(
            f"/api/v1/groups/id/{gid}/users/remove", headers=h, json={"user_ids": [gus["id"]]}
        )
        assert r.status_code == 200, r.text
        assert r.json()["user_ids"] == [fay["id"]]
        assert c.get("/api/v1/groups/", headers=bearer(gus["token"])).json() == []

        r = c.post(
            f"/api/v1/groups/id/{gid}/update",
            headers=h,
            json={"name": "Model makers", "description": "renamed"},
        )
        assert r.status_code == 200, r.text
        assert (r.json()["name"], r.json()["description"]) == ("Model makers", "renamed")
        assert r.json()["permissions"] == {"workspace": {"models": True}}  # untouched
        assert r.json()["user_ids"] == [fay["id"]]

        r = c.delete(f"/api/v1/groups/id/{gid}/delete", headers=h)
        assert r.status_code == 200 and r.json() is True
        assert_error(c.get(f"/api/v1/groups/id/{gid}", headers=h), 404)
        assert_error(c.delete(f"/api/v1/groups/id/{gid}/delete", headers=h), 404)
        assert c.get("/api/v1/groups/", headers=fh).json() == []
        assert c.get("/api/v1/users/permissions", headers=fh).json()["workspace"]["models"] is False
        c.delete(f"/api/v1/groups/id/{other['id']}/delete", headers=h)


# ---- profile, password, signout ----------------------------------------------------------------


def test_profile_and_password_updates(daemon: DaemonProc, admin: dict[str, Any]) -> None:
    with tcp(daemon) as c:
        hal = add_user(c, admin["token"], "Hal", "hal@example.com", "user")
        hh = bearer(hal["token"])
        r = c.post(
            "/api/v1/auths/update/profile", headers=hh, json={"name": "Hal 9000", "bio": "hi"}
        )
        assert r.status_code == 200, r.text
        assert (r.json()["name"], r.json()["bio"]) == ("Hal 9000", "hi")
        assert whoami(c, headers=hh).json()["name"] == "Hal 9000"

        wrong = c.post(
            "/api/v1/auths/update/password",
            headers=hh,
            json={"password": "wrong", "new_password": "pw-new-1"},
        )
        assert_error(wrong, 400)
        r = c.post(
            "/api/v1/auths/update/password",
            headers=hh,
            json={"password": PASSWORD, "new_password": "pw-new-1"},
        )
        assert r.status_code == 200 and r.json() is True
        assert_error(
            c.post("/api/v1/auths/signin", json={"email": "hal@example.com", "password": PASSWORD}),
            400,
        )
        assert signin(c, "hal@example.com", "pw-new-1")["id"] == hal["id"]


@pytest.mark.parametrize("method", ["POST", "GET"])
def test_signout_revokes_the_jwt(daemon: DaemonProc, admin: dict[str, Any], method: str) -> None:
    with tcp(daemon) as c:
        token = signin(c, "ada@example.com")["token"]
        other = admin["token"]  # the signup session of the same user
        assert whoami(c, headers=bearer(token)).status_code == 200
        r = c.request(method, "/api/v1/auths/signout", headers=bearer(token))
        assert r.status_code == 200, r.text
        assert r.json()["status"] is True
        assert 'token=""' in r.headers.get("set-cookie", "")  # the cookie is cleared
        assert_error(whoami(c, headers=bearer(token)), 401)
        assert_error(whoami(c, headers={"x-api-key": token}), 401)
        # Only that token: another session of the same user lives on.
        assert whoami(c, headers=bearer(other)).status_code == 200
        # Signing out without a token (or twice) is harmless.
        assert c.request(method, "/api/v1/auths/signout").status_code == 200
        assert c.request(method, "/api/v1/auths/signout", headers=bearer(token)).status_code == 200


def test_secret_from_the_environment_is_not_written(daemon: DaemonProc) -> None:
    assert not (daemon.data_dir / ".webui_secret_key").exists()


# ---- other daemons: default role pending, rate limit, admin from env, generated secret ---------


pending_daemon = daemon_fixture(
    env={
        "DEFAULT_USER_ROLE": "pending",
        "WEBUI_SIGNIN_RATE_LIMIT": "3",
        "WEBUI_ADMIN_EMAIL": "Root-Admin@Example.com",
        "WEBUI_ADMIN_PASSWORD": "admin-pw-1",
    },
    tmp="pending",
)


@pytest.fixture(scope="module")
def env_admin(pending_daemon: DaemonProc) -> dict[str, Any]:
    """The admin from WEBUI_ADMIN_EMAIL/PASSWORD, signed in once (signin is limited to 3 here)."""
    with tcp(pending_daemon) as c:
        return dict(signin(c, "root-admin@example.com", "admin-pw-1"))


def test_admin_from_environment_exists_at_startup(
    pending_daemon: DaemonProc, env_admin: dict[str, Any]
) -> None:
    assert env_admin["role"] == "admin"
    assert env_admin["email"] == "root-admin@example.com"
    with tcp(pending_daemon) as c:
        assert "onboarding" not in c.get("/api/config").json()
        users = c.get("/api/v1/users/", headers=bearer(env_admin["token"])).json()
        assert [u["id"] for u in users["users"]] == [env_admin["id"]]


def test_pending_user_can_sign_in_but_not_use_verified_routes(
    pending_daemon: DaemonProc, env_admin: dict[str, Any]
) -> None:
    admin_token = env_admin["token"]
    with tcp(pending_daemon) as c:
        # Signup is still open here (the admin came from the environment, not a signup), and
        # new accounts get DEFAULT_USER_ROLE.
        assert signup(c, "Sam", "sam@example.com")["role"] == "pending"
        pat = add_user(c, admin_token, "Pat", "pat@example.com", "pending")

        session = signin(c, "pat@example.com")
        token = session["token"]
        assert session["role"] == "pending"
        me = whoami(c, headers=bearer(token))
        assert me.status_code == 200 and me.json()["role"] == "pending"
        for path in ("/api/v1/users/permissions", "/api/v1/groups/", "/api/webui/info"):
            detail = assert_error(c.get(path, headers=bearer(token)), 401)
            assert "permission" in detail
        r = c.post(
            "/api/v1/auths/update/profile", headers=bearer(token), json={"name": "Pat Pending"}
        )
        assert_error(r, 401)
        # No API key before approval (Open WebUI's 403 and message).
        r = c.post("/api/v1/auths/api_key", headers=bearer(token))
        assert "not allowed" in assert_error(r, 403)
        assert_error(c.get("/api/v1/auths/api_key", headers=bearer(token)), 404)

        # Once an admin approves the account, the same token works.
        r = c.post(
            f"/api/v1/users/{pat['id']}/update", headers=bearer(admin_token), json={"role": "user"}
        )
        assert r.status_code == 200, r.text
        assert c.get("/api/v1/users/permissions", headers=bearer(token)).status_code == 200
        key = c.post("/api/v1/auths/api_key", headers=bearer(token))
        assert key.status_code == 200 and key.json()["api_key"].startswith("sk-"), key.text


def test_signin_is_rate_limited_per_email(
    pending_daemon: DaemonProc, env_admin: dict[str, Any]
) -> None:
    with tcp(pending_daemon) as c:
        add_user(c, env_admin["token"], "Ray", "ray@example.com", "user")
        for _ in range(3):
            r = c.post("/api/v1/auths/signin", json={"email": "ray@example.com", "password": "x"})
            assert_error(r, 400)
        # Over the limit even with the right password, and whatever the case of the email.
        for email in ("ray@example.com", "RAY@example.com"):
            r = c.post("/api/v1/auths/signin", json={"email": email, "password": PASSWORD})
            assert_error(r, 429)
        # Other emails are not affected.
        assert signin(c, "sam@example.com")["role"] == "pending"


def test_generated_secret_is_private_and_survives_a_restart(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    env = {"WEBUI_SECRET_KEY": ""}
    first = start_daemon(tmp_path, env=env, data_dir=data_dir)
    try:
        with tcp(first) as c:
            session = signup(c, "Ivy", "ivy@example.com")
        key_file = data_dir / ".webui_secret_key"
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        secret = key_file.read_text()
        assert len(secret.strip()) >= 32
    finally:
        assert first.stop() == 0
    second = start_daemon(tmp_path, env=env, data_dir=data_dir)
    try:
        assert key_file.read_text() == secret  # read back, not regenerated
        with tcp(second) as c:
            me = whoami(c, headers=bearer(session["token"]))
            assert me.status_code == 200, me.text
            assert me.json()["id"] == session["id"]
    finally:
        assert second.stop() == 0


def test_daemon_logs_have_no_traceback(daemon: DaemonProc, pending_daemon: DaemonProc) -> None:
    """Last: nothing above raised inside either daemon."""
    assert_no_traceback(daemon)
    assert_no_traceback(pending_daemon)
