"""A local Okta org for tests: the Classic Authentication API and the OAuth 2.0 / OIDC endpoints.

```python
from pytest_okta_user.emulator import OktaEmulator, DEMO

with OktaEmulator() as okta:
    okta.url, okta.issuer, okta.env()
```

It shares no code with the rest of pytest_okta_user: each side reads Okta's behaviour on its own.
"""

from __future__ import annotations

from .config import ConfigError
from .faults import ENDPOINTS, Faults, RequestRecord
from .keys import Clock
from .model import Org
from .records import DEMO, DemoOrg
from .server import OktaEmulator

__all__ = [
    "DEMO",
    "ENDPOINTS",
    "Clock",
    "ConfigError",
    "DemoOrg",
    "Faults",
    "OktaEmulator",
    "Org",
    "RequestRecord",
]
