"""Test ids under a single-value okta marker (issue 10, point 3): unchanged where pytest can hide a
parameter (``pytest.HIDDEN_PARAM``, pytest >= 8.4); older pytest still shows the marker's label."""

from __future__ import annotations

import pytest

#: Whether this pytest leaves a single-value marker's test id as it is.
HIDES = hasattr(pytest, "HIDDEN_PARAM")


def single(test: str, label: str) -> str:
    """The id of ``test`` under a single-value marker whose values read ``label``."""
    return test if HIDES else f"{test}[{label}]"
