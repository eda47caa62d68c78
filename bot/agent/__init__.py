"""The agent: the loop that is the only code talking to the model (`loop`), one completion
at a time (`completions`), the system prompts (`prompts`), each thread's history and the
token budget (`history`, `budget`).

It never imports the conversation or Slack side; it is handed a message and gives an answer.
"""
