// Entry point distcache-core/dns: filled in by the dns discovery provider.
export {};
