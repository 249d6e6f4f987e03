"""The test helpers, by kind: answers, git, copier_runs, releases, postgres, atlas, npm, files, processes."""
