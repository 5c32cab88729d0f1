"""The verify stage's result: everything checked and ready to render.

Kept apart from `render` so that verifying (`check`, a build's first stage) does not import
Jinja, Markdown or the evidence figures: `check` never renders.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .anchor import Anchor
from .citations import Citations
from .outline import Outline
from .sources import Source


@dataclass(frozen=True)
class Verified:
    """Everything checked and ready to render (the output of the verify stage)."""

    outline: Outline
    sources: dict[str, Source]
    anchors: dict[tuple[int, int], Anchor]  # (section number, excerpt index) -> anchor
    citations: Citations
    #: what both media share, made once (the evidence appendix); not part of the value
    shared: dict = field(default_factory=dict, compare=False, repr=False)

    def evidence(self) -> dict:
        """The `evidence` template variable: the same for screen and print."""
        if "evidence" not in self.shared:
            from .evidence import evidence_context

            self.shared["evidence"] = evidence_context(self.outline, self.citations)
        return self.shared["evidence"]
