"""A module with no codomyrmex code at all: instrumented from outside."""

from __future__ import annotations


def add_item(cart: list[str], item: str) -> list[str]:
    cart.append(item)
    return cart


class Cart:
    def __init__(self) -> None:
        self.items: list[str] = []

    def total(self) -> float:
        return 0.5 * len(self.items)
