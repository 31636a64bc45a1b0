"""CSV import: a file's rows into deals, companies and contacts, in one transaction, in steps.

1. read           reading.py   bytes -> text (encoding), delimiter, preamble and header, rows
2. map columns    mapping.py   header -> fields (synonyms of common exports, their words, --map),
                               record type; new_fields.py: --create-fields, custom fields of the
                               columns that match none (made in the write transaction)
3. parse values   values.py    amounts, dates, emails, tags, statuses as people write them;
                  cells.py     a row's cells by field, parsed, each error naming its column
4. match          matching.py  what exists, loaded and indexed: companies by domain or name,
                               contacts by email or name, deals by key; repeats within the file
5. plan rows      planner.py   every row through deal_rows.py / company_rows.py / contact_rows.py
                               (with stages.py, records.py, tags.py) into the Plan (plan.py);
                  stages.py    the file's own stages first (file_stages): --map-stage, the pipeline
                               --new-pipeline makes, the stages --create-stages adds
6. write          apply.py     the plan in one transaction; a big deals file is planned in a
                               second process meanwhile (handover.py, stream.py)
7. record, undo   apply.py writes what each import did; history.py lists and undoes imports
"""
