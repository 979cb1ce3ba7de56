"""Images in chats: `webui chat -f photo.png` against a real daemon and stand-in providers on
both wires (the bytes checked at the provider), kept with the chat so `-c` sends them again,
file references resolved only for those who may read the file, and the refusals (not an
image by its bytes, a model that is not vision capable, over the size limit) as one line with
nothing sent."""

import base64
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from tests.cli_chat_support import api, chat_env
from tests.cli_support import one_error_line, webui
from tests.daemon_proc import DaemonProc
from tests.daemons import daemon_fixture
from tests.standins import StandIn, provider_env, start_ollama, start_openai
from tests.support import assert_error, bearer, tcp
from webui_daemon.schemas.images import sniff

OLLAMA_MODEL = "standin:latest"
OPENAI_MODEL = "standin-gpt"


def picture(fmt: str, size: tuple[int, int] = (4, 3)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, format=fmt)
    return out.getvalue()


@pytest.fixture(scope="module")
def ollama() -> Iterator[StandIn]:
    s = start_ollama(models=[OLLAMA_MODEL], reply="A red square.")
    yield s
    s.stop()


@pytest.fixture(scope="module")
def openai() -> Iterator[StandIn]:
    s = start_openai(models=[OPENAI_MODEL], reply="A red square.")
    yield s
    s.stop()


daemon = daemon_fixture(
    env=lambda ollama, openai: provider_env(
        ollama=[ollama],
        openai=[openai],
        ENABLE_TITLE_GENERATION="false",
        DEFAULT_USER_ROLE="user",
        FILE_MAX_SIZE="1",
        BYPASS_MODEL_ACCESS_CONTROL="true",
    ),
    tmp="images",
)


@pytest.fixture
def env(daemon: DaemonProc, tmp_path: Path) -> dict[str, str]:
    return chat_env(daemon, tmp_path)


def last_user(standin: StandIn) -> dict[str, Any]:
    chats = standin.chats()
    assert chats, "the provider was asked nothing"
    return dict(chats[-1].body)


def file_count(daemon: DaemonProc) -> int:
    with api(daemon) as c:
        return int(c.get("/api/v1/files/").json()["total"])


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF", "WEBP"])
def test_sniff_knows_the_format_and_size(fmt: str) -> None:
    info = sniff(picture(fmt, (37, 21)))
    assert info is not None
    assert info.mime == f"image/{fmt.lower()}"
    assert (info.width, info.height) == (37, 21)
    assert sniff(b"%PDF-1.7 not an image") is None


def test_an_image_reaches_ollama_byte_for_byte_and_stays_with_the_chat(
    env: dict[str, str], tmp_path: Path, ollama: StandIn, daemon: DaemonProc
) -> None:
    photo = tmp_path / "photo.png"
    photo.write_bytes(picture("PNG"))
    result = webui("chat", "--json", "-m", OLLAMA_MODEL, "-f", str(photo), "what is this?", env=env)
    assert result.returncode == 0, result.stderr
    body = last_user(ollama)
    asked = body["messages"][-1]
    assert asked["content"] == "what is this?"
    assert base64.b64decode(asked["images"][0]) == photo.read_bytes()

    chat_id = json.loads(result.stdout)["chat_id"]
    again = webui("chat", "--chat", chat_id, "-m", OLLAMA_MODEL, "and its colour?", env=env)
    assert again.returncode == 0, again.stderr
    first, _, follow_up = last_user(ollama)["messages"][-3:]
    assert base64.b64decode(first["images"][0]) == photo.read_bytes()
    assert "images" not in follow_up
    shown = webui("chats", "show", chat_id, env=env)
    assert "### You (image: photo.png 4×3)" in shown.stdout


def test_an_image_reaches_openai_as_a_data_url(
    env: dict[str, str], tmp_path: Path, openai: StandIn
) -> None:
    photo = tmp_path / "cat.jpg"
    photo.write_bytes(picture("JPEG"))
    result = webui("chat", "--temporary", "-m", OPENAI_MODEL, "-f", str(photo), "describe", env=env)
    assert result.returncode == 0, result.stderr
    text, image = last_user(openai)["messages"][-1]["content"]
    assert text == {"type": "text", "text": "describe"}
    url = image["image_url"]["url"]
    assert url.startswith("data:image/jpeg;base64,")
    assert base64.b64decode(url.split(",", 1)[1]) == photo.read_bytes()


def test_refusals_are_one_line_and_send_nothing(
    env: dict[str, str], tmp_path: Path, ollama: StandIn, daemon: DaemonProc
) -> None:
    fake = tmp_path / "fake.png"
    fake.write_text("I am text with an image's name")
    before, asked = file_count(daemon), len(ollama.chats())
    result = webui("chat", "-m", OLLAMA_MODEL, "-f", str(fake), "what?", env=env)
    assert result.returncode == 1
    assert one_error_line(result) == f"webui: {fake} is not an image (PNG, JPEG, GIF or WebP)"

    huge = tmp_path / "huge.png"
    huge.write_bytes(picture("PNG", (1600, 1600)) + b"\0" * (1024 * 1024))
    result = webui("chat", "-m", OLLAMA_MODEL, "-f", str(huge), "what?", env=env)
    assert result.returncode == 2 and "limit of 1 MB" in one_error_line(result)

    with api(daemon) as c:
        r = c.post(
            "/api/v1/models/create",
            json={
                "id": "blind",
                "base_model_id": OLLAMA_MODEL,
                "name": "Blind",
                "meta": {"capabilities": {"vision": False}},
            },
        )
        assert r.status_code == 200, r.text
    photo = tmp_path / "p.gif"
    photo.write_bytes(picture("GIF"))
    result = webui("chat", "-m", "blind", "-f", str(photo), "what?", env=env)
    assert result.returncode == 2
    assert "Model Blind is not vision capable" in one_error_line(result)
    assert len(ollama.chats()) == asked
    assert file_count(daemon) == before + 1  # only the gif was stored; its chat was not kept


def test_file_references_need_read_access(daemon: DaemonProc, ollama: StandIn) -> None:
    with api(daemon) as local:  # the daemon's own account: an admin on its socket
        alice, bob = (
            local.post(
                "/api/v1/auths/add",
                json={"name": n, "email": f"{n}@x.io", "password": "pw-123456", "role": "user"},
            ).json()
            for n in ("alice", "bob")
        )
    with tcp(daemon, timeout=30) as c:
        files = {"file": ("a.png", picture("PNG"), "image/png")}
        mine = c.post(
            "/api/v1/files/",
            headers=bearer(alice["token"]),
            files=files,
            params={"process": "false"},
        ).json()
        text = c.post(
            "/api/v1/files/",
            headers=bearer(alice["token"]),
            files={"file": ("n.txt", b"plain words", "text/plain")},
            params={"process": "false"},
        ).json()

        def ask(who: dict[str, Any], url: str) -> httpx.Response:
            content = [
                {"type": "text", "text": "?"},
                {"type": "image_url", "image_url": {"url": url}},
            ]
            body = {
                "model": OLLAMA_MODEL,
                "stream": False,
                "messages": [{"role": "user", "content": content}],
            }
            return c.post("/api/chat/completions", headers=bearer(who["token"]), json=body)

        ok = ask(alice, f"/api/v1/files/{mine['id']}/content")
        assert ok.status_code == 200, ok.text
        assert base64.b64decode(last_user(ollama)["messages"][-1]["images"][0]) == picture("PNG")
        assert ask(alice, mine["id"]).status_code == 200  # the bare id, as 0.12 takes it
        refused = ask(bob, f"/api/v1/files/{mine['id']}/content")
        assert assert_error(refused, 404) == (
            f"The image /api/v1/files/{mine['id']}/content was not found."
        )
        detail = assert_error(ask(alice, f"/api/v1/files/{text['id']}/content"), 400)
        assert detail == "n.txt is not an image (PNG, JPEG, GIF or WebP)."
        assert ask(alice, "javascript:alert(1)").status_code == 400
