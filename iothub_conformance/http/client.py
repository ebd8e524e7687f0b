"""The httpx.Client the suite talks to a target with."""

from __future__ import annotations

from typing import Any

import httpx


class _Cookies(httpx.Cookies):
    def extract_cookies(self, response: httpx.Response) -> None:
        # httpx copies every response's headers into an email message for its cookie jar, whether or not it sets a
        # cookie: a tenth of an embedded run's time. The API sets none; one that does still has its cookie taken.
        if "set-cookie" in response.headers:
            super().extract_cookies(response)


class Client(httpx.Client):
    """httpx.Client whose cookie jar reads only the responses that set a cookie; otherwise cookies work as in httpx."""

    def __init__(self, *, cookies: Any = None, **kwargs: Any) -> None:
        self._jar = _Cookies(cookies)
        super().__init__(**kwargs)

    @property
    def cookies(self) -> httpx.Cookies:
        return self._jar

    @cookies.setter
    def cookies(self, cookies: Any) -> None:
        self._jar = _Cookies(cookies)
