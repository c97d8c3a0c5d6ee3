"""Compile the gettext catalogs with Babel, so no GNU gettext is needed on the machine.

Replaces Django's command of the same name (which calls msgfmt) for this project.
"""

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


def compile_catalog(po_path: Path) -> Path:
    """Write the .mo beside the .po; fuzzy entries are left out, as msgfmt does."""
    with po_path.open("rb") as po_file:
        catalog = read_po(po_file, abort_invalid=True)
    mo_path = po_path.with_suffix(".mo")
    with mo_path.open("wb") as mo_file:
        write_mo(mo_file, catalog, use_fuzzy=False)
    return mo_path


class Command(BaseCommand):
    help = "Compile every locale/*/LC_MESSAGES/*.po into a .mo file (with Babel)."

    def handle(self, *args, **options):
        po_paths = sorted(
            path
            for locale_dir in settings.LOCALE_PATHS
            for path in Path(locale_dir).glob("*/LC_MESSAGES/*.po")
        )
        for po_path in po_paths:
            try:
                compile_catalog(po_path)
            except Exception as error:
                raise CommandError(f"{po_path}: {error}") from error
        self.stdout.write(f"Compiled {len(po_paths)} catalogs.")
