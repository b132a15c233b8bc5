"""The SDK's half of the version handshake with the sidecar (as src/core/contracts/sdk-versions.ts)."""

from __future__ import annotations

import json
import re
from typing import Optional, Tuple

_VERSION = re.compile(r"v?(\d{1,9})\.(\d{1,9})\.(\d{1,9})(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?")


def _parse(version: str) -> Optional[Tuple[int, int, int, bool]]:
    match = _VERSION.fullmatch(version.strip())
    if match is None:
        return None
    return int(match.group(1)), int(match.group(2)), int(match.group(3)), match.group(4) is not None


def compare_versions(a: str, b: str) -> int:
    """Negative when a < b; a pre-release sorts before its release. Raises ValueError on a non-version."""
    x, y = _parse(a), _parse(b)
    if x is None or y is None:
        raise ValueError(f"not a version: {json.dumps(b if x else a)}")
    if x[:3] != y[:3]:
        return -1 if x[:3] < y[:3] else 1
    return int(y[3]) - int(x[3])


def sidecar_too_old(header: Optional[str], minimum: str, sdk: str) -> Optional[str]:
    """
    None to go on, or the upgrade message when the sidecar's version (header x-agentguard-sidecar) is older than
    ``minimum``. No header: a sidecar from before the handshake, which speaks the same /v1 API, so it is served.
    """
    if header is None or header == "":
        return None
    version = header.strip()
    if _parse(version) is not None and compare_versions(version, minimum) >= 0:
        return None
    return f"the sidecar's version {json.dumps(version[:40])} is older than {sdk} needs (agentguard sidecar {minimum} or later): upgrade the sidecar, or use an older {sdk}"
