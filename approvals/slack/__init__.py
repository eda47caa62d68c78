"""The approvals engine's Slack screens: register(app) for its buttons and modals
(`listeners`), every check on a click and batch approval (`clicks`), posting and updating
cards (`announce`), the pure Block Kit of cards, channel cards, modals and App Home, Show
details, Edit and Reassign (`revisions`), and App Home itself (`home`).

It never imports `bot`: what it reports to the bot (an action's outcome) goes through the
callback given to Announcer when bot/app.py assembles the app.
"""
