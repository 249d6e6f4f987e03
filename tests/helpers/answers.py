"""Answers the tests give copier: the small base set and the matrix the structural tests run over."""

from __future__ import annotations

import pytest

# Answers that keep a project small and fast to load; tests override what they need.
BASE_ANSWERS = {"project_name": "Demo Shop", "project_slug": "shop"}

# copier.yml's default dev database, for tests that check what a project without that answer gets.
DEFAULT_DEV_DATABASE = "embedded"

# The shared dev database outside a monorepo (a render): the service the root compose file would name.
SHARED_ANSWERS = {"dev_database": "shared", "shared_service": "postgres", "shared_compose_file": "../../../compose.yaml"}

# The answer matrix every structural test runs over: 0, 1 and several domains;
# Better Auth on/off; docker/local/shared dev database; Atlas Pro/free; each production path with
# and without Pro (versioned where exactly one of auth and Pro is on).
MATRIX = [
    pytest.param(
        {"domains": domains, "use_better_auth": auth, "atlas_pro": pro, "production_path": path, **dev},
        id=f"{len(domains)}dom-{'auth' if auth else 'noauth'}-{'pro' if pro else 'free'}-{dev['dev_database']}-{path}",
    )
    for domains, dev in (([], {"dev_database": "docker"}), (["asset"], {"dev_database": "local"}),
                         (["asset", "portfolio", "feed"], SHARED_ANSWERS))
    for auth in (True, False)
    for pro in (False, True)
    for path in ["versioned" if auth != pro else "declarative"]
] + [pytest.param({}, id="defaults")]
