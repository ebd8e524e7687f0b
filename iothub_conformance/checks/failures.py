"""Collect several tagged failures from one response and raise them together."""

from __future__ import annotations


class Failures:
    def __init__(self) -> None:
        self.messages: list[str] = []

    def add(self, message: str) -> None:
        self.messages.append(message)

    def extend(self, messages) -> None:
        self.messages.extend(messages)

    def raise_any(self) -> None:
        if self.messages:
            raise AssertionError("\n".join(self.messages))
