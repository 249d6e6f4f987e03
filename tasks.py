"""What copier runs in the project after rendering (copier.yml's `_tasks` and `_migrations`).

    python tasks.py after-copy PROJECT [AUTH_CONFIG]
    python tasks.py after-update PROJECT
    python tasks.py rename-files PROJECT OLD_PREFIX NEW_PREFIX [...]
    python tasks.py readme-note PROJECT

The steps themselves are in extensions/copier_atlas_postgres/tasks/steps.py.
"""

import sys

from extensions.loader import load_module

if __name__ == "__main__":
    sys.exit(load_module("tasks.steps").main(sys.argv[1:]))
