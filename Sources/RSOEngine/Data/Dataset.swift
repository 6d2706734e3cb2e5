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
    /// split's statistics. A requested `stop` is honoured between the splits and before
    /// normalising (throws `RunStopped`).
    public static func load(format: DatasetFormat, directory: String, stop: StopRequest? = nil) throws -> DatasetSplits {
        func checkStop() throws { if stop?.isRequested == true { throw RunStopped(phase: "loading data") } }
        let dir = try DataDirectory.locateFiles(for: format, in: directory)
        let trainRaw: RawSplit
        let testRaw: RawSplit
        switch format {
        case .idx:
            let find = { (name: String, what: String) in try DataDirectory.requireFile(name, what, in: dir, format: .idx) }
            trainRaw = try IDXReader.readSplit(imagesPath: try find(IDXReader.trainImages, "training images"),
                                               labelsPath: try find(IDXReader.trainLabels, "training labels"))
            try checkStop()
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
            try checkStop()
            testRaw = try CIFAR10Reader.readSplit(paths: testPaths)
        }
        try checkStop()
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

/// Per-channel statistics and normalisation of 8-bit pixels.
///
/// The hot loops are small pointer functions with `while` loops: in a debug build (-Onone) a
/// `for k in 0..<n` loop calls the range iterator for every element, 5–10× slower.
enum Normalization {
    /// Mean and (population) standard deviation per channel on the [0, 1] scale, through a 256-bin
    /// histogram per channel: the sums are exact integers, the final arithmetic is in double.
    /// A constant channel gets std 1 (nothing to scale).
    static func channelStatistics(of raw: RawSplit) -> (mean: [Double], std: [Double]) {
        let plane = raw.height * raw.width
        // Four interleaved histograms per channel break the store-to-load dependency of repeated bytes.
        var histogram = [Int](repeating: 0, count: raw.channels * 4 * 256)
        raw.pixels.withUnsafeBufferPointer { px in
            histogram.withUnsafeMutableBufferPointer { h in
                guard let src = px.baseAddress, let hist = h.baseAddress else { return }
                for i in 0..<raw.count {
                    for c in 0..<raw.channels {
                        accumulateHistogram(src + (i * raw.channels + c) * plane, count: plane, into: hist + c * 1024)
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
                var h = 0
                for part in 0..<4 { h += histogram[c * 1024 + part * 256 + v] }
                s1 += UInt64(h) * UInt64(v)
                s2 += UInt64(h) * UInt64(v * v)
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
                    guard let src = px.baseAddress, let out = dst.baseAddress, let lut = t.baseAddress else { return }
                    for i in 0..<raw.count {
                        for c in 0..<raw.channels {
                            let offset = (i * raw.channels + c) * plane
                            map(src + offset, through: lut + c * 256, into: out + offset, count: plane)
                        }
                    }
                }
            }
            initialized = total
        }
        return Dataset(name: name, count: raw.count, channels: raw.channels, height: raw.height,
                       width: raw.width, images: images, labels: raw.labels)
    }

    /// hist[part·256 + v] += 1 for every byte v of src[0..<count] (part = k mod 4).
    static func accumulateHistogram(_ src: UnsafePointer<UInt8>, count: Int, into hist: UnsafeMutablePointer<Int>) {
        var k = 0
        while k + 4 <= count {
            hist[Int(src[k])] &+= 1
            hist[256 + Int(src[k + 1])] &+= 1
            hist[512 + Int(src[k + 2])] &+= 1
            hist[768 + Int(src[k + 3])] &+= 1
            k += 4
        }
        while k < count {
            hist[Int(src[k])] &+= 1
            k += 1
        }
    }

    /// dst[k] = table[src[k]] for k in 0..<count.
    static func map(_ src: UnsafePointer<UInt8>, through table: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>,
                    count: Int) {
        var k = 0
        while k < count {
            dst[k] = table[Int(src[k])]
            k += 1
        }
    }
}
