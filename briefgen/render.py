"""Turn the verified brief into HTML: one for screens, one for WeasyPrint to print.

One Jinja environment (autoescape on, StrictUndefined) whose loader looks in the project's
`templates/` first, then in the built-in templates, so a project overrides any file by name.
Both outputs come from the same context; `medium` tells the templates which one they make.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import re
from pathlib import Path

import jinja2
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from . import __version__
from .anchor import Anchor
from .citations import Citations, Note
from .errors import Diagnostic, Diagnostics
from .markup import render_markdown
from .outline import Excerpt
from .project import builtin_templates
from .sources import Source
from .theme import THEMES, style_context, style_css
from .verified import Verified

MAIN_TEMPLATE = "brief.html.j2"
REPORT_TEMPLATE = "report.html.j2"
STYLESHEETS = {
    "screen": ("base.css", "screen.css", "evidence.css"),
    "print": ("base.css", "print.css", "evidence.css"),
}


#: Environments by the template files they would read (see `make_environment`).
_ENVIRONMENTS: dict[tuple, jinja2.Environment] = {}


def make_environment(project_templates: Path) -> jinja2.Environment:
    """The Jinja environment for a project's templates.

    One per set of template files, kept for the process: `watch` rebuilds with the templates it
    compiled last time unless a template file was added, removed or changed (name, size and
    modification time of each, the project's and the built-in ones).
    """
    key = (
        str(project_templates),
        *_template_files(project_templates),
        *_template_files(builtin_templates()),
    )
    env = _ENVIRONMENTS.get(key)
    if env is None:
        if len(_ENVIRONMENTS) >= 8:
            _ENVIRONMENTS.clear()
        env = _ENVIRONMENTS[key] = _new_environment(project_templates)
    return env


def _template_files(folder: Path) -> tuple:
    found = []
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                try:
                    st = entry.stat()
                except OSError:
                    continue
                found.append((entry.name, st.st_size, st.st_mtime_ns, st.st_ino))
    except OSError:  # no templates/ folder
        return ()
    return tuple(sorted(found))


def _new_environment(project_templates: Path) -> jinja2.Environment:
    loaders = (
        [jinja2.FileSystemLoader(str(project_templates))] if project_templates.is_dir() else []
    )
    loaders.append(jinja2.FileSystemLoader(str(builtin_templates())))
    # Sandboxed: a project's template is untrusted too, and must not reach Python or files.
    env = SandboxedEnvironment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["long_date"] = long_date
    return env


def long_date(iso: str | None) -> str:
    """'2026-11-22' -> '22 November 2026' (the form briefs print)."""
    if not iso:
        return ""
    day = dt.date.fromisoformat(iso)
    return f"{day.day} {day:%B %Y}"


#: Where a citation's call goes in Markdown rendered once for both media. NUL cannot come out
#: of the sanitiser (the HTML parser turns it into U+FFFD), so these marks are only ours.
_CALL = re.compile("\x00(\\d+)\x00")


@functools.lru_cache(maxsize=4096)
def _marked_markdown(text: str, inline: bool) -> str:
    return str(render_markdown(text, lambda k: f"\x00{k}\x00", inline=inline))


def markdown_html(text: str, cite, inline: bool = False) -> Markup:
    """`render_markdown`, converting each text once per process: the screen and print pages
    differ only in their note calls (and `watch` rebuilds reuse unchanged text)."""
    return Markup(_CALL.sub(lambda m: cite(int(m.group(1))), _marked_markdown(text, inline)))


def _collapse(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def quote_paragraphs(anchor: Anchor) -> list[str]:
    """The source's own words, split where the source has paragraph breaks."""
    parts = re.split(r"\n\s*\n", anchor.text.strip())
    return [_collapse(p) for p in parts if p.strip()]


class NoteWriter:
    """Notes, or in-text citations, and their calls, as the brief's citation style prints them.

    Note styles (Chicago): each citation is a numbered note whose text the style writes (in full
    on first use, short or ibid. after). In-text styles (APA, Harvard, Chicago author-date): the
    citation itself, e.g. '(Mamedov and Lukyanov 2024, 9)', prints where the editor cited, each
    source in it linked to the source list, and there are no notes. See `briefgen.cite`.
    """

    def __init__(self, citations: Citations, medium: str):
        self.citations = citations
        self.medium = medium
        self.formatted = citations.formatted()

    @property
    def in_text(self) -> bool:
        return self.formatted.in_text

    def reference_html(self, note: Note) -> Markup:
        return Markup(self.formatted.notes[note.number - 1])

    def call(self, note: Note) -> str:
        body = self.reference_html(note)
        n = note.number
        if self.in_text:
            return f' <span class="cite" id="cite-{n}">{body}</span>'
        if self.medium == "print":
            return f'<span class="fn" id="note-{n}">{body}</span>'
        return (
            f'<sup class="note-call"><a href="#note-{n}" id="call-{n}" '
            f'aria-label="Note {n}">{n}</a></sup>'
        )

    def listed(self) -> list[dict]:
        """The notes the screen version lists after the text (none when citations are in-text)."""
        if self.in_text:
            return []
        return [{"number": n.number, "html": self.reference_html(n)} for n in self.citations.notes]


def build_context(verified: Verified, medium: str) -> dict:
    """The template context (every variable is documented in the README)."""
    outline, citations = verified.outline, verified.citations
    notes = NoteWriter(citations, medium)

    def caller(key: tuple):
        return lambda k: (
            notes.call(citations.by_place[(*key, k)]) if (*key, k) in citations.by_place else ""
        )

    summary = [
        markdown_html(p.markdown, caller(("summary", i)), inline=True)
        for i, p in enumerate(outline.summary)
    ]
    sections = []
    for section in outline.sections:
        blocks = []
        for i, block in enumerate(section.blocks):
            key = (section.number, i)
            if isinstance(block, Excerpt):
                anchor = verified.anchors[(section.number, block.index)]
                source = verified.sources[block.source]
                blocks.append(
                    {
                        "type": "excerpt",
                        "paragraphs": quote_paragraphs(anchor),
                        "status": anchor.status,
                        "source": source_entry(source, citations),
                        "call": Markup(notes.call(citations.by_place[(*key, "quote")])),
                        "note": markdown_html(block.note, caller((*key, "note")), inline=True)
                        if block.note
                        else None,
                    }
                )
            else:
                blocks.append(
                    {
                        "type": block.kind,
                        "html": markdown_html(
                            block.markdown, caller(key), inline=block.kind != "prose"
                        ),
                    }
                )
        headings = [b for b in blocks if b["type"] == "heading"]
        texts = [b.markdown for b in section.blocks if getattr(b, "kind", "") == "heading"]
        for n, (heading, text) in enumerate(zip(headings, texts, strict=True), start=1):
            heading.update(
                number=f"{section.number}.{n}",
                id=f"{section.id}-{n}",
                title=markdown_html(text, lambda _k: "", inline=True),
            )
        sections.append(
            {
                "id": section.id,
                "number": section.number,
                "title": section.title,
                "blocks": blocks,
                "headings": headings,
            }
        )
    return {
        "brief": {
            "title": outline.title,
            "subtitle": outline.subtitle,
            "series": outline.series,
            "date": outline.date,
            "authors": [a.__dict__ for a in outline.authors],
            "organization": outline.organization,
            "distribution": outline.distribution,
            "keywords": list(outline.keywords) or [s.title for s in outline.sections],
            "language": outline.language,
            "report_number": outline.report_number,
        },
        "theme": outline.theme,
        "style": style_context(outline.style),
        "style_css": Markup(style_css(outline.style)),
        "summary": summary,
        "sections": sections,
        "notes": notes.listed(),
        "sources": [
            source_entry(verified.sources[i], citations) for i in citations.bibliography_order
        ],
        "evidence": verified.evidence(),
        "medium": medium,
        "generator": f"briefgen {__version__}",
    }


def source_entry(source: Source, citations: Citations) -> dict:
    """A source for the templates: its fields, and `html`, its entry as the style lists it."""
    meta = source.meta
    return {
        "html": Markup(citations.formatted().entries.get(source.id, "")),
        "id": source.id,
        "number": citations.number_of(source.id),
        "title": meta.title,
        "publisher": meta.publisher,
        "authors": list(meta.authors),
        "date": meta.date,
        "url": meta.url,
        "accessed": meta.accessed,
    }


def render_html(
    env: jinja2.Environment, verified: Verified, medium: str, diags: Diagnostics
) -> str | None:
    """The HTML for `medium` ('screen' or 'print'), or None with template errors in `diags`."""
    theme = THEMES[verified.outline.theme]
    try:
        context = build_context(verified, medium)
        context["css"] = Markup(
            "\n".join(
                env.loader.get_source(env, name)[0]
                for name in theme.stylesheets(STYLESHEETS[medium])
            )
        )
        return env.get_template(theme.template(MAIN_TEMPLATE)).render(context)
    except jinja2.TemplateSyntaxError as exc:
        diags.append(
            Diagnostic(
                _template_path(env, exc.name or exc.filename),
                exc.lineno or 1,
                1,
                f"template syntax: {exc.message}",
            )
        )
    except jinja2.TemplateNotFound as exc:
        path, line = _template_frame(exc)
        diags.append(
            Diagnostic(
                path or _template_path(env, MAIN_TEMPLATE),
                line,
                1,
                f"template not found: '{exc.name}' (templates come from the project's "
                "templates/ folder or the built-in ones, by plain file name)",
            )
        )
    except Exception as exc:  # any failure inside template code is the template's error
        path, line = _template_frame(exc)
        if path is None:
            raise
        diags.append(
            Diagnostic(
                path,
                line,
                1,
                f"template: {type(exc).__name__}: {exc}"
                if not isinstance(exc, jinja2.UndefinedError)
                else f"template: {exc}",
            )
        )
    return None


def _template_path(env: jinja2.Environment, name: str | None) -> Path:
    if name and Path(name).is_absolute():
        return Path(name)
    for loader in env.loader.loaders:
        for folder in loader.searchpath:
            candidate = Path(folder) / (name or MAIN_TEMPLATE)
            if candidate.is_file():
                return candidate
    return Path(name or MAIN_TEMPLATE)


def _template_frame(exc: BaseException) -> tuple[Path | None, int]:
    """The innermost template file and line in the traceback (Jinja rewrites frames to them)."""
    found: tuple[Path | None, int] = (None, 1)
    tb = exc.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.endswith((".j2", ".html", ".jinja")):
            found = (Path(filename), tb.tb_lineno)
        tb = tb.tb_next
    return found


def render_report(env: jinja2.Environment, report, diags: Diagnostics) -> str | None:
    """output/report.html: what changed since the last good build, excerpt by excerpt."""
    sources = report.sources
    context = {
        "title": report.verified.outline.title if report.verified else "",
        "first_build": report.first_build,
        "sources": {
            "added": list(sources.added),
            "removed": list(sources.removed),
            "changed": list(sources.changed),
        },
        "counts": report.counts("change"),
        "excerpts": [
            {
                "section": e.section,
                "index": e.index,
                "source": e.source,
                "line": e.line,
                "status": e.anchor.status,
                "score": e.anchor.score,
                "change": e.change.change,
                "text": e.anchor.text,
                "previous": e.change.old_text,
                "diff": list(e.change.diff),
            }
            for e in report.excerpts
        ],
        "messages": [d.format(report.project.root) for d in diags],
        "generator": f"briefgen {__version__}",
    }
    try:
        return env.get_template(REPORT_TEMPLATE).render(context)
    except Exception as exc:
        path, line = _template_frame(exc)
        if path is None:
            raise
        diags.append(Diagnostic(path, line, 1, f"template: {exc}"))
        return None
