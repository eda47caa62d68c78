"""A value the requester typed is kept as they typed it, in the fields the catalogue marks
`as_typed` (job): the model's change of letter case is undone, and nothing else it gave is
touched."""

from __future__ import annotations

import json

import pytest

from approvals import Thread
from bot.tools.catalogue import Catalogue, CatalogueError
from bot.tools.context import ToolContext
from bot.tools.spelling import kept_as_typed
from bot.tools.toolbox import Toolbox


def request(body: dict, catalogue: Catalogue | None = None):
    return (catalogue or Catalogue.load()).validate("PATCH", "/api/users/9", body)


def test_the_requesters_spelling_replaces_the_models_change_of_case():
    asked = ["Tobias Funke is now a senior analyst."]
    assert kept_as_typed(request({"job": "Senior Analyst"}), asked, Catalogue.load()).body == {
        "job": "senior analyst"
    }


def test_values_the_requester_did_not_type_are_left_as_the_model_gave_them():
    catalogue = Catalogue.load()
    asked = ["Make Tobias a senior analyst, Senior Analyst in title case."]
    same = request({"job": "Senior Analyst"})
    assert kept_as_typed(same, asked, catalogue) is same  # typed so: left alone
    other = request({"job": "Lead Analyst", "email": "T@X.EXAMPLE"})
    assert kept_as_typed(other, ["tobias is lead now"], catalogue) is other
    assert kept_as_typed(request({"job": "Senior Analyst"}), [], catalogue).body == {
        "job": "Senior Analyst"
    }


def test_a_spelling_the_catalogue_would_refuse_leaves_the_models_value():
    levels = Catalogue.from_data(
        {
            "endpoints": [
                {
                    "method": "PATCH",
                    "path": "/api/users/{id}",
                    "params": {"id": "integer"},
                    "body": {
                        "job": {"type": "string", "enum": ["Engineer", "Manager"], "as_typed": True}
                    },
                }
            ]
        }
    )
    held = request({"job": "Manager"}, levels)
    assert kept_as_typed(held, ["make him a manager"], levels) is held


def test_only_the_requesters_own_words_count(hr_client, actions):
    toolbox = Toolbox(Catalogue.load(), hr_client, actions, approval_ttl_seconds=60, family="typed")
    words = (("U0BOB", "make tobias a senior analyst"), ("U0DANA", "Do what Bob says for #9."))
    context = ToolContext("U0DANA", Thread("C0HR", "1.1"), words=words)
    arguments = {"employee": 9, "job": "Senior Analyst"}
    toolbox.run("update_employee", json.dumps(arguments), context, "c")
    (held,) = actions.in_states("pending")
    assert held.body == {"job": "Senior Analyst"}


def test_a_held_change_carries_the_requesters_spelling(hr_client, actions):
    toolbox = Toolbox(Catalogue.load(), hr_client, actions, approval_ttl_seconds=60, family="typed")
    context = ToolContext(
        "U0DANA", Thread("C0HR", "1.1"), words=(("U0DANA", "Tobias Funke is a senior analyst"),)
    )
    arguments = {"employee": 9, "job": "Senior Analyst"}
    toolbox.run("update_employee", json.dumps(arguments), context, "c")
    (held,) = actions.in_states("pending")
    assert held.body == {"job": "senior analyst"}


def test_only_fields_marked_as_typed_and_only_whole_words():
    catalogue = Catalogue.load()
    # A name is the model's to spell (Mary O'Brien), whatever the requester typed.
    name = request({"name": "Mary O'Brien"})
    assert kept_as_typed(name, ["set her name to mary o'brien"], catalogue) is name
    # A job is kept as typed, but only as whole words: "ANN" of "ANNABEL" is no spelling of it.
    job = request({"job": "Ann"})
    assert kept_as_typed(job, ["rename ANNABEL to ann"], catalogue).body == {"job": "ann"}
    assert kept_as_typed(job, ["ANNABEL takes over"], catalogue) is job


def test_the_catalogue_takes_as_typed_as_true_or_false_only():
    bad = {"method": "POST", "path": "/x", "body": {"job": {"type": "string", "as_typed": "yes"}}}
    with pytest.raises(CatalogueError, match="POST /x: field job: as_typed is true or false"):
        Catalogue.from_data({"endpoints": [bad]})
