import Foundation

/// What every benchmark result prints with it: where, how and on what it ran.
public struct BenchContext: Sendable, Codable, Equatable {
    public var command: String
    public var networks: [String]
    public var batch: Int
    public var chunk_samples: Int
    public var conv_tile: Int
    /// "pool" (the engine's WorkerPool) or "openmp" (an OpenMP team).
    public var scheduler: String = "pool"
    public var threads: Int
    /// "hwloc, worker w on PU …" or "off".
    public var pinning: String
    public var numa: Bool
    public var repetitions: Int
    public var warmup: Int
    public var reference_samples: Int
    public var git_commit: String?
    /// "release" or "debug" (debug numbers are meaningless: no AVX, -O0 C).
    public var build: String
    public var cpu: String
    public var blas: String
    public var date: String

    public init(command: String, networks: [String], batch: Int, chunkSamples: Int, convTile: Int,
                plan: ThreadPlan, pinned: Bool, repetitions: Int, warmup: Int, referenceSamples: Int) {
        self.command = command
        self.networks = networks
        self.batch = batch
        chunk_samples = chunkSamples
        conv_tile = convTile
        threads = plan.workers.count
        pinning = pinned ? "hwloc, workers on PUs " + plan.workers.map { String($0.pu) }.joined(separator: ",") : "off"
        numa = plan.numaAware
        self.repetitions = repetitions
        self.warmup = warmup
        reference_samples = referenceSamples
        git_commit = Self.gitCommit()
        build = Self.buildConfiguration
        cpu = (try? MachineInfo.topology().cpuModel) ?? "unknown"
        blas = MachineInfo.blasConfiguration
        date = ISO8601DateFormatter().string(from: Date())
    }

    public static var buildConfiguration: String {
        #if DEBUG
        return "debug"
        #else
        return "release"
        #endif
    }

    /// `git rev-parse --short HEAD` in the current directory (+ "-dirty" with local changes);
    /// nil when git or the repository is missing.
    public static func gitCommit() -> String? {
        guard let head = run(["rev-parse", "--short", "HEAD"]), !head.isEmpty else { return nil }
        let dirty = run(["status", "--porcelain", "--untracked-files=no"]).map { !$0.isEmpty } ?? false
        return head + (dirty ? "-dirty" : "")
    }

    private static func run(_ args: [String]) -> String? {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["git"] + args
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        do { try p.run() } catch { return nil }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { return nil }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// One line: "threads 2 (pool; pinning: …), batch 5000 (chunks of 32), release, commit abc1234".
    public var summaryLine: String {
        "threads \(threads) (\(scheduler); pinning: \(pinning)\(numa ? "" : ", NUMA placement off")), batch \(batch) in chunks of \(chunk_samples), "
            + "conv tile \(conv_tile), \(repetitions) reps after \(warmup) warm-up, \(build) build, commit \(git_commit ?? "unknown")"
    }
}

/// The measured ceilings as reported (JSON / CSV), with the roofs that kernels are compared to.
public struct PeaksReport: Sendable, Codable, Equatable {
    public var workers: Int
    public var fma_available: Bool
    /// Float lanes of the FMA loop behind the compute roof: 16 (AVX-512F) or 8 (AVX2).
    public var fma_lanes: Int
    public var fma_gflops_1core: MachinePeaks.Rate
    public var fma_gflops_all: MachinePeaks.Rate
    public var stream_triad_gbs_1core: MachinePeaks.Rate
    public var stream_triad_gbs_all: MachinePeaks.Rate
    public var stream_read_gbs_1core: MachinePeaks.Rate
    public var stream_read_gbs_all: MachinePeaks.Rate
    public var stream_array_mib: Double
    /// The roofs for the kernels' thread count: compute (GFLOP/s) and bandwidth (triad GB/s).
    public var compute_roof_gflops: Double
    public var bandwidth_roof_gbs: Double
    /// FLOP/byte where the roofs meet.
    public var ridge_flop_per_byte: Double

    public init(_ p: MachinePeaks, threads: Int) {
        workers = p.workers
        fma_available = p.fmaAvailable
        fma_lanes = p.fmaLanes
        fma_gflops_1core = p.fmaGflopsOneCore
        fma_gflops_all = p.fmaGflopsAllCores
        stream_triad_gbs_1core = p.triadGBsOneCore
        stream_triad_gbs_all = p.triadGBsAllCores
        stream_read_gbs_1core = p.readGBsOneCore
        stream_read_gbs_all = p.readGBsAllCores
        stream_array_mib = Double(p.streamArrayBytes) / 1_048_576
        compute_roof_gflops = p.computeRoof(threads: threads)
        bandwidth_roof_gbs = p.bandwidthRoof(threads: threads)
        ridge_flop_per_byte = p.ridgePoint(threads: threads)
    }
}

/// One kernel case's row: work, time and where it sits under the roofs.
public struct KernelRow: Sendable, Codable, Equatable {
    public var name: String
    public var kernel: String
    public var family: String
    public var variant: String
    public var network: String
    public var sites: [String]
    public var shape: String
    public var samples_per_call: Int
    public var calls: Int
    public var measured_samples: Int
    /// batch ÷ measured_samples: the reference ran on fewer samples and its time was scaled.
    public var time_scale: Double
    public var flops_per_call: Double
    public var bytes_per_call: Double
    public var batch_flops: Double
    public var batch_bytes: Double
    /// FLOP per byte.
    public var arithmetic_intensity: Double
    /// Whole-batch pass on all threads, milliseconds.
    public var time_ms_median: Double
    public var time_ms_p10: Double
    public var time_ms_p90: Double
    /// Median time of one chunk call on one thread: batch time × threads ÷ calls.
    public var us_per_call: Double
    public var gflops: Double
    public var gbs: Double
    /// "compute" (AI ≥ ridge point) or "memory"; nil without measured peaks.
    public var bound: String?
    /// min(compute roof, AI × bandwidth): what the roofline allows at this AI.
    public var roof_gflops: Double?
    /// Compute-bound: GFLOP/s ÷ FMA peak; memory-bound: GB/s ÷ stream (triad) bandwidth. Percent.
    public var percent_of_peak: Double?
    /// Optimised ÷ reference speed (reference time ÷ this time, both for the full batch); nil on
    /// reference rows.
    public var speedup_vs_ref: Double?
}

/// Everything one `rso bench kernels|roofline` run reports.
public struct BenchReport: Sendable, Codable, Equatable {
    public var context: BenchContext
    public var peaks: PeaksReport?
    public var kernels: [KernelRow]
    public var notes: [String]
    /// Files written (roofline): csv, json, svg paths.
    public var files: [String: String]?

    public init(context: BenchContext, peaks: MachinePeaks?, measurements: [KernelMeasurement], notes: [String] = []) {
        self.context = context
        let threads = context.threads
        let p = peaks.map { PeaksReport($0, threads: threads) }
        self.peaks = p
        var refTime: [String: Double] = [:]
        for m in measurements where m.kernelCase.variant == .ref { refTime[m.kernelCase.shapeKey] = m.time.median }
        kernels = measurements.map { m in
            let c = m.kernelCase
            let ai = m.arithmeticIntensity
            var bound: String? = nil, roof: Double? = nil, pct: Double? = nil
            if let p {
                let compute = m.batchFlops > 0 && ai >= p.ridge_flop_per_byte
                bound = compute ? "compute" : "memory"
                roof = min(p.compute_roof_gflops, ai * p.bandwidth_roof_gbs)
                pct = compute ? 100 * m.gflops / p.compute_roof_gflops : 100 * m.gbs / p.bandwidth_roof_gbs
            }
            var speedup: Double? = nil
            if c.variant != .ref, let r = refTime[c.shapeKey] { speedup = r / max(m.time.median, 1e-12) }
            return KernelRow(
                name: c.label, kernel: c.kernel, family: c.family.rawValue, variant: c.suffix,
                network: c.network, sites: c.sites, shape: c.shapeDescription,
                samples_per_call: m.chunkSamples, calls: m.calls, measured_samples: m.measuredSamples,
                time_scale: m.timeScale, flops_per_call: m.flopsPerCall, bytes_per_call: m.bytesPerCall,
                batch_flops: m.batchFlops, batch_bytes: m.batchBytes, arithmetic_intensity: ai,
                time_ms_median: 1e3 * m.time.median, time_ms_p10: 1e3 * m.time.p10, time_ms_p90: 1e3 * m.time.p90,
                us_per_call: 1e6 * m.time.median * Double(m.threads) / Double(max(1, m.calls)),
                gflops: m.gflops, gbs: m.gbs, bound: bound, roof_gflops: roof, percent_of_peak: pct,
                speedup_vs_ref: speedup)
        }
        var notes = notes
        let scaled = measurements.filter(\.scaled)
        if let first = scaled.first {
            notes.append("reference conv/im2col measured on \(first.measuredSamples) of \(first.batch) samples; their times are scaled ×\(String(format: "%.2f", first.timeScale)) to the batch (\(scaled.count) rows, time_scale column)")
        }
        notes.append("bytes are compulsory traffic (each input read once, each output written once, no write-allocate); conv counts padding taps as FLOPs; conv runs with its BN statistics fused, as in training")
        if p != nil {
            notes.append("memory-bound % is against the DRAM stream (triad) bandwidth: kernels whose batch working set fits in cache (small late layers, im2col's L2 tile) can exceed 100%")
        }
        if let peaks, peaks.workers > 1, peaks.fmaGflopsOneCore.median > 0,
           peaks.fmaGflopsAllCores.median < 0.75 * Double(peaks.workers) * peaks.fmaGflopsOneCore.median {
            notes.append(String(format: "the all-core FMA peak (%.1f GFLOP/s) is under 0.75 × %d × the 1-core peak (%.1f): other load on the machine? Treat every number as noisy",
                                peaks.fmaGflopsAllCores.median, peaks.workers, peaks.fmaGflopsOneCore.median))
        }
        if context.build != "release" { notes.append("DEBUG BUILD: C kernels are unoptimised; build with -c release for meaningful numbers") }
        self.notes = notes
        files = nil
    }

    /// One JSON object (sorted keys; non-finite numbers are never produced).
    public func jsonString(pretty: Bool = false) throws -> String {
        let enc = JSONEncoder()
        enc.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted] : [.sortedKeys]
        return String(decoding: try enc.encode(self), as: UTF8.self)
    }

    public static let csvColumns = [
        "network", "family", "variant", "kernel", "sites", "shape", "samples_per_call", "calls", "measured_samples",
        "time_scale", "flops_per_call", "bytes_per_call", "arithmetic_intensity", "time_ms_median", "time_ms_p10",
        "time_ms_p90", "us_per_call", "gflops", "gbs", "bound", "roof_gflops", "percent_of_peak", "speedup_vs_ref",
    ]

    /// One header line, then one line per kernel (RFC 4180 quoting).
    public var csv: String {
        func q(_ s: String) -> String {
            s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
        }
        func num(_ v: Double?) -> String { v.map { String(format: "%.6g", $0) } ?? "" }
        var lines = [Self.csvColumns.joined(separator: ",")]
        for k in kernels {
            let cells: [String] = [
                k.network, k.family, k.variant, k.kernel, k.sites.joined(separator: " "), k.shape, "\(k.samples_per_call)",
                "\(k.calls)", "\(k.measured_samples)", num(k.time_scale), num(k.flops_per_call), num(k.bytes_per_call),
                num(k.arithmetic_intensity), num(k.time_ms_median), num(k.time_ms_p10), num(k.time_ms_p90),
                num(k.us_per_call), num(k.gflops), num(k.gbs), k.bound ?? "", num(k.roof_gflops), num(k.percent_of_peak),
                num(k.speedup_vs_ref),
            ]
            lines.append(cells.map(q).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
