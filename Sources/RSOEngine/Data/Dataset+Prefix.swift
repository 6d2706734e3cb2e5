/// The first samples of a split: quick runs and tests on part of a data set read in full (the
/// normalisation stays the whole training split's, so a sample's values do not depend on how many
/// are kept).
extension Dataset {
    public func prefix(_ n: Int) -> Dataset {
        precondition(n >= 0 && n <= count, "prefix of \(n) samples out of \(count)")
        return Dataset(name: name, count: n, channels: channels, height: height, width: width,
                       images: Array(images[0..<(n * sampleSize)]), labels: Array(labels[0..<n]))
    }
}

extension DatasetSplits {
    /// The first `train` training and `test` test samples (nil keeps a split whole); a count
    /// beyond the split is an error naming `trainFlag` / `testFlag`.
    public func prefix(train: Int?, test: Int?, trainFlag: String = "--train-samples",
                       testFlag: String = "--test-samples") throws -> DatasetSplits {
        func keep(_ split: Dataset, _ n: Int?, _ flag: String, _ what: String) throws -> Dataset {
            guard let n else { return split }
            guard n >= 1, n <= split.count else {
                throw DataSubsetError(description: "\(flag) must be between 1 and the \(split.count) \(what) images in \(directory), got \(n)")
            }
            return split.prefix(n)
        }
        return DatasetSplits(format: format, train: try keep(self.train, train, trainFlag, "training"),
                             test: try keep(self.test, test, testFlag, "test"), mean: mean, std: std,
                             directory: directory)
    }
}

public struct DataSubsetError: Error, CustomStringConvertible, Sendable {
    public var description: String
}
