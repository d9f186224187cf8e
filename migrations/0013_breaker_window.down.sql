DROP INDEX messages_awaiting_receiver_idx;
ALTER TABLE messages DROP COLUMN awaits_receiver;
ALTER TABLE receiver_breaker DROP COLUMN window_failures, DROP COLUMN window_bits, DROP COLUMN window_results;
