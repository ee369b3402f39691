"""Secret tokens, one per student and one for the instructor, stored only as hashes.

A token is 32 random bytes (URL-safe text); ``tokens.json`` keeps its SHA-256, so a copy of
the file lets no one log in. A presented token is hashed and compared with every stored hash
in constant time (``hmac.compare_digest``, no early exit), so timing reveals nothing. The
file is re-read when it changes, so a revoked token stops working at the next request.
"""
import hashlib
import hmac
import json
import secrets
from pathlib import Path

from ..errors import AutograderError
from ..files import write_whole
from .journal import service_dir

INSTRUCTOR = "instructor"   # the role of the instructor's token (not a student id)
PREFIX = "ag_"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


class Tokens:
    """The course's token hashes: {holder: sha256}, holder a student id or INSTRUCTOR."""

    def __init__(self, course: Path):
        self.path = service_dir(course) / "tokens.json"
        self._stamp, self._hashes = None, {}

    def hashes(self) -> dict[str, str]:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return {}
        if (stat.st_mtime_ns, stat.st_size) != self._stamp:
            try:
                self._hashes = json.loads(self.path.read_text(encoding="utf-8"))
            except ValueError:
                raise AutograderError(f"{self.path} is not valid JSON: restore it or issue the tokens "
                                      "again") from None
            self._stamp = (stat.st_mtime_ns, stat.st_size)
        return dict(self._hashes)

    def issue(self, holder: str) -> str:
        """A new token for ``holder`` (replacing any earlier one); only its hash is kept."""
        token = PREFIX + secrets.token_urlsafe(32)
        self._save({**self.hashes(), holder: _digest(token)})
        return token

    def revoke(self, holder: str) -> bool:
        """Forget ``holder``'s token; False if there was none."""
        hashes = self.hashes()
        if hashes.pop(holder, None) is None:
            return False
        self._save(hashes)
        return True

    def holder(self, token: str | None) -> str | None:
        """Whose token this is, or None."""
        if not token:
            return None
        presented, found = _digest(token), None
        for holder, stored in self.hashes().items():
            if hmac.compare_digest(presented, stored):
                found = holder
        return found

    def _save(self, hashes: dict[str, str]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_whole(self.path, json.dumps(hashes, indent=1, sort_keys=True).encode("utf-8"))
        self.path.chmod(0o600)
