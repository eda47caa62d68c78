"""A second sandbox HR API, shaped like a real HRIS's public API (Personio's v2): persons and
their employments, departments, time off with its own approve and reject, balances, compensation
with effective dates; cursor pages, the vendor's error body, a bearer API key, and its own
OpenAPI document. Served by `python -m sandbox --hris personio`."""

from sandbox.hris.server import SANDBOX_API_KEY, HRISSandbox

VENDORS = ("personio",)

__all__ = ["SANDBOX_API_KEY", "VENDORS", "HRISSandbox"]
