"""The template's logic: everything copier.yml, template/ and tasks.py call, as plain modules,
by the stage of a copy or update that calls them.

Loaded by extensions/loader.py (copier) or imported as `copier_atlas_postgres` (tests, tools).
It runs in the user's copier environment: the standard library and copier's own dependencies.

- world/: facts about the world, read-only: the monorepo (package manager, compose files and the
  shared PostgreSQL, ports), a hand-made server and where it keeps its schema, SQL and HCL readers,
  Better Auth's schema (from data/)
- questions/: what copier.yml asks before anything is written: the rules (one `answer_error`),
  the defaults (one precedence), what refuses a copy
- rendering/: what the template calls while rendering: values written into files, and the Jinja
  filters (one name -> function table)
- tasks/: what tasks.py runs after rendering: merged files, adoption, the update guard, renames
- project_files: the file names every stage agrees on; git: the git commands they run; atomic:
  every write of a team's file, whole or not at all
"""
