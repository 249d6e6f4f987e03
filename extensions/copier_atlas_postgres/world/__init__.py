"""Facts about the world, read-only: the monorepo around the destination and a hand-made server in it."""
