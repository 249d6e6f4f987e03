"""What the template calls while rendering: values written into files, package.json's part, the dev
database modes (one table), and the Jinja filters (one table)."""
