-- The SQL samples of the convention doc (database-management.md), verbatim, one after the other.
CREATE SCHEMA IF NOT EXISTS domain_name;

-- Table definitions
CREATE TABLE domain_name.table_name (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  created_at TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
  updated_at TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
  -- other columns
);

-- Indexes
CREATE INDEX idx_table_name_column ON domain_name.table_name(column);

-- Triggers and functions
CREATE OR REPLACE FUNCTION domain_name.update_updated_at_column()
RETURNS TRIGGER AS $$
BEGIN
  NEW.updated_at = NOW();
  RETURN NEW;
END;
$$ language 'plpgsql';

CREATE TRIGGER update_table_name_updated_at
  BEFORE UPDATE ON domain_name.table_name
  FOR EACH ROW
  EXECUTE FUNCTION domain_name.update_updated_at_column();

CREATE SCHEMA IF NOT EXISTS auth;

create table auth."user" (
  "id" text not null primary key,
  "name" text not null,
  "email" text not null unique,
  "emailVerified" boolean not null,
  -- ... other columns
);

create table auth."session" (
  "id" text not null primary key,
  "expiresAt" timestamptz not null,
  "userId" text not null references auth."user" ("id") on delete cascade,
  -- ... other columns
);

-- Additional auth tables...
