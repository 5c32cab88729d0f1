"""Looks and house style: which templates a brief uses, and the outline's `style:` settings.

A **theme** (`theme:` in the outline) is a set of built-in templates and stylesheets, named by
plain file names so that a project overrides any of them by putting a file of the same name in
its `templates/` folder. `brief` is the think-tank brief (colour cover, contents page, summary
page); `report` is a plain research-service report (masthead and boxed summary on page one,
numbered headings, sober type).

The **style** (`style:` in the outline) is the organisation's logo, colours and fonts. It is
validated here (a logo inside the project that exists and is an image; colours as CSS hex
colours; fonts as plain family names, never CSS) and handed to the templates as data: the logo as
a `data:` URI, colours and fonts as CSS custom properties (`--style-accent`, `--style-font-body`,
...) in one generated `:root { ... }` rule. The stylesheets read them with a fallback, e.g.
`--accent: var(--style-accent, #8a1c2b)`, so the generated rule may come in any order.
"""

from __future__ import annotations

import base64
import functools
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from .errors import Diagnostics
from .project import Project, UnreadableFile, read_limited
from .schema import Reader, clip, kind, suggest, where
from .yamlfile import MDict, MList


@dataclass(frozen=True)
class Theme:
    """A look: which files stand in for the built-in brief's files (by plain file name).

    The default theme replaces nothing. Another theme maps a file name of the default look to the
    files used in its place: `"print.css": ("report-print.css",)` swaps one stylesheet,
    `"base.css": ("base.css", "report-base.css")` adds one after it. Stylesheets the default
    look gains later (an appendix's, say) are kept, in their place.
    """

    name: str
    replaces: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def template(self, name: str) -> str:
        """The template this theme uses for the built-in template `name`."""
        return self.replaces.get(name, (name,))[0]

    def stylesheets(self, names: tuple[str, ...]) -> tuple[str, ...]:
        """The stylesheets, in cascade order, that this theme uses for the default's `names`."""
        return tuple(n for name in names for n in self.replaces.get(name, (name,)))


THEMES = {
    "brief": Theme("brief"),
    "report": Theme(
        "report",
        {
            "brief.html.j2": ("report-brief.html.j2",),
            "base.css": ("base.css", "report-base.css"),
            "screen.css": ("screen.css", "report-screen.css"),
            "print.css": ("report-print.css",),
        },
    ),
}
DEFAULT_THEME = "brief"

STYLE_KEYS = {"logo", "colors", "fonts"}
#: Colour name -> what it colours (the README's table is made from the same words).
COLORS = {
    "accent": "headings, rules, note numbers; the cover of the brief theme",
    "highlight": "background of key points (default: a tint of the accent)",
    "ink": "text",
    "muted": "secondary text: captions, running heads",
    "rule": "thin lines",
    "paper": "page background",
}
#: Font role -> what it sets.
FONTS = {
    "body": "running text",
    "headings": "headings, cover, contents, captions, notes",
}
GENERIC_FAMILIES = {
    "serif",
    "sans-serif",
    "monospace",
    "cursive",
    "fantasy",
    "system-ui",
    "ui-serif",
    "ui-sans-serif",
    "ui-monospace",
    "math",
}
LOGO_TYPES = "PNG, JPEG, GIF, WebP or SVG"
LOGO_WARN_BYTES = 1_000_000
MAX_LOGO_BYTES = 10_000_000
#: A raster logo's pixels, at most: a small file can decode to gigabytes (a "decompression bomb").
MAX_LOGO_PIXELS = 25_000_000

_HEX = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
# A family name: letters and digits of any script, spaces, '-', '.' and '_'; nothing CSS could
# read as syntax (quotes, ';', ':', '{', '}', '(', ')', '/', '\', ',', '<', '>', '!', '@').
_FONT = re.compile(r"^\w[\w .\-]*$")


@dataclass(frozen=True)
class Style:
    """The organisation's house style, validated (empty: the theme's own look)."""

    logo: Path | None = None  # resolved, inside the project
    logo_type: str | None = None  # MIME type, from the file's content
    colors: dict[str, str] = field(default_factory=dict)  # name -> '#rrggbb'
    fonts: dict[str, tuple[str, ...]] = field(default_factory=dict)  # role -> family names


def read_theme(reader: Reader, data: MDict) -> str:
    """The outline's `theme:` (default 'brief'); an unknown name is an error with a suggestion."""
    name = reader.text(data, "theme", "the outline")
    if name is None:
        return DEFAULT_THEME
    if name not in THEMES:
        reader.error(
            where(data["theme"], data, "theme"),
            f"unknown theme '{name}'{suggest(name, THEMES, 'themes')}",
        )
        return DEFAULT_THEME
    return name


def check_template_links(root: Path, diags: Diagnostics) -> None:
    """Report every link in the project's templates/ that leads out of the project.

    Jinja's loader and the stylesheets follow links, so a `templates/print.css` linked to a file
    elsewhere would print that file into the brief. Links that stay inside are followed here too
    (a linked folder may hold further links); each real folder is visited once.
    """
    project = Project(root.resolve())
    folders, seen = [project.templates], set()
    while folders:
        folder = folders.pop()
        if not project.contains(folder):
            _outside_link(project, folder, diags)
            continue
        real = folder.resolve()
        if real in seen or not folder.is_dir():
            continue
        seen.add(real)
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            path = Path(entry.path)
            if entry.is_dir():  # a folder, or a link to one: checked when visited
                folders.append(path)
            elif entry.is_symlink() and not project.contains(path):
                _outside_link(project, path, diags)


def _outside_link(project: Project, path: Path, diags: Diagnostics) -> None:
    try:
        target = os.readlink(path)
    except OSError:
        target = str(path.resolve())
    diags.error(
        path,
        1,
        1,
        f"this is a link to '{target}', outside the project: templates may only use files "
        "inside the project; copy the file into templates/ instead",
    )


def read_style(reader: Reader, data: MDict, root: Path) -> Style:
    """The outline's `style:` mapping, every problem reported where it is."""
    value = data.get("style")
    if value is None:
        return Style()
    style = reader.mapping(value, "'style'", at=data.mark_of("style"))
    if style is None:
        return Style()
    reader.keys(style, STYLE_KEYS, set(), "'style'")
    logo, logo_type = _logo(reader, style, root)
    return Style(logo, logo_type, _colors(reader, style), _fonts(reader, style))


def _logo(reader: Reader, style: MDict, root: Path) -> tuple[Path | None, str | None]:
    text = reader.text(style, "logo", "'style'")
    if text is None:
        return None, None
    at = where(style["logo"], style, "logo")
    root = root.resolve()
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]+:", text):  # https://..., file://..., data:...
        reader.error(
            at,
            f"logo '{clip(text)}' is an address; a build fetches nothing: save the image in the "
            "project and give its path from the project folder, e.g. content/logo.svg",
        )
        return None, None
    given = Path(text)
    path = given if given.is_absolute() else root / given
    try:
        resolved = path.resolve(strict=True)
    except (OSError, RuntimeError, ValueError):  # ValueError: a NUL in the path
        hint = ""
        for folder in ("content",):
            try:
                if not given.is_absolute() and (root / folder / given).is_file():
                    hint = f" (did you mean '{folder}/{text}'?)"
            except OSError:  # a name too long, say
                pass
        reader.error(
            at,
            f"logo '{text}' not found{hint}; the path is relative to the project folder, "
            "e.g. content/logo.svg",
        )
        return None, None
    try:
        resolved.relative_to(root)
    except ValueError:
        reader.error(
            at,
            f"logo '{text}' is outside the project; put the image inside the project folder "
            "(e.g. content/logo.svg) and give its path from there",
        )
        return None, None
    if not resolved.is_file():
        reader.error(at, f"logo '{text}' is not a file")
        return None, None
    try:
        data = read_limited(resolved, MAX_LOGO_BYTES, "a logo")
    except UnreadableFile as exc:
        reader.error(at, f"logo '{text}' {exc}")
        return None, None
    size = len(data)
    mime = image_type(data[:2048])
    if mime is None:
        reader.error(at, f"logo '{text}' is not a {LOGO_TYPES} image")
        return None, None
    problem = svg_problem(data) if mime == "image/svg+xml" else raster_problem(data)
    if problem:
        reader.error(at, f"logo '{text}' {problem}")
        return None, None
    if size > LOGO_WARN_BYTES:
        reader.diags.warning(
            reader.path,
            at[0],
            at[1],
            f"logo '{text}' is {size / 1e6:.1f} MB; it is embedded in the HTML and the PDF, "
            "so a smaller file (an SVG, or a PNG under 200 KB) keeps them light",
        )
    return resolved, mime


def image_type(head: bytes) -> str | None:
    """The MIME type of an image from its first bytes, or None if it is not one we embed."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    text = head.lstrip(b"\xef\xbb\xbf").lstrip()
    if text.startswith((b"<?xml", b"<svg", b"<!--", b"<!DOCTYPE svg")) and b"<svg" in head:
        return "image/svg+xml"
    return None


_CSS_URL = re.compile(r"""url\(\s*['"]?\s*([^)'"]*)""", re.I)
_EMBEDDED = re.compile(r"^\s*(#|data:image/(png|jpeg|gif|webp)[;,])", re.I)


def svg_problem(data: bytes) -> str | None:
    """Why an SVG logo cannot be used, or None. A logo must draw itself and refer to nothing:
    WeasyPrint parses the SVG and would fetch what it names (the fetcher refuses anything outside
    the project, but a refusal inside an SVG is only logged, and the logo silently dropped)."""
    from xml.etree import ElementTree

    if re.search(rb"<!ENTITY|<\?xml-stylesheet", data, re.I):
        return (
            "declares XML entities or a stylesheet (<!ENTITY ...>, <?xml-stylesheet ...?>); "
            "a logo must be a plain drawing: remove them"
        )
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError as exc:
        return f"is not well-formed SVG ({exc})"
    for element in root.iter():
        tag = element.tag.rsplit("}", 1)[-1] if isinstance(element.tag, str) else ""
        if tag in ("script", "foreignObject"):
            return f"holds a <{tag}> element; a logo must be a plain drawing"
        values = [(name.rsplit("}", 1)[-1], value) for name, value in element.attrib.items()]
        if tag == "style":
            values.append(("style", element.text or ""))
        for name, value in values:
            refs = [value] if name in ("href", "src") else _CSS_URL.findall(value)
            if "@import" in value.lower():
                refs.append("@import")
            for ref in refs:
                if not _EMBEDDED.match(ref):
                    return (
                        f"refers to '{clip(ref.strip(), 200)}' (in <{tag}>); a logo must be "
                        "self-contained: a build fetches nothing outside the logo itself"
                    )
    return None


def raster_problem(data: bytes) -> str | None:
    """Why a PNG, JPEG, GIF or WebP logo cannot be used (too many pixels, unreadable), or None."""
    import io
    import warnings

    from PIL import Image

    too_many = (
        f"; a logo may have at most {MAX_LOGO_PIXELS // 1_000_000} million pixels "
        "(it prints a few centimetres wide)"
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # DecompressionBombWarning: measured below
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
    except Image.DecompressionBombError:  # Pillow's own limit, far above ours
        return "has far too many pixels" + too_many
    except Exception as exc:  # Pillow raises many kinds on a damaged file
        return f"cannot be read as an image ({type(exc).__name__})"
    if width * height > MAX_LOGO_PIXELS:
        return f"is {width} x {height} pixels" + too_many
    return None


def _colors(reader: Reader, style: MDict) -> dict[str, str]:
    value = style.get("colors")
    if value is None:
        return {}
    colors = reader.mapping(value, "'colors' of 'style'", at=style.mark_of("colors"))
    if colors is None:
        return {}
    reader.keys(colors, set(COLORS), set(), "'colors' of 'style'")
    found = {}
    for name in COLORS:
        if name not in colors:
            continue
        raw = colors[name]
        at = where(raw, colors, name)
        if raw is None or raw == "":
            reader.error(
                at,
                f"colour '{name}' is empty; write hex colours in quotes, since '#' starts a "
                f'YAML comment: {name}: "#1f3a5f"',
            )
        elif not isinstance(raw, str) or not _HEX.match(raw.strip()):
            shown = f"'{raw}'" if isinstance(raw, str) else kind(raw)
            reader.error(
                at,
                f'colour \'{name}\' must be a CSS hex colour such as "#1f3a5f" or "#135", '
                f"not {shown}",
            )
        else:
            found[name] = _long_hex(raw.strip())
    _check_contrast(reader, colors, found)
    return found


def _long_hex(color: str) -> str:
    color = color.lower()
    return "#" + "".join(c * 2 for c in color[1:]) if len(color) == 4 else color


def _check_contrast(reader: Reader, colors: MDict, found: dict[str, str]) -> None:
    """Warn when text would be hard to read: WCAG AA asks 4.5:1 for text, 3:1 for large text."""
    paper = found.get("paper", "#ffffff")
    checks = (("ink", "#1d2330", 4.5, "text"), ("accent", None, 3.0, "headings"))
    for name, default, needed, what in checks:
        color = found.get(name, default if "paper" in found else None)
        if color is None:
            continue
        ratio = contrast(color, paper)
        if ratio < needed:
            key = name if name in found else "paper"
            at = where(colors[key], colors, key)
            reader.diags.warning(
                reader.path,
                at[0],
                at[1],
                f"'{name}' {color} on 'paper' {paper} has a contrast of {ratio:.1f}:1; "
                f"{what} need at least {needed:g}:1 to be readable",
            )


def _luminance(color: str) -> float:
    def channel(c: int) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: str, b: str) -> float:
    """The WCAG contrast ratio of two '#rrggbb' colours (1 to 21)."""
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def mix(a: str, b: str, amount: float) -> str:
    """`amount` of colour `a` over colour `b` ('#rrggbb')."""
    parts = []
    for i in (1, 3, 5):
        x, y = int(a[i : i + 2], 16), int(b[i : i + 2], 16)
        parts.append(f"{round(x * amount + y * (1 - amount)):02x}")
    return "#" + "".join(parts)


def _fonts(reader: Reader, style: MDict) -> dict[str, tuple[str, ...]]:
    value = style.get("fonts")
    if value is None:
        return {}
    fonts = reader.mapping(value, "'fonts' of 'style'", at=style.mark_of("fonts"))
    if fonts is None:
        return {}
    reader.keys(fonts, set(FONTS), set(), "'fonts' of 'style'")
    found = {}
    for role in FONTS:
        if role not in fonts:
            continue
        raw = fonts[role]
        items = raw if isinstance(raw, MList) else [raw]
        names = []
        for item in items:
            at = where(item, fonts, role) if hasattr(item, "line") else fonts.mark_of(role)
            if not isinstance(item, str) or not item.strip():
                reader.error(
                    at,
                    f"font '{role}' must be a family name or a list of them, not {kind(item)}",
                )
                continue
            name = " ".join(item.split())
            if "," in name and all(_FONT.match(p.strip()) for p in name.split(",") if p.strip()):
                reader.error(
                    at,
                    f"font '{role}' lists several families in one text; write them as a "
                    f"YAML list: {role}: [{', '.join(p.strip() for p in name.split(','))}]",
                )
            elif len(name) > 64 or not _FONT.match(name):
                reader.error(
                    at,
                    f"font '{role}' must be a plain family name such as \"Noto Serif\" "
                    "(letters, digits, spaces, '-', '.'), not CSS: "
                    f"'{name[:60]}'",
                )
            else:
                names.append(name)
                _check_installed(reader, at, role, name)
        if names:
            found[role] = tuple(names)
    return found


def _check_installed(reader: Reader, at: tuple[int, int], role: str, name: str) -> None:
    families = installed_families()
    if families is None or name.lower() in GENERIC_FAMILIES or name.casefold() in families:
        return
    reader.diags.warning(
        reader.path,
        at[0],
        at[1],
        f"font '{name}' ({role}) is not installed on this machine, so the PDF uses the theme's "
        "own font instead; install it (fc-list lists the fonts installed)",
    )


@functools.cache
def installed_families() -> frozenset[str] | None:
    """Case-folded family names fontconfig knows (what WeasyPrint can use), or None if unknown."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return None
    try:
        out = subprocess.run(
            [fc_list, ":", "family"], capture_output=True, text=True, timeout=20, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return frozenset(
        name.strip().casefold() for line in out.splitlines() for name in line.split(",")
    )


# --- what the templates get -------------------------------------------------------------------


def style_css(style: Style) -> str:
    """The generated `:root { ... }` rule: one custom property per setting, values validated."""
    props = []
    colors = dict(style.colors)
    if "accent" in colors:
        paper = colors.get("paper", "#ffffff")
        colors.setdefault("highlight", mix(colors["accent"], paper, 0.09))
        on_accent = "#ffffff"
        if contrast(colors["accent"], on_accent) < 4.5:
            on_accent = "#111111"
        props.append(("--style-on-accent", on_accent))
    for name in COLORS:
        if name in colors:
            props.append((f"--style-{name}", colors[name]))
    for role, names in style.fonts.items():
        props.append((f"--style-font-{role}", ", ".join(css_family(n) for n in names)))
    if not props:
        return ""
    body = " ".join(f"{name}: {value};" for name, value in props)
    return f":root {{ {body} }}\n"


def css_family(name: str) -> str:
    """A validated family name as CSS: generic families bare, others quoted."""
    if name.lower() in GENERIC_FAMILIES:
        return name.lower()
    if not _FONT.match(name):  # validated on reading; never emit anything else
        raise ValueError(f"not a plain font family name: {name!r}")
    return f'"{name}"'


def logo_data_uri(style: Style) -> str | None:
    """The logo as a `data:` URI, so the HTML stays one self-contained file."""
    if style.logo is None:
        return None
    data = base64.b64encode(style.logo.read_bytes()).decode("ascii")
    return f"data:{style.logo_type};base64,{data}"


def style_context(style: Style) -> dict:
    """The `style` template variable."""
    return {
        "logo": logo_data_uri(style),
        "colors": dict(style.colors),
        "fonts": {role: list(names) for role, names in style.fonts.items()},
    }
