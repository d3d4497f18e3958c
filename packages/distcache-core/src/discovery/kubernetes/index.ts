// Entry point distcache-core/kubernetes: filled in by the kubernetes discovery provider.
export {};
