import CPrefetch

/// Prefetching for the replay of a batch (`docs/benchmarks.md`, "replay"). With thousands of live
/// instances nearly every message touches an instance whose objects have left the processor's
/// caches, and the replay reads them one after the other: the instance, its directory list, the
/// directory, the node's slot, each read waiting for the one before. Their order is known several
/// messages ahead, since the reading thread resolved each message's directory: a stage per level
/// prefetches the next level for a message a little further ahead than the stage after it, each
/// reading only what the stage before brought into the cache.
extension ReplayEngine {
    /// How many messages ahead the stages look: the slot of `roots`, the instance, its buffers, the
    /// directory, the node's slot. The events and their paths are prefetched before all of them (`ResolvedBatch.eventDistance`).
    static let prefetchStages = (table: 12, instance: 8, buffers: 6, directory: 4, slot: 2)
    /// Entries of `prefetchRing`: more than the deepest stage's distance, a power of two.
    static let prefetchRingSize = 16
    static let prefetchRingMask = prefetchRingSize - 1

    /// What the first stage found for a message: its directory's root, the live directory (the
    /// instance not counted), and the generation of `roots` it was found in.
    struct RootLookup {
        var root: RootKey
        var instance: Unmanaged<Instance>?
        var directory: Int
        var generation: Int
    }

    /// The prefetching for the message at `index` of a batch of `count` resolved paths.
    func prefetchAhead(_ paths: UnsafePointer<ResolvedPath>, count: Int, index: Int) {
        let stages = Self.prefetchStages
        if index == 0 {
            // Nothing looked up yet in this batch: the ring may still name instances of the last one.
            for ahead in 0..<min(stages.instance, count) { lookUp(paths, ahead) }
        }
        currentLookup = prefetchRing[index & Self.prefetchRingMask]
        if index &+ stages.table < count, let root = paths[index &+ stages.table].root { roots.prefetch(root) }
        if index &+ stages.instance < count { lookUp(paths, index &+ stages.instance) }
        if index &+ stages.buffers < count, let lookup = prefetchRing[(index &+ stages.buffers) & Self.prefetchRingMask],
            let instance = lookup.instance
        {
            let directory = lookup.directory
            instance._withUnsafeGuaranteedRef { instance in
                // The array's header (its count) and its first elements.
                instance.directories.withUnsafeBufferPointer { buffer in
                    guard let base = buffer.baseAddress else { return }
                    xp_prefetch(UnsafeRawPointer(base) - 16)
                    xp_prefetch(base)
                }
                instance.states.prefetch(directory)
                instance.seen.prefetch(directory)
                // The expectations' timers, which every commit may arm or disarm.
                instance.timers.prefetchAll()
                instance.alwaysFailing.prefetchAll()
            }
        }
        if index &+ stages.directory < count, let instance = prefetchRing[(index &+ stages.directory) & Self.prefetchRingMask]?.instance {
            // Every directory: the rules evaluated after the commit read the other's keys too.
            instance._withUnsafeGuaranteedRef { instance in
                Self.forEachDirectoryState(instance) { _, state in state.prefetch() }
            }
        }
        let slotIndex = index &+ stages.slot
        if slotIndex < count, let lookup = prefetchRing[slotIndex & Self.prefetchRingMask], let instance = lookup.instance,
            let key = paths[slotIndex].fixedKey
        {
            let written = lookup.directory
            instance._withUnsafeGuaranteedRef { instance in
                let compiled = instance.protocolDefinition
                let slot = key >= 0 && key < compiled.slotOfKey.count ? compiled.slotOfKey[key] : -1
                let hotSlots = compiled.hotSlots
                // The node written, and the first slots of every directory: the keys the rules
                // evaluated after the commit read, and the states (`CompiledProtocol.hotSlots`).
                Self.forEachDirectoryState(instance) { directory, state in
                    if directory < hotSlots.count { state.fixed.prefetchAll(upTo: hotSlots[directory]) }
                    if directory == written && slot >= 0 { state.fixed.prefetch(slot) }
                }
            }
        }
    }

    /// Hands each directory object of `instance` to `body`, read without counting references:
    /// counting writes to the object, which is what is being prefetched.
    @inline(__always)
    private static func forEachDirectoryState(_ instance: Instance, _ body: (Int, DirectoryState) -> Void) {
        instance.directories.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            let raw = UnsafeRawPointer(base)
            for directory in 0..<buffer.count {
                raw.load(fromByteOffset: directory &* MemoryLayout<DirectoryState>.stride, as: Unmanaged<DirectoryState>.self)
                    ._withUnsafeGuaranteedRef { body(directory, $0) }
            }
        }
    }

    /// The first stage: finds the live instance of the message at `index` and prefetches it.
    private func lookUp(_ paths: UnsafePointer<ResolvedPath>, _ index: Int) {
        guard let root = paths[index].root else {
            prefetchRing[index & Self.prefetchRingMask] = nil
            return
        }
        guard let live = roots[root] else {
            prefetchRing[index & Self.prefetchRingMask] = RootLookup(root: root, instance: nil, directory: 0, generation: roots.generation)
            return
        }
        let instance = Unmanaged.passUnretained(live.instance)
        prefetchRing[index & Self.prefetchRingMask] = RootLookup(
            root: root, instance: instance, directory: live.directory, generation: roots.generation)
        let address = UnsafeRawPointer(instance.toOpaque())
        for line in stride(from: 0, to: Instance.prefetchedBytes, by: 64) { xp_prefetch(address + line) }
    }

    /// The live directory of `root`: what the first stage found for the message being replayed if
    /// `roots` has not changed since, else a lookup.
    @inline(__always)
    func liveDirectory(_ root: RootKey) -> LiveDirectory? {
        if let lookup = currentLookup, lookup.generation == roots.generation, lookup.root == root {
            return lookup.instance.map { LiveDirectory(instance: $0.takeUnretainedValue(), directory: lookup.directory) }
        }
        return roots[root]
    }
}

extension ResolvedPath {
    /// The concrete directory the path lies in, if any, without copying the relative path.
    var root: RootKey? {
        if case .directory(let match) = location { return match.root }
        return nil
    }

    /// The declared key without index variables the path names (-1: another node), if it lies in
    /// a directory.
    var fixedKey: Int? {
        if case .directory(let match) = location { return match.fixedKey }
        return nil
    }
}
