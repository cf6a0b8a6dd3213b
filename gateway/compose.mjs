#!/usr/bin/env node
// Composes the subgraph SDL files listed in a Rover-format supergraph.yaml into a
// Federation supergraph SDL, with @theguild/federation-composition.
//
//   node gateway/compose.mjs [--config supergraph.yaml] [--out .data/supergraph.graphql]
//                            [--public-out PATH] [--routing NAME=URL ...] [--allow-missing]
//
// --public-out also writes the API schema clients see (no @inaccessible fields, no federation
// directives): what `make schema-check` compares with schema/supergraph.public.graphql.
//
// Exit codes: 0 composed, 1 composition errors, 2 bad usage or configuration.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { composeServices } from '@theguild/federation-composition';
import { parse } from 'graphql';
import YAML from 'yaml';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '..');

class UsageError extends Error {}

function parseArgs(argv) {
  const opts = {
    config: resolve(repoRoot, 'supergraph.yaml'),
    out: resolve(here, 'supergraph.graphql'),
    publicOut: null,
    routing: new Map(),
    allowMissing: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eqAt = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const flag = eqAt > 0 ? arg.slice(0, eqAt) : arg;
    const value = () => {
      if (eqAt > 0) return arg.slice(eqAt + 1);
      const next = argv[++i];
      if (next === undefined) throw new UsageError(`${flag} needs a value`);
      return next;
    };
    switch (flag) {
      case '--config':
        opts.config = resolve(value());
        break;
      case '--out':
        opts.out = resolve(value());
        break;
      case '--public-out':
        opts.publicOut = resolve(value());
        break;
      case '--routing': {
        const pair = value();
        const eq = pair.indexOf('=');
        if (eq <= 0 || eq === pair.length - 1) {
          throw new UsageError(`--routing expects NAME=URL, got ${JSON.stringify(pair)}`);
        }
        opts.routing.set(pair.slice(0, eq), pair.slice(eq + 1));
        break;
      }
      case '--allow-missing':
        opts.allowMissing = true;
        break;
      case '-h':
      case '--help':
        process.stdout.write(
          'usage: node gateway/compose.mjs [--config PATH] [--out PATH] [--public-out PATH] ' +
            '[--routing NAME=URL]... [--allow-missing]\n',
        );
        process.exit(0);
        break;
      default:
        throw new UsageError(`unknown argument ${JSON.stringify(arg)}`);
    }
  }
  return opts;
}

function loadConfig(path) {
  if (!existsSync(path)) throw new UsageError(`config file not found: ${path}`);
  const config = YAML.parse(readFileSync(path, 'utf8'));
  if (!config || typeof config !== 'object' || typeof config.subgraphs !== 'object' || !config.subgraphs) {
    throw new UsageError(`${path}: expected a 'subgraphs' mapping`);
  }
  const version = String(config.federation_version ?? '');
  if (version && !/^=?2(\.\d+){0,2}$/.test(version)) {
    throw new UsageError(`${path}: unsupported federation_version ${JSON.stringify(version)}`);
  }
  return config;
}

function writeAtomically(path, text) {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text.endsWith('\n') ? text : `${text}\n`);
  renameSync(tmp, path);
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  const config = loadConfig(opts.config);
  const baseDir = dirname(opts.config);
  const names = Object.keys(config.subgraphs);
  for (const name of opts.routing.keys()) {
    if (!names.includes(name)) throw new UsageError(`--routing: no subgraph named ${name} in ${opts.config}`);
  }

  const services = [];
  const skipped = [];
  for (const name of names) {
    const entry = config.subgraphs[name] ?? {};
    const url = opts.routing.get(name) ?? entry.routing_url;
    if (!url) throw new UsageError(`subgraph ${name}: no routing_url`);
    const file = entry.schema?.file;
    if (!file) {
      throw new UsageError(`subgraph ${name}: only 'schema: {file: PATH}' is supported`);
    }
    const schemaPath = resolve(baseDir, file);
    if (!existsSync(schemaPath)) {
      if (opts.allowMissing) {
        process.stderr.write(`warning: skipping subgraph ${name}: ${schemaPath} does not exist\n`);
        skipped.push(name);
        continue;
      }
      throw new UsageError(
        `subgraph ${name}: schema file ${schemaPath} does not exist (use --allow-missing to skip it)`,
      );
    }
    let typeDefs;
    try {
      typeDefs = parse(readFileSync(schemaPath, 'utf8'));
    } catch (err) {
      process.stderr.write(`composition failed: subgraph ${name}: ${schemaPath}: ${err.message}\n`);
      process.exit(1);
    }
    services.push({ name, url, typeDefs });
  }
  if (services.length === 0) {
    throw new UsageError(`no subgraph schema to compose (skipped: ${skipped.join(', ') || 'none'})`);
  }

  const result = composeServices(services);
  if (result.errors && result.errors.length > 0) {
    process.stderr.write(`composition failed with ${result.errors.length} error(s):\n`);
    for (const error of result.errors) {
      const code = error.extensions?.code ? `[${error.extensions.code}] ` : '';
      process.stderr.write(`  - ${code}${error.message}\n`);
    }
    process.exit(1);
  }

  writeAtomically(opts.out, result.supergraphSdl);
  if (opts.publicOut) writeAtomically(opts.publicOut, result.publicSdl);
  process.stdout.write(
    `composed ${services.map((s) => s.name).join(', ')} into ${opts.out}` +
      (skipped.length ? ` (skipped: ${skipped.join(', ')})` : '') +
      '\n',
  );
}

try {
  main();
} catch (err) {
  if (err instanceof UsageError) {
    process.stderr.write(`compose: ${err.message}\n`);
    process.exit(2);
  }
  throw err;
}
