"""The conversation side of the HR assistant, and the one place the app is assembled
(`bot.app`): Slack in and out (`bot.slack`), conversations (`bot.conversation`), the agent
loop (`bot.agent`), the model's tools (`bot.tools`) and HR access (`bot.hr`); configuration
(`bot.config`, `bot.settings`) and `python -m bot`.

A message reads one way: Slack → conversation → agent → tools → HR and the approvals engine.
"""
