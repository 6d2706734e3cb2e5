/// `--cache output`: building layer d's output cache at the start of its visit and patching it
/// with every change the layer's parameters take (docs/design.md, "Output caching").
extension Trainer {
    /// Builds the output cache of layer `d` from its input cache (the images for the first layer),
    /// with the current weights. Every rank holds the whole cache (its trials read any sample).
    func buildOutputCache(layer d: Int) {
        let input: OutputCache.Input = cache.map { .cache($0) } ?? .images(train)
        let build = { OutputCache(executor: self.executor, layer: d, input: input, stop: self.stop) }
        outputCache = split.map { $0.inFull(build) } ?? build()
    }

    /// The parameter (`layer`, `kind`, `index`) changes from `old` to `new`: patch the output cache
    /// when it holds that layer, by the effective change (new − old, as the trial computed it).
    func patchOutputCache(layer d: Int, kind: ParameterKind, index: Int, from old: Float, to new: Float) {
        guard let outputCache, outputCache.layer == d else { return }
        let delta = Float(Double(new) - Double(old))
        let patch = { outputCache.patch(kind: kind, index: index, delta: delta, parameters: self.parameters,
                                        scheduler: self.executor.scheduler) }
        if let split { split.inFull(patch) } else { patch() }
    }

    /// Rebuilds the output cache from the current weights (after the weights were set from outside
    /// the trial loop, e.g. by a test that syncs two trainers).
    func rebuildOutputCache() {
        guard let d = outputCache?.layer else { return }
        buildOutputCache(layer: d)
        reuseValid = false
    }
}
