DROP TRIGGER IF EXISTS message_counts_insert ON messages;
DROP TRIGGER IF EXISTS message_counts_update ON messages;
DROP TRIGGER IF EXISTS message_counts_delete ON messages;
DROP TRIGGER IF EXISTS message_counts_truncate ON messages;
DROP FUNCTION IF EXISTS message_counts_after_insert();
DROP FUNCTION IF EXISTS message_counts_after_update();
DROP FUNCTION IF EXISTS message_counts_after_delete();
DROP FUNCTION IF EXISTS message_counts_after_truncate();
DROP TABLE IF EXISTS message_counts;
