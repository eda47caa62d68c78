from bot.slack.text import MAX_REPLY_CHARS, from_slack, to_slack


def test_the_bots_own_mention_is_stripped_and_escapes_undone():
    assert (
        from_slack("<@U0HRBOT> who is &lt;employee&gt; 2 &amp; 3?", "U0HRBOT")
        == "who is <employee> 2 & 3?"
    )
    assert from_slack("<@U0HRBOT|hrbot> hi <@U0BOB>", "U0HRBOT") == "hi <@U0BOB>"


def test_model_text_is_neutralised():
    for hostile in (
        "<!channel>",
        "<!here>",
        "<!everyone>",
        "<@U0CEO>",
        "<!subteam^S1>",
        "<https://x|y>",
    ):
        assert "<" not in to_slack(hostile)
    assert to_slack("*bold* and _italic_\n• item") == "*bold* and _italic_\n• item"


def test_long_answers_are_cut_short_visibly():
    text = to_slack("x" * 10000)
    assert len(text) < MAX_REPLY_CHARS + 40 and text.endswith("(answer cut short)")
