"""``opsweek serve``: the TUI for browsers, on localhost unless told otherwise."""

from __future__ import annotations

import asyncio
import os
import shlex
import signal
import socket
import subprocess
import sys
import time

import pytest

aiohttp = pytest.importorskip("aiohttp")

from opsweek.cli.serve import app_command  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(db, *args: str) -> tuple[subprocess.Popen, int]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "opsweek", "--db", str(db), "--me", "ana", "serve",
                             "--port", str(port), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, port
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise AssertionError("opsweek serve did not listen within 30 s")


def stop(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGTERM)  # its own session: the server and the app it started
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


async def browse(port: int) -> tuple[int, str, list[str]]:
    """What a browser does: fetch the page, open the websocket, see the app's first bytes."""
    async with aiohttp.ClientSession() as http:
        async with http.get(f"http://127.0.0.1:{port}/") as page:
            status, html = page.status, await page.text()
        kinds = []
        async with http.ws_connect(f"ws://127.0.0.1:{port}/ws?width=100&height=30") as ws:
            await ws.send_json(["resize", {"width": 100, "height": 30}])
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and "stdout" not in kinds:
                try:
                    message = await ws.receive(timeout=deadline - time.monotonic())
                except asyncio.TimeoutError:
                    break
                if message.type == aiohttp.WSMsgType.TEXT:
                    kinds.append(message.json()[0])
                elif message.type == aiohttp.WSMsgType.BINARY:
                    kinds.append("stdout")
                else:
                    break
        return status, html, kinds


def test_a_browser_gets_the_page_and_the_app_over_its_websocket(demo_db):
    proc, port = start_server(demo_db)
    try:
        status, html, kinds = asyncio.run(browse(port))
    finally:
        stop(proc)
    assert status == 200
    assert "textual" in html.lower() and f"ws://127.0.0.1:{port}/ws" in html
    assert "stdout" in kinds  # the app started and drew its screen for the browser


def listening_addresses(port: int) -> set[str]:
    """The IPv4 addresses a socket listens on at ``port`` (Linux: /proc/net/tcp, state 0A)."""
    found = set()
    with open("/proc/net/tcp") as table:
        for line in list(table)[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:
                found.add(socket.inet_ntoa(bytes.fromhex(address)[::-1]))
    return found


@pytest.mark.skipif(not os.path.exists("/proc/net/tcp"), reason="reads the listening sockets from /proc")
def test_serve_binds_to_localhost_only_by_default(demo_db):
    proc, port = start_server(demo_db)
    try:
        assert listening_addresses(port) == {"127.0.0.1"}  # not 0.0.0.0: no other machine reaches it
    finally:
        stop(proc)


def test_each_browser_runs_the_app_as_the_servers_me_and_read_only_is_a_follower(tmp_path):
    db = tmp_path / "team.db"
    assert app_command(db, "ana", read_only=False) == shlex.join(
        [sys.executable, "-m", "opsweek", "--db", str(db), "--me", "ana", "tui"])
    assert shlex.split(app_command(db, "ana; rm -rf ~", read_only=True))[-4:] == [
        "--me", "ana; rm -rf ~", "meeting", "--follow"]


def test_serve_refuses_a_missing_database_in_one_line(tmp_path):
    done = subprocess.run([sys.executable, "-m", "opsweek", "--db", str(tmp_path / "none.db"), "serve",
                           "--port", str(free_port())], capture_output=True, text=True, timeout=60)
    assert done.returncode == 3
    assert done.stderr.startswith("opsweek: no opsweek database at") and "Traceback" not in done.stderr


def test_serve_refuses_a_port_that_is_not_one(demo_db):
    done = subprocess.run([sys.executable, "-m", "opsweek", "--db", str(demo_db), "serve", "--port", "99999"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "is not a port (accepted: 1–65535)" in done.stderr
