-- Trust follows proof (issue 23).
--
-- Who set a ticket's category: `requester` (typed by somebody nobody vouched for), `principal` (an
-- agent, the admin or an integration submitted it), `rule` or `classifier` (triage). Storms and
-- recurring incidents count only categories a rule, the classifier or a principal set; the partial
-- index keeps "the category's trusted tickets of the last hour" one index walk however many
-- self-chosen ones an anonymous caller sends.
ALTER TABLE tickets ADD COLUMN category_source text
    CONSTRAINT tickets_category_source_known CHECK (category_source IN ('requester', 'principal', 'rule', 'classifier'));
CREATE INDEX tickets_trusted_category_created_idx ON tickets (category, created_at)
    WHERE category IS NOT NULL AND category_source IN ('principal', 'rule', 'classifier');

-- A storm flags its tickets and tells level 3; a level 2 or 3 agent (or the admin) confirms the
-- mass change (P1, level 1 moved to level 2), recorded here.
ALTER TABLE problems ADD COLUMN storm_confirmed_at timestamptz, ADD COLUMN storm_confirmed_by text;

-- Levels 1 and 2 submit an article from a resolution as a draft that level 3 reviews and publishes.
ALTER TABLE kb_articles DROP CONSTRAINT kb_status_known;
ALTER TABLE kb_articles ADD CONSTRAINT kb_status_known CHECK (status IN ('draft', 'published', 'retired'));
