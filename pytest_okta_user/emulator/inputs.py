"""What the OAuth rules read of a request, as plain values (no werkzeug request objects).

`app.py` fills these in; `authorize.py`, `clientauth.py` and `oauth.py` read them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from .records import AuthServer


class Params:
    """Request parameters: every value of every name, in the order sent; read on first use.

    `get` answers the first value, as a form library does. A parameter list that is only read when
    a rule needs it keeps the order of Okta's checks: a refused query string (or header) is
    answered before a body is parsed, so an unreadable body cannot hide that error.
    """

    def __init__(
        self,
        source: Mapping[str, Sequence[str]] | Callable[[], Mapping[str, Sequence[str]]],
    ) -> None:
        self._source = source
        self._values: dict[str, list[str]] | None = None

    @property
    def _lists(self) -> dict[str, list[str]]:
        if self._values is None:
            source = self._source() if callable(self._source) else self._source
            self._values = {name: list(values) for name, values in source.items()}
        return self._values

    def get(self, name: str, default: str | None = None) -> str | None:
        values = self._lists.get(name)
        return values[0] if values else default

    def duplicated(self) -> list[str]:
        """Names sent more than once (Okta refuses them), sorted."""
        return sorted(name for name, values in self._lists.items() if len(values) > 1)


@dataclass(frozen=True)
class OAuthCall:
    """One request to an OAuth endpoint of `server`, as the rules see it.

    params: the parameters the endpoint reads (the query and, for a POST to /authorize or /logout,
        the form; the form alone at /token, /introspect and /revoke).
    query_names: the names in the query string (client credentials there are refused).
    endpoint_url: the URL called, without query (a client assertion's `aud` must name it).
    """

    base_url: str
    server: AuthServer
    params: Params
    query_names: frozenset[str] = frozenset()
    authorization: str | None = None
    origin: str | None = None
    sid: str = ""
    endpoint_url: str = ""

    @property
    def server_base(self) -> str:
        """`{org}/oauth2` for the org server, `{org}/oauth2/{id}` for a custom one."""
        if self.server.is_org:
            return f"{self.base_url}/oauth2"
        return f"{self.base_url}/oauth2/{self.server.id}"
