"""The documentation cites only what the repository holds, and the README stays a front page.

Every relative link of README.md, docs/**/*.md and benchmarks/*.md must name an existing file or
folder (and, with ``#anchor``, a heading of that markdown file); links inside code are not links.
README.md is at most 150 lines. Every method page cites its paper with a link, and the defaults its
first yaml block gives for the method's own section are the code's.
"""

import re
from pathlib import Path

import pytest
import yaml

from solo_ext.config import ColorMAESettings, MagmaSettings, SMAESettings, ViCMAESettings

ROOT = Path(__file__).resolve().parents[2]
README_MAX_LINES = 150
PAPER_LINK = re.compile(r"https://(arxiv\.org/abs/|doi\.org/|openreview\.net/forum\?id=)")

FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"(`+)(?:(?!\1).)+?\1", re.DOTALL)
INLINE_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_LINK = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$", re.MULTILINE)
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def doc_files():
    files = [ROOT / "README.md"]
    for folder in ("docs", "benchmarks"):
        files += sorted((ROOT / folder).rglob("*.md"))
    return [f for f in files if f.is_file()]


def without_code(text: str) -> str:
    return INLINE_CODE.sub("", FENCE.sub("", text))


def links(text: str):
    prose = without_code(text)
    return INLINE_LINK.findall(prose) + REFERENCE_LINK.findall(prose)


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]|<[^>]+>", "", heading.strip().lower())
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(markdown: Path) -> set:
    prose = FENCE.sub("", markdown.read_text())
    return {slug(h) for h in re.findall(r"^#{1,6}\s+(.+?)\s*#*\s*$", prose, re.MULTILINE)}


def broken_links(doc: Path):
    """(link, why) for every relative link of ``doc`` that points at nothing."""
    broken = []
    for target in links(doc.read_text()):
        if SCHEME.match(target):
            continue
        path, _, anchor = target.partition("#")
        resolved = (doc.parent / path).resolve() if path else doc
        if not resolved.exists():
            broken.append((target, f"{resolved} does not exist"))
        elif anchor and resolved.suffix == ".md" and anchor.lower() not in anchors(resolved):
            broken.append((target, f"no heading #{anchor} in {resolved.name}"))
    return broken


@pytest.mark.parametrize("doc", doc_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_point_into_the_repository(doc):
    assert broken_links(doc) == []


def test_readme_is_at_most_150_lines():
    lines = len((ROOT / "README.md").read_text().splitlines())
    assert lines <= README_MAX_LINES, (
        f"README.md has {lines} lines; move detail into docs/ (limit {README_MAX_LINES})"
    )


METHOD_PAGES = sorted((ROOT / "docs" / "methods").glob("*.md"))


@pytest.mark.parametrize("page", METHOD_PAGES, ids=lambda p: p.name)
def test_method_pages_cite_their_paper_with_a_link(page):
    assert PAPER_LINK.search(page.read_text()), (
        f"{page.name} cites no paper link (arXiv, DOI or OpenReview)"
    )


SECTION_DEFAULTS = {  # page: (section of method_kwargs, the code's defaults of that section)
    "magma.md": ("magma", MagmaSettings()),
    "vicmae.md": ("vicmae", ViCMAESettings()),
    "smae.md": ("smae", SMAESettings()),
    "colormae.md": ("colormae", ColorMAESettings()),
}
FIRST_YAML = re.compile(r"^```yaml\n(.*?)^```", re.MULTILINE | re.DOTALL)


@pytest.mark.parametrize("page", sorted(SECTION_DEFAULTS))
def test_method_pages_give_the_code_defaults(page):
    section, settings = SECTION_DEFAULTS[page]
    block = FIRST_YAML.search((ROOT / "docs" / "methods" / page).read_text()).group(1)
    assert yaml.safe_load(block)["method_kwargs"][section] == settings.as_dict()


def test_link_checker_finds_what_is_broken(tmp_path):
    (tmp_path / "there.md").write_text("# A heading\n")
    doc = tmp_path / "doc.md"
    doc.write_text(
        "[ok](there.md) [anchor](there.md#a-heading) [web](https://example.org/x) [self](#top)\n"
        "# Top\n"
        "[gone](missing.md) [bad anchor](there.md#nowhere) ![img](pic.png)\n"
        "`[in code](nowhere.md)`\n```\n[fenced](nowhere.md)\n```\n[ref]: also-missing.txt\n"
    )
    assert [target for target, _ in broken_links(doc)] == [
        "missing.md",
        "there.md#nowhere",
        "pic.png",
        "also-missing.txt",
    ]


def test_code_cites_only_files_of_the_repository():
    """A docs path named in the code (``docs/x.md``, ``benchmarks/README.md``) exists in the checkout; the
    code cites papers by link, not the maintainers' spec files."""
    import re

    named = set()
    for folder in ("solo_ext", "dev", "benchmarks", "bash_scripts"):
        for path in (ROOT / folder).rglob("*"):
            if path.suffix in (".py", ".sh"):
                named |= set(
                    re.findall(r"\b((?:docs|benchmarks)/[\w/.-]+\.md)\b", path.read_text())
                )
    assert named and all((ROOT / name).is_file() for name in named), sorted(named)
    spec_files = ("magma.md", "smae.md", "vicmae.md", "colormae.md")
    for path in (ROOT / "solo_ext").rglob("*.py"):
        assert not any(name in path.read_text() for name in spec_files), path
