"""The GraphQL documents that more than one test module (or the benchmarks, bench/) sends,
each written once. A document only one module sends stays beside its tests, where a reader
sees what is asked; one shared here is the same text everywhere, so that a change of the API
is made in one place. The variables are named as the documents name them (``$i`` for an
input object)."""

from __future__ import annotations

# accounts
REGISTER = "mutation($i: RegisterInput!) { register(input: $i) { message } }"
LOGIN = "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }"

# items
ITEM_ID_BY_UPC = "query($u: String!) { itemByUpc(upc: $u) { id } }"

# orders
CREATE_ORDER = "mutation($i: CreateOrderInput!) { createOrder(input: $i) { id status } }"
CANCEL_ORDER = "mutation($id: ID!) { cancelOrder(id: $id) { status } }"
ORDER_STATUS = "query($id: ID!) { order(id: $id) { status } }"
ORDER_REFUNDS = (
    "query($id: ID!) { order(id: $id) { payments { edges { node { status "
    "refunds { edges { node { amount { amount } } } } } } } } }"
)
ORDER_STATUS_CHANGED = "subscription($id: ID!) { orderStatusChanged(orderId: $id) { id status } }"

# payments
SUBMIT_PAYMENT = "mutation($i: SubmitPaymentInput!) { submitPayment(input: $i) { id status } }"
PAYMENT_IDS_FOR_ORDER = "query($o: ID!) { paymentsForOrder(orderId: $o) { edges { node { id } } } }"
