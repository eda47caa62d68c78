"""The shared doubles match the Protocols the real classes satisfy, method by method, so a
change to a real signature fails here instead of letting a test pass against a stale double;
and the fake Slack refuses what Slack refuses, so a test cannot pass on what Slack would not
take."""

from __future__ import annotations

import inspect
from typing import Protocol

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from approvals.authority import Authority, SharedToken
from approvals.executor import Transport
from approvals.slack.announce import Announcements, Announcer
from bot.hr.authority import PersonalAuthority
from bot.hr.client import HRClient
from sandbox.fake_slack import FakeSlack, SlackError, check_blocks
from sandbox.workspace import Workspace
from tests.fakes import CountingHR, LinkedAccounts, QuietAnnouncer, RecordingTransport


def protocol_methods(protocol: type) -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(member)
        for name, member in vars(protocol).items()
        if callable(member) and not name.startswith("_")
    }


def parameters(signature: inspect.Signature) -> list[tuple[str, inspect._ParameterKind]]:
    return [(p.name, p.kind) for p in signature.parameters.values()]


@pytest.mark.parametrize(
    ("protocol", "implementation"),
    [
        (Announcements, Announcer),
        (Announcements, QuietAnnouncer),
        (Transport, HRClient),
        (Transport, CountingHR),
        (Transport, RecordingTransport),
        (Authority, SharedToken),
        (Authority, PersonalAuthority),
        (Authority, LinkedAccounts),
    ],
)
def test_every_double_and_real_class_has_each_protocol_method_with_its_parameters(
    protocol: type[Protocol], implementation: type
):
    for name, signature in protocol_methods(protocol).items():
        method = getattr(implementation, name, None)
        assert method is not None, f"{implementation.__name__} has no {name}"
        assert parameters(inspect.signature(method)) == parameters(signature), name


def test_the_check_notices_a_missing_parameter():
    class Drifted:
        def tell(self, channel, text):  # `user` dropped
            pass

    signature = protocol_methods(Announcements)["tell"]
    assert parameters(inspect.signature(Drifted.tell)) != parameters(signature)


# --- the fake Slack refuses what Slack refuses -------------------------------------------------


def test_the_fake_refuses_a_home_view_slack_would_refuse():
    with FakeSlack() as fake:
        client = WebClient(token=fake.bot_token, base_url=fake.api_url)
        section = {"type": "section", "text": {"type": "mrkdwn", "text": "Waiting for you"}}

        def publish(view, user="U0BOB"):
            with pytest.raises(SlackApiError) as refused:
                client.views_publish(user_id=user, view=view)
            return refused.value.response["error"]

        assert publish({"type": "home", "blocks": [section] * 101}) == "invalid_blocks"
        assert publish({"type": "home", "blocks": [{"type": "no_such_block"}]}) == "invalid_blocks"
        long = {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}
        assert publish({"type": "home", "blocks": [long]}) == "invalid_blocks"
        twice = {**section, "block_id": "same"}
        assert publish({"type": "home", "blocks": [twice, twice]}) == "invalid_blocks"
        assert publish({"type": "modal", "blocks": [section]}) == "invalid_arguments"
        assert publish({"type": "home", "blocks": [section]}, user="U0NOBODY") == "user_not_found"
        assert fake.homes == {}
        client.views_publish(user_id="U0BOB", view={"type": "home", "blocks": [section] * 100})
        assert len(fake.homes["U0BOB"]["blocks"]) == 100  # a view may have 100 blocks


def test_the_fake_updates_only_a_modal_it_opened_and_the_page_only_one_still_open():
    section = {"type": "section", "text": {"type": "mrkdwn", "text": "Action #1"}}
    modal = {"type": "modal", "title": {"type": "plain_text", "text": "Action #1"}}
    with FakeSlack() as fake:
        client = WebClient(token=fake.bot_token, base_url=fake.api_url)
        refused = lambda method, **args: refused_on(client, method, **args)  # noqa: E731
        assert refused("views_update", view_id="V1", view={**modal, "blocks": []}) == "not_found"
        opened = client.views_open(trigger_id="1.2", view={**modal, "blocks": [section]})
        view_id = opened["view"]["id"]
        home = {"type": "home", "blocks": [section]}
        assert refused("views_update", view_id=view_id, view=home) == "invalid_arguments"
        client.views_update(view_id=view_id, view={**modal, "blocks": [section, section]})
        assert fake.view_updates == [(view_id, {**modal, "blocks": [section, section]})]

    with Workspace(bot_token="xoxb-workspace") as page:
        client = WebClient(token=page.bot_token, base_url=page.api_url)
        page.triggers["T1"] = "U0BOB"  # a click outside any modal: nothing to push onto
        assert refused_on(client, "views_push", trigger_id="T1", view=modal) == "invalid_trigger_id"
        opened = client.views_open(trigger_id="T1", view={**modal, "blocks": [section]})
        page.close_all("U0BOB")  # the page reloaded: the modal is gone, as in Slack
        view_id = opened["view"]["id"]
        assert refused_on(client, "views_update", view_id=view_id, view=modal) == "not_found"


def refused_on(client, method, **args) -> str:
    with pytest.raises(SlackApiError) as error:
        getattr(client, method)(**args)
    return error.value.response["error"]


@pytest.mark.parametrize(
    "run",
    [
        {"type": "text", "text": ""},
        {"type": "user", "user_id": "not a user"},
        {"type": "link", "url": "javascript:alert(1)", "text": "x"},
    ],
)
def test_the_fake_refuses_rich_text_slack_refuses(run):
    block = {"type": "rich_text", "elements": [{"type": "rich_text_section", "elements": [run]}]}
    with pytest.raises(SlackError) as refused:
        check_blocks([block])
    assert str(refused.value) == "invalid_blocks"
