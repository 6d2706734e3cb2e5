import Foundation

/// On-disk dataset formats the engine reads.
public enum DatasetFormat: String, CaseIterable, Sendable {
    /// IDX files: MNIST or Fashion-MNIST (1×28×28, same file names), raw or .gz.
    case idx
    /// CIFAR-10 binary version (3×32×32): data_batch_1…5.bin, test_batch.bin.
    case cifar10
}

/// One split of a dataset, normalised, in memory.
///
/// `images` is [count][channels][height][width] (row-major per sample), each value
/// (pixel/255 − mean[c]) / std[c] with the TRAINING split's per-channel statistics.
public struct Dataset: Sendable {
    /// Every dataset here has ten classes; labels are 0…9.
    public static let classCount = 10

    public let name: String
    public let count: Int
    public let channels: Int
    public let height: Int
    public let width: Int
    public let images: [Float]
    public let labels: [UInt8]

    /// Floats per sample: channels·height·width.
    public var sampleSize: Int { channels * height * width }

    public init(name: String, count: Int, channels: Int, height: Int, width: Int, images: [Float], labels: [UInt8]) {
        precondition(count >= 0 && channels > 0 && height > 0 && width > 0, "Dataset \(name): bad shape")
        precondition(images.count == count * channels * height * width,
                     "Dataset \(name): \(images.count) floats for \(count)×\(channels)×\(height)×\(width)")
        precondition(labels.count == count, "Dataset \(name): \(labels.count) labels for \(count) samples")
        self.name = name
        self.count = count
        self.channels = channels
        self.height = height
        self.width = width
        self.images = images
        self.labels = labels
    }
}

/// The train and test splits of one dataset with the normalisation that was applied to both.
public struct DatasetSplits: Sendable {
    public let format: DatasetFormat
    public let train: Dataset
    public let test: Dataset
    /// Per-channel mean and standard deviation of the training pixels on the [0, 1] scale
    /// (MNIST ≈ 0.1307 / 0.3081), computed in double; both splits were normalised with them.
    public let mean: [Float]
    public let std: [Float]
    /// The directory the files were read from (a `mnist/` or `cifar-10-batches-bin/` subfolder of
    /// the directory passed to `load` when the files were found there).
    public let directory: String

    public init(format: DatasetFormat, train: Dataset, test: Dataset, mean: [Float], std: [Float], directory: String) {
        self.format = format
        self.train = train
        self.test = test
        self.mean = mean
        self.std = std
        self.directory = directory
    }

    /// Reads both splits of `format` from `directory` (or from its `mnist/` / `cifar-10-batches-bin/`
    /// subfolder), checks every header, size and label, and normalises per channel with the training
    /// split's statistics.
    public static func load(format: DatasetFormat, directory: String) throws -> DatasetSplits {
        let dir = try DataDirectory.locateFiles(for: format, in: directory)
        let trainRaw: RawSplit
        let testRaw: RawSplit
        switch format {
        case .idx:
            let find = { (name: String, what: String) in try DataDirectory.requireFile(name, what, in: dir, format: .idx) }
            trainRaw = try IDXReader.readSplit(imagesPath: try find(IDXReader.trainImages, "training images"),
                                               labelsPath: try find(IDXReader.trainLabels, "training labels"))
            testRaw = try IDXReader.readSplit(imagesPath: try find(IDXReader.testImages, "test images"),
                                              labelsPath: try find(IDXReader.testLabels, "test labels"))
        case .cifar10:
            let trainPaths = try CIFAR10Reader.trainFiles.map {
                try DataDirectory.requireFile($0, "training batch", in: dir, format: .cifar10)
            }
            let testPaths = try CIFAR10Reader.testFiles.map {
                try DataDirectory.requireFile($0, "test batch", in: dir, format: .cifar10)
            }
            trainRaw = try CIFAR10Reader.readSplit(paths: trainPaths)
            testRaw = try CIFAR10Reader.readSplit(paths: testPaths)
        }
        let (mean, std) = Normalization.channelStatistics(of: trainRaw)
        let base = (dir as NSString).lastPathComponent
        return DatasetSplits(
            format: format,
            train: Normalization.normalized(trainRaw, name: "\(base)/train", mean: mean, std: std),
            test: Normalization.normalized(testRaw, name: "\(base)/test", mean: mean, std: std),
            mean: mean.map { Float($0) },
            std: std.map { Float($0) },
            directory: dir)
    }
}

/// Per-channel statistics and normalisation of 8-bit pixels (hot loops, optimised even in debug).
enum Normalization {
    /// Mean and (population) standard deviation per channel on the [0, 1] scale, through a 256-bin
    /// histogram per channel: the sums are exact integers, the final arithmetic is in double.
    /// A constant channel gets std 1 (nothing to scale).
    @_optimize(speed)
    static func channelStatistics(of raw: RawSplit) -> (mean: [Double], std: [Double]) {
        let plane = raw.height * raw.width
        var histogram = [Int](repeating: 0, count: raw.channels * 256)
        raw.pixels.withUnsafeBufferPointer { px in
            histogram.withUnsafeMutableBufferPointer { h in
                guard let src = px.baseAddress else { return }
                for i in 0..<raw.count {
                    for c in 0..<raw.channels {
                        let p = src + (i * raw.channels + c) * plane
                        let hc = h.baseAddress! + c * 256
                        for k in 0..<plane { hc[Int(p[k])] &+= 1 }
                    }
                }
            }
        }
        var mean = [Double](repeating: 0, count: raw.channels)
        var std = [Double](repeating: 1, count: raw.channels)
        let n = Double(raw.count * plane)
        guard n > 0 else { return (mean, std) }
        for c in 0..<raw.channels {
            var s1: UInt64 = 0
            var s2: UInt64 = 0
            for v in 0..<256 {
                let h = UInt64(histogram[c * 256 + v])
                s1 += h * UInt64(v)
                s2 += h * UInt64(v * v)
            }
            let m = Double(s1) / n
            let variance = max(0, Double(s2) / n - m * m)
            mean[c] = m / 255
            let sd = variance.squareRoot() / 255
            std[c] = sd > 1e-12 ? sd : 1
        }
        return (mean, std)
    }

    /// (pixel/255 − mean[c]) / std[c] through a 256-entry table per channel.
    @_optimize(speed)
    static func normalized(_ raw: RawSplit, name: String, mean: [Double], std: [Double]) -> Dataset {
        var table = [Float](repeating: 0, count: raw.channels * 256)
        for c in 0..<raw.channels {
            for v in 0..<256 { table[c * 256 + v] = Float((Double(v) / 255 - mean[c]) / std[c]) }
        }
        let plane = raw.height * raw.width
        let total = raw.pixels.count
        let images = [Float](unsafeUninitializedCapacity: total) { dst, initialized in
            raw.pixels.withUnsafeBufferPointer { px in
                table.withUnsafeBufferPointer { t in
                    guard let src = px.baseAddress, let out = dst.baseAddress else { return }
                    for i in 0..<raw.count {
                        for c in 0..<raw.channels {
                            let offset = (i * raw.channels + c) * plane
                            let tc = t.baseAddress! + c * 256
                            let p = src + offset
                            let o = out + offset
                            for k in 0..<plane { o[k] = tc[Int(p[k])] }
                        }
                    }
                }
            }
            initialized = total
        }
        return Dataset(name: name, count: raw.count, channels: raw.channels, height: raw.height,
                       width: raw.width, images: images, labels: raw.labels)
    }
}
