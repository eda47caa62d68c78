"""Local stand-ins for the services the bot talks to: the HR API, a scripted model, Slack."""

from sandbox.hr_api import HRSandbox, SeenRequest
from sandbox.hris import HRISSandbox

__all__ = ["HRISSandbox", "HRSandbox", "SeenRequest"]
