"""Socket Mode: the same bot over the WebSocket that apps.connections.open hands out."""

from __future__ import annotations

import requests

from approvals.slack.cards import APPROVE_ACTION_ID
from sandbox.scripted_model import rest, say, tool_calls
from tests.slack_harness import HR_CHANNEL, Stack, click_payload, event_body, mention_event


def test_events_and_clicks_arrive_over_the_socket_and_are_acked_by_envelope_id(tmp_path):
    stack = Stack(tmp_path, SLACK_APP_TOKEN="xapp-test-token", SLACK_SIGNING_SECRET=None).start()
    try:
        assert stack.slack.calls_to("apps.connections.open")[0].ok
        stack.model.add(tool_calls(rest("DELETE", "/api/users/9")))
        event = mention_event("U0DANA", "delete employee 9")

        envelope = stack.slack.send_envelope("events_api", event_body(event))

        assert stack.slack.wait_for_ack(envelope) == {"envelope_id": envelope}
        (notice,) = stack.replies(HR_CHANNEL, event["ts"])  # the held change's notice answers
        assert notice.text.startswith("Sent for approval (#1): Delete employee `Tobias Funke` (#9)")
        (card,) = stack.approval_cards()
        value = stack.button(card, APPROVE_ACTION_ID)
        click = click_payload(
            "U0BOB", APPROVE_ACTION_ID, value, channel=card.channel, message_ts=card.ts
        )

        clicked = stack.slack.send_envelope("interactive", click)

        assert stack.slack.wait_for_ack(clicked)["envelope_id"] == clicked
        outcome = stack.replies(HR_CHANNEL, event["ts"], count=2)[-1]
        assert "Done: " in outcome.text
        assert stack.hr.directory.get(9) is None
    finally:
        stack.stop()
    stack.model.assert_consumed()


def test_in_socket_mode_the_port_serves_the_hr_sign_in_callback_only(tmp_path):
    stack = Stack(
        tmp_path, oauth=True, SLACK_APP_TOKEN="xapp-test-token", SLACK_SIGNING_SECRET=None
    ).start()
    try:
        stack.model.add(say("Hello, Dana."))
        event = mention_event("U0DANA", "hello")
        stack.slack.send_envelope("events_api", event_body(event))

        page = stack.connect("U0DANA")

        assert page.status_code == 200 and "connected" in page.text
        assert stack.replies(HR_CHANNEL, event["ts"])[0].text == "Hello, Dana."
        events = requests.post(f"{stack.public_url}/slack/events", data=b"{}", timeout=5)
        assert events.status_code == 404  # Slack's events come over the socket, not here
    finally:
        stack.stop()
