CREATE SCHEMA IF NOT EXISTS asset;

-- Table definitions
CREATE TABLE asset.holding (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  created_at TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
  updated_at TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
  symbol text NOT NULL
);

CREATE TABLE asset.price (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  holding_id UUID NOT NULL REFERENCES asset.holding (id),
  created_at TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
  updated_at TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
  amount numeric NOT NULL
);

-- Indexes
CREATE INDEX idx_price_holding_id ON asset.price(holding_id);

-- Triggers and functions
CREATE OR REPLACE FUNCTION asset.update_updated_at_column()
RETURNS TRIGGER AS $$
BEGIN
  NEW.updated_at = NOW();
  RETURN NEW;
END;
$$ language 'plpgsql';

CREATE TRIGGER update_holding_updated_at
  BEFORE UPDATE ON asset.holding
  FOR EACH ROW
  EXECUTE FUNCTION asset.update_updated_at_column();

CREATE TRIGGER update_price_updated_at
  BEFORE UPDATE ON asset.price
  FOR EACH ROW
  EXECUTE FUNCTION asset.update_updated_at_column();
