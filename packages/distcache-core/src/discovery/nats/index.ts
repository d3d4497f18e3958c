// Entry point distcache-core/nats: filled in by the nats discovery provider.
export {};
