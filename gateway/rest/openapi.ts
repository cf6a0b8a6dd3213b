// The OpenAPI 3 document of the REST API, generated from the route table (routes.ts): every
// path, method, parameter, body and status there is here, and nothing else.
import { CATALOGUE } from '../errors.ts';
import { ADDRESS_INPUT, ID_PATTERNS, ROUTES, type Route, type Schema } from './routes.ts';

const string = { type: 'string' };
const nullableString = { type: 'string', nullable: true };
const integer = { type: 'integer' };
const dateTime = { type: 'string', format: 'date-time' };
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const money = ref('Money');

function object(properties: Record<string, Schema>, required = Object.keys(properties)): Schema {
  return { type: 'object', properties, ...(required.length ? { required } : {}) };
}

/** The one address (GraphQL's Address and AddressInput): an account's addresses and an order's
 * shipping address have the same JSON shape and the same rule. */
const ADDRESS = object(
  { line1: string, line2: nullableString, city: string, region: nullableString, postalCode: nullableString, country: string },
  ['line1', 'city', 'country'],
);
/** OpenAPI 3.0 ignores the siblings of a $ref (and `nullable` does not reach into allOf), so a
 * nullable address is written out. */
const NULLABLE_ADDRESS = { ...ADDRESS, nullable: true };

const SCHEMAS: Record<string, Schema> = {
  Money: object({ amount: { ...integer, description: 'Minor units (cents).' }, currency: { ...string, description: 'ISO 4217.' } }),
  MoneyInput: { ...object({ amount: integer, currency: string }), additionalProperties: false },
  Address: ADDRESS,
  AddressInput: ADDRESS_INPUT,
  CardInput: {
    ...object({ number: string, expMonth: integer, expYear: integer, cvc: string }),
    additionalProperties: false,
  },
  Availability: object({ available: integer, inStock: { type: 'boolean' } }),
  Item: object({
    id: string,
    upc: string,
    name: string,
    description: string,
    unitPrice: money,
    imageUrls: { type: 'array', items: string },
    attributes: { type: 'object' },
    availability: ref('Availability'),
  }),
  PageInfo: object({ hasNextPage: { type: 'boolean' }, endCursor: nullableString }),
  ItemPage: object({ items: { type: 'array', items: ref('Item') }, pageInfo: ref('PageInfo') }),
  OrderLine: object({
    itemId: nullableString,
    name: nullableString,
    quantity: integer,
    unitPrice: money,
    lineTotal: money,
  }),
  Order: object({
    id: string,
    status: { type: 'string', enum: ['PENDING_PAYMENT', 'PAID', 'COMPLETED', 'CANCELLED', 'PAYMENT_FAILED', 'REFUNDED'] },
    lines: { type: 'array', items: ref('OrderLine') },
    total: money,
    shippingAddress: NULLABLE_ADDRESS,
    payment: { ...object({ id: string, status: string }), nullable: true },
    createdAt: dateTime,
    updatedAt: dateTime,
  }),
  Payment: object({
    id: string,
    orderId: string,
    status: { type: 'string', enum: ['PENDING', 'SUCCEEDED', 'FAILED', 'REFUNDED', 'PARTIALLY_REFUNDED'] },
    amount: money,
    method: { ...object({ brand: string, last4: string }), nullable: true },
    failureCode: nullableString,
    failureReason: nullableString,
    refunded: money,
    refundable: money,
    refunds: { type: 'array', items: object({ id: string, amount: money, createdAt: dateTime }) },
    createdAt: dateTime,
    updatedAt: dateTime,
  }),
  Account: object({
    id: string,
    email: string,
    name: string,
    role: { type: 'string', enum: ['CUSTOMER', 'ADMIN'] },
    shippingAddress: NULLABLE_ADDRESS,
    billingAddress: NULLABLE_ADDRESS,
    paymentMethods: {
      type: 'array',
      items: object({ id: string, brand: string, last4: string, expMonth: integer, expYear: integer }),
    },
    createdAt: dateTime,
    updatedAt: dateTime,
  }),
  Registered: object({ message: string }),
  Login: object({ token: string, expiresAt: dateTime, account: ref('Account') }),
  Error: object({
    error: object(
      {
        code: { type: 'string', enum: Object.keys(CATALOGUE) },
        message: string,
        field: string,
        fields: { type: 'array', items: string },
      },
      ['code', 'message'],
    ),
  }),
};

/** The error statuses a route can answer, each with the catalogue codes behind it. */
function errorStatuses(route: Route): Record<string, string> {
  const statuses: Record<string, string> = {
    '400': 'BAD_REQUEST: a body that is not a JSON object, a missing header',
    '413': 'REQUEST_ENTITY_TOO_LARGE',
    '422': 'BAD_USER_INPUT (an unknown field or a wrong value; `field` names it)',
    '429': 'RATE_LIMITED',
    '503': 'SERVICE_UNAVAILABLE',
  };
  if (route.body) statuses['415'] = 'UNSUPPORTED_MEDIA_TYPE: the body is not application/json';
  if (route.auth !== 'none') statuses['401'] = 'UNAUTHENTICATED: no valid access token';
  if (route.auth !== 'none' || route.method !== 'GET') statuses['403'] = 'FORBIDDEN';
  if (route.idKind || route.method === 'POST') statuses['404'] = 'NOT_FOUND';
  if (route.method !== 'GET') statuses['409'] = 'CONFLICT (e.g. not enough stock, an order no longer payable)';
  if (route.idempotencyKey) statuses['422'] += '; IDEMPOTENCY_KEY_REUSED with other parameters';
  return statuses;
}

function operationOf(route: Route): Schema {
  const parameters: Schema[] = [];
  if (route.idKind) {
    parameters.push({ name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: ID_PATTERNS[route.idKind] } });
  }
  for (const param of route.query ?? []) {
    parameters.push({ name: param.name, in: 'query', required: false, description: param.description, schema: param.schema });
  }
  if (route.idempotencyKey) {
    parameters.push({
      name: 'Idempotency-Key',
      in: 'header',
      required: route.idempotencyKey === 'required',
      description: 'One key per intended operation: a retry with the same key and body returns the first result; the same key with another body is refused.',
      schema: { type: 'string', pattern: '^[\\x21-\\x7e]+$' },
    });
  }
  const responses: Schema = {};
  responses[String(route.status)] = route.response
    ? { description: 'Success', content: { 'application/json': { schema: ref(route.response) } } }
    : { description: 'Success, no body' };
  for (const [status, description] of Object.entries(errorStatuses(route))) {
    responses[status] = { description, content: { 'application/json': { schema: ref('Error') } } };
  }
  const operation: Schema = {
    operationId: route.operation.name.replace(/^Rest/, '').replace(/^./, (c) => c.toLowerCase()),
    summary: route.summary,
    tags: [route.path.split('/')[2]],
    parameters,
    responses,
  };
  if (route.body) {
    operation.requestBody = {
      required: route.body.required,
      content: { 'application/json': { schema: route.body.schema } },
    };
  }
  if (route.auth !== 'none') operation.security = [{ bearer: [] }];
  return operation;
}

export function openApiDocument(): Schema {
  const paths: Record<string, Schema> = {};
  for (const route of ROUTES) {
    paths[route.path] ??= {};
    paths[route.path][route.method.toLowerCase()] = operationOf(route);
  }
  return {
    openapi: '3.0.3',
    info: {
      title: 'shop REST API',
      version: '1.0.0',
      description:
        'The REST endpoints of the original specification, served by the gateway over the same GraphQL operations ' +
        '(same access tokens, rate limits and error codes). Log in with POST /api/accounts/login and send ' +
        '`Authorization: Bearer <token>`; writes to items need an admin. Money-moving calls take an Idempotency-Key header.',
    },
    servers: [{ url: '/' }],
    tags: [
      { name: 'items', description: 'The catalog and its stock' },
      { name: 'accounts', description: 'Register, log in, your account' },
      { name: 'orders', description: 'Create, update, cancel and look up orders' },
      { name: 'payments', description: 'Pay, retry, refund and look up payments' },
    ],
    paths,
    components: {
      schemas: SCHEMAS,
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
    },
  };
}
