// /metrics in Prometheus format, with Hive Gateway's own Prometheus plugin
// (@graphql-mesh/plugin-prometheus, through the config's `prometheus` key).
//
// What is counted, each labelled with the operation's name and type:
//   graphql_envelop_request             requests (counter)
//   graphql_envelop_request_duration    request latency (histogram)
//   graphql_envelop_error_result        errors by phase (counter)
//   graphql_envelop_phase_*             parse / validate / context / execute latency
//   graphql_yoga_http_duration          HTTP latency by method and status, REST included
//   graphql_gateway_subgraph_execute_duration / _errors
//                                       each subgraph call's latency and errors, by subgraph
// Latency buckets in seconds, from a cached read to a slow payment.
import type { GatewayConfig } from '@graphql-hive/gateway';

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export const metricsConfig = {
  endpoint: '/metrics',
  metrics: {
    graphql_envelop_request: true,
    graphql_envelop_request_duration: BUCKETS,
    graphql_envelop_error_result: true,
    graphql_envelop_phase_parse: BUCKETS,
    graphql_envelop_phase_validate: BUCKETS,
    graphql_envelop_phase_context: BUCKETS,
    graphql_envelop_phase_execute: BUCKETS,
    graphql_yoga_http_duration: BUCKETS,
    graphql_gateway_subgraph_execute_duration: BUCKETS,
    graphql_gateway_subgraph_execute_errors: true,
  },
  labels: { operationName: true, operationType: true, subgraphName: true },
} satisfies NonNullable<GatewayConfig['prometheus']>;
