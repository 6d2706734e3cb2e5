import Foundation

/// Where an experiment's datasets come from: a data root holding `mnist/` and
/// `cifar-10-batches-bin/` (the layout of the shared data folder). At smoke scale only, a dataset
/// missing there is replaced by Debian's Fashion-MNIST — the engine's existing default data — so
/// CI, which has nothing else, runs every experiment; the CIFAR networks are then built for its
/// 1×28×28 images, and the report says so.
public struct ReproduceDataSource: Sendable, Equatable {
    /// The directory to load (its files or its conventional subfolder).
    public var directory: String
    /// "mnist", "cifar-10" or "fashion-mnist" (recorded in settings.json).
    public var name: String
    /// The dataset this one stands in for at smoke scale, if it is a substitute.
    public var substitutes: ReproduceDataset?

    public var format: DatasetFormat { name == "cifar-10" ? .cifar10 : .idx }

    /// The data root: `flag` (--data-root), else $RSO_DATA_ROOT, else none.
    public static func root(flag: String?, environment: [String: String]) -> String? {
        if let flag, !flag.isEmpty { return (flag as NSString).expandingTildeInPath }
        if let env = environment["RSO_DATA_ROOT"], !env.isEmpty { return (env as NSString).expandingTildeInPath }
        return nil
    }

    static func folder(_ dataset: ReproduceDataset) -> String {
        DataDirectory.subfolder(for: dataset == .mnist ? .idx : .cifar10)
    }

    /// Where `dataset` is read from at `scale`; a clear error naming the folder when it is missing.
    public static func locate(_ dataset: ReproduceDataset, root: String?, scale: ReproduceScale) throws -> ReproduceDataSource {
        let format: DatasetFormat = dataset == .mnist ? .idx : .cifar10
        let sub = folder(dataset)
        if let root {
            let dir = (root as NSString).appendingPathComponent(sub)
            if FileBytes.locate(DataDirectory.markerFile(for: format), in: dir) != nil {
                return ReproduceDataSource(directory: dir, name: dataset.rawValue, substitutes: nil)
            }
        }
        if scale == .smoke, DataDirectory.isDirectory(DataSources.debianFashionMNIST) {
            return ReproduceDataSource(directory: DataSources.debianFashionMNIST, name: "fashion-mnist",
                                       substitutes: dataset)
        }
        let whereTo = root.map { "\(($0 as NSString).appendingPathComponent(sub))/ holds no \(DataDirectory.markerFile(for: format))[.gz]" }
            ?? "no data root given (--data-root DIR or RSO_DATA_ROOT=DIR, a folder with mnist/ and cifar-10-batches-bin/ in it)"
        throw ReproduceError("\(dataset.rawValue) data not found: \(whereTo); \(DataSources.hint(for: format))"
            + (scale == .smoke ? "" : " (only --scale smoke falls back to Debian's Fashion-MNIST)"))
    }

    /// The run's network, built for this source's images.
    public func network(named name: String) throws -> NetworkSpec {
        let shape: NetworkZoo.ImageShape = format == .cifar10 ? .cifar10 : .mnist
        guard let net = NetworkZoo.network(named: name, input: shape) else {
            throw ReproduceError("unknown network \(name); expected one of \(NetworkZoo.names.joined(separator: ", "))")
        }
        return net
    }
}

extension Dataset {
    /// The first `n` samples (all of them when `n` is nil or not smaller than `count`).
    public func prefix(_ n: Int?) -> Dataset {
        guard let n, n < count else { return self }
        return Dataset(name: "\(name)[0..<\(n)]", count: n, channels: channels, height: height, width: width,
                       images: Array(images[0..<(n * sampleSize)]), labels: Array(labels[0..<n]))
    }
}
