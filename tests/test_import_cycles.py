"""No import cycle inside a package of citywatch: a registry knows none of its plugins, and no
module imports a module that imports it back (function-local imports count: grimp reads them)."""

import grimp
import pytest

GRAPH = grimp.build_graph("citywatch", cache_dir=None)
PACKAGES = sorted(m for m in GRAPH.modules if m.count(".") == 1 and GRAPH.find_children(m))


def _cycles(package: str) -> list[str]:
    modules = GRAPH.find_descendants(package) | {package}
    return [
        f"{importer} -> {imported} -> ... -> {importer}"
        for importer in sorted(modules)
        for imported in sorted(GRAPH.find_modules_directly_imported_by(importer) & modules)
        if GRAPH.chain_exists(importer=imported, imported=importer)
    ]


@pytest.mark.parametrize("package", PACKAGES)
def test_no_import_cycle_inside_the_package(package: str) -> None:
    assert _cycles(package) == []


def test_the_scan_sees_the_packages_with_plugins() -> None:
    assert {"citywatch.perception", "citywatch.analytics"} <= set(PACKAGES)
