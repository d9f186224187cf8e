-- Back to the index on messages; the table it replaced holds nothing else.
CREATE INDEX messages_phone_created_idx ON messages (phone_number, created_at, id);
DROP TRIGGER message_phones_truncate ON messages;
DROP TRIGGER message_phones_key_update ON messages;
DROP TRIGGER message_phones_delete ON messages;
DROP TRIGGER message_phones_insert ON messages;
DROP FUNCTION message_phones_after_truncate();
DROP FUNCTION message_phones_after_key_update();
DROP FUNCTION message_phones_after_delete();
DROP FUNCTION message_phones_after_insert();
DROP TABLE message_phones;
