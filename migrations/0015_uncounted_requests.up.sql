-- The attempt log says which requests counted toward `max_attempts`: one made while the receiver
-- breaker judged the receiver down (open, or brought to its failure rate by the same results)
-- spends no attempt, and shows here as `counted = false` (docs/design.md, The attempt log).
-- The default keeps a writer of the previous version working during a deploy.
ALTER TABLE message_attempts ADD COLUMN counted boolean NOT NULL DEFAULT true;

-- Earlier rows: a message whose last error says its last request was not counted gets that
-- request marked. Older uncounted requests cannot be told apart and stay as they were.
UPDATE message_attempts AS a SET counted = false
FROM messages AS m
WHERE a.message_id = m.id AND a.number = m.request_count AND m.last_error LIKE '%attempt not counted)';
