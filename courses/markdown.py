"""Lesson Markdown to sanitized HTML: Markdown, code highlighted by Pygments, then nh3.

Authors write Markdown and raw HTML; learners read the result inside our pages. So:
- links and images may only point at this server: a relative URL (`/media/x.png`, `x.png`, `#part`,
  `?tab=2`) or an absolute one on SITE_URL's origin; links may also be `mailto:`. Anything else
  loses its address (the text stays). URLs are judged the way browsers read them (WHATWG URL):
  tabs and newlines are ignored, a backslash is a slash in http(s), `https:host` is absolute.
- `class` only from a short list: Pygments' highlight classes (code blocks) and the content
  classes below, so an author cannot dress text up as a platform notice or message.
"""

import re
from urllib.parse import urlsplit

import markdown as md
import nh3
from django.conf import settings
from pygments.token import STANDARD_TYPES

_ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "div", "dl", "dt", "em",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "li", "ol", "p", "pre", "span",
    "strong", "sub", "sup", "table", "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
_ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "th": {"align"},
    "td": {"align"},
}
# Boxes an author may put around a paragraph (`<div class="lesson-note">...</div>`), styled in
# static/css/kafaat.css. Keep them prefixed `lesson-`: no platform style may be reachable.
CONTENT_CLASSES = frozenset({"lesson-note", "lesson-tip", "lesson-warning"})
HIGHLIGHT_CLASSES = frozenset({c for c in STANDARD_TYPES.values() if c} | {"hll"})
_ALLOWED_CLASSES = {"div": {"highlight", *CONTENT_CLASSES}, "span": set(HIGHLIGHT_CLASSES)}

_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):")
_TAB_OR_NEWLINE = re.compile(r"[\t\n\r]")
# What a browser strips from both ends of a URL: C0 controls and space.
_C0_OR_SPACE = "".join(chr(i) for i in range(0x21))
_DEFAULT_PORTS = {"http": 80, "https": 443}


def render_markdown(text: str) -> str:
    """Render learner- or instructor-written Markdown to HTML that is safe to embed in a page."""
    html = md.markdown(
        text or "",
        extensions=["fenced_code", "codehilite", "tables", "sane_lists"],
        extension_configs={"codehilite": {"guess_lang": False, "css_class": "highlight"}},
        output_format="html",
    )
    return nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        allowed_classes=_ALLOWED_CLASSES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        attribute_filter=_url_filter,
    )


def _url_filter(tag: str, attr: str, value: str) -> str | None:
    if attr not in {"href", "src"}:
        return value
    return safe_url(value, allow_mailto=(tag == "a"))


def _origin(scheme: str, netloc: str) -> tuple[str, str, int] | None:
    try:
        parts = urlsplit(f"{scheme}://{netloc}")
        port = parts.port or _DEFAULT_PORTS.get(scheme)
    except ValueError:
        return None
    if not parts.hostname or parts.username is not None or parts.password is not None:
        return None
    return scheme, parts.hostname, port


def safe_url(value: str, *, allow_mailto: bool = False) -> str | None:
    """`value` as a browser would read it when it stays on this server (relative, or absolute on
    SITE_URL's origin; `mailto:` when allowed); None for anything else."""
    url = _TAB_OR_NEWLINE.sub("", value).strip(_C0_OR_SPACE)
    head = re.split(r"[?#]", url, maxsplit=1)[0]  # scheme, authority and path
    scheme = _SCHEME.match(url)
    if scheme is None:
        # Relative: a path, a query or a fragment, never an authority (`//host`, `/\host`,
        # `\\host`), nor a colon in the first segment (which is read as a scheme).
        if "\\" in head or head.startswith("//") or ":" in head.split("/", 1)[0]:
            return None
        return url
    name = scheme.group(1).lower()
    rest = url[scheme.end() :]
    if name == "mailto":
        return url if allow_mailto and "\\" not in head else None
    if name not in _DEFAULT_PORTS or "\\" in head or not rest.startswith("//"):
        return None  # `https:host` or `http:/\host`: read by browsers as another host
    authority = re.split(r"[/?#]", rest[2:], maxsplit=1)[0]
    site = urlsplit(settings.SITE_URL)
    ours = _origin(site.scheme.lower(), site.netloc)
    theirs = _origin(name, authority)
    if ours is None or theirs is None or theirs != (ours[0], ours[1].lower(), ours[2]):
        return None
    return url


def rerender_stored_html(*, lesson_model, version_model, batch: int = 500) -> int:
    """Render every stored lesson body and assignment prompt again from its Markdown, so HTML
    saved under older, looser rules follows the current ones (a data migration calls this with
    its historical models when the rules tighten). Returns how many rows changed."""
    changed = 0
    for model, source, target in ((lesson_model, "body_markdown", "body_html"),
                                  (version_model, "prompt_markdown", "prompt_html")):  # fmt: skip
        stale = []
        for obj in model.objects.only("pk", source, target).iterator(chunk_size=batch):
            html = render_markdown(getattr(obj, source))
            if html != getattr(obj, target):
                setattr(obj, target, html)
                stale.append(obj)
            if len(stale) >= batch:
                model.objects.bulk_update(stale, [target])
                changed, stale = changed + len(stale), []
        model.objects.bulk_update(stale, [target])
        changed += len(stale)
    return changed
