-- +goose Up
-- Apps recorded from elsewhere (inventory import); see the SQLite twin.
ALTER TABLE apps ADD COLUMN external BOOLEAN NOT NULL DEFAULT FALSE;

-- +goose Down
ALTER TABLE apps DROP COLUMN external;
