"""What the template calls while rendering: values written into files, and the Jinja filters (one table)."""
