"""Names vulture reports as unused that are used, each with who uses it (vulture reads this
file as code that uses them; nothing imports it). Configuration: ``[tool.vulture]`` in
pyproject.toml. A name belongs here only when something outside the tree's own calls uses it
(a framework, a protocol, a serialiser); dead code is removed instead."""

# ruff: noqa: B018
from types import SimpleNamespace

_ = SimpleNamespace()

# asyncio.Protocol callbacks (cqlserver/server.py), and the system tables the server keeps
# (their constructor hooks themselves into the executor).
_.connection_made
_.connection_lost
_.data_received
_.system
# The CQL native protocol's opcodes and flags, listed complete though the server sends no
# AUTHENTICATE, tracing or warnings; a query's consistency is read off the wire to reach the
# next field (one node: it is not used).
_.OP_AUTHENTICATE
_.FLAG_TRACING
_.FLAG_WARNING
_.consistency

# Strawberry calls these: the ASGI app's context and JSON encoding hooks, the schema's error hook, entity
# resolvers, and the fields of GraphQL types (read when a query selects them).
_.get_context
_.encode_json
_.process_errors
_.execution_context
_.resolve_reference
_.page_info
_.nodes  # shopkit.paging.Page.nodes (items REST, tests)
_.failure_reason
_.header_names  # tests/gateway/stub_subgraph.py
_.on_operation  # a SchemaExtension hook (shopkit/tracing.py GraphQLTracing)

# http.server calls a handler's do_<METHOD> (tests/support/otlp.py, the OTLP receiver).
_.do_POST

# SQLAlchemy: a TypeDecorator's hooks (shopkit/sql.py UTCDateTime).
_.impl
_.cache_ok
_.load_dialect_impl
_.process_bind_param
_.process_result_value

# aiokafka's ConsumerRebalanceListener callbacks (shopkit/events/kafka.py).
_.on_partitions_revoked
_.on_partitions_assigned
_.assigned

# Serialised, not read in Python: the CloudEvents attributes of the envelope, the time an
# inbox row was written (MongoDB), the count of orders payments did not answer about (read
# through vars() and compared whole in tests).
_.specversion
_.datacontenttype
_.handled_at
_.unanswered
# An item document's price, written through ItemDoc (subgraphs/items/store/documents.py) and
# read by its key (item_from_doc); a new item's, given by keyword (items' NewItemFields).
_.price_amount
_.price_currency

# pytest: module marks, fixtures requested by parameter name, and a helper it must not collect.
_.pytestmark
_.pytest_collection  # pytest hooks (tests/conftest.py)
_.pytest_collection_finish
_.pytest_collection_modifyitems
_.permissive_umask
_.__test__
# http.server's request handler hooks (tests/gateway/conftest.py).
_.do_GET
_.log_message

# Alembic reads a migration's module variables and calls its downgrade().
_.revision
_.down_revision
_.branch_labels
_.depends_on
_.downgrade

# Strawberry reads a view's transport map and calls the SSE transport's comment encoder and
# the subscription resolvers of a schema (live order status).
_.stream_transport_classes_by_protocol
_.encode_comment
_.order_status_changed
