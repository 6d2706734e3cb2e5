/// What every rank of a job holds for the activation cache (paper §4.7): the inputs of the
/// unit's layer for the whole training set, once per NUMA node the rank uses. The ranks build it
/// by sample range and gather it, but each keeps all of it, because its trials read random
/// samples. So the cache's memory per rank does not shrink with more ranks.
public enum RankMemory {
    /// Training images of the data set a zoo network is trained on (MNIST's 60,000, CIFAR-10's 50,000).
    public static func standardTrainingSamples(_ network: NetworkSpec) -> Int {
        network.inputChannels == 3 ? 50_000 : 60_000
    }

    /// The largest cache of one unit over `samples` images: its layer and bytes (one replica).
    /// Nil when no layer is cached (a network of one layer).
    public static func largestCache(network: NetworkSpec, samples: Int) -> (layer: String, bytes: Int)? {
        let plan = ForwardPlan(network: network)
        var best: (layer: String, bytes: Int)?
        for d in network.layers.indices where plan.layerStep[d] > 0 {
            let perSample = plan.liveTensors(at: plan.layerStep[d]).reduce(0) { $0 + plan.tensors[$1].elementsPerSample }
            let bytes = perSample * samples * MemoryLayout<Float>.size
            if bytes > best?.bytes ?? -1 { best = (network.layers[d].name, bytes) }
        }
        return best
    }
}
