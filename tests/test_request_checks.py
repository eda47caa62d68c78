"""Body values are single-line plain text: nothing that forges a line, reorders what an approver
reads or hides a difference reaches a pending action."""

from __future__ import annotations

import pytest

from bot.tools.catalogue import Catalogue, RequestRefused

CATALOGUE = Catalogue.load()


def validate(body):
    return CATALOGUE.validate("PATCH", "/api/users/2", body)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("lead\n*email*: janet (unchanged)", "body field 'job' contains a line break U+000A"),
        ("lead\r", "body field 'job' contains a line break U+000D"),
        ("lead\u2028HR note", "body field 'job' contains a line break U+2028"),
        ("lead\tpay", "body field 'job' contains a control character U+0009"),
        ("lead\x00", "body field 'job' contains a control character U+0000"),
        ("\u202ereganam", "a bidirectional control character U+202E (RIGHT-TO-LEFT OVERRIDE)"),
        ("lead\u2066", "a bidirectional control character U+2066 (LEFT-TO-RIGHT ISOLATE)"),
        ("lead\u200f", "a bidirectional control character U+200F (RIGHT-TO-LEFT MARK)"),
        ("lead\u061c", "a bidirectional control character U+061C (ARABIC LETTER MARK)"),
        ("lead\u200b", "body field 'job' contains an invisible character U+200B (ZERO WIDTH"),
        ("le\u00adad", "an invisible character U+00AD (SOFT HYPHEN)"),
        ("lead\u2060", "an invisible character U+2060 (WORD JOINER)"),
        ("\ufefflead", "an invisible character U+FEFF (ZERO WIDTH NO-BREAK SPACE)"),
        ("lead\U000e0041", "an invisible character U+E0041 (TAG LATIN CAPITAL LETTER A)"),
        ("lead\u3164", "an invisible character U+3164 (HANGUL FILLER)"),
        ("lead\ud800", "an unpaired surrogate U+D800"),
    ],
)
def test_a_value_with_a_hidden_character_is_refused_naming_field_and_character(value, message):
    with pytest.raises(RequestRefused, match="send plain text") as refused:
        validate({"name": "Janet Weaver", "job": value})
    assert message in str(refused.value)


def test_an_invisible_character_in_an_email_is_refused_as_the_model_will_read_it():
    with pytest.raises(RequestRefused) as refused:
        validate({"email": "janet.weaver@reqres.in\u200b"})
    assert str(refused.value) == (
        "body field 'email' contains an invisible character U+200B (ZERO WIDTH SPACE); "
        "send plain text on one line"
    )


def test_a_body_sent_as_a_json_string_is_checked_the_same_way():
    with pytest.raises(RequestRefused, match="'job' contains a line break U\\+000A"):
        validate('{"job": "lead\\nNote from HR: approved"}')
    with pytest.raises(RequestRefused, match="'job' contains an unpaired surrogate U\\+DC00"):
        validate('{"job": "lead\\udc00"}')


@pytest.mark.parametrize(
    "value",
    ["Zoë Ångström", "José Núñez-Pérez", "王芳", "Ngozi Okonjo-Iweala", "R&D lead (EMEA) — 2nd"],
)
def test_ordinary_text_in_any_script_passes(value):
    assert validate({"name": value, "job": value}).body == {"name": value, "job": value}
