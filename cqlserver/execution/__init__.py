"""Statement execution, one module per kind of statement.

``executor`` holds the ``Executor`` (prepare, then dispatch); ``results`` the
dataclasses it returns, which ``server`` encodes as RESULT frames. Statements:
``ddl`` (CREATE/DROP/ALTER/TRUNCATE), ``select`` (restrictions, ORDER BY,
limits, paging, COUNT) with ``selectors`` (what a row yields) and ``scan``
(walking partitions in order); ``batch`` (running INSERT/UPDATE/DELETE and
BATCH atomically), ``modify`` (planning them into ``writes``, which applies
them), ``conditions`` (IF clauses and the ``[applied]`` result). Shared:
``restrictions`` (WHERE relations to keys and predicates), ``binds`` (bind
marker metadata for PREPARE).

Everything here is synchronous and runs on the event loop, so one statement
(including its condition check and writes) is atomic with respect to every
other statement.
"""

from .executor import Executor
from .results import ColSpec, Prepared, Rows, SchemaChange, SetKeyspace, Void

__all__ = ["ColSpec", "Executor", "Prepared", "Rows", "SchemaChange", "SetKeyspace", "Void"]
