"""The only code that talks to the HR REST API."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3

from approvals.authority import NotConnected
from approvals.executor import MISSING
from infra import metrics, tracing

MAX_RESPONSE_BYTES = 1024 * 1024
CONNECT_TIMEOUT = 3.05
READ_TIMEOUT = 15.0


class HRError(Exception):
    """The HR API could not be asked, or gave no usable answer.

    `request_sent` is False only when the request certainly never reached the server.
    """

    def __init__(self, message: str, *, request_sent: bool) -> None:
        super().__init__(message)
        self.request_sent = request_sent


@dataclass(frozen=True)
class HRResponse:
    status: int
    body: Any  # parsed JSON, text, or None for an empty body

    @property
    def record(self) -> Any:
        """The body without the {"data": …} envelope the HR API puts around one record."""
        body = self.body
        if isinstance(body, dict) and isinstance(body.get("data"), dict):
            return body["data"]
        return body

    def found(self, path: str) -> Any:
        """The answer to a GET of the record at `path`: the record, or None when it is gone
        (404). Raises HRError for any other answer."""
        if self.status == 404:
            return None
        if self.status != 200:
            raise HRError(f"HR API answered {self.status} for {path}", request_sent=True)
        return self.record

    def page(self) -> tuple[list[dict[str, Any]], int | None]:
        """A list answer's records and its total number of pages (None when not given)."""
        body = self.body if isinstance(self.body, dict) else {}
        data = body.get("data")
        if not isinstance(data, list):
            raise HRError("HR API list answer has no data list", request_sent=True)
        pages = body.get("total_pages")
        records = [r for r in data if isinstance(r, dict)]
        return records, pages if isinstance(pages, int) and pages > 0 else None


class HRClient:
    """One requests.Session bound to one base URL: paths only, no redirects, bounded answers."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        timeout: tuple[float, float] = (CONNECT_TIMEOUT, READ_TIMEOUT),
        pool_size: int = 32,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._origin = urlsplit(self.base_url)
        self.timeout = timeout
        self.session = requests.Session()
        self.session.trust_env = False  # no proxies or .netrc credentials picked up from the host
        adapter = requests.adapters.HTTPAdapter(pool_connections=1, pool_maxsize=pool_size)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers["Accept"] = "application/json"
        # When the HR API last answered (below 500) and last failed to: readiness reads these.
        self.reachable_at: float | None = None
        self.unreachable_at: float | None = None
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"

    def url_for(self, path: str) -> str:
        # Defence in depth: the catalogue refuses these already, but nothing may leave the host.
        if not path.startswith("/") or path.startswith("//") or "\\" in path:
            raise HRError(
                f"refusing to request {path!r}: not a path on the HR API", request_sent=False
            )
        url = self.base_url + path
        parts = urlsplit(url)
        if (parts.scheme, parts.netloc) != (self._origin.scheme, self._origin.netloc):
            raise HRError(f"refusing to request {path!r}: it leaves the HR API", request_sent=False)
        return url

    def request(
        self,
        method: str,
        path: str,
        *,
        body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> HRResponse:
        """One request, in a span of its own (its method and status: a path can hold an id),
        counted in the metrics and noted for readiness."""
        url = self.url_for(path)
        with tracing.hr_span(method) as span:
            try:
                response = self._send(method, url, body, headers)
            except HRError:
                self._seen(method, None)
                raise
            self._seen(method, response.status_code)
            span.set_attribute("http.response.status_code", response.status_code)
            with response:
                try:
                    raw = response.raw.read(MAX_RESPONSE_BYTES + 1, decode_content=True)
                except (requests.exceptions.RequestException, urllib3.exceptions.HTTPError) as e:
                    raise HRError(f"HR API answer could not be read: {e}", request_sent=True) from e
            if len(raw) > MAX_RESPONSE_BYTES:
                raise HRError("HR API answer is larger than 1 MiB; not used", request_sent=True)
            content_type = response.headers.get("Content-Type")
            return HRResponse(response.status_code, _parse(raw, content_type))

    def _send(
        self, method: str, url: str, body: dict[str, Any] | None, headers: dict[str, str] | None
    ) -> requests.Response:
        """The request on the wire; a failure as HRError, saying whether it may have been sent."""
        try:
            return self.session.request(
                method,
                url,
                json=body,
                headers=headers,
                timeout=self.timeout,
                allow_redirects=False,
                stream=True,
            )
        except (requests.exceptions.ConnectTimeout, requests.exceptions.InvalidURL) as e:
            raise HRError(f"could not connect to the HR API: {e}", request_sent=False) from e
        except requests.exceptions.ConnectionError as e:
            raise HRError(
                f"could not reach the HR API: {e}", request_sent=not _never_connected(e)
            ) from e
        except requests.exceptions.RequestException as e:
            raise HRError(f"HR API request failed: {e}", request_sent=True) from e

    def _seen(self, method: str, status: int | None) -> None:
        """Counted in the metrics; for readiness, any answer says the HR API is reachable
        (a 500 is its own trouble, in the metrics), and no answer that it may not be."""
        metrics.HR_REQUESTS.labels(method, metrics.hr_status(status)).inc()
        if status is not None:
            self.reachable_at = time.monotonic()
        else:
            self.unreachable_at = time.monotonic()

    def probe(self) -> str | None:
        """Readiness's own look at the HR API, when nothing else asked it lately: None when it
        answers at all, else why not, in a few words."""
        try:
            self.request("GET", "/")
        except HRError as e:
            return f"the HR API is not reachable ({type(e.__cause__ or e).__name__})"
        return None

    def snapshot(self, path: str, headers: dict[str, str]) -> Any:
        """The record at `path` for the executor's stale guard: MISSING when it is gone;
        NotConnected when the HR API refuses the credentials in `headers` (401)."""
        response = self.request("GET", path, headers=headers)
        if response.status == 401 and "Authorization" in headers:
            raise NotConnected("the HR API no longer accepts it; they must connect again.")
        record = response.found(path)
        return MISSING if record is None else record

    def close(self) -> None:
        self.session.close()


def _never_connected(error: requests.exceptions.ConnectionError) -> bool:
    reason = getattr(error.args[0], "reason", None) if error.args else None
    return isinstance(
        reason, urllib3.exceptions.NewConnectionError | urllib3.exceptions.NameResolutionError
    )


def _parse(raw: bytes, content_type: str | None) -> Any:
    if not raw:
        return None
    text = raw.decode("utf-8", errors="replace")
    if content_type and "json" in content_type.lower():
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text
