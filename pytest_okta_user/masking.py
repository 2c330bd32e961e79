"""Masking, the way CI systems mask secrets: every secret value this process has handled is
replaced by a short label in any text that is about to be shown or written.

The redacting types (``redact.py``) keep secrets out of the plugin's own reprs; they cannot keep
them out of a stranger's frame (requests' ``body``, urllib3's ``headers``), of what a test prints,
or of a string a test built from a token. So every secret the process handles is registered here,
at the type level (creating a ``redact.Secret``, ``RedactedStr``, ``Credentials``, a
``SecretDict`` with secret keys or a ``tokens.TokenSet`` registers it), and the pytest side
(``masking_hooks.py``) runs :func:`mask` over everything pytest reports.

Design: one registry per process, value -> label, with each value's derived forms (URL-encoded,
JSON-escaped, repr-escaped, HTML-escaped, base64; for a client secret the base64 of
``client_id:secret`` a Basic header carries, in both RFC 7617 and RFC 6749 section 2.3.1 forms).
Each form is indexed (by the first :func:`mask` after it is registered) by its
:data:`PIECE`-character runs (a set), so :func:`mask` finds a whole form and any piece of one
(pytest's diff skips a shared head, saferepr cuts a long repr to ``head...tail``) in one pass over
the text's long runs of non-space characters, at a set lookup per character, however many secrets
there are (an alternation of every form, tried at every position, took 0.1 s per 12 KB with a few
hundred secrets). Forms the scan cannot see (shorter than a piece, or holding white space) go into
one small regex, rebuilt only when that list changes; the shorter head or tail of a form right
next to a ``...`` cut is looked up in two more sets. With nothing registered, :func:`mask` returns
at once, so a run that never uses Okta pays nothing. Two shapes are masked whatever was
registered: a ``Bearer``/``Basic`` credential after its scheme, and a JWT (a token read from a
cache entry that fails to load is never registered).

Values shorter than :data:`MIN_LENGTH` are not registered: GitLab masks only variables of 8
characters or more, for the same reason (https://docs.gitlab.com/ee/ci/variables/#mask-a-cicd-variable):
a six-digit TOTP code would mask every number in the output, and expires in 30 s anyway.

No pytest and no package imports here: ``redact`` imports this module.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import os
import re
import threading
from urllib.parse import quote, quote_plus

__all__ = [
    "MIN_LENGTH",
    "disable",
    "enable",
    "enabled",
    "fingerprint",
    "mask",
    "register",
    "register_basic",
    "run_key",
    "set_run_key",
]

#: Shorter values are not masked (see the module's docstring).
MIN_LENGTH = 8
#: The shortest piece of a secret masked next to a ``...`` cut.
_MIN_PIECE = 6
#: Any run of this many characters of a secret is masked wherever it stands (pytest's diff skips a
#: shared head, saferepr cuts a repr twice: what is left is a piece from the middle).
PIECE = 12
_RUN = re.compile(rf"\S{{{PIECE},}}")

_SPACE = re.compile(r"\s")

#: The scan's index and its lookups see base64's two alphabets as one (RFC 4648 sections 4 and 5
#: differ only in these two characters), so a value's standard and URL-safe base64 forms share
#: their pieces: one is indexed, not both. Lengths are kept, so a span found in the folded text
#: is the same span of the text itself; a text that differs from a secret only there is masked
#: too (more, never less).
_FOLD = str.maketrans("+/", "-_")

#: Credentials after an HTTP auth scheme, as requests and the plugin write them.
_SCHEME_VALUE = re.compile(r"\b(Bearer|Basic) ([A-Za-z0-9._~+/-]{16,}=*)")
#: A JWS in compact form: a JSON header and payload (both start ``{"`` -> ``eyJ``), a signature.
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{6,}\.eyJ[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]*")
_CUT = "..."


class _Registry:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.values: dict[str, bool] = {}
        """Every registered value -> whether its label carries a fingerprint."""
        self.pending: dict[str, None] = {}
        """The values registered but not indexed yet (``register``), in their order."""
        self.labels: dict[str, str] = {}
        """Every form of every registered value -> its label."""
        self.pieces: set[str] = set()
        """Every PIECE-character run of every form without white space (the scan's index)."""
        self.heads: set[str] = set()
        self.tails: set[str] = set()
        """The shorter heads and tails of those forms, for the pieces a ``...`` cut leaves."""
        self.others: set[str] = set()
        """Forms the scan cannot find (shorter than PIECE, or with white space): one regex."""
        self.version = 0
        self.built = -1
        self.pattern: re.Pattern[str] | None = None
        self.enabled = True
        self.key = os.urandom(32)

    def add(self, form: str, label: str, *, covered: bool = False) -> None:
        """Index one form (the lock held). ``covered``: another indexed form already gives each
        of its pieces (``_covered``); its head and tail, next to a cut, are still its own."""
        if self.labels.get(form) != "<masked>":
            # A value registered both ways keeps the label without a fingerprint.
            self.labels[form] = label
        if len(form) < PIECE or _SPACE.search(form):
            self.others.add(form)
            self.version += 1
            return
        folded = form.translate(_FOLD)
        if not covered:
            self.pieces.update([folded[i : i + PIECE] for i in range(len(folded) - PIECE + 1)])
        self.heads.update(folded[:k] for k in range(_MIN_PIECE, PIECE))
        self.tails.update(folded[-k:] for k in range(_MIN_PIECE, PIECE))


_REGISTRY = _Registry()


# ---- the per-run key and fingerprints ------------------------------------------------------------


def run_key() -> str:
    """The key fingerprints are made with (hex): random per process unless the run set one."""
    return _REGISTRY.key.hex()


def set_run_key(key_hex: str) -> None:
    """Use the run's key (xdist workers get the controller's, so one token has one label)."""
    key = bytes.fromhex(key_hex)
    with _REGISTRY.lock:
        if key == _REGISTRY.key:
            return
        _REGISTRY.key = key
        # Labels hold fingerprints: made again with the new key (the index stays valid).
        _REGISTRY.labels = {}
        _REGISTRY.pending = {}
        old, _REGISTRY.values = _REGISTRY.values, {}
    for value, fingerprinted in old.items():
        register(value, fingerprinted=fingerprinted)


def fingerprint(value: str) -> str:
    """8 hex digits of an HMAC-SHA-256 keyed per run: tells two tokens apart within a run's
    output, and verifies nothing offline (without the key, a guess cannot be checked)."""
    return hmac.new(
        _REGISTRY.key, value.encode("utf-8", "surrogatepass"), hashlib.sha256
    ).hexdigest()[:8]


# ---- registering ---------------------------------------------------------------------------------


def _forms(value: str) -> set[str]:
    """How ``value`` can be written out: as is, URL-encoded, JSON-, repr- and HTML-escaped, the
    repr of its UTF-8 bytes (a request body in urllib3's locals), base64."""
    raw = value.encode("utf-8", "surrogatepass")
    json_text = json.dumps(value)[1:-1]
    forms = {
        value,
        quote(value, safe=""),
        quote(value),
        quote_plus(value, safe=""),
        json_text,
        json.dumps(value, ensure_ascii=False)[1:-1],
        repr(value)[1:-1],
        repr(raw)[2:-1],
        repr(json_text.encode("utf-8", "surrogatepass"))[2:-1],
        html.escape(value, quote=True),
        html.escape(json_text, quote=True),
    }
    for encoded in (base64.b64encode(raw), base64.urlsafe_b64encode(raw)):
        text = encoded.decode("ascii")
        forms.update((text, text.rstrip("=")))
    return {form for form in forms if len(form) >= MIN_LENGTH}


def _label(value: str, fingerprinted: bool) -> str:
    return f"<masked {fingerprint(value)}>" if fingerprinted else "<masked>"


def register(value: object, *, fingerprinted: bool = True) -> None:
    """Mask ``value`` (and its derived forms) from now on in this process.

    ``fingerprinted``: its label carries a per-run fingerprint (tokens, codes); False for
    passwords and secrets (``<masked>``): a label that tells two passwords apart says too much.

    The value is only noted here; its forms are made and indexed by the next :func:`mask` call
    that has a text to look at (``_index_pending``). A sign-in registers a few dozen values, two
    of them JWTs of ~1 KB, and indexing them took a fifth of the sign-in's CPU: done later, it is
    done once for all the values noted since, and never in a process that masks nothing.
    """
    if not isinstance(value, str) or len(value) < MIN_LENGTH:
        return
    plain = str.__str__(value)
    registry = _REGISTRY
    known = registry.values.get(plain)
    if known is not None and (fingerprinted or not known):
        return
    with registry.lock:
        registry.values[plain] = fingerprinted if known is None else known and fingerprinted
        registry.pending[plain] = None


def _index_pending(registry: _Registry) -> None:
    """Index every value registered since the last call (the lock held while it does)."""
    with registry.lock:
        pending, registry.pending = registry.pending, {}
        for plain in pending:
            label = _label(plain, registry.values[plain])
            forms = _forms(plain)
            covered = _covered(forms)
            for form in forms:
                registry.add(form, label, covered=form in covered)


def _covered(forms: set[str]) -> set[str]:
    """The forms whose pieces another form's indexing already gives (folded, see ``_FOLD``): a
    base64 form without its ``=`` padding stands inside the padded one, and the URL-safe base64
    is the standard one folded. Indexing every piece is most of what registering costs (a
    sign-in registers two JWTs of ~1 KB, each with five forms); this leaves two."""
    indexed: dict[str, str] = {}
    covered: set[str] = set()
    for form in sorted(forms, key=len, reverse=True):
        if len(form) < PIECE or _SPACE.search(form):
            continue
        folded = form.translate(_FOLD)
        if folded in indexed or any(folded in other for other in indexed):
            covered.add(form)
        else:
            indexed[folded] = form
    return covered


def register_basic(client_id: str, secret: str) -> None:
    """The Basic header's credentials: base64 of ``id:secret`` as requests builds it (RFC 7617)
    and with both parts form-urlencoded first, as RFC 6749 section 2.3.1 asks."""
    register(secret, fingerprinted=False)
    for user, password in ((client_id, secret), (quote_plus(client_id), quote_plus(secret))):
        pair = f"{user}:{password}".encode("utf-8", "surrogatepass")
        register(base64.b64encode(pair).decode("ascii"), fingerprinted=False)


# ---- switching off -------------------------------------------------------------------------------


def enabled() -> bool:
    return _REGISTRY.enabled


def disable() -> None:
    """``--okta-show-secrets``: output is shown as it is (the plugin's reprs stay redacted)."""
    _REGISTRY.enabled = False


def enable() -> None:
    _REGISTRY.enabled = True


# ---- masking -------------------------------------------------------------------------------------


def _others() -> re.Pattern[str] | None:
    registry = _REGISTRY
    with registry.lock:
        if registry.built != registry.version:
            forms = sorted(registry.others, key=len, reverse=True)
            registry.pattern = re.compile("|".join(map(re.escape, forms))) if forms else None
            registry.built = registry.version
        return registry.pattern


def mask(text: str) -> str:
    """``text`` with every registered secret (any form, or any piece of PIECE characters or more),
    Bearer/Basic credential and JWT replaced by its label; ``text`` itself when there is nothing
    to mask (or masking is off)."""
    registry = _REGISTRY
    if not registry.enabled or not text or len(text) < MIN_LENGTH:
        # Nothing fits in fewer characters (every form, a piece next to a cut with its "...",
        # a scheme's value, a JWT): the terminal's progress dots, a write each per test.
        return text
    if registry.values:
        if registry.pending:
            _index_pending(registry)
        labels = registry.labels
        pattern = _others()
        if pattern is not None:
            text = pattern.sub(lambda m: labels.get(m.group(0), "<masked>"), text)
        text = _mask_pieces(text, registry)
    if "Bearer " in text or "Basic " in text:
        text = _SCHEME_VALUE.sub(lambda m: f"{m.group(1)} {_label(m.group(2), True)}", text)
    if "eyJ" in text:
        text = _JWT.sub(lambda m: _label(m.group(0), True), text)
    return text


def _mask_pieces(text: str, registry: _Registry) -> str:
    """Every run of PIECE or more characters of a registered form, wherever it stands (whole, or
    the piece pytest's diff leaves after skipping a shared head, or saferepr's cuts leave), and
    the shorter head or tail of one right next to a ``...`` cut (saferepr shortens long reprs to
    ``head...tail``, which can cut a secret anywhere)."""
    pieces, labels = registry.pieces, registry.labels
    probe = text.translate(_FOLD) if "+" in text or "/" in text else text
    spans: list[tuple[int, int]] = []
    for run in _RUN.finditer(text):
        at, end = run.span()
        while at + PIECE <= end:
            if probe[at : at + PIECE] not in pieces:
                at += 1
                continue
            start = at
            while at + PIECE <= end and probe[at : at + PIECE] in pieces:
                at += 1
            spans.append((start, at + PIECE - 1))
    if _CUT in text:
        spans.extend(_cut_pieces(probe, registry))
    if not spans:
        return text
    out: list[str] = []
    done = 0
    for start, finish in sorted(spans):
        if finish <= done:
            continue
        start = max(start, done)
        out.append(text[done:start])
        out.append(labels.get(text[start:finish], "<masked>"))
        done = finish
    out.append(text[done:])
    return "".join(out)


def _cut_pieces(text: str, registry: _Registry) -> list[tuple[int, int]]:
    spans = []
    cut = text.find(_CUT)
    while cut != -1:
        after = cut + len(_CUT)
        for size in range(PIECE - 1, _MIN_PIECE - 1, -1):
            if cut >= size and text[cut - size : cut] in registry.heads:
                spans.append((cut - size, cut))
                break
        for size in range(PIECE - 1, _MIN_PIECE - 1, -1):
            if text[after : after + size] in registry.tails:
                spans.append((after, after + size))
                break
        cut = text.find(_CUT, after)
    return spans
