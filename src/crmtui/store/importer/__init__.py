"""CSV import (issue 3): reading any real CSV file, mapping its columns, planning every row
against the database, then writing it all in one transaction (and undoing it later).

- reading.py: bytes -> text (encoding), delimiter, preamble and header, rows
- mapping.py: header -> field synonyms for the common exports, `--map`, record type detection
- values.py:  cell values as people write them (amounts, dates, emails, tags, statuses)
- plan.py:    match and validate every row; the plan of inserts and updates
- apply.py:   run an import in one transaction; the rejects file
- history.py: past imports, and undoing one
"""
