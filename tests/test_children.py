"""`python -m bot` starts the sandbox HR API as a child process when no HR API is configured."""

from __future__ import annotations

import os
import socket

import pytest
import requests

from bot.children import ChildFailed, start_sandbox


def free_port() -> int:
    return free_ports(1)[0]


def free_ports(count: int) -> list[int]:
    """`count` distinct free ports: all are held while they are picked, so none comes twice."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def test_the_sandbox_child_serves_until_stopped(tmp_path):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    child = start_sandbox(port, str(tmp_path / "hr.sqlite3"))
    try:
        assert requests.get(f"{url}/api/users/2", timeout=5).json()["data"]["first_name"] == "Janet"
    finally:
        child.stop()
    assert child.process.returncode == 0  # it stopped by itself when its stdin closed
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{url}/api/users/2", timeout=2)


def test_a_taken_port_is_one_clear_line(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ChildFailed) as failed:
            start_sandbox(port, str(tmp_path / "hr.sqlite3"))
    assert str(failed.value).startswith(f"Cannot start the sandbox HR API on port {port}")
    assert "Traceback" not in str(failed.value)


def test_the_child_stops_when_its_parent_dies_without_cleaning_up(tmp_path):
    port = free_port()
    child = start_sandbox(port, str(tmp_path / "hr.sqlite3"))
    try:
        child.process.stdin.close()  # what the kernel does for a parent killed with SIGKILL
        assert child.process.wait(timeout=10) == 0
    finally:
        child.stop()


def test_the_child_does_not_get_the_terminals_ctrl_c(tmp_path):
    child = start_sandbox(free_port(), str(tmp_path / "hr.sqlite3"))
    try:
        assert os.getpgid(child.process.pid) != os.getpgid(0)  # its own process group
    finally:
        child.stop()
