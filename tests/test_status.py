"""While the bot works: the "is thinking…" status in a direct message (the reaction where Slack
refuses it, and in channels), and long answers streamed, posted where streaming is refused."""

from __future__ import annotations

import pytest
import requests
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.conversation.replies import RECEIVED_REACTION
from bot.slack.streaming import as_markdown, is_long, pieces
from sandbox.fake_slack import TEAM_ID, FakeSlack
from sandbox.scripted_model import say
from tests.slack_harness import HR_CHANNEL, Stack, dm_event, mention_event

SET_STATUS = "assistant.threads.setStatus"
LONG_ANSWER = "\n".join(
    f"Line {n}: Janet Weaver has worked in payroll since 2019 and reports to the finance lead "
    f"in the Leeds office, with {n} open requests."
    for n in range(1, 9)
)


def methods(stack: Stack) -> list[str]:
    return [c.method for c in stack.slack.calls if c.ok]


def statuses(stack: Stack) -> list[str]:
    return [c.args["status"] for c in stack.slack.calls_to(SET_STATUS) if c.ok]


def finished(stack: Stack, count: int = 1) -> None:
    """Until `count` DM answers are over: the status cleared or the reaction taken back."""
    stack.slack.wait_for(
        lambda: statuses(stack).count("") + len(stack.slack.calls_to("reactions.remove")) >= count
    )


# --- the status ------------------------------------------------------------------------------


def two_answered_dms(stack) -> tuple[dict, dict]:
    """Two DMs in a row, each answered and finished before the next is sent."""
    stack.model.add(say("First."), say("Second."))
    first, second = dm_event("U0DANA", "one"), dm_event("U0DANA", "two")
    for count, event in enumerate((first, second), start=1):
        stack.send_event(event)
        stack.replies(event["channel"], event["ts"])
        finished(stack, count)
    return first, second


def test_a_direct_message_shows_the_thinking_status_until_the_answer(stack):
    stack.model.add(say("Hello from HR."))
    event = dm_event("U0DANA", "hello")

    stack.send_event(event)

    (reply,) = stack.replies(event["channel"], event["ts"])
    finished(stack)
    shown, cleared = stack.slack.calls_to(SET_STATUS)
    assert shown.args["channel_id"] == event["channel"] and shown.args["thread_ts"] == event["ts"]
    assert shown.args["status"] and shown.args["loading_messages"]
    assert cleared.args == {"channel_id": event["channel"], "thread_ts": event["ts"], "status": ""}
    assert methods(stack)[-3:] == [SET_STATUS, "chat.postMessage", SET_STATUS]
    assert reply.text == "Hello from HR."
    assert stack.slack.statuses == {}
    assert stack.slack.calls_to("reactions.add") == []


def test_the_reaction_stands_in_when_slack_refuses_the_status_and_it_is_not_asked_again(stack):
    stack.slack.lack_scope(SET_STATUS, "assistant:write")
    first, second = two_answered_dms(stack)

    (refused,) = stack.slack.calls_to(SET_STATUS)  # once per process, not per message
    assert refused.error == "missing_scope"
    added = [c.args for c in stack.slack.calls_to("reactions.add")]
    assert [(a["timestamp"], a["name"]) for a in added] == [
        (first["ts"], RECEIVED_REACTION),
        (second["ts"], RECEIVED_REACTION),
    ]
    assert stack.slack.reactions[(first["channel"], second["ts"])] == set()


def test_a_status_call_that_fails_once_is_not_taken_for_a_refusal(stack):
    stack.slack.fail(SET_STATUS, "internal_error")
    first, _ = two_answered_dms(stack)

    assert [c.args["timestamp"] for c in stack.slack.calls_to("reactions.add")] == [first["ts"]]
    assert statuses(stack)[0] and statuses(stack)[1:] == [""]  # the second one had the status


def test_a_mention_in_a_channel_keeps_the_reaction(stack):
    stack.model.add(say("Janet Weaver."))
    event = mention_event("U0DANA", "who is employee 2?")

    stack.send_event(event)

    stack.replies(HR_CHANNEL, event["ts"])
    finished(stack)
    assert stack.slack.calls_to("reactions.add")[0].args["timestamp"] == event["ts"]
    assert stack.slack.calls_to(SET_STATUS) == []
    assert stack.slack.calls_to("chat.startStream") == []


# --- streamed answers ------------------------------------------------------------------------


def test_a_long_answer_in_a_direct_message_is_streamed_into_its_thread(stack):
    stack.model.add(say(LONG_ANSWER))
    event = dm_event("U0DANA", "tell me everything about Janet")

    stack.send_event(event)

    (reply,) = stack.replies(event["channel"], event["ts"])
    finished(stack)
    (start,) = stack.slack.calls_to("chat.startStream")
    appends = stack.slack.calls_to("chat.appendStream")
    (stop,) = stack.slack.calls_to("chat.stopStream")
    assert start.args["channel"] == event["channel"] and start.args["thread_ts"] == event["ts"]
    assert start.args["recipient_user_id"] == "U0DANA"
    assert start.args["recipient_team_id"] == TEAM_ID
    assert appends and all(c.ok and c.args["ts"] == reply.ts for c in appends)
    assert stop.ok and stop.args["ts"] == reply.ts
    assert reply.text == LONG_ANSWER and not reply.streaming
    assert stack.slack.calls_to("chat.postMessage") == []
    assert statuses(stack)[-1] == "" and stack.slack.statuses == {}


def test_a_short_answer_is_posted_not_streamed(stack):
    stack.model.add(say("Janet Weaver is in payroll."))
    event = dm_event("U0DANA", "who is Janet?")

    stack.send_event(event)

    (reply,) = stack.replies(event["channel"], event["ts"])
    finished(stack)
    assert reply.text == "Janet Weaver is in payroll."
    assert stack.slack.calls_to("chat.startStream") == []


def test_a_long_answer_in_a_channel_is_posted(stack):
    stack.model.add(say(LONG_ANSWER))
    event = mention_event("U0DANA", "tell me everything about Janet")

    stack.send_event(event)

    (reply,) = stack.replies(HR_CHANNEL, event["ts"])
    finished(stack)
    assert reply.text == LONG_ANSWER
    assert stack.slack.calls_to("chat.startStream") == []


def test_a_long_answer_is_posted_when_slack_refuses_streaming_and_it_is_not_asked_again(stack):
    stack.slack.fail("chat.startStream", "access_denied")
    stack.model.add(say(LONG_ANSWER), say(LONG_ANSWER + "\nAgain."))
    first, second = dm_event("U0DANA", "everything"), dm_event("U0DANA", "again")

    stack.send_event(first)
    (posted,) = stack.replies(first["channel"], first["ts"])
    finished(stack)
    stack.send_event(second)
    (again,) = stack.replies(second["channel"], second["ts"])
    finished(stack, 2)

    assert posted.text == LONG_ANSWER and again.text == LONG_ANSWER + "\nAgain."
    (refused,) = stack.slack.calls_to("chat.startStream")  # the next answer did not ask
    assert refused.error == "access_denied"
    assert len(stack.slack.calls_to("chat.postMessage")) == 2


def test_a_stream_that_breaks_midway_still_ends_with_the_whole_answer(stack):
    stack.slack.fail("chat.appendStream", "internal_error", times=10)
    stack.model.add(say(LONG_ANSWER))
    event = dm_event("U0DANA", "everything")

    stack.send_event(event)

    (reply,) = stack.replies(event["channel"], event["ts"])
    finished(stack)
    assert reply.text == LONG_ANSWER  # the rest came with the stop
    assert stack.slack.calls_to("chat.postMessage") == []


def test_a_stream_that_cannot_start_is_posted_and_streaming_is_tried_next_time(stack):
    stack.slack.fail("chat.startStream", "internal_error")
    stack.model.add(say(LONG_ANSWER), say(LONG_ANSWER))
    first, second = dm_event("U0DANA", "everything"), dm_event("U0DANA", "again")

    stack.send_event(first)
    (posted,) = stack.replies(first["channel"], first["ts"])
    finished(stack)
    stack.send_event(second)
    (streamed,) = stack.replies(second["channel"], second["ts"])
    finished(stack, 2)

    assert posted.text == streamed.text == LONG_ANSWER
    assert [c.ok for c in stack.slack.calls_to("chat.startStream")] == [False, True]


def test_the_workspace_page_shows_a_streamed_answer(tmp_path):
    stack = Stack(tmp_path, workspace=True, REQUESTERS="U0DANA").start()
    try:
        stack.model.add(say(LONG_ANSWER))
        said = requests.post(
            stack.slack.base_url + "/workspace/say",
            json={"as": "U0DANA", "channel": "D0DANA", "text": "everything about Janet"},
            timeout=5,
        )
        stack.replies("D0DANA", said.json()["ts"])
        shown = [m["text"] for m in stack.slack.state("U0DANA")["messages"]]
        assert shown == ["everything about Janet", LONG_ANSWER]
    finally:
        stack.stop()


# --- the Markdown a stream carries -----------------------------------------------------------


def test_a_streamed_answer_can_form_no_markdown_link_or_image():
    text = "see [the form](https://evil.example) or ![x](https://evil.example/p.png) \\[a](b)"
    streamed = as_markdown(text)
    assert streamed == (
        "see \\[the form\\](https://evil.example) or !\\[x\\](https://evil.example/p.png) "
        "\\\\\\[a\\](b)"
    )


def test_mrkdwn_bold_and_strike_are_respelled_for_markdown_but_code_is_left_alone():
    assert as_markdown("*Janet* is ~gone~ _back_") == "**Janet** is ~~gone~~ _back_"
    assert as_markdown("2*3*4 and `*[x]*` and ```\n[a](b)\n```") == (
        "2*3*4 and `*[x]*` and ```\n[a](b)\n```"
    )


def test_an_answer_is_long_from_five_lines_or_six_hundred_characters():
    assert not is_long("one\ntwo\nthree\nfour")
    assert is_long("one\ntwo\nthree\nfour\nfive")
    assert is_long("x" * 601) and not is_long("x" * 600)


def test_a_streamed_answer_is_cut_at_line_ends_and_nothing_is_lost():
    parts = pieces(LONG_ANSWER)
    assert len(parts) > 1 and "".join(parts) == LONG_ANSWER
    assert all(p.endswith("\n") for p in parts[:-1])
    assert pieces("") == [""]


# --- the fake is as strict as Slack ----------------------------------------------------------


@pytest.fixture
def slack():
    with FakeSlack() as fake:
        yield fake, WebClient(token=fake.bot_token, base_url=fake.api_url)


def error(call) -> str:
    with pytest.raises(SlackApiError) as raised:
        call()
    return raised.value.response["error"]


def test_the_fake_checks_set_status_as_slack_does(slack):
    fake, client = slack
    ts = "1700000001.000002"

    def status(**args):
        return lambda: client.assistant_threads_setStatus(**{"status": "is thinking…", **args})

    assert error(status(channel_id="nowhere", thread_ts=ts)) == "channel_not_found"
    assert error(status(channel_id="D0DANA", thread_ts="yesterday")) == "invalid_thread_ts"
    many = [f"step {n}" for n in range(11)]
    assert error(status(channel_id="D0DANA", thread_ts=ts, loading_messages=many)) == (
        "invalid_arguments"
    )
    status(channel_id="D0DANA", thread_ts=ts, loading_messages=many[:10])()
    assert fake.statuses == {("D0DANA", ts): "is thinking…"}
    client.chat_postMessage(channel="D0DANA", thread_ts=ts, text="Done.")
    assert fake.statuses == {}  # the bot answered in the thread
    fake.lack_scope(SET_STATUS, "assistant:write")
    with pytest.raises(SlackApiError) as refused:
        status(channel_id="D0DANA", thread_ts=ts)()
    assert refused.value.response["error"] == "missing_scope"
    assert refused.value.response["needed"] == "assistant:write"


def test_the_fake_checks_streams_as_slack_does(slack):
    fake, client = slack
    ts = "1700000001.000002"

    def start(**args):
        return lambda: client.chat_startStream(**{"thread_ts": ts, **args})

    assert error(start(channel="C0HR")) == "missing_recipient_team_id"
    assert error(start(channel="C0HR", recipient_team_id=TEAM_ID)) == "missing_recipient_user_id"
    assert error(start(channel="D0DANA", thread_ts="yesterday")) == "invalid_thread_ts"
    assert error(lambda: client.chat_appendStream(channel="D0DANA", ts=ts, markdown_text="x")) == (
        "message_not_found"
    )
    stream = start(channel="D0DANA", markdown_text="Hello")()["ts"]
    assert fake.thread("D0DANA", ts) == []  # still streaming
    assert error(lambda: client.chat_appendStream(channel="D0DANA", ts=stream)) == (
        "invalid_arguments"
    )
    client.chat_appendStream(channel="D0DANA", ts=stream, markdown_text=", Dana")
    client.chat_stopStream(channel="D0DANA", ts=stream, markdown_text=".")
    (message,) = fake.thread("D0DANA", ts)
    assert message.text == "Hello, Dana." and not message.streaming
    assert error(lambda: client.chat_stopStream(channel="D0DANA", ts=stream)) == (
        "message_not_in_streaming_state"
    )


def test_backtick_runs_of_different_lengths_make_no_code_span_that_could_hide_a_link():
    # CommonMark closes a code span only with a run as long as the opening one; anything else
    # is text, where a link could form, so its brackets are escaped.
    assert as_markdown("`[click](https://evil.example)``") == (
        "`\\[click\\](https://evil.example)``"
    )
    assert as_markdown("````[x](u)```") == "````\\[x\\](u)```"
    assert as_markdown("see `[a]` and ``b`` [c]") == "see `[a]` and ``b`` \\[c\\]"
