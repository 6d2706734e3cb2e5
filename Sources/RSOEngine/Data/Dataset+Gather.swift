/// Gathering samples into the engine's chunked CNHW layout (see csupport.h): for a chunk of n
/// samples the input tensor is dst[c][j][y][x], C × n × H × W, where j is the position in the chunk.
extension Dataset {
    /// dst[c][j][·][·] = images[indices[j]][c][·][·] for j in 0..<indices.count.
    /// `dst` holds channels · indices.count · height · width floats.
    public func gatherCNHW(indices: UnsafeBufferPointer<Int32>, into dst: UnsafeMutablePointer<Float>) {
        let n = indices.count
        let plane = height * width
        let sample = channels * plane
        images.withUnsafeBufferPointer { src in
            for j in 0..<n {
                let index = Int(indices[j])
                precondition(index >= 0 && index < count, "gatherCNHW: index \(index) outside 0..<\(count) in \(name)")
                let s = src.baseAddress! + index * sample
                for c in 0..<channels {
                    (dst + (c * n + j) * plane).update(from: s + c * plane, count: plane)
                }
            }
        }
    }

    /// The contiguous samples `range` (evaluation passes): dst[c][j] = images[range.lowerBound + j][c].
    public func gatherCNHW(range: Range<Int>, into dst: UnsafeMutablePointer<Float>) {
        precondition(range.lowerBound >= 0 && range.upperBound <= count,
                     "gatherCNHW: range \(range) outside 0..<\(count) in \(name)")
        let n = range.count
        let plane = height * width
        let sample = channels * plane
        images.withUnsafeBufferPointer { src in
            guard n > 0 else { return }
            for j in 0..<n {
                let s = src.baseAddress! + (range.lowerBound + j) * sample
                for c in 0..<channels {
                    (dst + (c * n + j) * plane).update(from: s + c * plane, count: plane)
                }
            }
        }
    }

    /// dst[j] = labels[indices[j]].
    public func gatherLabels(indices: UnsafeBufferPointer<Int32>, into dst: UnsafeMutablePointer<UInt8>) {
        labels.withUnsafeBufferPointer { src in
            for j in 0..<indices.count {
                let index = Int(indices[j])
                precondition(index >= 0 && index < count, "gatherLabels: index \(index) outside 0..<\(count) in \(name)")
                dst[j] = src[index]
            }
        }
    }

    /// dst[j] = labels[range.lowerBound + j].
    public func gatherLabels(range: Range<Int>, into dst: UnsafeMutablePointer<UInt8>) {
        precondition(range.lowerBound >= 0 && range.upperBound <= count,
                     "gatherLabels: range \(range) outside 0..<\(count) in \(name)")
        labels.withUnsafeBufferPointer { src in
            guard !range.isEmpty else { return }
            dst.update(from: src.baseAddress! + range.lowerBound, count: range.count)
        }
    }
}
