// The REST routes: for each method and path, what the request may hold (path id, query
// parameters, body fields, Idempotency-Key), which GraphQL operation of operations.ts it runs
// with which variables, and the status of a success. The OpenAPI document (openapi.ts) is
// generated from this table, so the two cannot drift apart.
import { OPERATIONS, type Operation } from './operations.ts';

type Json = Record<string, any>;

/** A JSON Schema (the subset OpenAPI 3.0 accepts). */
export type Schema = Json;

/** Which ids a path segment may hold: items are MongoDB ObjectIds, the rest UUIDs. */
export const ID_PATTERNS = {
  item: '^[0-9a-fA-F]{24}$',
  uuid: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$',
} as const;
export type IdKind = keyof typeof ID_PATTERNS;

export interface QueryParam {
  name: string;
  schema: Schema;
  description: string;
}

export interface RestRequest {
  id?: string;
  query: Record<string, string | number>;
  body: Json;
  idempotencyKey?: string;
}

export interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** OpenAPI path template; `{id}` is the only parameter a path holds. */
  path: string;
  summary: string;
  /** What a resource is called in a "not found" message. */
  resource: string;
  idKind?: IdKind;
  query?: QueryParam[];
  /** The body's JSON Schema; its top-level properties are the only fields accepted. */
  body?: { schema: Schema; required: boolean };
  idempotencyKey?: 'required' | 'optional';
  /** none: public; token: an access token is required; admin: an admin's token is required. */
  auth: 'none' | 'token' | 'admin';
  status: 200 | 201 | 202 | 204;
  /** The response's schema (a component name), unless the status is 204. */
  response?: string;
  operation: Operation;
  variables(request: RestRequest): Json;
}

const string = { type: 'string' };
const money = { $ref: '#/components/schemas/MoneyInput' };
const address = { $ref: '#/components/schemas/AddressInput' };
const card = { $ref: '#/components/schemas/CardInput' };
/** The one address input (GraphQL's AddressInput): an order's shipping address and an
 * account's addresses, one JSON shape and one rule (the kit's, shopkit/addresses.py). */
export const ADDRESS_INPUT: Schema = {
  type: 'object',
  additionalProperties: false,
  required: ['line1', 'city', 'country'],
  properties: {
    line1: string,
    line2: string,
    city: string,
    region: string,
    postalCode: string,
    country: { ...string, description: 'ISO 3166-1 alpha-2.' },
  },
};
/** Written out: OpenAPI 3.0 ignores `nullable` beside a $ref. null clears the address. */
const NULLABLE_ADDRESS_INPUT = { ...ADDRESS_INPUT, nullable: true };
const lines = {
  type: 'array',
  minItems: 1,
  items: {
    type: 'object',
    additionalProperties: false,
    required: ['itemId', 'quantity'],
    properties: { itemId: string, quantity: { type: 'integer', minimum: 1 } },
  },
};

function object(properties: Json, required: string[] = []): Schema {
  return { type: 'object', additionalProperties: false, properties, ...(required.length ? { required } : {}) };
}

const itemFields = {
  upc: { type: 'string', description: '8 to 14 digits' },
  name: string,
  description: string,
  unitPrice: money,
  imageUrls: { type: 'array', items: string },
  attributes: { type: 'object', description: 'Free-form metadata.' },
};
const paymentMethodFields = {
  card,
  paymentMethodId: { type: 'string', description: 'A saved card (exactly one of card or paymentMethodId).' },
};

export const ROUTES: Route[] = [
  {
    method: 'GET',
    path: '/api/items',
    summary: 'Retrieve the catalog, by ascending id, a page at a time',
    resource: 'item',
    query: [
      { name: 'first', schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 }, description: 'Page size.' },
      { name: 'after', schema: string, description: 'The endCursor of the previous page.' },
      { name: 'search', schema: string, description: 'Matches the item name.' },
    ],
    auth: 'none',
    status: 200,
    response: 'ItemPage',
    operation: OPERATIONS.listItems,
    variables: ({ query }) => ({ first: query.first ?? 20, after: query.after, search: query.search }),
  },
  {
    method: 'POST',
    path: '/api/items',
    summary: 'Create an item (admins)',
    resource: 'item',
    body: {
      schema: object({ ...itemFields, stock: { type: 'integer', minimum: 0 } }, ['upc', 'name', 'unitPrice']),
      required: true,
    },
    auth: 'admin',
    status: 201,
    response: 'Item',
    operation: OPERATIONS.createItem,
    variables: ({ body }) => ({ input: body }),
  },
  {
    method: 'GET',
    path: '/api/items/{id}',
    summary: 'Retrieve an item by id',
    resource: 'item',
    idKind: 'item',
    auth: 'none',
    status: 200,
    response: 'Item',
    operation: OPERATIONS.getItem,
    variables: ({ id }) => ({ id }),
  },
  {
    method: 'PUT',
    path: '/api/items/{id}',
    summary: 'Update an item (admins); omitted fields stay as they are',
    resource: 'item',
    idKind: 'item',
    body: { schema: object(itemFields), required: true },
    auth: 'admin',
    status: 200,
    response: 'Item',
    operation: OPERATIONS.updateItem,
    variables: ({ id, body }) => ({ id, input: body }),
  },
  {
    method: 'DELETE',
    path: '/api/items/{id}',
    summary: 'Delete an item (admins)',
    resource: 'item',
    idKind: 'item',
    auth: 'admin',
    status: 204,
    operation: OPERATIONS.deleteItem,
    variables: ({ id }) => ({ id }),
  },
  {
    method: 'GET',
    path: '/api/items/{id}/availability',
    summary: 'Check the available stock of an item',
    resource: 'item',
    idKind: 'item',
    auth: 'none',
    status: 200,
    response: 'Availability',
    operation: OPERATIONS.itemAvailability,
    variables: ({ id }) => ({ id }),
  },
  {
    method: 'POST',
    path: '/api/accounts',
    summary: 'Register a customer account (the answer is the same whether or not the email was taken)',
    resource: 'account',
    body: {
      schema: object(
        { email: string, name: string, password: string, shippingAddress: address, billingAddress: address },
        ['email', 'name', 'password'],
      ),
      required: true,
    },
    auth: 'none',
    status: 202,
    response: 'Registered',
    operation: OPERATIONS.register,
    variables: ({ body }) => ({ input: body }),
  },
  {
    method: 'POST',
    path: '/api/accounts/login',
    summary: 'Log in: exchange an email and password for an access token',
    resource: 'account',
    body: { schema: object({ email: string, password: string }, ['email', 'password']), required: true },
    auth: 'none',
    status: 200,
    response: 'Login',
    operation: OPERATIONS.login,
    variables: ({ body }) => ({ email: body.email, password: body.password }),
  },
  {
    method: 'GET',
    path: '/api/accounts/me',
    summary: "The caller's account",
    resource: 'account',
    auth: 'token',
    status: 200,
    response: 'Account',
    operation: OPERATIONS.me,
    variables: () => ({}),
  },
  {
    method: 'PUT',
    path: '/api/accounts/me',
    summary: "Update the caller's account; omitted fields stay, a null address clears it",
    resource: 'account',
    body: {
      schema: object({
        name: string,
        email: string,
        shippingAddress: NULLABLE_ADDRESS_INPUT,
        billingAddress: NULLABLE_ADDRESS_INPUT,
        password: string,
        currentPassword: { type: 'string', description: 'Required to change the email or the password.' },
      }),
      required: true,
    },
    auth: 'token',
    status: 200,
    response: 'Account',
    operation: OPERATIONS.updateAccount,
    variables: ({ body }) => ({ input: body }),
  },
  {
    method: 'GET',
    path: '/api/accounts/{id}',
    summary: 'Look up an account (your own, or any for an admin)',
    resource: 'account',
    idKind: 'uuid',
    auth: 'token',
    status: 200,
    response: 'Account',
    operation: OPERATIONS.getAccount,
    variables: ({ id }) => ({ id }),
  },
  {
    method: 'POST',
    path: '/api/orders',
    summary: 'Create an order (stock is held until it is paid or cancelled)',
    resource: 'order',
    body: {
      schema: object(
        { lines, shippingAddress: address },
        ['lines'],
      ),
      required: true,
    },
    idempotencyKey: 'optional',
    auth: 'token',
    status: 201,
    response: 'Order',
    operation: OPERATIONS.createOrder,
    variables: ({ body, idempotencyKey }) => ({ input: { ...body, idempotencyKey } }),
  },
  {
    method: 'GET',
    path: '/api/orders/{id}',
    summary: 'Look up an order (its owner or an admin)',
    resource: 'order',
    idKind: 'uuid',
    auth: 'token',
    status: 200,
    response: 'Order',
    operation: OPERATIONS.getOrder,
    variables: ({ id }) => ({ id }),
  },
  {
    method: 'PUT',
    path: '/api/orders/{id}',
    summary: "Replace an unpaid order's lines",
    resource: 'order',
    idKind: 'uuid',
    body: { schema: object({ lines }, ['lines']), required: true },
    auth: 'token',
    status: 200,
    response: 'Order',
    operation: OPERATIONS.updateOrder,
    variables: ({ id, body }) => ({ id, input: body }),
  },
  {
    method: 'POST',
    path: '/api/orders/{id}/cancel',
    summary: 'Cancel an order; a paid one is refunded',
    resource: 'order',
    idKind: 'uuid',
    body: { schema: object({ reason: string }), required: false },
    auth: 'token',
    status: 200,
    response: 'Order',
    operation: OPERATIONS.cancelOrder,
    variables: ({ id, body }) => ({ id, reason: body.reason }),
  },
  {
    method: 'POST',
    path: '/api/payments',
    summary: "Pay an order's total (exactly one of card or paymentMethodId)",
    resource: 'payment',
    body: { schema: object({ orderId: string, ...paymentMethodFields }, ['orderId']), required: true },
    idempotencyKey: 'required',
    auth: 'token',
    status: 201,
    response: 'Payment',
    operation: OPERATIONS.submitPayment,
    variables: ({ body, idempotencyKey }) => ({ input: { ...body, idempotencyKey } }),
  },
  {
    method: 'GET',
    path: '/api/payments/{id}',
    summary: 'Look up a payment and its status',
    resource: 'payment',
    idKind: 'uuid',
    auth: 'token',
    status: 200,
    response: 'Payment',
    operation: OPERATIONS.getPayment,
    variables: ({ id }) => ({ id }),
  },
  {
    method: 'PUT',
    path: '/api/payments/{id}',
    summary: 'Retry a FAILED payment with another card, as a new attempt',
    resource: 'payment',
    idKind: 'uuid',
    body: { schema: object(paymentMethodFields), required: true },
    idempotencyKey: 'required',
    auth: 'token',
    status: 200,
    response: 'Payment',
    operation: OPERATIONS.updatePayment,
    variables: ({ id, body, idempotencyKey }) => ({ id, input: { ...body, idempotencyKey } }),
  },
  {
    method: 'POST',
    path: '/api/payments/{id}/refund',
    summary: 'Refund a payment (admins; or the owner once the order is cancelled); without amount, all that remains',
    resource: 'payment',
    idKind: 'uuid',
    body: { schema: object({ amount: { type: 'integer', minimum: 1 } }), required: false },
    idempotencyKey: 'required',
    auth: 'token',
    status: 200,
    response: 'Payment',
    operation: OPERATIONS.refundPayment,
    variables: ({ id, body, idempotencyKey }) => ({ id, input: { ...body, idempotencyKey } }),
  },
];

/** The route template a path matches (`/api/items/{id}`), and the id it holds. */
export function matchPath(pathname: string): { template: string; id?: string } | null {
  const path = pathname.replace(/\/+$/, '') || '/';
  for (const route of ROUTES) {
    const pattern = route.path.replace('{id}', '([^/]+)');
    const match = new RegExp(`^${pattern}$`).exec(path);
    if (!match) continue;
    // "me" and "login" are paths of their own, never an account id.
    if (route.path === '/api/accounts/{id}' && (match[1] === 'me' || match[1] === 'login')) continue;
    if (match[1] === undefined) return { template: route.path };
    try {
      return { template: route.path, id: decodeURIComponent(match[1]) };
    } catch {
      return { template: route.path, id: match[1] }; // not an id either way: refused as such
    }
  }
  return null;
}
