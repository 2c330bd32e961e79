"""``python -m pytest_okta_user``: the ``okta-user`` command."""

from .cli import main

raise SystemExit(main())
