"""Notification bodies: Markdown rendered once at deposit, then sanitised with nh3.

cmark-gfm (CommonMark, plus GitHub's table extension) renders in C; in its default safe mode raw
HTML in the text is left out and `javascript:` links are emptied. nh3 then keeps only the tags
and attributes listed here, whatever the renderer produced.
"""

from __future__ import annotations

import cmarkgfm
import nh3
from cmarkgfm.cmark import Options

ALLOWED_TAGS = {
    "p", "br", "strong", "em", "ul", "ol", "li", "h2", "h3", "h4", "blockquote", "code",
    "pre", "a", "table", "thead", "tbody", "tr", "th", "td", "hr",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}}


def render_markdown(text: str) -> str:
    html = cmarkgfm.markdown_to_html_with_extensions(
        text or "", options=Options.CMARK_OPT_DEFAULT, extensions=["table"]
    )
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )
