import CSupport

/// The buffers of one kernel case for a batch of `samples`, cut into chunks of `chunkSamples`
/// exactly as ForwardExecutor cuts a batch, and the per-chunk call. Inputs are filled with
/// deterministic values in [−1, 1] by the worker that will run each chunk (first touch, as the
/// executor's buffers are). All memory is freed with the workload.
public final class KernelWorkload {
    public let kernelCase: KernelCase
    public let samples: Int
    public let chunkSamples: Int
    public let chunkCount: Int
    let scheduler: ChunkScheduler
    private var floats: [UnsafeMutableBufferPointer<Float>] = []
    private var doubles: [UnsafeMutableBufferPointer<Double>] = []
    private var bytes: [UnsafeMutablePointer<UInt8>] = []
    private var body: (Int, Int) -> Void = { _, _ in }

    public init(_ kernelCase: KernelCase, samples: Int, chunkSamples: Int, scheduler: ChunkScheduler,
                convTile: Int = KernelTable.convTile) {
        precondition(samples > 0 && chunkSamples > 0)
        self.kernelCase = kernelCase
        self.samples = samples
        self.chunkSamples = chunkSamples
        self.scheduler = scheduler
        chunkCount = (samples + chunkSamples - 1) / chunkSamples
        body = makeBody(convTile: convTile)
    }

    deinit {
        floats.forEach { $0.deallocate() }
        doubles.forEach { $0.deallocate() }
        bytes.forEach { $0.deallocate() }
    }

    /// Samples in chunk c (the last chunk may be short).
    public func samples(inChunk c: Int) -> Int { min(chunkSamples, samples - c * chunkSamples) }

    /// One pass over the whole batch on the scheduler's workers.
    public func run() { scheduler.forEachChunk(chunkCount, body) }

    /// Σ of every buffer the workload holds (inputs, outputs, scratch), in double: changes when a
    /// run writes its outputs, so tests can check that the kernel really ran.
    public var checksum: Double {
        floats.reduce(0) { acc, b in b.reduce(acc) { $0 + Double($1) } } + doubles.reduce(0) { acc, b in b.reduce(acc, +) }
    }

    /// FLOPs and bytes of one `run()` (the sum over its chunks).
    public var totalFlops: Double { (0..<chunkCount).reduce(0) { $0 + kernelCase.flops(samples: samples(inChunk: $1)) } }
    public var totalBytes: Double { (0..<chunkCount).reduce(0) { $0 + kernelCase.bytes(samples: samples(inChunk: $1)) } }

    // MARK: Buffers

    /// A per-sample tensor of the whole batch, filled chunk by chunk on the chunk's worker.
    func batchTensor(perSample: Int, seed: UInt64) -> UnsafeMutablePointer<Float> {
        let p = UnsafeMutablePointer<Float>.allocate(capacity: max(1, samples * perSample))
        floats.append(UnsafeMutableBufferPointer(start: p, count: samples * perSample))
        let cs = chunkSamples
        let total = samples
        scheduler.forEachChunk(chunkCount) { c, _ in
            let lo = c * cs * perSample, hi = min(total, (c + 1) * cs) * perSample
            Self.fill(p + lo, count: hi - lo, seed: seed &+ UInt64(c))
        }
        return p
    }

    func small(_ count: Int, seed: UInt64, scale: Float = 1, offset: Float = 0) -> UnsafeMutablePointer<Float> {
        let p = UnsafeMutablePointer<Float>.allocate(capacity: max(1, count))
        floats.append(UnsafeMutableBufferPointer(start: p, count: count))
        Self.fill(p, count: count, seed: seed)
        for i in 0..<count { p[i] = p[i] * scale + offset }
        return p
    }

    func zerosF(_ count: Int) -> UnsafeMutablePointer<Float> {
        let p = UnsafeMutablePointer<Float>.allocate(capacity: max(1, count))
        p.initialize(repeating: 0, count: max(1, count))
        floats.append(UnsafeMutableBufferPointer(start: p, count: count))
        return p
    }

    func zerosD(_ count: Int, value: Double = 0) -> UnsafeMutablePointer<Double> {
        let p = UnsafeMutablePointer<Double>.allocate(capacity: max(1, count))
        p.initialize(repeating: value, count: max(1, count))
        doubles.append(UnsafeMutableBufferPointer(start: p, count: count))
        return p
    }

    /// One label per sample, spread over the `classes` classes.
    func labels(classes k: Int) -> UnsafeMutablePointer<UInt8> {
        let p = UnsafeMutablePointer<UInt8>.allocate(capacity: max(1, samples))
        bytes.append(p)
        for i in 0..<samples { p[i] = UInt8(truncatingIfNeeded: (i &* 7) % k) }
        return p
    }

    /// xorshift64* values in [−1, 1): no NaN, no denormals, same for every run.
    private static func fill(_ p: UnsafeMutablePointer<Float>, count: Int, seed: UInt64) {
        var s = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        for i in 0..<count {
            s ^= s >> 12; s ^= s << 25; s ^= s >> 27
            let r = (s &* 0x2545_F491_4F6C_DD1D) >> 40  // 24 bits
            p[i] = Float(r) / Float(1 << 23) - 1
        }
    }

    // MARK: The call

    private func makeBody(convTile: Int) -> (Int, Int) -> Void {
        let kc = kernelCase
        let cs = chunkSamples
        let total = samples
        // The benchmark calls what the engine calls: the kernel table of the measured set.
        let table = KernelTable(kc.variant == .ref ? .reference : .optimized, convTile: convTile)
        if kc.family.isBackward { return makeBackwardBody(convTile: convTile) }
        func n(_ c: Int) -> Int { min(cs, total - c * cs) }
        let workers = scheduler.workers

        switch (kc.family, kc.shape) {
        case let (.conv, .conv(ci, co, k, h, w)):
            let x = batchTensor(perSample: ci * h * w, seed: 1)
            let y = zerosF(total * co * h * w)
            let wt = small(co * ci * k * k, seed: 2, scale: Float((2.0 / Double(ci * k * k)).squareRoot()))
            let sums = zerosD(chunkCount * co), sqs = zerosD(chunkCount * co)
            let conv: ConvKernel
            switch kc.variant {
            case .im2colBLAS: conv = .im2colBLAS(tile: convTile)
            case .directAVX2: conv = .directAVX2
            case .sampleLanesAVX2: conv = .sampleLanesAVX2
            case .sampleLanesAVX512: conv = .sampleLanesAVX512
            case .ref, .optimized, .direct: conv = table.conv(kernel: k, width: w, inChannels: ci)
            }
            let scratchFloats = conv.scratchFloats(inChannels: ci, outChannels: co, samples: cs, height: h, width: w,
                                                   kernel: k)
            let scratch = (0..<workers).map { _ in zerosF(scratchFloats) }
            return { c, worker in
                let s1 = sums + c * co, s2 = sqs + c * co
                s1.update(repeating: 0, count: co)
                s2.update(repeating: 0, count: co)
                conv(x + c * cs * ci * h * w, wt, Int32(ci), Int32(co), Int32(n(c)), Int32(h), Int32(w), Int32(k),
                     y + c * cs * co * h * w, s1, s2, scratch: scratch[worker])
            }

        case let (.im2col, .planes(ch, h, w, k, _)):
            let x = batchTensor(perSample: ch * h * w, seed: 3)
            let scratch = (0..<workers).map { _ in zerosF(ch * k * k * convTile) }
            let f = table.im2col
            return { c, worker in
                let nc = n(c)
                let p = nc * h * w
                var p0 = 0
                while p0 < p {
                    let p1 = min(p, p0 + convTile)
                    f(x + c * cs * ch * h * w, Int32(ch), Int32(nc), Int32(h), Int32(w), Int32(k), p0, p1, scratch[worker])
                    p0 = p1
                }
            }

        case let (.bnReluInfer, .planes(ch, h, w, _, relu)), let (.bnReluAvgpool2, .planes(ch, h, w, _, relu)):
            let pooled = kc.family == .bnReluAvgpool2
            let outPer = pooled ? ch * (h / 2) * (w / 2) : ch * h * w
            let z = batchTensor(perSample: ch * h * w, seed: 4)
            let y = zerosF(total * outPer)
            let gamma = small(ch, seed: 5, scale: 0.1, offset: 1), beta = small(ch, seed: 6, scale: 0.1)
            let mean = zerosD(ch), variance = zerosD(ch, value: 1)
            let r: Int32 = relu ? 1 : 0
            if pooled {
                let f = table.bnReluAvgpool2
                return { c, _ in
                    f(z + c * cs * ch * h * w, Int32(ch), Int32(n(c)), Int32(h), Int32(w), gamma, beta, mean, variance,
                      1e-5, r, y + c * cs * outPer)
                }
            }
            let f = table.bnReluInfer
            return { c, _ in
                f(z + c * cs * ch * h * w, Int32(ch), n(c) * h * w, gamma, beta, mean, variance, 1e-5, r,
                  y + c * cs * outPer)
            }

        case let (.avgpool2, .planes(ch, h, w, _, _)):
            let x = batchTensor(perSample: ch * h * w, seed: 7)
            let outPer = ch * (h / 2) * (w / 2)
            let y = zerosF(total * outPer)
            let f = table.avgpool2
            return { c, _ in f(x + c * cs * ch * h * w, Int32(ch), Int32(n(c)), Int32(h), Int32(w), y + c * cs * outPer) }

        case let (.globalAvgpool, .planes(ch, h, w, _, _)):
            let x = batchTensor(perSample: ch * h * w, seed: 8)
            let y = zerosF(total * ch)
            let f = table.globalAvgpool
            return { c, _ in f(x + c * cs * ch * h * w, Int32(ch), Int32(n(c)), h * w, y + c * cs * ch) }

        case let (.fc, .fc(i, o)):
            let x = batchTensor(perSample: i, seed: 10)
            let wt = small(o * i, seed: 11, scale: Float((2.0 / Double(i)).squareRoot()))
            let b = small(o, seed: 12, scale: 0.1)
            let y = zerosF(total * o)
            let f = table.fc
            return { c, _ in f(x + c * cs * i, wt, b, Int32(n(c)), Int32(i), Int32(o), y + c * cs * o) }

        case let (.residualAdd, .residual(ch, skipCh, h, w, relu)):
            // In place on y, as the engine runs it; y drifts by at most 1 per run (bounded values).
            let y = batchTensor(perSample: ch * h * w, seed: 13)
            let skip = batchTensor(perSample: skipCh * h * w, seed: 14)
            let f = table.residualAdd
            let r: Int32 = relu ? 1 : 0
            return { c, _ in
                f(y + c * cs * ch * h * w, skip + c * cs * skipCh * h * w, Int32(ch), Int32(skipCh), n(c) * h * w, r)
            }

        case let (.softmaxXent, .logits(k)):
            let logits = batchTensor(perSample: k, seed: 15)
            let labels = labels(classes: k)
            let loss = zerosD(chunkCount)
            let f = table.softmaxXent
            return { c, _ in
                var correct: Int32 = 0
                loss[c] = f(logits + c * cs * k, labels + c * cs, Int32(n(c)), Int32(k), &correct)
            }

        case let (.shiftStats, .planes(_, h, w, k, _)), let (.shiftAxpy, .planes(_, h, w, k, _)):
            // Tap (0, k − 1): a corner, so both the row and the column ranges are cut.
            let x = batchTensor(perSample: h * w, seed: 16)
            let z = batchTensor(perSample: h * w, seed: 17)
            let ky: Int32 = 0, kx = Int32(k - 1)
            if kc.family == .shiftStats {
                let out = zerosD(3 * chunkCount)
                let f = table.shiftStats
                return { c, _ in
                    let o = out + 3 * c
                    o.update(repeating: 0, count: 3)
                    f(x + c * cs * h * w, z + c * cs * h * w, Int32(n(c)), Int32(h), Int32(w), Int32(k), ky, kx, o)
                }
            }
            let y = zerosF(total * h * w)
            let f = table.shiftAxpy
            return { c, _ in
                f(z + c * cs * h * w, x + c * cs * h * w, Int32(n(c)), Int32(h), Int32(w), Int32(k), ky, kx, 0.01,
                  y + c * cs * h * w)
            }

        case let (.shiftAxpyRows, .planes(ch, h, w, k, _)):
            // Output-cache patch: channel 0 of per-sample rows of `ch` channels, from the last
            // channel of the input rows (tap (0, k − 1), a corner).
            let per = ch * h * w
            let y = batchTensor(perSample: per, seed: 21)
            let x = batchTensor(perSample: per, seed: 22)
            let f = table.shiftAxpyRows
            return { c, _ in
                f(y + c * cs * per, per, x + c * cs * per + (ch - 1) * h * w, per, Int32(n(c)), Int32(h), Int32(w),
                  Int32(k), 0, Int32(k - 1), 0.01)
            }

        case let (.channelSums, .planes(ch, h, w, _, _)):
            let z = batchTensor(perSample: ch * h * w, seed: 23)
            let sums = zerosD(chunkCount * ch), sqs = zerosD(chunkCount * ch)
            let f = table.channelSums
            return { c, _ in
                let s1 = sums + c * ch, s2 = sqs + c * ch
                s1.update(repeating: 0, count: ch)
                s2.update(repeating: 0, count: ch)
                f(z + c * cs * ch * h * w, Int32(ch), n(c) * h * w, s1, s2)
            }

        case let (.conv1chAdd, .conv(ci, co, k, h, w)):
            let d = batchTensor(perSample: h * w, seed: 18)
            let z = batchTensor(perSample: co * h * w, seed: 19)
            let y = zerosF(total * co * h * w)
            let wt = small(co * ci * k * k, seed: 20, scale: Float((2.0 / Double(ci * k * k)).squareRoot()))
            let sums = zerosD(chunkCount * co), sqs = zerosD(chunkCount * co)
            let f = table.conv1chAdd
            return { c, _ in
                let s1 = sums + c * co, s2 = sqs + c * co
                s1.update(repeating: 0, count: co)
                s2.update(repeating: 0, count: co)
                f(d + c * cs * h * w, wt, Int32(ci), 0, Int32(co), Int32(n(c)), Int32(h), Int32(w), Int32(k),
                  z + c * cs * co * h * w, y + c * cs * co * h * w, s1, s2)
            }

        case let (.fcColumnAdd, .fc(i, o)), let (.fcInputChange, .fc(i, o)):
            // In place on the logits, as trials run; they drift by ≤ 0.01·|x| per run (bounded).
            let logits = batchTensor(perSample: o, seed: 21)
            let x = batchTensor(perSample: i, seed: 22)
            if kc.family == .fcColumnAdd {
                let f = table.fcColumnAdd
                return { c, _ in
                    f(logits + c * cs * o, Int32(n(c)), Int32(o), Int32(o - 1), x + c * cs * i, Int32(i), Int32(i - 1), 0.01)
                }
            }
            let xnew = batchTensor(perSample: 1, seed: 23)
            let wt = small(o * i, seed: 24, scale: 0.01)
            let f = table.fcInputChange
            return { c, _ in
                f(logits + c * cs * o, Int32(n(c)), Int32(o), xnew + c * cs, x + c * cs * i, Int32(i), 0, wt)
            }

        default:
            preconditionFailure("no workload for \(kc.family) on \(kc.shape)")
        }
    }
}
