/// `--cache output`: building layer d's output cache at the start of its visit and patching it
/// with every change the layer's parameters take (docs/design.md, "Output caching").
///
/// Every patch is logged in the state (`outputCachePatches`), so a resumed run rebuilds the cache
/// bit for bit: built from the weights the visit started with, then the same patches in order.
extension Trainer {
    /// Builds the output cache of layer `d` from its input cache (the images for the first layer).
    /// At a visit's start (position 0) with the current weights; a resumed visit first restores the
    /// weights the visit started with and replays the logged patches. Every rank holds the whole
    /// cache (its trials read any sample).
    func buildOutputCache(layer d: Int) {
        if state.position == 0 { state.outputCachePatches = nil }
        let log = state.outputCachePatches ?? []
        precondition(log.allSatisfy { $0.change.layer == d }, "output cache patches of another layer")
        for p in log.reversed() { tensor(layer: d, kind: p.change.kind)[p.change.index] = p.from }
        let input: OutputCache.Input = cache.map { .cache($0) } ?? .images(train)
        let build = { OutputCache(executor: self.executor, layer: d, input: input, stop: self.stop) }
        let built = split.map { $0.inFull(build) } ?? build()
        outputCache = built
        for p in log {
            tensor(layer: d, kind: p.change.kind)[p.change.index] = p.change.value
            if built.isComplete { applyPatch(built, p) }
        }
    }

    /// The parameter (`layer`, `kind`, `index`) changes from `old` to `new`: patch the output cache
    /// when it holds that layer (and log the patch). BN γ/β act after the cached output.
    func patchOutputCache(layer d: Int, kind: ParameterKind, index: Int, from old: Float, to new: Float) {
        guard let outputCache, outputCache.layer == d, kind == .weight || kind == .bias else { return }
        let p = CachePatch(PendingChange(layer: d, kind: kind, index: index, value: new), from: old)
        if state.outputCachePatches == nil { state.outputCachePatches = [] }
        state.outputCachePatches!.append(p)
        applyPatch(outputCache, p)
    }

    /// By the effective change (new − old, as the trial computed its Δ).
    private func applyPatch(_ c: OutputCache, _ p: CachePatch) {
        let delta = Float(Double(p.change.value) - Double(p.from))
        let patch = { c.patch(kind: p.change.kind, index: p.change.index, delta: delta, parameters: self.parameters,
                              scheduler: self.executor.scheduler) }
        if let split { split.inFull(patch) } else { patch() }
    }

    /// Rebuilds the output cache from the current weights, as at a visit's start (after the weights
    /// were set from outside the trial loop, e.g. by a test that syncs two trainers).
    func rebuildOutputCache() {
        guard let d = outputCache?.layer else { return }
        state.outputCachePatches = nil
        let position = state.position
        state.position = 0
        buildOutputCache(layer: d)
        state.position = position
        reuseValid = false
    }
}
