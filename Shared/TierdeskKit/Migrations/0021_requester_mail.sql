-- Requester mail (issue 25): while a ticket waits on its requester, intake mails one reminder per
-- waiting period, then resolves the ticket (TIERDESK_REMINDER_AFTER_DAYS,
-- TIERDESK_AUTO_CLOSE_AFTER_DAYS). A row here is the reminder of one period: the period starts
-- with the ticket's latest `ticket.pending` event (`pending_since`), so a ticket that waits again
-- gets a reminder again, and two replicas never send the same one (the key).
CREATE TABLE requester_reminders (
    ticket_id uuid NOT NULL,
    pending_since timestamptz NOT NULL,
    sent_at timestamptz NOT NULL,
    PRIMARY KEY (ticket_id, pending_since)
);
-- The tickets waiting on their requester, for the reminder pass: keyed by id, which never changes,
-- so it costs an update nothing the status in its predicate does not already cost.
CREATE INDEX tickets_pending_customer_idx ON tickets (id) WHERE status = 'pending_customer';
