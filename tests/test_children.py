"""`python -m bot` starts the sandbox HR API as a child process when no HR API is configured."""

from __future__ import annotations

import socket

import pytest
import requests

from bot.children import ChildFailed, start_sandbox


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_sandbox_child_serves_until_stopped(tmp_path):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    child = start_sandbox(url, port, str(tmp_path / "hr.sqlite3"))
    try:
        assert requests.get(f"{url}/api/users/2", timeout=5).json()["data"]["first_name"] == "Janet"
    finally:
        child.stop()
    assert child.process.returncode is not None
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{url}/api/users/2", timeout=2)


def test_a_taken_port_is_one_clear_line(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ChildFailed) as failed:
            start_sandbox(f"http://127.0.0.1:{port}", port, str(tmp_path / "hr.sqlite3"))
    assert str(failed.value).startswith(f"Cannot start the sandbox HR API on port {port}")
    assert "Traceback" not in str(failed.value)
