env "dev" {
  url = "postgres://username:password@localhost:5432/database_name?sslmode=disable"
  dev = "docker://postgres/17/dev"

  schema {
    src = "file://schemas"
    # Atlas Registry config
    repo {
      name = "project-name"
    }
  }
  schemas = ["auth", "asset", "public"]
}

env "prod" {
  url = env("DATABASE_URL")
  schema {
    src = "file://schemas"
    repo {
      name = "project-name"
    }
  }
  schemas = ["auth", "asset", "public"]
}
