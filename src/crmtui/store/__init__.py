"""The data layer: models, database, services. Never imports Textual."""

from crmtui.store.db import Database, open_database
from crmtui.store.errors import CrmError, DatabaseError, NotFound, ValidationError

__all__ = ["CrmError", "Database", "DatabaseError", "NotFound", "ValidationError", "open_database"]
