"""The local workspace's server without a browser: what it sends the bot is what Slack would."""

from __future__ import annotations

import requests

from sandbox.scripted_model import say
from sandbox.workspace import Workspace
from tests.slack_harness import Stack


def test_typed_text_reaches_the_bot_escaped_as_slack_escapes_it(tmp_path):
    stack = Stack(tmp_path, workspace=True, REQUESTERS="U0DANA").start()
    try:
        stack.model.add(say("Noted."))
        typed = "set dana@hr.example & hrbot@x.example as <b>leads</b>, @HR Assistant"
        answer = requests.post(
            stack.slack.base_url + "/workspace/say",
            json={"as": "U0DANA", "channel": "D0DANA", "text": typed},
            timeout=5,
        )
        stack.slack.wait_for(lambda: stack.slack.thread("D0DANA", answer.json()["ts"]))
        (stored,) = [m for m in stack.slack.messages.values() if m.user == "U0DANA"]
        assert stored.text == (
            "set dana@hr.example &amp; hrbot@x.example as &lt;b&gt;leads&lt;/b&gt;, <@U0HRBOT>"
        )
        asked = stack.model.requests[0]["messages"][-1]["content"]
        assert "dana@hr.example & hrbot@x.example as <b>leads</b>" in asked  # emails intact
    finally:
        stack.stop()


def test_the_page_answers_only_under_its_own_name(tmp_path):
    with Workspace(bot_token="xoxb-t") as workspace:
        port = workspace.base_url.rsplit(":", 1)[1]
        ok = requests.get(workspace.base_url + "/", timeout=5)
        rebound = requests.get(
            workspace.base_url + "/workspace/state",
            headers={"Host": f"attacker.example:{port}"},
            timeout=5,
        )
        form = requests.post(
            workspace.base_url + "/workspace/say",
            data={"as": "U0DANA", "channel": "D0DANA", "text": "hi"},
            timeout=5,
        )
    assert ok.status_code == 200 and rebound.status_code == 421
    assert form.status_code == 403  # only the page's own JSON, never another site's form


def test_the_conversation_survives_a_restart(tmp_path):
    state = tmp_path / "workspace.json"
    with Workspace(bot_token="xoxb-t", state=state) as workspace:
        workspace.say({"as": "U0DANA", "channel": "C0HR", "text": "hello everyone"})
    with Workspace(bot_token="xoxb-t", state=state) as again:
        shown = again.state("U0DANA")["messages"]
    assert [m["text"] for m in shown] == ["hello everyone"]
