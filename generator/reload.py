"""What the dev server tells the browser after a rebuild, and the script that listens.

The server speaks livereload's protocol and serves its livereload.js; this module adds one
livereload plugin to every HTML response. The server names the pages whose bytes changed
(`page:` messages), and the plugin reloads the page only if it is one of them: a page no edit
touched never flickers, and the page being edited reloads as soon as its own file is written
(the server announces it before the listings that also show the article are re-rendered). A
stylesheet edit is hot-swapped by livereload.js itself; anything else ("*") reloads every page.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from urllib.parse import quote

HEAD_WINDOW = 65536  # like livereload: only look for </head> near the top of a page
PAGES_PREFIX = "page:"
MOST_PAGES_NAMED = 200  # more changed pages than this: reload everything instead

# A livereload.js plugin (livereload.js adds every window.LiveReloadPlugin* it finds). reload()
# returns true when it has handled the message: for a `page:` list not naming this page, that
# means doing nothing. Otherwise livereload.js goes on and reloads the page.
_PLUGIN = (
    "window.LiveReloadPluginNewsgen=function(){};"
    'window.LiveReloadPluginNewsgen.identifier="newsgen";'
    'window.LiveReloadPluginNewsgen.version="1.0";'
    "window.LiveReloadPluginNewsgen.prototype.reload=function(path){"
    f'if(path.indexOf("{PAGES_PREFIX}")!==0)return false;'
    'var here=location.pathname.replace(/index\\.html$/,"");'
    f'return path.slice({len(PAGES_PREFIX)}).split("\\n").indexOf(here)<0;}};'
)


def live_script(generation: int) -> bytes:
    """The snippet injected before </head>: the plugin, then livereload.js.

    livereload.js sends `snipver` back in its handshake: the server learns which build the page
    shows, so a page that loaded just before a rebuild finished is reloaded when it connects.
    """
    return ("<script>(function(){" + _PLUGIN + 'var s=document.createElement("script");'
            'var p=location.port||(location.protocol=="https:"?443:80);'
            f's.src="/livereload.js?port="+p+"&snipver={generation}";'
            "document.head.appendChild(s);})();</script>").encode("ascii")


def inject(body: bytes, script: bytes) -> bytes:
    at = body[:HEAD_WINDOW].lower().find(b"</head>")
    return body + script if at < 0 else body[:at] + script + body[at:]


def reload_message(sources: Iterable[Path], outputs: list[str], base_path: str) -> str | None:
    """The path livereload gets for these changed outputs: a stylesheet (hot-swapped), a
    `page:` list of changed pages, "*" (reload every page), or None (no page changed)."""
    css = [output for output in outputs if output.endswith(".css")]
    # Pages change too after a CSS edit (they link the new fingerprint), but only in that link.
    sources = list(sources)
    only_css_sources = bool(sources) and all(path.suffix == ".css" for path in sources)
    if css and (only_css_sources or len(css) == len(outputs)):
        return base_path + css[0]
    if css:
        return "*"
    pages = [page_url(output, base_path) for output in outputs if output.endswith(".html")]
    if not pages:
        return None  # feeds, sitemaps, search index: no open page shows them
    if len(pages) > MOST_PAGES_NAMED:
        return "*"
    return PAGES_PREFIX + "\n".join(sorted(pages))


def page_url(output: str, base_path: str) -> str:
    """The URL path (as location.pathname has it) of an output file: 'a/index.html' -> '/a/'."""
    path = output[: -len("index.html")] if output.endswith("index.html") else output
    return quote(base_path + path)
