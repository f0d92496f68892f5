import Compiler
import GraphIR
import Runtime
import Testing
import Trainer
import TRMCore

/// bf16 sessions (`Precision.bf16`) against fp32 on the same compiled model: the accuracy gate of
/// docs/precision.md. bf16 keeps 8 significant bits, so each rounded operand is off by at
/// most u = 2⁻⁹ relative, and a K-term product of rounded x and w by about 2u·|x||w| (the errors
/// of random-sign terms add like a random walk, and so do those of the ~10-20 products in a row
/// that one network application chains, damped by every RMSNorm): about 1 % relative on the
/// logits after one ACT step (measured: 0.9-2.4 %). Random weights then amplify any difference by up
/// to about 5× per step (random mlp_t models measured against fp64, docs/
/// model.md §10), so the bounds grow with the step count. A bf16 path that drops q_head's bias, adds
/// to stale outputs or mixes up the panel layout is off by tens of percent or more and fails.
@Suite struct PrecisionTests {
    @Test(arguments: [Preset.trmAttn, .trMamba2Attn, .trmMlpT, .trMamba2MlpT])
    func bf16StaysCloseToFP32(preset: Preset) throws {
        let ckpt = try Models.checkpoint(preset, grid: 6, hidden: 64)
        let (model, _) = try TRMCompiler.compile(ckpt)
        let loaded = try LoadedModel(bytes: TrmgWriter.serialize(model))
        let count = 4, tokens = CompileTests.tokens(ckpt.config, count: count)
        for (steps, bound) in [(1, Float(0.04)), (2, Float(0.2))] {
            func result(_ precision: Precision) throws -> ACTResult {
                let runner = try ACTRunner(session: Session(model: loaded, batch: count, threads: 2, precision: precision))
                return try runner.run(tokens: tokens, puzzleIds: nil, count: count, halting: .fixed, maxSteps: steps)
            }
            let fp32 = try result(.fp32), bf16 = try result(.bf16)
            let c = PrecisionComparison(reference: fp32, other: bf16, vocab: ckpt.config.vocab)
            #expect(c.qHaltRelativeError <= Double(bound), "\(preset), \(steps) ACT step(s): relative q_halt error \(c.qHaltRelativeError)")
            #expect(c.relativeError <= Double(bound), "\(preset), \(steps) ACT step(s): relative logit error \(c.relativeError)")
            #expect(c.argmaxAgreement >= 0.9, "\(preset), \(steps) ACT step(s): argmax agreement \(c.argmaxAgreement)")
            #expect(c.relativeError > 0, "bf16 gave fp32's logits exactly: the bf16 path did not run")
        }
    }

    /// The gate at ARC size (hidden 512, 8 heads of 64, S = 916; random weights, batch 2) for both
    /// attention presets, as `make bench` reports it (`trm-bench`): measured on Zen 4 with the
    /// products, attention included, in bf16: 1 step 1.4-1.9 % relative logit error, 98.2-100 %
    /// argmax agreement; 2 steps 4.1-4.2 %, 96.7-97.6 %. Bounds as above.
    @Test(arguments: [Preset.trmAttn, .trMamba2Attn])
    func bf16StaysCloseToFP32AtARCSize(preset: Preset) throws {
        let config = try preset.config(task: .arc, grid: 30)
        let ckpt = try ReferenceInitializer(seed: 3).checkpoint(config: config, taskJSON: TaskKind.arc.taskJSON(grid: 30))
        let loaded = try LoadedModel(bytes: TrmgWriter.serialize(try TRMCompiler.compile(ckpt).0))
        for (steps, bound, agreement) in [(1, 0.04, 0.95), (2, 0.2, 0.9)] {
            let c = try PrecisionGate.compare(model: loaded, batch: 2, threads: 2, steps: steps)
            print("PrecisionTests \(preset) ARC size, \(steps) step(s): \(c)")
            #expect(c.relativeError <= bound && c.qHaltRelativeError <= bound, "\(preset), \(steps) step(s): \(c)")
            #expect(c.argmaxAgreement >= agreement, "\(preset), \(steps) step(s): \(c)")
            #expect(c.relativeError > 0, "bf16 gave fp32's logits exactly: the bf16 path did not run")
        }
    }

    /// A session packs every MatMul weight once (bf16; fp32 on AVX-512 CPUs) and says what it cost.
    @Test func packingIsReported() throws {
        let ckpt = try Models.checkpoint(.trmAttn)
        let loaded = try LoadedModel(bytes: TrmgWriter.serialize(try TRMCompiler.compile(ckpt).0))
        let fp32 = try Session(model: loaded, batch: 1, threads: 1)
        let bf16 = try Session(model: loaded, batch: 1, threads: 1, precision: .bf16)
        #expect(fp32.precision == .fp32)
        let weights = loaded.graph.nodes.filter { if case .matMul = $0.op { return true } else { return false } }.map(\.inputs[1])
        let elements = Set(weights).reduce(0) { $0 + loaded.types[$1]!.shape.elementsPerSample! }
        #expect(bf16.packedBytes >= 2 * elements && bf16.packedBytes < 3 * elements, "\(bf16.packedBytes) bytes for \(elements) weights")
        // fp32 packs fp32 panels where F32Gemm runs (AVX-512), nothing elsewhere (OpenBLAS).
        if F32Gemm.isSupported {
            #expect(
                fp32.packedBytes >= 4 * elements && fp32.packedBytes < 5 * elements, "\(fp32.packedBytes) bytes for \(elements) weights")
        } else {
            #expect(fp32.packedBytes == 0)
        }
    }
}
