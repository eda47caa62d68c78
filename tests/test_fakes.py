"""The shared doubles match the Protocols the real classes satisfy, method by method, so a
change to a real signature fails here instead of letting a test pass against a stale double."""

from __future__ import annotations

import inspect
from typing import Protocol

import pytest

from approvals.announce import Announcements, Announcer
from approvals.authority import Authority, SharedToken
from approvals.executor import Transport
from bot.hr_authority import PersonalAuthority
from bot.hr_client import HRClient
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
