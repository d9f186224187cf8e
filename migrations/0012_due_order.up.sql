-- The claim takes due messages first due, first claimed, from this index: its scan starts at a
-- position and stops at the first message not yet due, so scheduled messages and those waiting
-- for a retry are never read. messages_pending_fifo_idx stays for the listing.
CREATE INDEX messages_due_idx ON messages (next_attempt_at, created_at, id) WHERE status = 'pending';
