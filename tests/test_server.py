"""Serving through waitress: a graceful stop from another thread."""

from __future__ import annotations

import threading

import pytest
import requests

from bot.slack.server import HttpServer


def test_a_request_under_way_when_the_server_stops_is_still_answered():
    started, release = threading.Event(), threading.Event()

    def slow(environ, start_response):
        started.set()
        release.wait(10)
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "4")])
        return [b"done"]

    server = HttpServer(slow, host="127.0.0.1", port=0, threads=2).start()
    url = f"http://127.0.0.1:{server.port}/"
    answers: list[requests.Response] = []
    client = threading.Thread(target=lambda: answers.append(requests.get(url, timeout=10)))
    client.start()
    assert started.wait(10)
    stopper = threading.Thread(target=server.stop)
    stopper.start()
    stopper.join(0.3)
    assert stopper.is_alive()  # it waits for the request under way
    release.set()
    stopper.join(10)
    client.join(10)
    assert not stopper.is_alive()
    assert [(a.status_code, a.text) for a in answers] == [(200, "done")]
    with pytest.raises(requests.ConnectionError):
        requests.get(url, timeout=2)


def test_idle_keep_alive_connections_do_not_hold_up_the_stop():
    def hello(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
        return [b"hi"]

    server = HttpServer(hello, host="127.0.0.1", port=0, threads=2).start()
    with requests.Session() as session:  # keeps its connection open after the answer
        assert session.get(f"http://127.0.0.1:{server.port}/", timeout=5).text == "hi"
        stopper = threading.Thread(target=server.stop)
        stopper.start()
        stopper.join(5)
        assert not stopper.is_alive()
