DROP TRIGGER message_attempts_truncate ON messages;
DROP TRIGGER message_attempts_delete ON messages;
DROP FUNCTION message_attempts_after_truncate();
DROP FUNCTION message_attempts_after_delete();
ALTER TABLE messages DROP COLUMN request_count;
DROP TABLE message_attempts;
