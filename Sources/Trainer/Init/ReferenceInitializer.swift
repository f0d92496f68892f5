import Foundation
import GraphIR
import TRMCore

/// How the Mamba-2 in_proj/out_proj are initialised: the stock PyTorch `Linear` default
/// (U(±1/√fan_in), docs/mamba2.md §3) or TRM's truncated-normal LeCun init.
public enum MambaProjectionInit: String, Sendable, CaseIterable {
    case pytorch, lecun
}

/// Fresh weights with the reference initialisation (docs/model.md §3.2, docs/mamba2.md §3). Every tensor
/// draws from its own stream forked from the seed, so the result does not depend on tensor order.
public struct ReferenceInitializer: Sendable {
    public var seed: UInt64
    public var mambaProjections: MambaProjectionInit

    public init(seed: UInt64, mambaProjections: MambaProjectionInit = .pytorch) {
        self.seed = seed
        self.mambaProjections = mambaProjections
    }

    /// A complete, validated checkpoint for `config`.
    public func checkpoint(config: ModelConfig, taskJSON: String) throws -> Checkpoint {
        try config.validate()
        // The values, and the copy a checkpoint's serialisation makes.
        try SystemMemory.require(2 * config.tensorBytes, for: "initialising this model")
        let root = SeededRandom(seed: seed)
        var tensors: [String: NamedTensor] = [:]
        for (index, spec) in config.parameterSpecs.enumerated() {
            var rng = root.fork(UInt64(index))
            let values = initialValues(spec, config: config, rng: &rng)
            tensors[spec.name] = NamedTensor(name: spec.name, shape: spec.shape, values: values)
        }
        let checkpoint = Checkpoint(config: config, taskJSON: taskJSON, tensors: tensors)
        try checkpoint.validate()
        return checkpoint
    }

    func initialValues(_ spec: ParameterSpec, config: ModelConfig, rng: inout SeededRandom) -> [Float] {
        let n = spec.count, name = spec.name
        if name == "q_head.weight" || name == "puzzle_emb.weights" { return constant(0, n) }
        if name == "q_head.bias" { return constant(-5, n) }
        if name == StepGraphNames.hInit || name == StepGraphNames.lInit { return TruncatedNormal.sample(count: n, std: 1, rng: &rng) }
        guard name.contains(".mamba2.") else {
            // Every other Linear and embedding: LeCun truncated normal with fan_in = the last axis
            // (1/√D for the embeddings and lm_head).
            return lecun(n, fanIn: spec.shape.last!, &rng)
        }
        if name.hasSuffix("in_proj.weight") || name.hasSuffix("out_proj.weight") {
            let fanIn = spec.shape[1]
            switch mambaProjections {
            case .pytorch: return uniform(n, bound: 1 / Double(fanIn).squareRoot(), &rng)
            case .lecun: return lecun(n, fanIn: fanIn, &rng)
            }
        }
        if name.hasSuffix("conv1d.weight") || name.hasSuffix("conv1d.bias") {
            return uniform(n, bound: 1 / Double(config.mamba.dConv).squareRoot(), &rng)
        }
        if name.hasSuffix("dt_bias") {
            // dt0 log-uniform in [1e-3, 1e-1], floored at 1e-4, stored as softplus⁻¹(dt0).
            return (0..<n).map { _ in
                let logDt = log(1e-3) + rng.nextUnit() * (log(1e-1) - log(1e-3))
                let dt = max(Foundation.exp(logDt), 1e-4)
                return Float(dt + log(-expm1(-dt)))
            }
        }
        if name.hasSuffix("A_log") { return (0..<n).map { _ in Float(log(1 + 15 * rng.nextUnit())) } }
        return constant(1, n)  // D and norm.weight
    }

    private func constant(_ v: Float, _ n: Int) -> [Float] { [Float](repeating: v, count: n) }

    private func lecun(_ n: Int, fanIn: Int, _ rng: inout SeededRandom) -> [Float] {
        TruncatedNormal.sample(count: n, std: 1 / Double(fanIn).squareRoot(), rng: &rng)
    }

    private func uniform(_ n: Int, bound: Double, _ rng: inout SeededRandom) -> [Float] {
        (0..<n).map { _ in Float((2 * rng.nextUnit() - 1) * bound) }
    }
}
