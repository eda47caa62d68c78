"""Socket Mode: the same bot over the WebSocket that apps.connections.open hands out."""

from __future__ import annotations

from approvals.cards import APPROVE_ACTION_ID
from sandbox.scripted_model import rest, say, tool_calls
from tests.slack_harness import HR_CHANNEL, Stack, click_payload, event_body, mention_event


def test_events_and_clicks_arrive_over_the_socket_and_are_acked_by_envelope_id(tmp_path):
    stack = Stack(tmp_path, SLACK_APP_TOKEN="xapp-test-token", SLACK_SIGNING_SECRET=None).start()
    try:
        assert stack.slack.calls_to("apps.connections.open")[0].ok
        stack.model.add(
            tool_calls(rest("DELETE", "/api/users/9")),
            say("Deleting Tobias Funke is waiting for an approver (#1)."),
        )
        event = mention_event("U0DANA", "delete employee 9")

        envelope = stack.slack.send_envelope("events_api", event_body(event))

        assert stack.slack.wait_for_ack(envelope) == {"envelope_id": envelope}
        replies = stack.replies(HR_CHANNEL, event["ts"], count=2)
        assert replies[-1].text == "Deleting Tobias Funke is waiting for an approver (#1)."
        (card,) = stack.approval_cards()
        value = stack.button(card, APPROVE_ACTION_ID)
        click = click_payload(
            "U0BOB", APPROVE_ACTION_ID, value, channel=card.channel, message_ts=card.ts
        )

        clicked = stack.slack.send_envelope("interactive", click)

        assert stack.slack.wait_for_ack(clicked)["envelope_id"] == clicked
        outcome = stack.replies(HR_CHANNEL, event["ts"], count=3)[-1]
        assert "HR API answered 204" in outcome.text
        assert stack.hr.directory.get(9) is None
    finally:
        stack.stop()
    stack.model.assert_consumed()
