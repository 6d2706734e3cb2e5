import ArgumentParser
import Foundation
import RSOEngine

struct FlopsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flops",
        abstract: "The paper's cost model (§4.7) per layer and per cycle, and the engine's full op count.")

    @Option(name: .long, help: "Network: \(NetName.allCases.map(\.rawValue).joined(separator: ", ")).")
    var net: NetName

    @Option(name: .long, help: "Samples per trial batch (cycle totals are per batch).")
    var batch: Int = 5000

    @Flag(name: .long, help: "Print one JSON object instead of a table.")
    var json = false

    func validate() throws {
        if batch < 1 { throw ValidationError("--batch must be a positive number of samples, got \(batch)") }
    }

    func run() throws {
        let model = FlopModel(network: net.spec)
        if json {
            print(try FlopReport(model: model, batch: batch).jsonString())
            return
        }
        let b = Double(batch)
        print("network \(model.network.name)   batch \(batch)   (MACs; 1 MAC = 2 FLOPs)")
        print(row(["layer", "|W_d|", "F_d MACs/sample", "layer MACs/sample", "BN/bias params"]))
        for l in model.layers {
            print(row([l.name, grouped(l.weights), grouped(l.forwardFromHere), grouped(l.macs), "\(l.extraParameters)"]))
        }
        print("|W| = \(grouped(model.weights)) weights (+ \(model.extraParameters) BN γ/β and FC bias, outside the formula)")
        print("F   = \(grouped(model.forward)) MACs per sample")
        print("cycle without caching  3·|W|·F      = \(formatCount(model.cycleWithoutCaching)) MACs/sample, \(formatCount(2 * b * model.cycleWithoutCaching))FLOP per batch-\(batch) cycle")
        print("cycle with caching     Σ 3·|W_d|·F_d = \(formatCount(model.cycleWithCaching)) MACs/sample, \(formatCount(2 * b * model.cycleWithCaching))FLOP per batch-\(batch) cycle")
        print(String(format: "caching saves %.2f×", model.cachingRatio))
        print("full forward count (conv/FC + BN + ReLU + pooling + residual + loss): \(formatCount(model.fullForwardFlops))FLOP per sample")
        for op in model.fullCount {
            print("  " + op.op.padding(toLength: 16, withPad: " ", startingAt: 0) + leftPad(grouped(Int(op.flops)), 12) + " FLOP/sample")
        }
        printIncremental(model.incremental.layerCosts(), batch: b)
    }

    /// Paper formula, cached full path and incremental path per weight trial, side by side.
    private func printIncremental(_ costs: [IncrementalCostModel.LayerCost], batch b: Double) {
        print("per weight trial, FLOP per sample (caching on: W runs from layer d):")
        print("  layer      paper 3·F_d   cached (full)    incremental   output-cached   ± only (reuse)   cached ÷ incr")
        for c in costs {
            print("  " + c.name.padding(toLength: 7, withPad: " ", startingAt: 0)
                  + leftPad(grouped(Int(c.paper)), 14) + leftPad(grouped(Int(c.cached)), 16)
                  + leftPad(grouped(Int(c.incremental)), 15) + leftPad(grouped(Int(c.outputCached)), 16)
                  + leftPad(grouped(Int(c.incrementalVariants)), 17)
                  + leftPad(String(format: "%.2f×", c.cached / c.incremental), 16))
        }
        let paper = costs.reduce(0) { $0 + Double($1.weights) * $1.paper }
        let cached = costs.reduce(0) { $0 + $1.cycleCached }
        let incr = costs.reduce(0) { $0 + $1.cycleIncremental }
        let out = costs.reduce(0) { $0 + $1.cycleOutputCached }
        print("cycle per batch-\(Int(b)): paper (cached formula) \(formatCount(b * paper))FLOP, cached full count \(formatCount(b * cached))FLOP, incremental \(formatCount(b * incr))FLOP (\(String(format: "%.2f", cached / incr))× less than cached), output-cached incremental \(formatCount(b * out))FLOP (+ patches of the cache, outside this count)")
    }
}

private func row(_ cells: [String]) -> String {
    cells[0].padding(toLength: 8, withPad: " ", startingAt: 0)
        + zip(cells.dropFirst(), [8, 18, 20, 16]).map { leftPad($0, $1) }.joined()
}

/// JSON form of `rso flops`.
struct FlopReport: Codable {
    struct Layer: Codable {
        var name: String
        var weights: Int
        var forward_macs_from_layer: Int
        var layer_macs: Int
        var extra_parameters: Int
    }
    struct Op: Codable { var op: String; var flops: Double }
    var net: String
    var batch: Int
    var layers: [Layer]
    var weights: Int
    var forward_macs: Int
    var extra_parameters: Int
    var cycle_macs_per_sample_no_cache: Double
    var cycle_macs_per_sample_cached: Double
    var cycle_flops_no_cache: Double
    var cycle_flops_cached: Double
    var caching_ratio: Double
    var full_forward_flops_per_sample: Double
    var full_count: [Op]
    /// Per weight trial, FLOPs per sample: paper / cached full path / incremental (see `rso flops`).
    var trial_costs: [IncrementalCostModel.LayerCost]
    var cycle_flops_cached_full_count: Double
    var cycle_flops_incremental: Double
    var cycle_flops_output_cached: Double

    init(model: FlopModel, batch: Int) {
        net = model.network.name
        self.batch = batch
        layers = model.layers.map {
            Layer(name: $0.name, weights: $0.weights, forward_macs_from_layer: $0.forwardFromHere,
                  layer_macs: $0.macs, extra_parameters: $0.extraParameters)
        }
        weights = model.weights
        forward_macs = model.forward
        extra_parameters = model.extraParameters
        cycle_macs_per_sample_no_cache = model.cycleWithoutCaching
        cycle_macs_per_sample_cached = model.cycleWithCaching
        cycle_flops_no_cache = 2 * Double(batch) * model.cycleWithoutCaching
        cycle_flops_cached = 2 * Double(batch) * model.cycleWithCaching
        caching_ratio = model.cachingRatio
        full_forward_flops_per_sample = model.fullForwardFlops
        full_count = model.fullCount.map { Op(op: $0.op, flops: $0.flops) }
        trial_costs = model.incremental.layerCosts()
        cycle_flops_cached_full_count = Double(batch) * trial_costs.reduce(0) { $0 + $1.cycleCached }
        cycle_flops_incremental = Double(batch) * trial_costs.reduce(0) { $0 + $1.cycleIncremental }
        cycle_flops_output_cached = Double(batch) * trial_costs.reduce(0) { $0 + $1.cycleOutputCached }
    }

    func jsonString() throws -> String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        return String(decoding: try enc.encode(self), as: UTF8.self)
    }
}
