CREATE SCHEMA IF NOT EXISTS public;

CREATE TABLE public.app_setting (
  key text PRIMARY KEY,
  value text NOT NULL,
  updated_at TIMESTAMP WITH TIME ZONE DEFAULT NOW()
);
