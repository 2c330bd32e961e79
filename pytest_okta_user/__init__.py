"""Real Okta user tokens for pytest: one headless sign-in per run, shared by every xdist worker."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
