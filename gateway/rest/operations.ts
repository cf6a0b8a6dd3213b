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
  getItem: operation(
    'RestGetItem',
    `query RestGetItem($id: ID!) { item(id: $id) { ${ITEM} } }`,
    (data) => itemJson(data.item),
  ),
  itemAvailability: operation(
    'RestItemAvailability',
    `query RestItemAvailability($id: ID!) { item(id: $id) { availability { available inStock } } }`,
    (data) => data.item && data.item.availability,
  ),
  createItem: operation(
    'RestCreateItem',
    `mutation RestCreateItem($input: CreateItemInput!) { createItem(input: $input) { ${ITEM} } }`,
    (data) => itemJson(data.createItem),
  ),
  updateItem: operation(
    'RestUpdateItem',
    `mutation RestUpdateItem($id: ID!, $input: UpdateItemInput!) {
       updateItem(id: $id, input: $input) { ${ITEM} } }`,
    (data) => itemJson(data.updateItem),
  ),
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
  getAccount: operation(
    'RestGetAccount',
    `query RestGetAccount($id: ID!) { account(id: $id) { ${ACCOUNT} } }`,
    (data) => accountJson(data.account),
  ),
  updateAccount: operation(
    'RestUpdateAccount',
    `mutation RestUpdateAccount($input: UpdateAccountInput!) { updateAccount(input: $input) { ${ACCOUNT} } }`,
    (data) => accountJson(data.updateAccount),
  ),
  createOrder: operation(
    'RestCreateOrder',
    `mutation RestCreateOrder($input: CreateOrderInput!) { createOrder(input: $input) { ${ORDER} } }`,
    (data) => orderJson(data.createOrder),
  ),
  getOrder: operation(
    'RestGetOrder',
    `query RestGetOrder($id: ID!) { order(id: $id) { ${ORDER} } }`,
    (data) => orderJson(data.order),
  ),
  updateOrder: operation(
    'RestUpdateOrder',
    `mutation RestUpdateOrder($id: ID!, $input: UpdateOrderInput!) {
       updateOrder(id: $id, input: $input) { ${ORDER} } }`,
    (data) => orderJson(data.updateOrder),
  ),
  cancelOrder: operation(
    'RestCancelOrder',
    `mutation RestCancelOrder($id: ID!, $reason: String) { cancelOrder(id: $id, reason: $reason) { ${ORDER} } }`,
    (data) => orderJson(data.cancelOrder),
  ),
  submitPayment: operation(
    'RestSubmitPayment',
    `mutation RestSubmitPayment($input: SubmitPaymentInput!) { submitPayment(input: $input) { ${PAYMENT} } }`,
    (data) => paymentJson(data.submitPayment),
  ),
  getPayment: operation(
    'RestGetPayment',
    `query RestGetPayment($id: ID!) { payment(id: $id) { ${PAYMENT} } }`,
    (data) => paymentJson(data.payment),
  ),
  updatePayment: operation(
    'RestUpdatePayment',
    `mutation RestUpdatePayment($id: ID!, $input: UpdatePaymentInput!) {
       updatePayment(id: $id, input: $input) { ${PAYMENT} } }`,
    (data) => paymentJson(data.updatePayment),
  ),
  refundPayment: operation(
    'RestRefundPayment',
    `mutation RestRefundPayment($id: ID!, $input: RefundPaymentInput!) {
       refundPayment(id: $id, input: $input) { ${PAYMENT} } }`,
    (data) => paymentJson(data.refundPayment),
  ),
} as const;
