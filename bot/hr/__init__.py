"""HR access: the only code that talks to the HR REST API (`client`), and per-user HR
authority: the HR system's OAuth server as the bot sees it (`oauth`), each person's linked
account sealed at rest (`accounts`), link states, linking and its buttons (`linking`), and
the authority that gives a request its person's token (`authority`).

It imports nothing else of the bot.
"""
