"""User text inside Textual markup strings."""

from __future__ import annotations


def plain(text: object) -> str:
    """`text` as literal characters inside a markup string: a deal called "[/x" or "[b]Co" is a
    name, not a tag. (Textual's own escape leaves an unclosed "[/x" alone, which then fails as
    markup when more text follows.)"""
    return str(text).replace("[", r"\[")
