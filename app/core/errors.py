"""The one mark of an error whose message is written for the user."""

from __future__ import annotations


class UserError(Exception):
    """``str()`` says, in words, what is wrong and what to do about it: shown as it is, with no type name.

    Anything else that escapes a job is a bug, and the app names it by its type so that a report can find it."""
