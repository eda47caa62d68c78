"""Changes read the way people write them: the field named in the words is the field changed, a
name opening a sentence or in the possessive names its record, a rename or a marriage names it
as it is now, "his"/"her" after a question about one person names that person; a new record
only when people ask for one. None of it loosens the rule that a change goes only to a record
people named."""

from __future__ import annotations

import json

import pytest
import requests

from approvals import Thread
from bot.tools.catalogue import Catalogue
from bot.tools.context import ToolContext
from bot.tools.toolbox import Toolbox


@pytest.fixture
def typed(hr_client, actions) -> Toolbox:
    return Toolbox(Catalogue.load(), hr_client, actions, approval_ttl_seconds=3600, family="typed")


def asked(*said: str) -> ToolContext:
    return ToolContext("U0DANA", Thread("C0HR", "1.1"), words=tuple(("U0DANA", s) for s in said))


def call(toolbox: Toolbox, context: ToolContext, tool: str, **arguments) -> str:
    return toolbox.call(tool, json.dumps(arguments), context, "call_1").answer or ""


def test_the_field_the_words_name_is_the_field_changed(typed, actions):
    said = asked("Rachel Howell has been promoted to head of operations, please update her title")
    call(typed, said, "update_employee", employee="Rachel Howell", name="Head of Operations")
    (action,) = actions.in_states("pending")
    # the job, as the requester spelled it (the job field keeps their letter case)
    assert (action.path, action.body) == ("/api/users/12", {"job": "head of operations"})


def test_a_field_the_model_chose_stands_when_the_words_name_none_or_the_same(typed, actions):
    call(typed, asked("Eve Holt is eve@corp.example now"), "update_employee", employee="Eve Holt",
         email="eve@corp.example")  # fmt: skip
    call(typed, asked("Set Byron Fields's job to support lead"), "update_employee",
         employee="Byron Fields", job="support lead")  # fmt: skip
    assert [a.body for a in actions.in_states("pending")] == [
        {"email": "eve@corp.example"},
        {"job": "support lead"},
    ]


@pytest.mark.parametrize(
    "said", ["Priya's new job title is general counsel", "Priya is now our general counsel"]
)
def test_a_name_opening_a_sentence_names_its_record(typed, actions, said):
    call(typed, asked(said), "update_employee", employee="Priya", job="general counsel")
    (action,) = actions.in_states("pending")
    assert action.path == "/api/users/15"


def test_a_marriage_names_the_record_by_its_name_as_it_is(typed, actions):
    said = asked("Eve Holt got married and her surname is now Pereira")
    call(typed, said, "update_employee", employee="Eve Holt Pereira", name="Eve Pereira")
    (action,) = actions.in_states("pending")
    assert (action.path, action.body) == ("/api/users/4", {"name": "Eve Pereira"})


def test_her_after_a_question_about_one_person_names_that_person(typed, actions):
    said = asked("Who is our recruiter?", "Please change her job to talent lead")
    call(typed, said, "update_employee", employee="recruiter", job="talent lead")
    (action,) = actions.in_states("pending")
    assert (action.path, action.body) == ("/api/users/4", {"job": "talent lead"})


def test_a_pronoun_names_no_one_after_a_question_about_several(typed, actions):
    said = asked("Who are our engineers?", "Please change his job to staff engineer")
    answer = call(typed, said, "update_employee", employee="Emma Wong", job="staff engineer")
    assert "You did not name `Emma Wong`" in answer and actions.in_states() == []


def test_a_job_word_alone_names_no_record_for_a_change(typed, actions):
    answer = call(typed, asked("Make the recruiter a talent lead"), "update_employee",
                  employee="recruiter", job="talent lead")  # fmt: skip
    assert "You did not name `Eve Holt`" in answer and actions.in_states() == []


def test_a_request_that_is_not_for_a_new_record_creates_none(typed, actions, hr_sandbox):
    said = asked("Email everyone a memo about Friday's office closure")
    answer = call(typed, said, "create_employee", name="Friday's Office Closure Memo",
                  job="HR Representative")  # fmt: skip
    assert answer.startswith("I can only add a new employee to the directory when you ask")
    assert actions.in_states() == [] and hr_sandbox.writes_seen() == []


@pytest.mark.parametrize(
    "said",
    [
        "Add Neo Anderson as an engineer",
        "We hired Neo Anderson, an engineer",
        "Neo Anderson joins Monday as an engineer",
    ],
)
def test_a_new_record_asked_for_is_held(typed, actions, said):
    call(typed, asked(said), "create_employee", name="Neo Anderson", job="engineer")
    assert len(actions.in_states("pending")) == 1


def test_a_name_beside_the_field_the_words_name_is_dropped(typed, actions):
    said = asked("Rachel Howell has been promoted to head of operations, please update her title")
    call(typed, said, "update_employee", employee="Rachel Howell", name="Head of Operations",
         job="head of operations")  # fmt: skip
    (action,) = actions.in_states("pending")
    assert action.body == {"job": "head of operations"}


@pytest.mark.parametrize(
    "said",
    [
        "Sam Ortiz starts on Monday as our new office assistant",
        "Sam Ortiz is starting next week as an office assistant",
        "Please welcome Sam Ortiz, office assistant",
        "Please set up a record for Sam Ortiz, our new office assistant",
        "Can you set her up in the directory? Sam Ortiz, office assistant",
    ],
)
def test_a_new_starter_is_a_new_record_asked_for(typed, actions, said):
    call(typed, asked(said), "create_employee", name="Sam Ortiz", job="office assistant")
    assert len(actions.in_states("pending")) == 1


@pytest.mark.parametrize("said", ["The meeting starts at noon", "Book a room for Sam's start"])
def test_a_start_that_is_not_someone_joining_creates_none(typed, actions, said):
    answer = call(typed, asked(said), "create_employee", name="Sam Ortiz", job="office assistant")
    assert answer.startswith("I can only add a new employee") and actions.in_states() == []


@pytest.mark.parametrize("written", ["yusufdemir", "Yusuf_Demir", "YUSUFDEMIR"])
def test_a_whole_name_the_model_ran_together_names_that_record(typed, actions, written):
    call(typed, asked("Yusuf Demir doesn't work for us any more."), "delete_employee",
         employee=written)  # fmt: skip
    (action,) = actions.in_states("pending")
    assert (action.method, action.path) == ("DELETE", "/api/users/18")


@pytest.mark.parametrize("written", ["yusu", "demiryusuf", "yusufdemirx", "ines_carvalho"])
def test_part_of_a_name_or_another_order_run_together_names_no_one(typed, actions, written):
    call(typed, asked("Demir doesn't work for us any more."), "delete_employee",
         employee=written)  # fmt: skip
    assert actions.in_states() == []


@pytest.mark.parametrize("written", ["yusu", "Yusuf Demirr", "Amara Mensah", "okoforama"])
def test_a_record_the_model_named_as_no_ones_is_the_one_the_words_name_whole(
    typed, actions, written
):
    # The model misspelt the name, or gave the new one: the requester's message names the
    # record by its whole name, and that record is the one changed.
    said = asked("Yusuf Demir got married and is Yusuf Mensah now, please update his name")
    call(typed, said, "update_employee", employee=written, name="Yusuf Mensah")
    (action,) = actions.in_states("pending")
    assert (action.path, action.body) == ("/api/users/18", {"name": "Yusuf Mensah"})


@pytest.mark.parametrize(
    "said",
    [
        "Yusuf Demir and Ines Carvalho: one is Yusuf Mensah now",  # two people named whole
        "Yusuf got married, he is Yusuf Mensah now",  # a first name alone is not enough here
    ],
)
def test_no_record_is_taken_for_the_models_unknown_name_unless_named_whole_and_alone(
    typed, actions, said
):
    call(typed, asked(said), "update_employee", employee="Yusuf Mensahh", name="Yusuf Mensah")
    assert actions.in_states() == []


def test_a_value_nobody_said_is_not_held_and_the_model_is_told(typed, actions):
    said = asked("Mail to Hannah Kowalski bounces, her address should be hk@reqres.com")
    result = typed.call(
        "update_employee",
        json.dumps({"employee": "Hannah Kowalski", "job": "Software Engineer"}),
        said,
        "call_1",
    )
    assert actions.in_states() == [] and result.answer is None
    assert "job `Software Engineer` is not in the user's words" in result.content
    # Her present job, and the words of the message, are words people gave.
    call(typed, said, "update_employee", employee="Hannah Kowalski", email="hk@reqres.com",
         job="QA Engineer")  # fmt: skip
    (action,) = actions.in_states("pending")
    assert action.body == {"email": "hk@reqres.com", "job": "QA Engineer"}


def test_an_id_nobody_gave_goes_to_the_one_record_the_words_name(typed, actions, hr_sandbox):
    said = asked("Lukas is our new platform lead, update his job please.")
    answer = call(typed, said, "update_employee", employee=12345, job="platform lead")
    (action,) = actions.in_states("pending")
    assert (action.path, action.body) == ("/api/users/14", {"job": "platform lead"})
    assert "Lukas Brandt" in answer


@pytest.mark.parametrize(
    ("said", "wanted"),
    [
        # The id people gave stands, even when there is no such record: they are told so.
        ("Update employee 12345's job to platform lead", "There is no employee at"),
        # Words that name no one, or two people: the model is told, and may name it again.
        ("Update the job to platform lead", None),
        ("Lukas and Noah are both platform leads now", None),
    ],
)
def test_an_id_nobody_gave_is_never_guessed_past_what_the_words_name(typed, actions, said, wanted):
    result = typed.call("update_employee", json.dumps({"employee": 12345, "job": "platform lead"}),
                        asked(said), "c1")  # fmt: skip
    assert actions.in_states() == []
    if wanted:
        assert (result.answer or "").startswith(wanted)
    else:
        assert result.answer is None and "the user never gave that id" in result.content


@pytest.mark.parametrize("written", ["Mr Brandt", "mr. brandt", "Dr Lukas Brandt"])
def test_a_title_before_a_name_names_the_record_it_stands_before(typed, actions, written):
    call(typed, asked("Mr Brandt handed in his notice, so his record can go."), "delete_employee",
         employee=written)  # fmt: skip
    (action,) = actions.in_states("pending")
    assert action.path == "/api/users/14"


def test_a_create_for_someone_already_here_is_told_to_the_model_once(typed, actions):
    said = asked("Priya's new job title is general counsel.")
    first = typed.call(
        "create_employee", json.dumps({"name": "Priya", "job": "general counsel"}), said, "c1"
    )
    assert first.answer is None and actions.in_states() == []
    assert "Priya Raman" in first.content and "updates it" in first.content
    again = call(typed, said, "create_employee", name="Priya", job="general counsel")
    assert again.startswith("I can only add a new employee") and actions.in_states() == []
    call(typed, said, "update_employee", employee="Priya", job="general counsel")
    (action,) = actions.in_states("pending")
    assert (action.path, action.body) == ("/api/users/15", {"job": "general counsel"})


def test_a_value_joined_by_underscores_is_held_as_the_requester_typed_it(typed, actions):
    said = asked("Amara Okafor's job needs to read benefits manager from now on.")
    call(typed, said, "update_employee", employee="Amara Okafor", job="benefits_manager")
    (action,) = actions.in_states("pending")
    assert action.body == {"job": "benefits manager"}


@pytest.mark.parametrize("written", ["priya@company.com", "Priya R", "priyaraman"])
def test_a_reference_sharing_a_word_with_the_one_record_the_words_single_out_is_that_record(
    typed, actions, written
):
    said = asked("Priya's new job title is general counsel.")
    call(typed, said, "update_employee", employee=written, job="general counsel")
    (action,) = actions.in_states("pending")
    assert (action.path, action.body) == ("/api/users/15", {"job": "general counsel"})


def test_a_reference_naming_no_one_is_not_guessed_past_the_words(typed, actions, hr_sandbox):
    # Priya is singled out, but the model's reference shares no word with her name.
    said = asked("Priya's new job title is general counsel")
    call(typed, said, "update_employee", employee="counsel@company.com", job="general counsel")
    # Only Tobias Funkelstein exists: "Tobias Funke" is someone else, whom no record is.
    requests.delete(hr_sandbox.url + "/api/users/9", timeout=5)
    requests.post(
        hr_sandbox.url + "/api/users", json={"name": "Tobias Funkelstein", "job": "x"}, timeout=5
    )
    said = asked("Tobias Funke's new job is analyst")
    call(typed, said, "update_employee", employee="tobias@company.com", job="analyst")
    assert actions.in_states() == []


def test_a_change_to_one_of_several_people_the_words_could_mean_names_them_all(typed, actions):
    said = asked("Make George a director.")
    answer = call(typed, said, "update_employee", employee=1, job="director")
    assert answer.startswith("Your words could mean several employees: `George Bluth` (#1")
    assert "`George Edwards` (#11" in answer and actions.in_states() == []
