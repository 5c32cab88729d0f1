"""Citation syntax, note numbering by first use, and the source order."""

from briefgen.build import verify
from briefgen.citations import Reference, parse_citation
from briefgen.project import Project


def test_parse_citation_forms():
    assert parse_citation("@a") == [Reference("a")]
    assert parse_citation("@a, p. 9") == [Reference("a", "p. 9")]
    assert parse_citation("@a; @b-2, pp. 3-4") == [Reference("a"), Reference("b-2", "pp. 3-4")]
    assert parse_citation("not a citation") is None
    assert parse_citation("@a; plain") is None


def test_notes_numbered_in_reading_order(project):
    report = verify(Project(project))
    citations = report.verified.citations
    assert [[r.source_id for r in n.references] for n in citations.notes] == [
        ["lavrov"],  # summary
        ["lavrov"],  # history prose, p. 2
        ["lavrov"],  # history excerpt
        ["energy"],  # key point
        ["energy", "lavrov"],  # energy prose
        ["energy"],  # energy excerpt
    ]
    assert [n.first_use for n in citations.notes][:5] == [
        (True,),
        (False,),
        (False,),
        (True,),
        (False, False),
    ]
    assert citations.notes[1].references[0].locator == "p. 2"
    assert citations.order == ("lavrov", "energy")
