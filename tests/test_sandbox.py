from __future__ import annotations

import requests

from sandbox import HRSandbox


def test_pages_are_reqres_shaped(hr_sandbox):
    first = requests.get(hr_sandbox.url + "/api/users", timeout=5).json()
    assert {k: first[k] for k in ("page", "per_page", "total", "total_pages")} == {
        "page": 1,
        "per_page": 6,
        "total": 20,
        "total_pages": 4,
    }
    assert set(first["data"][0]) == {"id", "email", "first_name", "last_name", "job"}
    last = requests.get(hr_sandbox.url + "/api/users?page=4", timeout=5).json()
    assert [u["id"] for u in last["data"]] == [19, 20]
    assert requests.get(hr_sandbox.url + "/api/users?page=9", timeout=5).json()["data"] == []


def test_one_user_and_unknown_ids(hr_sandbox):
    one = requests.get(hr_sandbox.url + "/api/users/9", timeout=5)
    assert one.json()["data"]["first_name"] == "Tobias"
    assert requests.get(hr_sandbox.url + "/api/users/99", timeout=5).status_code == 404
    assert requests.get(hr_sandbox.url + "/api/nothing", timeout=5).status_code == 404


def test_create_update_delete(hr_sandbox):
    url = hr_sandbox.url + "/api/users"
    created = requests.post(url, json={"name": "Neo Anderson", "job": "engineer"}, timeout=5)
    assert created.status_code == 201
    new_id = created.json()["id"]
    assert created.json()["name"] == "Neo Anderson"
    put = requests.put(f"{url}/{new_id}", json={"job": "the one"}, timeout=5)
    assert put.status_code == 200 and put.json()["job"] == "the one"
    patch = requests.patch(f"{url}/{new_id}", json={"name": "Thomas Anderson"}, timeout=5)
    assert patch.json()["first_name"] == "Thomas"
    assert requests.delete(f"{url}/{new_id}", timeout=5).status_code == 204
    assert requests.delete(f"{url}/{new_id}", timeout=5).status_code == 404


def test_bad_bodies_get_400_with_a_json_error(hr_sandbox):
    url = hr_sandbox.url + "/api/users"
    for body in (b"{", b"[1]", b'{"job": "x"}', b'{"name": "A", "salary": 5}', b'{"name": 5}'):
        response = requests.post(
            url, data=body, headers={"Content-Type": "application/json"}, timeout=5
        )
        assert response.status_code == 400 and response.json()["error"]
    assert requests.put(url + "/2", json={}, timeout=5).status_code == 400


def test_a_repeated_idempotency_key_does_not_repeat_the_write(hr_sandbox):
    url = hr_sandbox.url + "/api/users"
    headers = {"Idempotency-Key": "42"}
    first = requests.post(url, json={"name": "Neo A", "job": "x"}, headers=headers, timeout=5)
    again = requests.post(url, json={"name": "Neo A", "job": "x"}, headers=headers, timeout=5)
    assert first.json() == again.json()
    assert requests.get(url + "?page=4", timeout=5).json()["total"] == 21


def test_changes_persist_across_restarts(tmp_path):
    path = tmp_path / "hr.sqlite3"
    with HRSandbox(path) as hr:
        requests.delete(hr.url + "/api/users/1", timeout=5)
    with HRSandbox(path) as hr:
        assert requests.get(hr.url + "/api/users/1", timeout=5).status_code == 404
        assert requests.get(hr.url + "/api/users", timeout=5).json()["total"] == 19


def test_a_configured_token_is_required(tmp_path):
    with HRSandbox(tmp_path / "hr.sqlite3", token="t0ken") as hr:
        assert requests.get(hr.url + "/api/users", timeout=5).status_code == 401
        wrong = {"Authorization": "Bearer nope"}
        assert requests.get(hr.url + "/api/users", headers=wrong, timeout=5).status_code == 401
        right = {"Authorization": "Bearer t0ken"}
        assert requests.get(hr.url + "/api/users", headers=right, timeout=5).status_code == 200
