"""What an xdist worker knows of the run's emulator (which runs in the controller process).

Its own module, imported only where an emulator is in play: a dataclass costs every pytest start-up
the compiling of its methods.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["EmulatorElsewhere", "EmulatorInfo"]


@dataclass(frozen=True, repr=False)
class EmulatorInfo:
    """What an xdist worker knows of the run's emulator, which runs in the controller process.

    It has the emulator's public reading interface (``url``, ``instance_id``, ``env()``,
    ``count()``), so a test reads the same under ``-n``; what needs the emulator's own objects
    (``count``'s request log, ``clock``, ``org``, ``faults``, ``reset``) raises
    :class:`EmulatorElsewhere` with the fix, not an ``AttributeError``. (A worker has no channel to
    the controller during a test, and the emulator offers no HTTP control endpoint: one would let
    any local process move its clock.)
    """

    url: str
    instance_id: str
    settings: Mapping[str, str]
    """The demo org's ``OKTA_*`` values (including its demo password and client secret)."""

    def env(self) -> dict[str, str]:
        return dict(self.settings)

    def count(self, endpoint: str) -> int:
        raise EmulatorElsewhere(f"count({endpoint!r})")

    def reset(self) -> None:
        raise EmulatorElsewhere("reset()")

    def __getattr__(self, name: str) -> Any:
        if name in ("clock", "org", "faults", "log"):
            raise EmulatorElsewhere(name)
        raise AttributeError(name)

    def __repr__(self) -> str:
        return f"EmulatorInfo(url={self.url!r}, instance_id={self.instance_id!r})"


class EmulatorElsewhere(RuntimeError):
    """What an xdist worker cannot do with the emulator the controller runs."""

    def __init__(self, what: str) -> None:
        super().__init__(
            f"pytest-okta-user: okta_emulator.{what} needs the emulator's own process; under"
            " xdist it runs in the controller, and this test runs in a worker.\n  fix: run the"
            " tests that read or move the emulator's state without -n (or with -p no:xdist), or"
            " start an OktaEmulator in a fixture of your own"
        )
