DROP INDEX messages_due_idx;
