"""Plain text from the HTML part of an email, with the stdlib html.parser.

html.parser on Python 3.11 takes quadratic time on some unclosed constructs (``<!--``, ``<![``,
``<a x="`` repeated), so the markup first goes through a linear pass that drops comments and
declarations and rewrites every tag to a bare ``<name>`` or ``</name>``. Only tag names matter
for the text, and the parser then never has to look far ahead.
"""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser

MAX_HTML_CHARS = 1_000_000
_MAX_TAG_CHARS = 2_000

_TAG_NAME = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9:-]{0,30})")
_BLOCK = frozenset(
    {
        "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "fieldset",
        "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header",
        "hr", "li", "main", "nav", "ol", "p", "pre", "section", "table", "tbody", "tfoot",
        "thead", "tr", "ul",
    }
)  # fmt: skip
_CELL = frozenset({"td", "th"})
_HIDDEN = frozenset({"head", "noscript", "script", "style", "template", "title"})
_SPACES = re.compile(r"[^\S\n]+")
_BLANK_LINES = re.compile(r"\n{3,}")


def _simplify(html: str) -> str:
    """Drop comments and declarations; keep each tag as a bare name. Linear in len(html)."""
    out: list[str] = []
    i = 0
    n = len(html)
    while i < n:
        j = html.find("<", i)
        if j < 0:
            out.append(html[i:])
            break
        out.append(html[i:j])
        if html.startswith("<!--", j):
            k = html.find("-->", j + 4)
            if k < 0:
                break  # an unclosed comment runs to the end, as in a browser
            i = k + 3
            continue
        if html.startswith(("<!", "<?"), j):
            k = html.find(">", j)
            if k < 0:
                break
            i = k + 1
            continue
        k = html.find(">", j, j + _MAX_TAG_CHARS)
        match = _TAG_NAME.match(html, j) if k >= 0 else None
        if match is None:
            out.append("&lt;")
            i = j + 1
            continue
        out.append(f"<{match.group(1)}{match.group(2).lower()}>")
        i = k + 1
    return "".join(out)


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self._hidden = 0
        self._quote = 0
        self._pre = 0

    def _newline(self) -> None:
        self.chunks.append("\n" + "> " * self._quote)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "body":
            self._hidden = 0  # an unclosed <head> must not hide the body
        elif tag in _HIDDEN:
            self._hidden += 1
        elif tag == "blockquote":
            self._quote += 1
            self._newline()
        elif tag in _CELL:
            self.chunks.append("\t")
        elif tag in _BLOCK:
            if tag == "pre":
                self._pre += 1
            self._newline()

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        elif tag == "blockquote":
            self._quote = max(0, self._quote - 1)
            self._newline()
        elif tag in _BLOCK:
            if tag == "pre":
                self._pre = max(0, self._pre - 1)
            self._newline()

    def handle_data(self, data: str) -> None:
        if self._hidden:
            return
        if not self._pre:
            data = _SPACES.sub(" ", data.replace("\n", " "))
        elif self._quote:
            data = data.replace("\n", "\n" + "> " * self._quote)
        self.chunks.append(data)


def html_to_text(html: str) -> str:
    """The readable text of an HTML body: one line per block, cells split by tabs, quotes as >."""
    simple = _simplify(html[:MAX_HTML_CHARS])
    extractor = _TextExtractor()
    try:
        extractor.feed(simple)
        extractor.close()
        text = "".join(extractor.chunks)
    except Exception:  # html.parser is lenient, but a text is always better than nothing
        text = ""
    if not any(c.isalnum() for c in text):
        # Hidden by an unclosed <style> or similar: fall back to the bare text between tags.
        text = unescape(re.sub(r"<[^<>]*>", "\n", simple))
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()
