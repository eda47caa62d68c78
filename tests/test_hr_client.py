from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bot.hr.client import MAX_RESPONSE_BYTES, HRClient, HRError
from sandbox import HRSandbox


class _Odd(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", f"http://127.0.0.1:{self.server.trap_port}/stolen")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path == "/huge":
            body = b"x" * (MAX_RESPONSE_BYTES + 10)
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        else:
            self.server.trap_hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()


@pytest.fixture
def odd_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Odd)
    server.trap_hits = []
    server.trap_port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_a_redirect_is_returned_not_followed(odd_server):
    client = HRClient(f"http://127.0.0.1:{odd_server.server_address[1]}")
    response = client.request("GET", "/redirect")
    assert response.status == 302
    assert odd_server.trap_hits == []


def test_an_oversized_answer_is_refused(odd_server):
    client = HRClient(f"http://127.0.0.1:{odd_server.server_address[1]}")
    with pytest.raises(HRError, match="larger than 1 MiB"):
        client.request("GET", "/huge")


def test_the_bearer_token_is_sent_on_every_request(tmp_path):
    with HRSandbox(tmp_path / "hr.sqlite3", token="s3cret-token") as hr:
        assert HRClient(hr.url).request("GET", "/api/users").status == 401
        authed = HRClient(hr.url, token="s3cret-token")
        assert authed.request("GET", "/api/users").status == 200
        assert authed.request("DELETE", "/api/users/1").status == 204
        assert all(r.headers.get("Authorization") == "Bearer s3cret-token" for r in hr.seen[1:])


def test_a_201_body_is_kept(hr_client):
    response = hr_client.request(
        "POST", "/api/users", body={"name": "Neo Anderson", "job": "engineer"}
    )
    assert response.status == 201 and response.body["id"] == 21


def test_a_base_url_path_prefix_is_kept(hr_sandbox):
    client = HRClient(hr_sandbox.url + "/api/")
    assert client.url_for("/users/2") == hr_sandbox.url + "/api/users/2"


@pytest.mark.parametrize("path", ["//evil.example/x", "http://evil.example/", "x", "\\\\evil"])
def test_nothing_leaves_the_base_url_even_if_asked_directly(path, hr_sandbox):
    with pytest.raises(HRError) as refused:
        HRClient(hr_sandbox.url).request("GET", path)
    assert refused.value.request_sent is False
    assert hr_sandbox.seen == []
