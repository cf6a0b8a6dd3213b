// The catalog response cache: anonymous catalog reads (`items`, `item`, `itemByUpc`) answered
// from the gateway's memory, invalidated by the items service's events on Kafka.
//
// Why here: a catalog read that reaches the items subgraph costs the gateway a subgraph call
// and the subgraph a database read, while the same gateway answers `{ __typename }` many times
// faster (issue 11). Anonymous catalog answers are the same for every client, so the gateway
// keeps each answer (keyed by query, variables and operation name) until an event says that an
// item in it changed:
//
//   item.updated, item.deleted            -> that Item
//   inventory.reserved/released/committed -> every Item of the reservation's lines (stock)
//   item.created                          -> every cached list (a new item joins pages)
//
// Each answer remembers the Items it holds (the plugin adds `id` and `__typename` to every
// selection), so an event drops exactly the answers that showed the item.
//
// Freshness rules:
// - The cache answers only while its Kafka consumer is running. Before it has joined, after a
//   crash or while the broker is away, every read goes to the items subgraph, and whatever was
//   cached is dropped, since events may have been missed.
// - An answer fetched while an invalidation arrived is not stored (it may predate the change).
// - Every answer also expires after SHOP_CATALOG_CACHE_SECONDS (default 60), a bound that holds
//   even if an event were lost.
// - Authenticated requests and every query touching a field outside the catalog (orders,
//   payments, accounts) are never cached.
//
// A change is visible once the items service's outbox relay has published its event and this
// consumer has read it: tens of milliseconds on the local stack (`make bench` measures it).
import type { GatewayPlugin } from '@graphql-hive/gateway';
import { createInMemoryCache, useResponseCache } from '@graphql-yoga/plugin-response-cache';
import { Kind, parse, type ObjectTypeDefinitionNode } from 'graphql';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

export const CATALOG_FIELDS = new Set(['items', 'item', 'itemByUpc']);
const TOPICS = ['shop.item', 'shop.inventory'];
const RETRY_MS = 2000;

interface Log {
  info(attrs: Record<string, unknown>, message: string): void;
  warn(attrs: Record<string, unknown>, message: string): void;
}

type Entity = { typename: string; id?: string };
type Cache = ReturnType<typeof createInMemoryCache>;

/** The Item entities (or whole lists) an items event makes stale; [] for any other event. */
export function staleEntities(event: { type?: string; data?: any }): Entity[] {
  const data = event.data ?? {};
  switch (event.type) {
    case 'item.updated':
    case 'item.deleted':
      return typeof data.itemId === 'string' ? [{ typename: 'Item', id: data.itemId }] : [];
    case 'item.created':
      return [{ typename: 'ItemConnection' }, { typename: 'ItemEdge' }];
    case 'inventory.reserved':
    case 'inventory.released':
    case 'inventory.committed':
      return (Array.isArray(data.lines) ? data.lines : [])
        .filter((line: any) => typeof line?.itemId === 'string')
        .map((line: any) => ({ typename: 'Item', id: line.itemId }));
    default:
      return [];
  }
}

/** Query fields of the supergraph outside the catalog: a query touching any is not cached. */
function uncachedQueryFields(supergraphPath: string): Record<string, number> {
  const document = parse(readFileSync(supergraphPath, 'utf8'));
  const zero: Record<string, number> = {};
  for (const definition of document.definitions) {
    if (definition.kind === Kind.OBJECT_TYPE_DEFINITION && definition.name.value === 'Query') {
      for (const field of (definition as ObjectTypeDefinitionNode).fields ?? []) {
        if (!CATALOG_FIELDS.has(field.name.value)) zero[`Query.${field.name.value}`] = 0;
      }
    }
  }
  return zero;
}

/**
 * The invalidation feed: a Kafka consumer of the items topics in a consumer group of its own
 * (every gateway process must see every event), reading from the newest offset and never
 * committing (a restarted gateway starts with an empty cache). `live` is true only while it
 * runs; every change of that state clears the cache.
 */
class InvalidationFeed {
  live = false;
  private joined = false;
  generation = 0; // bumped by every invalidation and every clear
  private consumer: Consumer | undefined;
  private stopped = false;

  constructor(
    private readonly bootstrap: string,
    private readonly log: Log,
    private readonly onStale: (entities: Entity[] | 'all') => void,
  ) {}

  start(): void {
    void this.run();
  }

  private down(reason: string): void {
    if (this.live) this.log.warn({ reason }, 'catalog cache off: its invalidation feed stopped');
    this.live = false;
    this.joined = false;
    this.onStale('all');
  }

  private async run(): Promise<void> {
    if (this.stopped) return;
    const kafka = new Kafka({
      clientId: 'shop-gateway-catalog-cache',
      brokers: this.bootstrap.split(','),
      logLevel: logLevel.NOTHING,
      retry: { retries: 3, initialRetryTime: 200, maxRetryTime: 2000 },
    });
    const consumer = kafka.consumer({
      groupId: `shop-gateway-cache-${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`,
      maxWaitTimeInMs: 1000, // a long poll: it answers as soon as an event arrives
      // After a crash a new consumer is started here (CRASH below), never by kafkajs itself:
      // its own restart could begin while the gateway stops, and keep it running.
      retry: { retries: 3, restartOnFailure: async () => false },
    });
    this.consumer = consumer;
    const { GROUP_JOIN, FETCH, CRASH, DISCONNECT, STOP } = consumer.events;
    // Live from the first fetch after joining: by then the consumer's offsets are resolved, so
    // no event committed after that point can be missed. Whatever was cached before is dropped.
    consumer.on(GROUP_JOIN, () => {
      this.joined = true;
      this.onStale('all');
    });
    consumer.on(FETCH, () => {
      if (!this.joined || this.live) return;
      this.onStale('all');
      this.live = true;
      this.log.info({ topics: TOPICS }, 'catalog cache on: invalidated by item and inventory events');
    });
    consumer.on(CRASH, (event) => {
      this.down(`crash: ${(event.payload.error as Error)?.name ?? 'unknown'}`);
      setTimeout(() => void this.restart(), RETRY_MS).unref();
    });
    consumer.on(DISCONNECT, () => this.down('disconnected'));
    consumer.on(STOP, () => this.down('stopped'));
    try {
      await consumer.connect();
      for (const topic of TOPICS) await consumer.subscribe({ topic, fromBeginning: false });
      if (this.stopped) {
        await consumer.disconnect(); // the gateway began to stop while this one connected
        return;
      }
      await consumer.run({
        autoCommit: false,
        eachMessage: async ({ message }) => {
          let event: any;
          try {
            event = JSON.parse(message.value?.toString('utf8') ?? 'null');
          } catch {
            return; // not a CloudEvent: nothing the cache can learn from it
          }
          const entities = staleEntities(event ?? {});
          if (entities.length) this.onStale(entities);
        },
      });
      if (this.stopped) await consumer.disconnect();
    } catch (error) {
      if (this.stopped) return;
      this.down(`cannot consume: ${(error as Error).name}`);
      setTimeout(() => void this.restart(), RETRY_MS).unref();
    }
  }

  /** Leaves the group and closes the connections: a live consumer keeps Node's event loop,
   * and so a gateway told to stop, running until it is killed. */
  async stop(): Promise<void> {
    this.stopped = true;
    try {
      await this.consumer?.disconnect();
    } catch {
      // already gone
    }
  }

  private async restart(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.consumer?.disconnect();
    } catch {
      // already gone
    }
    void this.run();
  }
}

/**
 * The plugin, or no plugin when there is no Kafka to invalidate from (SHOP_KAFKA_BOOTSTRAP
 * unset): a cache nothing invalidates would show sold-out items as available.
 */
export function useCatalogCache(options: {
  bootstrap: string | undefined;
  supergraphPath: string;
  ttlSeconds: number;
  log: Log;
}): GatewayPlugin | undefined {
  const { bootstrap, supergraphPath, ttlSeconds, log } = options;
  if (!bootstrap) {
    log.warn({}, 'catalog cache off: SHOP_KAFKA_BOOTSTRAP is not set');
    return undefined;
  }
  let cache: Cache = createInMemoryCache({ max: 10_000 });
  const generationAtStart = new WeakMap<Request, number>();
  const feed = new InvalidationFeed(bootstrap, log, (stale) => {
    feed.generation += 1;
    if (stale === 'all') cache = createInMemoryCache({ max: 10_000 });
    else cache.invalidate(stale);
  });
  feed.start();
  const current: Cache = {
    get: (key) => cache.get(key),
    set: (key, result, entities, ttl) => cache.set(key, result, entities, ttl),
    invalidate: (entities) => cache.invalidate(entities),
  };
  const anonymous = (request: Request) => !request.headers.get('authorization');
  const responseCache = useResponseCache({
    session: () => null, // only anonymous answers are cached: one shared session
    enabled: (request: Request) => {
      if (!feed.live || !anonymous(request)) return false;
      if (!generationAtStart.has(request)) generationAtStart.set(request, feed.generation);
      return true;
    },
    cache: current,
    ttl: 0, // a query is cached only through the catalog fields' TTL below
    ttlPerSchemaCoordinate: {
      ...Object.fromEntries([...CATALOG_FIELDS].map((f) => [`Query.${f}`, ttlSeconds * 1000])),
      ...uncachedQueryFields(supergraphPath),
    },
    // Not stored: an answer during which an invalidation arrived (it may show the old item).
    onTtl: ({ ttl, context }: { ttl: number; context: any }) => {
      const started = context?.request ? generationAtStart.get(context.request) : undefined;
      return started === feed.generation ? ttl : 0;
    },
  } as any) as GatewayPlugin;
  return {
    ...responseCache,
    onDispose: async () => {
      await feed.stop();
      await (responseCache as { onDispose?: () => unknown }).onDispose?.();
    },
  } as GatewayPlugin;
}
