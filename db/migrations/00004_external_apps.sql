-- +goose Up
-- Apps recorded from elsewhere (inventory import): their secret lives in
-- another system, so the stored secret row has an empty hash and can
-- never authenticate; expiry reports still see it. Issuing a secret here
-- makes the app native.
ALTER TABLE apps ADD COLUMN external INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE apps DROP COLUMN external;
