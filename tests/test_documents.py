"""The documents agree with each other and with the code.

Documents: README.md, notebooks/TEACHING.md, data/README.md, the written answers (notebooks/solutions/*.md) and the
notebooks' Markdown cells. Checked here: every command they name exists (make targets in the Makefile, ``python -m``
modules that run, console scripts in pyproject.toml, scripts in tools/ and bench/); they name one range of theory
notebooks, and it is what the notebooks are; a make target said to download the data does; the slide deck is described
as it is (live sliders, npm for the first build); no passage is written twice in README and TEACHING.md (one home,
linked from the other); the licences and each data card's terms are stated. The lesson plans and time estimates:
tests/test_teaching.py.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import re
import tomllib
import zipfile
from email.parser import HeaderParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
GUIDE = ROOT / "notebooks" / "TEACHING.md"
DATA_CARDS = ROOT / "data" / "README.md"


def _markdown_of(notebook: Path) -> str:
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    return "\n\n".join("".join(cell["source"]) for cell in cells if cell["cell_type"] == "markdown")


def documents() -> dict[str, str]:
    """Document name -> its Markdown text."""
    found = {path.relative_to(ROOT).as_posix(): path.read_text(encoding="utf-8")
             for path in [README, GUIDE, DATA_CARDS, *sorted((ROOT / "notebooks" / "solutions").glob("*.md"))]}
    found |= {path.relative_to(ROOT).as_posix(): _markdown_of(path)
              for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))}
    return found


FENCE = re.compile(r"^ *```[^\n]*\n(.*?)^ *```", re.M | re.S)


def code_of(text: str) -> list[tuple[str, bool]]:
    """The code a Markdown text shows, each piece with whether it stands as a command: the lines of fenced and
    indented blocks (yes), inline code spans (only in a table row, or when the span runs on after its first word: a
    name in prose, e.g. a file format's, is not a command)."""
    pieces = [(line, True) for block in FENCE.findall(text) for line in block.splitlines()]
    rest = FENCE.sub("", text)
    pieces += [(line, True) for line in rest.splitlines() if line.startswith("    ") and line.strip()]
    for line in rest.splitlines():
        pieces += [(span, line.startswith("|") or " " in span.strip()) for span in re.findall(r"`([^`\n]+)`", line)]
    return pieces


def named_commands(text: str) -> set[tuple[str, str]]:
    """(kind, name) of every command in a text's code: ``make`` targets, ``-m`` modules, ``kdls-*`` console scripts
    (as the first word of a command) and ``python tools/...py`` / ``bench/...py`` files."""
    found = set()
    for code, command in code_of(text):
        found |= {("make", m) for m in re.findall(r"(?:^|[\s;&|(])make\s+(?:[A-Z_]+=\S*\s+)*([a-z][\w-]*)", code)}
        found |= {("module", m) for m in re.findall(r"(?:^|\s)-m\s+([A-Za-z_][\w.]*)", code)
                  if "pytest -m" not in code}
        if command:
            found |= {("script", m) for m in re.findall(r"(?:^|[;&|]\s*)(kdls-[a-z][a-z-]*)\b", code.strip())}
        found |= {("file", m) for m in re.findall(r"python3?\s+((?:tools|bench)/\S+\.py)", code)}
    return found


def make_rules() -> dict[str, set[str]]:
    """The Makefile's targets -> their prerequisites (variables left as written)."""
    rules: dict[str, set[str]] = {}
    for line in (ROOT / "Makefile").read_text(encoding="utf-8").splitlines():
        match = re.match(r"^([\w.$()/-][\w.$() /-]*?)\s*:(?!=)\s*([^#]*)", line)
        if match and not line.startswith("\t"):
            for target in match.group(1).split():
                rules.setdefault(target, set()).update(match.group(2).split())
    return rules


def depends_on(target: str, wanted: str, rules: dict[str, set[str]]) -> bool:
    seen, todo = set(), [target]
    while todo:
        current = todo.pop()
        if current == wanted:
            return True
        if current not in seen:
            seen.add(current)
            todo += rules.get(current, ())
    return False


def runnable(module: str) -> bool:
    """Whether ``python -m module`` finds something to run: a module, or a package with ``__main__``."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return False
    if spec is None:
        return False
    if spec.submodule_search_locations is not None:
        return importlib.util.find_spec(f"{module}.__main__") is not None
    return True


def test_the_command_scan_finds_each_kind():
    text = ("Run `make lab`, then `KDLS_PRESET=smoke make test-fast`.\n\n```bash\npython -m helpers.x --y\n"
            "kdls-grade a b   # and pytest -m slow\n.venv/bin/python tools/select_torch.py --dry-run\n```\n\n"
            "    accelerate launch -m helpers.z\n\nthe kdls-kit distribution, the `kdls-handin` format; make it so\n\n"
            "| `kdls-pool` | a script |")
    assert named_commands(text) == {("make", "lab"), ("make", "test-fast"), ("module", "helpers.x"),
                                    ("module", "helpers.z"), ("script", "kdls-grade"), ("script", "kdls-pool"),
                                    ("file", "tools/select_torch.py")}


def test_every_command_the_documents_name_exists():
    rules = make_rules()
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"].get("scripts", {})
    checks = {"make": lambda name: name in rules, "module": runnable, "script": lambda name: name in scripts,
              "file": lambda name: (ROOT / name).is_file()}
    named = {(kind, name): document for document, text in documents().items() for kind, name in named_commands(text)}
    assert {kind for kind, _ in named} == set(checks)  # the scan sees every kind (a broken regex shows here)
    missing = sorted(f"{document}: {kind} {name}" for (kind, name), document in named.items()
                     if not checks[kind](name))
    assert not missing, missing


# ----------------------------------------------------------------------------------- theory notebooks


def _kit_names_imported(notebook: Path) -> set[str]:
    """The names a notebook's code cells import from the kit (``from helpers import ...``)."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    names = set()
    for cell in cells:
        if cell["cell_type"] != "code":
            continue
        source = "\n".join(line for line in "".join(cell["source"]).splitlines()
                           if not line.lstrip().startswith(("%", "!")))
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "helpers":
                names |= {alias.name for alias in node.names}
    return names


def _trains_or_loads_data(notebook: Path) -> bool:
    """Whether a notebook uses the kit's real data, models or experiments (a name defined in ``helpers.learning`` or
    ``helpers.experiments``): theory notebooks do not."""
    import helpers

    modules = {getattr(getattr(helpers, name), "__module__", "") or "" for name in _kit_names_imported(notebook)}
    return any(module.startswith(("helpers.learning", "helpers.experiments")) for module in modules)


def test_one_range_of_theory_notebooks_and_it_is_what_the_notebooks_are():
    start = _markdown_of(next((ROOT / "notebooks").glob("00_*.ipynb")))
    ranges = {
        "README": re.findall(r"theory, notebooks (\d\d)–(\d\d)", README.read_text(encoding="utf-8")),
        "notebook 00": re.findall(r"Notebooks (\d\d)–(\d\d) build the theory", start),
        "TEACHING.md": re.findall(r"Notebooks (\d\d)–(\d\d) do not depend on the preset", GUIDE.read_text(encoding="utf-8")),
    }
    assert all(len(found) == 1 for found in ranges.values()), ranges
    assert len({found[0] for found in ranges.values()}) == 1, f"the documents disagree on the theory notebooks: {ranges}"
    ((first, last),) = ranges["README"]
    numbers = [f"{n:02d}" for n in range(int(first), int(last) + 2)]
    paths = {number: next((ROOT / "notebooks").glob(f"{number}_*.ipynb")) for number in numbers}
    assert not any(_trains_or_loads_data(paths[number]) for number in numbers[:-1]), "a theory notebook uses real data"
    assert _trains_or_loads_data(paths[numbers[-1]]), f"notebook {numbers[-1]} is theory too: the range is too short"


# ----------------------------------------------------------------------------------- what the commands do


def _paragraphs(text: str) -> list[str]:
    """A Markdown text's paragraphs (blank-line separated; each table row is one)."""
    found = []
    for block in re.split(r"\n\s*\n", text):
        rows = block.splitlines()
        found += rows if rows and all(row.startswith("|") for row in rows) else [block]
    return found


def test_a_target_said_to_download_the_data_does():
    rules = make_rules()
    claims = sorted({(name, target) for name, text in documents().items() for paragraph in _paragraphs(text)
                     if re.search(r"\bdownloads?\b[^.]*\b(data|weights)\b", paragraph)
                     for kind, target in named_commands(paragraph) if kind == "make"})
    assert ("notebooks/TEACHING.md", "lab") in claims  # the guide's set-up sentence is seen
    wrong = [f"{name}: make {target}" for name, target in claims if not depends_on(target, "assets", rules)]
    assert not wrong, f"said to download the data, but the target does not depend on `assets`: {wrong}"


def test_the_slide_deck_is_described_as_it_is():
    """`make slides` builds a deck with live sliders, and its first build needs npm: every document describing it
    says npm where it names it, and no passage naming it calls it static or without sliders."""
    slides = (ROOT / "helpers" / "pipeline" / "slides.py").read_text(encoding="utf-8")
    assert "live_charts" in slides and "npm" in slides
    passages = [(name, paragraph) for name, text in documents().items() for paragraph in _paragraphs(text)
                if ("make", "slides") in named_commands(paragraph)]
    assert {name for name, _ in passages} >= {"README.md", "notebooks/TEACHING.md"}
    for name in {name for name, _ in passages}:
        assert any("npm" in paragraph for document, paragraph in passages if document == name), name
    for name, paragraph in passages:
        assert not re.search(r"\bstatic\b|no sliders", paragraph), (name, paragraph[:120])
    assert "npm" in make_rules_comment("slides")


def make_rules_comment(target: str) -> str:
    """The ``## ...`` help text of a Makefile target."""
    line = next(line for line in (ROOT / "Makefile").read_text(encoding="utf-8").splitlines()
                if line.startswith(f"{target}:"))
    return line.partition("##")[2]


# ----------------------------------------------------------------------------------- one home for each text


def _normalised_passages(text: str, shortest: int = 160) -> set[str]:
    return {" ".join(paragraph.split()) for paragraph in _paragraphs(text) if len(" ".join(paragraph.split())) >= shortest}


def test_no_passage_is_written_twice_in_readme_and_the_guide():
    twice = _normalised_passages(README.read_text(encoding="utf-8")) & _normalised_passages(GUIDE.read_text(encoding="utf-8"))
    assert not twice, [passage[:100] for passage in twice]
    guide = GUIDE.read_text(encoding="utf-8")
    assert "README, *Running a course three ways*" in guide and "## Running a course three ways" in README.read_text()


def test_the_duplicate_check_sees_a_copied_passage():
    passage = "A passage long enough to count, " * 6
    assert _normalised_passages(f"intro\n\n{passage}\n") & _normalised_passages(f"{passage.replace(' ', '  ')}\n\nend")


# ----------------------------------------------------------------------------------- licences and data terms


def test_the_readme_states_both_licences_and_the_unclear_data_terms():
    text = README.read_text(encoding="utf-8")
    section = " ".join(text[text.index("## Licence"):].split("\n## ", 1)[0].split())
    assert "`LICENSE`" in section and "`LICENSE-CONTENT`" in section and "MIT" in section and "CC BY 4.0" in section
    assert "TREC's terms are unclear for a course" in section


def _declared_licences(wheel: Path) -> list[str]:
    """What a wheel's metadata declares: its ``License`` field and its licence classifiers' last part."""
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        message = HeaderParser().parsestr(archive.read(name).decode("utf-8"))
    declared = [message["License"]] if message["License"] else []
    declared += [c.split(" :: ")[-1] for c in message.get_all("Classifier") or [] if c.startswith("License ::")]
    return declared


@pytest.mark.parametrize("asset, card", [("trec", "## TREC"), ("rotten_tomatoes", "## Rotten Tomatoes"),
                                         ("minilm", "## all-MiniLM-L6-v2")])
def test_each_data_card_states_the_terms_of_the_file_it_uses(asset, card):
    from helpers.infrastructure import assets

    text = DATA_CARDS.read_text(encoding="utf-8")
    section = text[text.index(card):].split("\n## ", 1)[0]
    row = next(line for line in section.splitlines() if line.startswith("| Licence and terms"))
    assert re.search(r"\*\*Terms of the files? the kit uses: [^*]+\*\*", row), row
    declared = _declared_licences(assets.wheel_path(asset))
    assert declared and all(licence in row for licence in declared), (declared, row)
