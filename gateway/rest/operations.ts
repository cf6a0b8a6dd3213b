// The GraphQL documents the REST API runs, and how each answer becomes the seed's JSON.
//
// This is the one file to change when the public GraphQL schema changes: every selection and
// every GraphQL-to-REST mapping is here. The REST shapes follow the seed specification (and the
// items subgraph's own /api/items), not GraphQL's: money is `{amount, currency}`, an order line
// names its item by `itemId`, lists are `{items|orders: [...], pageInfo}`.

type Json = Record<string, any>;

const MONEY = 'amount currency';
const ADDRESS = 'line1 line2 city region postalCode country';
const ITEM = `id upc name description unitPrice { ${MONEY} } imageUrls attributes
  availability { available inStock }`;
const ORDER = `id status total { ${MONEY} } shippingAddress { ${ADDRESS} } createdAt updatedAt
  lines { item { id } name quantity unitPrice { ${MONEY} } lineTotal { ${MONEY} } }
  payment { id status }`;
const PAYMENT = `id status amount { ${MONEY} } method { brand last4 } failureCode failureReason
  refunded { ${MONEY} } refundable { ${MONEY} } refunds(first: 100) { edges { node { id amount { ${MONEY} } createdAt } } }
  createdAt updatedAt order { id }`;
const ACCOUNT = `id email name role shippingAddress { ${ADDRESS} } billingAddress { ${ADDRESS} }
  paymentMethods { id brand last4 expMonth expYear } createdAt updatedAt`;

/** One GraphQL operation the REST API runs: its document, and the REST JSON of its data. */
export interface Operation {
  name: string;
  document: string;
  /** The REST JSON of the answer's data; null when the object does not exist. */
  toRest(data: Json): Json | null;
}

function operation(name: string, document: string, toRest: (data: Json) => Json | null): Operation {
  return { name, document: document.replace(/\s+/g, ' ').trim(), toRest };
}

/** The operation of most routes: one root `field`, called with `variables` as its arguments of
 * the same names (`$id: ID!` passes `id: $id`), its `selection` made REST JSON by `toJson`. */
function fieldOperation(
  kind: 'query' | 'mutation',
  name: string,
  field: string,
  variables: string,
  selection: string,
  toJson: (value: Json | null) => Json | null,
): Operation {
  const args = variables
    .split(',')
    .map((variable) => variable.split(':')[0].trim().slice(1))
    .map((arg) => `${arg}: $${arg}`)
    .join(', ');
  return operation(
    name,
    `${kind} ${name}(${variables}) { ${field}(${args}) { ${selection} } }`,
    (data) => toJson(data[field]),
  );
}

export const itemJson = (item: Json | null): Json | null =>
  item && {
    id: item.id,
    upc: item.upc,
    name: item.name,
    description: item.description,
    unitPrice: item.unitPrice,
    imageUrls: item.imageUrls,
    attributes: item.attributes,
    availability: item.availability,
  };

export const orderJson = (order: Json | null): Json | null =>
  order && {
    id: order.id,
    status: order.status,
    lines: order.lines.map((line: Json) => ({
      itemId: line.item?.id ?? null,
      name: line.name,
      quantity: line.quantity,
      unitPrice: line.unitPrice,
      lineTotal: line.lineTotal,
    })),
    total: order.total,
    shippingAddress: order.shippingAddress,
    payment: order.payment ? { id: order.payment.id, status: order.payment.status } : null,
    createdAt: order.createdAt,
    updatedAt: order.updatedAt,
  };

export const paymentJson = (payment: Json | null): Json | null =>
  payment && {
    id: payment.id,
    orderId: payment.order.id,
    status: payment.status,
    amount: payment.amount,
    method: payment.method,
    failureCode: payment.failureCode,
    failureReason: payment.failureReason,
    refunded: payment.refunded,
    refundable: payment.refundable,
    refunds: payment.refunds.edges.map((edge: Json) => edge.node),
    createdAt: payment.createdAt,
    updatedAt: payment.updatedAt,
  };

export const accountJson = (account: Json | null): Json | null => account && { ...account };

export const OPERATIONS = {
  listItems: operation(
    'RestListItems',
    `query RestListItems($first: Int!, $after: String, $search: String) {
       items(first: $first, after: $after, search: $search) {
         edges { node { ${ITEM} } } pageInfo { hasNextPage endCursor } } }`,
    (data) => ({
      items: data.items.edges.map((edge: Json) => itemJson(edge.node)),
      pageInfo: data.items.pageInfo,
    }),
  ),
  getItem: fieldOperation('query', 'RestGetItem', 'item', '$id: ID!', ITEM, itemJson),
  itemAvailability: operation(
    'RestItemAvailability',
    `query RestItemAvailability($id: ID!) { item(id: $id) { availability { available inStock } } }`,
    (data) => data.item && data.item.availability,
  ),
  createItem: fieldOperation('mutation', 'RestCreateItem', 'createItem', '$input: CreateItemInput!', ITEM, itemJson),
  updateItem: fieldOperation('mutation', 'RestUpdateItem', 'updateItem', '$id: ID!, $input: UpdateItemInput!', ITEM, itemJson),
  deleteItem: operation(
    'RestDeleteItem',
    `mutation RestDeleteItem($id: ID!) { deleteItem(id: $id) }`,
    (data) => (data.deleteItem ? {} : null),
  ),
  register: operation(
    'RestRegister',
    `mutation RestRegister($input: RegisterInput!) { register(input: $input) { message } }`,
    (data) => ({ message: data.register.message }),
  ),
  login: operation(
    'RestLogin',
    `mutation RestLogin($email: String!, $password: String!) {
       login(email: $email, password: $password) { token expiresAt account { ${ACCOUNT} } } }`,
    (data) => ({
      token: data.login.token,
      expiresAt: data.login.expiresAt,
      account: accountJson(data.login.account),
    }),
  ),
  me: operation('RestMe', `query RestMe { me { ${ACCOUNT} } }`, (data) => accountJson(data.me)),
  getAccount: fieldOperation('query', 'RestGetAccount', 'account', '$id: ID!', ACCOUNT, accountJson),
  updateAccount: fieldOperation('mutation', 'RestUpdateAccount', 'updateAccount', '$input: UpdateAccountInput!', ACCOUNT, accountJson),
  createOrder: fieldOperation('mutation', 'RestCreateOrder', 'createOrder', '$input: CreateOrderInput!', ORDER, orderJson),
  getOrder: fieldOperation('query', 'RestGetOrder', 'order', '$id: ID!', ORDER, orderJson),
  updateOrder: fieldOperation('mutation', 'RestUpdateOrder', 'updateOrder', '$id: ID!, $input: UpdateOrderInput!', ORDER, orderJson),
  cancelOrder: fieldOperation('mutation', 'RestCancelOrder', 'cancelOrder', '$id: ID!, $reason: String', ORDER, orderJson),
  submitPayment: fieldOperation('mutation', 'RestSubmitPayment', 'submitPayment', '$input: SubmitPaymentInput!', PAYMENT, paymentJson),
  getPayment: fieldOperation('query', 'RestGetPayment', 'payment', '$id: ID!', PAYMENT, paymentJson),
  updatePayment: fieldOperation('mutation', 'RestUpdatePayment', 'updatePayment', '$id: ID!, $input: UpdatePaymentInput!', PAYMENT, paymentJson),
  refundPayment: fieldOperation('mutation', 'RestRefundPayment', 'refundPayment', '$id: ID!, $input: RefundPaymentInput!', PAYMENT, paymentJson),
} as const;
