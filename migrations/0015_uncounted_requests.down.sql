ALTER TABLE message_attempts DROP COLUMN counted;
