#ifndef XEN_POLICY_CPREFETCH_H
#define XEN_POLICY_CPREFETCH_H

/// Asks the processor to bring the cache line holding `address` closer, without waiting for it and
/// without faulting: the replay touches a different instance's objects with nearly every message,
/// and knows which one several messages ahead. Swift has no prefetch of its own.
static inline void xp_prefetch(const void *address) {
    __builtin_prefetch(address, 0, 3);
}

#endif
