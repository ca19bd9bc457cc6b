"""Domain errors shared by every app: each knows its HTTP status and its message in both languages.

Pure: no Django import, so pure modules may raise them too.
"""

from __future__ import annotations


class DomainError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, zh: str, en: str | None = None, *, field: str | None = None, code: str | None = None):
        super().__init__(en or zh)
        self.zh = zh
        self.en = en or zh
        self.field = field
        if code:
            self.code = code

    def message(self, language: str) -> str:
        return self.en if language.startswith("en") else self.zh

    def as_dict(self, language: str) -> dict:
        body: dict = {"code": self.code, "message": self.message(language)}
        if self.field:
            body["field"] = self.field
        return {"error": body}


class Malformed(DomainError):
    status = 400
    code = "malformed"


class Unauthenticated(DomainError):
    status = 401
    code = "unauthenticated"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class TooLarge(DomainError):
    status = 413
    code = "too_large"


class Invalid(DomainError):
    status = 422
    code = "invalid"


class Throttled(DomainError):
    status = 429
    code = "throttled"
