"""What copier.yml asks before anything is written: the rules, the defaults, what refuses a copy."""
