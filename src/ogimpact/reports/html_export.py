"""A report notebook as one self-contained, offline HTML file (and, where Chromium is installed, a PDF).

nbconvert's lab template with inputs hidden, then made self-contained: every ``<script>`` is
dropped (a report needs no JavaScript: no require.js, MathJax or mermaid from a CDN, so an
offline reader sees no console error and waits for no request), the page ``<title>`` states the
report's question, a small print-friendly stylesheet is inlined, and any image that still lacks
an alt text gets one saying what it is (report figures carry generated descriptions already).

PDF: Chromium's print-to-PDF through Playwright (a maintained renderer), with the system
Chromium (``OGIMPACT_CHROMIUM``, else ``chromium`` / ``chromium-browser`` / ``google-chrome`` on
the path); no browser is ever downloaded.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

from ..atomic import atomic_write_bytes, atomic_write_text
from ..errors import OgimpactError

__all__ = ["export_html", "prepare_exporter", "export_pdf", "make_self_contained", "chromium_path", "REPORT_CSS"]

REPORT_CSS = """
main { max-width: 1180px; margin: 0 auto; padding: 0 24px 48px; }
.jp-Cell { padding: 0 !important; }
.jp-OutputArea-output { overflow-x: auto; }
h1 { font-size: 1.7em; line-height: 1.25; margin: 0.6em 0 0.3em; }
.ogi-summary { border-left: 4px solid #0072B2; padding: 4px 16px 8px; margin: 8px 0 16px; background: #f5f9fc; }
.ogi-summary h2 { margin-top: 0.4em; }
p.headline { font-size: 1.08em; line-height: 1.45; margin: 0.35em 0; }
figure.ogi-figure { margin: 8px 0 16px; width: 100%; }
figure.ogi-figure img { width: 100%; height: auto; }
details.ogi-long-table > summary { cursor: pointer; color: #0072B2; margin: 6px 0; }
@media print { details.ogi-long-table { display: block; } .ogi-summary { break-inside: avoid; } }
"""


def make_self_contained(markup: str, *, title: str | None = None) -> str:
    """Drop every script, set the title, inline the report stylesheet, give images an alt text."""
    from bs4 import BeautifulSoup, Comment

    soup = BeautifulSoup(markup, features="html.parser")
    for s in soup.find_all("script"):
        s.decompose()
    for c in soup.find_all(string=lambda t: isinstance(t, Comment)):  # "Load mathjax" etc.: template notes
        c.extract()
    for link in soup.find_all("link"):
        href = link.get("href") or ""
        if href.startswith(("http:", "https:", "//")):
            link.decompose()
    head = soup.head or soup.new_tag("head")
    if title:
        if soup.title is None:
            head.append(soup.new_tag("title"))
        soup.title.string = title
    style = soup.new_tag("style")
    style.string = REPORT_CSS
    head.append(style)
    for img in soup.find_all("img"):
        alt = (img.get("alt") or "").strip()
        if not alt or alt.startswith("No description"):
            img["alt"] = "Figure of the report (no description was generated for this image)."
    return str(soup)


def prepare_exporter():
    """nbconvert's lab HTML exporter, configured for reports (inputs and prompts hidden), templates compiled.

    The report runner calls this in a thread while the notebook executes (its process is idle then), so
    the 0.3-0.5 s of nbconvert imports and Jinja template compilation are off the report's wall time.
    """
    import nbformat
    from bs4 import BeautifulSoup  # noqa: F401 - imported here so the export after the run finds it loaded
    from nbconvert import HTMLExporter

    exp = HTMLExporter(template_name="lab")
    exp.exclude_input = True
    exp.exclude_input_prompt = True
    exp.exclude_output_prompt = True
    exp.from_notebook_node(nbformat.v4.new_notebook())  # compiles the templates once
    return exp


def export_html(nb_path: Path, html_path: Path, *, title: str | None = None, exporter=None) -> None:
    """Executed notebook -> self-contained ``report.html`` (inputs and prompts hidden).

    ``exporter`` is one from :func:`prepare_exporter` (made here when not given).
    """
    import nbformat

    nb = nbformat.read(nb_path, as_version=4)
    if title:
        nb.metadata["title"] = title
    exp = exporter if exporter is not None else prepare_exporter()
    body, _ = exp.from_notebook_node(nb)
    atomic_write_text(Path(html_path), make_self_contained(body, title=title))


def chromium_path() -> str | None:
    """The system Chromium (``OGIMPACT_CHROMIUM`` first), or None."""
    env = os.environ.get("OGIMPACT_CHROMIUM")
    if env and Path(env).exists():
        return env
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        p = shutil.which(name)
        if p:
            return p
    return None


def export_pdf(html_path: Path, pdf_path: Path) -> None:
    """Print ``report.html`` to PDF with Chromium (A4, backgrounds on), offline."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise OgimpactError("PDF export needs the playwright package (pip install playwright) and a system "
                            "Chromium; install them or use the HTML report.") from None
    exe = chromium_path()
    if exe is None:
        raise OgimpactError("PDF export needs Chromium; install it (e.g. apt-get install chromium) or set "
                            "OGIMPACT_CHROMIUM to its path.")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, args=["--no-sandbox"])
        try:
            page = browser.new_context(offline=True).new_page()
            page.goto(Path(html_path).resolve().as_uri(), wait_until="load")
            page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
            data = page.pdf(format="A4", print_background=True,
                            margin={"top": "14mm", "bottom": "14mm", "left": "12mm", "right": "12mm"})
        finally:
            browser.close()
    atomic_write_bytes(Path(pdf_path), data)
