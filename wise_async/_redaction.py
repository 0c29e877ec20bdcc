"""Masking of credentials before anything reaches a log line, an exception message or a repr.

Wise traffic carries bearer tokens, one-time SCA tokens, request signatures, PINs, card numbers and
private keys. Everything this SDK writes for humans goes through :func:`redact_text` or
:func:`redact_headers` first, and the ``wise_async`` logger carries a :class:`RedactingFilter` so a
careless ``logger.debug(body)`` cannot leak either.

The masks fail closed: a long digit run that merely looks like a card number is masked too.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = [
    "LOGGER_NAME",
    "RedactingFilter",
    "get_logger",
    "redact_headers",
    "redact_raw_headers",
    "redact_text",
    "redact_url",
    "single_line",
]

LOGGER_NAME = "wise_async"

_MASK = "***"

# Header names (lower case) whose whole value is a credential.
_SECRET_HEADERS = frozenset(
    {
        "x-signature",
        "x-2fa-approval",
        "one-time-token",
        "x-tw-twcard-card-token",
        "cookie",
        "set-cookie",
    }
)
# Header names whose value is "<scheme> <credential>": keep the scheme, it helps debugging.
_AUTH_HEADERS = frozenset({"authorization", "proxy-authorization"})
_KNOWN_SCHEMES = {"bearer": "Bearer", "basic": "Basic"}

# Keys whose values are secrets wherever they appear: JSON bodies, Python reprs, form bodies, queries.
_SECRET_KEYS = (
    "pin",
    "cvv",
    "cvc",
    "pan",
    "cardNumber",
    "securityCode",
    "password",
    "access_token",
    "accessToken",
    "refresh_token",
    "refreshToken",
    "client_secret",
    "clientSecret",
    "registration_code",
    "code",
    "otpCode",
    "oneTimeToken",
    "faceMap",
    "deviceFingerprint",
    "encryptedPayload",
    "keyMaterial",
)


class _LazyPattern:
    """A regex compiled on its first use: redaction runs on log lines and errors, so importing the SDK
    need not compile these (long) patterns."""

    __slots__ = ("_compiled", "_source")

    def __init__(self, source: str) -> None:
        self._source = source
        self._compiled: re.Pattern[str] | None = None

    @property
    def compiled(self) -> re.Pattern[str]:
        compiled = self._compiled
        if compiled is None:
            compiled = self._compiled = re.compile(self._source)
        return compiled

    def sub(self, repl: str | Callable[[re.Match[str]], str], string: str) -> str:
        return self.compiled.sub(repl, string)


_SECRET_KEYS_LOWER = frozenset(k.lower() for k in _SECRET_KEYS)
_KEY_ALT = "|".join(re.escape(k) for k in sorted(_SECRET_KEYS, key=len, reverse=True))

# Every pattern below runs on untrusted text (Wise's bodies and headers, log lines) and must take time
# linear in its length: no pattern may scan ahead from more than one start position over the same text.
# Each either starts at a literal or a lookbehind that allows one start per run of characters, and each
# value pattern always succeeds once started (closing quotes optional: an unterminated value is masked
# to its end, fail closed), so no start position is retried over the rest of the text.
_PEM_BEGIN_RE = _LazyPattern(r"-----BEGIN[A-Z ]{0,40}PRIVATE KEY-----")
_PEM_END_RE = _LazyPattern(r"-----END[A-Z ]{0,40}PRIVATE KEY-----")
_PEM_MASK = "-----BEGIN PRIVATE KEY-----***-----END PRIVATE KEY-----"
# What is left of a key body when its END line is missing (a truncated log line).
_PEM_BODY_RE = _LazyPattern(r"[A-Za-z0-9+/=\s\\]*")
# "key": "value" / 'key': 'value' / "key": 1234 — quote-aware, so escaped quotes inside stay masked.
_QUOTED_PAIR_RE = _LazyPattern(
    r"""(?P<head>(?P<kq>["'])(?i:""" + _KEY_ALT + r""")(?P=kq)\s*:\s*)"""
    r"""(?:"[^"\\]*(?:\\[\s\S][^"\\]*)*(?:\\|"|$)"""
    r"""|'[^'\\]*(?:\\[\s\S][^'\\]*)*(?:\\|'|$)|-?\d[\d.eE+-]*)"""
)
# The same inside a JSON document embedded as a string: {\"pin\": \"1234\"}.
_ESCAPED_PAIR_RE = _LazyPattern(
    r"""(?P<head>\\"(?i:""" + _KEY_ALT + r""")\\"\s*:\s*)\\"[^\\]*(?:\\(?!")[\s\S]?[^\\]*)*(?:\\")?"""
)
# Form bodies and query strings: refresh_token=abc&...
# Anchored at "=" (the engine skips to each one); the key before it is checked by fixed-width
# lookbehinds, one per key length, after a cheap look at the key's last letter.
_KEYS_BY_LENGTH: dict[int, list[str]] = {}
for _key in _SECRET_KEYS:
    _KEYS_BY_LENGTH.setdefault(len(_key), []).append(re.escape(_key))
_FORM_PAIR_RE = _LazyPattern(
    "=(?<=["
    + "".join(sorted({k[-1].lower() + k[-1].upper() for k in _SECRET_KEYS}))
    + "]=)(?:"
    + "|".join(rf"(?<=(?<![\w.-])(?i:{'|'.join(keys)})=)" for keys in _KEYS_BY_LENGTH.values())
    + r")[^&\s\"'<>,;]+"
)
_FORM_ANCHORS = tuple(sorted({f"{key}=" for key in _SECRET_KEYS_LOWER}))
# httpcore's DEBUG lines print header lists as byte-string tuples: (b'x-2fa-approval', b'<token>').
_SECRET_HEADER_ALT = "|".join(
    re.escape(h)
    for h in (
        "authorization",
        "proxy-authorization",
        "x-signature",
        "x-2fa-approval",
        "one-time-token",
        "x-tw-twcard-card-token",
        "cookie",
        "set-cookie",
    )
)
_HEADER_TUPLE_RE = _LazyPattern(
    r"""(?P<head>\(b?(?P<q>["'])(?i:"""
    + _SECRET_HEADER_ALT
    + r""")(?P=q),\s*b?)(?P<vq>["'])(?:(?!(?P=vq)).)*(?P=vq)?"""
)
# user:password@ in any URL (httpx logs request URLs as they are); anchored at "://", the scheme is kept.
_URL_USERINFO_RE = _LazyPattern(r"://[^/@\s'\"]+@")
# Both start with a character class (not a lookbehind) so the engine skips ahead to candidate characters.
_AUTH_SCHEME_RE = _LazyPattern(
    r"(?P<scheme>[Bb](?<![0-9A-Za-z_][Bb])(?i:earer|asic))\s+[A-Za-z0-9\-._~+/]+=*"
)
# 13-19 digits, optionally grouped by single spaces or dashes; not part of a longer number, a decimal
# or an alphanumeric token (hex ids and UUIDs have long digit runs too).
_CARD_NUMBER_RE = _LazyPattern(r"\d(?<![0-9A-Za-z.]\d)(?:[ -]?\d){12,18}(?![0-9A-Za-z]|\.\d)")


def _mask_card_number(match: re.Match[str]) -> str:
    text = match.group(0)
    kept = 0
    out: list[str] = []
    # Walk from the right so the last four digits survive and separators keep their place.
    for ch in reversed(text):
        if ch.isdigit():
            out.append(ch if kept < 4 else "*")
            kept += 1
        else:
            out.append(ch)
    return "".join(reversed(out))


def _mask_private_keys(s: str) -> str:
    """Mask each PEM private key: a complete block, or (truncated log line) what still looks like its body.

    One pass: an END is looked for once per BEGIN, from that BEGIN on; once none is left, none is sought.
    """
    out: list[str] = []
    pos = 0
    ends_left = True
    begins, ends, body = _PEM_BEGIN_RE.compiled, _PEM_END_RE.compiled, _PEM_BODY_RE.compiled
    while (begin := begins.search(s, pos)) is not None:
        out.append(s[pos : begin.start()])
        end = ends.search(s, begin.end()) if ends_left else None
        if end is None:
            ends_left = False
            pos = body.match(s, begin.end()).end()  # type: ignore[union-attr]  # matches the empty string
        else:
            pos = end.end()
        out.append(_PEM_MASK)
    if not out:
        return s
    out.append(s[pos:])
    return "".join(out)


def redact_text(s: str) -> str:
    """Mask credentials in free text (log lines, bodies, exception messages).

    Covers private-key PEM blocks, values of sensitive keys (JSON, Python repr, escaped JSON, form and
    query encodings), ``Bearer``/``Basic`` credentials and card-number-like digit runs (last 4 kept).
    Takes time linear in ``len(s)``; a pass whose anchor text is absent is skipped.
    """
    if not s:
        return s
    lower = s.lower()
    if "private key-----" in lower:
        s = _mask_private_keys(s)
    s = _HEADER_TUPLE_RE.sub(lambda m: f"{m.group('head')}{m.group('vq')}{_MASK}{m.group('vq')}", s)
    s = _URL_USERINFO_RE.sub(f"://{_MASK}@", s)
    s = _QUOTED_PAIR_RE.sub(rf"\g<head>\g<kq>{_MASK}\g<kq>", s)
    s = _ESCAPED_PAIR_RE.sub(r'\g<head>\\"***\\"', s)
    if "=" in s and any(key in lower for key in _FORM_ANCHORS):
        s = _FORM_PAIR_RE.sub(f"={_MASK}", s)
    if "bearer" in lower or "basic" in lower:
        s = _AUTH_SCHEME_RE.sub(lambda m: f"{m.group('scheme')} {_MASK}", s)
    return _CARD_NUMBER_RE.sub(_mask_card_number, s)


# Line breaks and other control characters, as the escapes a reader recognises; DEL and the Unicode line
# and paragraph separators too (some log viewers break lines on them).
_CONTROL_ESCAPES = {
    **{code: f"\\x{code:02x}" for code in (*range(0x20), 0x7F, 0x85)},
    0x09: "\\t",
    0x0A: "\\n",
    0x0D: "\\r",
    0x2028: "\\u2028",
    0x2029: "\\u2029",
}


def single_line(text: str) -> str:
    """``text`` with CR, LF and every other control character escaped (``\\r``, ``\\n``, ``\\x1b``):
    what came from the network cannot start a forged log line or rewrite a terminal."""
    return text.translate(_CONTROL_ESCAPES) if not text.isprintable() else text


def _redact_header_value(name: str, value: str) -> str:
    lower = name.lower()
    if lower in _AUTH_HEADERS:
        scheme, _, _credential = value.strip().partition(" ")
        known = _KNOWN_SCHEMES.get(scheme.lower())
        return f"{known} {_MASK}" if known else _MASK
    if lower in _SECRET_HEADERS:
        return _MASK
    return value


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Copy ``headers`` with credential values masked, ready to log or attach to an error.

    ``Authorization`` keeps its scheme (``Bearer ***``) so a wrong token *kind* is still diagnosable.
    Accepts any mapping, including ``httpx.Headers``; keys keep their original spelling.
    """
    return {name: _redact_header_value(name, value) for name, value in headers.items()}


def redact_raw_headers(raw: Iterable[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """:func:`redact_headers` on header bytes as they crossed the wire (``httpx.Headers.raw``).

    Bytes in, bytes out (read as Latin-1, which maps every byte): a header httpx received with a
    non-ASCII byte is copied as it came, where a ``str`` copy would fail to encode.
    """
    return [
        (name, _redact_header_value(name.decode("latin-1"), value.decode("latin-1")).encode("latin-1"))
        for name, value in raw
    ]


def _is_secret_query_key(key: str) -> bool:
    lower = key.lower()
    return (
        lower in _SECRET_KEYS_LOWER
        or "token" in lower
        or "secret" in lower
        or "password" in lower
        or "signature" in lower
    )


def redact_url(url: str) -> str:
    """Mask secret query parameters (and any userinfo) of ``url``; scheme, host and path are kept.

    The path identifies the failing operation, so it stays; query values such as ``access_token`` or
    ``code`` are credentials and become ``***``.
    """
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if "@" in netloc:
            netloc = f"{_MASK}@{netloc.rpartition('@')[2]}"
        query = parts.query
        if query:
            pairs = parse_qsl(query, keep_blank_values=True)
            query = urlencode(
                [(k, _MASK if _is_secret_query_key(k) else redact_text(v)) for k, v in pairs],
                safe="*",
            )
        return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
    except ValueError:
        # Not a URL we can take apart: fall back to the free-text masks.
        return redact_text(url)


class RedactingFilter(logging.Filter):
    """Logging filter that masks credentials in a record's formatted message and traceback.

    The message is formatted once here and frozen (``args`` cleared) so handlers further down see only
    the masked text. Never drops a record.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            # A broken format string is the caller's bug; let logging report it as usual.
            return True
        record.msg = single_line(redact_text(message))
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact_text(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = redact_text(record.exc_text)
        if record.stack_info:
            record.stack_info = redact_text(record.stack_info)
        return True


def _install_filter(logger: logging.Logger) -> logging.Logger:
    if not any(isinstance(f, RedactingFilter) for f in logger.filters):
        logger.addFilter(RedactingFilter())
    return logger


def get_logger(name: str | None = None) -> logging.Logger:
    """Return the ``wise_async`` logger (or ``wise_async.<name>``) with redaction installed.

    Logger filters do not apply to records propagated from child loggers, so every logger handed out
    here gets its own :class:`RedactingFilter` (once).
    """
    full_name = LOGGER_NAME if not name else f"{LOGGER_NAME}.{name}"
    return _install_filter(logging.getLogger(full_name))


_install_filter(logging.getLogger(LOGGER_NAME))
logging.getLogger(LOGGER_NAME).addHandler(logging.NullHandler())  # a library: silent unless configured
# The libraries under us log URLs (httpx, INFO) and raw response headers (httpcore, DEBUG); their records
# are masked the same way. Logger filters are not inherited, so each logger that emits gets one.
THIRD_PARTY_LOGGERS = (
    "httpx",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
    "aiohttp.client",  # the pool on asyncio (_aiohttp_transport)
    "aiohttp.internal",
)
for _name in THIRD_PARTY_LOGGERS:
    _install_filter(logging.getLogger(_name))
