-- Messages by phone number in a table of their own instead of an index on messages. A row here
-- is written when its message is inserted and deleted with it; claims and records never touch
-- it. As an index on messages, each of a message's status changes (no status change can be a
-- HOT update) wrote a new entry at a random place in an index as large as the whole history
-- (BENCHMARKS.md, "The write path measured again"). Triggers keep it exact for every writer, as
-- message_counts is kept.
CREATE TABLE message_phones (
    phone_number varchar(20) NOT NULL,
    created_at   timestamptz NOT NULL,
    id           uuid NOT NULL,
    PRIMARY KEY (phone_number, created_at, id)
);

INSERT INTO message_phones (phone_number, created_at, id)
SELECT phone_number, created_at, id FROM messages;

CREATE FUNCTION message_phones_after_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO message_phones (phone_number, created_at, id)
    SELECT phone_number, created_at, id FROM new_rows;
    RETURN NULL;
END
$$;

CREATE FUNCTION message_phones_after_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM message_phones AS p
    USING old_rows AS o
    WHERE p.phone_number = o.phone_number AND p.created_at = o.created_at AND p.id = o.id;
    RETURN NULL;
END
$$;

-- Only for a statement that sets one of the three columns (the dispatcher never does).
CREATE FUNCTION message_phones_after_key_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM message_phones
    WHERE phone_number = OLD.phone_number AND created_at = OLD.created_at AND id = OLD.id;
    INSERT INTO message_phones (phone_number, created_at, id)
    VALUES (NEW.phone_number, NEW.created_at, NEW.id);
    RETURN NULL;
END
$$;

CREATE FUNCTION message_phones_after_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE message_phones;
    RETURN NULL;
END
$$;

CREATE TRIGGER message_phones_insert AFTER INSERT ON messages
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION message_phones_after_insert();
CREATE TRIGGER message_phones_delete AFTER DELETE ON messages
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION message_phones_after_delete();
CREATE TRIGGER message_phones_key_update AFTER UPDATE OF phone_number, created_at, id ON messages
    FOR EACH ROW
    WHEN (OLD.phone_number IS DISTINCT FROM NEW.phone_number
          OR OLD.created_at IS DISTINCT FROM NEW.created_at
          OR OLD.id IS DISTINCT FROM NEW.id)
    EXECUTE FUNCTION message_phones_after_key_update();
CREATE TRIGGER message_phones_truncate AFTER TRUNCATE ON messages
    FOR EACH STATEMENT EXECUTE FUNCTION message_phones_after_truncate();

DROP INDEX messages_phone_created_idx;
