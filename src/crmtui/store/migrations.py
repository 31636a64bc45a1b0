"""Versioned schema migrations, tracked in SQLite's `PRAGMA user_version`.

Plain SQL run through the sqlite3 module: checking the version costs one pragma, so opening an
up-to-date database imports nothing heavy. Each migration runs in one transaction, and the file is
backed up (into `backups/` beside it) before the first one runs on an existing database.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

# "CRMT": marks a file as a crmtui database (PRAGMA application_id).
APPLICATION_ID = 0x43524D54

V1_CORE = """
CREATE TABLE pipeline (
    id INTEGER PRIMARY KEY,
    name VARCHAR NOT NULL,
    position INTEGER NOT NULL DEFAULT 0,
    is_default BOOLEAN NOT NULL DEFAULT 0,
    created_at DATETIME NOT NULL,
    deleted_at DATETIME
);
CREATE UNIQUE INDEX ux_pipeline_name ON pipeline (name COLLATE NOCASE) WHERE deleted_at IS NULL;

CREATE TABLE stage (
    id INTEGER PRIMARY KEY,
    pipeline_id INTEGER NOT NULL REFERENCES pipeline (id),
    name VARCHAR NOT NULL,
    position INTEGER NOT NULL,
    probability INTEGER NOT NULL DEFAULT 0 CHECK (probability BETWEEN 0 AND 100),
    expected_days INTEGER,
    kind VARCHAR NOT NULL DEFAULT 'open' CHECK (kind IN ('open', 'won', 'lost', 'closed')),
    deleted_at DATETIME
);
CREATE UNIQUE INDEX ux_stage_name ON stage (pipeline_id, name COLLATE NOCASE) WHERE deleted_at IS NULL;

CREATE TABLE company (
    id INTEGER PRIMARY KEY,
    name VARCHAR NOT NULL,
    website VARCHAR,
    domain VARCHAR,
    email VARCHAR,
    phone VARCHAR,
    address VARCHAR,
    source VARCHAR,
    category VARCHAR,
    size VARCHAR,
    notes VARCHAR,
    external_id VARCHAR,
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL,
    deleted_at DATETIME
);
CREATE INDEX ix_company_name ON company (name COLLATE NOCASE);
CREATE INDEX ix_company_domain ON company (domain COLLATE NOCASE);
CREATE INDEX ix_company_external ON company (external_id);

CREATE TABLE contact (
    id INTEGER PRIMARY KEY,
    name VARCHAR NOT NULL,
    email VARCHAR,
    phone VARCHAR,
    title VARCHAR,
    company_id INTEGER REFERENCES company (id),
    notes VARCHAR,
    external_id VARCHAR,
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL,
    deleted_at DATETIME
);
CREATE INDEX ix_contact_name ON contact (name COLLATE NOCASE);
CREATE INDEX ix_contact_email ON contact (email COLLATE NOCASE);
CREATE INDEX ix_contact_company ON contact (company_id);
CREATE INDEX ix_contact_external ON contact (external_id);

CREATE TABLE deal (
    id INTEGER PRIMARY KEY,
    title VARCHAR NOT NULL,
    company_id INTEGER REFERENCES company (id),
    contact_id INTEGER REFERENCES contact (id),
    pipeline_id INTEGER NOT NULL REFERENCES pipeline (id),
    stage_id INTEGER NOT NULL REFERENCES stage (id),
    stage_entered_at DATETIME NOT NULL,
    amount_cents INTEGER NOT NULL DEFAULT 0,
    cost_cents INTEGER,
    currency VARCHAR,
    confidence INTEGER CHECK (confidence IS NULL OR confidence BETWEEN 1 AND 5),
    expected_close DATE,
    closed_on DATE,
    source VARCHAR,
    lost_reason VARCHAR,
    proposal_url VARCHAR,
    notes VARCHAR,
    external_id VARCHAR,
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL,
    deleted_at DATETIME
);
-- The board: deals of a stage, with counts and sums read from the index alone.
CREATE INDEX ix_deal_stage ON deal (stage_id, amount_cents) WHERE deleted_at IS NULL;
CREATE INDEX ix_deal_pipeline ON deal (pipeline_id, stage_id);
CREATE INDEX ix_deal_company ON deal (company_id);
CREATE INDEX ix_deal_contact ON deal (contact_id);
-- Reports: per month by creation and by close.
CREATE INDEX ix_deal_created ON deal (created_at);
CREATE INDEX ix_deal_closed ON deal (closed_on);
CREATE INDEX ix_deal_expected_close ON deal (expected_close);
CREATE INDEX ix_deal_external ON deal (external_id);

CREATE TABLE tag (
    id INTEGER PRIMARY KEY,
    name VARCHAR NOT NULL
);
CREATE UNIQUE INDEX ux_tag_name ON tag (name COLLATE NOCASE);

CREATE TABLE deal_tag (
    deal_id INTEGER NOT NULL REFERENCES deal (id) ON DELETE CASCADE,
    tag_id INTEGER NOT NULL REFERENCES tag (id) ON DELETE CASCADE,
    PRIMARY KEY (deal_id, tag_id)
);
CREATE INDEX ix_deal_tag_tag ON deal_tag (tag_id, deal_id);

CREATE TABLE company_tag (
    company_id INTEGER NOT NULL REFERENCES company (id) ON DELETE CASCADE,
    tag_id INTEGER NOT NULL REFERENCES tag (id) ON DELETE CASCADE,
    PRIMARY KEY (company_id, tag_id)
);
CREATE INDEX ix_company_tag_tag ON company_tag (tag_id, company_id);

CREATE TABLE contact_tag (
    contact_id INTEGER NOT NULL REFERENCES contact (id) ON DELETE CASCADE,
    tag_id INTEGER NOT NULL REFERENCES tag (id) ON DELETE CASCADE,
    PRIMARY KEY (contact_id, tag_id)
);
CREATE INDEX ix_contact_tag_tag ON contact_tag (tag_id, contact_id);

CREATE TABLE activity (
    id INTEGER PRIMARY KEY,
    kind VARCHAR NOT NULL CHECK (kind IN ('note', 'call', 'email', 'meeting', 'task')),
    body VARCHAR NOT NULL DEFAULT '',
    deal_id INTEGER REFERENCES deal (id),
    company_id INTEGER REFERENCES company (id),
    contact_id INTEGER REFERENCES contact (id),
    occurred_at DATETIME NOT NULL,
    due_on DATE,
    done_at DATETIME,
    created_at DATETIME NOT NULL,
    deleted_at DATETIME
);
CREATE INDEX ix_activity_deal ON activity (deal_id, occurred_at);
CREATE INDEX ix_activity_company ON activity (company_id, occurred_at);
CREATE INDEX ix_activity_contact ON activity (contact_id, occurred_at);
CREATE INDEX ix_activity_open_tasks ON activity (due_on) WHERE kind = 'task' AND done_at IS NULL AND deleted_at IS NULL;

CREATE TABLE stage_change (
    id INTEGER PRIMARY KEY,
    deal_id INTEGER NOT NULL REFERENCES deal (id) ON DELETE CASCADE,
    from_stage_id INTEGER REFERENCES stage (id),
    to_stage_id INTEGER NOT NULL REFERENCES stage (id),
    changed_at DATETIME NOT NULL
);
CREATE INDEX ix_stage_change_deal ON stage_change (deal_id, changed_at);
CREATE INDEX ix_stage_change_to ON stage_change (to_stage_id, deal_id);

CREATE TABLE choice (
    id INTEGER PRIMARY KEY,
    list_name VARCHAR NOT NULL,
    value VARCHAR NOT NULL,
    position INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX ux_choice ON choice (list_name, value COLLATE NOCASE);

CREATE TABLE custom_field (
    id INTEGER PRIMARY KEY,
    entity VARCHAR NOT NULL CHECK (entity IN ('deal', 'company', 'contact')),
    name VARCHAR NOT NULL,
    kind VARCHAR NOT NULL DEFAULT 'text',
    options VARCHAR,
    position INTEGER NOT NULL DEFAULT 0,
    deleted_at DATETIME
);

CREATE TABLE custom_value (
    field_id INTEGER NOT NULL REFERENCES custom_field (id) ON DELETE CASCADE,
    entity_id INTEGER NOT NULL,
    value VARCHAR,
    PRIMARY KEY (field_id, entity_id)
);
"""

V2_SETTINGS_UNDO_LINKS = """
CREATE TABLE setting (
    key VARCHAR PRIMARY KEY,
    value VARCHAR NOT NULL
);

CREATE TABLE undo_entry (
    id INTEGER PRIMARY KEY,
    scope VARCHAR NOT NULL DEFAULT 'board',
    label VARCHAR NOT NULL,
    payload VARCHAR NOT NULL,
    created_at DATETIME NOT NULL,
    undone_at DATETIME
);
CREATE INDEX ix_undo_scope ON undo_entry (scope, id);

CREATE TABLE deal_link (
    id INTEGER PRIMARY KEY,
    deal_id INTEGER NOT NULL REFERENCES deal (id) ON DELETE CASCADE,
    kind VARCHAR NOT NULL DEFAULT 'file',
    target VARCHAR NOT NULL,
    label VARCHAR,
    created_at DATETIME NOT NULL
);
CREATE INDEX ix_deal_link_deal ON deal_link (deal_id);

INSERT INTO setting (key, value) VALUES ('currency', 'USD');
"""


# The default pipeline of a new database (DOMAIN.md): name, kind, probability, expected days.
DEFAULT_STAGES = [
    ("Unqualified", "open", 10, 7),
    ("Qualification", "open", 20, 14),
    ("Writing proposal", "open", 40, 7),
    ("Proposal sent", "open", 50, 14),
    ("Negotiation", "open", 70, 21),
    ("Contract out for signature", "open", 90, 7),
    ("Won", "won", 100, None),
    ("Lost", "lost", 0, None),
    ("N/A", "closed", 0, None),
]
DEFAULT_CHOICES = {
    "source": ["Referral", "Website", "Cold call", "Trade show", "LinkedIn", "Email campaign", "Partner", "Other"],
    "lost_reason": ["Price too high", "Chose a competitor", "No budget", "No decision / ghosted", "Timing", "Scope mismatch", "Other"],
    "customer_size": ["small", "medium", "enterprise"],
    "category": ["Agency", "Retail", "Software", "Manufacturing", "Services", "Non-profit", "Public sector"],
}


# Kept in step by triggers, so every writer (TUI, CLI, import, another process) agrees:
# a deal's last touch (creation, stage move, any activity) and its open tasks.
_RECOMPUTE_TASKS = """
    open_tasks = (SELECT count(*) FROM activity a WHERE a.deal_id = deal.id AND a.kind = 'task'
                  AND a.done_at IS NULL AND a.deleted_at IS NULL),
    next_task_due = (SELECT min(a.due_on) FROM activity a WHERE a.deal_id = deal.id AND a.kind = 'task'
                     AND a.done_at IS NULL AND a.deleted_at IS NULL),
    last_task_due = (SELECT max(a.due_on) FROM activity a WHERE a.deal_id = deal.id AND a.kind = 'task'
                     AND a.done_at IS NULL AND a.deleted_at IS NULL),
    last_touch_at = max(coalesce(last_touch_at, ''),
                        coalesce((SELECT max(coalesce(a.done_at, a.occurred_at)) FROM activity a
                                  WHERE a.deal_id = deal.id AND a.deleted_at IS NULL), ''))
"""
FOLLOW_UP_TRIGGERS = f"""
CREATE TRIGGER tr_deal_touch_insert AFTER INSERT ON deal WHEN NEW.last_touch_at IS NULL BEGIN
    UPDATE deal SET last_touch_at = max(NEW.created_at, NEW.stage_entered_at) WHERE id = NEW.id;
END;
CREATE TRIGGER tr_deal_touch_move AFTER UPDATE OF stage_entered_at ON deal
WHEN NEW.stage_entered_at > coalesce(NEW.last_touch_at, '') BEGIN
    UPDATE deal SET last_touch_at = NEW.stage_entered_at WHERE id = NEW.id;
END;
CREATE TRIGGER tr_activity_deal_insert AFTER INSERT ON activity WHEN NEW.deal_id IS NOT NULL BEGIN
    UPDATE deal SET {_RECOMPUTE_TASKS} WHERE id = NEW.deal_id;
END;
CREATE TRIGGER tr_activity_deal_update AFTER UPDATE ON activity
WHEN OLD.deal_id IS NOT NULL OR NEW.deal_id IS NOT NULL BEGIN
    UPDATE deal SET {_RECOMPUTE_TASKS} WHERE id IN (OLD.deal_id, NEW.deal_id);
END;
CREATE TRIGGER tr_activity_deal_delete AFTER DELETE ON activity WHEN OLD.deal_id IS NOT NULL BEGIN
    UPDATE deal SET {_RECOMPUTE_TASKS} WHERE id = OLD.deal_id;
END;
"""
FOLLOW_UP_TRIGGER_NAMES = ("tr_deal_touch_insert", "tr_deal_touch_move", "tr_activity_deal_insert",
                           "tr_activity_deal_update", "tr_activity_deal_delete")

V5_FOLLOW_UPS = """
ALTER TABLE deal ADD COLUMN snoozed_until DATE;
ALTER TABLE deal ADD COLUMN last_touch_at DATETIME;
ALTER TABLE deal ADD COLUMN open_tasks INTEGER NOT NULL DEFAULT 0;
ALTER TABLE deal ADD COLUMN next_task_due DATE;
ALTER TABLE deal ADD COLUMN last_task_due DATE;

CREATE INDEX ix_activity_deal_open_task ON activity (deal_id, due_on)
    WHERE kind = 'task' AND done_at IS NULL AND deleted_at IS NULL;

UPDATE deal SET
    open_tasks = (SELECT count(*) FROM activity a WHERE a.deal_id = deal.id AND a.kind = 'task'
                  AND a.done_at IS NULL AND a.deleted_at IS NULL),
    next_task_due = (SELECT min(a.due_on) FROM activity a WHERE a.deal_id = deal.id AND a.kind = 'task'
                     AND a.done_at IS NULL AND a.deleted_at IS NULL),
    last_task_due = (SELECT max(a.due_on) FROM activity a WHERE a.deal_id = deal.id AND a.kind = 'task'
                     AND a.done_at IS NULL AND a.deleted_at IS NULL),
    last_touch_at = max(created_at, stage_entered_at,
                        coalesce((SELECT max(coalesce(a.done_at, a.occurred_at)) FROM activity a
                                  WHERE a.deal_id = deal.id AND a.deleted_at IS NULL), ''));

-- The agenda's rules, each answered from its own small index (counts without reading deals).
CREATE INDEX ix_deal_touch ON deal (stage_id, last_touch_at, last_task_due, snoozed_until) WHERE deleted_at IS NULL;
CREATE INDEX ix_deal_entered ON deal (stage_id, stage_entered_at, snoozed_until) WHERE deleted_at IS NULL;
CREATE INDEX ix_deal_no_task ON deal (stage_id, snoozed_until) WHERE deleted_at IS NULL AND open_tasks = 0;
CREATE INDEX ix_deal_close ON deal (stage_id, expected_close, snoozed_until) WHERE deleted_at IS NULL;
""" + FOLLOW_UP_TRIGGERS


def _v1(conn: sqlite3.Connection) -> None:
    from crmtui.store.clock import to_db, utcnow

    conn.executescript_in_tx(V1_CORE)  # type: ignore[attr-defined]
    now = to_db(utcnow())
    cur = conn.execute(
        "INSERT INTO pipeline (name, position, is_default, created_at) VALUES (?, 0, 1, ?)",
        ("Sales", now),
    )
    pipeline_id = cur.lastrowid
    conn.executemany(
        "INSERT INTO stage (pipeline_id, name, position, probability, expected_days, kind)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        [(pipeline_id, name, i, prob, days, kind) for i, (name, kind, prob, days) in enumerate(DEFAULT_STAGES)],
    )
    conn.executemany(
        "INSERT INTO choice (list_name, value, position) VALUES (?, ?, ?)",
        [(name, value, i) for name, values in DEFAULT_CHOICES.items() for i, value in enumerate(values)],
    )


def _v2(conn: sqlite3.Connection) -> None:
    conn.executescript_in_tx(V2_SETTINGS_UNDO_LINKS)  # type: ignore[attr-defined]


# Imports: each `crmtui import` run, and what it created or changed, so that
# `crmtui imports undo ID` can take it back. Created records are kept as id ranges (an import
# assigns consecutive ids), changed ones with their columns before and after.
V3_IMPORTS = """
CREATE TABLE IF NOT EXISTS import_run (
    id INTEGER PRIMARY KEY,
    source VARCHAR NOT NULL,
    record_type VARCHAR NOT NULL CHECK (record_type IN ('deals', 'companies', 'contacts')),
    encoding VARCHAR NOT NULL,
    delimiter VARCHAR NOT NULL,
    rows_read INTEGER NOT NULL DEFAULT 0,
    summary VARCHAR NOT NULL DEFAULT '{}',
    created_at DATETIME NOT NULL,
    undone_at DATETIME
);

CREATE TABLE IF NOT EXISTS import_change (
    id INTEGER PRIMARY KEY,
    import_id INTEGER NOT NULL REFERENCES import_run (id) ON DELETE CASCADE,
    entity VARCHAR NOT NULL,
    action VARCHAR NOT NULL CHECK (action IN ('created', 'updated', 'linked')),
    first_id INTEGER NOT NULL,
    last_id INTEGER NOT NULL,
    old_values VARCHAR,
    new_values VARCHAR
);
CREATE INDEX IF NOT EXISTS ix_import_change_import ON import_change (import_id, entity);
"""


def _v3(conn: sqlite3.Connection) -> None:
    conn.executescript_in_tx(V3_IMPORTS)  # type: ignore[attr-defined]


# The finder: one FTS5 index over deal titles, company names/domains/emails and contact
# names/emails. rowid = record id * 4 + kind (1 deal, 2 company, 3 contact), so the triggers that
# keep it in step touch one row by rowid. Only live records (deleted_at IS NULL) are indexed.
V4_SEARCH = """
CREATE VIRTUAL TABLE search_index USING fts5(name, extra, tokenize = 'unicode61 remove_diacritics 2', prefix = '1 2 3');

CREATE TRIGGER search_deal_ai AFTER INSERT ON deal WHEN new.deleted_at IS NULL BEGIN
  INSERT INTO search_index (rowid, name, extra) VALUES (new.id * 4 + 1, new.title, '');
END;
CREATE TRIGGER search_deal_au AFTER UPDATE OF title, deleted_at ON deal BEGIN
  DELETE FROM search_index WHERE rowid = old.id * 4 + 1;
  INSERT INTO search_index (rowid, name, extra) SELECT new.id * 4 + 1, new.title, '' WHERE new.deleted_at IS NULL;
END;
CREATE TRIGGER search_deal_ad AFTER DELETE ON deal BEGIN
  DELETE FROM search_index WHERE rowid = old.id * 4 + 1;
END;

CREATE TRIGGER search_company_ai AFTER INSERT ON company WHEN new.deleted_at IS NULL BEGIN
  INSERT INTO search_index (rowid, name, extra)
  VALUES (new.id * 4 + 2, new.name, trim(coalesce(new.domain, '') || ' ' || coalesce(new.email, '')));
END;
CREATE TRIGGER search_company_au AFTER UPDATE OF name, domain, email, deleted_at ON company BEGIN
  DELETE FROM search_index WHERE rowid = old.id * 4 + 2;
  INSERT INTO search_index (rowid, name, extra)
  SELECT new.id * 4 + 2, new.name, trim(coalesce(new.domain, '') || ' ' || coalesce(new.email, ''))
  WHERE new.deleted_at IS NULL;
END;
CREATE TRIGGER search_company_ad AFTER DELETE ON company BEGIN
  DELETE FROM search_index WHERE rowid = old.id * 4 + 2;
END;

CREATE TRIGGER search_contact_ai AFTER INSERT ON contact WHEN new.deleted_at IS NULL BEGIN
  INSERT INTO search_index (rowid, name, extra) VALUES (new.id * 4 + 3, new.name, coalesce(new.email, ''));
END;
CREATE TRIGGER search_contact_au AFTER UPDATE OF name, email, deleted_at ON contact BEGIN
  DELETE FROM search_index WHERE rowid = old.id * 4 + 3;
  INSERT INTO search_index (rowid, name, extra)
  SELECT new.id * 4 + 3, new.name, coalesce(new.email, '') WHERE new.deleted_at IS NULL;
END;
CREATE TRIGGER search_contact_ad AFTER DELETE ON contact BEGIN
  DELETE FROM search_index WHERE rowid = old.id * 4 + 3;
END;

INSERT INTO search_index (rowid, name, extra)
  SELECT id * 4 + 1, title, '' FROM deal WHERE deleted_at IS NULL;
INSERT INTO search_index (rowid, name, extra)
  SELECT id * 4 + 2, name, trim(coalesce(domain, '') || ' ' || coalesce(email, '')) FROM company WHERE deleted_at IS NULL;
INSERT INTO search_index (rowid, name, extra)
  SELECT id * 4 + 3, name, coalesce(email, '') FROM contact WHERE deleted_at IS NULL;

-- Trash list: newest deletions first, per table, read from an index.
CREATE INDEX ix_deal_deleted ON deal (deleted_at) WHERE deleted_at IS NOT NULL;
CREATE INDEX ix_company_deleted ON company (deleted_at) WHERE deleted_at IS NOT NULL;
CREATE INDEX ix_contact_deleted ON contact (deleted_at) WHERE deleted_at IS NOT NULL;
CREATE INDEX ix_activity_deleted ON activity (deleted_at) WHERE deleted_at IS NOT NULL;
"""


def _v4(conn: sqlite3.Connection) -> None:
    conn.executescript_in_tx(V4_SEARCH)  # type: ignore[attr-defined]


def _v5(conn: sqlite3.Connection) -> None:
    conn.executescript_in_tx(V5_FOLLOW_UPS)  # type: ignore[attr-defined]


V6_FUNNEL_INDEX = """
-- The funnel: each deal's furthest stage, read in deal order from the index alone (no sort).
CREATE INDEX ix_stage_change_deal_stage ON stage_change (deal_id, to_stage_id);
"""


def _v6(conn: sqlite3.Connection) -> None:
    conn.executescript_in_tx(V6_FUNNEL_INDEX)  # type: ignore[attr-defined]


# The dashboard's scans group 100,000s of deals into a few hundred groups. SQLite groups
# by sorting every row unless an index already hands them over in group order: these indexes do,
# and hold every column the scans read (filters included), so no deal row is read and nothing
# is sorted (100k deals: created 106 -> 11 ms, closed 83 -> 22 ms, open 66 -> 25 ms).
V7_REPORT_INDEXES = """
CREATE INDEX ix_deal_report_created ON deal (substr(created_at, 1, 7), source, amount_cents, pipeline_id, created_at)
  WHERE deleted_at IS NULL;
CREATE INDEX ix_deal_report_closed
  ON deal (stage_id, substr(closed_on, 1, 7), source, lost_reason, amount_cents, closed_on, created_at, pipeline_id)
  WHERE deleted_at IS NULL AND closed_on IS NOT NULL;
-- The agenda's "closing" rule index, widened: open deals per stage and close date, with what the
-- forecast adds up.
DROP INDEX IF EXISTS ix_deal_close;
CREATE INDEX ix_deal_close ON deal (stage_id, expected_close, snoozed_until, amount_cents, open_tasks, pipeline_id)
  WHERE deleted_at IS NULL;
-- Statistics for the new indexes: without them the planner may prefer a wide index to a narrow
-- range (won this quarter read every won deal instead of the quarter's).
ANALYZE deal;
"""


def _v7(conn: sqlite3.Connection) -> None:
    conn.executescript_in_tx(V7_REPORT_INDEXES)  # type: ignore[attr-defined]


# Every index is rebuilt by a big import and updated by every edit. EXPLAIN QUERY PLAN over every
# statement the test suite runs, on databases of 200, 10,000 and 100,000 demo deals, found two
# that no query uses: ix_deal_stage (ix_deal_close and ix_deal_entered lead with the stage too)
# and ix_deal_expected_close (ix_deal_close serves the forecast's close-date drill-downs). The
# closed-date index is only asked for closed deals (`closed_on >= ...`), so it holds those alone.
# A 100,000-deal import: 0.15 s less rebuilding the indexes, and a database 4 MB (5%) smaller.
V8_FEWER_DEAL_INDEXES = """
DROP INDEX IF EXISTS ix_deal_stage;
DROP INDEX IF EXISTS ix_deal_expected_close;
DROP INDEX IF EXISTS ix_deal_closed;
CREATE INDEX ix_deal_closed ON deal (closed_on) WHERE closed_on IS NOT NULL;
ANALYZE ix_deal_closed;
"""


def _v8(conn: sqlite3.Connection) -> None:
    conn.executescript_in_tx(V8_FEWER_DEAL_INDEXES)  # type: ignore[attr-defined]


# Nothing looks records up by their external id with SQL: the importer matches them in memory,
# from the rows it loads anyway. These indexes only cost every insert (and a big import 30 ms).
V9_NO_EXTERNAL_ID_INDEXES = """
DROP INDEX IF EXISTS ix_deal_external;
DROP INDEX IF EXISTS ix_company_external;
DROP INDEX IF EXISTS ix_contact_external;
"""


def _v9(conn: sqlite3.Connection) -> None:
    conn.executescript_in_tx(V9_NO_EXTERNAL_ID_INDEXES)  # type: ignore[attr-defined]


# The finder's index without a copy of the text it indexes (contentless): the finder only ever
# reads rowids and ranks (bm25 uses the index and the document sizes), and the records hold the
# text. A contentless index forgets a row by being told the very values it indexed (the 'delete'
# command), so the triggers pass the old values, and only for a record that was indexed (live).
# Records are written once instead of twice: a big import indexes 100,000 deals in 0.25 s instead
# of 0.35 s, and the file is 4 MB smaller.
V10_CONTENTLESS_FINDER = """
DROP TRIGGER search_deal_ai;
DROP TRIGGER search_deal_au;
DROP TRIGGER search_deal_ad;
DROP TRIGGER search_company_ai;
DROP TRIGGER search_company_au;
DROP TRIGGER search_company_ad;
DROP TRIGGER search_contact_ai;
DROP TRIGGER search_contact_au;
DROP TRIGGER search_contact_ad;
DROP TABLE search_index;
CREATE VIRTUAL TABLE search_index USING fts5(name, extra, content = '',
  tokenize = 'unicode61 remove_diacritics 2', prefix = '1 2 3');

CREATE TRIGGER search_deal_ai AFTER INSERT ON deal WHEN new.deleted_at IS NULL BEGIN
  INSERT INTO search_index (rowid, name, extra) VALUES (new.id * 4 + 1, new.title, '');
END;
CREATE TRIGGER search_deal_au AFTER UPDATE OF title, deleted_at ON deal
WHEN old.title IS NOT new.title OR old.deleted_at IS NOT new.deleted_at BEGIN
  INSERT INTO search_index (search_index, rowid, name, extra)
  SELECT 'delete', old.id * 4 + 1, old.title, '' WHERE old.deleted_at IS NULL;
  INSERT INTO search_index (rowid, name, extra) SELECT new.id * 4 + 1, new.title, '' WHERE new.deleted_at IS NULL;
END;
CREATE TRIGGER search_deal_ad AFTER DELETE ON deal WHEN old.deleted_at IS NULL BEGIN
  INSERT INTO search_index (search_index, rowid, name, extra) VALUES ('delete', old.id * 4 + 1, old.title, '');
END;

CREATE TRIGGER search_company_ai AFTER INSERT ON company WHEN new.deleted_at IS NULL BEGIN
  INSERT INTO search_index (rowid, name, extra)
  VALUES (new.id * 4 + 2, new.name, trim(coalesce(new.domain, '') || ' ' || coalesce(new.email, '')));
END;
CREATE TRIGGER search_company_au AFTER UPDATE OF name, domain, email, deleted_at ON company
WHEN old.name IS NOT new.name OR old.domain IS NOT new.domain OR old.email IS NOT new.email
  OR old.deleted_at IS NOT new.deleted_at BEGIN
  INSERT INTO search_index (search_index, rowid, name, extra)
  SELECT 'delete', old.id * 4 + 2, old.name, trim(coalesce(old.domain, '') || ' ' || coalesce(old.email, ''))
  WHERE old.deleted_at IS NULL;
  INSERT INTO search_index (rowid, name, extra)
  SELECT new.id * 4 + 2, new.name, trim(coalesce(new.domain, '') || ' ' || coalesce(new.email, ''))
  WHERE new.deleted_at IS NULL;
END;
CREATE TRIGGER search_company_ad AFTER DELETE ON company WHEN old.deleted_at IS NULL BEGIN
  INSERT INTO search_index (search_index, rowid, name, extra)
  VALUES ('delete', old.id * 4 + 2, old.name, trim(coalesce(old.domain, '') || ' ' || coalesce(old.email, '')));
END;

CREATE TRIGGER search_contact_ai AFTER INSERT ON contact WHEN new.deleted_at IS NULL BEGIN
  INSERT INTO search_index (rowid, name, extra) VALUES (new.id * 4 + 3, new.name, coalesce(new.email, ''));
END;
CREATE TRIGGER search_contact_au AFTER UPDATE OF name, email, deleted_at ON contact
WHEN old.name IS NOT new.name OR old.email IS NOT new.email OR old.deleted_at IS NOT new.deleted_at BEGIN
  INSERT INTO search_index (search_index, rowid, name, extra)
  SELECT 'delete', old.id * 4 + 3, old.name, coalesce(old.email, '') WHERE old.deleted_at IS NULL;
  INSERT INTO search_index (rowid, name, extra)
  SELECT new.id * 4 + 3, new.name, coalesce(new.email, '') WHERE new.deleted_at IS NULL;
END;
CREATE TRIGGER search_contact_ad AFTER DELETE ON contact WHEN old.deleted_at IS NULL BEGIN
  INSERT INTO search_index (search_index, rowid, name, extra)
  VALUES ('delete', old.id * 4 + 3, old.name, coalesce(old.email, ''));
END;

INSERT INTO search_index (rowid, name, extra)
  SELECT id * 4 + 1, title, '' FROM deal WHERE deleted_at IS NULL;
INSERT INTO search_index (rowid, name, extra)
  SELECT id * 4 + 2, name, trim(coalesce(domain, '') || ' ' || coalesce(email, '')) FROM company WHERE deleted_at IS NULL;
INSERT INTO search_index (rowid, name, extra)
  SELECT id * 4 + 3, name, coalesce(email, '') FROM contact WHERE deleted_at IS NULL;
"""


def _v10(conn: sqlite3.Connection) -> None:
    conn.executescript_in_tx(V10_CONTENTLESS_FINDER)  # type: ignore[attr-defined]


V11_SETUP = """
-- A stage's colour on its board column and badge (a Textual/Rich colour name or #rrggbb; NULL: by kind).
ALTER TABLE stage ADD COLUMN color VARCHAR;
-- A custom field asked for in quick add, and a lookup field's source ("company.size"): read live.
ALTER TABLE custom_field ADD COLUMN required BOOLEAN NOT NULL DEFAULT 0;
ALTER TABLE custom_field ADD COLUMN lookup VARCHAR;
CREATE UNIQUE INDEX ux_custom_field_name ON custom_field (entity, name COLLATE NOCASE) WHERE deleted_at IS NULL;
-- Board filters and breakdowns by a field's value.
CREATE INDEX ix_custom_value_value ON custom_value (field_id, value);
"""


def _v11(conn: sqlite3.Connection) -> None:
    conn.executescript_in_tx(V11_SETUP)  # type: ignore[attr-defined]


V12_AUTOMATION = """
-- Stage playbooks: tasks added to a deal when it enters the stage, due `due_days` after.
CREATE TABLE playbook_task (
    id INTEGER PRIMARY KEY,
    stage_id INTEGER NOT NULL REFERENCES stage (id),
    body VARCHAR NOT NULL,
    due_days INTEGER NOT NULL DEFAULT 0 CHECK (due_days >= 0),
    position INTEGER NOT NULL DEFAULT 0,
    created_at DATETIME NOT NULL,
    deleted_at DATETIME
);
CREATE INDEX ix_playbook_task_stage ON playbook_task (stage_id, position) WHERE deleted_at IS NULL;
-- The playbook entry a task came from (a deal that re-enters the stage does not get it twice
-- while it is open), and when the task-due hook was told about the task (once per task).
ALTER TABLE activity ADD COLUMN playbook_task_id INTEGER REFERENCES playbook_task (id);
ALTER TABLE activity ADD COLUMN due_hook_at DATETIME;
-- The database's own name for its life (its path may change): calendar files' event ids.
INSERT OR IGNORE INTO setting (key, value) VALUES ('database-id', lower(hex(randomblob(8))));
"""


def _v12(conn: sqlite3.Connection) -> None:
    conn.executescript_in_tx(V12_AUTOMATION)  # type: ignore[attr-defined]


V13_SALES = """
-- The catalogue: what the consultant sells. Prices and costs in minor units of `currency`
-- (None: the database's currency); tax rate in basis points (2500 = 25 %).
CREATE TABLE product (
    id INTEGER PRIMARY KEY,
    name VARCHAR NOT NULL,
    code VARCHAR,
    unit VARCHAR NOT NULL DEFAULT 'piece',
    price_cents INTEGER NOT NULL DEFAULT 0 CHECK (price_cents >= 0),
    currency VARCHAR,
    tax_bp INTEGER NOT NULL DEFAULT 0 CHECK (tax_bp BETWEEN 0 AND 10000),
    cost_cents INTEGER CHECK (cost_cents >= 0),
    description VARCHAR,
    archived_at DATETIME,
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL,
    deleted_at DATETIME
);
CREATE UNIQUE INDEX ux_product_code ON product (code COLLATE NOCASE) WHERE code IS NOT NULL AND deleted_at IS NULL;
CREATE INDEX ix_product_name ON product (name COLLATE NOCASE);

-- A deal's line items. Quantity is exact decimal text ("1.5"); net_cents is kept by the store:
-- quantity x unit price less the line's discount, rounded once, half-up.
CREATE TABLE deal_line (
    id INTEGER PRIMARY KEY,
    deal_id INTEGER NOT NULL REFERENCES deal (id),
    product_id INTEGER REFERENCES product (id),
    description VARCHAR NOT NULL DEFAULT '',
    quantity VARCHAR NOT NULL DEFAULT '1',
    unit VARCHAR,
    unit_price_cents INTEGER NOT NULL DEFAULT 0 CHECK (unit_price_cents >= 0),
    discount_bp INTEGER NOT NULL DEFAULT 0 CHECK (discount_bp BETWEEN 0 AND 10000),
    tax_bp INTEGER NOT NULL DEFAULT 0 CHECK (tax_bp BETWEEN 0 AND 10000),
    unit_cost_cents INTEGER CHECK (unit_cost_cents >= 0),
    position INTEGER NOT NULL DEFAULT 0,
    net_cents INTEGER NOT NULL DEFAULT 0,
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL,
    deleted_at DATETIME
);
CREATE INDEX ix_deal_line_deal ON deal_line (deal_id, position) WHERE deleted_at IS NULL;
CREATE INDEX ix_deal_line_product ON deal_line (product_id) WHERE deleted_at IS NULL;

-- A discount on the whole deal: a percentage (basis points) or an amount, never both.
ALTER TABLE deal ADD COLUMN discount_bp INTEGER CHECK (discount_bp BETWEEN 0 AND 10000);
ALTER TABLE deal ADD COLUMN discount_cents INTEGER CHECK (discount_cents >= 0);

-- Quotes: numbered once (never reused), made from a snapshot of the deal's lines (JSON), so a
-- later edit of the deal does not change a quote already made. "expired" is not stored: a draft
-- or sent quote past valid_until is shown as expired.
CREATE TABLE quote (
    id INTEGER PRIMARY KEY,
    number VARCHAR NOT NULL,
    deal_id INTEGER NOT NULL REFERENCES deal (id),
    status VARCHAR NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'sent', 'accepted', 'declined')),
    issued_on DATE NOT NULL,
    valid_until DATE,
    currency VARCHAR,
    total_cents INTEGER NOT NULL DEFAULT 0,
    snapshot VARCHAR NOT NULL,
    template VARCHAR,
    format VARCHAR,
    path VARCHAR,
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL,
    deleted_at DATETIME
);
CREATE UNIQUE INDEX ux_quote_number ON quote (number);
CREATE INDEX ix_quote_deal ON quote (deal_id);

-- The last number handed out per numbering scope (a year, or "all"): numbers have no gaps and are
-- never reused, even when a quote is deleted.
CREATE TABLE quote_counter (
    scope VARCHAR PRIMARY KEY,
    last INTEGER NOT NULL
);

-- A catalogue can be imported: an import run may be of products. SQLite cannot change a CHECK in
-- place, so the table is made again with the same rows (foreign keys are off while a migration
-- runs: import_change keeps pointing at the same ids).
CREATE TABLE import_run_new (
    id INTEGER PRIMARY KEY,
    source VARCHAR NOT NULL,
    record_type VARCHAR NOT NULL CHECK (record_type IN ('deals', 'companies', 'contacts', 'products')),
    encoding VARCHAR NOT NULL,
    delimiter VARCHAR NOT NULL,
    rows_read INTEGER NOT NULL DEFAULT 0,
    summary VARCHAR NOT NULL DEFAULT '{}',
    created_at DATETIME NOT NULL,
    undone_at DATETIME
);
INSERT INTO import_run_new SELECT id, source, record_type, encoding, delimiter, rows_read, summary, created_at,
    undone_at FROM import_run;
DROP TABLE import_run;
ALTER TABLE import_run_new RENAME TO import_run;
"""


def _v13(conn: sqlite3.Connection) -> None:
    conn.executescript_in_tx(V13_SALES)  # type: ignore[attr-defined]


# (version, description, function). Append only; never edit a released migration.
MIGRATIONS: list[tuple[int, str, Callable[[sqlite3.Connection], None]]] = [
    (1, "core records: pipelines, stages, companies, contacts, deals, tags, activities", _v1),
    (2, "settings, undo log, deal file links", _v2),
    (3, "imports: each import run and what it created or changed (for undo)", _v3),
    (4, "finder: full-text index over deals, companies and contacts, kept in step by triggers", _v4),
    (5, "follow-ups: snooze, last touch and open tasks per deal (triggers), agenda indexes", _v5),
    (6, "reports: stage history index for the funnel", _v6),
    (7, "reports: covering indexes that hand the dashboard's scans their rows in group order", _v7),
    (8, "deals: drop two indexes no query uses; the closed-date index holds closed deals only", _v8),
    (9, "deals, companies, contacts: drop the external-id indexes no query uses", _v9),
    (10, "finder: a contentless full-text index (the records hold the text), triggers pass old values", _v10),
    (11, "setup: stage colours, required and lookup custom fields, one field name per record type", _v11),
    (12, "automation: stage playbooks, the task each playbook entry added, task-due hooks told; database id", _v12),
    (13, "sales: products, deal line items and discounts, quotes and their numbering", _v13),
]
LATEST_VERSION = MIGRATIONS[-1][0]


class _Conn(sqlite3.Connection):
    def executescript_in_tx(self, script: str) -> None:
        """Run statements one by one (executescript would COMMIT our open transaction)."""
        for statement in _split_sql(script):
            self.execute(statement)


def _split_sql(script: str) -> list[str]:
    lines = [ln for ln in script.splitlines() if not ln.strip().startswith("--")]
    statements, buf = [], []
    for line in lines:
        buf.append(line)
        joined = "\n".join(buf)
        if joined.rstrip().endswith(";") and sqlite3.complete_statement(joined):
            statements.append(joined.strip())
            buf = []
    if "\n".join(buf).strip():
        statements.append("\n".join(buf).strip())
    return statements


def connect_raw(path: Path, timeout: float = 5.0) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=timeout, factory=_Conn, isolation_level=None)
    return conn


def migrate(conn: sqlite3.Connection, *, upto: int = LATEST_VERSION) -> list[int]:
    """Bring the schema to `upto`, one transaction per migration. Returns versions applied."""
    applied = []
    current = conn.execute("PRAGMA user_version").fetchone()[0]
    # A migration may make a table again with the same rows (to change a CHECK): with foreign keys
    # on, dropping the old one would delete the rows that point at it. So they are off while
    # migrating (the pragma cannot change inside a transaction).
    keys_on = conn.execute("PRAGMA foreign_keys").fetchone()[0]
    conn.execute("PRAGMA foreign_keys = OFF")
    try:
        for version, _description, apply in MIGRATIONS:
            if version <= current or version > upto:
                continue
            _migrate_one(conn, version, apply)
            applied.append(version)
    finally:
        if keys_on:
            conn.execute("PRAGMA foreign_keys = ON")
    return applied


def _migrate_one(conn: sqlite3.Connection, version: int, apply: Callable[[sqlite3.Connection], None]) -> None:
    conn.execute("BEGIN IMMEDIATE")
    try:
        apply(conn)
        if version == 1:
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        conn.execute(f"PRAGMA user_version = {version}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
