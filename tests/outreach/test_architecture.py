"""The import rules of ARCHITECTURE.md, read from the source with `ast` (nothing is imported)."""

import ast
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


@pytest.mark.parametrize(
    ("module", "forbidden"),
    [
        (
            "meetings.services",
            [
                "meetings.views",
                "meetings.admin",
                "meetings.feeds",
                "meetings.ical",
                "meetings.forms",
                "meetings.templatetags",
            ],
        ),
        ("meetings.ical", ["meetings.views", "meetings.forms", "meetings.templatetags"]),
        (
            "meetings.models",
            [
                "meetings.views",
                "meetings.forms",
                "meetings.services",
                "meetings.emails",
                "meetings.feeds",
                "meetings.ical",
                "meetings.admin",
                "meetings.templatetags",
            ],
        ),
        ("meetings.emails", ["meetings.views", "meetings.services", "meetings.templatetags"]),
        ("meetings.tokens", ["meetings.views", "meetings.services", "meetings.forms"]),
        # Texts: the base modules import nothing of the app but settings; the composer and
        # the back-ends nothing above the data layer.
        ("meetings.segments", ["meetings"]),
        ("meetings.phones", ["meetings"]),
        ("meetings.sms_backend", ["meetings.models", "meetings.services", "meetings.views"]),
        (
            "meetings.texts",
            ["meetings.views", "meetings.services", "meetings.emails", "meetings.forms"],
        ),
    ],
)
def test_module_imports_nothing_above_its_layer(module, forbidden):
    assert touches(imports_of(module), forbidden) == []


def test_services_import_only_models_emails_and_tokens_of_the_app():
    own = {name.split(".")[1] for name in imports_of("meetings.services") if name.count(".") >= 1}
    own &= {path.stem for path in (ROOT / "meetings").glob("*.py")}

    assert own <= {"models", "emails", "tokens"}


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
