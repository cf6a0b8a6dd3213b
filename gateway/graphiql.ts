// GraphiQL (Hive Laboratory) that opens on an example operation instead of "No operation
// selected".
//
// Hive Laboratory keeps its tabs and operations in the browser's localStorage
// (`hive-laboratory:<key>`, JSON values) and takes no "default query" option: the page seeds
// the example there on a first visit only, so what a developer wrote is never overwritten.
// The page is the same for every request, so it is rendered once (21 MB of HTML);
// endpoints.ts serves it compressed and with an ETag.
import { renderLaboratory } from '@graphql-hive/render-laboratory';

export const EXAMPLE_OPERATION = `# The catalog, five items at a time (pass pageInfo.endCursor as "after" for the next page).
# Log in with the login mutation and send "Authorization: Bearer <token>" (Headers tab)
# to read your own account and orders: query { me { email orders(first: 5) { ... } } }
query Catalog($first: Int!, $after: String) {
  items(first: $first, after: $after) {
    edges {
      cursor
      node { id name upc unitPrice { amount currency } availability { available inStock } }
    }
    pageInfo { hasNextPage endCursor }
  }
}
`;

const OPERATION_ID = 'shop-example-catalog';
const TAB_ID = 'shop-example-tab';

/** The script that puts the example in localStorage when the browser has no tabs yet. */
function seedScript(): string {
  const operation = {
    id: OPERATION_ID,
    name: 'Catalog',
    query: EXAMPLE_OPERATION,
    variables: JSON.stringify({ first: 5 }, null, 2),
    headers: '{}',
    extensions: '{}',
  };
  const tab = { id: TAB_ID, type: 'operation', data: { id: OPERATION_ID, name: 'Catalog' } };
  const seed = {
    operations: [operation],
    tabs: [tab],
    activeTabId: TAB_ID,
  };
  // JSON inside a <script>: "</" is escaped so that no value can close the element.
  const json = JSON.stringify(seed).replace(/<\//g, '<\\/');
  return `<script>
      (function () {
        var seed = ${json};
        try {
          if (localStorage.getItem('hive-laboratory:tabs') === null) {
            Object.keys(seed).forEach(function (key) {
              localStorage.setItem('hive-laboratory:' + key, JSON.stringify(seed[key]));
            });
          }
        } catch (e) { /* no localStorage: the laboratory opens empty */ }
      })();
      </script>`;
}

let page: string | undefined;

/** The `renderGraphiQL` of the gateway config. */
export function renderGraphiQL(options?: Parameters<typeof renderLaboratory>[0]): string {
  page ??= renderLaboratory(options).replace('<div id="root"></div>', `<div id="root"></div>\n      ${seedScript()}`);
  return page;
}
