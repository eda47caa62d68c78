"""The HR assistant: configuration, HR client, tools, agent loop and conversations."""
