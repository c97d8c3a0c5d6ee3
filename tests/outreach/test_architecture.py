"""The import rules of ARCHITECTURE.md, read from the source with `ast` (nothing is imported)."""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted(
    path
    for package in ("meetings", "outreach")
    for path in (ROOT / package).rglob("*.py")
    if "migrations" not in path.parts
)


def module_name(path):
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def imports(path):
    """Every module `path` imports, in full (`from meetings import emails` gives
    "meetings.emails"), including imports inside functions and `if TYPE_CHECKING:`."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the importing package
                base = module_name(path).split(".")[: -node.level]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def imports_of(module):
    return imports(ROOT / Path(*module.split(".")).with_suffix(".py"))


def touches(names, forbidden):
    """The imported names that are `forbidden` modules or inside them."""
    return sorted(
        name for name in names if any(name == f or name.startswith(f + ".") for f in forbidden)
    )


# The module table of ARCHITECTURE.md is the rule: read from the document itself, so the
# document and the test cannot disagree.
LAYERS = ["base", "data", "builders", "rules", "output", "input", "web", "templates", "commands"]


def architecture_table():
    """{module: (layer, {meetings modules it may import})} from ARCHITECTURE.md's table."""
    text = (ROOT / "ARCHITECTURE.md").read_text()
    section = text.split("## Modules of `meetings/`", 1)[1].split("\n## ", 1)[0]
    table = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 4 or cells[0] not in LAYERS:
            continue
        layer, modules, _job, may_import = cells
        allowed = set(re.findall(r"`([a-z_]+)`", may_import))
        for path in re.findall(r"`([a-z_/]+)\.py`", modules):
            table["meetings." + path.replace("/", ".")] = (layer, allowed)
    return table


TABLE = architecture_table()


def own_imports(module):
    """The `meetings` modules `module` imports, named as the table names them."""
    names = set()
    for name in imports_of(module):
        parts = name.split(".")
        if parts[0] != "meetings" or len(parts) < 2:
            continue
        candidates = [".".join(parts[1:end]) for end in range(len(parts), 1, -1)]
        for candidate in candidates:
            path = ROOT / "meetings" / Path(*candidate.split("."))
            if path.with_suffix(".py").exists():
                names.add(candidate)
                break
    return names - {module.removeprefix("meetings.")}


MODULES = sorted(
    module_name(path)
    for path in SOURCES
    if path.parts[len(ROOT.parts)] == "meetings" and path.name != "__init__.py"
)


def test_the_table_reads_a_row_for_each_module_of_the_app():
    """Every module has a row (a new module needs one), and every row names a module."""
    assert sorted(TABLE) == MODULES


@pytest.mark.parametrize("module", MODULES)
def test_a_module_imports_exactly_what_its_row_says(module):
    _layer, allowed = TABLE[module]

    assert sorted(own_imports(module)) == sorted(allowed)


@pytest.mark.parametrize("module", MODULES)
def test_no_module_imports_from_a_higher_layer(module):
    layer, allowed = TABLE[module]
    above = {
        name: TABLE[f"meetings.{name}"][0]
        for name in allowed
        if LAYERS.index(TABLE[f"meetings.{name}"][0]) > LAYERS.index(layer)
    }

    assert above == {}


def test_the_table_reader_sees_what_the_document_says():
    """A few rows read back, so a change to the table's format cannot empty the rules."""
    assert TABLE["meetings.services"] == ("rules", {"emails", "models", "scheduling", "tokens"})
    assert TABLE["meetings.search"] == ("base", set())
    assert TABLE["meetings.ratelimit"] == ("web", set())
    assert TABLE["meetings.templatetags.meeting_tags"] == ("templates", {"formatting"})
    assert TABLE["meetings.management.commands.load_demo"][0] == "commands"


def test_own_imports_resolve_names_inside_modules_and_packages():
    assert own_imports("meetings.admin") >= {"staff_forms", "services", "models"}
    assert "templatetags.meeting_tags" not in own_imports("meetings.views")


def test_no_module_imports_a_template_tag_library():
    """Templates `{% load %}` tag libraries; code calls meetings/formatting.py instead."""
    offenders = {
        module_name(path): touches(imports(path), ["meetings.templatetags", "django.templatetags"])
        for path in SOURCES
        if "templatetags" not in path.parts
    }

    assert {module: names for module, names in offenders.items() if names} == {}


def test_outreach_is_not_imported_by_the_app():
    offenders = {
        module_name(path): touches(imports(path), ["outreach"])
        for path in SOURCES
        if path.parts[len(ROOT.parts)] == "meetings"
    }

    assert {module: names for module, names in offenders.items() if names} == {}


def test_the_rules_see_imports_in_every_form(tmp_path):
    """The reader itself: plain, from-, relative and function-level imports all count."""
    package = tmp_path / "pkg"
    package.mkdir()
    source = package / "mod.py"
    source.write_text(
        "import meetings.views\n"
        "from meetings import feeds\n"
        "def f():\n"
        "    from meetings.templatetags.meeting_tags import language_links\n"
    )

    names = imports(source)

    assert touches(names, ["meetings.views", "meetings.feeds", "meetings.templatetags"]) == [
        "meetings.feeds",
        "meetings.templatetags.meeting_tags",
        "meetings.templatetags.meeting_tags.language_links",
        "meetings.views",
    ]
