// /api/openapi.json and the Swagger UI at /api/docs, served offline: the UI's scripts and
// styles come from the swagger-ui-dist package in node_modules, never from a CDN.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { StaticAsset } from '../static.ts';
import { openApiDocument } from './openapi.ts';

const SWAGGER_DIR = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
const DAY = 'public, max-age=86400';

const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>shop REST API</title>
  <link rel="stylesheet" href="/api/docs/swagger-ui.css">
  <link rel="icon" type="image/png" href="/api/docs/favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/api/docs/swagger-ui-bundle.js"></script>
  <script src="/api/docs/swagger-ui-standalone-preset.js"></script>
  <script src="/api/docs/init.js"></script>
</body>
</html>
`;

const INIT = `window.ui = SwaggerUIBundle({
  url: '/api/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
  layout: 'StandaloneLayout',
});
`;

function file(name: string, type: string): () => StaticAsset {
  let asset: StaticAsset | undefined;
  return () => (asset ??= new StaticAsset(readFileSync(join(SWAGGER_DIR, name)), type, DAY));
}

const text = (body: string, type: string, cache = 'no-cache') => {
  let asset: StaticAsset | undefined;
  return () => (asset ??= new StaticAsset(Buffer.from(body), type, cache));
};

const ASSETS: Record<string, () => StaticAsset> = {
  '/api/openapi.json': text(JSON.stringify(openApiDocument(), null, 2), 'application/json; charset=utf-8'),
  '/api/docs': text(PAGE, 'text/html; charset=utf-8'),
  '/api/docs/': text(PAGE, 'text/html; charset=utf-8'),
  '/api/docs/init.js': text(INIT, 'text/javascript; charset=utf-8'),
  '/api/docs/swagger-ui.css': file('swagger-ui.css', 'text/css; charset=utf-8'),
  '/api/docs/swagger-ui-bundle.js': file('swagger-ui-bundle.js', 'text/javascript; charset=utf-8'),
  '/api/docs/swagger-ui-standalone-preset.js': file('swagger-ui-standalone-preset.js', 'text/javascript; charset=utf-8'),
  '/api/docs/favicon-32x32.png': file('favicon-32x32.png', 'image/png'),
};

export const DOCS_PATHS = new Set(Object.keys(ASSETS));

export function serveDocs(path: string, request: Request): Promise<Response> {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    return Promise.resolve(
      new Response(JSON.stringify({ error: { code: 'BAD_REQUEST', message: `${path} answers GET.` } }), {
        status: 405,
        headers: { allow: 'GET, HEAD', 'content-type': 'application/json; charset=utf-8' },
      }),
    );
  }
  return ASSETS[path]().respond(request);
}
