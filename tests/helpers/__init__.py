"""The test helpers, by kind: answers, git, copier_runs, releases, postgres, atlas, npm, files."""

# Re-exports for tests written against the old single tests/helpers.py module.
from .answers import BASE_ANSWERS, DEFAULT_DEV_DATABASE, MATRIX, SHARED_ANSWERS  # noqa: F401
from .atlas import atlas_schemas, run_atlas  # noqa: F401
from .copier_runs import COPIER, cli_data, copier, copy_in_process, data_args, generate, update, update_in_process, working_directory  # noqa: F401
from .files import compose_errors, database_url, replace_once, snapshot  # noqa: F401
from .git import commit_all, git, git_init  # noqa: F401
from .npm import (  # noqa: F401
    COREPACK_ENV,
    PNPM_VERSION,
    install_bun,
    install_release_set,
    install_typescript_compiler,
    load_maint_check,
    npm_cache_locked,
    npm_cache_root,
    run_npm_script,
    server_env,
)
from .postgres import (  # noqa: F401
    HOSTILE_PASSWORD,
    TcpPostgres,
    assert_trigger_moved_updated_at,
    free_tcp_port,
    give_to,
    load_schemas,
    pg_bin,
    schema_files,
    tcp_postgres,
    unprivileged_user,
)
from .releases import (  # noqa: F401
    RELEASE_0_1_0,
    RELEASE_FILES,
    TEMPLATE_ROOT,
    V2_PUSH,
    V2_README,
    copy_release_files,
    release_working_tree_as_v1,
    small_template_release,
)
