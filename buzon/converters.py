"""Path converters: a malformed identifier is a 404 before any query runs.

(PostgreSQL refuses NUL bytes in text, so an unchecked segment could otherwise reach a 500.)
"""


class _PatternConverter:
    regex: str

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


class ProcedureNumberConverter(_PatternConverter):
    regex = "[A-Z]{2}[0-9]{9}"


class VerificationCodeConverter(_PatternConverter):
    regex = "[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}"
