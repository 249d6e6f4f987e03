"""The npm packages behind scripts/schema-views.mjs's `types` (package.json's devDependencies):
kysely-codegen and the TypeScript it loads, and the Kysely and pg driver it runs on, which a project
with Better Auth already has as dependencies (the ones of its Better Auth release set)."""

from __future__ import annotations

KYSELY_CODEGEN_VERSION = "0.20.0"
TYPESCRIPT_VERSION = "5.9.3"


def dev_dependencies(use_better_auth: bool) -> dict[str, str]:
    packages = {"kysely-codegen": KYSELY_CODEGEN_VERSION, "typescript": TYPESCRIPT_VERSION}
    if not use_better_auth:
        from .better_auth import RELEASES  # newest first

        packages |= {name: RELEASES[0].packages[name] for name in ("kysely", "pg")}
    return dict(sorted(packages.items()))
