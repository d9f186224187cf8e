-- Ids already given stay as they are; new rows get random (v4) ids again.
ALTER TABLE messages ALTER COLUMN id SET DEFAULT gen_random_uuid();
DROP FUNCTION messages_new_id();
