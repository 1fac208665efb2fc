"""Developer-time generators (zoo yaml files, docs/config-checks.md); not part of the installed package."""
