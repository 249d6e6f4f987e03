"""What tasks.py runs after rendering: merged files, adoption, the update guard, renames."""
