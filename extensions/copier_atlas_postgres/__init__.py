"""The template's logic: everything copier.yml, template/ and tasks.py call, as plain modules.

Loaded by extensions/loader.py (copier) or imported as `copier_atlas_postgres` (tests, tools).
It runs in the user's copier environment: the standard library and copier's own dependencies.

- answers: the rule every answer follows, and the answers' derived defaults
- rendering: how answers are written into URLs, HCL, .env and JSON
- jinja_filters: all of the above (and the rest) as Jinja filters, one Extension
- layout: where things are in a project (file names every step agrees on)
- destination: what is already in the destination of a copy, and what refuses the copy
- monorepo: the other projects of the monorepo (their ports)
- workspace: the JavaScript workspace around it: package manager, ports its compose files publish, names
- handmade_server: a server built by hand from the convention doc, and the answers it gives
- server_layout: where an existing server keeps its schema, and the commands that move it for adoption
- sql_text, hcl_text: small readers of hand-written SQL and atlas.hcl
- better_auth: Better Auth's auth schema from data the real library produced (data/better_auth/)
- shared_files: the template's part of package.json, .gitignore and .env, merged three ways
- adoption: a hand-made server moved onto the template's files
- update_guard: what a `copier update` must never lose
- renames: the migration of a release that renames files users edit
- git: the git commands the above run
- tasks: what copier runs in the project after rendering (through tasks.py)
"""
