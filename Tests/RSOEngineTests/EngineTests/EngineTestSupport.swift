@testable import RSOEngine

/// A small synthetic dataset with the given image shape: Gaussian pixels plus a class-dependent
/// offset so the classes are separable (evaluation tests can see accuracy move).
func syntheticDataset(count: Int, channels: Int, size: Int, seed: UInt64 = 7) -> Dataset {
    var rng = SeededGenerator(seed: seed)
    var images = [Float](repeating: 0, count: count * channels * size * size)
    var labels = [UInt8](repeating: 0, count: count)
    for i in 0..<count {
        let label = UInt8(rng.next() % 10)
        labels[i] = label
        for j in 0..<(channels * size * size) {
            images[i * channels * size * size + j] = Float(rng.nextGaussian()) + (j % 10 == Int(label) ? 1.5 : 0)
        }
    }
    return Dataset(name: "synthetic", count: count, channels: channels, height: size, width: size,
                   images: images, labels: labels)
}

func dataset(for net: NetworkSpec, count: Int, seed: UInt64 = 7) -> Dataset {
    syntheticDataset(count: count, channels: net.inputChannels, size: net.inputHeight, seed: seed)
}
