"""What every subgraph needs and nothing service-specific: settings, the app factory, auth,
errors, events (CloudEvents envelope, Kafka producer and consumer, outbox relay), logging,
health and metrics, and the HTTP client for service-to-service calls."""
