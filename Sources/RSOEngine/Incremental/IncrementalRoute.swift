/// Where the change of ONE output channel of a conv layer travels, compiled once per layer from the
/// forward plan (see docs/design.md, "Incremental trials").
///
/// A trial of conv layer d (a weight w[o][i][ky][kx] or BN γ_o/β_o) changes only channel o of
/// layer d's BN output. The route follows that single channel through the chunk-local steps that
/// keep it single-channel — 2×2 pooling, global pooling, residual adds (either operand) — until
/// it reaches either the FC layer (the trial ends in the logits) or the next conv, where the
/// change becomes a one-input-channel convolution added to that conv's output and the variants
/// run in full from the conv's BN on (`variantStart`). Tensors still holding a single-channel change
/// and read after that point (a residual block's input, read again by its shortcut) are
/// materialised as per-variant copies.
public struct IncrementalRoute: Sendable, Equatable {
    public enum Op: Sendable, Equatable {
        /// 2×2 average pool of the changed plane of `from` into `to`.
        case pool(from: Int, to: Int)
        case globalPool(from: Int, to: Int)
        /// Residual add in place on `y`: y = relu(y + skip) for the changed channel. When y itself
        /// is unchanged its pre-add value is recomputed from its BN (layer `bnLayer`, input tensor
        /// `bnInput`), since the W run's buffer holds the post-add value.
        case addSkip(y: Int, skip: Int, yChanged: Bool, skipChanged: Bool, relu: Bool, bnLayer: Int, bnInput: Int)
        /// Logits change by (f' − f)·w[:, ch]: the trial's loss. Ends the route.
        case fcLoss(from: Int, layer: Int)
        /// Output of conv `layer` (tensor `output`) changes by conv(f' − f, w[:, ch]) in every
        /// channel; `materialize` tensors become per-variant copies. Ends the single-channel part.
        case transition(from: Int, layer: Int, output: Int, materialize: [Int])
    }

    public var layer: Int
    public var convStep: Int
    public var bnStep: Int
    /// Conv input, conv output (pre-BN) and BN output (after ReLU / fused pool) of layer d.
    public var input: Int
    public var preBN: Int
    public var output: Int
    public var pooled: Bool
    public var relu: Bool
    public var ops: [Op]
    /// First step the variants run in full (the BN after the transition conv); nil when the route
    /// ends at the FC layer.
    public var variantStart: Int?
    public var transitionLayer: Int?
    public var variantInputs: [Int]

    /// Every tensor the route holds a single-channel plane of.
    public var planeTensors: [Int] {
        var s = Set([preBN, output])
        for op in ops {
            switch op {
            case .pool(let a, let b), .globalPool(let a, let b): s.insert(a); s.insert(b)
            case .addSkip(let y, let k, _, let skipChanged, _, _, _): s.insert(y); if skipChanged { s.insert(k) }
            case .fcLoss(let a, _): s.insert(a)
            case .transition(let a, _, _, let m): s.insert(a); s.formUnion(m)
            }
        }
        return s.sorted()
    }

    /// The route of conv layer `d` (nil for the FC layer).
    public static func compile(plan: ForwardPlan, layer d: Int) -> IncrementalRoute? {
        guard case .conv = plan.network.layers[d] else { return nil }
        let steps = plan.steps
        let convStep = plan.layerStep[d]
        guard let bnStep = plan.bnStep[d] else { return nil }
        var pooled = false, relu = false
        switch steps[bnStep].kind {
        case .batchNorm(_, let r): relu = r
        case .batchNormPool(_, let r): relu = r; pooled = true
        default: break
        }
        var route = IncrementalRoute(layer: d, convStep: convStep, bnStep: bnStep, input: steps[convStep].input,
                                     preBN: steps[convStep].output, output: steps[bnStep].output, pooled: pooled,
                                     relu: relu, ops: [], variantStart: nil, transitionLayer: nil, variantInputs: [])
        var changed: Set<Int> = [route.output]
        func readsAfter(_ s: Int, _ t: Int) -> Bool {
            steps[(s + 1)...].contains { st in
                if st.input == t { return true }
                if case .addSkip(let k, _) = st.kind, k == t { return true }
                return false
            }
        }
        for s in (bnStep + 1)..<steps.count {
            let st = steps[s]
            var reads = [st.input]
            if case .addSkip(let k, _) = st.kind { reads.append(k) }
            guard reads.contains(where: changed.contains) else { continue }
            switch st.kind {
            case .avgPool2:
                route.ops.append(.pool(from: st.input, to: st.output)); changed.insert(st.output)
            case .globalAvgPool:
                route.ops.append(.globalPool(from: st.input, to: st.output)); changed.insert(st.output)
            case .fc(let e):
                route.ops.append(.fcLoss(from: st.input, layer: e))
                return route
            case .addSkip(let k, let r):
                let y = st.input
                guard let p = steps[..<s].lastIndex(where: { $0.output == y && $0.input != y }),
                      case .batchNorm(let l, _) = steps[p].kind else {
                    preconditionFailure("residual add of a tensor not produced by batch-norm")
                }
                route.ops.append(.addSkip(y: y, skip: k, yChanged: changed.contains(y), skipChanged: changed.contains(k),
                                          relu: r, bnLayer: l, bnInput: steps[p].input))
                changed.insert(y)
            case .conv(let e):
                let later = changed.filter { readsAfter(s, $0) }.sorted()
                route.ops.append(.transition(from: st.input, layer: e, output: st.output, materialize: later))
                route.variantStart = s + 1
                route.transitionLayer = e
                route.variantInputs = [st.output] + later
                return route
            case .batchNorm, .batchNormPool:
                preconditionFailure("batch-norm reads a tensor changed in one channel")
            }
        }
        return route
    }
}
