"""What talks to Slack for the conversation side: register(app) for mentions and direct
messages, each parsed into an Incoming (`events`); the Web API client; serving over HTTP or
Socket Mode (`server`); the thinking status, streamed answers, and text made safe both ways.

It imports nothing else of the bot.
"""
